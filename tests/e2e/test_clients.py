# SPDX-License-Identifier: Apache-2.0
"""The clients against a real osqd: the C example client (libosq) and osqi --connect give the
same answers as osqi in-process (rows, typed values, NULLs, errors); timeouts; a daemon that
dies mid-session gives a clear error and the next call reconnects; and an osquery daemon (a
stand-in built on Thrift's stock Python library) is served through osquery's query +
getQueryColumns."""

import json
import socket
import struct
import time

import pytest

from client_helpers import OSQ_QUERY, LineSession, fake_osquery_daemon, kill, run_osq_query
from conftest import run_osqi
from daemon_wire import SELECT1_REPLY, RawClient, frame, string_field, timed_select1

# `osqd` (conftest.py) is a real daemon on a temporary socket, one per test


@pytest.fixture(scope="module")
def osquery():
    daemon = fake_osquery_daemon().start()
    yield daemon
    daemon.stop()


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def json_three_ways(osqi_path, socket_path, sql):
    """The JSON rows of sql from the C client, osqi --connect and osqi in-process."""
    client = run_osq_query(socket_path, sql, "--json")
    assert client.returncode == 0, client.stderr
    remote = run_osqi(osqi_path, "--connect", socket_path, "--json", sql)
    assert remote.returncode == 0, remote.stderr
    local = run_osqi(osqi_path, "--json", sql)
    assert local.returncode == 0, local.stderr
    return json.loads(client.stdout), json.loads(remote.stdout), json.loads(local.stdout)


def test_process_one_same_answers(osqi_path, osqd):
    sql = "SELECT pid, name FROM processes WHERE pid = 1"
    client, remote, local = json_three_ways(osqi_path, osqd.socket_path, sql)
    assert client == remote == local
    assert len(local) == 1 and local[0]["pid"] == 1
    # the list output is the same text too
    text = run_osq_query(osqd.socket_path, sql)
    assert text.stdout == run_osqi(osqi_path, "--list", sql).stdout


def test_typed_values_and_nulls(osqi_path, osqd):
    sql = ("SELECT 1 AS i, -9223372036854775808 AS small, 2.5 AS d, 1.0 AS whole, 'x' AS t, "
           "'' AS empty, NULL AS n, 'a\"b\\\\c' AS quoted")
    client, remote, local = json_three_ways(osqi_path, osqd.socket_path, sql)
    assert client == remote == local
    row = local[0]
    assert row["i"] == 1 and isinstance(row["i"], int)
    assert row["small"] == -9223372036854775808
    assert row["d"] == 2.5 and row["whole"] == 1.0
    assert row["t"] == "x" and row["empty"] == "" and row["n"] is None


def test_many_rows_same_answers(osqi_path, osqd):
    sql = ("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 3000) "
           "SELECT x, x * 2 AS y, 'row ' || x AS label, CASE WHEN x % 3 = 0 THEN NULL "
           "ELSE x END AS maybe FROM c")
    client, remote, local = json_three_ways(osqi_path, osqd.socket_path, sql)
    assert client == remote == local
    assert len(local) == 3000 and local[2]["maybe"] is None


def test_paged_rows_same_answers(osqi_path, osqd):
    # 25,000 rows: the C client pages through queryStart/queryNext (several pages)
    sql = ("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 25000) "
           "SELECT x, 'v' || x AS label, CASE WHEN x % 7 = 0 THEN NULL ELSE x * 1.5 END AS d "
           "FROM c")
    client = run_osq_query(osqd.socket_path, sql, "--json")
    assert client.returncode == 0, client.stderr
    local = run_osqi(osqi_path, "--json", sql)
    assert local.returncode == 0, local.stderr
    rows = json.loads(client.stdout)
    assert rows == json.loads(local.stdout)
    assert len(rows) == 25000 and rows[24999]["x"] == 25000 and rows[6]["d"] is None


def query_start(sock, sql, page_rows, seqid=0):
    """A queryStart call on a raw socket, its reply decoded by Thrift's generated client."""
    raw = RawClient(sock)
    body = string_field(1, sql) + b"\x08" + struct.pack(">hi", 2, page_rows)
    sock.sendall(frame("queryStart", seqid, body))
    return raw.client.recv_queryStart()


