# SPDX-License-Identifier: Apache-2.0
"""Unit tests of the osq package without a daemon.

The client's socket is replaced by a loopback transport that runs every flushed request through
the generated Thrift Processor in memory, with a canned handler playing osqd (or osquery, which
lacks queryTyped). Replies are handed back in small chunks, so the C decoder's refill path runs.
Faults (a dead peer, a timeout, garbage) are injected at the transport level.
"""

import io
import json
import math
import struct
import threading
import time

import pytest
from thrift.protocol.TBinaryProtocol import TBinaryProtocol
from thrift.Thrift import TApplicationException
from thrift.transport import TTransport
from thrift.transport.TTransport import TTransportException

import osq
import osq.__main__ as osq_main
from osq.client import decode_rows
from osq.gen.osq import OsqManager
from osq.gen.osq import ttypes as osq_types
from osq.gen.osquery import ExtensionManager
from osq.gen.osquery import ttypes as em_types

OK = em_types.ExtensionStatus(code=0, message="OK", uuid=0)

# sql -> (columns, types, rows); None is NULL, other values are rendered as osquery does
TABLES = {
    "SELECT * FROM t": (
        ["id", "name", "size", "ratio", "note"],
        ["BIGINT", "TEXT", "UNSIGNED_BIGINT", "DOUBLE", "TEXT"],
        [["1", "init", "18446744073709551615", "0.5", None],
         ["-2", "", None, "1.0", "x|y"],
         ["9223372036854775807", "z\u00e9\u4e2d", "0", None, ""]],
    ),
    "SELECT odd": (
        ["n", "d", "blob", "what"],
        ["INTEGER", "DOUBLE", "BLOB", "UNKNOWN"],
        [["abc", "inf", "\x00\x01", "7"], ["1.5", "-0.0", "", "x"], ["", "nan", "b", "8"]],
    ),
    "SELECT 1 WHERE 0": (["x"], ["INTEGER"], []),
}


def _render(columns, rows):
    return [{c: "" if v is None else v for c, v in zip(columns, row)} for row in rows]


class FakeOsqd:
    """Canned OsqManager handler; unknown SQL fails like SQLite's 'no such table'."""

    def __init__(self):
        self.active = 0
        self.overlaps = 0
        self.delay = 0.0

    def _enter(self):
        self.active += 1
        if self.active > 1:
            self.overlaps += 1
        if self.delay:
            time.sleep(self.delay)
        self.active -= 1

    @staticmethod
    def _failure(sql):
        return em_types.ExtensionStatus(code=1, message=f"no such table: {sql}", uuid=0)

    def queryTyped(self, sql):
        self._enter()
        if sql not in TABLES:
            return osq_types.QueryResult(status=self._failure(sql), columns=[], types=[],
                                         rows=[], null_cells=[])
        columns, types, rows = TABLES[sql]
        null_cells = [r * len(columns) + c for r, row in enumerate(rows)
                      for c, v in enumerate(row) if v is None]
        return osq_types.QueryResult(
            status=OK, columns=columns, types=types,
            rows=[["" if v is None else v for v in row] for row in rows], null_cells=null_cells)

    def query(self, sql):
        self._enter()
        if sql not in TABLES:
            return em_types.ExtensionResponse(status=self._failure(sql), response=[])
        columns, _, rows = TABLES[sql]
        return em_types.ExtensionResponse(status=OK, response=_render(columns, rows))

    def getQueryColumns(self, sql):
        if sql not in TABLES:
            return em_types.ExtensionResponse(status=self._failure(sql), response=[])
        columns, types, _ = TABLES[sql]
        return em_types.ExtensionResponse(
            status=OK, response=[{c: t} for c, t in zip(columns, types)])

    def ping(self):
        return em_types.ExtensionStatus(code=0, message="pong", uuid=0)

    def extensions(self):
        return {7: em_types.InternalExtensionInfo(name="ext", version="1.0",
                                                  sdk_version="0.0.0", min_sdk_version="0.0.0")}

    def options(self):
        return {"verbose": em_types.InternalOptionInfo(value="false", default_value="false",
                                                       type="bool")}


