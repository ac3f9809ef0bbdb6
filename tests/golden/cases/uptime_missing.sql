-- root: system/variants/empty
SELECT * FROM uptime;
