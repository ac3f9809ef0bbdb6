# SPDX-License-Identifier: Apache-2.0
"""The file tables (file, hash, suid_bin) on the live filesystem, checked against Python's own
os.stat, hashlib and a directory walk."""

import grp
import hashlib
import os
import pwd
import stat
import time

import pytest

from conftest import run_osqi


def query(osqi, sql):
    """Runs one query with the plain `osqi "SQL"` form; returns rows as lists of strings."""
    result = run_osqi(osqi, "--list", "--header=false", sql)
    assert result.returncode == 0, result.stderr
    return [line.split("|") for line in result.stdout.splitlines() if line.strip()]


def sql_text(value):
    return "'" + str(value).replace("'", "''") + "'"


@pytest.fixture
def tree(tmp_path):
    """A small tree in a temporary directory (the live root is '/', so queries use real paths)."""
    (tmp_path / "a.txt").write_bytes(b"hello\n")
    (tmp_path / "big.bin").write_bytes(bytes(range(256)) * 1000 + b"tail")
    (tmp_path / "sub" / "deeper").mkdir(parents=True)
    (tmp_path / "sub" / "c.txt").write_bytes(b"c\n")
    (tmp_path / "sub" / "deeper" / "d.txt").write_bytes(b"d\n")
    (tmp_path / ".hidden").write_bytes(b"")
    (tmp_path / "link").symlink_to("a.txt")
    (tmp_path / "dangling").symlink_to("missing")
    return tmp_path


def test_file_matches_os_stat(osqi_path, tree):
    for name in ("a.txt", "sub", "link", "dangling"):
        path = tree / name
        rows = query(osqi_path,
                     "SELECT path, directory, filename, inode, uid, gid, mode, size, atime, "
                     "mtime, ctime, hard_links, symlink, type FROM file "
                     f"WHERE path = {sql_text(path)}")
        assert len(rows) == 1, rows
        row = rows[0]
        link = os.lstat(path)
        try:
            info = os.stat(path)
        except FileNotFoundError:
            info = link
        assert row[0] == str(path)
        assert row[1] == str(tree)
        assert row[2] == name
        assert int(row[3]) == info.st_ino
        assert int(row[4]) == info.st_uid
        assert int(row[5]) == info.st_gid
        assert row[6] == "%04o" % stat.S_IMODE(info.st_mode)
        assert int(row[7]) == info.st_size
        # reading the entry (osq's readlink of a symlink, say) may itself move atime on
        assert int(info.st_atime) - 2 <= int(row[8]) <= int(info.st_atime)
        assert int(row[9]) == int(info.st_mtime)
        assert int(row[10]) == int(info.st_ctime)
        assert int(row[11]) == info.st_nlink
        assert row[12] == ("1" if stat.S_ISLNK(link.st_mode) else "0")
        expected_type = {"a.txt": "regular", "sub": "directory", "link": "regular",
                         "dangling": "symlink"}[name]
        assert row[13] == expected_type


def test_file_symlink_target(osqi_path, tree):
    rows = query(osqi_path, "SELECT path, symlink_target_path FROM file "
                            f"WHERE directory = {sql_text(tree)} AND symlink = 1 ORDER BY path")
    assert rows == [[str(tree / "dangling"), "missing"],
                    [str(tree / "link"), os.path.realpath(tree / "a.txt")]]


def test_file_btime(osqi_path, tree):
    rows = query(osqi_path, f"SELECT btime FROM file WHERE path = {sql_text(tree / 'a.txt')}")
    btime = int(rows[0][0])
    # 0 where the filesystem keeps no birth time; else around now (the file was just made)
    assert btime == 0 or abs(btime - time.time()) < 3600


def test_directory_listing(osqi_path, tree):
    rows = query(osqi_path, f"SELECT filename FROM file WHERE directory = {sql_text(tree)}")
    assert sorted(r[0] for r in rows) == sorted(os.listdir(tree))


def test_like_expansion(osqi_path, tree):
    rows = query(osqi_path, f"SELECT path FROM file WHERE path LIKE {sql_text(str(tree) + '/%%')}")
    expected = []
    for top, dirs, files in os.walk(tree):
        expected += [os.path.join(top, n) for n in dirs + files]
    assert sorted(r[0] for r in rows) == sorted(expected)
    rows = query(osqi_path,
                 f"SELECT path FROM file WHERE path LIKE {sql_text(str(tree) + '/%/%.txt')}")
    assert [r[0] for r in rows] == [str(tree / "sub" / "c.txt")]


def test_hash_matches_hashlib(osqi_path, tree):
    rows = query(osqi_path, "SELECT path, md5, sha1, sha256 FROM hash "
                            f"WHERE directory = {sql_text(tree)} ORDER BY path")
    expected = []
    for name in sorted(os.listdir(tree)):
        path = tree / name
        if not path.is_file():
            continue
        data = path.read_bytes()
        expected.append([str(path), hashlib.md5(data).hexdigest(), hashlib.sha1(data).hexdigest(),
                         hashlib.sha256(data).hexdigest()])
    assert rows == expected


def test_hash_system_file(osqi_path):
    path = "/etc/passwd"
    if not os.access(path, os.R_OK):
        pytest.skip("/etc/passwd is not readable here")
    with open(path, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    assert query(osqi_path, f"SELECT sha256 FROM hash WHERE path = '{path}'") == [[digest]]


def test_required_constraint(osqi_path):
    result = run_osqi(osqi_path, "SELECT * FROM hash")
    assert result.returncode != 0
    assert "hash requires a constraint on path or directory" in result.stderr + result.stdout


def name_of(number, lookup):
    try:
        return lookup(number)
    except KeyError:
        return str(number)


def test_suid_bin_matches_walk(osqi_path):
    expected = []
    for top in ("/bin", "/sbin", "/usr/bin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin",
                "/tmp"):
        if not os.path.isdir(top):
            continue
        for base, dirs, files in os.walk(top, onerror=lambda e: None):
            # like the table, os.walk does not descend into symlinked directories
            for name in files:
                path = os.path.join(base, name)
                try:
                    info = os.stat(path)
                except OSError:
                    continue
                if not stat.S_ISREG(info.st_mode):
                    continue
                perms = ("S" if info.st_mode & stat.S_ISUID else "") + \
                        ("G" if info.st_mode & stat.S_ISGID else "")
                if perms:
                    user = name_of(info.st_uid, lambda i: pwd.getpwuid(i).pw_name)
                    group = name_of(info.st_gid, lambda i: grp.getgrgid(i).gr_name)
                    expected.append([path, user, group, perms])
    rows = query(osqi_path, "SELECT path, username, groupname, permissions FROM suid_bin")
    # /tmp can change while the two walks run; compare the stable directories
    stable = [r for r in rows if not r[0].startswith("/tmp/")]
    assert sorted(stable) == sorted(e for e in expected if not e[0].startswith("/tmp/"))
    if not expected:
        pytest.skip("no setuid/setgid files on this host")


def test_suid_bin_path_pushdown(osqi_path):
    rows = query(osqi_path, "SELECT path FROM suid_bin")
    if not rows:
        pytest.skip("no setuid/setgid files on this host")
    path = rows[0][0]
    assert query(osqi_path, f"SELECT path FROM suid_bin WHERE path = {sql_text(path)}") == \
        [[path]]
