# SPDX-License-Identifier: Apache-2.0
"""Shared by the daemon benchmarks: command-line handling (bench/run passes --osqi; osqd sits
in the same build tree), starting a quiet osqd on a temporary socket, and raw frames."""

import argparse
import os
import pathlib
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
PING_CALL = bytes.fromhex("800100010000000470696e670000000000")
PING_REPLY_LEN = 50


def query_frame(sql):
    data = sql.encode()
    return (struct.pack(">Ii", 0x80010001, 5) + b"query" + struct.pack(">i", 0)
            + b"\x0b" + struct.pack(">hi", 1, len(data)) + data + b"\x00")


def parse_args(description, extra=None):
    default_build = pathlib.Path(os.environ.get("OSQ_BUILD_ROOT", ROOT / "build"))
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--osqi", default=str(default_build / "service/shell/osqi"),
                        help="osqi of the build to use (osqd is found beside it)")
    parser.add_argument("--osqd", default=None)
    if extra is not None:
        extra(parser)
    args = parser.parse_args()
    build = pathlib.Path(args.osqi).resolve().parents[2]
    if args.osqd is None:
        args.osqd = str(build / "service/daemon/osqd")
    args.thrift_py = os.environ.get("OSQ_THRIFT_PY", str(build / "idl/py"))
    return args


class Daemon:
    def __init__(self, osqd, *flags):
        self.directory = tempfile.mkdtemp(prefix="osqd-bench-", dir="/tmp")
        self.socket_path = os.path.join(self.directory, "osquery.em")
        self.process = subprocess.Popen(
            [osqd, f"--extensions_socket={self.socket_path}",
             f"--pidfile={os.path.join(self.directory, 'osqd.pid')}", *flags],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while True:
            try:
                self.connect().close()
                break
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("osqd did not start")
                time.sleep(0.02)

    def connect(self):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(self.socket_path)
        return sock

    def rss_kb(self):
        with open(f"/proc/{self.process.pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=30)
        shutil.rmtree(self.directory, ignore_errors=True)


def thrift_client(socket_path, thrift_py):
    """Thrift's stock generated client (build/idl/py) on a buffered transport."""
    import sys
    if thrift_py not in sys.path:
        sys.path.insert(0, thrift_py)
    from thrift.protocol import TBinaryProtocol
    from thrift.transport import TSocket, TTransport
    from osq.gen.osq import OsqManager

    transport = TTransport.TBufferedTransport(TSocket.TSocket(unix_socket=socket_path))
    client = OsqManager.Client(TBinaryProtocol.TBinaryProtocolAccelerated(transport))
    transport.open()
    client.transport = transport
    return client


def roundtrip(sock, frame, reply_len, buf):
    sock.sendall(frame)
    got = 0
    view = memoryview(buf)
    while got < reply_len:
        n = sock.recv_into(view[got:reply_len])
        if n == 0:
            raise ConnectionError("osqd closed the connection")
        got += n


def verdict(ok):
    return "MET" if ok else "MISSED"


if __name__ == "__main__":
    print("daemon_common.py holds the helpers of bench/daemon_*.py; nothing to measure")
