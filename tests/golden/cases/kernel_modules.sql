-- root: system
SELECT * FROM kernel_modules;
SELECT name, used_by FROM kernel_modules WHERE used_by != '-';
