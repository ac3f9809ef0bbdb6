#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Table spec checker and code generator (Python 3 standard library only).

Reads every tables/specs/*.toml, checks it (types, flags, names, event-table rules, and the
column names/types/flags against osquery's reference schema), and writes:
  c       osqd-tables-generated.h / .c: column enums, generator prototypes, the static registry
  docs    docs/tables.md: the table reference
  html    docs/tables.html: the same reference as one browsable page
  readme  the table index between the tables:begin/end markers of README.md (in place);
          with --check, only verify that it is up to date
  sources the family source files the specs name, one per line (for meson)
  check   nothing; exits non-zero on the first bad spec
"""

import argparse
import html
import json
import os
import re
import sys
import tomllib

TYPES = {
    "TEXT": "OSQD_COLUMN_TYPE_TEXT",
    "INTEGER": "OSQD_COLUMN_TYPE_INTEGER",
    "BIGINT": "OSQD_COLUMN_TYPE_BIGINT",
    "UNSIGNED_BIGINT": "OSQD_COLUMN_TYPE_UNSIGNED_BIGINT",
    "DOUBLE": "OSQD_COLUMN_TYPE_DOUBLE",
    "BLOB": "OSQD_COLUMN_TYPE_BLOB",
}
COLUMN_FLAGS = {
    "index": "OSQD_COLUMN_FLAG_INDEX",
    "required": "OSQD_COLUMN_FLAG_REQUIRED",
    "additional": "OSQD_COLUMN_FLAG_ADDITIONAL",
    "optimized": "OSQD_COLUMN_FLAG_OPTIMIZED",
    "hidden": "OSQD_COLUMN_FLAG_HIDDEN",
    "sensitive": "OSQD_COLUMN_FLAG_SENSITIVE",
}
TABLE_ATTRIBUTES = {
    "utility": "OSQD_TABLE_FLAG_UTILITY",
    "cacheable": "OSQD_TABLE_FLAG_CACHEABLE",
    "event": "OSQD_TABLE_FLAG_EVENT",
    "user_data": "OSQD_TABLE_FLAG_USER_DATA",
    "sensitive": "OSQD_TABLE_FLAG_SENSITIVE",
}
TABLE_KEYS = {"name", "description", "implementation", "attributes", "examples", "notes", "columns"}
COLUMN_KEYS = {"name", "type", "description", "flags", "notes"}
NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
RESERVED_COLUMNS = {"n", "index"}


class SpecError(Exception):
    pass


def load_spec(path):
    try:
        with open(path, "rb") as f:
            spec = tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise SpecError(f"{path}: {e}")
    where = os.path.basename(path)
    for key in spec:
        if key not in TABLE_KEYS:
            raise SpecError(f"{where}: unknown key '{key}'")
    for key in ("name", "description", "implementation", "columns"):
        if key not in spec:
            raise SpecError(f"{where}: missing '{key}'")
    name = spec["name"]
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise SpecError(f"{where}: bad table name {name!r}")
    if os.path.splitext(where)[0] != name:
        raise SpecError(f"{where}: file name must be {name}.toml")
    if not spec["description"].endswith("."):
        raise SpecError(f"{where}: description must end with a period")
    impl = spec["implementation"]
    if not re.match(r"^(linux|utility|events)/[a-z0-9_-]+\.c$", impl):
        raise SpecError(f"{where}: implementation must be linux/, utility/ or events/<family>.c")
    attrs = spec.get("attributes", [])
    for a in attrs:
        if a not in TABLE_ATTRIBUTES:
            raise SpecError(f"{where}: unknown attribute '{a}'")
    if not isinstance(spec.get("examples", []), list):
        raise SpecError(f"{where}: examples must be a list of SQL strings")
    seen = set()
    if not spec["columns"]:
        raise SpecError(f"{where}: a table needs columns")
    for col in spec["columns"]:
        for key in col:
            if key not in COLUMN_KEYS:
                raise SpecError(f"{where}: column key '{key}' unknown")
        cname = col.get("name")
        if not isinstance(cname, str) or not NAME_RE.match(cname):
            raise SpecError(f"{where}: bad column name {cname!r}")
        if cname in RESERVED_COLUMNS:
            raise SpecError(f"{where}: column name '{cname}' is reserved")
        if cname in seen:
            raise SpecError(f"{where}: duplicate column '{cname}'")
        seen.add(cname)
        if col.get("type") not in TYPES:
            raise SpecError(f"{where}: column '{cname}' has bad type {col.get('type')!r}")
        if not col.get("description", "").strip():
            raise SpecError(f"{where}: column '{cname}' needs a description")
        for flag in col.get("flags", []):
            if flag not in COLUMN_FLAGS:
                raise SpecError(f"{where}: column '{cname}' has unknown flag '{flag}'")
    is_event = "event" in attrs
    # osquery_events (the framework's status) is osquery's one *_events table that is not one
    if is_event != (name.endswith("_events") and name != "osquery_events"):
        raise SpecError(f"{where}: event tables, and only they, are named *_events")
    if is_event:
        time = [c for c in spec["columns"] if c["name"] == "time"]
        if not time or time[0]["type"] != "BIGINT":
            raise SpecError(f"{where}: an event table needs a BIGINT 'time' column")
        if "cacheable" in attrs:
            raise SpecError(f"{where}: an event table cannot be cacheable")
    return spec


def check_reference(spec, reference):
    """Column names, order, types and the index/required/hidden flags must be osquery's. osq may
    add columns of its own after osquery's, hidden ones only, so that SELECT * is unchanged."""
    ref = reference.get(spec["name"])
    if ref is None:
        return
    where = spec["name"] + ".toml"
    ours = [c["name"] for c in spec["columns"]]
    theirs = [c["name"] for c in ref["columns"]]
    for extra in spec["columns"][len(theirs):]:
        if ours[:len(theirs)] == theirs and "hidden" not in extra.get("flags", []):
            raise SpecError(f"{where}: column '{extra['name']}' is not osquery's: it must be hidden")
    ours = ours[:len(theirs)]
    if ours != theirs:
        raise SpecError(f"{where}: columns {ours} differ from osquery's {theirs}")
    for c, r in zip(spec["columns"], ref["columns"]):
        if c["type"] != r["type"]:
            raise SpecError(f"{where}: column '{c['name']}' is {c['type']}, osquery has {r['type']}")
        for flag in ("index", "required", "hidden"):
            if (flag in c.get("flags", [])) != bool(r.get(flag)):
                raise SpecError(f"{where}: column '{c['name']}' flag '{flag}' differs from osquery")


def load_all(spec_dir, reference_path):
    reference = {}
    if reference_path:
        with open(reference_path) as f:
            reference = {t["name"]: t for t in json.load(f)["tables"]}
    specs = []
    for entry in sorted(os.listdir(spec_dir)):
        if entry.endswith(".toml"):
            spec = load_spec(os.path.join(spec_dir, entry))
            check_reference(spec, reference)
            specs.append(spec)
    return specs


def c_string(text):
    return json.dumps(text)


def upper(name):
    return name.upper()


def emit_header(specs):
    out = ["/* Generated by tables/codegen/osq-codegen.py from tables/specs: do not edit. */",
           "#pragma once", "", '#include "osqd-table.h"', "", "G_BEGIN_DECLS", ""]
    for s in specs:
        t = upper(s["name"])
        out.append("enum {")
        for c in s["columns"]:
            out.append(f"\tOSQD_{t}_COL_{upper(c['name'])},")
        out.append(f"\tOSQD_{t}_N_COLUMNS")
        out.append("};")
        out.append("gboolean")
        out.append(f"osqd_table_{s['name']}_generate(OsqdTableContext *ctx, OsqdRowSink *sink, "
                   "GError **error);")
        out.append("")
    out.append("extern const OsqdTable osqd_tables_builtin[];")
    out.append("extern const guint osqd_tables_builtin_count;")
    out.append("")
    out.append("G_END_DECLS")
    return "\n".join(out) + "\n"


