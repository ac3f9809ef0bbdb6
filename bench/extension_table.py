#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Extension tables through the daemon: rows per second from an extension table to a C client
(10,000 rows x 10 columns), and the latency one extension call adds to a query, against a
built-in one-row table, both measured in the same run.

Starts an osqd on a temporary socket and bench/osq-bench-extension (libosq's extension SDK)
registered with it; then bench/osq-bench-query times, through libosq, `SELECT * FROM bench_rows`
(10,000 rows from the extension), `SELECT * FROM bench_one` (one row from the extension) and
`SELECT * FROM time` (one row from a built-in table). Medians; reported, not asserted (the issue
sets no target for these figures).

Usage: bench/extension_table.py [--osqi BUILD/service/shell/osqi] [--runs N]
"""

import pathlib
import subprocess
import sys
import time

from daemon_common import Daemon, parse_args


def median_ms(bench, socket_path, runs, sql):
    out = subprocess.run([str(bench), socket_path, str(runs), sql, "client-only"],
                         capture_output=True, text=True, check=False, timeout=600)
    if out.returncode != 0:
        raise SystemExit(f"osq-bench-query failed on {sql}: {out.stderr.strip()}")
    figures = dict(line.split("=", 1) for line in out.stdout.split())
    return float(figures["client_ms"]), int(figures["rows"])


def main():
    args = parse_args(__doc__.splitlines()[0],
                      lambda parser: parser.add_argument("--runs", type=int, default=30))
    build = pathlib.Path(args.osqi).resolve().parents[2]
    query = build / "bench" / "osq-bench-query"
    extension = build / "bench" / "osq-bench-extension"
    for path in (pathlib.Path(args.osqd), query, extension):
        if not path.exists():
            raise SystemExit(f"{path} is not built")
    daemon = Daemon(args.osqd, "--extensions_interval=1")
    ext = subprocess.Popen([str(extension), "--socket", daemon.socket_path, "--interval", "1"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            probe = subprocess.run([str(query), daemon.socket_path, "1",
                                    "SELECT count(*) FROM bench_one", "client-only"],
                                   capture_output=True, text=True, check=False)
            if probe.returncode == 0:
                break
            if ext.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the bench extension did not register: {ext.stderr.read()}")
            time.sleep(0.05)
        rows_ms, rows = median_ms(query, daemon.socket_path, args.runs, "SELECT * FROM bench_rows")
        one_ms, _ = median_ms(query, daemon.socket_path, args.runs * 10, "SELECT * FROM bench_one")
        builtin_ms, _ = median_ms(query, daemon.socket_path, args.runs * 10, "SELECT * FROM time")
    finally:
        ext.terminate()
        try:
            ext.wait(timeout=10)
        except subprocess.TimeoutExpired:
            ext.kill()
        daemon.stop()
    print(f"extension table of {rows} rows x 10 columns through osqd to libosq: "
          f"{rows_ms:.1f} ms, {rows / rows_ms * 1000:,.0f} rows/s (median of {args.runs})")
    print(f"one-row query: extension table {one_ms * 1000:.0f} us, built-in table "
          f"{builtin_ms * 1000:.0f} us: an extension call adds {(one_ms - builtin_ms) * 1000:.0f} us")
    return 0


if __name__ == "__main__":
    sys.exit(main())
