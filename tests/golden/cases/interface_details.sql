-- root: network
SELECT * FROM interface_details;
SELECT interface, mac, flags, ibytes, obytes FROM interface_details WHERE interface = 'eth0';
SELECT interface, type, mtu FROM interface_details WHERE interface IN ('lo', 'tun0', 'nosuch0');
SELECT * FROM interface_details WHERE interface = '../../etc';

-- Notes:
--   /sys/class/net: bonding_masters is not a link; docker0 is down (no carrier file).
--   interface is pushed down: only that directory is read
