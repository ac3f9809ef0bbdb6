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
