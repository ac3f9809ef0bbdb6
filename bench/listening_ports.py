#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Benchmark: `osqi "SELECT * FROM listening_ports"` against `ss -tlnp`.

Both commands list listening sockets with their owning processes, so both pay the same
/proc/<pid>/fd walk; osqi also lists UDP, raw, packet and named unix sockets, as osquery does.
Runs are interleaved (ss, osqi, ss, osqi...) so a busy neighbour slows both alike. Prints the
median wall time of each, the ratio osqi/ss, and MET when the ratio is at most the target.

Usage: bench/listening_ports.py [--runs N] [--osqi PATH] [--target RATIO] [--listeners N]
"""

import argparse
import os
import pathlib
import shutil
import socket
import statistics
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]


def run_once(argv):
    start = time.perf_counter()
    result = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"{argv[0]} failed ({result.returncode}): {result.stderr.decode()}")
    return elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30, help="runs of each command (>= 10)")
    parser.add_argument("--osqi", default=str(ROOT / "build" / "service" / "shell" / "osqi"))
    parser.add_argument("--target", type=float, default=1.0, help="largest acceptable ratio")
    parser.add_argument("--listeners", type=int, default=20,
                        help="extra TCP listeners this script opens so there is work to do")
    args = parser.parse_args()
    runs = max(args.runs, 10)

    ss = shutil.which("ss")
    if ss is None:
        sys.exit("ss (iproute2) is not installed")
    if not os.path.exists(args.osqi):
        sys.exit(f"{args.osqi} is not built")

    listeners = []
    for _ in range(args.listeners):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind(("127.0.0.1", 0))
        s.listen()
        listeners.append(s)

    osqi_argv = [args.osqi, "--list", "SELECT * FROM listening_ports"]
    ss_argv = [ss, "-tlnp"]
    for argv in (osqi_argv, ss_argv):  # warm caches
        run_once(argv)
    osqi_times, ss_times = [], []
    for _ in range(runs):
        ss_times.append(run_once(ss_argv))
        osqi_times.append(run_once(osqi_argv))
    for s in listeners:
        s.close()

    osqi_median = statistics.median(osqi_times)
    ss_median = statistics.median(ss_times)
    ratio = osqi_median / ss_median
    pids = sum(1 for entry in os.listdir("/proc") if entry.isdigit())
    print(f"host: {pids} processes, {os.cpu_count()} cpus, uid {os.getuid()}")
    print(f"runs: {runs} each, interleaved")
    print(f"osqi listening_ports: median {osqi_median * 1000:.2f} ms "
          f"(min {min(osqi_times) * 1000:.2f} ms)")
    print(f"ss -tlnp:             median {ss_median * 1000:.2f} ms "
          f"(min {min(ss_times) * 1000:.2f} ms)")
    print(f"ratio osqi/ss: {ratio:.3f} (target <= {args.target:.2f})")
    print("MET" if ratio <= args.target else "MISSED")
    return 0 if ratio <= args.target else 1


if __name__ == "__main__":
    sys.exit(main())
