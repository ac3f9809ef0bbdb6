#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""An osq extension in Python: the `pressure_stall` table (Linux pressure stall information).

osquery has no table for PSI, the kernel's measure of how long tasks waited for CPU, memory or
I/O: /proc/pressure/<resource> system-wide (cgroup "/") and <cgroup2 mount>/<group>/
<resource>.pressure per control group. One row per (cgroup, resource, kind): `some` is the
share of time at least one task stalled, `full` all of them; avg10/avg60/avg300 are percentages
over 10 s, 60 s and 300 s, total the stalled microseconds since boot. `WHERE cgroup = '...'` and
`WHERE resource = '...'` are pushed down (only those files are read); without a cgroup
constraint every cgroup is listed.

    PYTHONPATH=clients/python /usr/bin/python3 examples/python-extension/pressure_stall.py \
        --socket /tmp/x/osq.em
"""

import os
import posixpath

import osq

RESOURCES = ("cpu", "memory", "io", "irq")
FIELDS = ("avg10", "avg60", "avg300", "total")


def cgroup2_mount(mounts="/proc/self/mounts"):
    """Where the cgroup v2 hierarchy is mounted (/sys/fs/cgroup unless mounts says otherwise)."""
    try:
        with open(mounts, encoding="utf-8", errors="replace") as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 3 and parts[2] == "cgroup2":
                    return parts[1].replace("\\040", " ")
    except OSError:
        pass
    return "/sys/fs/cgroup"


def parse_pressure(text):
    """{kind: {avg10, avg60, avg300 (float), total (int)}} from a PSI file's text; lines or
    fields that do not parse are skipped."""
    parsed = {}
    for line in text.splitlines():
        kind, _, rest = line.partition(" ")
        if kind not in ("some", "full"):
            continue
        values = {}
        for field in rest.split():
            key, _, value = field.partition("=")
            try:
                if key == "total":
                    values[key] = int(value)
                elif key in FIELDS:
                    values[key] = float(value)
            except ValueError:
                pass
        parsed[kind] = values
    return parsed


class PressureStallTable(osq.TablePlugin):
    """The table; the roots are parameters so tests can point it at a fixture tree."""

    def __init__(self, proc_pressure="/proc/pressure", cgroup_root=None):
        self.proc_pressure = proc_pressure
        self.cgroup_root = cgroup_root or cgroup2_mount()

    def name(self):
        return "pressure_stall"

    def columns(self):
        return [
            osq.TableColumn(name="cgroup", type=osq.TEXT),
            osq.TableColumn(name="resource", type=osq.TEXT),
            osq.TableColumn(name="kind", type=osq.TEXT),
            osq.TableColumn(name="avg10", type=osq.DOUBLE),
            osq.TableColumn(name="avg60", type=osq.DOUBLE),
            osq.TableColumn(name="avg300", type=osq.DOUBLE),
            osq.TableColumn(name="total", type=osq.BIGINT),
        ]

    def _file(self, cgroup, resource):
        if cgroup == "/":
            return os.path.join(self.proc_pressure, resource)
        return os.path.join(self.cgroup_root, cgroup.lstrip("/"), f"{resource}.pressure")

    def _all_cgroups(self):
        yield "/"
        stack = [""]
        while stack:
            relative = stack.pop()
            try:
                with os.scandir(os.path.join(self.cgroup_root, relative)) as entries:
                    children = sorted(e.name for e in entries
                                      if e.is_dir(follow_symlinks=False))
            except OSError:
                continue
            for child in reversed(children):
                stack.append(posixpath.join(relative, child))
            if relative:
                yield "/" + relative

    @staticmethod
    def _clean_cgroup(value):
        """A constraint's cgroup as "/a/b", or None if it could name a path outside the tree."""
        if not value.startswith("/") or "\0" in value:
            return None
        parts = [p for p in value.split("/") if p]
        if any(p in (".", "..") for p in parts):
            return None
        return "/" + "/".join(parts)

    def generate(self, context):
        wanted = osq.constraints(context, "cgroup", osq.EQUALS)
        if wanted:
            cgroups = [c for c in map(self._clean_cgroup, dict.fromkeys(wanted)) if c]
        else:
            cgroups = self._all_cgroups()
        resources = [r for r in osq.constraints(context, "resource", osq.EQUALS)
                     if r in RESOURCES] or RESOURCES
        rows = []
        for cgroup in cgroups:
            for resource in resources:
                try:
                    with open(self._file(cgroup, resource), encoding="ascii",
                              errors="replace") as f:
                        text = f.read(4096)
                except OSError:  # no such group, PSI off, or irq pressure not supported
                    continue
                for kind, values in parse_pressure(text).items():
                    rows.append({"cgroup": cgroup, "resource": resource, "kind": kind,
                                 **{k: values.get(k) for k in FIELDS}})
        return rows


if __name__ == "__main__":
    osq.register_plugin(PressureStallTable)
    osq.start_extension(name="pressure_stall", version="1.0.0")
