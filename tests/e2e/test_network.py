# SPDX-License-Identifier: Apache-2.0
"""Network tables on the live host: sockets this test opens must show up in listening_ports and
process_open_sockets with our pid and fd; routes, interfaces and the ARP cache must agree with
what the kernel shows in /proc and /sys."""

import os
import socket

import pytest

from conftest import run_osqi


def query(osqi, sql):
    """Runs one query; returns the rows as lists of strings (NULL prints as '')."""
    result = run_osqi(osqi, "--list", "--header=false", sql)
    assert result.returncode == 0, result.stderr
    return [line.split("|") for line in result.stdout.splitlines() if line != ""]


def expected_pid():
    # our own fds are always readable; other users' need root
    return os.getpid()


@pytest.fixture
def tcp_listener():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    s.listen()
    yield s
    s.close()


def test_listening_ports_shows_our_listener(osqi_path, tcp_listener):
    port = tcp_listener.getsockname()[1]
    rows = query(osqi_path, "SELECT pid, port, protocol, family, address, fd, socket "
                            f"FROM listening_ports WHERE port = {port} AND protocol = 6")
    assert len(rows) == 1, rows
    pid, got_port, protocol, family, address, fd, inode = rows[0]
    assert (got_port, protocol, family, address) == (str(port), "6", "2", "127.0.0.1")
    assert int(pid) == expected_pid()
    assert int(fd) == tcp_listener.fileno()
    assert int(inode) == os.fstat(tcp_listener.fileno()).st_ino


def test_listening_ports_pid_pushdown(osqi_path, tcp_listener):
    port = tcp_listener.getsockname()[1]
    rows = query(osqi_path, f"SELECT pid, port FROM listening_ports WHERE pid = {os.getpid()}")
    assert [str(os.getpid()), str(port)] in rows
    assert all(row[0] == str(os.getpid()) for row in rows)


def test_listening_ports_udp_and_unix(osqi_path, tmp_path):
    udp = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    udp.bind(("::1", 0))
    unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    path = str(tmp_path / "osq-test.sock")
    unix.bind(path)
    unix.listen()
    try:
        rows = query(osqi_path, "SELECT port, protocol, family, address, path, socket FROM "
                                f"listening_ports WHERE pid = {os.getpid()}")
        assert [str(udp.getsockname()[1]), "17", "10", "::1", "",
                str(os.fstat(udp.fileno()).st_ino)] in rows
        assert ["0", "0", "1", "", path, "0"] in rows
    finally:
        udp.close()
        unix.close()


def test_process_open_sockets_connection(osqi_path, tcp_listener):
    port = tcp_listener.getsockname()[1]
    client = socket.create_connection(("127.0.0.1", port))
    server, _ = tcp_listener.accept()
    try:
        rows = query(osqi_path, "SELECT pid, fd, local_port, remote_port, state, family, protocol "
                                "FROM process_open_sockets "
                                f"WHERE local_port = {port} OR remote_port = {port}")
        me = str(expected_pid())
        client_port = client.getsockname()[1]
        assert [me, str(tcp_listener.fileno()), str(port), "0", "LISTEN", "2", "6"] in rows
        assert [me, str(client.fileno()), str(client_port), str(port), "ESTABLISHED", "2",
                "6"] in rows
        assert [me, str(server.fileno()), str(port), str(client_port), "ESTABLISHED", "2",
                "6"] in rows
    finally:
        client.close()
        server.close()


def test_process_open_sockets_namespace(osqi_path, tcp_listener):
    namespace = os.readlink("/proc/self/ns/net")  # net:[N]
    rows = query(osqi_path, "SELECT net_namespace FROM process_open_sockets "
                            f"WHERE pid = {os.getpid()} AND fd = {tcp_listener.fileno()}")
    assert rows == [[namespace[5:-1]]]


def test_process_open_sockets_without_pid_column(osqi_path, tcp_listener):
    """Without pid/fd no fd is read, yet the socket is listed."""
    inode = os.fstat(tcp_listener.fileno()).st_ino
    rows = query(osqi_path, f"SELECT state FROM process_open_sockets WHERE socket = {inode}")
    assert rows == [["LISTEN"]]


def test_routes_have_loopback_or_default(osqi_path):
    rows = query(osqi_path, "SELECT destination, netmask, interface, type FROM routes")
    assert rows, "no routes at all"
    default = [r for r in rows if r[0] in ("0.0.0.0", "::") and r[1] == "0"]
    loopback = [r for r in rows if r[2] == "lo"]
    assert default or loopback, rows
    for row in rows:
        assert row[3] in ("gateway", "local", "broadcast", "anycast", "other"), row


def test_interface_details_has_lo(osqi_path):
    rows = query(osqi_path, "SELECT interface, type, mtu, flags, mac FROM interface_details")
    names = {row[0] for row in rows}
    assert names == set(n for n in os.listdir("/sys/class/net")
                        if os.path.exists(f"/sys/class/net/{n}/ifindex"))
    lo = [row for row in rows if row[0] == "lo"]
    assert len(lo) == 1
    with open("/sys/class/net/lo/mtu") as f:
        assert lo[0][1:3] == ["772", f.read().strip()]
    assert int(lo[0][3]) & 0x8  # IFF_LOOPBACK
    assert lo[0][4] == "00:00:00:00:00:00"


def test_interface_details_pushdown(osqi_path):
    rows = query(osqi_path, "SELECT interface, ibytes FROM interface_details "
                            "WHERE interface = 'lo'")
    assert len(rows) == 1 and rows[0][0] == "lo"
    assert int(rows[0][1]) >= 0


def test_interface_addresses_match_kernel(osqi_path):
    rows = query(osqi_path, "SELECT interface, address, mask FROM interface_addresses")
    addresses = {row[1].split("%")[0] for row in rows}
    if os.path.exists("/proc/net/if_inet6"):
        with open("/proc/net/if_inet6") as f:
            for line in f:
                raw = bytes.fromhex(line.split()[0])
                assert socket.inet_ntop(socket.AF_INET6, raw) in addresses
    lo = [row for row in rows if row[0] == "lo" and row[1] == "127.0.0.1"]
    if not lo:
        pytest.skip("lo has no 127.0.0.1 here")
    assert lo[0][2] == "255.0.0.0"


def read_arp():
    with open("/proc/net/arp") as f:
        return {tuple(line.split()[i] for i in (0, 3, 5)) for line in f.readlines()[1:]}


def test_arp_cache_matches_proc(osqi_path):
    before = read_arp()
    rows = {tuple(r) for r in query(osqi_path, "SELECT address, mac, interface FROM arp_cache")}
    after = read_arp()
    if before != after:
        pytest.skip("the ARP table changed during the test")
    assert rows == before
