-- root: accounts/broken
SELECT * FROM crontab;