def test_client_gone_mid_cursor(osqd):
    # a cursor open, the next page being computed (read-ahead), and the client goes away:
    # the daemon cancels it and keeps answering others (rows 1 and 2 come at once, the third
    # takes long: a page steps one row past its end to know whether it is the last)
    slow = ("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
            "SELECT x FROM c WHERE x % 200000000 IN (1, 2)")
    first = socket.socket(socket.AF_UNIX)
    first.connect(osqd.socket_path)
    page = query_start(first, slow, 1)
    assert page.status.code == 0 and not page.done
    assert page.rows == [["1"]] and page.columns == ["x"]
    time.sleep(0.2)
    first.close()
    second = socket.socket(socket.AF_UNIX)
    second.connect(osqd.socket_path)
    try:
        reply, _ = timed_select1(second)
        assert reply == SELECT1_REPLY
        # the abandoned read-ahead stops: the daemon goes idle
        deadline = time.monotonic() + 5
        while True:
            before = cpu_ticks(osqd.process.pid)
            time.sleep(0.3)
            if cpu_ticks(osqd.process.pid) - before <= 3:
                break
            assert time.monotonic() < deadline, "osqd kept computing for a closed client"
    finally:
        second.close()
    # a client that leaves between pages (cursor open, nothing running) is fine too
    third = socket.socket(socket.AF_UNIX)
    third.connect(osqd.socket_path)
    page = query_start(third, "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c "
                       "LIMIT 100) SELECT x FROM c", 10)
    assert page.status.code == 0 and not page.done and len(page.rows) == 10
    third.close()
    fourth = socket.socket(socket.AF_UNIX)
    fourth.connect(osqd.socket_path)
    try:
        reply, _ = timed_select1(fourth)
        assert reply == SELECT1_REPLY
    finally:
        fourth.close()


def test_integer_columns_of_tables(osqi_path, osqd):
    # a table's BIGINT and INTEGER columns come back as JSON integers
    sql = "SELECT pid, uid, threads, name FROM processes WHERE pid = 1"
    client, remote, local = json_three_ways(osqi_path, osqd.socket_path, sql)
    assert client == remote == local
    assert all(isinstance(local[0][c], int) for c in ("pid", "uid", "threads"))


@pytest.mark.parametrize("sql", [
    "SELECT * FROM no_such_table",
    "SELEC 1",
    "SELECT * FROM hash",
])
def test_errors_same_message(osqi_path, osqd, sql):
    client = run_osq_query(osqd.socket_path, sql)
    remote = run_osqi(osqi_path, "--connect", osqd.socket_path, sql)
    local = run_osqi(osqi_path, sql)
    assert client.returncode == remote.returncode == local.returncode == 1
    assert client.stdout == remote.stdout == ""
    assert local.stderr.startswith("Error: ")
    assert client.stderr == remote.stderr == local.stderr


def test_write_is_refused(osqi_path, osqd):
    result = run_osq_query(osqd.socket_path, "ATTACH DATABASE '/tmp/x.db' AS x")
    assert result.returncode == 1
    assert result.stderr.startswith("Error: ")
    # and the daemon still answers
    assert run_osq_query(osqd.socket_path, "SELECT 1 AS one").stdout == "one\n1\n"


def test_no_daemon(tmp_path):
    result = run_osq_query(tmp_path / "none.sock", "SELECT 1")
    assert result.returncode == 1
    assert result.stderr.startswith(f"Error: cannot connect to {tmp_path / 'none.sock'}")
    assert "is osqd running?" in result.stderr


def test_client_timeout(osqd):
    # a query that never ends on its own: the client gives up at its timeout, the daemon goes on
    endless = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c"
    start = time.monotonic()
    result = run_osq_query(osqd.socket_path, endless, "--timeout", "300")
    elapsed = time.monotonic() - start
    assert result.returncode == 1
    assert "within 300 ms" in result.stderr
    assert elapsed < 5
    start = time.monotonic()
    assert run_osq_query(osqd.socket_path, "SELECT 1 AS one").stdout == "one\n1\n"
    assert time.monotonic() - start < 2
    # the client hung up: the daemon stopped that query (it burns no CPU any more)
    time.sleep(0.3)
    before = cpu_ticks(osqd.pid)
    time.sleep(1.0)
    assert cpu_ticks(osqd.pid) - before < 20


