-- root: system/variants/empty
SELECT * FROM system_info;
