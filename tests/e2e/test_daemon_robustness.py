# SPDX-License-Identifier: Apache-2.0
"""osqd under load and abuse: many concurrent clients, hostile input while a separate client's
`SELECT 1` keeps answering quickly, memory across many bad connections, query time/row/byte
limits, the connection cap, the request size cap, and a client that hangs up mid-query."""

import random
import socket
import struct
import threading
import time

import pytest

from daemon_wire import (FOO_CALL, FOO_REPLY, INFINITE_SQL, PING_CALL, PING_REPLY, QUERY_CALL,
                         SELECT1_REPLY, closed_by_peer, query_frame, recv_exact, timed_select1)

CLIENTS = 32
QUERIES_PER_CLIENT = 500
PROBE_LIMIT_S = 0.100


def test_concurrent_clients(osqd):
    errors = []

    def worker(index):
        try:
            client = osqd.client()
            try:
                for i in range(QUERIES_PER_CLIENT):
                    response = client.query(f"SELECT {index} AS c, {i} AS i, 'v{i}' AS t")
                    expected = [{"c": str(index), "i": str(i), "t": f"v{i}"}]
                    if response.status.code != 0 or response.response != expected:
                        errors.append((index, i, response))
                        return
            finally:
                client.transport.close()
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append((index, repr(error)))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not errors, errors[:3]
    assert not any(thread.is_alive() for thread in threads)


class Prober(threading.Thread):
    """Sends `SELECT 1` on its own connection every 10 ms and records each round trip."""

    def __init__(self, daemon):
        super().__init__(daemon=True)
        self.osqd = daemon
        self.latencies = []
        self.failures = []
        self.stopping = threading.Event()

    def run(self):
        sock = self.osqd.connect()
        try:
            while not self.stopping.is_set():
                try:
                    reply, seconds = timed_select1(sock)
                except OSError as error:
                    self.failures.append(repr(error))
                    sock.close()
                    sock = self.osqd.connect()
                    continue
                if reply != SELECT1_REPLY:
                    self.failures.append(reply)
                self.latencies.append(seconds)
                time.sleep(0.01)
        finally:
            sock.close()

    def finish(self):
        self.stopping.set()
        self.join(timeout=30)
        assert not self.failures, self.failures[:3]
        assert len(self.latencies) > 10
        slow = [s for s in self.latencies if s > PROBE_LIMIT_S]
        # on a shared 2-core machine a rare scheduling hiccup is tolerated; a stall is not
        assert len(slow) <= max(1, len(self.latencies) // 100), (
            f"{len(slow)} of {len(self.latencies)} probes over 100 ms: {sorted(slow)[-5:]}")
        assert max(self.latencies) < 1.0


def bad_connection(daemon, kind, rng):
    """One hostile connection of @kind; checks the daemon's answer (an error or a close)."""
    with daemon.connect(timeout=10) as sock:
        if kind == "random":
            sock.sendall(rng.randbytes(rng.randint(1, 4096)))
            sock.shutdown(socket.SHUT_WR)
            assert closed_by_peer(sock)
        elif kind == "huge_name":
            sock.sendall(b"\x80\x01\x00\x01\x7f\xff\xff\xffping")
            assert closed_by_peer(sock)
        elif kind == "huge_unversioned":
            sock.sendall(struct.pack(">i", 0x7FFFFFFF) + b"ping")
            assert closed_by_peer(sock)
        elif kind == "huge_string":
            sock.sendall(b"\x80\x01\x00\x01\x00\x00\x00\x05query\x00\x00\x00\x00"
                         b"\x0b\x00\x01\x7f\xff\xff\xffSELECT")
            sock.shutdown(socket.SHUT_WR)
            assert closed_by_peer(sock)
        elif kind == "truncated":
            sock.sendall(QUERY_CALL[:rng.randint(1, len(QUERY_CALL) - 1)])
            sock.shutdown(socket.SHUT_WR)
            assert closed_by_peer(sock)
        elif kind == "unknown":
            sock.sendall(FOO_CALL)
            assert recv_exact(sock, len(FOO_REPLY)) == FOO_REPLY
            sock.sendall(PING_CALL)  # the connection stays usable
            assert recv_exact(sock, len(PING_REPLY)) == PING_REPLY
        elif kind == "reply_type":
            sock.sendall(PING_REPLY)
            assert closed_by_peer(sock)
        elif kind == "silent":
            pass  # closes without a word
        else:
            raise AssertionError(kind)


BAD_KINDS = ["random", "huge_name", "huge_unversioned", "huge_string", "truncated", "unknown",
             "reply_type", "silent"]


def test_bad_input_keeps_serving(osqd_factory):
    daemon = osqd_factory("--rpc_idle_timeout=2")
    rng = random.Random(1234)
    prober = Prober(daemon)
    prober.start()
    try:
        for _ in range(25):
            for kind in BAD_KINDS:
                bad_connection(daemon, kind, rng)
        # SQL that writes or attaches: a clear error, the connection stays
        client = daemon.client()
        try:
            for sql in ["INSERT INTO processes (pid) VALUES (1)", "CREATE TABLE t(x)",
                        "ATTACH DATABASE ':memory:' AS other", "DROP TABLE processes"]:
                response = client.query(sql)
                assert response.status.code == 1, sql
            assert client.ping().code == 0
        finally:
            client.transport.close()
        # a client that connects and sends nothing is dropped after --rpc_idle_timeout
        with daemon.connect() as idle:
            start = time.monotonic()
            assert closed_by_peer(idle, timeout=10)
            assert 1.5 < time.monotonic() - start < 6
        # so is one that stalls in the middle of a request
        with daemon.connect() as stalled:
            stalled.sendall(QUERY_CALL[:20])
            start = time.monotonic()
            assert closed_by_peer(stalled, timeout=10)
            assert 1.5 < time.monotonic() - start < 6
    finally:
        prober.finish()
    assert "no request within 2 s" in daemon.log()


