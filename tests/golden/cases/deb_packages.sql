-- root: packages
SELECT * FROM deb_packages;
SELECT name, arch, pid_with_namespace, mount_namespace_id FROM deb_packages WHERE name = 'dpkg';
SELECT status, count(*) AS n FROM deb_packages GROUP BY status ORDER BY status;
