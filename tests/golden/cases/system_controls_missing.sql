-- root: system/variants/empty
SELECT * FROM system_controls;
SELECT * FROM system_controls WHERE name = 'kernel.hostname';
