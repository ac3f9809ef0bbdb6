# SPDX-License-Identifier: Apache-2.0
"""The account tables on the live host, checked against Python's pwd and grp modules."""

import grp
import os
import pwd

import pytest

from conftest import run_osqi


def query(osqi, sql):
    """Rows of `osqi "SQL"` as lists of strings (the shell prints a|b|c lines, no header)."""
    result = run_osqi(osqi, "--list", "--header=false", sql)
    assert result.returncode == 0, result.stderr
    return [line.split("|") for line in result.stdout.splitlines() if line != ""]


def local_names(path, field=0):
    """Names defined in /etc/passwd or /etc/group (NSS may add others, osq reads the file)."""
    names = set()
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#") and line.count(":") >= 2:
                names.add(line.split(":")[field])
    return names


def test_users_match_pwd(osqi_path):
    rows = query(osqi_path, "SELECT uid, gid, username, directory, shell FROM users")
    ours = {(int(r[0]), r[2]) for r in rows}
    local = local_names("/etc/passwd")
    expected = {(p.pw_uid, p.pw_name) for p in pwd.getpwall() if p.pw_name in local}
    assert ours == expected
    assert len(rows) == len([p for p in pwd.getpwall() if p.pw_name in local])
    root = [r for r in rows if r[2] == "root"]
    assert root and root[0][0] == "0" and root[0][1] == "0"
    entry = pwd.getpwnam("root")
    assert root[0][3] == entry.pw_dir and root[0][4] == entry.pw_shell


def test_users_uid_pushdown(osqi_path):
    rows = query(osqi_path, "SELECT uid, username FROM users WHERE uid IN (0, %d)" % os.getuid())
    names = {r[1] for r in rows}
    assert "root" in names
    assert pwd.getpwuid(os.getuid()).pw_name in names or os.getuid() == 0


def test_groups_match_grp(osqi_path):
    rows = query(osqi_path, "SELECT gid, gid_signed, groupname FROM groups")
    local = local_names("/etc/group")
    expected = {}
    for g in grp.getgrall():
        if g.gr_name in local:
            expected.setdefault(g.gr_gid, g.gr_name)
    assert {int(r[0]): r[2] for r in rows} == expected
    assert len(rows) == len(expected)
    assert ["0", "0", grp.getgrgid(0).gr_name] in rows


def test_user_groups_match_getgrouplist(osqi_path):
    me = pwd.getpwuid(os.getuid())
    if me.pw_name not in local_names("/etc/passwd"):
        pytest.skip("the current user is not in /etc/passwd")
    rows = query(osqi_path, "SELECT gid FROM user_groups WHERE uid = %d" % me.pw_uid)
    ours = [int(r[0]) for r in rows]
    local = {g.gr_gid for g in grp.getgrall() if g.gr_name in local_names("/etc/group")}
    theirs = [g for g in os.getgrouplist(me.pw_name, me.pw_gid) if g in local or g == me.pw_gid]
    assert ours[0] == me.pw_gid
    assert sorted(set(ours)) == sorted(set(theirs))


def test_logged_in_users_and_last_run(osqi_path):
    for table in ("logged_in_users", "last"):
        result = run_osqi(osqi_path, "SELECT * FROM %s" % table)
        assert result.returncode == 0, result.stderr
    rows = query(osqi_path, "SELECT count(*) FROM logged_in_users WHERE pid = 1")
    assert rows == [["0"]]


def test_shell_history_own_user(osqi_path):
    uid = os.getuid()
    result = run_osqi(osqi_path, "SELECT uid, history_file FROM shell_history WHERE uid = %d" % uid)
    assert result.returncode == 0, result.stderr
    for line in result.stdout.splitlines():
        if line:
            assert line.split("|")[0] == str(uid)


def test_crontab_runs(osqi_path):
    result = run_osqi(osqi_path, "SELECT path, command FROM crontab")
    assert result.returncode == 0, result.stderr
    if os.path.exists("/etc/crontab"):
        jobs = []
        with open("/etc/crontab", encoding="utf-8", errors="replace") as f:
            for line in f:
                words = line.split()
                if not words or words[0].startswith("#"):
                    continue
                if (words[0].startswith("@") and len(words) >= 2) or len(words) >= 6:
                    jobs.append(line)
        paths = [line.split("|")[0] for line in result.stdout.splitlines()]
        assert paths.count("/etc/crontab") == len(jobs)
