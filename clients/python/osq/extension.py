# SPDX-License-Identifier: Apache-2.0
"""ExtensionRunner and start_extension(): serve plugins to osqd (or osquery) as an extension.

The life of an extension, as osquery's SDKs do it: wait for the manager socket, registerExtension
(only the registries that have plugins), then bind `<socket>.<uuid>` (only after the reply) and
serve Extension.ping/call/shutdown there, while a watcher pings the manager every interval and
stops everything when it is gone. Unlike osquery-python's one-connection server, every accepted
connection gets its own thread: the core opens a fresh connection per call and may call
concurrently. Each request is read whole and checked (nesting, lengths, size) before the
generated code decodes it, so garbage, a huge length prefix or deeply nested structs on the
extension socket cost only that connection.
"""

import argparse
import logging
import os
import selectors
import signal
import socket
import stat
import struct
import sys
import threading
import time

from thrift.protocol.TBinaryProtocol import TBinaryProtocol, TBinaryProtocolAccelerated
from thrift.protocol.TProtocol import TProtocolException
from thrift.Thrift import TApplicationException
from thrift.transport import TSocket, TTransport
from thrift.transport.TTransport import TTransportException

from osq.client import DEFAULT_SOCKET, Error
from osq.gen.osquery import Extension, ExtensionManager
from osq.gen.osquery.ttypes import ExtensionResponse, ExtensionStatus, InternalExtensionInfo
from osq.plugins import BasePlugin, registered_plugins

_log = logging.getLogger("osq.extension")

DEFAULT_SDK_VERSION = "1.8.0"
DEFAULT_MIN_SDK_VERSION = "1.8.0"

# Bounds on what a peer can make the extension read: a request string (a logger's result line,
# a generate context) up to 64 MiB, a message up to 65 MiB, containers up to a million entries,
# nesting 64 deep, method names 64 bytes.
MAX_STRING = 64 * 1024 * 1024
MAX_CONTAINER = 1024 * 1024
MAX_METHOD_NAME = 64
MAX_MESSAGE = MAX_STRING + 1024 * 1024
MAX_DEPTH = 64
MAX_CONNECTIONS = 64
# sun_path holds 107 bytes and a NUL; "<socket>.<uuid>" adds up to 6
_MAX_SOCKET_PATH = 107 - 6


class ExtensionError(Error):
    """The extension could not start: no manager, a refused registration, a bad plugin."""


class RegistrationError(ExtensionError):
    """The manager refused the registration; code and message are its status."""

    def __init__(self, message, code=1):
        super().__init__(message)
        self.code = code
        self.message = message


class _MessageTooLarge(Exception):
    """A request breaks one of the reader's bounds."""


# sizes of the fixed-width Thrift types: BOOL, BYTE, DOUBLE, I16, I32, I64
_FIXED = {2: 1, 3: 1, 4: 8, 6: 2, 8: 4, 10: 8}
_STRING, _STRUCT, _MAP, _SET, _LIST = 11, 12, 13, 14, 15
_I32 = struct.Struct(">i")
_MAP_HEADER = struct.Struct(">bbi")
_LIST_HEADER = struct.Struct(">bi")


