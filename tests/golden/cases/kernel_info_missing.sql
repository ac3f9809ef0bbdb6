-- root: system/variants/empty
SELECT * FROM kernel_info;
