# SPDX-License-Identifier: Apache-2.0
"""Extensions written with osq's SDKs, and one written on Thrift's stock generated Python code,
against a real osqd: they register, their tables answer SELECT *, a constraint reaches the
extension, a JOIN with processes works, killing the extension removes its tables within two
ping intervals, and stopping the daemon makes the extensions exit."""

import os
import pathlib
import subprocess
import textwrap
import time

import pytest

from conftest import BUILD_ROOT, THRIFT_PY

ROOT = pathlib.Path(__file__).resolve().parents[2]
INTERVAL = 0.5
FAST = (f"--extensions_interval={INTERVAL}", "--extensions_timeout=2")
PY_ENV = dict(os.environ, PYTHONPATH=str(ROOT / "clients" / "python"),
              OSQ_THRIFT_PY=str(THRIFT_PY))

ECHO_EXTENSION = textwrap.dedent("""
    import json
    import osq

    @osq.register_plugin
    class Echo(osq.TablePlugin):
        def name(self):
            return "sdk_echo"

        def columns(self):
            return [osq.TableColumn(name="word", type=osq.TEXT),
                    osq.TableColumn(name="length", type=osq.INTEGER),
                    osq.TableColumn(name="context", type=osq.TEXT)]

        def generate(self, context):
            words = osq.constraints(context, "word", osq.EQUALS) or ["alpha", "beta"]
            return [{"word": w, "length": len(w), "context": json.dumps(context)} for w in words]

    osq.start_extension(name="sdk_echo", version="1.2.3")
""")


def start(argv, env=None):
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=env)


def stop(process):
    if process.poll() is None:
        process.kill()
    out = process.communicate(timeout=10)[0]
    return out


def query(daemon, sql):
    client = daemon.client()
    try:
        reply = client.query(sql)
    finally:
        client.transport.close()
    return reply


def wait_for_table(daemon, table, process, timeout=15):
    deadline = time.monotonic() + timeout
    while True:
        reply = query(daemon, f"SELECT count(*) AS c FROM {table}")
        if reply.status.code == 0:
            return
        assert process.poll() is None, f"the extension exited: {stop(process)}"
        assert time.monotonic() < deadline, f"{table} did not appear: {reply.status.message}"
        time.sleep(0.05)


def wait_gone(daemon, table, process):
    process.kill()
    process.wait(timeout=10)
    deadline = time.monotonic() + 2 * INTERVAL + 2  # two intervals, plus a ping's timeout
    while "no such table" not in query(daemon, f"SELECT count(*) AS c FROM {table}").status.message:
        assert time.monotonic() < deadline, f"{table} is still there after the kill"
        time.sleep(0.05)
    assert "has gone away" in daemon.log()


def test_python_sdk_extension(osqd_factory, tmp_path):
    daemon = osqd_factory(*FAST)
    script = tmp_path / "echo_extension.py"
    script.write_text(ECHO_EXTENSION)
    process = start(["/usr/bin/python3", str(script), "--socket", daemon.socket_path,
                     "--interval", "0.5", "--timeout", "5"], env=PY_ENV)
    try:
        wait_for_table(daemon, "sdk_echo", process)
        rows = query(daemon, "SELECT word, length FROM sdk_echo").response
        assert sorted(rows, key=lambda r: r["word"]) == [
            {"word": "alpha", "length": "5"}, {"word": "beta", "length": "4"}]
        # the constraint reached the extension, which answered from it
        rows = query(daemon, "SELECT word, length FROM sdk_echo WHERE word = 'gamma'").response
        assert rows == [{"word": "gamma", "length": "5"}]
        joined = query(daemon, "SELECT p.pid, e.length FROM processes p JOIN sdk_echo e "
                               "ON e.word = 'delta' WHERE p.pid = 1").response
        assert joined == [{"pid": "1", "length": "5"}]
        client = daemon.client()
        listed = {info.name: info for info in client.extensions().values()}
        client.transport.close()
        assert listed["sdk_echo"].version == "1.2.3"
        wait_gone(daemon, "sdk_echo", process)
    finally:
        stop(process)


def test_python_example_extension(osqd_factory):
    daemon = osqd_factory(*FAST)
    process = start(["/usr/bin/python3", str(ROOT / "examples" / "python-extension" /
                                            "pressure_stall.py"),
                     "--socket", daemon.socket_path, "--interval", "0.5", "--timeout", "5"],
                    env=PY_ENV)
    try:
        wait_for_table(daemon, "pressure_stall", process)
        rows = query(daemon, "SELECT * FROM pressure_stall WHERE cgroup = '/'").response
        if os.path.exists("/proc/pressure/cpu"):
            assert {r["resource"] for r in rows} >= {"cpu", "memory", "io"}
            assert all(float(r["avg10"]) >= 0 for r in rows)
        cpu = query(daemon, "SELECT resource FROM pressure_stall "
                            "WHERE cgroup = '/' AND resource = 'cpu'").response
        assert all(r["resource"] == "cpu" for r in cpu)
        # daemon shutdown: the extension hears shutdown() and exits cleanly
        daemon.stop()
        assert process.wait(timeout=10) == 0, stop(process)
    finally:
        stop(process)


