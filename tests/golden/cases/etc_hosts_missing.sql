-- root: system/variants/empty
SELECT * FROM etc_hosts;
