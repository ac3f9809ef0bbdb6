-- root: processes
-- pid 99: stat without enough fields (skipped when a stat column is used), status with a
-- three-number Uid line, a non-numeric Gid line and "lots kB" (those columns stay NULL).
-- pid 100: status is missing (skipped when a status column is used).
-- Non-numeric and negative pids match nothing.
SELECT pid, state, parent FROM processes WHERE pid IN (99, 100);
SELECT pid, name, uid, gid, total_size, path, on_disk, cmdline FROM processes WHERE pid IN (99, 100);
SELECT * FROM processes WHERE pid IN (99, 100);
SELECT pid FROM processes WHERE pid = 'abc';
SELECT pid FROM processes WHERE pid = -1;
