-- root: files
-- An OR across path and directory cannot be pushed down as one lookup: refused like a missing
-- constraint, as in osquery. A UNION of two queries does it (see file.sql).
SELECT path FROM file WHERE path = '/data/a.txt' OR directory = '/data/sub';