def test_timeout_then_same_session_reconnects(osqd):
    endless = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c"
    session = LineSession([str(OSQ_QUERY), "--timeout", "500", osqd.socket_path, "-"])
    try:
        lines, err = session.ask("SELECT 1 AS a", 2)
        assert lines == ["a", "1"] and err == ""
        lines, err = session.ask(endless, 2)
        assert lines == [] and "within 500 ms" in err
        # a fresh connection: no leftover bytes of the abandoned reply
        lines, err = session.ask("SELECT 2 AS b", 2)
        assert lines == ["b", "2"] and err == ""
    finally:
        session.close()


def test_daemon_killed_mid_session(osqd):
    session = LineSession([str(OSQ_QUERY), "--timeout", "5000", osqd.socket_path, "-"])
    try:
        lines, err = session.ask("SELECT 1 AS a", 2)
        assert lines == ["a", "1"] and err == ""
        kill(osqd)
        lines, err = session.ask("SELECT 2 AS b", 2)
        assert lines == []
        assert err.startswith(f"Error: cannot connect to {osqd.socket_path}"), err
        # the daemon comes back: the same client carries on
        osqd.start()
        lines, err = session.ask("SELECT 3 AS c", 2)
        assert lines == ["c", "3"] and err == ""
    finally:
        session.close()


def test_daemon_killed_during_query(osqd):
    endless = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c"
    session = LineSession([str(OSQ_QUERY), osqd.socket_path, "-"])
    try:
        session.proc.stdin.write((endless + "\n").encode())
        session.proc.stdin.flush()
        time.sleep(0.3)
        kill(osqd)
        lines, err = session.ask("", 1, timeout=10)
        assert lines == []
        assert err.startswith(f"Error: the daemon at {osqd.socket_path} closed the connection"), err
    finally:
        session.close()


def test_osquery_fallback(osqi_path, osquery):
    # an osquery daemon has no queryTyped: types come from getQueryColumns, and "" in a
    # non-TEXT column is NULL (osquery sends NULL as "")
    client = run_osq_query(osquery.socket, "SELECT id, name, price, note FROM fruits", "--json")
    assert client.returncode == 0, client.stderr
    remote = run_osqi(osqi_path, "--connect", osquery.socket, "--json",
                      "SELECT id, name, price, note FROM fruits")
    assert remote.returncode == 0, remote.stderr
    expected = [
        {"id": 1, "name": "apple", "price": 0.5, "note": "crisp"},
        {"id": 2, "name": "pear", "price": None, "note": ""},
        {"id": 3, "name": "", "price": 2.0, "note": ""},
    ]
    assert json.loads(client.stdout) == expected
    assert json.loads(remote.stdout) == expected


def test_osquery_fallback_errors_and_tables(osqi_path, osquery):
    result = run_osq_query(osquery.socket, "SELECT * FROM nope")
    assert result.returncode == 1
    assert result.stderr == "Error: no such table: nope\n"
    tables = run_osqi(osqi_path, "--connect", osquery.socket, ".tables")
    assert tables.returncode == 0, tables.stderr
    assert tables.stdout == "  => fruits\n  => osquery_registry\n"


def test_ping_columns_extensions(osqd):
    ping = run_osq_query(osqd.socket_path, "", "--ping")
    assert (ping.returncode, ping.stdout) == (0, "pong\n"), ping.stderr
    # declared columns (an expression's type is the daemon's guess without running it)
    columns = run_osq_query(osqd.socket_path, "SELECT pid, name, threads FROM processes", "--columns")
    assert columns.returncode == 0, columns.stderr
    assert columns.stdout == "name|type\npid|BIGINT\nname|TEXT\nthreads|INTEGER\n"
    bad = run_osq_query(osqd.socket_path, "SELECT nope FROM processes", "--columns")
    assert bad.returncode == 1 and bad.stderr == "Error: no such column: nope\n"
    extensions = run_osq_query(osqd.socket_path, "", "--extensions")
    assert (extensions.returncode, extensions.stdout) == (0, "uuid|name|version|sdk_version\n")


def test_osquery_fallback_extensions(osquery):
    extensions = run_osq_query(osquery.socket, "", "--extensions")
    assert extensions.returncode == 0, extensions.stderr
    assert extensions.stdout == "uuid|name|version|sdk_version\n7|fake_ext|1.0|0.0.0\n"
