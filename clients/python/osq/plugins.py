# SPDX-License-Identifier: Apache-2.0
"""Plugin classes of the extension SDK: tables, config and logger plugins, as in osquery-python.

A plugin answers the requests osquery's core (or osqd) sends through Extension.call(registry,
item, request): call(request) returns an ExtensionResponse. Subclasses only implement the
osquery-python methods (name(), columns()/generate(), content(), log_string()...); the routing,
the conversion of rows to string maps and the error statuses live here, so they can be tested
without a socket. A plugin may be called from several threads at once (one per connection).
"""

import collections
import json

from osq.gen.osquery.ttypes import ExtensionResponse, ExtensionStatus

# column types, as osquery names them on the wire (route info "type")
TEXT = "TEXT"
STRING = TEXT
INTEGER = "INTEGER"
BIGINT = "BIGINT"
UNSIGNED_BIGINT = "UNSIGNED BIGINT"
DOUBLE = "DOUBLE"
BLOB = "BLOB"
COLUMN_TYPES = frozenset((TEXT, INTEGER, BIGINT, UNSIGNED_BIGINT, DOUBLE, BLOB))

# constraint operators in a generate context (SQLite's index-constraint codes, osquery's names)
EQUALS = 2
GREATER_THAN = 4
LESS_THAN_OR_EQUALS = 8
LESS_THAN = 16
GREATER_THAN_OR_EQUALS = 32
MATCH = 64
LIKE = 65
GLOB = 66
REGEXP = 67

# logger features, answered in the status code of {"action": "features"}
LOGGER_FEATURE_STATUS = 1
LOGGER_FEATURE_EVENT = 2

TableColumn = collections.namedtuple("TableColumn", "name type")
TableColumn.__doc__ = "A table column: its name and one of the type constants (TEXT, INTEGER...)."


def ok(message="OK"):
    """A success ExtensionStatus (code 0)."""
    return ExtensionStatus(code=0, message=message)


def failure(message, code=1):
    """A failure ExtensionStatus (code 1 unless given)."""
    return ExtensionStatus(code=code, message=message)


def _response(status, rows=None):
    return ExtensionResponse(status=status, response=[] if rows is None else rows)


def _text(value):
    """A cell or key as the wire's UTF-8 text (None is handled by the caller)."""
    if isinstance(value, str):
        text = value
    elif isinstance(value, bool):
        text = "1" if value else "0"  # osquery's integer columns would read "True" as NULL
    elif isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", "replace")
    else:
        text = str(value)
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates, e.g. an os.fsdecode()d file name
        text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return text


def rows_to_wire(rows):
    """Rows (dicts) as the wire's string maps: values str()ed, None values left out."""
    out = []
    for row in rows or ():
        if not isinstance(row, dict):
            raise TypeError(f"a row must be a dict, not {type(row).__name__}")
        out.append({_text(k): _text(v) for k, v in row.items() if v is not None})
    return out


def constraints(context, column, op=None):
    """The constraint values ("expr" texts) a generate context holds for COLUMN (all operators,
    or only OP, e.g. EQUALS). Constraints are advisory: the core filters the rows again."""
    found = []
    for entry in (context or {}).get("constraints") or ():
        if not isinstance(entry, dict) or entry.get("name") != column:
            continue
        for item in entry.get("list") or ():
            if not isinstance(item, dict) or "expr" not in item:
                continue
            try:
                item_op = int(item.get("op"))
            except (TypeError, ValueError):
                continue
            if op is None or item_op == op:
                found.append(str(item["expr"]))
    return found


class BasePlugin:
    """A plugin of some registry; subclasses set `registry_name` and implement name()/call()."""

    registry_name = None

    def name(self):
        raise NotImplementedError("a plugin must implement name()")

    def routes(self):
        """The route info sent at registration (a list of string maps)."""
        return []

    def call(self, request):
        """Answers one request (a dict of strings) with an ExtensionResponse."""
        raise NotImplementedError


