#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Ping round trip over osqd's socket: a pre-encoded ping frame sent on a raw Unix socket and
its 50-byte reply read back, 10,000 times per batch (best and median of the batches; target
<= 25 us, what a Thrift C++ server set up like osqueryd's took here). The Python client's own
cost is included, so the daemon's share is lower. The floor is measured in the same run: the
same loop against an echo process that answers each 17-byte frame with 50 bytes and does
nothing else (kernel wake-ups and the client's loop, no Thrift).

Usage: bench/daemon_ping.py [--osqi PATH | --osqd PATH] [--count N] [--batches N]"""

import os
import socket
import statistics
import sys
import tempfile
import time

from daemon_common import PING_CALL, PING_REPLY_LEN, Daemon, parse_args, roundtrip, verdict

TARGET_US = 25.0


def echo_floor(count, batches):
    """The same round trips against a process that only echoes fixed-size replies."""
    directory = tempfile.mkdtemp(prefix="osq-echo-", dir="/tmp")
    path = os.path.join(directory, "echo.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(1)
    pid = os.fork()
    if pid == 0:
        conn, _ = listener.accept()
        reply = bytes(PING_REPLY_LEN)
        frame = bytearray(len(PING_CALL))
        try:
            while True:
                got = 0
                while got < len(PING_CALL):
                    n = conn.recv_into(memoryview(frame)[got:])
                    if n == 0:
                        os._exit(0)
                    got += n
                conn.sendall(reply)
        finally:
            os._exit(0)
    listener.close()
    try:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(path)
        per_batch = measure(sock, count, batches)
        sock.close()
    finally:
        os.waitpid(pid, 0)
        os.unlink(path)
        os.rmdir(directory)
    return statistics.median(per_batch)


def measure(sock, count, batches):
    buf = bytearray(PING_REPLY_LEN)
    for _ in range(1000):  # warm up
        roundtrip(sock, PING_CALL, PING_REPLY_LEN, buf)
    per_batch = []
    for _ in range(batches):
        start = time.perf_counter()
        for _ in range(count):
            roundtrip(sock, PING_CALL, PING_REPLY_LEN, buf)
        per_batch.append((time.perf_counter() - start) / count * 1e6)
    return per_batch


def main():
    def extra(parser):
        parser.add_argument("--count", type=int, default=10000)
        parser.add_argument("--batches", type=int, default=5)

    args = parse_args(__doc__.splitlines()[0], extra)
    daemon = Daemon(args.osqd)
    try:
        sock = daemon.connect()
        per_batch = measure(sock, args.count, args.batches)
        sock.close()
    finally:
        daemon.stop()
    floor = echo_floor(args.count, args.batches)
    best, median = min(per_batch), statistics.median(per_batch)
    ok = median <= TARGET_US
    print(f"osqd ping round trip (raw socket, {args.count} per batch, {args.batches} batches): "
          f"median {median:.1f} us, best {best:.1f} us (target <= {TARGET_US:.0f} us): "
          f"{verdict(ok)}")
    print(f"  floor (echo process, same loop): {floor:.1f} us; osqd adds "
          f"{median - floor:.1f} us ({median / floor:.2f}x)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
