# SPDX-License-Identifier: Apache-2.0
"""osqi end to end: flags, output modes, piped input, dot-commands, errors, and an interactive
session on a pseudo-terminal (prompt, completion, Ctrl-C cancelling a running query)."""

import json
import os
import pty
import re
import select
import signal
import subprocess
import time

import pytest

from conftest import run_osqi

FIXED = "SELECT 1 AS a, 'x' AS b, NULL AS c, 2.5 AS d"
ENDLESS = ("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c) "
           "SELECT count(*) FROM c;")

EXPECTED = {
    "pretty": ("+---+---+---+-----+\n"
               "| a | b | c | d   |\n"
               "+---+---+---+-----+\n"
               "| 1 | x |   | 2.5 |\n"
               "+---+---+---+-----+\n"),
    "line": "    a = 1\n    b = x\n    c = \n    d = 2.5\n",
    "csv": "a,b,c,d\n1,x,,2.5\n",
    "list": "a|b|c|d\n1|x||2.5\n",
    "json": '[\n  {"a":1,"b":"x","c":null,"d":2.5}\n]\n',
    "column": ("a           b           c           d         \n"
               "----------  ----------  ----------  ----------\n"
               "1           x                       2.5       \n"),
}


def ok(osqi, *args, stdin=None):
    result = run_osqi(osqi, *args, stdin=stdin)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return result.stdout


# ---- one-shot and flags ----

def test_one_shot_pretty(osqi_path):
    assert ok(osqi_path, FIXED) == EXPECTED["pretty"]


@pytest.mark.parametrize("mode", ["line", "csv", "list", "json"])
def test_mode_flags(osqi_path, mode):
    assert ok(osqi_path, f"--{mode}", FIXED) == EXPECTED[mode]


def test_column_mode_command(osqi_path):
    assert ok(osqi_path, stdin=f".mode column\n{FIXED};\n") == EXPECTED["column"]


def test_json_keeps_types_and_order(osqi_path):
    out = ok(osqi_path, "--json", "SELECT 'z' AS zeta, 3 AS alpha, 0.25 AS mid, NULL AS n "
             "UNION ALL SELECT 'q', -1, 1e3, 'text'")
    rows = json.loads(out)
    assert rows == [{"zeta": "z", "alpha": 3, "mid": 0.25, "n": None},
                    {"zeta": "q", "alpha": -1, "mid": 1000.0, "n": "text"}]
    assert list(rows[0]) == ["zeta", "alpha", "mid", "n"]


def test_json_pretty(osqi_path):
    out = ok(osqi_path, "--json_pretty", FIXED)
    assert json.loads(out) == [{"a": 1, "b": "x", "c": None, "d": 2.5}]
    assert out.startswith("[\n    {\n")


def test_json_empty_result(osqi_path):
    assert ok(osqi_path, "--json", "SELECT 1 AS a WHERE 0") == "[\n\n]\n"
    assert ok(osqi_path, "SELECT 1 AS a WHERE 0") == ""


def test_mode_precedence(osqi_path):
    assert ok(osqi_path, "--csv", "--line", "--list", "--json", FIXED) == EXPECTED["list"]
    assert ok(osqi_path, "--csv", "--line", FIXED) == EXPECTED["line"]
    assert ok(osqi_path, "--json", "--csv", FIXED) == EXPECTED["csv"]
    # csv forces its separator
    assert ok(osqi_path, "--csv", "--separator", ";", FIXED) == EXPECTED["csv"]


def test_flag_value_forms(osqi_path):
    expected = "1;x;NULL;2.5\n"
    assert ok(osqi_path, "--list", "--header=false", "--separator=;", "--nullvalue=NULL",
              FIXED) == expected
    # a boolean flag never takes the next argument as its value
    assert ok(osqi_path, "--list", "--header", "SELECT 5 AS five") == "five\n5\n"
    assert ok(osqi_path, "--list", "--noheader", "--separator", ";", "--nullvalue", "NULL",
              FIXED) == expected
    assert ok(osqi_path, "-list", "-header=0", "-separator", ";", "-nullvalue", "NULL",
              FIXED) == expected


def test_unknown_flag(osqi_path):
    result = run_osqi(osqi_path, "--bogus", "SELECT 1")
    assert result.returncode == 1
    assert result.stderr == "Error: unknown flag --bogus\n"
    result = run_osqi(osqi_path, "--x=1")
    assert result.returncode == 1
    assert result.stderr == "Error: unknown flag --x\n"
    result = run_osqi(osqi_path, "--timeout", "soon", "SELECT 1")
    assert result.returncode == 1 and "--timeout" in result.stderr


def test_help_and_version(osqi_path):
    out = ok(osqi_path, "--help")
    for flag in ("--json", "--json_pretty", "--csv", "--line", "--list", "--header",
                 "--separator", "--nullvalue", "-L", "-A TABLE", "--root", "--timeout"):
        assert flag in out
    assert "JSON" in out and "type" in out  # the documented difference from osqueryi
    assert re.fullmatch(r"osqi version \S+\n", ok(osqi_path, "--version"))


