-- root: packages/broken
SELECT * FROM deb_packages;
SELECT name FROM deb_packages WHERE admindir = '/srv/dpkg-truncated';
