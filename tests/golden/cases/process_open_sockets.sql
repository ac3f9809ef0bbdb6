-- root: network
SELECT * FROM process_open_sockets;
SELECT pid, fd, socket, family, protocol, local_port, path, state FROM process_open_sockets WHERE pid = 100;
SELECT pid, fd, socket, local_address, local_port, net_namespace FROM process_open_sockets WHERE pid IN (1, 200) AND family = 2;
SELECT socket, family, protocol, state FROM process_open_sockets WHERE pid = -1;
SELECT * FROM process_open_sockets WHERE pid = 999;
SELECT socket, net_namespace FROM process_open_sockets WHERE family = 2 AND protocol = 6;

-- Notes:
--   Two namespaces: the host's (pids 1, 100, 300, 400) and a container's (pid 200, with its own
--   /proc/200/net). Socket 1001 is shared by pids 1 and 100: the lowest pid owns it. Unmapped
--   sockets (TIME_WAIT, unknown processes) show pid and fd -1. Malformed lines are skipped.
--   pid is pushed down: only pid 100's fds are read, only its sockets come back
--   osquery reads pid = -1 as no filter: the unmapped sockets
--   without pid/fd in the query no fd is read (and pid 400's namespace link is bad)
