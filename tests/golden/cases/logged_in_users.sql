-- root: accounts
SELECT * FROM logged_in_users;
SELECT user, tty, host, time FROM logged_in_users WHERE type = 'user';
