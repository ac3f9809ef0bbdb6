-- root: system
SELECT * FROM uptime;
SELECT days * 86400 + hours * 3600 + minutes * 60 + seconds = total_seconds AS consistent FROM uptime;