class LoopbackSocket(TTransport.TTransportBase):
    """Stands for TSocket: a flushed request is processed in memory, its reply read back."""

    CHUNK = 1000

    def __init__(self, server):
        self.server = server
        self.wbuf = b""
        self.rbuf = b""
        self.is_open = True
        self.dead = False  # the peer went away: reads see EOF
        self.timeout = False  # the peer never answers

    def isOpen(self):
        return self.is_open

    def open(self):
        pass

    def close(self):
        self.is_open = False

    def write(self, buf):
        if not self.is_open:
            raise TTransportException(TTransportException.NOT_OPEN, "Transport not open")
        self.wbuf += buf

    def flush(self):
        request, self.wbuf = self.wbuf, b""
        if self.dead or self.timeout:
            return
        name_length = struct.unpack(">i", request[4:8])[0]
        self.server.calls.append(request[8:8 + name_length].decode())
        out = TTransport.TMemoryBuffer()
        self.server.processor.process(TBinaryProtocol(TTransport.TMemoryBuffer(request)),
                                      TBinaryProtocol(out))
        self.rbuf += self.server.mangle(out.getvalue())

    def read(self, sz):
        if self.timeout:
            raise TTransportException(message="unexpected exception",
                                      inner=TimeoutError("timed out"))
        if self.dead or not self.rbuf:
            raise TTransportException(TTransportException.END_OF_FILE, "TSocket read 0 bytes")
        n = min(sz, self.CHUNK)
        chunk, self.rbuf = self.rbuf[:n], self.rbuf[n:]
        return chunk


class Server:
    """One fake daemon; every connect() gives a new LoopbackSocket."""

    def __init__(self, handler=None, typed=True):
        self.handler = handler or FakeOsqd()
        # osquery's generated processor does not know queryTyped: UNKNOWN_METHOD
        processor = OsqManager.Processor if typed else ExtensionManager.Processor
        self.processor = processor(self.handler)
        self.calls = []
        self.sockets = []
        self.refuse = False
        self.mangle = lambda reply: reply

    def connect(self):
        if self.refuse:
            raise osq.TransportError("cannot connect to /fake: Connection refused")
        sock = LoopbackSocket(self)
        self.sockets.append(sock)
        return sock


class FakeClient(osq.Client):
    def __init__(self, server, **kwargs):
        super().__init__("/fake/osqd.em", **kwargs)
        self.server = server

    def _new_socket(self):
        return self.server.connect()


@pytest.fixture
def server():
    return Server()


@pytest.fixture
def client(server):
    with FakeClient(server) as c:
        yield c


# decoding


def test_untyped_rows_keep_osquery_strings_and_column_order(client):
    rows = client.query("SELECT * FROM t")
    assert rows == _render(*[TABLES["SELECT * FROM t"][i] for i in (0, 2)])
    assert [list(r) for r in rows] == [["id", "name", "size", "ratio", "note"]] * 3
    assert rows[1]["size"] == ""  # NULL as osquery sends it
    assert client.server.calls == ["queryTyped"]


def test_typed_values(client):
    rows = client.query("SELECT * FROM t", typed=True)
    assert rows == [
        {"id": 1, "name": "init", "size": 18446744073709551615, "ratio": 0.5, "note": None},
        {"id": -2, "name": "", "size": None, "ratio": 1.0, "note": "x|y"},
        {"id": 9223372036854775807, "name": "z\u00e9\u4e2d", "size": 0, "ratio": None,
         "note": ""},
    ]
    assert type(rows[0]["id"]) is int and type(rows[1]["ratio"]) is float


def test_typed_conversion_is_lenient(client):
    result = client.query_rows("SELECT odd", typed=True)
    assert result.columns == ["n", "d", "blob", "what"]
    assert result.types == ["INTEGER", "DOUBLE", "BLOB", "UNKNOWN"]
    (n0, d0, b0, w0), (n1, d1, b1, w1), (n2, d2, b2, w2) = result.rows
    # an INTEGER column holding text or a real keeps what cannot be an int
    assert (n0, n1, n2) == ("abc", 1.5, "")
    assert d0 == math.inf and str(d1) == "-0.0" and math.isnan(d2)
    assert (b0, w0, w1) == ("\x00\x01", "7", "x")  # other types stay text


def test_value_type():
    from osq.client import value_type
    for name in ("INTEGER", "BIGINT", "UNSIGNED_BIGINT", "int", "TINYINT"):
        assert value_type(name) is int
    for name in ("DOUBLE", "REAL", "float", "Double Precision"):
        assert value_type(name) is float
    for name in ("TEXT", "BLOB", "UNKNOWN", "", None, "VARCHAR(10)"):
        assert value_type(name) is None


