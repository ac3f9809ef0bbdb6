# SPDX-License-Identifier: Apache-2.0
"""Tests of the extension SDK (osq.ExtensionRunner, start_extension, plugins) without osqd.

A FakeManager (fake_manager.py: the stock generated ExtensionManager processor on a temporary
Unix socket) records what the extension sends and calls the extension's socket the way
osquery's core does: a fresh connection per ping/call/shutdown. Everything is real: sockets,
threads, and subprocesses for start_extension, the example and the stock Thrift extension.
"""

import importlib.util
import json
import os
import pathlib
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

import pytest
from thrift.Thrift import TApplicationException

import osq
from fake_manager import FakeManager, wait_for
from osq.gen.osquery.ttypes import ExtensionStatus

TESTS_DIR = pathlib.Path(__file__).resolve().parent
PACKAGE_DIR = TESTS_DIR.parent
SOURCE_ROOT = PACKAGE_DIR.parents[1]
EXAMPLE = SOURCE_ROOT / "examples" / "python-extension" / "pressure_stall.py"
STOCK = SOURCE_ROOT / "tests" / "e2e" / "stock_thrift_extension.py"
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable


class Numbers(osq.TablePlugin):
    """Rows 1..N (N from an `n = N` constraint, else 3); records every context it saw."""

    def __init__(self):
        self.contexts = []
        self.barrier = None

    def name(self):
        return "numbers"

    def columns(self):
        return [osq.TableColumn(name="n", type=osq.INTEGER),
                osq.TableColumn(name="word", type=osq.STRING),
                osq.TableColumn(name="half", type=osq.DOUBLE)]

    def generate(self, context):
        self.contexts.append(context)
        if self.barrier is not None:
            self.barrier.wait(timeout=5)
        limits = osq.constraints(context, "n", osq.EQUALS)
        last = int(limits[0]) if limits else 3
        return [{"n": i, "word": None if i == 2 else f"w{i}", "half": i / 2}
                for i in range(1, last + 1)]


class Broken(osq.TablePlugin):
    def name(self):
        return "broken"

    def columns(self):
        return [osq.TableColumn("x", osq.TEXT)]

    def generate(self, context):
        raise RuntimeError("the disk is on fire")


class Config(osq.ConfigPlugin):
    def name(self):
        return "cfg"

    def content(self):
        return [{"main": json.dumps({"schedule": {}})}, {"extra": {"options": {"a": 1}}}]


class Logger(osq.LoggerPlugin):
    def __init__(self):
        self.lines = []

    def name(self):
        return "memlog"

    def log_string(self, value):
        self.lines.append(("string", value))
        if value == "refuse":
            return ExtensionStatus(code=1, message="no thanks")
        return None

    def log_snapshot(self, value):
        self.lines.append(("snapshot", value))

    def log_health(self, value):
        self.lines.append(("health", value))

    def log_status(self, lines):
        self.lines.append(("status", lines))

    def init(self, name, lines):
        self.lines.append(("init", name, lines))


@pytest.fixture
def tmpdir_short():
    # sun_path is short: keep socket paths well under 100 bytes
    path = tempfile.mkdtemp(prefix="osq-ext-", dir="/tmp")
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def manager(tmpdir_short):
    fake = FakeManager(os.path.join(tmpdir_short, "osq.em"))
    yield fake
    fake.stop()


@pytest.fixture
def plugins():
    return {"numbers": Numbers(), "broken": Broken(), "cfg": Config(), "memlog": Logger()}


@pytest.fixture
def runner(manager, plugins):
    r = osq.ExtensionRunner("test_ext", "1.2.3", manager.path, list(plugins.values()),
                            interval=0.1, timeout=1.0)
    r.start()
    yield r
    r.stop()


def _context(**equals):
    columns = sorted(set(equals) | {"n", "word", "half"})
    return json.dumps({
        "constraints": [{"name": c, "affinity": "TEXT",
                         "list": [{"op": osq.EQUALS, "expr": str(equals[c])}] if c in equals
                         else []} for c in columns],
        "colsUsed": ["n", "word"], "colsUsedBitset": 3})


