# SPDX-License-Identifier: Apache-2.0
"""The osq Python package (clients/python) against a real osqd: query (typed and untyped,
NULLs, large results), columns, ping, extensions, options, errors, reconnecting after a daemon
restart, timeouts, threads, the query/getQueryColumns fallback, `python3 -m osq`, and an
osquery-python-style call sequence on the generated ExtensionManager client.

The package is used from the source tree with the code meson generated (PYTHONPATH and
OSQ_THRIFT_PY come from tests/meson.build); test_python_client_pip.py installs it with pip."""

import json
import os
import subprocess
import sys
import threading
import time

import pytest

from conftest import BUILD_ROOT, SOURCE_ROOT

PACKAGE_DIR = SOURCE_ROOT / "clients" / "python"
GEN_PY = os.environ.get("OSQ_THRIFT_PY") or str(
    BUILD_ROOT / "clients" / "python" / "gen-py")
os.environ.setdefault("OSQ_THRIFT_PY", GEN_PY)
if str(PACKAGE_DIR) not in sys.path:
    sys.path.insert(0, str(PACKAGE_DIR))

import osq  # noqa: E402 - the search path is set above

assert hasattr(osq, "Client"), f"'osq' resolved to {osq.__path__}, not clients/python"

TYPES_SQL = "SELECT 1 AS i, 2.5 AS d, 'x' AS t, NULL AS n, 9223372036854775807 AS big, -1.0 AS neg"


def _comm(pid):
    with open(f"/proc/{pid}/comm") as f:
        return f.read().rstrip("\n")


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = str(PACKAGE_DIR)
    env["OSQ_THRIFT_PY"] = GEN_PY
    return env


@pytest.fixture
def client(osqd):
    with osq.Client(osqd.socket_path, timeout=10) as c:
        yield c


def test_query_untyped_and_typed(client):
    rows = client.query(TYPES_SQL)
    assert rows == [{"i": "1", "d": "2.5", "t": "x", "n": "", "big": "9223372036854775807",
                     "neg": "-1.0"}]
    assert list(rows[0]) == ["i", "d", "t", "n", "big", "neg"]
    typed = client.query(TYPES_SQL, typed=True)
    assert typed == [{"i": 1, "d": 2.5, "t": "x", "n": None, "big": 9223372036854775807,
                      "neg": -1.0}]
    assert [type(v) for v in typed[0].values()] == [int, float, str, type(None), int, float]
    result = client.query_rows(TYPES_SQL)
    assert result.columns == ["i", "d", "t", "n", "big", "neg"]
    assert result.types == ["BIGINT", "DOUBLE", "TEXT", "TEXT", "BIGINT", "DOUBLE"]


def test_query_a_table(client):
    pid = os.getpid()
    sql = f"SELECT pid, name, parent, cmdline FROM processes WHERE pid = {pid}"
    rows = client.query(sql, typed=True)
    assert rows == [{"pid": pid, "name": _comm(pid), "parent": os.getppid(),
                     "cmdline": rows[0]["cmdline"]}]
    assert "pytest" in rows[0]["cmdline"]
    assert client.query(sql) == [{"pid": str(pid), "name": _comm(pid),
                                  "parent": str(os.getppid()), "cmdline": rows[0]["cmdline"]}]
    many = client.query("SELECT pid, name FROM processes", typed=True)
    assert {"pid": pid, "name": _comm(pid)} in many and len(many) > 2


def test_nulls_text_and_empty_results(client):
    # (an expression column's type comes from its first non-NULL value)
    sql = ("SELECT 1 AS a, 5 AS b, 'p' AS c UNION ALL SELECT NULL, NULL, '' "
           "UNION ALL SELECT 3, 4, NULL")
    assert client.query(sql, typed=True) == [
        {"a": 1, "b": 5, "c": "p"}, {"a": None, "b": None, "c": ""},
        {"a": 3, "b": 4, "c": None}]
    assert client.query(sql) == [{"a": "1", "b": "5", "c": "p"}, {"a": "", "b": "", "c": ""},
                                 {"a": "3", "b": "4", "c": ""}]
    assert client.query("SELECT 'z\u00e9\u4e2d \U0001f600' AS u") == [
        {"u": "z\u00e9\u4e2d \U0001f600"}]
    assert client.query("SELECT pid FROM processes WHERE pid = -5") == []
    assert client.query_rows("SELECT pid FROM processes WHERE pid = -5").columns == ["pid"]


def test_large_result(client):
    sql = ("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 10000) "
           "SELECT x AS a, x * 0.5 AS b, 'row ' || x AS c FROM c")
    rows = client.query(sql, typed=True)
    assert len(rows) == 10000
    assert rows[0] == {"a": 1, "b": 0.5, "c": "row 1"}
    assert rows[-1] == {"a": 10000, "b": 5000.0, "c": "row 10000"}
    assert client.query(sql)[-1] == {"a": "10000", "b": "5000.0", "c": "row 10000"}


def test_columns_ping_extensions_options(client, osqd):
    assert client.columns("SELECT pid, name, cmdline FROM processes") == [
        ("pid", "BIGINT"), ("name", "TEXT"), ("cmdline", "TEXT")]
    assert client.ping() == osq.Status(0, "pong", 0)
    assert client.extensions() == {}
    options = client.options()
    assert options["extensions_socket"]["value"] == osqd.socket_path
    assert options["verbose"] == {"value": "true", "default_value": "false", "type": "bool"}
    for info in options.values():
        assert set(info) == {"value", "default_value", "type"}


