-- root: accounts/broken
SELECT * FROM users;
SELECT * FROM groups;
SELECT * FROM user_groups;
