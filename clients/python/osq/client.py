# SPDX-License-Identifier: Apache-2.0
"""osq.Client: one connection to an osqd (or osquery) extension socket, used under a lock.

The stack is osquery-python's (TSocket on a Unix path, TBufferedTransport, binary protocol) with
the C-accelerated codec, so a 10,000-row reply is decoded in C. Queries go through osqd's
queryTyped (ordered columns, types and NULL positions in one reply of plain string lists); a
server without it (osquery itself) answers UNKNOWN_METHOD once and the client falls back to
query + getQueryColumns. A broken reused connection (daemon restarted, idle connection closed)
is reopened and the call retried once; a timeout or a garbled reply drops the connection so the
next call starts clean.
"""

import collections
import contextlib
import gc
import operator
import os
import socket
import threading

from thrift.protocol.TBinaryProtocol import TBinaryProtocolAccelerated
from thrift.protocol.TProtocol import TProtocolException
from thrift.Thrift import TApplicationException
from thrift.transport import TSocket, TTransport
from thrift.transport.TTransport import TTransportException

try:
    from osq.gen.osq import OsqManager
except ImportError as _e:  # pragma: no cover - depends on how the package was built
    raise ImportError(
        "osq: the generated Thrift code (osq.gen) was not found: install the package "
        "(pip install ./clients/python) or, in a source tree, build it with meson and set "
        "OSQ_THRIFT_PY=<builddir>/clients/python/gen-py") from _e

DEFAULT_SOCKET = "/var/osquery/osquery.em"
DEFAULT_TIMEOUT = 5.0

# Large replies arrive in few recv() calls; the C decoder refills from this buffer.
_READ_BUFFER = 256 * 1024


Status = collections.namedtuple("Status", "code message uuid")
Status.__doc__ = "An ExtensionStatus: code 0 is success, message, uuid (0 for the manager)."

Result = collections.namedtuple("Result", "columns types rows")
Result.__doc__ = ("A query result: column names and osquery type names in order, and rows as "
                  "lists of values in column order.")


class Error(Exception):
    """Base class of every error the osq client raises."""


class QueryError(Error):
    """The server refused or failed the query; code and message are its status."""

    def __init__(self, message, code=1):
        super().__init__(message)
        self.code = code
        self.message = message


class TransportError(Error):
    """The socket could not be opened, broke, or timed out."""


class ProtocolError(Error):
    """The server answered with a Thrift exception or a reply the client cannot decode."""


def value_type(type_name):
    """The Python type of a column's typed values: int, float, or None (text stays str).

    osquery's names map as INTEGER/BIGINT/UNSIGNED_BIGINT -> int and DOUBLE -> float; any other
    declared type follows SQLite's affinity rules ("INT" anywhere -> int; "REAL", "FLOA" or
    "DOUB" -> float), so a view or a table declared with "int" or "REAL" converts as well.
    """
    name = type_name.upper() if type_name else ""
    if "INT" in name:
        return int
    if "REAL" in name or "FLOA" in name or "DOUB" in name:
        return float
    return None


def user_socket():
    """Where osqd run by this (non-root) user puts its socket: <runtime dir>/osq/osquery.em,
    the runtime dir being $XDG_RUNTIME_DIR, else the cache dir (as GLib chooses it)."""
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if not runtime:
        runtime = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return os.path.join(runtime, "osq", "osquery.em")


def default_socket():
    """The socket a client uses when given none: the system daemon's DEFAULT_SOCKET, except
    for a non-root user whose own osqd socket (user_socket()) exists."""
    if os.geteuid() != 0:
        mine = user_socket()
        if os.path.exists(mine):
            return mine
    return DEFAULT_SOCKET


def _transport_detail(exc):
    """A short reason for a transport failure: the OS error when there is one."""
    inner = getattr(exc, "inner", None)
    if isinstance(inner, OSError) and inner.strerror:
        return inner.strerror
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    if isinstance(exc, TTransportException) and exc.type == TTransportException.END_OF_FILE:
        return "connection closed by the server"
    return str(exc) or exc.__class__.__name__


def _is_timeout(exc):
    if isinstance(exc, TTransportException):
        if exc.type == TTransportException.TIMED_OUT:
            return True
        exc = getattr(exc, "inner", None)
    return isinstance(exc, (TimeoutError, socket.timeout))


