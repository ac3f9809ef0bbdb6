#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Benchmark of the processes table against ps (Python 3 standard library only).

Starts ~2,000 extra sleeping processes (a shell fan-out of `sleep 600`, killed at the end, and
dead by themselves after ten minutes anyway), then times `osqi "SQL"` and ps as subprocesses: the
median wall time of N runs each, baselines measured in the same run, the commands interleaved so
load changes hit all of them alike. CPU time (user + system, from wait4) is printed as well: on a
shared machine it is the steadier figure. Every figure, ratio, target and MET/MISSED is printed;
the exit status is 1 when a target is missed.

The single-process lookup is compared with the full scan twice: as whole commands, and with the
cost of starting osqi at all (the median of `osqi "SELECT 1"`) taken off both, which is what the
pushdown itself saves.

Peak RSS: a child's ru_maxrss also counts the parent's memory it was forked from (here the Python
interpreter, ~15 MB), so it is taken from GNU time (`/usr/bin/time -f %M`), which forks the
measured program from its own small image. Without /usr/bin/time a tiny Python launcher is used
and the figure is an upper bound (the launcher's own ~5 MB is the floor).

Usage: bench/processes.py [BUILD_DIR] [--runs N] [--extra N]
"""

import argparse
import os
import pathlib
import signal
import statistics
import subprocess
import sys
import time

TARGETS = {
    "narrow": 0.8,
    "full": 1.5,
    "lookup": 0.02,
    "rss_mb": 10.0,
}


def run_once(argv):
    """Runs argv with output to /dev/null; returns (wall seconds, CPU seconds)."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{argv} failed with status {proc.returncode}")
    return elapsed, usage.ru_utime + usage.ru_stime


def measure(commands, runs):
    """Median wall and CPU times (s) of every command, runs interleaved."""
    wall = {name: [] for name in commands}
    cpu = {name: [] for name in commands}
    for argv in commands.values():  # warm-up: page cache, dentries
        run_once(argv)
    for _ in range(runs):
        for name, argv in commands.items():
            elapsed, used = run_once(argv)
            wall[name].append(elapsed)
            cpu[name].append(used)
    return ({name: statistics.median(t) for name, t in wall.items()},
            {name: statistics.median(t) for name, t in cpu.items()})


LAUNCHER = """
import os, sys
pid = os.fork()
if pid == 0:
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    os.dup2(null, 2)
    os.execv(sys.argv[1], sys.argv[1:])
_, status, usage = os.wait4(pid, 0)
print(usage.ru_maxrss)
sys.exit(os.waitstatus_to_exitcode(status))
"""


def peak_rss_kb(argv, runs=3):
    """Largest peak RSS (kB) of argv over a few runs; (value, exact?)."""
    gnu_time = "/usr/bin/time"
    exact = os.access(gnu_time, os.X_OK)
    peak = 0
    for _ in range(runs):
        if exact:
            result = subprocess.run([gnu_time, "-f", "%M", *argv], stdout=subprocess.DEVNULL,
                                    stderr=subprocess.PIPE, text=True, check=True)
        else:
            result = subprocess.run([sys.executable, "-I", "-S", "-c", LAUNCHER, *argv],
                                    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                    text=True, check=True)
            result.stderr = result.stdout
        peak = max(peak, int(result.stderr.strip().splitlines()[-1]))
    return peak, exact


class Sleepers:
    """A session of `count` sleeping processes, killed as a group on exit."""

    def __init__(self, count):
        script = f"i=0; while [ $i -lt {count} ]; do sleep 600 & i=$((i+1)); done; echo ready; wait"
        self.proc = subprocess.Popen(["/bin/sh", "-c", script], stdout=subprocess.PIPE,
                                     text=True, start_new_session=True)
        line = self.proc.stdout.readline()
        if line.strip() != "ready":
            self.close()
            raise SystemExit("could not start the sleeping processes")

    def close(self):
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()


def count_processes():
    return sum(1 for entry in os.listdir("/proc") if entry.isdigit())


def verdict(value, target):
    return "MET" if value <= target else "MISSED"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--osqi", default=str(pathlib.Path(__file__).resolve().parents[1]
                                              / "build" / "service" / "shell" / "osqi"))
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--extra", type=int, default=2000, help="sleeping processes to add")
    args = parser.parse_args()
    if args.runs < 10:
        parser.error("--runs must be at least 10")
    osqi = args.osqi
    if not os.access(osqi, os.X_OK):
        raise SystemExit(f"{osqi} is not built")

    sleepers = Sleepers(args.extra)
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: sys.exit(130))
    try:
        n = count_processes()
        commands = {
            "osqi_start": [osqi, "--list", "SELECT 1"],
            "osqi_narrow": [osqi, "--list", "SELECT pid, name, uid FROM processes"],
            "ps_narrow": ["ps", "-e", "-o", "pid=,comm=,uid="],
            "osqi_full": [osqi, "--list", "SELECT * FROM processes"],
            "ps_full": ["ps", "-e"],
            "osqi_lookup": [osqi, "--list", "SELECT * FROM processes WHERE pid = 1"],
        }
        wall, cpu = measure(commands, args.runs)
        rss_full, rss_exact = peak_rss_kb(commands["osqi_full"])
        rss_start, _ = peak_rss_kb(commands["osqi_start"])
        rss_ps, _ = peak_rss_kb(commands["ps_full"])
    finally:
        sleepers.close()

    print(f"processes on the host: {n} ({args.extra} extra sleepers), {args.runs} runs each, "
          "medians")
    failed = False
    for kind, figures in (("wall", wall), ("CPU", cpu)):
        ms = {name: value * 1000 for name, value in figures.items()}
        start = ms["osqi_start"]
        print(f"-- {kind} time; osqi start-up (SELECT 1): {start:.2f} ms")
        results = [
            ("SELECT pid, name, uid vs ps -e -o pid=,comm=,uid=", ms["osqi_narrow"],
             ms["ps_narrow"], "narrow"),
            ("SELECT * vs ps -e", ms["osqi_full"], ms["ps_full"], "full"),
            ("WHERE pid = 1 vs full scan, whole commands", ms["osqi_lookup"], ms["osqi_full"],
             "lookup"),
            ("WHERE pid = 1 vs full scan, osqi start-up taken off",
             max(ms["osqi_lookup"] - start, 0.0), max(ms["osqi_full"] - start, 1e-6), "lookup"),
        ]
        for label, ours, theirs, key in results:
            ratio = ours / theirs if theirs > 0 else float("inf")
            mark = verdict(ratio, TARGETS[key])
            failed |= mark == "MISSED"
            print(f"{label}: {ours:.2f} ms / {theirs:.2f} ms = {ratio:.3f} "
                  f"(target <= {TARGETS[key]}) {mark}")
    peak_mb = rss_full / 1024
    mark = verdict(peak_mb, TARGETS["rss_mb"])
    failed |= mark == "MISSED"
    how = "GNU time" if rss_exact else "upper bound, Python launcher"
    print(f"-- peak RSS ({how})")
    print(f"osqi SELECT * FROM processes: {peak_mb:.2f} MB (target <= {TARGETS['rss_mb']} MB) "
          f"{mark}")
    print(f"osqi SELECT 1: {rss_start / 1024:.2f} MB; ps -e: {rss_ps / 1024:.2f} MB")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