# registration and routing


def test_registration_payload(runner, manager):
    assert runner.uuid == 1000
    assert runner.extension_socket == manager.path + ".1000"
    (attempt,) = manager.attempts
    info = attempt["info"]
    assert (info.name, info.version, info.sdk_version, info.min_sdk_version) == \
        ("test_ext", "1.2.3", "1.8.0", "1.8.0")
    assert attempt["registry"] == {
        "table": {
            "numbers": [{"id": "column", "name": "n", "type": "INTEGER", "op": "0"},
                        {"id": "column", "name": "word", "type": "TEXT", "op": "0"},
                        {"id": "column", "name": "half", "type": "DOUBLE", "op": "0"}],
            "broken": [{"id": "column", "name": "x", "type": "TEXT", "op": "0"}],
        },
        "config": {"cfg": []},
        "logger": {"memlog": []},
    }
    assert os.path.exists(runner.extension_socket)


def test_only_registries_with_plugins(manager):
    with osq.ExtensionRunner("t", "1", manager.path, [Numbers], interval=5) as r:
        assert r.uuid
        assert list(manager.attempts[0]["registry"]) == ["table"]


def test_columns_and_ping(runner, manager):
    reply = manager.ext_call(runner.uuid, "table", "numbers", {"action": "columns"})
    assert reply.status.code == 0
    assert [r["name"] for r in reply.response] == ["n", "word", "half"]
    assert all(r["id"] == "column" and r["op"] == "0" for r in reply.response)
    status = manager.ext_ping(runner.uuid)
    assert (status.code, status.message, status.uuid) == (0, "OK", runner.uuid)


def test_generate_with_constraints(runner, manager, plugins):
    reply = manager.ext_call(runner.uuid, "table", "numbers",
                             {"action": "generate", "context": _context(n=4)})
    assert reply.status.code == 0, reply.status.message
    assert reply.response == [
        {"n": "1", "word": "w1", "half": "0.5"},
        {"n": "2", "half": "1.0"},  # None: the column is left out (NULL)
        {"n": "3", "word": "w3", "half": "1.5"},
        {"n": "4", "word": "w4", "half": "2.0"},
    ]
    seen = plugins["numbers"].contexts[-1]
    assert seen["colsUsed"] == ["n", "word"]
    assert osq.constraints(seen, "n") == ["4"]
    assert osq.constraints(seen, "n", osq.LIKE) == []
    assert osq.constraints(seen, "word") == []


def test_generate_without_context(runner, manager, plugins):
    reply = manager.ext_call(runner.uuid, "table", "numbers", {"action": "generate"})
    assert reply.status.code == 0
    assert len(reply.response) == 3
    assert plugins["numbers"].contexts[-1] == {}


def test_config_plugin(runner, manager):
    reply = manager.ext_call(runner.uuid, "config", "cfg", {"action": "genConfig"})
    assert reply.status.code == 0
    assert reply.response == [{"main": '{"schedule": {}}', "extra": '{"options": {"a": 1}}'}]
    reply = manager.ext_call(runner.uuid, "config", "cfg", {"action": "genPack"})
    assert reply.status.code == 1
    assert "genPack" in reply.status.message


def test_logger_plugin(runner, manager, plugins):
    log = plugins["memlog"]

    def call(request):
        return manager.ext_call(runner.uuid, "logger", "memlog", request).status

    assert call({"string": '{"name":"q"}', "category": "event"}).code == 0
    assert call({"string": "refuse"}).code == 1
    assert call({"string": "refuse"}).message == "no thanks"
    assert call({"snapshot": "snap"}).code == 0
    assert call({"health": "h"}).code == 0
    assert call({"init": "osqd", "log": '[{"s":0,"m":"hello"}]'}).code == 0
    assert call({"status": "true", "log": '[{"s":1,"m":"warn"}]'}).code == 0
    features = call({"action": "features"})
    assert (features.code, features.message) == (0, "OK")
    assert call({"what": "ever"}).code == 1
    assert log.lines == [("string", '{"name":"q"}'), ("string", "refuse"), ("string", "refuse"),
                         ("snapshot", "snap"), ("health", "h"),
                         ("init", "osqd", [{"s": 0, "m": "hello"}]),
                         ("status", [{"s": 1, "m": "warn"}])]


