-- root: processes
-- Sockets, pipes and anonymous inodes are not files and are left out; pid 2 and 77 have no
-- readable fd directory and are skipped.
SELECT * FROM process_open_files;
