# SPDX-License-Identifier: Apache-2.0
"""Makes the osq package importable from the source tree for its unit tests.

meson runs these tests with PYTHONPATH=clients/python and OSQ_THRIFT_PY=<build>/clients/python/
gen-py. Run directly (`/usr/bin/python3 -m pytest clients/python/tests`), the package directory
is put on sys.path here, and when no generated code is reachable it is generated into a
temporary directory with the package's own gen_thrift.py (needs the thrift compiler).
"""

import importlib.util
import os
import pathlib
import sys
import tempfile

PACKAGE_DIR = pathlib.Path(__file__).resolve().parents[1]
IDL_DIR = PACKAGE_DIR.parents[1] / "idl"

if str(PACKAGE_DIR) not in sys.path:
    sys.path.insert(0, str(PACKAGE_DIR))


def _generated_code_reachable():
    env = os.environ.get("OSQ_THRIFT_PY")
    if env and (pathlib.Path(env) / "osq" / "gen" / "osq" / "OsqManager.py").is_file():
        return True
    return any((pathlib.Path(p) / "osq" / "gen" / "osq" / "OsqManager.py").is_file()
               for p in sys.path if p)


if not _generated_code_reachable():
    spec = importlib.util.spec_from_file_location("gen_thrift", PACKAGE_DIR / "gen_thrift.py")
    gen_thrift = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen_thrift)
    _tmp = tempfile.TemporaryDirectory(prefix="osq-test-gen-")
    gen_thrift.generate([IDL_DIR / "osquery.thrift", IDL_DIR / "osq.thrift"], _tmp.name)
    os.environ["OSQ_THRIFT_PY"] = _tmp.name
