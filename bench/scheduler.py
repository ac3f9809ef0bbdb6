#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The scheduler's cost: osqd running 50 scheduled queries at 10-second intervals (a mix over
processes, users, sockets, mounts, packages, modules...) for a few minutes, with the filesystem
logger; reports its average CPU use (share of one core) and its RSS, against the targets of
issue 5 (< 2% of a core on average, RSS < 20 MB). Then bench/osq-bench-diff: the cost of
differential results for a 10,000-row query (unchanged, and every row changed).

Usage: bench/scheduler.py [--osqi BUILD/service/shell/osqi] [--duration SECONDS]
"""

import json
import os
import pathlib
import subprocess
import sys
import time

from daemon_common import Daemon, parse_args

TARGET_CPU = 2.0
TARGET_RSS_MB = 20.0

QUERIES = [
    "SELECT pid, name, path, cmdline, uid FROM processes",
    "SELECT pid, name FROM processes WHERE uid = 0",
    "SELECT count(*) AS n FROM processes",
    "SELECT uid, gid, username, shell FROM users",
    "SELECT gid, groupname FROM groups",
    "SELECT pid, port, protocol, address FROM listening_ports",
    "SELECT device, path, type FROM mounts",
    "SELECT name, size, used_by FROM kernel_modules",
    "SELECT name, version FROM deb_packages",
    "SELECT count(*) AS n FROM deb_packages",
    "SELECT name, current_value FROM system_controls WHERE subsystem = 'kernel'",
    "SELECT interface, address FROM interface_addresses",
    "SELECT destination, gateway, interface FROM routes",
    "SELECT address, mac, interface FROM arp_cache",
    "SELECT hostname, cpu_brand, physical_memory FROM system_info",
    "SELECT name, version FROM os_version",
    "SELECT version, arguments FROM kernel_info",
    "SELECT days, hours, minutes FROM uptime",
    "SELECT address, hostnames FROM etc_hosts",
    "SELECT event, minute, hour, command, path FROM crontab",
    "SELECT type, user, tty, host, time FROM logged_in_users",
    "SELECT path, permissions FROM suid_bin",
    "SELECT pid, fd, path FROM process_open_files WHERE pid = 1",
    "SELECT base_uri, release, source FROM apt_sources",
    "SELECT path, size, mode FROM file WHERE directory = '/etc'",
    "SELECT hostname, cpu_brand FROM system_info",
]


def main():
    args = parse_args(__doc__.splitlines()[0],
                      lambda parser: parser.add_argument("--duration", type=int, default=120))
    build = pathlib.Path(args.osqi).resolve().parents[2]
    schedule = {f"q{i:02d}": {"query": QUERIES[i % len(QUERIES)] + ("" if i < len(QUERIES)
                                                                    else " LIMIT 1000000"),
                              "interval": 10}
                for i in range(50)}
    directory = pathlib.Path(os.environ.get("TMPDIR", "/tmp")) / f"osq-bench-sched-{os.getpid()}"
    directory.mkdir(parents=True, exist_ok=True)
    config = directory / "osq.conf"
    config.write_text(json.dumps({"schedule": schedule}))
    daemon = Daemon(args.osqd, f"--config_path={config}",
                    f"--database_path={directory / 'osq.db'}",
                    f"--logger_path={directory / 'logs'}")
    ticks = os.sysconf("SC_CLK_TCK")
    try:
        def cpu_seconds():
            with open(f"/proc/{daemon.process.pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / ticks

        time.sleep(5)  # the start-up and the first runs are not the steady state
        start_cpu, start = cpu_seconds(), time.monotonic()
        rss = []
        while time.monotonic() - start < args.duration:
            time.sleep(5)
            rss.append(daemon.rss_kb() / 1024)
        cpu = (cpu_seconds() - start_cpu) / (time.monotonic() - start) * 100
    finally:
        daemon.stop()
    lines = sum(1 for _ in open(directory / "logs" / "osqd.results.log"))
    subprocess.run(["rm", "-rf", str(directory)], check=False)
    diff = subprocess.run([str(build / "bench" / "osq-bench-diff")], capture_output=True,
                          text=True, check=True)
    figures = dict(line.split("=", 1) for line in diff.stdout.split())
    ok_cpu, ok_rss = cpu < TARGET_CPU, max(rss) < TARGET_RSS_MB
    print(f"osqd with 50 scheduled queries every 10 s for {args.duration} s "
          f"({lines} result lines logged):")
    print(f"  CPU {cpu:.2f}% of one core on average (target < {TARGET_CPU:.0f}%): "
          f"{'MET' if ok_cpu else 'MISSED'}")
    print(f"  RSS {sum(rss) / len(rss):.1f} MB average, {max(rss):.1f} MB peak "
          f"(target < {TARGET_RSS_MB:.0f} MB): {'MET' if ok_rss else 'MISSED'}")
    print(f"differential results for {figures['rows']} rows: the query alone "
          f"{float(figures['query_ms']):.1f} ms; a run with nothing changed "
          f"{float(figures['unchanged_run_ms']):.1f} ms; a run where every row changed "
          f"({figures['changed_lines']} log lines) {float(figures['changed_run_ms']):.1f} ms")
    return 0 if ok_cpu and ok_rss else 1


if __name__ == "__main__":
    sys.exit(main())
