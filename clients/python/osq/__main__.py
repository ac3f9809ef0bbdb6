# SPDX-License-Identifier: Apache-2.0
"""python3 -m osq "SQL": runs one query through an osqd (or osquery) socket and prints it.

Text output is a header line and one line per row (nothing for an empty result), values
separated by '|' (NULL is empty, or NULL with --typed). --json prints a JSON array with one
object per row and typed values (numbers as numbers, NULL as null), like osqueryi --json. Any
failure prints "Error: ..." on stderr and exits with status 1.
"""

import argparse
import json
import math
import os
import sys

import osq


def _parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="python3 -m osq", description="Run one SQL query through an osqd socket.")
    parser.add_argument("sql", help="the SQL to run")
    parser.add_argument("--socket", default=None,
                        help=f"the daemon's extensions socket (default {osq.default_socket()})")
    parser.add_argument("--json", action="store_true",
                        help="print a JSON array of row objects with typed values")
    parser.add_argument("--typed", action="store_true",
                        help="typed values in text output (NULL printed as NULL)")
    parser.add_argument("--timeout", type=float, default=osq.DEFAULT_TIMEOUT,
                        help=f"seconds to wait for the daemon (default {osq.DEFAULT_TIMEOUT:g})")
    return parser.parse_args(argv)


def _json_value(value):
    # JSON has no Infinity or NaN
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _write_json(out, result):
    out.write("[\n")
    last = len(result.rows) - 1
    for i, row in enumerate(result.rows):
        obj = {name: _json_value(value) for name, value in zip(result.columns, row)}
        out.write("  " + json.dumps(obj, ensure_ascii=False, separators=(",", ":")))
        out.write(",\n" if i < last else "\n")
    out.write("]\n")


def _write_text(out, result):
    out.write("|".join(result.columns) + "\n")
    for row in result.rows:
        out.write("|".join("NULL" if value is None else str(value) for value in row) + "\n")


def main(argv=None):
    args = _parse_args(argv)
    try:
        with osq.Client(args.socket, timeout=args.timeout) as client:
            result = client.query_rows(args.sql, typed=args.json or args.typed)
    except osq.Error as e:
        print(f"Error: {e}", file=sys.stderr)
        return 1
    try:
        if args.json:
            _write_json(sys.stdout, result)
        elif result.rows:
            _write_text(sys.stdout, result)
        sys.stdout.flush()
    except BrokenPipeError:
        # `python3 -m osq ... | head`: stop quietly; point stdout at /dev/null for the exit flush
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
