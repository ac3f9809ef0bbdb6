-- root: system/variants/malformed
SELECT * FROM etc_hosts;
