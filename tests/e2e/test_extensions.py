# SPDX-License-Identifier: Apache-2.0
"""Extensions against a real osqd: registration and its refusals, extension tables through the
daemon (constraints reach the extension, JOINs with built-in tables), health checks dropping a
dead extension, shutdown() at daemon exit, and untrusted extensions (hanging, dying, garbage,
a 1 GiB length prefix, ten million rows, register/deregister loops, racing registrations) while
`SELECT 1` keeps answering within 100 ms."""

import json
import os
import pathlib
import subprocess
import sys
import threading
import time

import pytest

from conftest import THRIFT_PY, import_thrift_gen, run_osqi

HERE = pathlib.Path(__file__).resolve().parent
HOSTILE = HERE / "hostile_extension.py"
FAST = ("--extensions_interval=0.5", "--extensions_timeout=1")


class Extension:
    """A hostile_extension.py process; .uuid once registered."""

    def __init__(self, daemon, mode="ok", name="hostile", table=None):
        env = dict(os.environ, OSQ_THRIFT_PY=str(THRIFT_PY))
        argv = ["/usr/bin/python3", str(HOSTILE), "--socket", daemon.socket_path, "--mode", mode,
                "--name", name]
        if table:
            argv += ["--table", table]
        self.process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        text=True, env=env)
        line = self.process.stdout.readline().strip()
        self.refused = line.startswith("refused:")
        self.message = line
        self.uuid = int(line.split("=", 1)[1]) if line.startswith("uuid=") else None
        self.table = table or f"{name}_table"
        self.path = f"{daemon.socket_path}.{self.uuid}"

    def wait_listening(self, timeout=10):
        deadline = time.monotonic() + timeout
        while not os.path.exists(self.path):
            assert time.monotonic() < deadline, "the extension did not bind its socket"
            time.sleep(0.01)

    def stop(self):
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)
        self.process.stdout.close()
        self.process.stderr.close()


@pytest.fixture
def extensions():
    started = []
    yield lambda *args, **kwargs: started.append(Extension(*args, **kwargs)) or started[-1]
    for extension in started:
        extension.stop()


def query(daemon, sql):
    client = daemon.client()
    try:
        return client.query(sql)
    finally:
        client.transport.close()


def table_exists(daemon, table):
    status = query(daemon, f"SELECT count(*) AS c FROM {table}").status
    return "no such table" not in status.message


