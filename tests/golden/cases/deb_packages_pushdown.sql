-- root: packages
SELECT name, version, arch FROM deb_packages WHERE name = 'libc6';
SELECT name, version, revision FROM deb_packages WHERE name IN ('bash', 'dpkg', 'not-a-package');
SELECT name FROM deb_packages WHERE name = 'purged-pkg';
SELECT name, admindir FROM deb_packages WHERE admindir = '/srv/dpkg-truncated';
SELECT name, admindir FROM deb_packages WHERE admindir IN ('/var/lib/dpkg', '/srv/dpkg-truncated', '/no/such/dir', 'relative/dir') AND name IN ('survivor', 'zlib1g');
SELECT count(*) AS n FROM deb_packages WHERE name LIKE 'lib%';
