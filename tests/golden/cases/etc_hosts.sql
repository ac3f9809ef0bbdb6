-- root: system
SELECT * FROM etc_hosts;
SELECT address, hostnames, pid_with_namespace FROM etc_hosts WHERE address LIKE '%:%';
