-- root: system/variants/empty
SELECT count(*) FROM kernel_modules;
