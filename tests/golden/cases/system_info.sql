-- root: system
SELECT * FROM system_info;
SELECT hostname, cpu_logical_cores FROM system_info;
