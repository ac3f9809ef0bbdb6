# SPDX-License-Identifier: Apache-2.0
"""Shared fixtures for the end-to-end tests: where the built binaries and the sources are."""

import os
import pathlib
import subprocess

import pytest

SOURCE_ROOT = pathlib.Path(os.environ.get("OSQ_SOURCE_ROOT", pathlib.Path(__file__).parents[2]))
BUILD_ROOT = pathlib.Path(os.environ.get("OSQ_BUILD_ROOT", SOURCE_ROOT / "build"))


@pytest.fixture(scope="session")
def osqi_path():
    path = BUILD_ROOT / "service" / "shell" / "osqi"
    assert path.exists(), f"{path} is not built"
    return str(path)


@pytest.fixture(scope="session")
def fixtures_dir():
    return SOURCE_ROOT / "tests" / "fixtures"


def run_osqi(osqi, *args, stdin=None, timeout=60):
    """Runs osqi with args; returns the CompletedProcess (text mode)."""
    return subprocess.run([osqi, *args], input=stdin, capture_output=True, text=True,
                          timeout=timeout)


# ---- osqd: a real daemon on a temporary socket ----

import signal  # noqa: E402
import socket  # noqa: E402
import shutil  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

THRIFT_PY = pathlib.Path(os.environ.get("OSQ_THRIFT_PY", BUILD_ROOT / "idl" / "py"))


def import_thrift_gen():
    """Makes the build's generated code (osq.gen.osquery, osq.gen.osq) importable."""
    if str(THRIFT_PY) not in sys.path:
        sys.path.insert(0, str(THRIFT_PY))


class OsqdProcess:
    """One osqd process on a socket in a short temporary directory (a Unix socket path must fit
    in 107 bytes, which pytest's tmp_path does not promise). Logs go to osqd.log there."""

    def __init__(self, path, args=(), verbose=True):
        self.directory = pathlib.Path(tempfile.mkdtemp(prefix="osqd-", dir="/tmp"))
        os.chmod(self.directory, 0o755)
        self.socket_path = str(self.directory / "osquery.em")
        self.pidfile = str(self.directory / "osqd.pid")
        self.log_path = self.directory / "osqd.log"
        self.argv = [path, f"--extensions_socket={self.socket_path}",
                     f"--pidfile={self.pidfile}"] + (["--verbose"] if verbose else []) + list(args)
        self.process = None

    def start(self, timeout=30):
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(self.argv, stdout=log, stderr=log)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"osqd exited with {self.process.returncode}:\n{self.log()}")
            try:
                self.connect(timeout=1).close()
                return self
            except OSError:
                time.sleep(0.02)
        raise AssertionError(f"osqd did not start listening:\n{self.log()}")

    @property
    def pid(self):
        return self.process.pid

    def connect(self, timeout=10):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        try:
            sock.connect(self.socket_path)
        except OSError:
            sock.close()
            raise
        return sock

    def client(self, timeout_ms=30000):
        """Thrift's stock generated OsqManager client, as osquery-python connects."""
        import_thrift_gen()
        from thrift.protocol import TBinaryProtocol
        from thrift.transport import TSocket, TTransport
        from osq.gen.osq import OsqManager

        sock = TSocket.TSocket(unix_socket=self.socket_path)
        sock.setTimeout(timeout_ms)
        transport = TTransport.TBufferedTransport(sock)
        client = OsqManager.Client(TBinaryProtocol.TBinaryProtocolAccelerated(transport))
        transport.open()
        client.transport = transport
        return client

    def log(self):
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def rss_kb(self):
        with open(f"/proc/{self.pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def sanitized(self):
        """Whether the daemon runs with AddressSanitizer (its quarantine keeps freed memory)."""
        with open(f"/proc/{self.pid}/maps") as maps:
            return "libasan" in maps.read()

    def cpu_ticks(self):
        with open(f"/proc/{self.pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # utime + stime

    def stop(self, sig=signal.SIGTERM, timeout=60):
        """Stops the daemon and checks it cleaned up; returns its exit status."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            rc = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(f"osqd did not stop on signal {sig}:\n{self.log()}")
        assert rc == 0, f"osqd exited with {rc}:\n{self.log()}"
        assert not os.path.exists(self.socket_path), "the socket was not removed"
        assert not os.path.exists(self.pidfile), "the pidfile was not removed"
        return rc

    def cleanup(self):
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.directory, ignore_errors=True)


@pytest.fixture(scope="session")
def osqd_path():
    path = BUILD_ROOT / "service" / "daemon" / "osqd"
    assert path.exists(), f"{path} is not built"
    return str(path)


@pytest.fixture
def osqd_factory(osqd_path):
    """start(*flags) -> a running OsqdProcess; every daemon still running at the end is stopped
    with SIGTERM and must have removed its socket and pidfile."""
    daemons = []

    def start(*args, verbose=True, wait=True):
        daemon = OsqdProcess(osqd_path, args, verbose=verbose)
        daemons.append(daemon)
        return daemon.start() if wait else daemon

    yield start
    try:
        for daemon in daemons:
            if daemon.process is not None and daemon.process.poll() is None:
                daemon.stop()
    finally:
        for daemon in daemons:
            daemon.cleanup()


@pytest.fixture
def osqd(osqd_factory):
    """A running osqd with default limits (and --verbose, so its log has debug lines)."""
    return osqd_factory()
