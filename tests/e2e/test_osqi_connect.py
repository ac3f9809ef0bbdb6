# SPDX-License-Identifier: Apache-2.0
"""osqi --connect and .connect/.disconnect against a real osqd: every output mode prints what
in-process osqi prints, scripts run statement by statement, the dot-commands that need the
tables (.tables, -L, -A, .types) ask the daemon, .schema says it is not available, and .show
names the connection."""

import os
import pty
import time

import pytest

from client_helpers import LineSession, kill
from conftest import run_osqi
from test_osqi import Terminal

SQL = ("SELECT pid, name, 1.5 AS d, NULL AS n, 'a|b,\"c\"' AS t FROM processes WHERE pid = 1 "
       "UNION ALL SELECT 0, 'zero', -2.0, NULL, ''")


# `osqd` (conftest.py) is a real daemon on a temporary socket, one per test


@pytest.mark.parametrize("mode", [
    [], ["--list"], ["--csv"], ["--line"], ["--json"], ["--json_pretty"],
    ["--list", "--header=false", "--separator", "\t"], ["--nullvalue", "NULL"],
])
def test_output_modes_match_in_process(osqi_path, osqd, mode):
    remote = run_osqi(osqi_path, "--connect", osqd.socket_path, *mode, SQL)
    local = run_osqi(osqi_path, *mode, SQL)
    assert remote.returncode == local.returncode == 0, remote.stderr
    assert remote.stdout == local.stdout
    assert remote.stderr == local.stderr == ""


def test_script_on_stdin(osqi_path, osqd):
    script = (".mode list\nSELECT 1 AS a;\nSELECT 'x;y' AS b; SELECT 2 AS c\n;\n"
              "-- a comment;\nSELECT * FROM nope;\nSELECT 3 AS d;\n")
    remote = run_osqi(osqi_path, "--connect", osqd.socket_path, stdin=script)
    local = run_osqi(osqi_path, stdin=script)
    assert remote.stdout == local.stdout
    assert remote.stderr == local.stderr
    assert remote.returncode == local.returncode == 1
    assert "a\n1\nb\nx;y\nc\n2\nd\n3\n" == remote.stdout


def test_tables_and_all(osqi_path, osqd):
    remote = run_osqi(osqi_path, "--connect", osqd.socket_path, ".tables")
    assert remote.returncode == 0, remote.stderr
    names = [line.removeprefix("  => ") for line in remote.stdout.splitlines()]
    assert "processes" in names and "time" in names
    assert "json_each" not in names and "fts5" not in names
    # the daemon's built-in tables are this build's
    assert remote.stdout == run_osqi(osqi_path, ".tables").stdout
    assert run_osqi(osqi_path, "--connect", osqd.socket_path, ".tables proc").stdout == \
        run_osqi(osqi_path, ".tables proc").stdout
    listed = run_osqi(osqi_path, "--connect", osqd.socket_path, "-L")
    assert listed.stdout == remote.stdout
    everything = run_osqi(osqi_path, "--connect", osqd.socket_path, "--list", "-A", "os_version")
    assert everything.returncode == 0, everything.stderr
    assert everything.stdout == run_osqi(osqi_path, "--list", "-A", "os_version").stdout


def test_types_and_schema(osqi_path, osqd):
    types = run_osqi(osqi_path, "--connect", osqd.socket_path, "--list",
                     ".types SELECT pid, name FROM processes")
    assert types.returncode == 0, types.stderr
    assert types.stdout == "name|type\npid|BIGINT\nname|TEXT\n"
    schema = run_osqi(osqi_path, "--connect", osqd.socket_path, ".schema processes")
    assert schema.returncode == 1
    assert "not available over --connect" in schema.stderr


def test_show_and_connect_commands(osqi_path, osqd):
    session = LineSession([osqi_path, "--list"])
    try:
        lines, err = session.ask("SELECT 1 AS a;", 2)
        assert lines == ["a", "1"] and err == ""
        # .connect: the same shell, now on the daemon
        lines, err = session.ask(f".connect {osqd.socket_path}", 0, timeout=2)
        assert err == ""
        lines, err = session.ask(".show", 16)
        assert f"   connection: {osqd.socket_path}" in lines
        lines, err = session.ask("SELECT pid FROM processes WHERE pid = 1;", 2)
        assert lines == ["pid", "1"] and err == ""
        lines, err = session.ask(".disconnect", 0, timeout=2)
        assert err == ""
        lines, err = session.ask(".show", 16)
        assert "   connection: none (in-process)" in lines
        lines, err = session.ask(".disconnect", 1, timeout=5)
        assert "not connected" in err
        lines, err = session.ask(".connect /nonexistent/osqd.em", 1, timeout=5)
        assert err.startswith("Error: cannot connect to /nonexistent/osqd.em")
    finally:
        session.close()


def test_connect_failure_exits(osqi_path, tmp_path):
    result = run_osqi(osqi_path, "--connect", str(tmp_path / "none.em"), "SELECT 1")
    assert result.returncode == 1
    assert result.stderr.startswith(f"Error: cannot connect to {tmp_path / 'none.em'}")


def test_timeout_over_connect(osqi_path, osqd):
    endless = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c;"
    result = run_osqi(osqi_path, "--connect", osqd.socket_path, "--timeout", "300", endless)
    assert result.returncode == 1
    assert "within 300 ms" in result.stderr


def test_daemon_restarts_under_the_shell(osqi_path, osqd):
    daemon = osqd
    session = LineSession([osqi_path, "--list", "--connect", daemon.socket_path])
    try:
        lines, err = session.ask("SELECT 1 AS a;", 2)
        assert lines == ["a", "1"] and err == ""
        kill(daemon)
        lines, err = session.ask("SELECT 2 AS b;", 1, timeout=5)
        assert lines == [], lines
        assert err.startswith(f"Error: near line 2: cannot connect to {daemon.socket_path}"), err
        daemon.start()
        lines, err = session.ask("SELECT 3 AS c;", 2)
        assert lines == ["c", "3"] and err == ""
    finally:
        session.close()


class RemoteTerminal(Terminal):
    """test_osqi's pseudo-terminal, with osqi started as `osqi --connect SOCKET`."""

    def __init__(self, osqi, home, socket_path):  # pylint: disable=super-init-not-called
        env = {k: v for k, v in os.environ.items() if k != "HOME"}
        env["TERM"] = "xterm"
        env["HOME"] = str(home)
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.execve(osqi, [osqi, "--connect", socket_path], env)
        self.output = ""
        self.seen = 0


def test_interactive_ctrl_c_over_connect(osqi_path, osqd, tmp_path):
    terminal = RemoteTerminal(osqi_path, tmp_path, osqd.socket_path)
    try:
        terminal.expect(r"Connected to .*\.em.*\. Need help, type '\.help'")
        terminal.expect(r"^osq> ")
        terminal.send("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
                      "SELECT count(*) FROM c;\r")
        time.sleep(0.5)
        start = time.monotonic()
        terminal.send("\x03")
        terminal.expect(r"Error: query cancelled\n")
        terminal.expect(r"^osq> ")
        assert time.monotonic() - start < 5
        # the shell reconnects for the next statement
        terminal.send("SELECT 1;\r")
        terminal.expect(r"^\| 1 \|$")
        terminal.expect(r"^osq> ")
        terminal.send("\x04")
        assert terminal.wait() == 0
    finally:
        try:
            os.kill(terminal.pid, 9)
            os.waitpid(terminal.pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
