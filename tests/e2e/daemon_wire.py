# SPDX-License-Identifier: Apache-2.0
"""Raw Thrift frames for the daemon tests: byte-exact messages from the project's reference
(osquery-wire-examples.txt), a small frame builder, and a reader that hands a raw socket to
Thrift's generated client so replies of hand-made calls can be decoded."""

import socket
import struct
import time

from conftest import import_thrift_gen

PING_CALL = bytes.fromhex("800100010000000470696e670000000000")
PING_REPLY = bytes.fromhex(
    "800100020000000470696e67000000000c0000080001000000000b000200000004706f6e670a0003"
    "00000000000000000000")
QUERY_CALL = bytes.fromhex(
    "80010001000000057175657279000000000b00010000000d73656c6563742031206173207800")
QUERY_REPLY = bytes.fromhex(
    "80010002000000057175657279000000000c00000c0001080001000000000b0002000000024f4b0a"
    "00030000000000000000000f00020d000000010b0b00000001000000017800000001310000")
FOO_CALL = bytes.fromhex("8001000100000003666f6f0000000000")
FOO_REPLY = bytes.fromhex(
    "8001000300000003666f6f000000000b000100000014556e6b6e6f776e2066756e6374696f6e20666f"
    "6f0800020000000100")
SHUTDOWN_CALL = bytes.fromhex("800100010000000873687574646f776e0000000000")
SHUTDOWN_REPLY = bytes.fromhex("800100020000000873687574646f776e0000000000")

CALL, REPLY, EXCEPTION, ONEWAY = 1, 2, 3, 4

INFINITE_SQL = ("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
                "SELECT count(*) AS n FROM c")


def string_field(field_id, value):
    data = value if isinstance(value, bytes) else value.encode()
    return b"\x0b" + struct.pack(">hi", field_id, len(data)) + data


def frame(name, seqid=0, body=b"", mtype=CALL):
    """A strict-header message whose args struct holds @body (fields) then STOP."""
    data = name.encode()
    return (struct.pack(">Ii", 0x80010000 | mtype, len(data)) + data + struct.pack(">i", seqid)
            + body + b"\x00")


def query_frame(sql, seqid=0, method="query"):
    return frame(method, seqid, string_field(1, sql))


def recv_exact(sock, size, timeout=10.0):
    sock.settimeout(timeout)
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            break
        data += chunk
    return data


def closed_by_peer(sock, timeout=10.0):
    """Reads until EOF; True if the daemon closed the connection within @timeout."""
    sock.settimeout(timeout)
    try:
        while sock.recv(65536):
            pass
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False
    return True


class RawClient:
    """A raw socket whose replies are read with Thrift's generated OsqManager client."""

    def __init__(self, sock):
        import_thrift_gen()
        from thrift.protocol import TBinaryProtocol
        from thrift.transport import TSocket, TTransport
        from osq.gen.osq import OsqManager

        self.sock = sock
        transport = TSocket.TSocket()
        transport.handle = sock
        self.protocol = TBinaryProtocol.TBinaryProtocol(TTransport.TBufferedTransport(transport))
        self.client = OsqManager.Client(self.protocol)

    def query(self, sql, seqid=0):
        self.sock.sendall(query_frame(sql, seqid))
        return self.client.recv_query()


def timed_select1(sock):
    """One `SELECT 1` on a raw socket; returns (reply bytes, seconds)."""
    start = time.perf_counter()
    sock.sendall(query_frame("SELECT 1"))
    reply = recv_exact(sock, SELECT1_REPLY_LEN)
    return reply, time.perf_counter() - start


# status {0, "OK", 0}, one row {"1": "1"}
SELECT1_REPLY = bytes.fromhex(
    "80010002000000057175657279000000000c00000c0001080001000000000b0002000000024f4b0a"
    "00030000000000000000000f00020d000000010b0b00000001000000013100000001310000")
SELECT1_REPLY_LEN = len(SELECT1_REPLY)
