-- root: network
SELECT * FROM interface_addresses;
SELECT interface, address, broadcast FROM interface_addresses WHERE interface = 'eth0';
SELECT interface, address, point_to_point FROM interface_addresses WHERE interface IN ('lo', 'tun0');
SELECT * FROM interface_addresses WHERE interface = 'nosuch0';

-- Notes:
--   IPv4 from the fixture-only /proc/net/osq-ipv4-addr (ip -o -4 addr show), IPv6 from
--   /proc/net/if_inet6; malformed lines skipped.
--   interface is pushed down
