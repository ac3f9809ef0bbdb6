# SPDX-License-Identifier: Apache-2.0
"""Helpers for the client end-to-end tests (test_clients.py, test_osqi_connect.py): the fake
osquery daemon on a temporary socket, the C example client, and long-lived client sessions. The
real osqd comes from conftest.py's `osqd` fixture."""

import os
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import time

from conftest import BUILD_ROOT, SOURCE_ROOT

OSQ_QUERY = BUILD_ROOT / "examples" / "c-client" / "osq-query"


def wait_for_socket(path, proc, timeout=10.0):
    """Waits until something accepts connections on path (or proc died)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args[0]} exited with {proc.returncode}: "
                               f"{proc.stderr.read() if proc.stderr else ''}")
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.connect(str(path))
                return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"nothing listens on {path} after {timeout} s")


class Daemon:
    """An osqd (or fake osquery) process on a socket in a private temporary directory. The
    directory is short-lived and short-named: sun_path holds 107 bytes."""

    def __init__(self, argv_func, name="osqd.em"):
        self.dir = tempfile.mkdtemp(prefix="osq-e2e-")
        self.socket = os.path.join(self.dir, name)
        self.argv_func = argv_func
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(self.argv_func(self), stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     text=True)
        wait_for_socket(self.socket, self.proc)
        return self

    def kill(self, sig=signal.SIGKILL):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=10)

    def stop(self):
        self.kill(signal.SIGTERM)
        if self.proc is not None and self.proc.stderr is not None:
            self.proc.stderr.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def kill(daemon):
    """SIGKILLs a conftest OsqdProcess (its socket and pidfile stay behind, stale)."""
    if daemon.process.poll() is None:
        daemon.process.send_signal(signal.SIGKILL)
        daemon.process.wait(timeout=10)


def fake_osquery_daemon():
    """The fake osquery (tests/e2e/fake_osquery.py) with bindings generated into its
    directory by Thrift's compiler."""
    thrift = shutil.which("thrift")
    if thrift is None:
        import pytest
        pytest.skip("the thrift compiler is not installed")

    def argv(daemon):
        subprocess.run([thrift, "--gen", "py", "-out", daemon.dir,
                        str(SOURCE_ROOT / "idl" / "osquery.thrift")], check=True)
        return ["/usr/bin/python3", str(SOURCE_ROOT / "tests" / "e2e" / "fake_osquery.py"),
                daemon.socket, daemon.dir]
    return Daemon(argv, name="osquery.em")


def run_osq_query(socket_path, sql, *flags, stdin=None, timeout=60):
    """Runs the C example client; returns the CompletedProcess (text mode)."""
    assert OSQ_QUERY.exists(), f"{OSQ_QUERY} is not built"
    argv = [str(OSQ_QUERY), *flags, str(socket_path)] + ([sql] if sql else [])
    return subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=timeout)


class LineSession:
    """A client reading one statement per stdin line (osq-query SOCKET - or osqi), for tests
    that need one long-lived connection."""

    def __init__(self, argv):
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        self.out = b""
        self.err = b""

    def ask(self, line, n_lines, timeout=15.0):
        """Sends line; returns (the next n_lines stdout lines, stderr text) once they came or
        stderr holds a whole error line (or at the timeout)."""
        self.proc.stdin.write(line.encode() + b"\n")
        self.proc.stdin.flush()
        deadline = time.monotonic() + timeout
        fds = [self.proc.stdout.fileno(), self.proc.stderr.fileno()]
        while time.monotonic() < deadline:
            if self.out.count(b"\n") >= n_lines or self.err.endswith(b"\n"):
                break
            ready, _, _ = select.select(fds, [], [], max(0.0, deadline - time.monotonic()))
            for fd in ready:
                data = os.read(fd, 65536)
                if fd == fds[0]:
                    self.out += data
                else:
                    self.err += data
        lines = []
        while len(lines) < n_lines and b"\n" in self.out:
            head, self.out = self.out.split(b"\n", 1)
            lines.append(head.decode())
        err, self.err = self.err.decode(), b""
        return lines, err

    def close(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for stream in (self.proc.stdout, self.proc.stderr):
            stream.close()

