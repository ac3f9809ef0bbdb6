-- root: system/variants/malformed
SELECT * FROM kernel_info;
