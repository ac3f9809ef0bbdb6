-- root: system
SELECT * FROM system_controls;
