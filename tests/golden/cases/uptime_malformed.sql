-- root: system/variants/malformed
SELECT * FROM uptime;
