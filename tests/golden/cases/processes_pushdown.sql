-- root: processes
-- The generator sees the pid constraints and reads only those processes.
-- A pid that does not exist: no row, no error, even when no /proc file is needed.
-- Ranges narrow the listing too.
-- A join looks each process up by pid.
SELECT pid, name, path, cmdline, state, parent FROM processes WHERE pid = 1;
SELECT pid, name, on_disk FROM processes WHERE pid IN (1, 42, 12345);
SELECT * FROM processes WHERE pid = 12345;
SELECT pid FROM processes WHERE pid = 12345;
SELECT pid FROM processes WHERE pid IN (2, 12345);
SELECT pid, name FROM processes WHERE pid > 40 AND pid <= 77;
SELECT f.pid, p.name, f.fd, f.path FROM process_open_files f JOIN processes p USING (pid) WHERE f.pid = 42;
