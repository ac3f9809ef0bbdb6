# SPDX-License-Identifier: Apache-2.0
"""osqd's life: start-up checks (a second daemon on the same socket or pidfile, stale and foreign
files at the socket path, bad flags), --help, --flagfile, clean shutdown on SIGTERM, SIGINT and
a root shutdown() call, and what a non-root peer may do."""

import os
import signal
import socket
import stat
import subprocess
import sys
import textwrap
import time

import pytest

from conftest import THRIFT_PY, OsqdProcess
from daemon_wire import (PING_CALL, PING_REPLY, SHUTDOWN_CALL, SHUTDOWN_REPLY, recv_exact)

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (runs a client as uid "
                                "65534, or changes a socket's group)")


def run_osqd(osqd_path, *args, timeout=30):
    return subprocess.run([osqd_path, *args], capture_output=True, text=True, timeout=timeout)


def test_sigterm_cleanup(osqd):
    assert os.path.exists(osqd.socket_path)
    with open(osqd.pidfile) as pidfile:
        assert int(pidfile.read()) == osqd.pid
    with osqd.connect() as idle:  # a connected client does not hold up the shutdown
        idle.sendall(PING_CALL)
        assert recv_exact(idle, len(PING_REPLY)) == PING_REPLY
        osqd.stop(signal.SIGTERM)  # checks exit status 0, socket and pidfile removed
    assert "stopped" in osqd.log()


def test_sigint_cleanup(osqd):
    osqd.stop(signal.SIGINT)


def test_second_daemon_refused(osqd, osqd_path, tmp_path):
    same_socket = run_osqd(osqd_path, f"--extensions_socket={osqd.socket_path}",
                           f"--pidfile={tmp_path / 'other.pid'}")
    assert same_socket.returncode == 1
    assert "another daemon is already serving" in same_socket.stderr
    assert not (tmp_path / "other.pid").exists()

    other_socket = str(osqd.directory / "other.em")
    same_pidfile = run_osqd(osqd_path, f"--extensions_socket={other_socket}",
                            f"--pidfile={osqd.pidfile}")
    assert same_pidfile.returncode == 1
    assert f"osqd is already running (pid {osqd.pid}" in same_pidfile.stderr
    assert not os.path.exists(other_socket)
    # the first daemon is untouched
    with osqd.connect() as sock:
        sock.sendall(PING_CALL)
        assert recv_exact(sock, len(PING_REPLY)) == PING_REPLY


def test_stale_socket_and_pidfile_taken_over(osqd_path):
    daemon = OsqdProcess(osqd_path)
    try:
        stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        stale.bind(daemon.socket_path)  # a socket file nobody listens on
        stale.close()
        with open(daemon.pidfile, "w") as pidfile:
            pidfile.write("999999\n")  # a crashed daemon's pidfile, not locked
        extension = daemon.socket_path + ".4242"
        old = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old.bind(extension)
        old.close()
        daemon.start()
        with open(daemon.pidfile) as pidfile:
            assert int(pidfile.read()) == daemon.pid
        assert not os.path.exists(extension)
        daemon.stop()
    finally:
        daemon.cleanup()


def test_refuses_foreign_file_and_missing_directory(osqd_path, tmp_path):
    foreign = tmp_path / "not-a-socket"
    foreign.write_text("keep me")
    result = run_osqd(osqd_path, f"--extensions_socket={foreign}",
                      f"--pidfile={tmp_path / 'p.pid'}")
    assert result.returncode == 1
    assert "exists and is not a socket" in result.stderr
    assert foreign.read_text() == "keep me"
    assert not (tmp_path / "p.pid").exists()

    result = run_osqd(osqd_path, f"--extensions_socket={tmp_path / 'no' / 'dir.em'}",
                      f"--pidfile={tmp_path / 'p.pid'}")
    assert result.returncode == 1
    assert "does not exist" in result.stderr


def test_bad_flags(osqd_path, tmp_path):
    for args, message in [
        (["--no_such_flag"], "unknown flag --no_such_flag"),
        (["--query_timeout=soon"], "--query_timeout"),
        (["--extensions_socket_mode=999"], "--extensions_socket_mode"),
        (["--extensions_socket_group=no-such-group-osq"], "no group named"),
        (["--rpc_max_connections=0"], "--rpc_max_connections"),
        (["--flagfile=/nonexistent/osqd.flags"], "cannot read flagfile"),
        (["stray"], "unexpected argument"),
    ]:
        result = run_osqd(osqd_path, f"--extensions_socket={tmp_path / 's.em'}",
                          f"--pidfile={tmp_path / 'p.pid'}", *args)
        assert result.returncode == 1, args
        assert message in result.stderr, (args, result.stderr)
        assert not (tmp_path / "s.em").exists()


