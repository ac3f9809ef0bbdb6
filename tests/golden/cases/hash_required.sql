-- root: files
-- hash needs a constraint on path or directory; one on another column does not count.
SELECT path, md5 FROM hash WHERE sha256 = 'x';