def test_root_and_timeout(osqi_path, tmp_path):
    assert ok(osqi_path, "--root", str(tmp_path), "--list", "SELECT 7") == "7\n7\n"
    start = time.monotonic()
    result = run_osqi(osqi_path, "--timeout=200", ENDLESS)
    assert result.returncode == 1
    assert result.stderr.startswith("Error: ")
    assert time.monotonic() - start < 10


# ---- errors and the read-only engine ----

def test_malformed_sql(osqi_path):
    result = run_osqi(osqi_path, "SELEC 1")
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == 'Error: near "SELEC": syntax error\n'


@pytest.mark.parametrize("sql", ["CREATE TABLE main.t(x)", "ATTACH ':memory:' AS other",
                                 "PRAGMA writable_schema = 1"])
def test_writes_rejected(osqi_path, sql):
    result = run_osqi(osqi_path, sql)
    assert result.returncode == 1
    assert result.stderr.startswith("Error: ")
    assert "not authorized" in result.stderr


def test_temp_table_allowed(osqi_path):
    out = ok(osqi_path, "--list", "CREATE TEMP TABLE t(x); INSERT INTO t VALUES (4); "
             "SELECT x FROM t")
    assert out == "x\n4\n"


# ---- stdin ----

def test_stdin_simple(osqi_path):
    out = ok(osqi_path, stdin="SELECT * FROM time;\n")
    assert "unix_time" in out and out.startswith("+")


def test_stdin_multiline_and_error_line(osqi_path):
    script = ("-- leading comment\n"
              "SELECT 1\n"
              "  AS one;\n"
              "\n"
              "SELECT 'a;b' AS s; SELECT\n"
              "  nope FROM time;\n"
              "SELECT 2 AS two;\n"
              "SELECT 3 AS three\n")
    result = run_osqi(osqi_path, "--list", stdin=script)
    assert result.returncode == 1
    assert result.stdout == "one\n1\ns\na;b\ntwo\n2\nthree\n3\n"
    assert result.stderr == "Error: near line 5: no such column: nope\n"


def test_stdin_dot_commands_and_bail(osqi_path):
    result = run_osqi(osqi_path, stdin=".mode csv\n.headers off\nSELECT 'a b', 1;\n"
                      ".bail on\n.nosuch\nSELECT 2;\n")
    assert result.returncode == 1
    assert result.stdout == '"a b",1\n'
    assert result.stderr == ('Error: unknown command or invalid arguments:  "nosuch". '
                             'Enter ".help" for help\n')


def test_stdin_exit_code(osqi_path):
    result = run_osqi(osqi_path, "--list", stdin="SELECT 1;\n.exit 4\nSELECT 2;\n")
    assert result.returncode == 4
    assert result.stdout == "1\n1\n"


# ---- tables and dot-commands ----

def test_list_tables(osqi_path):
    out = ok(osqi_path, "-L")
    lines = out.splitlines()
    assert "  => time" in lines
    assert all(line.startswith("  => ") for line in lines)
    assert lines == sorted(lines)
    assert ok(osqi_path, ".tables") == out
    assert ok(osqi_path, ".tables ti") == "".join(
        line + "\n" for line in lines if line[5:].startswith("ti"))


def test_all_table(osqi_path):
    out = ok(osqi_path, "--line", "-A", "time")
    assert re.search(r"^ +unix_time = \d+$", out, re.M)
    assert ok(osqi_path, "--line", "-A=time").count("unix_time") == 1
    result = run_osqi(osqi_path, "-A", "no_such_table")
    assert result.returncode == 1
    assert result.stderr == "Error: no such table: no_such_table\n"


def test_schema(osqi_path):
    out = ok(osqi_path, ".schema time")
    assert out.startswith("CREATE TABLE time(`weekday` TEXT, `year` INTEGER, ")
    assert out.endswith(", `iso_8601` TEXT);\n")
    assert ok(osqi_path, ".sch tim") == out


def test_types(osqi_path):
    out = ok(osqi_path, "--list", ".types SELECT unix_time, weekday, 1.5 AS f, 'x' AS t FROM time")
    assert out == "name|type\nunix_time|INTEGER\nweekday|TEXT\nf|DOUBLE\nt|TEXT\n"


def test_dot_command_errors(osqi_path):
    result = run_osqi(osqi_path, ".mode fancy")
    assert result.returncode == 1
    assert result.stderr == "Error: mode should be one of: column csv line list pretty\n"
    result = run_osqi(osqi_path, ".headers perhaps")
    assert result.stderr == 'ERROR: Not a boolean value: "perhaps". Assuming "no".\n'
    result = run_osqi(osqi_path, ".exit 3")
    assert result.returncode == 0  # an exit request in the argument counts as success
    result = run_osqi(osqi_path, ".help")
    assert result.returncode == 0 and result.stdout == "" and ".schema" in result.stderr


