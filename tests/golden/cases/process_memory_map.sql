-- root: processes
-- pid 1 has a garbage line (skipped), a line with a bad offset (-1), an anonymous mapping (no
-- path), kernel regions (pseudo = 1) and a path with a space and " (deleted)".
SELECT * FROM process_memory_map;
