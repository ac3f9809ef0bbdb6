-- root: system/variants/empty
SELECT * FROM os_version;