def test_help_and_version(osqd_path):
    result = run_osqd(osqd_path, "--help")
    assert result.returncode == 0
    for name in ["extensions_socket", "pidfile", "database_path", "flagfile", "verbose",
                 "extensions_timeout", "extensions_interval", "extensions_socket_group",
                 "extensions_socket_mode", "access_policy", "rpc_max_connections",
                 "query_timeout", "query_max_rows", "query_max_bytes", "rpc_max_message",
                 "rpc_idle_timeout"]:
        assert f"--{name} (" in result.stdout, name
    result = run_osqd(osqd_path, "--version")
    assert result.returncode == 0 and result.stdout.startswith("osqd ")


def test_flagfile(osqd_factory, tmp_path):
    flagfile = tmp_path / "osqd.flags"
    flagfile.write_text(textwrap.dedent("""\
        # limits for this test
        --query_max_rows=3

        --extensions_timeout=7
        --config_plugin=filesystem
        --disable_watchdog=true
        """))
    daemon = osqd_factory(f"--flagfile={flagfile}")
    client = daemon.client()
    try:
        options = client.options()
        assert options["query_max_rows"].value == "3"
        assert options["query_max_rows"].default_value == "1000000"
        assert options["extensions_timeout"].value == "7"
        assert options["flagfile"].value == str(flagfile)
        assert options["config_plugin"].value == "filesystem"
        response = client.query("SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL "
                                "SELECT 4")
        assert response.status.code == 1
        assert "--query_max_rows" in response.status.message
    finally:
        client.transport.close()
    # an osquery flag osqd does not have is reported and skipped, not fatal, in a flagfile
    assert "ignoring unknown flag --disable_watchdog=true" in daemon.log()


@pytest.mark.skipif(os.geteuid() != 0, reason="shutdown() is for root only; needs root")
def test_shutdown_call_as_root(osqd):
    with osqd.connect() as sock:
        sock.sendall(SHUTDOWN_CALL)
        assert recv_exact(sock, len(SHUTDOWN_REPLY)) == SHUTDOWN_REPLY
    assert osqd.process.wait(timeout=30) == 0
    osqd.stop()  # already exited: checks the socket and pidfile are gone
    assert "shutdown requested by uid 0" in osqd.log()


NON_ROOT_CLIENT = textwrap.dedent("""\
    import os, sys
    os.setgroups([])
    os.setgid(65534)
    os.setuid(65534)
    sys.path.insert(0, sys.argv[2])
    from thrift.Thrift import TApplicationException
    from thrift.protocol import TBinaryProtocol
    from thrift.transport import TSocket, TTransport
    from osq.gen.osq import OsqManager
    transport = TTransport.TBufferedTransport(TSocket.TSocket(unix_socket=sys.argv[1]))
    client = OsqManager.Client(TBinaryProtocol.TBinaryProtocolAccelerated(transport))
    try:
        transport.open()
    except Exception as error:
        print("connect failed:", error)
        sys.exit(0)
    print("query:", client.query("SELECT 1 AS x").response)
    try:
        client.shutdown()
        print("shutdown: allowed")
    except TApplicationException as error:
        print("shutdown:", error.type, error.message)
    """)


def run_as_nobody(socket_path):
    result = subprocess.run([sys.executable, "-c", NON_ROOT_CLIENT, socket_path, str(THRIFT_PY)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


@needs_root
def test_non_root_peer(osqd_factory):
    # default mode 0660 root:root: another user cannot even connect
    private = osqd_factory()
    assert "connect failed" in run_as_nobody(private.socket_path)

    daemon = osqd_factory("--extensions_socket_mode=0666")
    out = run_as_nobody(daemon.socket_path)
    assert "query: [{'x': '1'}]" in out
    assert "shutdown: 6 access denied: uid 65534 may not shut down osqd" in out
    assert daemon.process.poll() is None
    log = daemon.log()
    assert "from uid 65534 gid 65534" in log  # SO_PEERCRED
    assert "refused shutdown from uid 65534" in log


@needs_root
def test_socket_group(osqd_factory):
    daemon = osqd_factory("--extensions_socket_group=65534", "--extensions_socket_mode=0660")
    info = os.stat(daemon.socket_path)
    assert info.st_gid == 65534
    assert stat.S_IMODE(info.st_mode) == 0o660


def test_shutdown_while_clients_busy(osqd):
    clients = [osqd.client() for _ in range(4)]
    try:
        for client in clients:
            assert client.ping().code == 0
        start = time.monotonic()
        osqd.stop()
        assert time.monotonic() - start < 10
    finally:
        for client in clients:
            client.transport.close()
