-- root: accounts
SELECT * FROM users;
SELECT username, pid_with_namespace, include_remote FROM users WHERE uid = 4294967294;
