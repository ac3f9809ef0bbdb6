#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Benchmark of the osq Python client: a 10,000-row x 26-column query through osqd.

Starts its own osqd on a socket in a temporary directory, then times, in this process, the
median of N runs (interleaved, after a warm-up) of:
  query()            list of dicts, strings as osquery sends them (the target: <= 150 ms)
  query(typed=True)  list of dicts with ints (same target)
  query_rows()       the rows as lists, no dicts (for reference)
  stock query()      Thrift's generated ExtensionManager client, as osquery-python uses it
                     (rows as maps, no queryTyped), for reference
Every figure and MET/MISSED is printed; the exit status is 1 when a target is missed.

The osq package is used from the source tree with the Thrift code meson generated
(<build>/clients/python/gen-py), or an installed osq when that is missing.

Usage: bench/python_client.py [--build DIR] [--osqd PATH] [--runs N] [--target MS]
(--osqi PATH, which bench/run passes to every benchmark, only locates the build directory.)
"""

import argparse
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
ROWS = 10000
COLUMNS = 26
SQL = ("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT %d) SELECT %s FROM c"
       % (ROWS, ", ".join("x AS c%02d" % (i + 1) for i in range(COLUMNS))))


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", help="meson build directory (default: ./build)")
    parser.add_argument("--osqi", help="osqi in the build directory (locates it)")
    parser.add_argument("--osqd", help="the daemon (default: <build>/service/daemon/osqd)")
    parser.add_argument("--runs", type=int, default=15, help="timed runs of each call (>= 5)")
    parser.add_argument("--target", type=float, default=150.0, help="target in ms")
    args = parser.parse_args()
    if args.build is None:
        args.build = (pathlib.Path(args.osqi).resolve().parents[2] if args.osqi
                      else ROOT / "build")
    args.build = pathlib.Path(args.build)
    args.osqd = pathlib.Path(args.osqd or args.build / "service" / "daemon" / "osqd")
    args.runs = max(args.runs, 5)
    return args


def import_osq(build):
    gen = build / "clients" / "python" / "gen-py"
    if (gen / "osq" / "gen" / "osq" / "OsqManager.py").is_file():
        os.environ["OSQ_THRIFT_PY"] = str(gen)
        sys.path.insert(0, str(ROOT / "clients" / "python"))
    import osq  # noqa: E402 - the path is set above
    return osq


def start_osqd(osqd, tmp):
    sock = tmp / "osqd.em"
    log = open(tmp / "osqd.log", "w+")
    proc = subprocess.Popen(
        [str(osqd), "--extensions_socket", str(sock), "--pidfile", str(tmp / "osqd.pid"),
         "--database_path", str(tmp / "osqd.db")],
        stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 10
    while not sock.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            proc.wait()
            log.seek(0)
            sys.exit(f"osqd did not start:\n{log.read()}")
        time.sleep(0.01)
    return proc, sock


def stock_client(osq, path):
    """Thrift's generated client on the same stack, as osquery-python builds it."""
    from osq.gen.osquery import ExtensionManager
    from thrift.protocol.TBinaryProtocol import TBinaryProtocolAccelerated
    from thrift.transport import TSocket, TTransport

    sock = TSocket.TSocket(unix_socket=str(path))
    sock.setTimeout(30000)
    transport = TTransport.TBufferedTransport(sock)
    transport.open()
    return ExtensionManager.Client(TBinaryProtocolAccelerated(transport)), transport


def main():
    args = parse_args()
    if not args.osqd.exists():
        sys.exit(f"{args.osqd} is not built")
    osq = import_osq(args.build)
    with tempfile.TemporaryDirectory(prefix="osq-bench-") as tmp:
        proc, sock = start_osqd(args.osqd, pathlib.Path(tmp))
        try:
            return run(osq, sock, args)
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def run(osq, sock, args):
    client = osq.Client(sock, timeout=30)
    stock, stock_transport = stock_client(osq, sock)

    # correctness first
    rows = client.query(SQL)
    assert len(rows) == ROWS and list(rows[0]) == ["c%02d" % (i + 1) for i in range(COLUMNS)]
    assert rows[-1]["c26"] == str(ROWS), rows[-1]
    typed = client.query(SQL, typed=True)
    typed_ints = typed[-1]["c26"] == ROWS
    reply = stock.query(SQL)
    assert reply.status.code == 0 and len(reply.response) == ROWS

    calls = {
        "query()": lambda: client.query(SQL),
        "query(typed=True)": lambda: client.query(SQL, typed=True),
        "query_rows()": lambda: client.query_rows(SQL),
        "stock query()": lambda: stock.query(SQL),
    }
    times = {name: [] for name in calls}
    for _ in range(args.runs):
        for name, call in calls.items():
            start = time.perf_counter()
            result = call()
            times[name].append(time.perf_counter() - start)
            del result
    stock_transport.close()
    client.close()

    print(f"python client: {ROWS} rows x {COLUMNS} columns through osqd, median of "
          f"{args.runs} runs")
    if not typed_ints:
        print(f"  note: queryTyped typed c26 as {client.columns(SQL)[25][1]}: typed values "
              "stay text")
    status = 0
    for name, samples in times.items():
        median = statistics.median(samples) * 1000
        line = f"  {name:<18} median {median:7.1f} ms  min {min(samples) * 1000:7.1f} ms"
        if name in ("query()", "query(typed=True)"):
            met = median <= args.target
            line += f"  (target <= {args.target:.0f} ms) {'MET' if met else 'MISSED'}"
            status |= 0 if met else 1
        print(line)
    return status


if __name__ == "__main__":
    sys.exit(main())