class Probe:
    """Runs `SELECT 1` on one connection every 20 ms and records each latency."""

    def __init__(self, daemon):
        self.client = daemon.client()
        self.latencies = []
        self.failures = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stopping.is_set():
            start = time.monotonic()
            reply = self.client.query("SELECT 1 AS one")
            self.latencies.append(time.monotonic() - start)
            if reply.status.code != 0 or reply.response != [{"one": "1"}]:
                self.failures.append(reply.status.message)
            time.sleep(0.02)

    def finish(self):
        self.stopping.set()
        self.thread.join(timeout=30)
        self.client.transport.close()
        assert not self.failures, self.failures
        assert self.latencies, "no probe ran"
        slow = [x for x in self.latencies if x > 0.1]
        # a shared 2-core VM stalls now and then: allow 1% of probes over 100 ms, none over 1 s
        assert len(slow) <= max(1, len(self.latencies) // 100), sorted(slow)[-5:]
        assert max(self.latencies) < 1.0


def test_extension_table_through_the_daemon(osqd_factory, extensions, osqi_path):
    daemon = osqd_factory(*FAST)
    ext = extensions(daemon, name="demo")
    assert ext.uuid is not None and 1 <= ext.uuid <= 65535, ext.message
    ext.wait_listening()

    rows = query(daemon, "SELECT n, label FROM demo_table").response
    assert sorted(rows, key=lambda r: r["n"]) == [
        {"n": "1", "label": "row1"}, {"n": "2", "label": "row2"}, {"n": "3", "label": "row3"}]
    # the constraint reached the extension, in osquery's context format
    row = query(daemon, "SELECT n, context FROM demo_table WHERE n = 5").response
    assert row[0]["n"] == "5"
    context = json.loads(row[0]["context"])
    by_name = {c["name"]: c for c in context["constraints"]}
    assert [c["name"] for c in context["constraints"]] == ["context", "label", "n"]
    assert by_name["n"]["list"] == [{"op": 2, "expr": "5"}]
    assert by_name["n"]["affinity"] == "INTEGER"
    assert set(context["colsUsed"]) == {"n", "context"}
    # a JOIN with a built-in table, typed by the declared column types
    joined = query(daemon, "SELECT p.pid, d.n + 1 AS m FROM processes p "
                           "JOIN demo_table d ON d.n = 1 WHERE p.pid = 1").response
    assert joined == [{"pid": "1", "m": "2"}]
    # the shell through the daemon sees it too
    out = run_osqi(osqi_path, "--connect", daemon.socket_path, "--csv",
                   "SELECT label FROM demo_table WHERE n = 2")
    assert out.stdout.splitlines() == ["label", "row2"], out.stderr

    client = daemon.client()
    try:
        listed = client.extensions()
        assert listed[ext.uuid].name == "demo"
        assert listed[ext.uuid].version == "1.0"
        routes = client.call("table", "demo_table", {"action": "columns"})
        assert [r["name"] for r in routes.response] == ["n", "label", "context"]
        generated = client.call("table", "demo_table", {"action": "generate"})
        assert len(generated.response) == 3
    finally:
        client.transport.close()

    # the daemon describes itself and its extensions in SQL
    listed = query(daemon, "SELECT uuid, name, path, type FROM osquery_extensions").response
    assert {"uuid": "0", "name": "core", "path": daemon.socket_path, "type": "core"} in listed
    assert {"uuid": str(ext.uuid), "name": "demo", "path": ext.path, "type": "extension"} in listed
    owned = query(daemon, "SELECT registry, name FROM osquery_registry "
                          f"WHERE owner_uuid = {ext.uuid}").response
    assert owned == [{"registry": "table", "name": "demo_table"}]
    builtin = query(daemon, "SELECT owner_uuid FROM osquery_registry "
                            "WHERE registry = 'table' AND name = 'processes'").response
    assert builtin == [{"owner_uuid": "0"}]

    # killed: its table goes within two ping intervals, and its socket file with it
    ext.stop()
    deadline = time.monotonic() + 2 * 0.5 + 1.5
    while table_exists(daemon, "demo_table"):
        assert time.monotonic() < deadline, "the dead extension's table is still there"
        time.sleep(0.05)
    assert not os.path.exists(ext.path)
    assert "has gone away" in daemon.log()


def test_registration_refusals(osqd_factory, extensions):
    daemon = osqd_factory(*FAST)
    builtin = extensions(daemon, name="sneaky", table="processes")
    assert builtin.refused
    assert "Duplicate registry item: processes" in builtin.message
    first = extensions(daemon, name="twice")
    assert first.uuid is not None
    second = extensions(daemon, name="twice", table="other_table")
    assert second.refused and "Duplicate extension registered" in second.message
    # the built-in table still answers
    assert query(daemon, "SELECT pid FROM processes WHERE pid = 1").response == [{"pid": "1"}]


def test_silent_extension_is_dropped(osqd_factory, extensions):
    daemon = osqd_factory(*FAST)
    ext = extensions(daemon, mode="silent", name="mute")
    assert ext.uuid is not None
    assert table_exists(daemon, "mute_table")
    deadline = time.monotonic() + 1 + 2 * 0.5 + 2
    while table_exists(daemon, "mute_table"):
        assert time.monotonic() < deadline, "an extension that never bound is still there"
        time.sleep(0.05)


def test_calls_wait_for_a_socket_still_to_be_bound(osqd_factory, extensions):
    # an extension binds its socket after it registered: a query in between waits for it
    # (up to --extensions_timeout) rather than failing
    daemon = osqd_factory("--extensions_interval=0.5", "--extensions_timeout=3")
    ext = extensions(daemon, mode="late", name="slow")
    assert not os.path.exists(ext.path)
    start = time.monotonic()
    reply = query(daemon, "SELECT n FROM slow_table")
    assert reply.status.code == 0, reply.status.message
    assert reply.response == [{"n": "1"}, {"n": "2"}, {"n": "3"}]
    assert time.monotonic() - start < 3
    # one that never binds: the query fails once the timeout has passed, it does not hang
    mute = extensions(daemon, mode="silent", name="mute")
    start = time.monotonic()
    reply = query(daemon, "SELECT n FROM mute_table")
    assert reply.status.code == 1 and "cannot connect" in reply.status.message, reply.status
    assert time.monotonic() - start < 5
    assert mute.uuid is not None


def test_extensions_hear_shutdown(osqd_factory, extensions):
    daemon = osqd_factory(*FAST)
    ext = extensions(daemon, name="polite")
    ext.wait_listening()
    daemon.stop()
    assert ext.process.wait(timeout=10) == 0


@pytest.mark.parametrize("mode, expect", [
    ("hang", "timed out"),
    ("die", "closed the connection"),
    ("garbage", "extension table"),
    ("huge", "extension table"),
    ("flood", "extension table"),
])
def test_untrusted_extension(osqd_factory, extensions, mode, expect):
    daemon = osqd_factory(*FAST, "--query_timeout=3000", "--query_max_bytes=20000000")
    ext = extensions(daemon, mode=mode, name=f"bad_{mode}")
    ext.wait_listening()
    probe = Probe(daemon)
    try:
        start = time.monotonic()
        reply = query(daemon, f"SELECT * FROM {ext.table}")
        elapsed = time.monotonic() - start
        assert reply.status.code == 1, reply.status.message
        assert expect in reply.status.message, reply.status.message
        assert elapsed < 10
        # the daemon goes on, other tables too
        assert query(daemon, "SELECT pid FROM processes WHERE pid = 1").response == [{"pid": "1"}]
    finally:
        probe.finish()
    assert daemon.process.poll() is None


def test_register_deregister_loop_and_races(osqd_factory):
    daemon = osqd_factory(*FAST)
    import_thrift_gen()
    from osq.gen.osquery.ttypes import InternalExtensionInfo

    routes = {"table": {"loop_table": [{"id": "column", "name": "x", "type": "TEXT", "op": "0"}]}}
    probe = Probe(daemon)
    try:
        client = daemon.client()
        for i in range(200):
            status = client.registerExtension(InternalExtensionInfo(name="loop", version="1"),
                                              routes)
            assert status.code == 0, status.message
            assert client.deregisterExtension(status.uuid).code == 0
        assert client.deregisterExtension(status.uuid).message == "No extension UUID found"
        client.transport.close()

        # eight clients register the same name at the same moment: exactly one wins
        results = []
        barrier = threading.Barrier(8)

        def race():
            racer = daemon.client()
            barrier.wait()
            results.append(racer.registerExtension(
                InternalExtensionInfo(name="racer", version="1"),
                {"table": {"race_table": routes["table"]["loop_table"]}}))
            racer.transport.close()

        threads = [threading.Thread(target=race) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert sorted(r.code for r in results) == [0] + [1] * 7
        assert {r.message for r in results if r.code == 1} == {"Duplicate extension registered"}
    finally:
        probe.finish()


def test_non_root_cannot_register(osqd_factory):
    if os.geteuid() != 0:
        pytest.skip("needs root to run a client as another uid")
    daemon = osqd_factory(*FAST, "--extensions_socket_mode=0666")
    script = (
        "import sys; sys.path.insert(0, %r)\n"
        "from thrift.transport import TSocket, TTransport\n"
        "from thrift.protocol import TBinaryProtocol\n"
        "from osq.gen.osquery import ExtensionManager\n"
        "from osq.gen.osquery.ttypes import InternalExtensionInfo\n"
        "t = TTransport.TBufferedTransport(TSocket.TSocket(unix_socket=%r)); t.open()\n"
        "c = ExtensionManager.Client(TBinaryProtocol.TBinaryProtocol(t))\n"
        "s = c.registerExtension(InternalExtensionInfo(name='x'), {'table': {'nobody_t': "
        "[{'id': 'column', 'name': 'a', 'type': 'TEXT', 'op': '0'}]}})\n"
        "print(s.code, s.message)\n" % (str(THRIFT_PY), daemon.socket_path))
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=30, user=65534, group=65534)
    assert out.stdout.startswith("1 access denied: uid 65534 may not register extensions"), \
        out.stdout + out.stderr


def test_route_aliases_and_attributes(osqd_factory):
    daemon = osqd_factory(*FAST)
    import_thrift_gen()
    from osq.gen.osquery.ttypes import InternalExtensionInfo

    routes = [{"id": "column", "name": "n", "type": "INTEGER", "op": "0"},
              {"id": "column", "name": "label", "type": "TEXT", "op": "0"},
              {"id": "columnAlias", "name": "number", "target": "n"},
              {"id": "alias", "alias": "aliased_table"},
              {"id": "attributes", "attributes": "1"},
              {"id": "ignored", "name": "x"},
              {"id": "column", "name": "no_type"}]
    client = daemon.client()
    try:
        status = client.registerExtension(InternalExtensionInfo(name="aliases", version="1"),
                                          {"table": {"base_table": routes},
                                           "config": {}, "logger": {}, "distributed": {},
                                           "unknown_but_empty": {}})
        assert status.code == 0, status.message
        columns = client.getQueryColumns("SELECT * FROM base_table").response
        assert [list(c.items())[0] for c in columns] == [("n", "INTEGER"), ("label", "TEXT")]
        hidden = client.getQueryColumns("SELECT number FROM aliased_table").response
        assert hidden == [{"number": "INTEGER"}]
        listed = client.query("SELECT name, owner_uuid FROM osquery_registry "
                              f"WHERE owner_uuid = {status.uuid}").response
        assert listed == [{"name": "base_table", "owner_uuid": str(status.uuid)}]
        assert client.deregisterExtension(status.uuid).code == 0
        gone = client.query("SELECT * FROM aliased_table").status.message
        assert "no such table" in gone
        # a column alias naming no column is bad route info
        bad = client.registerExtension(
            InternalExtensionInfo(name="bad_alias", version="1"),
            {"table": {"bad_table": routes[:2] + [{"id": "columnAlias", "name": "z",
                                                   "target": "nope"}]}})
        assert bad.code == 1 and "Invalid route info" in bad.message
    finally:
        client.transport.close()
