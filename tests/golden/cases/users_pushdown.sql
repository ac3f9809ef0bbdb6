-- root: accounts
SELECT uid, username FROM users WHERE uid = 0;
SELECT uid, username, directory FROM users WHERE uid IN (0, 1000);
SELECT uid, username FROM users WHERE username = 'bob';
SELECT uid, username FROM users WHERE username IN ('alice', 'nobody', 'nosuchuser');
SELECT uid, username FROM users WHERE uid = 'zero';
SELECT uid, username, include_remote FROM users WHERE include_remote = 1 AND uid = 1001;
SELECT u.username, g.groupname FROM users u JOIN user_groups ug USING (uid) JOIN groups g ON g.gid = ug.gid WHERE u.uid = 1000 ORDER BY g.gid;
