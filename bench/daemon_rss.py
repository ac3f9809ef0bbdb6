#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Idle osqd's resident memory (VmRSS): right after start, and idle again after 8 clients ran
200 queries each over `processes` and disconnected (target <= 8 MB for both).

Usage: bench/daemon_rss.py [--osqi PATH | --osqd PATH]"""

import sys
import threading
import time

from daemon_common import Daemon, parse_args, thrift_client, verdict

TARGET_KB = 8 * 1024


def busy_client(daemon, thrift_py, failures):
    client = thrift_client(daemon.socket_path, thrift_py)
    for _ in range(200):
        if client.query("SELECT pid, name, cmdline FROM processes").status.code != 0:
            failures.append("query failed")
    client.transport.close()


def main():
    args = parse_args(__doc__.splitlines()[0])
    daemon = Daemon(args.osqd)
    try:
        time.sleep(0.5)
        idle = daemon.rss_kb()
        failures = []
        threads = [threading.Thread(target=busy_client, args=(daemon, args.thrift_py, failures))
                   for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        time.sleep(0.5)
        after = daemon.rss_kb()
        assert not failures, failures[:3]
    finally:
        daemon.stop()
    ok = idle <= TARGET_KB and after <= TARGET_KB
    print(f"osqd idle RSS: {idle / 1024:.1f} MB at start, {after / 1024:.1f} MB idle after 8 "
          f"clients x 200 queries (target <= {TARGET_KB // 1024} MB): {verdict(ok)}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
