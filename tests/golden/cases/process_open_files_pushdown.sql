-- root: processes
SELECT * FROM process_open_files WHERE pid = 1;
SELECT * FROM process_open_files WHERE pid IN (42, 77, 12345);
SELECT count(*) FROM process_open_files WHERE pid = 12345;
