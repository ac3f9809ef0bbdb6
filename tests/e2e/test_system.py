# SPDX-License-Identifier: Apache-2.0
"""Live checks of the host/system tables against what Python reads from the same host.

kernel_info, os_version, system_info, uptime, mounts, kernel_modules, system_controls and
etc_hosts run through `osqi "SQL"` on the real /proc, /sys and /etc; each answer is compared
with the truth from os, socket and direct file reads.
"""

import ipaddress
import os
import socket

import pytest

from conftest import run_osqi


def query(osqi, sql):
    """Rows of `osqi SQL` as lists of strings (the shell prints `a|b|c`, NULL as '')."""
    result = run_osqi(osqi, "--list", "--header=false", sql)
    assert result.returncode == 0, result.stderr
    return [line.split("|") for line in result.stdout.splitlines() if line != ""]


def scalar(osqi, sql):
    rows = query(osqi, sql)
    assert len(rows) == 1 and len(rows[0]) == 1, rows
    return rows[0][0]


def read_text(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read()


def test_uptime_matches_proc(osqi_path):
    before = float(read_text("/proc/uptime").split()[0])
    days, hours, minutes, seconds, total = (
        int(v) for v in query(osqi_path, "SELECT * FROM uptime")[0])
    after = float(read_text("/proc/uptime").split()[0])
    assert int(before) <= total <= int(after) + 1
    assert days * 86400 + hours * 3600 + minutes * 60 + seconds == total
    assert 0 <= hours < 24 and 0 <= minutes < 60 and 0 <= seconds < 60


def test_kernel_info_matches_uname(osqi_path):
    version, arguments = query(osqi_path, "SELECT version, arguments FROM kernel_info")[0]
    assert version == os.uname().release
    words = [w for w in read_text("/proc/cmdline").split()
             if not w.startswith(("BOOT_IMAGE=", "root="))]
    assert arguments == " ".join(words)


def os_release():
    for path in ("/etc/os-release", "/usr/lib/os-release"):
        try:
            text = read_text(path)
        except OSError:
            continue
        values = {}
        for line in text.splitlines():
            key, sep, value = line.strip().partition("=")
            if sep and not key.startswith("#"):
                values[key] = value.strip("\"'")
        return values
    return None


def test_os_version_matches_os_release(osqi_path):
    values = os_release()
    if values is None:
        pytest.skip("this host has no os-release file")
    if os.path.exists("/etc/redhat-release") or os.path.exists("/etc/gentoo-release"):
        pytest.skip("release files override os-release on this host")
    name, platform, arch = query(osqi_path, "SELECT name, platform, arch FROM os_version")[0]
    assert name == values.get("NAME", "Unknown")
    assert platform == values.get("ID", "posix")
    assert arch == os.uname().machine
    if values.get("VERSION_ID", "").split(".")[0].isdigit():
        major = scalar(osqi_path, "SELECT major FROM os_version")
        assert int(major) == int(values["VERSION_ID"].split(".")[0])


def test_system_info_matches_host(osqi_path):
    hostname, cpu_type, logical, memory = query(
        osqi_path,
        "SELECT hostname, cpu_type, cpu_logical_cores, physical_memory FROM system_info")[0]
    assert hostname == socket.gethostname()
    assert cpu_type == os.uname().machine
    processors = sum(1 for line in read_text("/proc/cpuinfo").splitlines()
                     if line.split(":")[0].strip() == "processor")
    assert int(logical) == (processors or os.cpu_count())
    mem_total = next(int(line.split()[1]) * 1024 for line in read_text("/proc/meminfo").splitlines()
                     if line.startswith("MemTotal:"))
    assert int(memory) == mem_total


def test_mounts_include_root(osqi_path):
    rows = query(osqi_path, "SELECT path, type, blocks_size, blocks FROM mounts WHERE path = '/'")
    assert rows, "no mount at /"
    path, fstype, block_size, blocks = rows[-1]
    assert fstype != ""
    st = os.statvfs("/")
    if st.f_blocks > 0:
        assert int(block_size) == st.f_bsize
        assert int(blocks) == st.f_blocks


def test_mounts_count_matches_proc(osqi_path):
    lines = [l for l in read_text("/proc/mounts").splitlines() if len(l.split()) >= 4]
    count = int(scalar(osqi_path, "SELECT count(*) FROM mounts"))
    # osqi reads its own /proc/mounts a moment later; a mount may come or go in between
    assert abs(count - len(lines)) <= 2


def test_kernel_modules_count(osqi_path):
    count = int(scalar(osqi_path, "SELECT count(*) FROM kernel_modules"))
    if not os.path.exists("/proc/modules"):
        assert count == 0  # a kernel without loadable module support
        return
    lines = [l for l in read_text("/proc/modules").splitlines() if len(l.split()) >= 6]
    assert abs(count - len(lines)) <= 1
    if lines:
        name = lines[0].split()[0]
        rows = query(osqi_path, f"SELECT name, size FROM kernel_modules WHERE name = '{name}'")
        assert rows and rows[0][0] == name and int(rows[0][1]) > 0


def test_system_controls_hostname(osqi_path):
    value = scalar(osqi_path,
                   "SELECT current_value FROM system_controls WHERE name = 'kernel.hostname'")
    assert value == socket.gethostname()


def test_system_controls_scan_and_like(osqi_path):
    names = [r[0] for r in query(osqi_path, "SELECT name FROM system_controls")]
    assert "kernel.hostname" in names
    assert "kernel.osrelease" in names
    assert len(names) == len(set(names))
    kernel = [r[0] for r in query(osqi_path,
                                  "SELECT name FROM system_controls WHERE name LIKE 'kernel.%'")]
    assert kernel and all(n.startswith("kernel.") for n in kernel)
    assert set(kernel) == {n for n in names if n.startswith("kernel.")}
    release = scalar(osqi_path, "SELECT current_value FROM system_controls "
                                "WHERE subsystem = 'kernel' AND name = 'kernel.osrelease'")
    assert release == os.uname().release


def etc_hosts_truth():
    rows = []
    for line in read_text("/etc/hosts").splitlines():
        words = line.split("#", 1)[0].split()
        if not words:
            continue
        try:
            ipaddress.ip_address(words[0].split("%", 1)[0])
        except ValueError:
            continue
        rows.append([words[0], " ".join(words[1:])])
    return rows


def test_etc_hosts_matches_file(osqi_path):
    if not os.path.exists("/etc/hosts"):
        pytest.skip("this host has no /etc/hosts")
    assert query(osqi_path, "SELECT address, hostnames FROM etc_hosts") == etc_hosts_truth()

