-- root: processes
SELECT * FROM process_memory_map WHERE pid = 42;
SELECT pid, start, path, pseudo FROM process_memory_map WHERE pid IN (1, 2, 12345) AND pseudo = 1;
SELECT count(*) FROM process_memory_map WHERE pid = 12345;
