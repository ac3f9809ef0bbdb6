# SPDX-License-Identifier: Apache-2.0
"""The process tables against the real /proc: the test's own process and children it starts
(odd names, a deleted executable, a zombie, a marked environment), compared with what Python
reads itself."""

import os
import shutil
import subprocess
import sys
import time

import pytest

from conftest import run_osqi


def query(osqi, sql, columns):
    """Rows of `osqi "SQL"` as lists of strings; the last column may contain '|'."""
    result = run_osqi(osqi, "--list", "--header=false", sql)
    assert result.returncode == 0, result.stderr
    return [line.split("|", columns - 1) for line in result.stdout.splitlines()]


def proc_status(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            name, _, value = line.partition(":")
            if name == key:
                return value.strip()
    return None


def wait_for_state(pid, states, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rpartition(")")[2].split()[0]
        if state in states:
            return state
        time.sleep(0.01)
    pytest.fail(f"pid {pid} never reached state {states}")


@pytest.fixture
def child(tmp_path):
    """Starts `sleep 60` under a given program name; kills and reaps it afterwards."""
    started = []

    def start(name="sleep", env=None, copy=False):
        program = tmp_path / name
        if copy:
            shutil.copy("/bin/sleep", program)
        else:
            program.symlink_to(shutil.which("sleep"))
        proc = subprocess.Popen([str(program), "60"], env=env)
        started.append(proc)
        wait_for_state(proc.pid, {"S"})
        return proc, program

    yield start
    for proc in started:
        proc.kill()
        proc.wait()


def test_own_process(osqi_path):
    pid = os.getpid()
    rows = query(osqi_path, "SELECT pid, name, uid, euid, gid, parent, state, path, cwd, "
                 f"on_disk, threads, cmdline FROM processes WHERE pid = {pid}", 12)
    assert len(rows) == 1
    (got_pid, name, uid, euid, gid, parent, state, path, cwd, on_disk, threads,
     cmdline) = rows[0]
    assert int(got_pid) == pid
    assert name == proc_status(pid, "Name")
    assert (int(uid), int(euid), int(gid)) == (os.getuid(), os.geteuid(), os.getgid())
    assert int(parent) == os.getppid()
    assert state in ("R", "S")
    assert path == os.readlink("/proc/self/exe")
    assert cwd == os.getcwd()
    assert int(on_disk) == 1
    assert int(threads) >= 1
    with open("/proc/self/cmdline", "rb") as f:
        assert cmdline == f.read().replace(b"\0", b" ").decode(errors="replace").strip()


def test_units(osqi_path):
    pid = os.getpid()
    rows = query(osqi_path, "SELECT resident_size, total_size, user_time, start_time FROM "
                 f"processes WHERE pid = {pid}", 4)
    resident, total, user_time, start_time = (int(v) for v in rows[0])
    # kB figures from status turned into bytes by x1000, as osquery does
    total_kb = int(proc_status(pid, "VmSize").split()[0])
    assert abs(total - total_kb * 1000) <= total_kb * 1000 * 0.2
    rss_kb = int(proc_status(pid, "VmRSS").split()[0])
    assert abs(resident - rss_kb * 1000) <= rss_kb * 1000 * 0.2
    assert resident % 1000 == 0
    # times in milliseconds
    assert 0 <= user_time <= (os.times().user + 1) * 1000
    # start time: boot time + start ticks / CLK_TCK, in epoch seconds
    with open("/proc/stat") as f:
        btime = next(int(line.split()[1]) for line in f if line.startswith("btime "))
    with open(f"/proc/{pid}/stat") as f:
        ticks = int(f.read().rpartition(")")[2].split()[19])
    assert start_time == btime + ticks // os.sysconf("SC_CLK_TCK")
    assert start_time <= time.time()


def test_full_scan_lists_every_process(osqi_path):
    before = {int(p) for p in os.listdir("/proc") if p.isdigit()}
    listed = {int(row[0]) for row in query(osqi_path, "SELECT pid FROM processes", 1)}
    after = {int(p) for p in os.listdir("/proc") if p.isdigit()}
    assert before & after <= listed
    # osqi shows itself as a child of this process
    rows = query(osqi_path, f"SELECT count(*) FROM processes WHERE parent = {os.getpid()}", 1)
    assert int(rows[0][0]) >= 1


def test_full_scan_all_columns(osqi_path):
    rows = query(osqi_path, "SELECT * FROM processes", 27)
    assert len(rows) >= 2
    own = [row for row in rows if row[0] == str(os.getpid())]
    assert len(own) == 1


def test_missing_pid(osqi_path):
    with open("/proc/sys/kernel/pid_max") as f:
        missing = int(f.read()) + 1
    for table in ("processes", "process_open_files", "process_memory_map", "process_envs"):
        assert query(osqi_path, f"SELECT * FROM {table} WHERE pid = {missing}", 1) == []
        assert query(osqi_path, f"SELECT pid FROM {table} WHERE pid IN ({missing}, -5)", 1) == []


def test_name_with_spaces_and_parentheses(osqi_path, child):
    proc, _ = child("a b) c")
    rows = query(osqi_path, "SELECT name, state, parent, nice FROM processes "
                 f"WHERE pid = {proc.pid}", 4)
    assert rows == [["a b) c", "S", str(os.getpid()), "0"]]
    proc2, _ = child("(sd-pam)")
    rows = query(osqi_path, f"SELECT pid, name FROM processes WHERE pid IN ({proc.pid}, "
                 f"{proc2.pid}) ORDER BY pid", 2)
    assert sorted(rows) == sorted([[str(proc.pid), "a b) c"], [str(proc2.pid), "(sd-pam)"]])


def test_deleted_executable(osqi_path, child):
    proc, program = child("doomed", copy=True)
    os.unlink(program)
    rows = query(osqi_path, f"SELECT on_disk, path FROM processes WHERE pid = {proc.pid}", 2)
    assert rows == [["0", str(program)]]


def test_zombie(osqi_path):
    proc = subprocess.Popen(["true"])
    try:
        wait_for_state(proc.pid, {"Z"})
        rows = query(osqi_path, "SELECT state, on_disk, path, cmdline FROM processes "
                     f"WHERE pid = {proc.pid}", 4)
        # NULL path prints as an empty field
        assert rows == [["Z", "-1", "", ""]]
    finally:
        proc.wait()


def test_kernel_thread(osqi_path):
    if not os.path.exists("/proc/2") or proc_status(2, "Name") != "kthreadd":
        pytest.skip("no kthreadd at pid 2 (a container's pid namespace?)")
    rows = query(osqi_path, "SELECT name, path, on_disk, resident_size, cmdline FROM processes "
                 "WHERE pid = 2", 5)
    assert rows == [["kthreadd", "", "-1", "", ""]]


def test_open_files(osqi_path, tmp_path):
    path = tmp_path / "held-open.txt"
    with open(path, "w") as f:
        rows = query(osqi_path, "SELECT fd, path FROM process_open_files "
                     f"WHERE pid = {os.getpid()}", 2)
        assert [str(f.fileno()), str(path)] in rows
    # sockets and pipes are not files
    assert not any(row[1].startswith(("socket:", "pipe:", "anon_inode:")) for row in rows)


def test_memory_map(osqi_path):
    rows = query(osqi_path, "SELECT start, end, permissions, inode, pseudo, path FROM "
                 f"process_memory_map WHERE pid = {os.getpid()}", 6)
    assert rows
    for start, end, permissions, inode, pseudo, _ in rows:
        assert start.startswith("0x") and end.startswith("0x")
        assert int(start, 16) < int(end, 16)
        assert len(permissions) == 4
    stack = [row for row in rows if row[5] == "[stack]"]
    assert stack and stack[0][4] == "1" and stack[0][3] == "0"
    assert any(row[5] == os.path.realpath(sys.executable) and row[4] == "0" for row in rows)


def test_envs(osqi_path, child):
    env = {"PATH": "/usr/bin:/bin", "OSQ_TEST_MARKER": "a=b c", "OSQ_EMPTY": ""}
    proc, _ = child("sleep", env=env)
    rows = query(osqi_path, f"SELECT key, value FROM process_envs WHERE pid = {proc.pid}", 2)
    assert sorted(rows) == sorted([[k, v] for k, v in env.items()])
