-- root: accounts
SELECT * FROM crontab;
SELECT path, command FROM crontab WHERE event = '@reboot';