def test_query_rows_and_empty_result(client):
    result = client.query_rows("SELECT 1 WHERE 0", typed=True)
    assert result == osq.Result(["x"], ["INTEGER"], [])
    assert client.query("SELECT 1 WHERE 0") == []


def test_decode_rows_null_cells():
    rows = [["1", ""], ["", "2.5"]]
    assert decode_rows(["a", "b"], ["INTEGER", "DOUBLE"], rows, [1, 2], True) == [
        [1, None], [None, 2.5]]
    assert decode_rows(["a"], ["TEXT"], [["x"], [""]], [1], True) == [["x"], [None]]
    assert decode_rows(["a"], ["TEXT"], [["x"], [""]], [1], False) == [["x"], [""]]
    for bad in ([2], [-1]):
        with pytest.raises(osq.ProtocolError, match="outside"):
            decode_rows(["a"], ["TEXT"], [["x"], [""]], bad, True)
    with pytest.raises(osq.ProtocolError):
        decode_rows([], [], [[]], [0], True)


def test_query_error(client):
    with pytest.raises(osq.QueryError) as info:
        client.query("SELECT * FROM nope")
    assert info.value.code == 1
    assert info.value.message == "no such table: SELECT * FROM nope"
    assert str(info.value) == info.value.message
    assert isinstance(info.value, osq.Error)
    # the connection is still usable
    assert client.query("SELECT 1 WHERE 0") == []
    assert len(client.server.sockets) == 1


def test_sql_must_be_text(client):
    with pytest.raises(TypeError):
        client.query(b"SELECT 1")
    with pytest.raises(TypeError):
        client.columns(None)


def test_columns_ping_extensions_options(client):
    assert client.columns("SELECT * FROM t") == [
        ("id", "BIGINT"), ("name", "TEXT"), ("size", "UNSIGNED_BIGINT"), ("ratio", "DOUBLE"),
        ("note", "TEXT")]
    with pytest.raises(osq.QueryError, match="no such table"):
        client.columns("SELECT * FROM nope")
    assert client.ping() == osq.Status(0, "pong", 0)
    assert client.extensions() == {7: {"name": "ext", "version": "1.0", "sdk_version": "0.0.0",
                                       "min_sdk_version": "0.0.0"}}
    assert client.options() == {"verbose": {"value": "false", "default_value": "false",
                                            "type": "bool"}}


# osquery without queryTyped


def test_fallback_to_query_and_get_query_columns():
    server = Server(typed=False)
    client = FakeClient(server)
    rows = client.query("SELECT * FROM t")
    assert rows == _render(TABLES["SELECT * FROM t"][0], TABLES["SELECT * FROM t"][2])
    assert [list(r) for r in rows] == [["id", "name", "size", "ratio", "note"]] * 3
    typed = client.query("SELECT * FROM t", typed=True)
    # without null_cells, "" in a number column is NULL; in a text column it stays ""
    assert typed[1] == {"id": -2, "name": "", "size": None, "ratio": 1.0, "note": "x|y"}
    assert typed[2]["ratio"] is None and typed[2]["note"] == ""
    with pytest.raises(osq.QueryError, match="no such table"):
        client.query("SELECT * FROM nope")
    # queryTyped was tried once on this connection, then never again
    assert server.calls == ["queryTyped", "query", "getQueryColumns", "query",
                            "getQueryColumns", "query"]
    assert len(server.sockets) == 1


def test_other_thrift_exceptions_are_protocol_errors(server):
    class Broken(FakeOsqd):
        def queryTyped(self, sql):
            raise RuntimeError("boom")  # the processor answers INTERNAL_ERROR

    server = Server(Broken())
    client = FakeClient(server)
    with pytest.raises(osq.ProtocolError, match="Internal error"):
        client.query("SELECT * FROM t")
    assert client.ping().code == 0  # still in step


# connections


def test_reconnects_once_after_a_broken_connection(client, server):
    assert client.ping().message == "pong"
    server.sockets[0].dead = True  # e.g. the daemon restarted
    assert client.query("SELECT 1 WHERE 0") == []
    assert len(server.sockets) == 2
    assert not server.sockets[0].is_open


def test_no_retry_when_the_new_connection_fails(server):
    client = FakeClient(server)
    client.connect()
    server.sockets[0].dead = True
    server.refuse = True
    with pytest.raises(osq.TransportError, match="refused"):
        client.ping()
    server.refuse = False
    assert client.ping().code == 0


