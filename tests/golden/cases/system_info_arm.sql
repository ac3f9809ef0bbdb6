-- root: system/variants/rhel
SELECT * FROM system_info;