def test_memory_stable_across_bad_connections(osqd_factory):
    daemon = osqd_factory("--rpc_idle_timeout=2", verbose=False)
    rng = random.Random(99)
    kinds = [k for k in BAD_KINDS if k != "silent"]
    for i in range(300):  # warm up: thread stacks, malloc arenas, the engine of the prober
        bad_connection(daemon, kinds[i % len(kinds)], rng)
    time.sleep(0.5)
    before = daemon.rss_kb()
    for i in range(1000):
        bad_connection(daemon, kinds[i % len(kinds)], rng)
    time.sleep(0.5)
    after = daemon.rss_kb()
    with daemon.connect() as sock:
        assert timed_select1(sock)[0] == SELECT1_REPLY
    if daemon.sanitized():
        pytest.skip(f"RSS {before} -> {after} kB not checked: AddressSanitizer's quarantine "
                    "holds freed memory")
    assert after - before < 2048, f"RSS grew from {before} kB to {after} kB"


def test_query_limits(osqd_factory):
    daemon = osqd_factory("--query_timeout=300", "--query_max_rows=10",
                          "--query_max_bytes=2000")
    client = daemon.client()
    try:
        start = time.monotonic()
        response = client.query(INFINITE_SQL)
        assert response.status.code == 1
        assert response.status.message == (
            "query timed out after 300 ms (the limit set by --query_timeout)")
        assert response.response == []
        assert time.monotonic() - start < 5

        counting = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT %d) " \
                   "SELECT x FROM c"
        response = client.query(counting % 10)
        assert response.status.code == 0 and len(response.response) == 10
        response = client.query(counting % 11)
        assert response.status.code == 1
        assert response.status.message == (
            "query returned more than 10 rows (the limit set by --query_max_rows)")
        assert response.response == []
        typed = client.queryTyped(counting % 11)
        assert typed.status.code == 1 and typed.rows == []

        response = client.query("SELECT printf('%.3000c', 'x') AS big")
        assert response.status.code == 1
        assert response.status.message == (
            "query result is larger than 2000 bytes (the limit set by --query_max_bytes)")
        assert client.ping().code == 0
    finally:
        client.transport.close()


def test_disconnect_cancels_query(osqd_factory):
    daemon = osqd_factory("--query_timeout=0")
    sock = daemon.connect()
    sock.sendall(query_frame(INFINITE_SQL))
    time.sleep(0.5)
    sock.close()
    deadline = time.monotonic() + 5
    while "hung up, cancelling its query" not in daemon.log():
        assert time.monotonic() < deadline, daemon.log()
        time.sleep(0.05)
    time.sleep(0.3)
    # the daemon is idle again: at most a few clock ticks of CPU in a second
    ticks = daemon.cpu_ticks()
    time.sleep(1.0)
    assert daemon.cpu_ticks() - ticks < 20
    with daemon.connect() as probe:
        assert timed_select1(probe)[0] == SELECT1_REPLY


def served_connection(daemon, timeout=5):
    """A connection that got a ping answered (the start-up probe's worker may still count)."""
    deadline = time.monotonic() + timeout
    while True:
        sock = daemon.connect()
        sock.sendall(PING_CALL)
        if recv_exact(sock, len(PING_REPLY)) == PING_REPLY:
            return sock
        sock.close()
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_connection_cap(osqd_factory):
    daemon = osqd_factory("--rpc_max_connections=2")
    held = [served_connection(daemon), served_connection(daemon)]
    client = None
    try:
        from thrift.Thrift import TApplicationException

        client = daemon.client()
        with pytest.raises(TApplicationException) as raised:
            client.ping()
        assert "too many connections" in raised.value.message
        assert "--rpc_max_connections" in raised.value.message
        client.transport.close()
        client = None
        held.pop().close()
        deadline = time.monotonic() + 5
        while True:
            try:
                client = daemon.client()
                assert client.ping().code == 0
                break
            except TApplicationException:
                client.transport.close()
                client = None
                assert time.monotonic() < deadline
                time.sleep(0.05)
    finally:
        if client is not None:
            client.transport.close()
        for sock in held:
            sock.close()


def test_request_size_cap(osqd_factory):
    daemon = osqd_factory("--rpc_max_message=4096")
    with daemon.connect() as sock:
        sock.sendall(query_frame("SELECT 1 -- " + "x" * 3000))
        assert len(recv_exact(sock, 40)) == 40  # fits: answered
    with daemon.connect() as sock:
        try:
            sock.sendall(query_frame("SELECT 1 -- " + "x" * 8000))
        except (BrokenPipeError, ConnectionResetError):
            pass
        assert closed_by_peer(sock)
    with daemon.connect() as sock:
        assert timed_select1(sock)[0] == SELECT1_REPLY
    log = daemon.log()
    assert ("larger than 4096 bytes" in log or "announces" in log
            or "past the 4096-byte message limit" in log)


def test_cancel_on_sigterm_while_busy(osqd_factory):
    daemon = osqd_factory("--query_timeout=0")
    sock = daemon.connect()
    sock.sendall(query_frame(INFINITE_SQL))
    time.sleep(0.3)
    start = time.monotonic()
    daemon.stop()  # interrupts the running query and joins its worker
    assert time.monotonic() - start < 10
    sock.close()
