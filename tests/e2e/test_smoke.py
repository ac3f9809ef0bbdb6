# SPDX-License-Identifier: Apache-2.0
"""The shell runs a query against live tables."""

from conftest import run_osqi


def test_select_one(osqi_path):
    result = run_osqi(osqi_path, "SELECT 1")
    assert result.returncode == 0, result.stderr
    assert "1" in result.stdout


def test_time_is_now(osqi_path):
    import time
    result = run_osqi(osqi_path, "--list", "--header=false", "SELECT unix_time FROM time")
    assert result.returncode == 0, result.stderr
    value = int(result.stdout.strip().splitlines()[-1].strip("| "))
    assert abs(value - time.time()) < 60
