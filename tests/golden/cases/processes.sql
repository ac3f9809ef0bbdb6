-- root: processes
-- Full scan of the fixture /proc: 1 (systemd), 2 (kernel thread), 42 ("(sd-pam)" running a
-- deleted binary, no io file), 77 (zombie named "a b) c"); 99 has a garbage stat and 100 lost
-- its status, so both are left out of SELECT *.
-- Only status is read here: pid 99 (garbage stat) is listed, pid 100 (no status) is not.
-- No file is needed at all: every numeric /proc entry ("self" is not one).
SELECT * FROM processes;
SELECT pid, name, uid FROM processes;
SELECT pid FROM processes;
SELECT pid, cgroup_path FROM processes;
