-- root: accounts
SELECT * FROM user_groups;
SELECT * FROM user_groups WHERE uid = 1000;
SELECT * FROM user_groups WHERE uid IN (1001, 1002);
SELECT * FROM user_groups WHERE gid = 29;