def test_fresh_connection_failure_is_not_retried(server):
    client = FakeClient(server)
    original = server.connect

    def connect_dead():
        sock = original()
        sock.dead = True
        return sock

    server.connect = connect_dead
    with pytest.raises(osq.TransportError, match="closed by the server"):
        client.ping()
    assert len(server.sockets) == 1


def test_timeout_drops_the_connection(client, server):
    client.ping()
    server.sockets[0].timeout = True
    with pytest.raises(osq.TransportError, match="no answer .* within 5.0 s"):
        client.query("SELECT * FROM t")
    assert len(server.sockets) == 1 and not server.sockets[0].is_open
    # the next call starts on a new connection
    assert client.query("SELECT 1 WHERE 0") == []
    assert len(server.sockets) == 2


def test_undecodable_reply_drops_the_connection(server):
    # a reply with a bad protocol version: the stream can no longer be trusted
    server.mangle = lambda reply: b"\x80\x07" + reply[2:]
    client = FakeClient(server)
    with pytest.raises(osq.ProtocolError, match="undecodable"):
        client.query("SELECT * FROM t")
    assert not server.sockets[0].is_open
    server.mangle = lambda reply: reply
    assert client.query("SELECT 1 WHERE 0") == []


def test_invalid_utf8_is_replaced(server):
    # python3-thrift's C decoder decodes with errors="replace" (osqd only sends valid UTF-8)
    server.mangle = lambda reply: reply.replace(b"name", b"n\xffme")
    assert FakeClient(server).query_rows("SELECT * FROM t").columns[1] == "n\ufffdme"


def test_real_socket_errors(tmp_path):
    client = osq.Client(tmp_path / "missing.em", timeout=1)
    with pytest.raises(osq.TransportError, match="No such file or directory"):
        client.ping()
    assert "missing.em" in repr(client)