def emit_source(specs):
    out = ["/* Generated by tables/codegen/osq-codegen.py from tables/specs: do not edit. */",
           '#include "osqd-tables-generated.h"', ""]
    for s in specs:
        out.append(f"static const OsqdColumn {s['name']}_columns[] = {{")
        for c in s["columns"]:
            flags = " | ".join(COLUMN_FLAGS[f] for f in c.get("flags", [])) or "OSQD_COLUMN_FLAG_NONE"
            out.append(f"\t{{ {c_string(c['name'])}, {TYPES[c['type']]}, {flags}, "
                       f"{c_string(c['description'])} }},")
        out.append("};")
        out.append("")
    out.append("const OsqdTable osqd_tables_builtin[] = {")
    for s in specs:
        flags = " | ".join(TABLE_ATTRIBUTES[a] for a in s.get("attributes", [])) or "OSQD_TABLE_FLAG_NONE"
        out.append(f"\t{{ {c_string(s['name'])}, {c_string(s['description'])}, {s['name']}_columns, "
                   f"G_N_ELEMENTS({s['name']}_columns), {flags}, osqd_table_{s['name']}_generate, NULL }},")
    out.append("};")
    out.append(f"const guint osqd_tables_builtin_count = {len(specs)};")
    return "\n".join(out) + "\n"


def flag_words(col):
    return ", ".join(col.get("flags", []))