def test_errors(client):
    with pytest.raises(osq.QueryError) as info:
        client.query("SELEC 1")
    assert info.value.code == 1
    assert "syntax error" in info.value.message
    with pytest.raises(osq.QueryError, match="no such table: nope"):
        client.query("SELECT * FROM nope", typed=True)
    with pytest.raises(osq.QueryError, match="no such table"):
        client.columns("SELECT * FROM nope")
    # SQL that writes is refused by the daemon, not by the client
    with pytest.raises(osq.QueryError):
        client.query("CREATE TABLE t(x)")
    # the same connection keeps working
    assert client.query("SELECT 1 AS x") == [{"x": "1"}]


def test_fallback_path_matches_query_typed(client):
    """The query + getQueryColumns path (for osquery, which lacks queryTyped), forced here."""
    pid = os.getpid()
    sql = f"SELECT pid, name, parent, start_time FROM processes WHERE pid IN (1, {pid})"
    typed = client.query(sql, typed=True)
    untyped = client.query(sql)
    client._has_query_typed = False
    assert client.query(sql, typed=True) == typed
    assert client.query(sql) == untyped
    with pytest.raises(osq.QueryError, match="syntax error"):
        client.query("SELEC 1")


def test_reconnects_after_a_daemon_restart(osqd):
    client = osq.Client(osqd.socket_path, timeout=10)
    assert client.ping().code == 0
    osqd.stop()
    with pytest.raises(osq.TransportError, match="cannot connect"):
        client.query("SELECT 1")
    osqd.start()
    assert client.query("SELECT 1 AS x") == [{"x": "1"}]
    # a restart under a kept connection: the next call reconnects by itself
    osqd.stop()
    osqd.start()
    assert client.query("SELECT 2 AS x", typed=True) == [{"x": 2}]
    client.close()


def test_timeout_then_next_call_works(osqd):
    client = osq.Client(osqd.socket_path, timeout=0.5)
    slow = ("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 200000000) "
            "SELECT count(*) FROM c")
    start = time.monotonic()
    with pytest.raises(osq.TransportError, match="no answer .* within 0.5 s"):
        client.query(slow)
    assert time.monotonic() - start < 2.0
    # a new connection; the daemon cancelled the abandoned query
    start = time.monotonic()
    assert client.query("SELECT 1 AS x") == [{"x": "1"}]
    assert time.monotonic() - start < 0.5
    client.close()


def test_threads(osqd):
    shared = osq.Client(osqd.socket_path, timeout=30)
    errors = []

    def work(client, n):
        try:
            for i in range(n):
                rows = client.query(f"SELECT {i} AS i, 'w' || {i} AS s", typed=True)
                assert rows == [{"i": i, "s": f"w{i}"}]
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(shared, 50)) for _ in range(8)]
    own = [osq.Client(osqd.socket_path, timeout=30) for _ in range(4)]
    threads += [threading.Thread(target=work, args=(c, 50)) for c in own]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    for c in own + [shared]:
        c.close()


def _run_module(*args):
    return subprocess.run([sys.executable, "-m", "osq", *args], capture_output=True, text=True,
                          env=_env(), timeout=60)


def test_python_m_osq(osqd):
    sock = ["--socket", osqd.socket_path]
    proc = _run_module(*sock, TYPES_SQL)
    assert (proc.returncode, proc.stderr) == (0, "")
    assert proc.stdout == "i|d|t|n|big|neg\n1|2.5|x||9223372036854775807|-1.0\n"
    proc = _run_module(*sock, "--typed", TYPES_SQL)
    assert proc.stdout.splitlines()[1] == "1|2.5|x|NULL|9223372036854775807|-1.0"
    proc = _run_module(*sock, "--json", f"{TYPES_SQL} UNION ALL SELECT 2, 0.5, 'y', 3, 0, 0.0")
    assert proc.returncode == 0
    assert json.loads(proc.stdout) == [
        {"i": 1, "d": 2.5, "t": "x", "n": None, "big": 9223372036854775807, "neg": -1.0},
        {"i": 2, "d": 0.5, "t": "y", "n": 3, "big": 0, "neg": 0.0}]  # n: its first non-NULL
    proc = _run_module(*sock, "SELEC 1")
    assert (proc.returncode, proc.stdout) == (1, "")
    assert proc.stderr == 'Error: near "SELEC": syntax error\n'
    proc = _run_module("--socket", osqd.socket_path + ".missing", "SELECT 1")
    assert proc.returncode == 1
    assert proc.stderr.startswith("Error: cannot connect to ") and "No such file" in proc.stderr


def test_osquery_python_style_calls(osqd):
    """What osquery-python's ExtensionClient does: the generated ExtensionManager client on
    TSocket(unix_socket) + TBufferedTransport + TBinaryProtocol (not accelerated)."""
    from osq.gen.osquery import ExtensionManager
    from thrift.protocol import TBinaryProtocol
    from thrift.transport import TSocket, TTransport

    sock = TSocket.TSocket(unix_socket=osqd.socket_path)
    sock.setTimeout(10000)
    transport = TTransport.TBufferedTransport(sock)
    manager = ExtensionManager.Client(TBinaryProtocol.TBinaryProtocol(transport))
    transport.open()
    try:
        response = manager.query("SELECT 1 AS x, 'a' AS y, NULL AS z")
        assert (response.status.code, response.status.message) == (0, "OK")
        assert response.response == [{"x": "1", "y": "a", "z": ""}]
        columns = manager.getQueryColumns("SELECT pid, name FROM processes")
        assert columns.status.code == 0
        assert columns.response == [{"pid": "BIGINT"}, {"name": "TEXT"}]
        failed = manager.query("SELECT * FROM nope")
        assert failed.status.code == 1 and "no such table" in failed.status.message
        assert failed.response == []
    finally:
        transport.close()
