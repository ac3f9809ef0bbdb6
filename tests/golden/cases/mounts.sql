-- root: system
SELECT * FROM mounts;
SELECT device, device_alias, path FROM mounts WHERE device LIKE '/dev/%';
SELECT path, type FROM mounts WHERE path = '/';
