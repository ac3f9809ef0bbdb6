-- root: system
SELECT name, current_value, config_value FROM system_controls WHERE name = 'kernel.hostname';
SELECT name, current_value, config_value FROM system_controls WHERE name IN ('vm.swappiness', 'net.ipv4.ip_forward', 'no.such.control', 'kernel');
SELECT name, current_value, config_value FROM system_controls WHERE name = 'net.ipv4.conf.eth0.100.rp_filter';
SELECT name, current_value FROM system_controls WHERE name = 'vm.drop_caches';
SELECT name FROM system_controls WHERE name = '../../etc/hosts';
SELECT name, current_value FROM system_controls WHERE name LIKE 'net.ipv4.conf.%';
SELECT name FROM system_controls WHERE name LIKE 'KERNEL.RANDOM%';
SELECT name, subsystem FROM system_controls WHERE subsystem = 'vm';
SELECT name, current_value FROM system_controls WHERE config_value IS NOT NULL AND config_value != current_value;
