-- root: accounts
SELECT * FROM shell_history WHERE uid = 1001;
SELECT uid, count(*) FROM shell_history WHERE uid IN (0, 1002, 31337) GROUP BY uid;
SELECT u.username, h.time, h.command FROM users u JOIN shell_history h USING (uid) WHERE u.username = 'alice' AND h.time > 0;
