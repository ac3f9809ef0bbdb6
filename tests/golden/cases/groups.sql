-- root: accounts
SELECT * FROM groups;
SELECT gid, groupname FROM groups WHERE gid = 100;
SELECT gid, gid_signed, groupname FROM groups WHERE gid IN (0, 27, 4294967294, 12345);
