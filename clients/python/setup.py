# SPDX-License-Identifier: Apache-2.0
"""Build hook of the osq package: build_py also generates osq/gen from the Thrift IDL.

The metadata is in pyproject.toml. The IDL is the repository's idl/ directory (two levels up),
or $OSQ_IDL_DIR; the compiler is `thrift` on PATH or $THRIFT. Generated code lands only in the
build directory and the wheel, never in the source tree.
"""

import importlib.util
import os
import pathlib

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.errors import ExecError, FileError

HERE = pathlib.Path(__file__).resolve().parent
IDL_FILES = ("osquery.thrift", "osq.thrift")


def _gen_thrift():
    spec = importlib.util.spec_from_file_location("osq_gen_thrift", HERE / "gen_thrift.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _idl_dir():
    candidates = [os.environ.get("OSQ_IDL_DIR"), HERE.parent.parent / "idl", HERE / "idl"]
    for candidate in candidates:
        if candidate and all((pathlib.Path(candidate) / name).is_file() for name in IDL_FILES):
            return pathlib.Path(candidate)
    raise FileError("osq: the Thrift IDL (idl/osquery.thrift, idl/osq.thrift) was not found: "
                    "build from the osq source tree or set OSQ_IDL_DIR")


class BuildPyWithThrift(build_py):
    """build_py, then thrift --gen py into the build directory's osq/gen."""

    def run(self):
        super().run()
        if self.dry_run:
            return
        gen = _gen_thrift()
        idl_dir = _idl_dir()
        try:
            gen.generate([idl_dir / name for name in IDL_FILES], self.build_lib)
        except gen.GenerateError as e:
            raise ExecError(f"osq: {e}") from e


setup(cmdclass={"build_py": BuildPyWithThrift})
