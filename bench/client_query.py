#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Benchmark of a query through the C client (libosq) against the same query in-process.

Starts an osqd on a temporary socket (bench/daemon_common.py: every path under a temporary
directory, so no root is needed), then runs bench/osq-bench-query, which times `query` of 10,000 rows x 26 columns
(integers, text, doubles) through libosq and, interleaved in the same process, through the
engine directly (what osqi does), reading every cell on both sides. The medians are printed with
the ratio and the targets of issue 3: ratio <= 1.5x and <= 80 ms through the client (the C++
Thrift stand-in took 326 ms). Exit status 1 when a target is missed.

Usage: bench/client_query.py [--osqi BUILD/service/shell/osqi] [--runs N]
"""

import pathlib
import subprocess
import sys

from daemon_common import Daemon, parse_args

TARGET_RATIO = 1.5
TARGET_MS = 80.0


def main():
    args = parse_args(__doc__.splitlines()[0],
                      lambda parser: parser.add_argument("--runs", type=int, default=15))
    bench = pathlib.Path(args.osqi).resolve().parents[2] / "bench" / "osq-bench-query"
    for path in (pathlib.Path(args.osqd), bench):
        if not path.exists():
            raise SystemExit(f"{path} is not built")
    daemon = Daemon(args.osqd)
    try:
        out = subprocess.run([str(bench), daemon.socket_path, str(args.runs)],
                             capture_output=True, text=True, check=False, timeout=600)
    finally:
        daemon.stop()
    if out.returncode != 0:
        raise SystemExit(f"osq-bench-query failed: {out.stderr.strip()}")
    figures = dict(line.split("=", 1) for line in out.stdout.split())
    client_ms = float(figures["client_ms"])
    local_ms = float(figures["inprocess_ms"])
    ratio = client_ms / local_ms
    met_ratio = ratio <= TARGET_RATIO
    met_ms = client_ms <= TARGET_MS
    print(f"query of {figures['rows']} rows x 26 columns, median of {figures['runs']} runs")
    print(f"  in-process (engine):   {local_ms:8.2f} ms")
    print(f"  through libosq/osqd:   {client_ms:8.2f} ms")
    print(f"  ratio client/in-process {ratio:5.2f}x   target <= {TARGET_RATIO}x   "
          f"{'MET' if met_ratio else 'MISSED'}")
    print(f"  client absolute        {client_ms:5.1f} ms  target <= {TARGET_MS:.0f} ms  "
          f"{'MET' if met_ms else 'MISSED'}")
    return 0 if met_ratio and met_ms else 1


if __name__ == "__main__":
    sys.exit(main())
