-- root: system/variants/empty
SELECT * FROM mounts;
