-- root: system/variants/malformed
SELECT * FROM system_controls;
SELECT name, config_value FROM system_controls WHERE name = 'kernel.hostname';