def emit_markdown(specs):
    out = ["# Table reference", "",
           "Generated from `tables/specs/*.toml` by `tables/codegen/osq-codegen.py`; do not edit.",
           "Column names and types are osquery's. Flags: `index` (pushed down to the generator),",
           "`required` (the query must constrain one of the required columns), `hidden` (not in",
           "`SELECT *`), `additional`/`optimized` (pushed down, changes or speeds up what is",
           "generated), `sensitive` (only privileged clients of `osqd` may read it).", "",
           f"{len(specs)} tables: " + ", ".join(f"[`{s['name']}`](#{s['name']})" for s in specs), ""]
    for s in specs:
        out.append(f"## {s['name']}")
        out.append("")
        out.append(s["description"])
        attrs = s.get("attributes", [])
        if attrs:
            out.append("")
            out.append("Attributes: " + ", ".join(f"`{a}`" for a in attrs) + ".")
        out.append("")
        out.append("| column | type | flags | description |")
        out.append("| --- | --- | --- | --- |")
        for c in s["columns"]:
            desc = c["description"].replace("|", "\\|")
            out.append(f"| `{c['name']}` | {c['type']} | {flag_words(c)} | {desc} |")
        if s.get("notes"):
            out.append("")
            out.append(s["notes"].strip())
        if s.get("examples"):
            out.append("")
            out.append("Examples:")
            out.append("")
            out.append("```sql")
            out.extend(e.strip() for e in s["examples"])
            out.append("```")
        out.append("")
    return "\n".join(out)


def emit_html(specs):
    e = html.escape
    out = ["<!DOCTYPE html>", "<html lang=\"en\"><head><meta charset=\"utf-8\">",
           "<title>osq table reference</title>",
           "<style>body{font-family:sans-serif;margin:0;display:flex}"
           "nav{width:16em;height:100vh;overflow:auto;position:sticky;top:0;padding:1em;"
           "background:#f4f4f4}main{padding:1em 2em;max-width:60em}"
           "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .5em;"
           "text-align:left}code,pre{background:#f0f0f0}</style></head><body>",
           "<nav><input id=\"f\" placeholder=\"filter tables\" oninput=\"for(const a of "
           "document.querySelectorAll('nav a'))a.style.display=a.textContent.includes(this.value)"
           "?'block':'none'\">"]
    for s in specs:
        out.append(f"<a href=\"#{e(s['name'])}\">{e(s['name'])}</a>")
    out.append("</nav><main><h1>osq table reference</h1>"
               "<p>Generated from the table specs; column names and types are osquery's.</p>")
    for s in specs:
        out.append(f"<h2 id=\"{e(s['name'])}\">{e(s['name'])}</h2><p>{e(s['description'])}</p>")
        out.append("<table><tr><th>column</th><th>type</th><th>flags</th><th>description</th></tr>")
        for c in s["columns"]:
            out.append(f"<tr><td><code>{e(c['name'])}</code></td><td>{e(c['type'])}</td>"
                       f"<td>{e(flag_words(c))}</td><td>{e(c['description'])}</td></tr>")
        out.append("</table>")
        if s.get("notes"):
            out.append(f"<p>{e(s['notes'].strip())}</p>")
        if s.get("examples"):
            out.append("<pre>" + e("\n".join(x.strip() for x in s["examples"])) + "</pre>")
    out.append("</main></body></html>")
    return "\n".join(out) + "\n"


README_BEGIN = "<!-- tables:begin (generated by tables/codegen/osq-codegen.py) -->"
README_END = "<!-- tables:end -->"


def emit_readme_index(specs):
    out = [README_BEGIN, "", "| table | description |", "| --- | --- |"]
    for s in specs:
        out.append(f"| [`{s['name']}`](docs/tables.md#{s['name']}) | {s['description']} |")
    out += ["", README_END]
    return "\n".join(out)


def update_readme(path, specs, check):
    with open(path) as f:
        text = f.read()
    begin, end = text.find(README_BEGIN), text.find(README_END)
    if begin < 0 or end < begin:
        print(f"osq-codegen: {path} has no table index markers", file=sys.stderr)
        return 1
    new = text[:begin] + emit_readme_index(specs) + text[end + len(README_END):]
    if check:
        if new != text:
            print(f"osq-codegen: the table index in {path} is stale: "
                  "run `meson compile -C build update-docs`", file=sys.stderr)
            return 1
        return 0
    if new != text:
        write(path, new)
    return 0


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["c", "docs", "html", "readme", "sources", "check"])
    parser.add_argument("--specs", required=True, help="the tables/specs folder")
    parser.add_argument("--reference", help="osquery's schema JSON to check column names against")
    parser.add_argument("--output", nargs="*", default=[], help="files to write")
    parser.add_argument("--check", action="store_true", help="readme: only check freshness")
    args = parser.parse_args()
    try:
        specs = load_all(args.specs, args.reference)
    except SpecError as e:
        print(f"osq-codegen: {e}", file=sys.stderr)
        return 1
    if args.command == "sources":
        print("\n".join(sorted({s["implementation"] for s in specs})))
    elif args.command == "c":
        write(args.output[0], emit_header(specs))
        write(args.output[1], emit_source(specs))
    elif args.command == "docs":
        write(args.output[0], emit_markdown(specs))
    elif args.command == "html":
        write(args.output[0], emit_html(specs))
    elif args.command == "readme":
        return update_readme(args.output[0], specs, args.check)
    return 0


if __name__ == "__main__":
    sys.exit(main())
