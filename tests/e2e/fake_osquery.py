# SPDX-License-Identifier: Apache-2.0
"""A stand-in for an osquery daemon, for the clients' fallback tests.

It serves osquery's ExtensionManager (and nothing of osq's: queryTyped is unknown to it, as to a
real osqueryd) with Thrift's stock Python library and bindings generated from idl/osquery.thrift,
on a Unix socket, over a throw-away SQLite database. Values are rendered as osquery renders them:
decimal integers, doubles with a decimal point, NULL as "".

Usage: fake_osquery.py SOCKET GENERATED_PY_DIR
"""

import sqlite3
import sys
import threading

sys.path.insert(0, sys.argv[2])

from osq.gen.osquery import ExtensionManager  # noqa: E402
from osq.gen.osquery.ttypes import (  # noqa: E402
    ExtensionResponse, ExtensionStatus, InternalExtensionInfo)
from thrift.protocol import TBinaryProtocol  # noqa: E402
from thrift.server import TServer  # noqa: E402
from thrift.transport import TSocket, TTransport  # noqa: E402

SETUP = """
CREATE TABLE fruits (id BIGINT, name TEXT, price DOUBLE, note TEXT);
INSERT INTO fruits VALUES (1, 'apple', 0.5, 'crisp'), (2, 'pear', NULL, ''), (3, NULL, 2.0, NULL);
CREATE TABLE osquery_registry (registry TEXT, name TEXT, active INTEGER);
INSERT INTO osquery_registry VALUES ('table', 'fruits', 1), ('table', 'osquery_registry', 1),
    ('config', 'filesystem', 1);
"""

TYPES = {"BIGINT": "BIGINT", "INTEGER": "INTEGER", "DOUBLE": "DOUBLE", "TEXT": "TEXT"}


def render(value):
    if value is None:
        return ""
    if isinstance(value, float):
        text = repr(value)
        return text if "." in text or "e" in text else text + ".0"
    return str(value)


class Handler:
    def __init__(self):
        self.lock = threading.Lock()
        self.db = sqlite3.connect(":memory:", check_same_thread=False)
        self.db.executescript(SETUP)

    def ping(self):
        return ExtensionStatus(code=0, message="pong", uuid=0)

    def shutdown(self):
        pass

    def extensions(self):
        return {7: InternalExtensionInfo(name="fake_ext", version="1.0", sdk_version="0.0.0",
                                         min_sdk_version="0.0.0")}

    def options(self):
        return {}

    def _columns(self, cursor, first_row):
        columns = []
        for index, item in enumerate(cursor.description or []):
            value = first_row[index] if first_row is not None else None
            kind = "TEXT"
            if isinstance(value, int):
                kind = "BIGINT"
            elif isinstance(value, float):
                kind = "DOUBLE"
            columns.append((item[0], kind))
        return columns

    def query(self, sql):
        with self.lock:
            try:
                cursor = self.db.execute(sql)
                names = [d[0] for d in cursor.description or []]
                rows = [{n: render(v) for n, v in zip(names, row)} for row in cursor]
            except sqlite3.Error as e:
                return ExtensionResponse(status=ExtensionStatus(code=1, message=str(e), uuid=0),
                                         response=[])
        return ExtensionResponse(status=ExtensionStatus(code=0, message="OK", uuid=0),
                                 response=rows)

    def getQueryColumns(self, sql):
        with self.lock:
            try:
                cursor = self.db.execute(sql)
                columns = self._columns(cursor, cursor.fetchone())
            except sqlite3.Error as e:
                return ExtensionResponse(status=ExtensionStatus(code=1, message=str(e), uuid=0),
                                         response=[])
        return ExtensionResponse(status=ExtensionStatus(code=0, message="OK", uuid=0),
                                 response=[{name: kind} for name, kind in columns])


def main():
    processor = ExtensionManager.Processor(Handler())
    transport = TSocket.TServerSocket(unix_socket=sys.argv[1])
    server = TServer.TThreadedServer(processor, transport, TTransport.TBufferedTransportFactory(),
                                     TBinaryProtocol.TBinaryProtocolFactory(), daemon=True)
    server.serve()


if __name__ == "__main__":
    main()
