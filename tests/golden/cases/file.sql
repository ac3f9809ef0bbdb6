-- root: files
-- Exact paths: only the named paths are looked at (see the row count in the trace).
SELECT path, directory, filename, size, type, symlink, symlink_target_path FROM file WHERE path = '/data/a.txt';
SELECT path, filename, size, type FROM file WHERE path IN ('/data/b.txt', '/data/fox.txt', '/data/empty', '/data/nothing');
-- Symbolic links: symlink = 1 and the other columns describe the target (the link itself when
-- the target is missing); absolute links are resolved inside the root.
SELECT path, type, symlink, symlink_target_path FROM file WHERE path IN ('/data/link-to-a', '/data/abs-link', '/data/dirlink', '/data/dangling', '/data/loop1');
SELECT path, size FROM file WHERE path IN ('/data/link-to-a', '/data/abs-link', '/data/dangling');
-- A directory given with a trailing slash keeps it in path; filename and directory ignore it.
SELECT path, directory, filename, type FROM file WHERE path = '/data/sub/';
SELECT path, directory, filename, type FROM file WHERE path = '/';
-- One level of a directory, hidden entries included; directory is spelled as given.
SELECT path, directory, filename, type, symlink FROM file WHERE directory = '/data/sub';
SELECT path, directory, filename FROM file WHERE directory = '/data/sub/';
-- Non-UTF-8 names come out with U+FFFD in place of the bad bytes.
SELECT filename, size FROM file WHERE directory = '/data' AND filename LIKE 'bad-%';
-- The device column is st_rdev: 0 for files; mode is four octal digits.
SELECT device, length(mode), mode GLOB '[0-7][0-7][0-7][0-7]' FROM file WHERE path = '/data/a.txt';
-- btime is statx's birth time or 0: never NULL.
SELECT btime IS NOT NULL FROM file WHERE path = '/data/a.txt';
-- Both columns constrained: the generator looks at both sets (a file named by both gets one
-- row), SQLite keeps the rows matching both.
SELECT path FROM file WHERE directory = '/data/sub/deeper' AND path IN ('/data/sub/deeper/d.txt', '/data/a.txt');
-- A UNION covers an OR across path and directory (OR itself is refused: file_required_or.sql).
SELECT path FROM file WHERE path = '/data/a.txt' UNION SELECT path FROM file WHERE directory = '/data/sub/deeper';
