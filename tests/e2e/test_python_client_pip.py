# SPDX-License-Identifier: Apache-2.0
"""`pip install ./clients/python` offline into a fresh venv (Debian's python3-thrift through
--system-site-packages), then the installed package queries a real osqd.

The package and the IDL are copied into a temporary tree with the repository's layout, so the
in-tree build pip does (build/, osq.egg-info/) never touches the source directory."""

import json
import os
import shutil
import subprocess

import pytest

from conftest import SOURCE_ROOT

SYSTEM_PYTHON = "/usr/bin/python3"


def _run(argv, **kwargs):
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=300, **kwargs)
    assert proc.returncode == 0, f"{argv} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc


@pytest.fixture(scope="module")
def venv_python(tmp_path_factory):
    if not os.path.exists(SYSTEM_PYTHON) or shutil.which("thrift") is None:
        pytest.skip("needs /usr/bin/python3 and the thrift compiler")
    top = tmp_path_factory.mktemp("pip")
    tree = top / "src"
    shutil.copytree(SOURCE_ROOT / "clients" / "python", tree / "clients" / "python",
                    ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    shutil.copytree(SOURCE_ROOT / "idl", tree / "idl")
    venv = top / "venv"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "OSQ_THRIFT_PY")}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    _run([SYSTEM_PYTHON, "-m", "venv", "--system-site-packages", str(venv)], env=env)
    # the command README.md documents, run from the top of the tree
    _run([str(venv / "bin" / "pip"), "install", "--no-build-isolation", "--no-index",
          "./clients/python"], cwd=tree, env=env)
    return str(venv / "bin" / "python"), env, top


def test_pip_installed_package_queries_osqd(venv_python, osqd):
    python, env, top = venv_python
    script = """
import json, sys, osq, osq.gen.osq.OsqManager as m
client = osq.Client(sys.argv[1])
print(json.dumps({"file": osq.__file__, "gen": m.__file__, "ping": client.ping().message,
                  "rows": client.query("SELECT 1 AS x, 'y' AS y, NULL AS z", typed=True),
                  "columns": client.columns("SELECT pid FROM processes")}))
"""
    # run outside the source tree, with no path hints: only the installed package can answer
    proc = _run([python, "-c", script, osqd.socket_path], cwd=top, env=env)
    out = json.loads(proc.stdout)
    venv = str(top / "venv")
    assert out["file"].startswith(venv) and out["gen"].startswith(venv)
    assert out["ping"] == "pong"
    assert out["rows"] == [{"x": 1, "y": "y", "z": None}]
    assert out["columns"] == [["pid", "BIGINT"]]
    proc = _run([python, "-m", "osq", "--socket", osqd.socket_path, "--json",
                 f"SELECT pid FROM processes WHERE pid = {os.getpid()}"], cwd=top, env=env)
    assert json.loads(proc.stdout) == [{"pid": os.getpid()}]
    # nothing generated is left in the copied sources but pip's own build directory
    generated = [p for p in (top / "src" / "clients" / "python" / "osq").rglob("*.py")
                 if "gen" in p.parts]
    assert generated == []
