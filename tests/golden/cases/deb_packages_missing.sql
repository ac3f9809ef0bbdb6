-- root: packages/empty
SELECT * FROM deb_packages;
SELECT * FROM deb_packages WHERE admindir = '/var/lib/dpkg';
