# SPDX-License-Identifier: Apache-2.0
"""osqd's wire protocol against a real daemon: osquery's byte-exact frames on a raw socket,
Thrift's stock generated Python client for every method, sequence ids, old unversioned headers,
pipelined and trickled requests, and value rendering."""

import os
import socket
import stat
import struct
import time

from conftest import import_thrift_gen
from daemon_wire import (FOO_CALL, FOO_REPLY, PING_CALL, PING_REPLY, QUERY_CALL, QUERY_REPLY,
                         RawClient, frame, query_frame, recv_exact)


def test_wire_examples_byte_exact(osqd):
    with osqd.connect() as sock:
        for call, reply in [(PING_CALL, PING_REPLY), (QUERY_CALL, QUERY_REPLY),
                            (FOO_CALL, FOO_REPLY), (PING_CALL, PING_REPLY)]:
            sock.sendall(call)
            assert recv_exact(sock, len(reply)) == reply
        # nothing more than the replies
        sock.settimeout(0.2)
        try:
            extra = sock.recv(1)
        except socket.timeout:
            extra = b""
        assert extra == b""


def test_seqid_and_name_echoed(osqd):
    with osqd.connect() as sock:
        sock.sendall(frame("ping", seqid=0x12345678))
        reply = recv_exact(sock, len(PING_REPLY))
        assert reply == PING_REPLY[:12] + struct.pack(">i", 0x12345678) + PING_REPLY[16:]


def test_unversioned_header_read_strict_written(osqd):
    old_ping = struct.pack(">i", 4) + b"ping" + b"\x01" + struct.pack(">i", 9) + b"\x00"
    with osqd.connect() as sock:
        sock.sendall(old_ping)
        reply = recv_exact(sock, len(PING_REPLY))
        assert reply == PING_REPLY[:12] + struct.pack(">i", 9) + PING_REPLY[16:]


def test_pipelined_and_trickled_requests(osqd):
    with osqd.connect() as sock:
        sock.sendall(PING_CALL + QUERY_CALL + PING_CALL)
        assert recv_exact(sock, len(PING_REPLY) + len(QUERY_REPLY) + len(PING_REPLY)) == (
            PING_REPLY + QUERY_REPLY + PING_REPLY)
        for byte in QUERY_CALL:
            sock.sendall(bytes([byte]))
            time.sleep(0.002)
        assert recv_exact(sock, len(QUERY_REPLY)) == QUERY_REPLY


def test_stock_thrift_client(osqd):
    import_thrift_gen()
    client = osqd.client()
    try:
        status = client.ping()
        assert (status.code, status.message, status.uuid) == (0, "pong", 0)

        response = client.query("SELECT 1 AS x, 'a' AS y")
        assert (response.status.code, response.status.message) == (0, "OK")
        assert response.response == [{"x": "1", "y": "a"}]

        response = client.query("SELECT pid, name FROM processes WHERE pid = %d" % os.getpid())
        assert response.status.code == 0
        assert response.response == [{"pid": str(os.getpid()), "name": _comm(os.getpid())}]

        columns = client.getQueryColumns("SELECT pid, name, cmdline FROM processes")
        assert columns.status.code == 0
        assert columns.response == [{"pid": "BIGINT"}, {"name": "TEXT"}, {"cmdline": "TEXT"}]

        typed = client.queryTyped("SELECT 1 AS a, NULL AS b, 2.5 AS c, 'x' AS d")
        assert typed.status.code == 0
        assert typed.columns == ["a", "b", "c", "d"]
        assert typed.types == ["BIGINT", "TEXT", "DOUBLE", "TEXT"]
        assert typed.rows == [["1", "", "2.5", "x"]]
        assert typed.null_cells == [1]

        assert client.extensions() == {}

        options = client.options()
        assert options["extensions_socket"].value == osqd.socket_path
        assert options["extensions_socket"].type == "string"
        assert options["verbose"].value == "true"
        assert options["verbose"].default_value == "false"
        assert options["verbose"].type == "bool"
        assert options["query_timeout"].type == "uint32"
        assert options["query_max_rows"].type == "uint64"
        assert options["extensions_timeout"].type == "string"
        for name in ["pidfile", "database_path", "flagfile", "extensions_interval",
                     "extensions_socket_group", "extensions_socket_mode", "access_policy",
                     "rpc_max_connections", "query_max_bytes", "rpc_max_message",
                     "rpc_idle_timeout"]:
            assert name in options

        # an empty registration is a valid one (an extension without plugins)
        status = client.registerExtension(None, {})
        assert (status.code, status.message) == (0, "OK")
        assert client.deregisterExtension(status.uuid).code == 0
        assert client.deregisterExtension(status.uuid).code == 1
        assert client.call("table", "t", {"action": "columns"}).status.code == 1
    finally:
        client.transport.close()


def _comm(pid):
    with open(f"/proc/{pid}/comm") as comm:
        return comm.read().rstrip("\n")


def test_values_and_statements(osqd):
    client = osqd.client()
    try:
        response = client.query(
            "SELECT 1.0 AS d, -3 AS i, NULL AS n, x'ff41' AS b, 'caf\u00e9' AS t")
        assert response.response == [{"d": "1.0", "i": "-3", "n": "", "b": "\ufffdA",
                                      "t": "caf\u00e9"}]
        # every statement runs; rows of all of them come back, as osquery does
        response = client.query("SELECT 1 AS a; SELECT 2 AS b")
        assert response.status.code == 0
        assert response.response == [{"a": "1"}, {"b": "2"}]
        response = client.query("   ")
        assert (response.status.code, response.response) == (0, [])
        response = client.query("selec 1")
        assert response.status.code == 1
        assert "syntax error" in response.status.message
        assert response.response == []
        for sql in ["CREATE TABLE main.t(x)", "ATTACH DATABASE '/tmp/x.db' AS x",
                    "SELECT load_extension('/tmp/x.so')", "PRAGMA writable_schema = 1"]:
            response = client.query(sql)
            assert response.status.code == 1, sql
            assert "not authorized" in response.status.message, response.status.message
        assert client.getQueryColumns("SELECT * FROM nowhere").status.code == 1
    finally:
        client.transport.close()


def test_raw_client_decodes(osqd):
    with osqd.connect() as sock:
        raw = RawClient(sock)
        response = raw.query("SELECT 40 + 2 AS answer", seqid=3)
        assert response.response == [{"answer": "42"}]


def test_socket_mode_default_and_flag(osqd_factory):
    daemon = osqd_factory()
    assert stat.S_IMODE(os.stat(daemon.socket_path).st_mode) == 0o660
    private = osqd_factory("--extensions_socket_mode=0600")
    assert stat.S_IMODE(os.stat(private.socket_path).st_mode) == 0o600


def test_oneway_gets_no_reply(osqd):
    with osqd.connect() as sock:
        sock.sendall(frame("ping", mtype=4) + PING_CALL)
        assert recv_exact(sock, len(PING_REPLY)) == PING_REPLY


def test_query_typed_last_statement(osqd):
    client = osqd.client()
    try:
        typed = client.queryTyped("SELECT 'skip' AS s; SELECT pid FROM processes WHERE pid = 1")
        assert typed.columns == ["pid"]
        assert typed.types == ["BIGINT"]
        assert typed.rows == [["1"]]
        typed = client.queryTyped("selec")
        assert typed.status.code == 1
        assert (typed.columns, typed.rows, typed.null_cells) == ([], [], [])
    finally:
        client.transport.close()


def test_query_frame_helper_matches_reference():
    assert query_frame("select 1 as x") == QUERY_CALL
