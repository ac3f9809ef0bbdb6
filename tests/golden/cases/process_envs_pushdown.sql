-- root: processes
SELECT * FROM process_envs WHERE pid = 42;
SELECT pid, key FROM process_envs WHERE pid IN (1, 77, 12345) AND key LIKE 'H%';
SELECT count(*) FROM process_envs WHERE pid = 12345;
