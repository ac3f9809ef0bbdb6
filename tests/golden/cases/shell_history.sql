-- root: accounts
SELECT * FROM shell_history;
