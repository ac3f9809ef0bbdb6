#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Runs `thrift --gen py` on each IDL file into OUTDIR (packages osq.gen.osquery and
osq.gen.osq), makes sure every package directory has an __init__.py, and touches STAMP.

Usage: thrift-gen-py.py THRIFT OUTDIR STAMP IDL..."""

import pathlib
import shutil
import subprocess
import sys


def main():
    thrift, outdir, stamp, *idls = sys.argv[1:]
    out = pathlib.Path(outdir)
    shutil.rmtree(out / "osq", ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)
    for idl in idls:
        subprocess.run([thrift, "--gen", "py", "-out", str(out), idl], check=True)
    for directory in [out / "osq", out / "osq" / "gen"] + sorted((out / "osq" / "gen").iterdir()):
        if directory.is_dir():
            (directory / "__init__.py").touch()
    pathlib.Path(stamp).touch()
    return 0


if __name__ == "__main__":
    sys.exit(main())
