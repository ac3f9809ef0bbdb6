-- root: packages
SELECT * FROM apt_sources;
SELECT name, pid_with_namespace FROM apt_sources WHERE maintainer = 'Docker';
