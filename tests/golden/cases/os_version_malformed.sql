-- root: system/variants/malformed
SELECT * FROM os_version;
