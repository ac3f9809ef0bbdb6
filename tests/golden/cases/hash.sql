-- root: files
-- Known digests (checked with md5sum/sha1sum/sha256sum).
SELECT path, directory, md5, sha1, sha256 FROM hash WHERE path = '/data/fox.txt';
SELECT path, sha256 FROM hash WHERE path IN ('/data/a.txt', '/data/b.txt', '/data/empty');
-- Links are followed; directories, dangling links and loops get no row.
SELECT path, md5 FROM hash WHERE path IN ('/data/link-to-a', '/data/abs-link', '/data/sub', '/data/dangling', '/data/loop1');
-- The regular files directly in a directory (links to files included).
SELECT path, directory, md5 FROM hash WHERE directory = '/data/sub';
SELECT path, md5 FROM hash WHERE directory = '/data' AND path LIKE '%.txt';
-- Patterns expand as in the file table.
SELECT path, md5 FROM hash WHERE path LIKE '/data/sub/%%';
-- Only the digests the query reads are computed (the others stay NULL in the generator).
SELECT path FROM hash WHERE path = '/data/a.txt';
