-- root: files
-- git cannot store setuid bits, so the fixture has none: a full scan walks every directory and
-- finds nothing (tables/linux/files-test.c covers real setuid files).
SELECT * FROM suid_bin;
SELECT count(*) FROM suid_bin WHERE path = '/usr/bin/tool';
SELECT count(*) FROM suid_bin WHERE path IN ('/bin/tool', '/etc/passwd', '/usr/bin/../bin/tool');