@contextlib.contextmanager
def _gc_paused():
    """Defers Python's cyclic GC while a reply is decoded and converted.

    The C decoder and the conversions allocate a list (and a dict) per row; the collections
    those allocations trigger traverse every row decoded so far again, a third of the time of a
    10,000-row query. Nothing made here can form a cycle. The previous state is restored, so an
    application that disabled the GC keeps it disabled.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _check_sql(sql):
    if not isinstance(sql, str):
        raise TypeError(f"sql must be a str, not {type(sql).__name__}")


def _identity(value):
    return value


def _int_or_none(value):
    return None if value is None else int(value)


def _float_or_none(value):
    return None if value is None else float(value)


def _lenient(value, convert):
    """One value the fast path could not convert: an INTEGER column may hold 1.5 or text."""
    if value is None:
        return None
    try:
        return convert(value)
    except ValueError:
        pass
    if convert is int:
        try:
            return float(value)
        except ValueError:
            pass
    return value


# operator.call is Python 3.11+
_call = getattr(operator, "call", lambda function, value: function(value))


def decode_rows(columns, types, rows, null_cells, typed, as_dicts=False):
    """Turns a queryTyped reply's string rows into Python values: lists, or dicts if as_dicts.

    Untyped rows keep the strings as they came (NULL is ""). Typed: the cells listed in
    null_cells (row * len(columns) + column) become None, integer columns int and DOUBLE columns
    float (see value_type()); other types stay text, and so does a value that does not parse as
    its column's type.
    """
    if not typed:
        return [dict(zip(columns, row)) for row in rows] if as_dicts else rows
    n_columns = len(columns)
    null_columns = set()
    if null_cells:
        if n_columns == 0:
            raise ProtocolError("the reply lists NULL cells but has no columns")
        for cell in null_cells:
            r, c = divmod(cell, n_columns)
            if cell < 0 or r >= len(rows) or c >= len(rows[r]):
                raise ProtocolError(f"NULL cell {cell} is outside the result")
            rows[r][c] = None
            null_columns.add(c)
    converters = []
    for i, kind in enumerate(types):
        convert = value_type(kind)
        if convert is int:
            converters.append(_int_or_none if i in null_columns else int)
        elif convert is float:
            converters.append(_float_or_none if i in null_columns else float)
        else:
            converters.append(None)
    if not any(converters):
        return [dict(zip(columns, row)) for row in rows] if as_dicts else rows
    # row by row, one C-level map per row (straight into the dict when dicts are wanted): about
    # twice as fast as converting column by column after transposing, as the decoded strings
    # lie in row order in memory
    functions = [convert or (_identity if i in null_columns else str)  # str(s) is s itself
                 for i, convert in enumerate(converters)]
    try:
        if as_dicts:
            return [dict(zip(columns, map(_call, functions, row))) for row in rows]
        return [list(map(_call, functions, row)) for row in rows]
    except (TypeError, ValueError):
        pass
    plain = [None if convert is None else (int if convert in (int, _int_or_none) else float)
             for convert in converters]
    rows = [[value if convert is None else _lenient(value, convert)
             for convert, value in zip(plain, row)] for row in rows]
    return [dict(zip(columns, row)) for row in rows] if as_dicts else rows


class Client:
    """A connection to the manager socket of osqd or osquery (path None: default_socket()).

    Connects on first use (or connect() / `with`), and reconnects after a broken connection.
    One lock per client serialises calls, so threads may share a client (calls then run one at
    a time); use one client per thread for parallel queries.
    """

    def __init__(self, path=None, timeout=DEFAULT_TIMEOUT):
        self.path = default_socket() if path is None else os.fspath(path)
        self.timeout = timeout
        self._lock = threading.Lock()
        self._transport = None
        self._client = None
        self._pid = None
        self._has_query_typed = None  # unknown until the server answered once

    def __repr__(self):
        state = "connected" if self._client is not None else "not connected"
        return f"<osq.Client {self.path!r} {state}>"

    def __enter__(self):
        self.connect()
        return self

    def __exit__(self, *exc_info):
        self.close()

    def connect(self):
        """Opens the connection now (it is opened on first use otherwise)."""
        with self._lock:
            if self._client is None or self._pid != os.getpid():
                self._open()

    def close(self):
        """Closes the connection; the next call opens a new one."""
        with self._lock:
            self._drop()

    # transport

    def _new_socket(self):
        """Returns a connected Thrift socket transport (tests replace this)."""
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(self.timeout)
            sock.connect(self.path)
        except OSError as e:
            sock.close()
            if _is_timeout(e):
                raise TransportError(f"cannot connect to {self.path}: timed out") from e
            raise TransportError(f"cannot connect to {self.path}: {_transport_detail(e)}") from e
        # TSocket.open() would log its failures and hide the errno: hand it the connected socket
        transport = TSocket.TSocket(unix_socket=self.path)
        transport.setHandle(sock)
        if self.timeout is not None:
            transport.setTimeout(self.timeout * 1000.0)
        return transport

    def _open(self):
        self._drop()
        transport = TTransport.TBufferedTransport(self._new_socket(), _READ_BUFFER)
        self._client = OsqManager.Client(TBinaryProtocolAccelerated(transport))
        self._transport = transport
        self._pid = os.getpid()
        self._has_query_typed = None

    def _drop(self):
        # closing (no shutdown) in a forked child leaves the parent's connection alone
        transport, self._transport, self._client = self._transport, None, None
        if transport is not None:
            try:
                transport.close()
            except (OSError, TTransportException):
                pass

    def _rpc(self, method, *args):
        """Calls a Thrift method (lock held); TApplicationException passes through."""
        fresh = self._client is None or self._pid != os.getpid()
        if fresh:
            self._open()
        for attempt in (1, 2):
            try:
                return getattr(self._client, method)(*args)
            except TApplicationException:
                raise  # a well-formed exception reply: the connection is still in step
            except (TTransportException, OSError, EOFError) as e:
                self._drop()
                if fresh or attempt == 2 or _is_timeout(e):
                    if _is_timeout(e):
                        raise TransportError(
                            f"{method}: no answer from {self.path} within {self.timeout} s"
                        ) from e
                    raise TransportError(
                        f"{method}: connection to {self.path} failed: {_transport_detail(e)}"
                    ) from e
                # a reused connection broke (daemon restarted, idle connection closed): retry
                self._open()
            except (TProtocolException, ValueError) as e:  # e.g. a bad version or length
                self._drop()
                raise ProtocolError(f"{method}: undecodable reply from {self.path}: {e}") from e
        raise AssertionError("unreachable")

    def _call(self, method, *args):
        """_rpc that turns a Thrift exception reply into ProtocolError."""
        try:
            return self._rpc(method, *args)
        except TApplicationException as e:
            raise ProtocolError(f"{method}: the server answered: {e.message or e}") from e

    # API

    def query_rows(self, sql, typed=False):
        """Runs SQL; returns a Result(columns, types, rows) with rows in column order.

        Untyped values are strings as osquery renders them (NULL is ""); typed=True gives int
        for INTEGER/BIGINT/UNSIGNED_BIGINT, float for DOUBLE (see value_type()), None for NULL
        and str otherwise.
        Raises QueryError when the server reports a failure.
        """
        return self._query(sql, typed, False)

    def query(self, sql, typed=False):
        """Runs SQL; returns a list of dicts (keys in column order). See query_rows()."""
        return self._query(sql, typed, True).rows

    def _query(self, sql, typed, as_dicts):
        _check_sql(sql)
        with self._lock, _gc_paused():
            columns, types, rows, null_cells = self._query_strings(sql, typed)
        with _gc_paused():  # the lock is free again for other threads
            rows = decode_rows(columns, types, rows, null_cells, typed, as_dicts)
        return Result(columns, types, rows)

    def _query_strings(self, sql, typed):
        """(columns, types, rows of strings, NULL cells) by queryTyped, or query and
        getQueryColumns when the server lacks queryTyped (lock held)."""
        if self._has_query_typed is not False:
            try:
                reply = self._rpc("queryTyped", sql)
            except TApplicationException as e:
                if e.type != TApplicationException.UNKNOWN_METHOD:
                    raise ProtocolError(
                        f"queryTyped: the server answered: {e.message or e}") from e
                self._has_query_typed = False  # osquery: use query + getQueryColumns
            else:
                self._has_query_typed = True
                return self._typed_strings(reply)
        return self._fallback_strings(sql, typed)

    def follow(self, sql, typed=False, from_start=False, max_rows=1000, poll_timeout=1.0,
               as_dicts=True):
        """Follows event tables live: yields each new row of SQL as its events arrive.

        SQL reads an event table (file_events, process_events, hardware_events), with any
        filter or join: `for row in client.follow("SELECT path, action FROM file_events")`.
        Rows come in event order, each once; from_start=True begins with the history osqd
        keeps, else with the next event. The iterator never ends by itself: break out of the
        loop to stop. Each wait is a long poll of poll_timeout seconds (kept below the client's
        timeout) for at most max_rows events. Rows are dicts (as_dicts) or lists in column
        order, typed as query() types them. Raises QueryError when SQL reads no event table or
        osqd has no event framework (osquery has no live follow).
        """
        _check_sql(sql)
        wait_ms = int(max(0.0, min(poll_timeout, self.timeout - 1.0)) * 1000)
        with self._lock:
            page = self._call("followStart", sql, bool(from_start))
        self._check(page.status)
        cursor = page.cursor or 0
        while True:
            with self._lock, _gc_paused():
                page = self._call("followPoll", sql, cursor, int(max_rows), wait_ms)
            columns, types, rows, null_cells = self._typed_strings(page)
            if page.cursor is not None and page.cursor > cursor:
                cursor = page.cursor
            yield from decode_rows(columns, types, rows, null_cells, typed, as_dicts)

    def columns(self, sql):
        """Returns the result columns of SQL (prepared, not run) as (name, type) pairs."""
        _check_sql(sql)
        with self._lock:
            reply = self._call("getQueryColumns", sql)
        self._check(reply.status)
        return [item for entry in reply.response or () for item in entry.items()]

    def ping(self):
        """Returns the server's Status (code 0 and "pong" from a healthy osqd)."""
        with self._lock:
            status = self._call("ping")
        return Status(status.code, status.message, status.uuid)

    def extensions(self):
        """Returns the registered extensions: {uuid: {name, version, sdk_version,
        min_sdk_version}}."""
        with self._lock:
            reply = self._call("extensions")
        return {uuid: {"name": info.name, "version": info.version,
                       "sdk_version": info.sdk_version, "min_sdk_version": info.min_sdk_version}
                for uuid, info in (reply or {}).items()}

    def options(self):
        """Returns the server's flags: {name: {value, default_value, type}}."""
        with self._lock:
            reply = self._call("options")
        return {name: {"value": info.value, "default_value": info.default_value,
                       "type": info.type}
                for name, info in (reply or {}).items()}

    # decoding

    @staticmethod
    def _check(status):
        if status is None:
            raise ProtocolError("the reply has no status")
        if status.code != 0:
            raise QueryError(status.message or f"query failed with code {status.code}",
                             status.code)

    def _typed_strings(self, reply):
        self._check(reply.status)
        columns = list(reply.columns or ())
        types = list(reply.types or ())
        if len(types) != len(columns):
            raise ProtocolError(f"{len(columns)} columns but {len(types)} types in the reply")
        return columns, types, reply.rows or [], reply.null_cells

    def _fallback_strings(self, sql, typed):
        """osquery's query (rows as maps) and getQueryColumns (order and types)."""
        reply = self._rpc("query", sql)
        self._check(reply.status)
        maps = reply.response or []
        described = self._rpc("getQueryColumns", sql)
        pairs = []
        if described.status is not None and described.status.code == 0:
            pairs = [item for entry in described.response or () for item in entry.items()]
        if not pairs and maps:
            pairs = [(name, "TEXT") for name in maps[0]]
        columns = [name for name, _ in pairs]
        types = [kind for _, kind in pairs]
        rows = [[m.get(name, "") for name in columns] for m in maps]
        null_cells = None
        if typed:
            # osquery sends NULL as "": for a number column "" can only be NULL
            numeric = [i for i, kind in enumerate(types)
                       if value_type(kind) is not None]
            null_cells = [r * len(columns) + i for r, row in enumerate(rows)
                          for i in numeric if row[i] == ""]
        return columns, types, rows, null_cells