def test_c_example_extension(osqd_factory):
    binary = BUILD_ROOT / "examples" / "c-extension" / "osq-ext-kernel-pressure"
    if not binary.exists():
        pytest.fail(f"{binary} is not built")
    daemon = osqd_factory(*FAST)
    process = start([str(binary), "--socket", daemon.socket_path, "--interval", "0.5",
                     "--timeout", "5"])
    try:
        wait_for_table(daemon, "kernel_pressure", process)
        rows = query(daemon, "SELECT * FROM kernel_pressure").response
        if os.path.exists("/proc/pressure/cpu"):
            assert {r["resource"] for r in rows} == {"cpu", "memory", "io"}
            assert {r["kind"] for r in rows} <= {"some", "full"}
        memory = query(daemon, "SELECT resource, kind FROM kernel_pressure "
                               "WHERE resource = 'memory'").response
        assert all(r["resource"] == "memory" for r in memory)
        joined = query(daemon, "SELECT count(*) AS c FROM processes p "
                               "JOIN kernel_pressure k ON k.resource = 'io' "
                               "WHERE p.pid = 1").response
        assert int(joined[0]["c"]) == (2 if os.path.exists("/proc/pressure/io") else 0)
        wait_gone(daemon, "kernel_pressure", process)
    finally:
        stop(process)


def test_c_extension_hears_shutdown(osqd_factory):
    binary = BUILD_ROOT / "examples" / "c-extension" / "osq-ext-kernel-pressure"
    daemon = osqd_factory(*FAST)
    process = start([str(binary), "--socket", daemon.socket_path, "--interval", "0.5"])
    try:
        wait_for_table(daemon, "kernel_pressure", process)
        daemon.stop()
        assert process.wait(timeout=10) == 0, stop(process)
    finally:
        stop(process)


def test_stock_thrift_extension(osqd_factory):
    daemon = osqd_factory(*FAST)
    process = start(["/usr/bin/python3", str(pathlib.Path(__file__).parent /
                                            "stock_thrift_extension.py"),
                     "--socket", daemon.socket_path, "--interval", "0.5"], env=PY_ENV)
    try:
        wait_for_table(daemon, "stock_numbers", process)
        rows = query(daemon, "SELECT n, square FROM stock_numbers").response
        assert len(rows) == 10
        rows = query(daemon, "SELECT n, square FROM stock_numbers WHERE n = 4").response
        assert rows == [{"n": "4", "square": "16"}]
        wait_gone(daemon, "stock_numbers", process)
    finally:
        stop(process)


def test_autoload_require_and_restart(osqd_factory, tmp_path):
    binary = BUILD_ROOT / "examples" / "c-extension" / "osq-ext-kernel-pressure"
    daemon = osqd_factory(wait=False)
    # the daemon runs what it autoloads as root: a file only root may write, in such a directory
    # (a wrapper: the build's binary finds libosq through its build-tree rpath)
    copy = daemon.directory / "kernel_pressure.ext"
    copy.write_text(f'#!/bin/bash\nexec -a "$0" {binary} "$@"\n')
    copy.chmod(0o755)
    unsafe = daemon.directory / "unsafe.ext"
    unsafe.write_text(copy.read_text())
    unsafe.chmod(0o777)
    listing = daemon.directory / "extensions.load"
    listing.write_text(f"# extensions for the test\n{copy}\n\n{unsafe}\n")
    daemon.argv += [*FAST, f"--extensions_autoload={listing}",
                    "--extensions_require=kernel_pressure"]
    daemon.start()
    # --extensions_require: queries are refused, saying why, until the extension is in
    deadline = time.monotonic() + 15
    while True:
        status = query(daemon, "SELECT count(*) AS c FROM kernel_pressure").status
        if status.code == 0:
            break
        assert status.message == ("osqd is starting: waiting for required extensions "
                                  "(kernel_pressure)"), status.message
        assert time.monotonic() < deadline, daemon.log()
        time.sleep(0.02)
    assert "required extensions registered: kernel_pressure" in daemon.log()
    log = daemon.log()
    assert "may be written by others" in log and "unsafe.ext" in log
    client = daemon.client()
    listed = {info.name for info in client.extensions().values()}
    client.transport.close()
    assert listed == {"kernel_pressure"}
    children = _children(daemon.pid)
    assert len(children) == 1, children
    assert "--socket" in _cmdline(children[0]) and "--interval" in _cmdline(children[0])
    # killed: restarted after its backoff, and its table is back
    os.kill(children[0], 9)
    deadline = time.monotonic() + 15
    while True:
        reply = query(daemon, "SELECT count(*) AS c FROM kernel_pressure")
        restarted = _children(daemon.pid)
        if reply.status.code == 0 and restarted and restarted != children:
            break
        assert time.monotonic() < deadline, daemon.log()
        time.sleep(0.1)
    assert "restarting extension" in daemon.log()
    daemon.stop()
    for pid in restarted:
        assert not os.path.exists(f"/proc/{pid}") or _cmdline(pid) == "", "the child outlived osqd"


