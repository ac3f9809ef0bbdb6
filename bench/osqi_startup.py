#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Start-up cost of the shell: wall time of `osqi "SELECT 1"` (median of N runs, target
<= 10 ms), with `sqlite3 :memory: "SELECT 1"` as a reference when the sqlite3 CLI is installed.
The minimum is printed too: on a busy machine it shows the cost without the noise.

Usage: bench/osqi_startup.py [--osqi PATH] [--runs N]"""

import argparse
import os
import pathlib
import shutil
import statistics
import subprocess
import sys
import time

TARGET_MS = 10.0


def measure(argv, runs):
    subprocess.run(argv, stdout=subprocess.DEVNULL, check=True)  # warm the page cache
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, check=True)
        samples.append((time.perf_counter() - start) * 1000.0)
    return statistics.median(samples), min(samples)


def main():
    root = pathlib.Path(__file__).resolve().parents[1]
    default = os.environ.get("OSQ_BUILD_ROOT", str(root / "build"))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--osqi", default=str(pathlib.Path(default) / "service/shell/osqi"))
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    runs = max(args.runs, 30)

    median, fastest = measure([args.osqi, "SELECT 1"], runs)
    verdict = "MET" if median <= TARGET_MS else "MISSED"
    print(f'osqi "SELECT 1": median {median:.2f} ms, min {fastest:.2f} ms over {runs} runs '
          f"(target <= {TARGET_MS:.0f} ms): {verdict}")
    sqlite3 = shutil.which("sqlite3")
    if sqlite3 is not None:
        median_ref, fastest_ref = measure([sqlite3, ":memory:", "SELECT 1"], runs)
        print(f'reference sqlite3 :memory: "SELECT 1": median {median_ref:.2f} ms, '
              f"min {fastest_ref:.2f} ms")
    else:
        print("reference: sqlite3 CLI not installed")
    return 0 if verdict == "MET" else 1


if __name__ == "__main__":
    sys.exit(main())