@pytest.mark.parametrize("registry,item,request_,needle", [
    ("distributed", "numbers", {"action": "generate"}, "unknown type"),
    ("table", "nope", {"action": "generate"}, "does not contain requested plugin: nope"),
    ("table", "numbers", {"action": "insert"}, "Unknown table action: insert"),
    ("table", "numbers", {}, "must include a request action"),
    ("table", "numbers", {"action": "generate", "context": "{not json"}, "not JSON"),
    ("table", "numbers", {"action": "generate", "context": "[1]"}, "not a JSON object"),
])
def test_bad_requests(runner, manager, registry, item, request_, needle):
    reply = manager.ext_call(runner.uuid, registry, item, request_)
    assert reply.status.code == 1
    assert needle in reply.status.message
    assert reply.response == []


def test_plugin_exception_is_a_status(runner, manager):
    reply = manager.ext_call(runner.uuid, "table", "broken", {"action": "generate"})
    assert reply.status.code == 1
    assert "RuntimeError: the disk is on fire" in reply.status.message
    # the server lives on
    assert manager.ext_call(runner.uuid, "table", "numbers",
                            {"action": "generate"}).status.code == 0


def test_unknown_method_is_an_exception_reply(runner, manager):
    from osq.gen.osquery import ExtensionManager
    from thrift.protocol.TBinaryProtocol import TBinaryProtocol
    from thrift.transport import TSocket, TTransport

    sock = TSocket.TSocket(unix_socket=runner.extension_socket)
    transport = TTransport.TBufferedTransport(sock)
    transport.open()
    try:
        client = ExtensionManager.Client(TBinaryProtocol(transport))
        with pytest.raises(TApplicationException) as info:
            client.extensions()
        assert info.value.type == TApplicationException.UNKNOWN_METHOD
        assert client.ping().code == 0  # same connection, still in step
    finally:
        transport.close()