def test_default_socket(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    mine = tmp_path / "osq" / "osquery.em"
    assert osq.client.user_socket() == str(mine)
    monkeypatch.setattr(osq.client.os, "geteuid", lambda: 1000)
    assert osq.Client().path == osq.DEFAULT_SOCKET == "/var/osquery/osquery.em"
    mine.parent.mkdir()
    mine.touch()
    assert osq.Client().path == str(mine) == osq.default_socket()
    monkeypatch.setattr(osq.client.os, "geteuid", lambda: 0)
    assert osq.Client().path == osq.DEFAULT_SOCKET


def test_close_and_context_manager(server):
    with FakeClient(server) as client:
        assert len(server.sockets) == 1
        client.ping()
    assert not server.sockets[0].is_open
    client.ping()  # reopens
    assert len(server.sockets) == 2
    client.close()
    client.close()


def test_threads_share_a_client_one_call_at_a_time(server):
    server.handler.delay = 0.001
    client = FakeClient(server)
    errors = []

    def worker():
        try:
            for _ in range(25):
                assert len(client.query("SELECT * FROM t", typed=True)) == 3
                assert client.ping().code == 0
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert server.handler.overlaps == 0
    assert len(server.sockets) == 1


# python3 -m osq


@pytest.fixture
def cli(monkeypatch, server):
    monkeypatch.setattr(osq, "Client", lambda path, timeout: FakeClient(server, timeout=timeout))

    def run(*argv):
        out, err = io.StringIO(), io.StringIO()
        monkeypatch.setattr("sys.stdout", out)
        monkeypatch.setattr("sys.stderr", err)
        status = osq_main.main(list(argv))
        return status, out.getvalue(), err.getvalue()

    return run


def test_cli_text(cli):
    status, out, err = cli("SELECT * FROM t")
    assert (status, err) == (0, "")
    assert out.splitlines() == ["id|name|size|ratio|note", "1|init|18446744073709551615|0.5|",
                                "-2|||1.0|x|y", "9223372036854775807|z\u00e9\u4e2d|0||"]
    status, out, _ = cli("--typed", "SELECT * FROM t")
    assert out.splitlines()[1] == "1|init|18446744073709551615|0.5|NULL"
    assert cli("SELECT 1 WHERE 0")[1] == ""


def test_cli_json(cli):
    status, out, err = cli("--json", "SELECT * FROM t")
    assert (status, err) == (0, "")
    assert json.loads(out)[0] == {"id": 1, "name": "init", "size": 18446744073709551615,
                                  "ratio": 0.5, "note": None}
    assert out.splitlines()[1].startswith('  {"id":1,"name":"init"')
    assert json.loads(cli("--json", "SELECT 1 WHERE 0")[1]) == []
    # JSON has no inf/nan: they become null
    assert json.loads(cli("--json", "SELECT odd")[1])[0]["d"] is None


def test_cli_errors(cli, server):
    status, out, err = cli("SELECT * FROM nope")
    assert (status, out) == (1, "")
    assert err == "Error: no such table: SELECT * FROM nope\n"
    server.refuse = True
    status, _, err = cli("SELECT 1")
    assert status == 1 and err.startswith("Error: cannot connect to")


# generation


def test_gen_thrift_output(tmp_path):
    import conftest  # noqa: F401 - the generator is loaded the same way setup.py loads it
    import importlib.util

    spec = importlib.util.spec_from_file_location("gen_thrift",
                                                  conftest.PACKAGE_DIR / "gen_thrift.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    idl = [conftest.IDL_DIR / "osquery.thrift", conftest.IDL_DIR / "osq.thrift"]
    gen.generate(idl, tmp_path)
    gen.generate(idl, tmp_path)  # again over the old tree
    files = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    assert "osq/__init__.py" not in files  # never hides the real package
    assert "osq/gen/osq/OsqManager.py" in files and "osq/gen/osquery/ttypes.py" in files
    assert not [f for f in files if f.endswith("-remote")]
    assert [p.name for p in tmp_path.iterdir()] == ["osq"]
    with pytest.raises(gen.GenerateError, match="not found"):
        gen.generate(idl, tmp_path / "x", thrift="/nonexistent/thrift")
    with pytest.raises(gen.GenerateError, match="not found"):
        gen.generate([tmp_path / "missing.thrift"], tmp_path / "y")


def test_protocol_is_accelerated(client):
    from thrift.protocol.TBinaryProtocol import TBinaryProtocolAccelerated
    protocol = client._client._iprot
    assert isinstance(protocol, TBinaryProtocolAccelerated)
    assert protocol._fast_decode is not None
    assert isinstance(TApplicationException, type)


# a real Unix socket served by the generated Processor in threads


class SocketServer:
    """FakeOsqd on a Unix socket: a thread per connection, like osqd; stop() drops them all."""

    def __init__(self, path, handler=None):
        import socket as socket_module

        self.path = str(path)
        self.handler = handler or FakeOsqd()
        self.listener = socket_module.socket(socket_module.AF_UNIX, socket_module.SOCK_STREAM)
        self.listener.bind(self.path)
        self.listener.listen(8)
        self.connections = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        from thrift.transport import TSocket

        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.connections.append(conn)
            sock = TSocket.TSocket()
            sock.setHandle(conn)
            threading.Thread(target=self._serve, args=(sock,), daemon=True).start()

    def _serve(self, sock):
        from thrift.protocol.TBinaryProtocol import TBinaryProtocolAccelerated

        transport = TTransport.TBufferedTransport(sock)
        protocol = TBinaryProtocolAccelerated(transport)
        processor = OsqManager.Processor(self.handler)
        try:
            while True:
                processor.process(protocol, protocol)
        except (TTransportException, OSError):
            pass

    def stop(self):
        import os
        import socket as socket_module

        self.listener.close()
        for conn in self.connections:
            try:
                conn.shutdown(socket_module.SHUT_RDWR)
            except OSError:
                pass
            conn.close()
        os.unlink(self.path)


def test_real_socket_query_restart_and_timeout(tmp_path):
    path = tmp_path / "osqd.em"
    server = SocketServer(path)
    client = osq.Client(path, timeout=0.5)
    try:
        assert client.query("SELECT * FROM t", typed=True)[0]["size"] == 18446744073709551615
        assert client.ping() == osq.Status(0, "pong", 0)
        # the daemon restarts: the kept connection is dead, the client reconnects by itself
        server.stop()
        with pytest.raises(osq.TransportError, match="No such file|refused"):
            client.ping()
        server = SocketServer(path)
        assert client.query("SELECT 1 WHERE 0") == []
        server.stop()
        server = SocketServer(path)
        assert client.columns("SELECT * FROM t")[0] == ("id", "BIGINT")
        # a call that takes longer than the timeout
        server.handler.delay = 1.0
        start = time.monotonic()
        with pytest.raises(osq.TransportError, match="no answer .* within 0.5 s"):
            client.query("SELECT * FROM t")
        assert time.monotonic() - start < 0.9  # not retried
        server.handler.delay = 0
        time.sleep(1.0)  # the server thread finishes the slow call
        assert client.ping().code == 0
    finally:
        client.close()
        server.stop()