class _MessageReader:
    """Reads one whole binary-protocol message from a socket, checking its shape as it goes.

    Thrift's C decoder recurses without a depth limit when it skips a mistyped field, so a few
    hundred kilobytes of nested structs crash the process; and its readers allocate what a
    length prefix claims before the bytes arrive. Each request is therefore walked here first,
    iteratively, with bounds on nesting, strings, containers and the whole message, and only a
    message that passed is handed to the generated processor (from memory).
    """

    def __init__(self, conn, max_message=MAX_MESSAGE):
        self._conn = conn
        self._buf = bytearray()
        self._pos = 0
        self._max_message = max_message

    def _need(self, n):
        """Makes N more bytes available at _pos (EOFError if the peer closes first)."""
        want = self._pos + n
        if want > self._max_message:
            raise _MessageTooLarge(f"a message larger than {self._max_message} bytes")
        while len(self._buf) < want:
            chunk = self._conn.recv(min(max(want - len(self._buf), 65536), 1 << 20))
            if not chunk:
                raise EOFError("the peer closed the connection")
            self._buf += chunk

    def _take(self, n):
        self._need(n)
        start = self._pos
        self._pos += n
        return self._buf[start:self._pos]

    def _i32(self):
        return _I32.unpack(self._take(4))[0]

    def _length(self, value, limit, what):
        if value < 0 or value > limit:
            raise _MessageTooLarge(f"a {what} of {value}")
        return value

    def read(self):
        """Returns the next message's bytes (EOFError at a clean end of the connection)."""
        if self._pos:
            del self._buf[:self._pos]
            self._pos = 0
        word = self._i32()
        if word < 0:
            if word & TBinaryProtocol.VERSION_MASK != TBinaryProtocol.VERSION_1:
                raise TProtocolException(TProtocolException.BAD_VERSION,
                                         f"bad message header {word & 0xffffffff:#x}")
            self._take(self._length(self._i32(), MAX_METHOD_NAME, "method name"))
            self._take(4)  # seqid
        else:  # unversioned: name, type byte, seqid
            self._take(self._length(word, MAX_METHOD_NAME, "method name") + 5)
        self._skip_struct()
        return bytes(self._buf[:self._pos])

    def _skip_struct(self):
        # a stack of pending work: "s" = fields of a struct until STOP, or
        # [remaining element types...] of a container being walked
        stack = [["s"]]
        while stack:
            if len(stack) > MAX_DEPTH:
                raise _MessageTooLarge(f"nesting deeper than {MAX_DEPTH}")
            top = stack[-1]
            if top[0] == "s":
                ttype = self._take(1)[0]
                if ttype == 0:  # STOP
                    stack.pop()
                    continue
                self._take(2)  # field id
            elif top[0] == "c":
                _, element_types, remaining = top
                if remaining == 0:
                    stack.pop()
                    continue
                top[2] = remaining - 1
                ttype = element_types[(len(element_types) - remaining) % 2
                                      if len(element_types) == 2 else 0]
            self._skip_value(ttype, stack)

    def _skip_value(self, ttype, stack):
        size = _FIXED.get(ttype)
        if size is not None:
            self._take(size)
        elif ttype == _STRING:
            self._take(self._length(self._i32(), MAX_STRING, "string"))
        elif ttype == _STRUCT:
            stack.append(["s"])
        elif ttype == _MAP:
            key, value, count = _MAP_HEADER.unpack(self._take(6))
            self._container(count, (key, value), stack)
        elif ttype in (_SET, _LIST):
            element, count = _LIST_HEADER.unpack(self._take(5))
            self._container(count, (element,), stack)
        else:
            raise TProtocolException(TProtocolException.INVALID_DATA,
                                     f"unknown field type {ttype}")

    def _container(self, count, element_types, stack):
        self._length(count, MAX_CONTAINER, "container")
        for ttype in element_types:
            if ttype not in _FIXED and ttype not in (_STRING, _STRUCT, _MAP, _SET, _LIST):
                raise TProtocolException(TProtocolException.INVALID_DATA,
                                         f"unknown element type {ttype}")
        if all(t in _FIXED for t in element_types):
            self._take(count * sum(_FIXED[t] for t in element_types))
        elif count:
            # the element types alternate (key, value) for a map: walk 2 * count values
            stack.append(["c", element_types, count * len(element_types)])