def test_concurrent_calls(runner, manager, plugins):
    # four generate calls must be inside the plugin at once: a one-connection server deadlocks
    plugins["numbers"].barrier = threading.Barrier(4)
    results = []

    def worker(n):
        reply = manager.ext_call(runner.uuid, "table", "numbers",
                                 {"action": "generate", "context": _context(n=n)})
        results.append((n, reply.status.code, len(reply.response)))

    threads = [threading.Thread(target=worker, args=(n,)) for n in (1, 2, 3, 4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert sorted(results) == [(1, 0, 1), (2, 0, 2), (3, 0, 3), (4, 0, 4)]
    plugins["numbers"].barrier = None
    # and many more, without a barrier
    results.clear()
    threads = [threading.Thread(target=worker, args=(1 + n % 5,)) for n in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert len(results) == 40
    assert all(code == 0 and rows == n for n, code, rows in results)


def test_text_values_are_valid_utf8(manager):
    class Odd(osq.TablePlugin):
        def name(self):
            return "odd"

        def columns(self):
            return [osq.TableColumn("s", osq.TEXT), osq.TableColumn("b", osq.INTEGER)]

        def generate(self, context):
            return [{"s": "bad\udcffname", "b": True}, {"s": b"\xff\xfe", "b": False},
                    {"s": "\u4e2d", "b": 7}]

    with osq.ExtensionRunner("odd", "1", manager.path, [Odd()], interval=5) as r:
        reply = manager.ext_call(r.uuid, "table", "odd", {"action": "generate"})
    assert reply.status.code == 0
    assert reply.response == [{"s": "bad\ufffdname", "b": "1"}, {"s": "\ufffd\ufffd", "b": "0"},
                              {"s": "\u4e2d", "b": "7"}]


# hostile input on the extension socket


def _raw_exchange(path, payload, timeout=5.0):
    """Sends PAYLOAD on a fresh connection; returns what came back until the server closed."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(path)
        try:
            s.sendall(payload)
        except BrokenPipeError:
            pass
        data = b""
        while True:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            data += chunk
        return data


CALL_HEADER = b"\x80\x01\x00\x01\x00\x00\x00\x04call\x00\x00\x00\x00"
GARBAGE = {
    "http": b"POST / HTTP/1.1\r\nHost: x\r\n\r\n",  # unversioned header: a 1.3 GB name
    "huge-name": b"\x80\x01\x00\x01" + struct.pack(">i", 0x7fffffff) + b"call",
    "huge-string": CALL_HEADER + b"\x0b\x00\x01" + struct.pack(">i", 0x7ffffff0) + b"table",
    "huge-map": CALL_HEADER + b"\x0d\x00\x03\x0b\x0b" + struct.pack(">i", 0x7ffffff0),
    "huge-list": CALL_HEADER + b"\x0f\x00\x09\x08" + struct.pack(">i", 0x7ffffff0),
    "bad-type": CALL_HEADER + b"\x63\x00\x01",
    "non-utf8-name": b"\x80\x01\x00\x01\x00\x00\x00\x04\xff\xfe\xfd\xfc\x00\x00\x00\x00\x00",
    "bad-version": b"\x12\x34\x56\x78" * 16,
    # a mistyped field nested 200,000 deep: Thrift's C decoder would recurse until it crashes
    "deep": CALL_HEADER + b"\x0c\x00\x01" * 200000 + b"\x00" * 200001,
    "deep-list": CALL_HEADER + b"\x0f\x00\x01\x0f\x00\x00\x00\x01" * 100000,
}


@pytest.mark.parametrize("payload", list(GARBAGE.values()), ids=list(GARBAGE))
def test_garbage_closes_only_that_connection(runner, manager, payload):
    started = time.monotonic()
    reply = _raw_exchange(runner.extension_socket, payload)
    assert time.monotonic() - started < 3.0
    # nothing but, at most, a Thrift exception reply (a non-UTF-8 method name)
    assert reply == b"" or reply.startswith(b"\x80\x01\x00\x03")
    # the extension keeps serving
    reply = manager.ext_call(runner.uuid, "table", "numbers", {"action": "generate"})
    assert reply.status.code == 0
    assert runner.running


def test_nested_but_sane_message_is_answered(runner, manager):
    """A mistyped field nested a few levels deep is skipped, as every Thrift reader does."""
    nested = b"\x0c\x00\x07" * 5 + b"\x00" * 5
    registry = b"\x0b\x00\x01\x00\x00\x00\x05table"
    item = b"\x0b\x00\x02\x00\x00\x00\x07numbers"
    request = b"\x0d\x00\x03\x0b\x0b\x00\x00\x00\x01" + b"\x00\x00\x00\x06action" + \
        b"\x00\x00\x00\x07columns"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(5)
        s.connect(runner.extension_socket)
        s.sendall(CALL_HEADER + nested + registry + item + request + b"\x00")
        reply = s.recv(65536)
    assert reply.startswith(b"\x80\x01\x00\x02\x00\x00\x00\x04call")
    assert b"INTEGER" in reply and b"half" in reply


def test_garbage_with_a_live_connection(runner, manager):
    """A peer that sends half a message and sits on its connection does not block others."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.connect(runner.extension_socket)
        s.sendall(b"\x80\x01\x00\x01\x00\x00\x00\x04ca")
        assert manager.ext_call(runner.uuid, "table", "numbers",
                                {"action": "generate"}).status.code == 0


def test_too_many_connections_are_refused_not_fatal(manager):
    with osq.ExtensionRunner("t", "1", manager.path, [Numbers()], interval=5,
                             max_connections=2) as r:
        idle = [socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) for _ in range(2)]
        try:
            for s in idle:
                s.connect(r.extension_socket)
            assert wait_for(lambda: len(r._connections) == 2)
            extra = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            extra.settimeout(5)
            extra.connect(r.extension_socket)
            assert extra.recv(10) == b""  # closed at once
            extra.close()
        finally:
            for s in idle:
                s.close()
        assert wait_for(lambda: len(r._connections) == 0)
        assert manager.ext_call(r.uuid, "table", "numbers", {"action": "columns"}).status.code == 0


# lifecycle


def test_stop_deregisters_and_removes_the_socket(manager):
    r = osq.ExtensionRunner("t", "1", manager.path, [Numbers()], interval=5)
    uuid = r.start()
    path = r.extension_socket
    assert os.path.exists(path)
    r.stop()
    assert r.wait(0)
    assert manager.deregistered == [uuid]
    assert not os.path.exists(path)
    assert not r.manager_gone
    r.stop()  # again: nothing happens
    with pytest.raises(ConnectionRefusedError if os.path.exists(path) else FileNotFoundError):
        manager.ext_ping(uuid)


def test_manager_gone_stops_the_runner(manager, tmpdir_short):
    r = osq.ExtensionRunner("t", "1", manager.path, [Numbers()], interval=0.05)
    r.start()
    path = r.extension_socket
    assert wait_for(lambda: manager.pings >= 1)
    started = time.monotonic()
    manager.stop()
    assert r.wait(5)
    assert time.monotonic() - started < 2.0
    assert r.manager_gone
    assert "gone" in r.stop_reason
    assert not os.path.exists(path)


def test_failed_ping_stops_the_runner(manager):
    r = osq.ExtensionRunner("t", "1", manager.path, [Numbers()], interval=0.05)
    r.start()
    manager.ping_code = 1
    assert r.wait(5)
    assert r.manager_gone
    assert "failed a ping" in r.stop_reason


def test_shutdown_stops_the_runner(manager):
    r = osq.ExtensionRunner("t", "1", manager.path, [Numbers()], interval=5)
    r.start()
    path = r.extension_socket
    manager.ext_shutdown(r.uuid)  # a reply comes back (void)
    assert r.wait(5)
    assert "shutdown" in r.stop_reason
    assert not r.manager_gone
    assert not os.path.exists(path)
    assert manager.deregistered == []


def test_refused_registration(manager):
    manager.refuse = "Duplicate extension registered"
    r = osq.ExtensionRunner("dup", "1", manager.path, [Numbers()])
    with pytest.raises(osq.RegistrationError) as info:
        r.start()
    assert "Duplicate extension registered" in str(info.value)
    assert info.value.code == 1
    assert not any(name.startswith("osq.em.") for name in os.listdir(os.path.dirname(manager.path)))


def test_no_manager(tmpdir_short):
    r = osq.ExtensionRunner("t", "1", os.path.join(tmpdir_short, "none.em"), [Numbers()],
                            timeout=0.2)
    started = time.monotonic()
    with pytest.raises(osq.ExtensionError, match="cannot connect"):
        r.start()
    assert 0.15 < time.monotonic() - started < 2.0


def test_waits_for_a_late_manager(tmpdir_short):
    path = os.path.join(tmpdir_short, "late.em")
    late = []
    timer = threading.Timer(0.3, lambda: late.append(FakeManager(path)))
    timer.start()
    try:
        with osq.ExtensionRunner("t", "1", path, [Numbers()], timeout=5, interval=5) as r:
            assert r.uuid == 1000
    finally:
        timer.join()
        for m in late:
            m.stop()


def test_stale_socket_file_is_replaced(manager):
    stale = manager.extension_path(1000)
    with open(stale, "w") as f:
        f.write("left over")
    with osq.ExtensionRunner("t", "1", manager.path, [Numbers()], interval=5) as r:
        assert r.extension_socket == stale
        assert manager.ext_ping(r.uuid).code == 0


@pytest.mark.parametrize("plugins_,needle", [
    ([], "no plugins"),
    ([Numbers(), Numbers()], "two table plugins are named numbers"),
    ([object()], "is not a TablePlugin"),
])
def test_bad_plugin_sets(manager, plugins_, needle):
    with pytest.raises(osq.ExtensionError, match=needle):
        osq.ExtensionRunner("t", "1", manager.path, plugins_).start()
    assert manager.attempts == []


def test_bad_column_type(manager):
    class BadType(Numbers):
        def columns(self):
            return [osq.TableColumn("x", "VARCHAR")]

    with pytest.raises(osq.ExtensionError, match="unknown type 'VARCHAR'"):
        osq.ExtensionRunner("t", "1", manager.path, [BadType()]).start()


def test_socket_path_too_long(tmpdir_short):
    r = osq.ExtensionRunner("t", "1", "/tmp/" + "x" * 120, [Numbers()])
    with pytest.raises(osq.ExtensionError, match="too long"):
        r.start()


def test_register_plugin_decorator():
    osq.clear_registered_plugins()
    try:
        @osq.register_plugin
        class Registered(Numbers):
            pass

        assert Registered is not None  # the class stays usable (osquery-python returns None)
        (plugin,) = osq.registered_plugins()
        assert isinstance(plugin, Registered)
        with pytest.raises(TypeError):
            osq.register_plugin(int)
    finally:
        osq.clear_registered_plugins()


# start_extension: argv and process lifecycle


def test_parse_args_defaults_and_forms():
    args = osq.parse_args([])
    assert (args.socket, args.timeout, args.interval, args.verbose) == \
        ("/var/osquery/osquery.em", 1.0, 1.0, False)
    args = osq.parse_args(["--socket", "/x/y.em", "--timeout=3", "--interval", "0.5",
                           "--verbose"])
    assert (args.socket, args.timeout, args.interval, args.verbose) == ("/x/y.em", 3.0, 0.5, True)


@pytest.mark.parametrize("argv", [["--bogus"], ["positional"], ["--timeout", "soon"],
                                  ["--interval", "0"], ["--socket"]])
def test_parse_args_rejects(argv, capsys):
    with pytest.raises(SystemExit) as info:
        osq.parse_args(argv)
    assert info.value.code == 2
    assert "error" in capsys.readouterr().err


EXTENSION_SCRIPT = """
import osq

@osq.register_plugin
class T(osq.TablePlugin):
    def name(self): return "my_table"
    def columns(self): return [osq.TableColumn(name="x", type=osq.INTEGER),
                               osq.TableColumn(name="s", type=osq.STRING)]
    def generate(self, context): return [{"x": 1, "s": "a"}]

osq.start_extension(name="my_ext", version="1.0.0")
"""


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(PACKAGE_DIR)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    return env


def _spawn(script_args, *extra):
    return subprocess.Popen([PYTHON, *script_args, *extra], env=_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


@pytest.fixture
def script(tmpdir_short):
    path = os.path.join(tmpdir_short, "my_ext.py")
    with open(path, "w") as f:
        f.write(EXTENSION_SCRIPT)
    return path


def test_start_extension_serves_and_exits_on_shutdown(manager, script):
    proc = _spawn([script], "--socket", manager.path, "--interval", "0.2", "--timeout", "3")
    try:
        assert manager.wait_registered(10), proc.stderr.read() if proc.poll() is not None else ""
        (uuid,) = manager.registrations
        info = manager.registrations[uuid]["info"]
        assert (info.name, info.version, info.sdk_version, info.min_sdk_version) == \
            ("my_ext", "1.0.0", "1.8.0", "1.8.0")
        assert wait_for(lambda: os.path.exists(manager.extension_path(uuid)))
        reply = manager.ext_call(uuid, "table", "my_table", {"action": "generate"})
        assert reply.response == [{"x": "1", "s": "a"}]
        manager.ext_shutdown(uuid)
        assert proc.wait(10) == 0
        assert not os.path.exists(manager.extension_path(uuid))
    finally:
        proc.kill()
        proc.communicate()


def test_start_extension_exits_when_the_manager_is_gone(manager, script):
    proc = _spawn([script], "--socket", manager.path, "--interval", "0.1")
    try:
        assert manager.wait_registered(10)
        (uuid,) = manager.registrations
        # serving (so the registration reply arrived) before the manager leaves
        assert wait_for(lambda: os.path.exists(manager.extension_path(uuid)))
        manager.stop()
        assert proc.wait(10) == 1
        assert "gone" in proc.stderr.read()
    finally:
        proc.kill()
        proc.communicate()


def test_start_extension_sigterm_deregisters(manager, script):
    proc = _spawn([script], "--socket", manager.path, "--interval", "5")
    try:
        assert manager.wait_registered(10)
        (uuid,) = manager.registrations
        assert wait_for(lambda: os.path.exists(manager.extension_path(uuid)))
        proc.terminate()
        assert proc.wait(10) == 0
        assert manager.deregistered == [uuid]
    finally:
        proc.kill()
        proc.communicate()


def test_start_extension_refused(manager, script):
    manager.refuse = "Duplicate extension registered"
    proc = _spawn([script], "--socket", manager.path)
    _, err = proc.communicate(timeout=10)
    assert proc.returncode == 1
    assert "refused extension my_ext: Duplicate extension registered" in err


def test_start_extension_no_manager(tmpdir_short, script):
    proc = _spawn([script], "--socket", os.path.join(tmpdir_short, "none.em"), "--timeout", "0.2")
    _, err = proc.communicate(timeout=10)
    assert proc.returncode == 1
    assert "cannot connect to the extension manager" in err


def test_start_extension_bad_argument(script):
    proc = _spawn([script], "--sockett", "/x")
    _, err = proc.communicate(timeout=10)
    assert proc.returncode == 2
    assert "unrecognized arguments: --sockett" in err


# the example


def _load_example():
    spec = importlib.util.spec_from_file_location("pressure_stall_example", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


PSI = ("some avg10=1.50 avg60=0.25 avg300=0.00 total=123456\n"
       "full avg10=0.00 avg60=0.00 avg300=0.00 total=42\n")


@pytest.fixture
def pressure_tree(tmpdir_short):
    root = pathlib.Path(tmpdir_short)
    proc = root / "proc-pressure"
    proc.mkdir()
    for resource in ("cpu", "memory", "io"):
        (proc / resource).write_text(PSI)
    cgroups = root / "cgroup"
    (cgroups / "system.slice" / "ssh.service").mkdir(parents=True)
    (cgroups / "user.slice").mkdir()
    (cgroups / "system.slice" / "ssh.service" / "memory.pressure").write_text(
        "some avg10=9.00 avg60=8.00 avg300=7.00 total=99\nfull garbage\n")
    (cgroups / "user.slice" / "cpu.pressure").write_text(PSI)
    return proc, cgroups


def test_example_table(pressure_tree):
    module = _load_example()
    table = module.PressureStallTable(*map(str, pressure_tree))
    assert table.name() == "pressure_stall"
    routes = table.routes()
    assert [r["name"] for r in routes] == ["cgroup", "resource", "kind", "avg10", "avg60",
                                           "avg300", "total"]
    rows = table.generate({})
    system = [r for r in rows if r["cgroup"] == "/"]
    assert len(system) == 6
    assert {"cgroup": "/", "resource": "cpu", "kind": "some", "avg10": 1.5, "avg60": 0.25,
            "avg300": 0.0, "total": 123456} in system
    ssh = [r for r in rows if r["cgroup"] == "/system.slice/ssh.service"]
    assert ssh == [{"cgroup": "/system.slice/ssh.service", "resource": "memory", "kind": "some",
                    "avg10": 9.0, "avg60": 8.0, "avg300": 7.0, "total": 99},
                   {"cgroup": "/system.slice/ssh.service", "resource": "memory", "kind": "full",
                    "avg10": None, "avg60": None, "avg300": None, "total": None}]
    assert {r["cgroup"] for r in rows} == {"/", "/system.slice/ssh.service", "/user.slice"}
    # pushed-down constraints
    context = {"constraints": [
        {"name": "cgroup", "list": [{"op": 2, "expr": "/user.slice"},
                                    {"op": 2, "expr": "/../../etc"}]},
        {"name": "resource", "list": [{"op": 2, "expr": "cpu"}]}]}
    rows = table.generate(context)
    assert [(r["cgroup"], r["resource"], r["kind"]) for r in rows] == \
        [("/user.slice", "cpu", "some"), ("/user.slice", "cpu", "full")]
    # through the wire format
    reply = table.call({"action": "generate", "context": json.dumps(context)})
    assert reply.status.code == 0
    assert reply.response[0] == {"cgroup": "/user.slice", "resource": "cpu", "kind": "some",
                                 "avg10": "1.5", "avg60": "0.25", "avg300": "0.0",
                                 "total": "123456"}


def test_example_on_this_system():
    module = _load_example()
    if not os.path.exists("/proc/pressure/cpu"):
        pytest.skip("this kernel has no /proc/pressure (PSI off)")
    rows = module.PressureStallTable().generate(
        {"constraints": [{"name": "cgroup", "list": [{"op": 2, "expr": "/"}]}]})
    assert {r["resource"] for r in rows} >= {"cpu", "memory", "io"}


def test_example_runs_as_an_extension(manager):
    proc = _spawn([str(EXAMPLE)], "--socket", manager.path, "--interval", "0.2")
    try:
        assert manager.wait_registered(10)
        (uuid,) = manager.registrations
        assert "pressure_stall" in manager.registrations[uuid]["registry"]["table"]
        assert wait_for(lambda: os.path.exists(manager.extension_path(uuid)))
        reply = manager.ext_call(uuid, "table", "pressure_stall", {"action": "columns"})
        assert reply.status.code == 0 and len(reply.response) == 7
        reply = manager.ext_call(uuid, "table", "pressure_stall", {
            "action": "generate",
            "context": json.dumps({"constraints": [
                {"name": "cgroup", "list": [{"op": 2, "expr": "/"}], "affinity": "TEXT"}]})})
        assert reply.status.code == 0, reply.status.message
        assert all(row["cgroup"] == "/" for row in reply.response)
        if os.path.exists("/proc/pressure/cpu"):
            assert {row["resource"] for row in reply.response} >= {"cpu", "memory", "io"}
        manager.ext_shutdown(uuid)
        assert proc.wait(10) == 0
    finally:
        proc.kill()
        proc.communicate()


# the stock Thrift extension (tests/e2e/stock_thrift_extension.py)


def test_stock_thrift_extension(manager):
    env = _env()
    assert env.get("OSQ_THRIFT_PY")  # conftest made sure of it
    proc = _spawn([str(STOCK)], "--socket", manager.path, "--interval", "0.2")
    try:
        assert manager.wait_registered(10), proc.stderr.read() if proc.poll() is not None else ""
        (uuid,) = manager.registrations
        registration = manager.registrations[uuid]
        assert registration["info"].name == "stock_thrift_extension"
        assert registration["registry"] == {"table": {"stock_numbers": [
            {"id": "column", "name": "n", "type": "INTEGER", "op": "0"},
            {"id": "column", "name": "square", "type": "INTEGER", "op": "0"}]}}
        assert wait_for(lambda: os.path.exists(manager.extension_path(uuid)))
        assert manager.ext_ping(uuid).code == 0
        reply = manager.ext_call(uuid, "table", "stock_numbers", {
            "action": "generate",
            "context": json.dumps({"constraints": [
                {"name": "n", "list": [{"op": 2, "expr": "4"}], "affinity": "INTEGER"},
                {"name": "square", "list": [], "affinity": "INTEGER"}]})})
        assert reply.status.code == 0
        assert reply.response == [{"n": str(n), "square": str(n * n)} for n in range(1, 5)]
        reply = manager.ext_call(uuid, "table", "stock_numbers", {"action": "generate"})
        assert len(reply.response) == 10
        columns = manager.ext_call(uuid, "table", "stock_numbers", {"action": "columns"})
        assert [c["name"] for c in columns.response] == ["n", "square"]
        manager.stop()  # the manager goes away: the extension follows
        assert proc.wait(10) == 1
        assert not os.path.exists(manager.extension_path(uuid))
    finally:
        proc.kill()
        proc.communicate()