def _children(parent):
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == parent and fields[0] != "Z":
            found.append(int(entry))
    return found


def _cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def test_require_times_out(osqd_factory):
    daemon = osqd_factory(wait=False)
    daemon.argv += ["--extensions_require=missing_one", "--extensions_timeout=1"]
    daemon.process = subprocess.Popen(daemon.argv, stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT, text=True)
    out = daemon.process.communicate(timeout=30)[0]
    assert daemon.process.returncode != 0
    assert "required extensions did not register" in out and "missing_one" in out


PLUGINS_EXTENSION = textwrap.dedent("""
    import os
    import sys
    import osq

    LOG = sys.argv[sys.argv.index("--log") + 1]
    sys.argv[sys.argv.index("--log"):sys.argv.index("--log") + 2] = []

    @osq.register_plugin
    class Config(osq.ConfigPlugin):
        def name(self):
            return "test_config"

        def content(self):
            return [{"main": '{"options": {"host_identifier": "test"}}'}]

    @osq.register_plugin
    class Logger(osq.LoggerPlugin):
        def name(self):
            return "test_logger"

        def log_string(self, value):
            with open(LOG, "a") as f:
                f.write(value + "\\n")

    osq.start_extension(name="plugins", version="0.1")
""")


def test_config_and_logger_plugins_through_call(osqd_factory, tmp_path):
    daemon = osqd_factory(*FAST, "--extensions_socket_mode=0666")
    script = tmp_path / "plugins_extension.py"
    script.write_text(PLUGINS_EXTENSION)
    log = tmp_path / "logged.txt"
    process = start(["/usr/bin/python3", str(script), "--socket", daemon.socket_path,
                     "--interval", "0.5", "--timeout", "5", "--log", str(log)], env=PY_ENV)
    try:
        deadline = time.monotonic() + 15
        while True:
            client = daemon.client()
            registry = client.query("SELECT registry, name FROM osquery_registry "
                                    "WHERE owner_uuid != 0").response
            if {"registry": "logger", "name": "test_logger"} in registry:
                break
            client.transport.close()
            assert process.poll() is None and time.monotonic() < deadline, stop(process)
            time.sleep(0.05)
        assert {"registry": "config", "name": "test_config"} in registry
        config = client.call("config", "test_config", {"action": "genConfig"})
        assert config.status.code == 0, config.status.message
        assert config.response == [{"main": '{"options": {"host_identifier": "test"}}'}]
        logged = client.call("logger", "test_logger", {"string": "a result line",
                                                       "category": "event"})
        assert logged.status.code == 0, logged.status.message
        assert log.read_text() == "a result line\n"
        missing = client.call("logger", "nope", {"string": "x"})
        assert missing.status.code == 1 and "nope" in missing.status.message
        # a built-in config plugin name cannot be taken
        client.transport.close()
    finally:
        stop(process)
    if os.geteuid() == 0:
        # a peer that may not register extensions may not drive their plugins either
        code = ("import sys; sys.path.insert(0, %r)\n"
                "from thrift.transport import TSocket, TTransport\n"
                "from thrift.protocol import TBinaryProtocol\n"
                "from osq.gen.osquery import ExtensionManager\n"
                "t = TTransport.TBufferedTransport(TSocket.TSocket(unix_socket=%r)); t.open()\n"
                "c = ExtensionManager.Client(TBinaryProtocol.TBinaryProtocol(t))\n"
                "r = c.call('config', 'test_config', {'action': 'genConfig'})\n"
                "print(r.status.code, r.status.message)\n" % (str(THRIFT_PY), daemon.socket_path))
        out = subprocess.run(["/usr/bin/python3", "-c", code], capture_output=True, text=True,
                             timeout=30, user=65534, group=65534)
        assert out.stdout.startswith("1 access denied"), out.stdout + out.stderr
