# SPDX-License-Identifier: Apache-2.0
"""Live checks of deb_packages, apt_sources, pci_devices and usb_devices against this host."""

import collections
import glob
import os
import shutil
import subprocess

import pytest

from conftest import run_osqi


def query(osqi, sql):
    """Runs one query; returns its rows as lists of strings (osqi prints a|b|c lines)."""
    result = run_osqi(osqi, "--list", "--header=false", sql)
    assert result.returncode == 0, result.stderr
    return [line.split("|") for line in result.stdout.splitlines() if line != ""]


def installed_packages():
    """(name, version) of every package dpkg knows in a state other than not-installed."""
    if shutil.which("dpkg-query") is None or not os.path.exists("/var/lib/dpkg/status"):
        pytest.skip("not a dpkg system")
    out = subprocess.run(
        ["dpkg-query", "-W", "-f=${db:Status-Status}\t${Package}\t${Version}\n"],
        capture_output=True, text=True, check=True).stdout
    rows = [line.split("\t") for line in out.splitlines() if line]
    return [(name, version) for status, name, version in rows if status != "not-installed"]


def test_deb_packages_match_dpkg(osqi_path):
    truth = installed_packages()
    rows = query(osqi_path, "SELECT name, version FROM deb_packages")
    assert collections.Counter(tuple(r) for r in rows) == collections.Counter(truth)
    assert "libc6" in {name for name, _ in truth}


def test_deb_packages_pushdown(osqi_path):
    truth = [v for name, v in installed_packages() if name == "libc6"]
    rows = query(osqi_path, "SELECT name, version, admindir, status FROM deb_packages "
                            "WHERE name IN ('libc6', 'no-such-package-here')")
    assert sorted(r[1] for r in rows) == sorted(truth)
    assert all(r[0] == "libc6" and r[2] == "/var/lib/dpkg" for r in rows)
    assert rows and all(len(r[3].split()) == 3 for r in rows)


def test_deb_packages_count(osqi_path):
    truth = installed_packages()
    rows = query(osqi_path, "SELECT count(*) FROM deb_packages")
    assert int(rows[0][0]) == len(truth)


def release_files():
    return glob.glob("/var/lib/apt/lists/*Release")


def test_apt_sources(osqi_path):
    configured = os.path.exists("/etc/apt/sources.list") or \
        glob.glob("/etc/apt/sources.list.d/*.list") or \
        glob.glob("/etc/apt/sources.list.d/*.sources")
    if not configured:
        pytest.skip("no APT sources configured")
    rows = query(osqi_path, "SELECT name, source, base_uri, maintainer FROM apt_sources")
    if not release_files():
        assert rows == []  # rows need a cached Release file, as in osquery
        pytest.skip("apt has no cached Release files (run apt update)")
    assert rows, "APT has sources and cached Release files but the table is empty"
    for name, source, base_uri, _ in rows:
        assert "://" in base_uri and not base_uri.endswith("/")
        assert name.startswith(base_uri.split("://", 1)[1] + " ")
        assert source.startswith("/etc/apt/sources.list")


def test_pci_devices(osqi_path):
    slots = sorted(os.listdir("/sys/bus/pci/devices")) if \
        os.path.isdir("/sys/bus/pci/devices") else []
    rows = query(osqi_path, "SELECT pci_slot, vendor_id, model_id, pci_class_id FROM pci_devices")
    assert sorted(r[0] for r in rows) == slots
    for slot, vendor_id, model_id, class_id in rows:
        with open(f"/sys/bus/pci/devices/{slot}/vendor") as f:
            assert vendor_id == f.read().strip().lower()
        with open(f"/sys/bus/pci/devices/{slot}/device") as f:
            assert model_id == f.read().strip().lower()
        with open(f"/sys/bus/pci/devices/{slot}/class") as f:
            assert class_id == f.read().strip().lower()[:4]
    # the name columns load pci.ids lazily; they must work with or without it
    query(osqi_path, "SELECT vendor, model, pci_class, subsystem_model FROM pci_devices")


def test_usb_devices(osqi_path):
    base = "/sys/bus/usb/devices"
    if not os.path.isdir(base) or not os.listdir(base):
        pytest.skip("this host has no USB devices")
    truth = []
    for entry in os.listdir(base):
        try:
            with open(f"{base}/{entry}/busnum") as f:
                bus = int(f.read())
            with open(f"{base}/{entry}/devnum") as f:
                dev = int(f.read())
        except (OSError, ValueError):
            continue  # an interface
        truth.append((bus, dev))
    rows = query(osqi_path, "SELECT usb_address, usb_port, vendor, model FROM usb_devices")
    assert sorted((int(r[0]), int(r[1])) for r in rows) == sorted(truth)
