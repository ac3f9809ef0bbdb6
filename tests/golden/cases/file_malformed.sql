-- root: files
-- Missing paths, relative paths and non-directories give no rows, never an error.
SELECT path FROM file WHERE path = '/data/missing.txt';
SELECT path FROM file WHERE path = 'data/a.txt';
SELECT path FROM file WHERE path = '';
SELECT path FROM file WHERE directory = '/data/a.txt';
SELECT path FROM file WHERE directory = '/no/such/dir';
SELECT path FROM file WHERE path LIKE 'data/%';
SELECT path FROM file WHERE path LIKE '/no/such/%';
SELECT path FROM file WHERE path = 42;
SELECT path FROM hash WHERE path = '/data/missing.txt';
SELECT path FROM hash WHERE directory = '/data/a.txt';
-- A link loop is reported as a link (its target cannot be resolved).
SELECT path, type, symlink, symlink_target_path FROM file WHERE path = '/data/loop2';
