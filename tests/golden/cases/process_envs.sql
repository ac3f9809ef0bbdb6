-- root: processes
-- pid 1: an empty value, an entry without '=' (value NULL), a value holding '=', then an empty
-- entry that ends the list.
SELECT * FROM process_envs;
