-- root: files
-- file needs a constraint on path or directory (osquery: 'constraint failed').
SELECT * FROM file;
