-- root: network
SELECT * FROM routes;
SELECT destination, gateway, interface FROM routes WHERE type = 'gateway' AND gateway IS NOT NULL;

-- Notes:
--   IPv4 from /proc/net/route, IPv6 from /proc/net/ipv6_route; malformed lines, the kernel's
--   null entry and cached clones are skipped.
