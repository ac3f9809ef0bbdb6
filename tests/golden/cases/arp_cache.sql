-- root: network
SELECT * FROM arp_cache;
SELECT address, mac FROM arp_cache WHERE permanent = '1';

-- Notes:
--   The line that is not an entry is skipped; only flags 0x6 is permanent.
