-- root: packages/broken
SELECT * FROM apt_sources;
