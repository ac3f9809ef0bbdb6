-- root: network/broken
SELECT * FROM process_open_sockets;
SELECT * FROM listening_ports;
SELECT * FROM arp_cache;
SELECT * FROM routes;
SELECT * FROM interface_addresses;
SELECT * FROM interface_details;

-- Notes:
--   Garbage or missing files: a bad header skips that file, garbage lines are skipped, and a
--   table with no source at all fails with an error.
