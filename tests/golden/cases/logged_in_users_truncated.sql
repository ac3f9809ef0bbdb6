-- root: accounts/broken
SELECT * FROM logged_in_users;
SELECT * FROM last;