def test_show_and_print(osqi_path):
    out = ok(osqi_path, stdin=".mode line\n.nullvalue N/A\n.show\n.print hello  world\n")
    assert "         mode: line\n" in out
    assert '    nullvalue: "N/A"\n' in out
    assert out.endswith("hello world\n")


def test_timer(osqi_path):
    out = ok(osqi_path, "--list", stdin=".timer on\nSELECT 1;\n")
    assert re.fullmatch(r"1\n1\nRun Time: real \d+\.\d{3} user \d+\.\d{6} sys \d+\.\d{6}\n", out)


# ---- interactive, on a pseudo-terminal ----

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\r")


class Terminal:
    """osqi on a pseudo-terminal, driven like a user would."""

    def __init__(self, osqi, home, cwd=None):
        env = {k: v for k, v in os.environ.items() if k != "HOME"}
        env["TERM"] = "xterm"
        if home is not None:
            env["HOME"] = str(home)
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            if cwd is not None:
                os.chdir(cwd)
            os.execve(osqi, [osqi], env)
        self.output = ""
        self.seen = 0

    def send(self, text):
        os.write(self.fd, text.encode())

    def read(self, seconds):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            ready, _, _ = select.select([self.fd], [], [], 0.05)
            if not ready:
                continue
            try:
                data = os.read(self.fd, 65536)
            except OSError:
                return
            if not data:
                return
            self.output += data.decode(errors="replace")

    def expect(self, pattern, timeout=10):
        """Waits until pattern shows up after what earlier expects matched; returns it."""
        end = time.monotonic() + timeout
        regex = re.compile(pattern, re.M)
        while True:
            clean = ANSI.sub("", self.output)
            match = regex.search(clean, self.seen)
            if match:
                self.seen = match.end()
                return match
            if time.monotonic() > end:
                raise AssertionError(f"{pattern!r} not seen in {clean[self.seen:]!r}")
            self.read(0.1)

    def wait(self, timeout=10):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                os.close(self.fd)
                return os.waitstatus_to_exitcode(status)
            self.read(0.05)
        os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)
        raise AssertionError("osqi did not exit")


@pytest.fixture
def terminal(osqi_path, tmp_path):
    term = Terminal(osqi_path, tmp_path)
    yield term
    try:
        os.kill(term.pid, signal.SIGKILL)
        os.waitpid(term.pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass


def test_interactive_query_and_quit(terminal, tmp_path):
    terminal.expect(r"Using a virtual database\. Need help, type '\.help'")
    terminal.expect(r"^osq> ")
    terminal.send("SELECT 1 AS a,\r")
    terminal.expect(r"^   \.\.\.> ")
    terminal.send("'x' AS b;\r")
    terminal.expect(r"^\| a \| b \|\n\+---\+---\+\n\| 1 \| x \|\n\+---\+---\+\n")
    terminal.expect(r"^osq> ")
    terminal.send(".quit\r")
    assert terminal.wait() == 0
    history = (tmp_path / ".osqi_history").read_text()
    assert ".quit" in history and "'x'\\040AS\\040b;" in history


def test_interactive_ctrl_c_cancels_query(terminal):
    terminal.expect(r"^osq> ")
    terminal.send(ENDLESS + "\r")
    time.sleep(0.5)
    start = time.monotonic()
    terminal.send("\x03")
    terminal.expect(r"Error: query cancelled\n")
    terminal.expect(r"^osq> ")
    assert time.monotonic() - start < 5
    terminal.send("SELECT 1;\r")
    terminal.expect(r"^\| 1 \|$")
    terminal.expect(r"^osq> ")
    terminal.send("\x04")  # Ctrl-D on an empty line
    assert terminal.wait() == 0


def test_interactive_ctrl_c_clears_line(terminal):
    terminal.expect(r"^osq> ")
    terminal.send("SELECT 'typed but abandoned'")
    time.sleep(0.2)
    terminal.send("\x03")
    terminal.expect(r"^osq> ")
    terminal.send("SELECT 2 AS n;\r")
    terminal.expect(r"^\| 2 \|$")
    assert "abandoned' |" not in ANSI.sub("", terminal.output)
    terminal.send(".exit 5\r")
    assert terminal.wait() == 5


def test_interactive_completion(terminal):
    terminal.expect(r"^osq> ")
    terminal.send(".sch\t")
    terminal.expect(r"\.schema ")
    terminal.send("tim\t")
    terminal.expect(r"time ")
    terminal.send("\r")
    terminal.expect(r"^CREATE TABLE time\(")
    terminal.send("SELECT unix_t\t FROM time;\r")
    terminal.expect(r"^\| unix_time +\|$")
    terminal.send(".q\r")
    assert terminal.wait() == 0


def test_interactive_without_home(osqi_path, tmp_path):
    term = Terminal(osqi_path, None, cwd=tmp_path)
    term.expect(r"^osq> ")
    term.send("SELECT 3;\r")
    term.expect(r"^\| 3 \|$")
    term.send(".quit\r")
    assert term.wait() == 0
    assert list(tmp_path.iterdir()) == []
