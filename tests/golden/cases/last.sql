-- root: accounts
SELECT * FROM last;
SELECT username, tty, host FROM last WHERE type = 7;
