-- root: packages/empty
SELECT * FROM apt_sources;
