#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Ping round trip over osqd's socket: a pre-encoded ping frame sent on a raw Unix socket and
its 50-byte reply read back, 10,000 times per batch (best and median of the batches; target
<= 25 us, what a Thrift C++ server set up like osqueryd's took here). The Python client's own
cost is included, so the daemon's share is lower.

Usage: bench/daemon_ping.py [--osqi PATH | --osqd PATH] [--count N] [--batches N]"""

import statistics
import sys
import time

from daemon_common import PING_CALL, PING_REPLY_LEN, Daemon, parse_args, roundtrip, verdict

TARGET_US = 25.0


def main():
    def extra(parser):
        parser.add_argument("--count", type=int, default=10000)
        parser.add_argument("--batches", type=int, default=5)

    args = parse_args(__doc__.splitlines()[0], extra)
    daemon = Daemon(args.osqd)
    try:
        sock = daemon.connect()
        buf = bytearray(PING_REPLY_LEN)
        for _ in range(1000):  # warm up
            roundtrip(sock, PING_CALL, PING_REPLY_LEN, buf)
        per_batch = []
        for _ in range(args.batches):
            start = time.perf_counter()
            for _ in range(args.count):
                roundtrip(sock, PING_CALL, PING_REPLY_LEN, buf)
            per_batch.append((time.perf_counter() - start) / args.count * 1e6)
        sock.close()
    finally:
        daemon.stop()
    best, median = min(per_batch), statistics.median(per_batch)
    ok = median <= TARGET_US
    print(f"osqd ping round trip (raw socket, {args.count} per batch, {args.batches} batches): "
          f"median {median:.1f} us, best {best:.1f} us (target <= {TARGET_US:.0f} us): "
          f"{verdict(ok)}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
