#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""A test extension that registers one table through Thrift's stock generated client and serves
its socket by hand, so it can misbehave in ways a Thrift library would not allow.

    hostile_extension.py --socket PATH --mode MODE [--name NAME] [--table TABLE]

Modes (what a generate call gets; ping always answers, so only the scan is hostile):
  ok       rows n = 1..N (N from an `n = x` constraint, else 3), with the context echoed
  hang     never answers
  die      reads the call, then the process exits
  garbage  random bytes, then the connection closes
  huge     a reply header followed by a string whose length prefix says 1 GiB
  flood    a valid reply header announcing 10,000,000 rows, sent as fast as the socket takes it
  silent   registers but never binds its socket (the daemon must drop it)
  late     as ok, but binds its socket 0.5 s after registering (calls before must wait)
Prints "uuid=N" on stdout once registered, then serves until killed or shut down.
"""

import argparse
import json
import os
import socket
import struct
import sys
import threading
import time

THRIFT_PY = os.environ.get("OSQ_THRIFT_PY")
if THRIFT_PY:
    sys.path.insert(0, THRIFT_PY)

from thrift.protocol import TBinaryProtocol  # noqa: E402
from thrift.transport import TSocket, TTransport  # noqa: E402

from osq.gen.osquery import ExtensionManager  # noqa: E402
from osq.gen.osquery.ttypes import InternalExtensionInfo  # noqa: E402

VERSION_1 = 0x80010000
CALL, REPLY = 1, 2
T_STOP, T_I32, T_I64, T_STRING, T_STRUCT, T_MAP, T_LIST = 0, 8, 10, 11, 12, 13, 15


def string(data):
    data = data.encode() if isinstance(data, str) else data
    return struct.pack(">i", len(data)) + data


def message_begin(name, seqid):
    return struct.pack(">I", VERSION_1 | REPLY) + string(name) + struct.pack(">i", seqid)


def status(code, message):
    return (struct.pack(">bh", T_I32, 1) + struct.pack(">i", code)
            + struct.pack(">bh", T_STRING, 2) + string(message)
            + struct.pack(">bh", T_I64, 3) + struct.pack(">q", 0) + b"\x00")


def response(rows, seqid, code=0, message="OK"):
    out = message_begin("call", seqid) + struct.pack(">bh", T_STRUCT, 0)
    out += struct.pack(">bh", T_STRUCT, 1) + status(code, message)
    out += struct.pack(">bh", T_LIST, 2) + struct.pack(">bi", T_MAP, len(rows))
    for row in rows:
        out += struct.pack(">bbi", T_STRING, T_STRING, len(row))
        for key, value in row.items():
            out += string(key) + string(value)
    return out + b"\x00\x00"


def recv_exact(conn, n):
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    return data


def read_value(conn, ttype):
    if ttype == T_STRING:
        return recv_exact(conn, struct.unpack(">i", recv_exact(conn, 4))[0]).decode()
    if ttype == T_I32:
        return struct.unpack(">i", recv_exact(conn, 4))[0]
    if ttype == T_I64:
        return struct.unpack(">q", recv_exact(conn, 8))[0]
    if ttype == T_MAP:
        ktype, vtype, n = struct.unpack(">bbi", recv_exact(conn, 6))
        return {read_value(conn, ktype): read_value(conn, vtype) for _ in range(n)}
    if ttype == T_STRUCT:
        return read_struct(conn)
    raise ValueError(f"type {ttype} not expected")


def read_struct(conn):
    fields = {}
    while True:
        ttype = recv_exact(conn, 1)[0]
        if ttype == T_STOP:
            return fields
        fid = struct.unpack(">h", recv_exact(conn, 2))[0]
        fields[fid] = read_value(conn, ttype)


def read_call(conn):
    header = struct.unpack(">I", recv_exact(conn, 4))[0]
    name = recv_exact(conn, struct.unpack(">i", recv_exact(conn, 4))[0]).decode()
    seqid = struct.unpack(">i", recv_exact(conn, 4))[0]
    assert header & 0xff == CALL
    return name, seqid, read_struct(conn)


def generate_ok(request):
    context = json.loads(request.get("context", "{}") or "{}")
    count = 3
    for column in context.get("constraints", []):
        for constraint in column.get("list", []):
            if column["name"] == "n" and constraint["op"] == 2:
                count = int(constraint["expr"])
    return [{"n": str(i), "label": f"row{i}", "context": json.dumps(context, sort_keys=True)}
            for i in range(1, count + 1)]


def serve_one(conn, mode):
    with conn:
        while True:
            try:
                name, seqid, args = read_call(conn)
            except (ConnectionError, OSError, ValueError, struct.error):
                return
            if name == "ping":
                conn.sendall(message_begin("ping", seqid) + struct.pack(">bh", T_STRUCT, 0)
                             + status(0, "OK") + b"\x00")
                continue
            if name == "shutdown":
                conn.sendall(message_begin("shutdown", seqid) + b"\x00")
                os._exit(0)
            request = args.get(3, {})
            if request.get("action") == "columns" or mode in ("ok", "late"):
                conn.sendall(response(generate_ok(request), seqid))
            elif mode == "hang":
                threading.Event().wait()
            elif mode == "die":
                os._exit(3)
            elif mode == "garbage":
                conn.sendall(os.urandom(4096))
                return
            elif mode == "huge":
                conn.sendall(message_begin("call", seqid) + struct.pack(">bh", T_STRUCT, 0)
                             + struct.pack(">bh", T_STRUCT, 1) + struct.pack(">bh", T_I32, 1)
                             + struct.pack(">i", 0) + struct.pack(">bh", T_STRING, 2)
                             + struct.pack(">i", 1 << 30) + b"x" * 1024)
                threading.Event().wait(30)
                return
            elif mode == "flood":
                head = (message_begin("call", seqid) + struct.pack(">bh", T_STRUCT, 0)
                        + struct.pack(">bh", T_STRUCT, 1) + status(0, "OK")
                        + struct.pack(">bh", T_LIST, 2) + struct.pack(">bi", T_MAP, 10_000_000))
                row = struct.pack(">bbi", T_STRING, T_STRING, 1) + string("n") + string("7")
                chunk = row * 50_000
                try:
                    conn.sendall(head)
                    for _ in range(10_000_000 // 50_000):
                        conn.sendall(chunk)
                    conn.sendall(b"\x00\x00")
                except OSError:
                    return


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--socket", required=True)
    parser.add_argument("--mode", default="ok")
    parser.add_argument("--name", default="hostile")
    parser.add_argument("--table", default=None)
    parser.add_argument("--timeout", default="3")
    parser.add_argument("--interval", default="3")
    args = parser.parse_args()
    table = args.table or f"{args.name}_table"

    sock = TSocket.TSocket(unix_socket=args.socket)
    transport = TTransport.TBufferedTransport(sock)
    client = ExtensionManager.Client(TBinaryProtocol.TBinaryProtocol(transport))
    transport.open()
    routes = [{"id": "column", "name": "n", "type": "INTEGER", "op": "0"},
              {"id": "column", "name": "label", "type": "TEXT", "op": "0"},
              {"id": "column", "name": "context", "type": "TEXT", "op": "0"}]
    status_ = client.registerExtension(
        InternalExtensionInfo(name=args.name, version="1.0", sdk_version="0.0.0",
                              min_sdk_version="0.0.0"),
        {"table": {table: routes}})
    transport.close()
    if status_.code != 0:
        print(f"refused: {status_.message}", flush=True)
        return 1
    print(f"uuid={status_.uuid}", flush=True)
    if args.mode == "silent":
        threading.Event().wait()
    if args.mode == "late":
        time.sleep(0.5)
    path = f"{args.socket}.{status_.uuid}"
    if os.path.exists(path):
        os.unlink(path)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(16)
    while True:
        conn, _ = server.accept()
        threading.Thread(target=serve_one, args=(conn, args.mode), daemon=True).start()


if __name__ == "__main__":
    sys.exit(main())
