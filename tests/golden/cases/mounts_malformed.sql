-- root: system/variants/malformed
SELECT device, path, type, flags, hex(path) FROM mounts;
