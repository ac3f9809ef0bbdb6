-- root: system/variants/rhel
SELECT * FROM os_version;
