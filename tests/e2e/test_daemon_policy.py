# SPDX-License-Identifier: Apache-2.0
"""The access policy seen from a non-root client: a real osqd, a client running as uid 65534.

The built-in policy lets everyone read non-sensitive tables and columns; a policy file can deny
tables to a uid and grant sensitive data or shutdown. Denials are clear errors naming the table
(status code 1 over the wire) and are logged by the daemon."""

import os
import subprocess
import sys
import textwrap

import pytest

from conftest import THRIFT_PY

needs_root = pytest.mark.skipif(os.geteuid() != 0,
                                reason="needs root (runs the client as uid 65534)")

CLIENT = textwrap.dedent("""\
    import json, os, sys
    os.setgroups([])
    os.setgid(65534)
    os.setuid(65534)
    sys.path.insert(0, sys.argv[2])
    from thrift.protocol import TBinaryProtocol
    from thrift.transport import TSocket, TTransport
    from osq.gen.osq import OsqManager
    transport = TTransport.TBufferedTransport(TSocket.TSocket(unix_socket=sys.argv[1]))
    client = OsqManager.Client(TBinaryProtocol.TBinaryProtocolAccelerated(transport))
    transport.open()
    answers = []
    for sql in sys.argv[3:]:
        reply = client.query(sql)
        answers.append([reply.status.code, reply.status.message, len(reply.response)])
    print(json.dumps(answers))
    """)


def query_as_nobody(socket_path, *sql):
    import json
    result = subprocess.run([sys.executable, "-c", CLIENT, socket_path, str(THRIFT_PY), *sql],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@needs_root
def test_default_policy_hides_sensitive_columns(osqd_factory):
    daemon = osqd_factory("--extensions_socket_mode=0666")
    pid = daemon.process.pid  # the daemon's own environment is readable and not empty
    ok, sensitive, star, one = query_as_nobody(
        daemon.socket_path,
        f"SELECT pid, key FROM process_envs WHERE pid = {pid}",
        f"SELECT value FROM process_envs WHERE pid = {pid}",
        f"SELECT * FROM process_envs WHERE pid = {pid}",
        "SELECT 1")
    assert ok[0] == 0 and ok[2] > 0
    assert sensitive[0] == 1
    assert "process_envs.value" in sensitive[1] and "uid 65534" in sensitive[1]
    assert star[0] == 1 and "process_envs.value" in star[1]
    assert one[:2] == [0, "OK"]
    assert "denied for pid" in daemon.log()


@needs_root
def test_unprivileged_client_cannot_point_deb_packages_elsewhere(osqd_factory, tmp_path):
    # a dpkg directory only root could read: osqd (root) must not read it for uid 65534
    admindir = tmp_path / "dpkg"
    admindir.mkdir(mode=0o700)
    (admindir / "status").write_text("Package: secret\nStatus: install ok installed\n"
                                     "Version: 1\nArchitecture: all\n\n")
    daemon = osqd_factory("--extensions_socket_mode=0666")
    default, other = query_as_nobody(
        daemon.socket_path,
        "SELECT count(*) AS n FROM deb_packages WHERE admindir = '/var/lib/dpkg'",
        f"SELECT name FROM deb_packages WHERE admindir = '{admindir}'")
    assert default[:2] == [0, "OK"]
    assert other[0] == 1 and "another admindir" in other[1]
    # root may
    client = daemon.client()
    try:
        reply = client.query(f"SELECT name FROM deb_packages WHERE admindir = '{admindir}'")
    finally:
        client.transport.close()
    assert reply.status.code == 0 and [r["name"] for r in reply.response] == ["secret"]


@needs_root
def test_policy_file_denies_and_grants(osqd_factory, tmp_path):
    policy = tmp_path / "policy.toml"
    policy.write_text(textwrap.dedent("""\
        [default]
        deny_tables = ["shell_history"]

        [[rule]]
        name = "nobody"
        uid = [65534]
        deny_tables = ["users", "group*"]
        sensitive = true
        """))
    daemon = osqd_factory("--extensions_socket_mode=0666", f"--access_policy={policy}")
    users, groups, envs, processes = query_as_nobody(
        daemon.socket_path,
        "SELECT count(*) FROM users",
        "SELECT * FROM groups",
        "SELECT value FROM process_envs WHERE pid = 1",
        "SELECT pid FROM processes WHERE pid = 1")
    assert users[0] == 1 and "users" in users[1]
    assert groups[0] == 1 and "groups" in groups[1]
    assert envs[0] == 0  # the rule grants sensitive data
    assert processes == [0, "OK", 1]


def test_bad_policy_file_refuses_to_start(osqd_path, tmp_path):
    policy = tmp_path / "policy.toml"
    policy.write_text("[default]\nno_such_key = 1\n")
    sock = tmp_path / "s.em"
    result = subprocess.run([osqd_path, f"--extensions_socket={sock}",
                             f"--pidfile={tmp_path / 'p.pid'}", f"--access_policy={policy}"],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode != 0
    assert "access_policy" in result.stderr and "no_such_key" in result.stderr
    assert not sock.exists()
