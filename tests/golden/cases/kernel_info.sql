-- root: system
SELECT * FROM kernel_info;
SELECT version FROM kernel_info;