class TablePlugin(BasePlugin):
    """A table: implement name(), columns() (TableColumn list) and generate(context).

    generate() receives the request's context JSON parsed ({} when there is none): its
    "constraints" list pushed down by the core (see constraints()) and "colsUsed". It returns a
    list of dicts; values are sent as str(value), None leaves the column out (SQL NULL).
    """

    registry_name = "table"

    def columns(self):
        raise NotImplementedError("a table plugin must implement columns()")

    def generate(self, context):
        raise NotImplementedError("a table plugin must implement generate(context)")

    def routes(self):
        routes = []
        for column in self.columns():
            if isinstance(column, dict):  # osquery-python's TableColumn() is a dict
                name, kind = column.get("name"), column.get("type")
            else:
                name, kind = column
            if not isinstance(name, str) or not name:
                raise ValueError(f"table {self.name()}: a column needs a name, got {name!r}")
            if kind not in COLUMN_TYPES:
                raise ValueError(f"table {self.name()}: column {name} has unknown type {kind!r} "
                                 f"(one of {', '.join(sorted(COLUMN_TYPES))})")
            routes.append({"id": "column", "name": name, "type": kind, "op": "0"})
        if not routes:
            raise ValueError(f"table {self.name()} has no columns")
        return routes

    def call(self, request):
        action = request.get("action")
        if action is None:
            return _response(failure("Table plugins must include a request action"))
        if action == "columns":
            return _response(ok(), self.routes())
        if action == "generate":
            text = request.get("context")
            context = {}
            if text:
                try:
                    context = json.loads(text)
                except ValueError as e:
                    return _response(failure(f"the generate context is not JSON: {e}"))
                if not isinstance(context, dict):
                    return _response(failure("the generate context is not a JSON object"))
            return _response(ok(), rows_to_wire(self.generate(context)))
        return _response(failure(f"Unknown table action: {action}"))


class ConfigPlugin(BasePlugin):
    """A config source: implement name() and content() -> [{source_name: json_text}, ...].

    genConfig answers one row holding every source (a value that is not text is JSON-encoded).
    """

    registry_name = "config"

    def content(self):
        raise NotImplementedError("a config plugin must implement content()")

    def call(self, request):
        action = request.get("action")
        if action != "genConfig":
            return _response(failure(f"Not a valid config plugin action: {action}"))
        row = {}
        for sources in self.content() or ():
            if not isinstance(sources, dict):
                raise TypeError("content() must return a list of {source: json_text} dicts")
            for source, value in sources.items():
                row[_text(source)] = value if isinstance(value, str) else json.dumps(value)
        return _response(ok(), [row])


def _as_status(result):
    """A log method's result as an ExtensionStatus: None is success; anything with code and
    message (ExtensionStatus, osq.Status) keeps them."""
    if result is None:
        return ok()
    code = getattr(result, "code", None)
    if code is None:
        raise TypeError(f"a logger method must return an ExtensionStatus or None, "
                        f"not {type(result).__name__}")
    return ExtensionStatus(code=int(code), message=str(getattr(result, "message", "") or ""))


class LoggerPlugin(BasePlugin):
    """A logger: implement name() and log_string(value) (returns an ExtensionStatus or None).

    Optional: log_snapshot(value) (default: log_string), log_health(value), log_status(lines)
    (parsed status records; sent only if features() declares LOGGER_FEATURE_STATUS),
    log_event(value), init(name, lines), features() (default 0: no status or event logs).
    """

    registry_name = "logger"

    def log_string(self, value):
        raise NotImplementedError("a logger plugin must implement log_string(value)")

    def log_snapshot(self, value):
        return self.log_string(value)

    def log_health(self, value):
        return None

    def log_status(self, lines):
        return None

    def log_event(self, value):
        return None

    def init(self, name, lines):
        return None

    def features(self):
        return 0

    @staticmethod
    def _lines(text):
        if not text:
            return []
        try:
            lines = json.loads(text)
        except ValueError:
            return [text]
        return lines if isinstance(lines, list) else [lines]

    def call(self, request):
        if "string" in request:
            result = self.log_string(request["string"])
        elif "snapshot" in request:
            result = self.log_snapshot(request["snapshot"])
        elif "init" in request:
            result = self.init(request["init"], self._lines(request.get("log")))
        elif "status" in request:
            result = self.log_status(self._lines(request.get("log")))
        elif "event" in request:
            result = self.log_event(request["event"])
        elif "health" in request:
            result = self.log_health(request["health"])
        elif request.get("action") == "features":
            return _response(ExtensionStatus(code=int(self.features()), message="OK"))
        else:
            return _response(failure("Not a valid logger plugin request"))
        return _response(_as_status(result))


_registered = []


def register_plugin(plugin):
    """Class decorator: adds an instance of PLUGIN to the plugins start_extension() serves."""
    instance = plugin() if isinstance(plugin, type) else plugin
    if not isinstance(instance, BasePlugin):
        raise TypeError(f"{plugin!r} is not a TablePlugin, ConfigPlugin or LoggerPlugin")
    _registered.append(instance)
    return plugin


def registered_plugins():
    """The plugin instances register_plugin() collected, in order."""
    return list(_registered)


def clear_registered_plugins():
    """Forgets every registered plugin (for tests and embedding)."""
    del _registered[:]
