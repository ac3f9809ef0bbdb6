-- root: files
-- '%' stays within one path component; hidden entries match too.
SELECT path, type FROM file WHERE path LIKE '/data/%';
SELECT path FROM file WHERE path LIKE '/data/%.txt';
SELECT path FROM file WHERE path LIKE '/data/a%';
-- '%' in the middle crosses one directory level (links to directories included).
SELECT path FROM file WHERE path LIKE '/data/%/%.txt';
-- A final '%%' reaches everything below, at any depth; symlinked directories are not entered.
SELECT path, type FROM file WHERE path LIKE '/data/sub/%%';
SELECT path FROM file WHERE path LIKE '/data/s%%';
-- '%%' in the middle acts as '%'.
SELECT path FROM file WHERE path LIKE '/data/%%/c.txt';
-- SQL LIKE: '_' is one character and letters match in any case, so nothing is lost to SQLite's check.
SELECT path FROM file WHERE path LIKE '/data/a_b.txt';
SELECT path FROM file WHERE path LIKE '/DATA/upper.%';
-- A trailing '/' asks for directories, reported with the slash.
SELECT path, filename, type FROM file WHERE path LIKE '/data/%/';
-- directory LIKE: the entries of every matching directory.
SELECT path, directory FROM file WHERE directory LIKE '/data/sub/%';
-- GLOB follows SQL: case-sensitive, '*' also crosses '/'.
SELECT path FROM file WHERE path GLOB '/data/sub/*.txt';
SELECT path FROM file WHERE path GLOB '/data/[ab].txt';
SELECT path FROM file WHERE path GLOB '/data/UPPER.TX?';
-- LIKE and = together: the generator makes the union without duplicates, SQLite keeps both.
SELECT path FROM file WHERE path LIKE '/data/sub/%' AND path IN ('/data/sub/c.txt', '/data/a.txt');
