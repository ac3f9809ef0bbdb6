#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""An extension written only against stock Thrift: no osq SDK, just the generated code.

This is what an extension from another project looks like to osqd: Thrift's generated
ExtensionManager/Extension classes (osq.gen.osquery, found through $OSQ_THRIFT_PY), TSocket,
a buffered transport, the binary protocol and a stock TThreadedServer. It registers the table
`stock_numbers` (n INTEGER, square INTEGER; rows n = 1..N, N from an `n = N` constraint, else
10), serves it on `<socket>.<uuid>`, pings the manager every --interval seconds and exits when
the manager is gone (1) or sends shutdown() (0).

Usage: OSQ_THRIFT_PY=build/clients/python/gen-py stock_thrift_extension.py --socket PATH
       [--timeout S] [--interval S] [--verbose]
"""

import argparse
import json
import os
import sys
import threading
import time

if os.environ.get("OSQ_THRIFT_PY"):
    sys.path.insert(0, os.environ["OSQ_THRIFT_PY"])

from osq.gen.osquery import Extension, ExtensionManager  # noqa: E402
from osq.gen.osquery.ttypes import (  # noqa: E402
    ExtensionResponse,
    ExtensionStatus,
    InternalExtensionInfo,
)
from thrift.protocol import TBinaryProtocol  # noqa: E402
from thrift.server import TServer  # noqa: E402
from thrift.transport import TSocket, TTransport  # noqa: E402

TABLE = "stock_numbers"
COLUMNS = [("n", "INTEGER"), ("square", "INTEGER")]
DEFAULT_ROWS = 10
MAX_ROWS = 100000
EQUALS = 2
SOCKET_FILE = []  # the extension socket, removed on the way out


def leave(code):
    for path in SOCKET_FILE:
        try:
            os.unlink(path)
        except OSError:
            pass
    os._exit(code)


def numbers_limit(context_json):
    """N: the value of an `n = N` constraint in the generate context, else DEFAULT_ROWS."""
    try:
        context = json.loads(context_json) if context_json else {}
    except ValueError:
        return DEFAULT_ROWS
    for column in context.get("constraints") or []:
        if column.get("name") != "n":
            continue
        for constraint in column.get("list") or []:
            if int(constraint.get("op", 0)) == EQUALS:
                try:
                    return max(0, min(int(constraint["expr"]), MAX_ROWS))
                except (KeyError, ValueError):
                    pass
    return DEFAULT_ROWS


class Handler:
    def __init__(self):
        self.uuid = 0

    def ping(self):
        return ExtensionStatus(code=0, message="OK", uuid=self.uuid)

    def call(self, registry, item, request):
        if registry != "table" or item != TABLE:
            return ExtensionResponse(
                status=ExtensionStatus(code=1, message=f"unknown plugin {registry}/{item}",
                                       uuid=self.uuid),
                response=[])
        action = request.get("action")
        if action == "columns":
            rows = [{"id": "column", "name": name, "type": kind, "op": "0"}
                    for name, kind in COLUMNS]
        elif action == "generate":
            last = numbers_limit(request.get("context"))
            rows = [{"n": str(n), "square": str(n * n)} for n in range(1, last + 1)]
        else:
            return ExtensionResponse(
                status=ExtensionStatus(code=1, message=f"unknown action {action}",
                                       uuid=self.uuid),
                response=[])
        return ExtensionResponse(status=ExtensionStatus(code=0, message="OK", uuid=self.uuid),
                                 response=rows)

    def shutdown(self):
        # reply first, then leave
        threading.Timer(0.1, leave, args=(0,)).start()


def connect(path, timeout):
    """An ExtensionManager client on PATH, waiting up to TIMEOUT seconds for the socket."""
    deadline = time.monotonic() + timeout
    while True:
        sock = TSocket.TSocket(unix_socket=path)
        sock.setTimeout(5000)
        transport = TTransport.TBufferedTransport(sock)
        try:
            transport.open()
            break
        except TTransport.TTransportException:
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.05)
    protocol = TBinaryProtocol.TBinaryProtocolAccelerated(transport)
    return transport, ExtensionManager.Client(protocol)


def watch(client, interval):
    while True:
        time.sleep(interval)
        try:
            status = client.ping()
        except Exception:
            leave(1)
        if status.code != 0:
            leave(1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--socket", default="/var/osquery/osquery.em")
    parser.add_argument("--timeout", type=float, default=1.0)
    parser.add_argument("--interval", type=float, default=1.0)
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()

    try:
        _, client = connect(args.socket, args.timeout)
    except TTransport.TTransportException as e:
        print(f"stock_thrift_extension: cannot connect to {args.socket}: {e}", file=sys.stderr)
        return 1
    info = InternalExtensionInfo(name="stock_thrift_extension", version="1.0.0",
                                 sdk_version="0.0.0", min_sdk_version="0.0.0")
    routes = [{"id": "column", "name": name, "type": kind, "op": "0"} for name, kind in COLUMNS]
    status = client.registerExtension(info, {"table": {TABLE: routes}})
    if status.code != 0:
        print(f"stock_thrift_extension: registration refused: {status.message}",
              file=sys.stderr)
        return 1

    handler = Handler()
    handler.uuid = status.uuid
    path = f"{args.socket}.{status.uuid}"
    if os.path.exists(path):
        os.unlink(path)
    SOCKET_FILE.append(path)
    server = TServer.TThreadedServer(
        Extension.Processor(handler),
        TSocket.TServerSocket(unix_socket=path),
        TTransport.TBufferedTransportFactory(),
        TBinaryProtocol.TBinaryProtocolAcceleratedFactory(),
        daemon=True)
    threading.Thread(target=watch, args=(client, args.interval), daemon=True).start()
    if args.verbose:
        print(f"stock_thrift_extension: uuid {status.uuid}, serving {path}", file=sys.stderr)
    server.serve()
    return 0


if __name__ == "__main__":
    sys.exit(main())