def _connect_unix(path, timeout):
    """A connected Thrift socket on PATH (OSError if it cannot connect)."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
    try:
        sock.settimeout(timeout)
        sock.connect(path)
    except OSError:
        sock.close()
        raise
    transport = TSocket.TSocket(unix_socket=path)
    transport.setHandle(sock)
    return transport


class _ManagerConnection:
    """One persistent connection to the manager (register, ping, deregister), under a lock."""

    def __init__(self, path, timeout):
        self.path = path
        self.timeout = timeout
        self._lock = threading.Lock()
        self._transport = None
        self._client = None

    def open(self):
        with self._lock:
            self._open()

    def _open(self):
        self._close()
        transport = TTransport.TBufferedTransport(_connect_unix(self.path, self.timeout))
        self._client = ExtensionManager.Client(TBinaryProtocolAccelerated(transport))
        self._transport = transport

    def _close(self):
        transport, self._transport, self._client = self._transport, None, None
        if transport is not None:
            try:
                transport.close()
            except (OSError, TTransportException):
                pass

    def close(self):
        with self._lock:
            self._close()

    def rpc(self, method, *args, reconnect=False):
        """Calls METHOD; a broken connection is reopened and retried once if RECONNECT."""
        with self._lock:
            for attempt in (1, 2):
                try:
                    if self._client is None:
                        self._open()
                    return getattr(self._client, method)(*args)
                except (TTransportException, TProtocolException, OSError, EOFError):
                    self._close()
                    if not reconnect or attempt == 2:
                        raise
        raise AssertionError("unreachable")


class _Handler:
    """The Extension service (ping, call, shutdown) of one runner."""

    def __init__(self, runner):
        self._runner = runner

    def ping(self):
        return ExtensionStatus(code=0, message="OK", uuid=self._runner.uuid or 0)

    def call(self, registry, item, request):
        response = self._runner.route(registry, item, request or {})
        if response.status is not None and response.status.uuid is None:
            response.status.uuid = self._runner.uuid or 0
        return response

    def shutdown(self):
        self._runner._shutdown_requested.set()


class ExtensionRunner:
    """Registers PLUGINS with the manager at SOCKET_PATH and serves them in background threads.

    start() returns once registered and listening on `<socket_path>.<uuid>`; stop() deregisters,
    closes and removes the socket file. The runner also stops by itself when the manager stops
    answering pings (every INTERVAL seconds) or sends shutdown(); wait() blocks until then and
    `stop_reason` tells why. TIMEOUT is how long start() waits for the manager socket;
    RPC_TIMEOUT bounds each call to the manager; IDLE_TIMEOUT drops a silent connection.
    """

    def __init__(self, name="<unknown>", version="0.0.0", socket_path=DEFAULT_SOCKET,
                 plugins=None, interval=1.0, timeout=1.0, sdk_version=DEFAULT_SDK_VERSION,
                 min_sdk_version=DEFAULT_MIN_SDK_VERSION, rpc_timeout=5.0, idle_timeout=300.0,
                 max_connections=MAX_CONNECTIONS):
        self.name = name
        self.version = version
        self.socket_path = os.fspath(socket_path)
        self.interval = float(interval)
        self.timeout = float(timeout)
        self.sdk_version = sdk_version
        self.min_sdk_version = min_sdk_version
        self.rpc_timeout = rpc_timeout
        self.idle_timeout = idle_timeout
        self.max_connections = max_connections
        self.uuid = None
        self.extension_socket = None
        self.stop_reason = None
        self.manager_gone = False  # stopped because the manager stopped answering
        source = registered_plugins() if plugins is None else plugins
        self.plugins = [p() if isinstance(p, type) else p for p in source]
        self._routes = {}  # registry -> {name: plugin}
        self._manager = None
        self._listener = None
        self._wake_r = self._wake_w = None
        self._threads = []
        self._connections = set()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._stopped = threading.Event()
        self._shutdown_requested = threading.Event()
        self._processor = Extension.Processor(_Handler(self))

    def __repr__(self):
        return f"<osq.ExtensionRunner {self.name!r} uuid={self.uuid} {self.socket_path!r}>"

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc_info):
        self.stop()

    @property
    def running(self):
        return self.uuid is not None and not self._stopped.is_set()

    # registration

    def _registry(self):
        """The registration payload: {registry: {plugin name: routes}}, from the plugins."""
        self._routes = {}
        registry = {}
        for plugin in self.plugins:
            if not isinstance(plugin, BasePlugin) or plugin.registry_name is None:
                raise ExtensionError(f"{plugin!r} is not a TablePlugin, ConfigPlugin or "
                                     "LoggerPlugin")
            name = plugin.name()
            if not isinstance(name, str) or not name:
                raise ExtensionError(f"{plugin!r}: name() must return a non-empty str")
            items = self._routes.setdefault(plugin.registry_name, {})
            if name in items:
                raise ExtensionError(f"two {plugin.registry_name} plugins are named {name}")
            items[name] = plugin
            try:
                routes = plugin.routes()
            except ValueError as e:
                raise ExtensionError(str(e)) from e
            registry.setdefault(plugin.registry_name, {})[name] = routes
        return registry

    def _wait_for_manager(self):
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                self._manager.open()
                return
            except OSError as e:
                if time.monotonic() >= deadline:
                    raise ExtensionError(
                        f"cannot connect to the extension manager at {self.socket_path}: "
                        f"{e.strerror or e} (waited {self.timeout:g} s)") from e
            time.sleep(min(0.05, max(0.0, deadline - time.monotonic())))

    def start(self):
        """Registers and starts serving; returns the uuid the manager assigned.

        Raises ExtensionError (RegistrationError when the manager refused) and leaves nothing
        behind on failure.
        """
        if self.uuid is not None or self._stopping.is_set():
            raise ExtensionError("an ExtensionRunner starts only once")
        if len(os.fsencode(self.socket_path)) > _MAX_SOCKET_PATH:
            raise ExtensionError(f"the socket path {self.socket_path} is too long for a Unix "
                                 f"socket with a .<uuid> suffix (at most {_MAX_SOCKET_PATH} "
                                 "bytes)")
        registry = self._registry()
        if not registry:
            raise ExtensionError("no plugins to register")
        self._manager = _ManagerConnection(self.socket_path, self.rpc_timeout)
        self._wait_for_manager()
        info = InternalExtensionInfo(name=self.name, version=self.version,
                                     sdk_version=self.sdk_version,
                                     min_sdk_version=self.min_sdk_version)
        try:
            status = self._manager.rpc("registerExtension", info, registry)
        except (TTransportException, TProtocolException, TApplicationException, OSError,
                EOFError) as e:
            self._manager.close()
            raise ExtensionError(f"registerExtension at {self.socket_path} failed: {e}") from e
        if status is None or status.code != 0:
            self._manager.close()
            message = status.message if status is not None else "no status in the reply"
            raise RegistrationError(
                f"the extension manager at {self.socket_path} refused extension "
                f"{self.name}: {message}", status.code if status is not None else 1)
        if not status.uuid or status.uuid < 0:
            self._manager.close()
            raise RegistrationError(f"the extension manager at {self.socket_path} accepted "
                                    f"extension {self.name} but sent no uuid")
        self.uuid = status.uuid
        try:
            self._listen(f"{self.socket_path}.{self.uuid}")
        except BaseException:
            self._deregister()
            self._manager.close()
            self.uuid = None
            raise
        self._spawn(self._accept_loop, "accept")
        self._spawn(self._watch, "watcher")
        return self.uuid

    def _listen(self, path):
        self._remove_stale(path)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
        try:
            listener.bind(path)
            listener.listen(128)
            listener.setblocking(False)
        except OSError as e:
            listener.close()
            raise ExtensionError(f"cannot listen on {path}: {e.strerror or e}") from e
        self._listener = listener
        self.extension_socket = path
        self._wake_r, self._wake_w = os.pipe2(os.O_CLOEXEC | os.O_NONBLOCK)

    @staticmethod
    def _remove_stale(path):
        """Removes a file left at PATH by a dead process; a live listener there is an error."""
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            return
        if stat.S_ISSOCK(st.st_mode):
            probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
            try:
                probe.settimeout(1.0)
                probe.connect(path)
            except OSError:
                pass
            else:
                raise ExtensionError(f"{path} is in use by another process")
            finally:
                probe.close()
        elif stat.S_ISDIR(st.st_mode):
            raise ExtensionError(f"{path} is a directory")
        os.unlink(path)

    def _spawn(self, target, what, *args):
        thread = threading.Thread(target=target, args=args, daemon=True,
                                  name=f"osq-ext-{self.name}-{what}")
        thread.start()
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()]
            self._threads.append(thread)
        return thread

    # serving

    def _accept_loop(self):
        with selectors.DefaultSelector() as selector:
            selector.register(self._listener, selectors.EVENT_READ)
            selector.register(self._wake_r, selectors.EVENT_READ)
            while not self._stopping.is_set():
                for key, _ in selector.select():
                    if key.fileobj is not self._listener or self._stopping.is_set():
                        continue
                    try:
                        conn, _ = self._listener.accept()
                    except (BlockingIOError, InterruptedError, ConnectionAbortedError):
                        continue
                    except OSError as e:  # EMFILE and the like: wait, do not spin
                        _log.warning("accept on %s failed: %s", self.extension_socket, e)
                        time.sleep(0.1)
                        continue
                    with self._lock:
                        full = len(self._connections) >= self.max_connections
                        if not full:
                            self._connections.add(conn)
                    if full:
                        _log.warning("%s: more than %d connections, closing a new one",
                                     self.extension_socket, self.max_connections)
                        conn.close()
                        continue
                    self._spawn(self._serve_connection, "conn", conn)

    def _serve_connection(self, conn):
        conn.setblocking(True)
        conn.settimeout(self.idle_timeout)
        raw = TSocket.TSocket()
        raw.setHandle(conn)
        output = TBinaryProtocolAccelerated(TTransport.TBufferedTransport(raw))
        reader = _MessageReader(conn)
        try:
            while not self._stopping.is_set():
                message = reader.read()
                request = TBinaryProtocolAccelerated(TTransport.TMemoryBuffer(message))
                self._processor.process(request, output)
                if self._shutdown_requested.is_set():  # the reply is out: now stop
                    self._spawn(self.stop, "shutdown", "shutdown requested by the manager",
                                False)
                    break
        except (TTransportException, EOFError, ConnectionError):
            pass  # the peer closed the connection (or went silent for idle_timeout)
        except Exception as e:  # garbage: drop this connection only
            _log.debug("%s: dropping a connection: %s: %s", self.extension_socket,
                       type(e).__name__, e)
        finally:
            with self._lock:
                self._connections.discard(conn)
            try:
                conn.close()
            except OSError:
                pass

    def route(self, registry, item, request):
        """Answers call(REGISTRY, ITEM, REQUEST) with an ExtensionResponse; a plugin's exception
        becomes a code 1 status carrying its text."""
        items = self._routes.get(registry)
        if items is None:
            return ExtensionResponse(
                status=ExtensionStatus(code=1, message=f"A registry of an unknown type was "
                                       f"called: {registry}"), response=[])
        plugin = items.get(item)
        if plugin is None:
            return ExtensionResponse(
                status=ExtensionStatus(code=1, message=f"Extension registry {registry} does "
                                       f"not contain requested plugin: {item}"), response=[])
        try:
            response = plugin.call(request)
        except Exception as e:
            _log.debug("%s plugin %s failed", registry, item, exc_info=True)
            return ExtensionResponse(
                status=ExtensionStatus(code=1, message=f"{registry} plugin {item} failed: "
                                       f"{type(e).__name__}: {e}"), response=[])
        if not isinstance(response, ExtensionResponse):
            return ExtensionResponse(
                status=ExtensionStatus(code=1, message=f"{registry} plugin {item} returned "
                                       f"{type(response).__name__}, not an ExtensionResponse"),
                response=[])
        return response

    # health and stopping

    def _watch(self):
        while not self._stopping.wait(self.interval):
            try:
                status = self._manager.rpc("ping", reconnect=True)
            except Exception as e:  # transport, protocol or exception reply: gone
                self._gone(f"the extension manager at {self.socket_path} is gone: {e}")
                return
            if status is None or status.code != 0:
                message = status.message if status is not None else "no status"
                self._gone(f"the extension manager at {self.socket_path} failed a ping: "
                           f"{message}")
                return

    def _gone(self, reason):
        if not self._stopping.is_set():
            self.manager_gone = True
        self._spawn(self.stop, "gone", reason, False)

    def _deregister(self):
        if self.uuid is None or self._manager is None:
            return
        try:
            self._manager.rpc("deregisterExtension", self.uuid)
        except Exception as e:  # the manager may be gone already
            _log.debug("deregisterExtension failed: %s", e)

    def stop(self, reason="stopped", deregister=True):
        """Stops serving: deregisters (if DEREGISTER and registered), closes every connection
        and removes the extension socket file. Safe to call more than once, from any thread."""
        with self._lock:
            if self._stopping.is_set():
                first = False
            else:
                first = True
                self._stopping.set()
                self.stop_reason = reason
        if not first:
            if threading.current_thread() not in self._threads:
                self._stopped.wait()
            return
        try:
            if deregister:
                self._deregister()
            if self._manager is not None:
                self._manager.close()
            if self._wake_w is not None:
                os.write(self._wake_w, b"x")
            with self._lock:
                connections = list(self._connections)
                threads = list(self._threads)
            for conn in connections:
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            me = threading.current_thread()
            for thread in threads:
                if thread is not me:
                    thread.join(timeout=5.0)
            if self._listener is not None:
                self._listener.close()
                try:
                    if stat.S_ISSOCK(os.lstat(self.extension_socket).st_mode):
                        os.unlink(self.extension_socket)
                except OSError:
                    pass
            for fd in (self._wake_r, self._wake_w):
                if fd is not None:
                    os.close(fd)
            self._wake_r = self._wake_w = None
        finally:
            self._stopped.set()

    def wait(self, timeout=None):
        """Blocks until the runner stopped (or TIMEOUT seconds); returns True if it did."""
        return self._stopped.wait(timeout)


def _seconds(text):
    value = float(text)
    if not value > 0 or value > 86400:
        raise argparse.ArgumentTypeError(f"{text} is not a number of seconds in (0, 86400]")
    return value


def parse_args(argv=None):
    """Parses an extension's command line as osquery-python does (sys.argv[1:] by default):
    --socket PATH, --timeout S, --interval S, --verbose; anything else is an error (exit 2)."""
    parser = argparse.ArgumentParser(description="an osquery/osq extension")
    parser.add_argument("--socket", default=DEFAULT_SOCKET,
                        help=f"the extension manager socket (default {DEFAULT_SOCKET})")
    parser.add_argument("--timeout", type=_seconds, default=1.0,
                        help="seconds to wait for the manager socket (default 1)")
    parser.add_argument("--interval", type=_seconds, default=1.0,
                        help="seconds between pings of the manager (default 1)")
    parser.add_argument("--verbose", action="store_true", help="log to stderr")
    return parser.parse_args(argv)


def start_extension(name="<unknown>", version="0.0.0", sdk_version=DEFAULT_SDK_VERSION,
                    min_sdk_version=DEFAULT_MIN_SDK_VERSION, argv=None, plugins=None):
    """Registers the register_plugin()ed plugins (or PLUGINS) and serves them until the manager
    goes away or sends shutdown(); never returns: exits 0 after a shutdown request or a signal
    (SIGTERM, SIGINT), 1 when the manager is gone or refused the registration."""
    args = parse_args(argv)
    if args.verbose:
        logging.basicConfig(level=logging.DEBUG, stream=sys.stderr,
                            format=f"{name}: %(levelname)s %(message)s")
    runner = ExtensionRunner(name, version, args.socket, plugins, interval=args.interval,
                             timeout=args.timeout, sdk_version=sdk_version,
                             min_sdk_version=min_sdk_version)
    signalled = []

    def on_signal(signum, _frame):
        signalled.append(signum)  # the main thread stops the runner

    # installed before start(): a signal while registering must not kill the process with the
    # socket file left behind
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
    try:
        runner.start()
    except ExtensionError as e:
        print(f"{name}: {e}", file=sys.stderr)
        sys.exit(1)
    _log.info("registered as uuid %d, serving %s", runner.uuid, runner.extension_socket)
    while not runner.wait(0.2):  # a timed wait lets the main thread run signal handlers
        if signalled:
            runner.stop(f"signal {signalled[0]}")
    reason = runner.stop_reason or "stopped"
    gone = runner.manager_gone
    if gone:
        print(f"{name}: {reason}", file=sys.stderr)
    else:
        _log.info("stopping: %s", reason)
    sys.exit(1 if gone else 0)
