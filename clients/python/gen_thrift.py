#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Generates the osq package's Thrift code (osq.gen.osquery, osq.gen.osq) from the IDL.

Used by setup.py (pip install) and by meson (in-tree tests); nothing generated is committed.
`thrift --gen py` writes a whole package tree (osq/__init__.py, osq/gen/__init__.py, ...): only
the two service packages are kept, plus an osq/gen/__init__.py, and no osq/__init__.py, so a
generated tree on sys.path never hides the real osq package. The tree is built in a temporary
directory and moved into place, so an interrupted run leaves the old tree intact.

Usage: gen_thrift.py [--thrift PROGRAM] --out DIR [--stamp FILE] IDL...
"""

import argparse
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

# the packages `namespace py` names in idl/osquery.thrift and idl/osq.thrift
PACKAGES = ("osquery", "osq")

GEN_INIT = ('"""Thrift code generated from idl/*.thrift at build time '
            '(never edit, never commit)."""\n')


class GenerateError(Exception):
    """The Thrift compiler is missing or failed."""


def find_thrift(program=None):
    """Returns the path of the Thrift compiler (PROGRAM, $THRIFT or `thrift` on PATH)."""
    program = program or os.environ.get("THRIFT") or "thrift"
    path = shutil.which(program)
    if path is None:
        raise GenerateError(
            f"the Thrift compiler '{program}' was not found: install it (Debian: "
            "apt install thrift-compiler) or set THRIFT=/path/to/thrift")
    return path


def generate(idl_files, out_dir, thrift=None):
    """Writes OUT_DIR/osq/gen/{__init__.py,osquery/,osq/} from the IDL files."""
    thrift = find_thrift(thrift)
    out_dir = pathlib.Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="osq-gen-", dir=out_dir) as tmp:
        raw = pathlib.Path(tmp) / "raw"
        raw.mkdir()
        for idl in idl_files:
            if not pathlib.Path(idl).is_file():
                raise GenerateError(f"IDL file {idl} not found")
            proc = subprocess.run([thrift, "--gen", "py", "-out", str(raw), str(idl)],
                                  capture_output=True, text=True, check=False)
            if proc.returncode != 0:
                raise GenerateError(f"{thrift} --gen py {idl} failed:\n{proc.stderr.strip()}")
        staged = pathlib.Path(tmp) / "gen"
        staged.mkdir()
        (staged / "__init__.py").write_text(GEN_INIT)
        for package in PACKAGES:
            src = raw / "osq" / "gen" / package
            if not (src / "__init__.py").is_file():
                raise GenerateError(f"thrift did not generate the package osq.gen.{package}")
            # the *-remote command-line scripts are not part of the package
            shutil.copytree(src, staged / package, ignore=shutil.ignore_patterns("*-remote"))
        target = out_dir / "osq" / "gen"
        target.parent.mkdir(exist_ok=True)
        old = pathlib.Path(tmp) / "old"
        if target.exists():
            target.rename(old)
        staged.rename(target)
    return target


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--thrift", help="the Thrift compiler (default: $THRIFT or thrift)")
    parser.add_argument("--out", required=True, help="directory that receives osq/gen/")
    parser.add_argument("--stamp", help="file touched after a successful run (for meson)")
    parser.add_argument("idl", nargs="+")
    args = parser.parse_args(argv)
    try:
        generate(args.idl, args.out, args.thrift)
    except GenerateError as e:
        print(f"gen_thrift.py: error: {e}", file=sys.stderr)
        return 1
    if args.stamp:
        pathlib.Path(args.stamp).write_text("")
    return 0


if __name__ == "__main__":
    sys.exit(main())
