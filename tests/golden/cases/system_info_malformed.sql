-- root: system/variants/malformed
SELECT * FROM system_info;
