-- root: system
SELECT * FROM os_version;
SELECT name, pid_with_namespace, mount_namespace_id FROM os_version;
