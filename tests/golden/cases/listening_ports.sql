-- root: network
SELECT * FROM listening_ports;
SELECT pid, port, protocol, family, address, fd FROM listening_ports WHERE pid = 1;
SELECT pid, port, path, net_namespace FROM listening_ports WHERE pid IN (100, 200);
SELECT port, address FROM listening_ports WHERE family IN (2, 10) ORDER BY port;

-- Notes:
--   TCP LISTEN and peerless IP sockets, named unix sockets (socket 0), packet sockets.
--   pid is pushed down
