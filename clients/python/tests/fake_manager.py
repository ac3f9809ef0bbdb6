# SPDX-License-Identifier: Apache-2.0
"""A fake extension manager for the extension SDK's tests: osquery's core in miniature.

It serves the stock generated ExtensionManager processor on a Unix socket (a thread per
connection, as the core does), records what extensions send (registrations, pings,
deregistrations), and calls an extension's `<socket>.<uuid>` the way the core does: a fresh
connection per operation (ping, call, shutdown), closed afterwards.
"""

import os
import selectors
import socket
import threading
import time

from thrift.protocol.TBinaryProtocol import TBinaryProtocolAccelerated
from thrift.transport import TSocket, TTransport
from thrift.transport.TTransport import TTransportException

from osq.gen.osquery import Extension, ExtensionManager
from osq.gen.osquery.ttypes import ExtensionResponse, ExtensionStatus


class _Handler:
    def __init__(self, manager):
        self.m = manager

    def ping(self):
        with self.m.lock:
            self.m.pings += 1
        return ExtensionStatus(code=self.m.ping_code, message="pong", uuid=0)

    def call(self, registry, item, request):
        return ExtensionResponse(status=ExtensionStatus(code=1, message="fake", uuid=0),
                                 response=[])

    def shutdown(self):
        pass

    def extensions(self):
        with self.m.lock:
            return {uuid: reg["info"] for uuid, reg in self.m.registrations.items()}

    def options(self):
        return {}

    def registerExtension(self, info, registry):
        with self.m.lock:
            self.m.attempts.append({"info": info, "registry": registry})
            if self.m.refuse:
                return ExtensionStatus(code=1, message=self.m.refuse, uuid=0)
            uuid = self.m.next_uuid
            self.m.next_uuid += 1
            self.m.registrations[uuid] = {"info": info, "registry": registry}
            self.m.registered.set()
        return ExtensionStatus(code=0, message="OK", uuid=uuid)

    def deregisterExtension(self, uuid):
        with self.m.lock:
            self.m.deregistered.append(uuid)
            if self.m.registrations.pop(uuid, None) is None:
                return ExtensionStatus(code=1, message="No extension UUID found", uuid=0)
        return ExtensionStatus(code=0, message="OK", uuid=0)

    def query(self, sql):
        return ExtensionResponse(status=ExtensionStatus(code=1, message="no SQL here", uuid=0),
                                 response=[])

    def getQueryColumns(self, sql):
        return self.query(sql)


class FakeManager:
    """Serves ExtensionManager on PATH until stop(); see the module docstring."""

    def __init__(self, path, first_uuid=1000):
        self.path = path
        self.lock = threading.Lock()
        self.next_uuid = first_uuid
        self.refuse = None  # a message: refuse registrations with it
        self.ping_code = 0
        self.pings = 0
        self.attempts = []
        self.registrations = {}
        self.deregistered = []
        self.registered = threading.Event()
        self._processor = ExtensionManager.Processor(_Handler(self))
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._listener.bind(path)
        self._listener.listen(16)
        self._listener.setblocking(False)
        self._wake_r, self._wake_w = os.pipe()
        self._stopping = False
        self._connections = set()
        self._threads = []
        self._accept_thread = threading.Thread(target=self._accept_loop, daemon=True)
        self._accept_thread.start()

    def _accept_loop(self):
        with selectors.DefaultSelector() as selector:
            selector.register(self._listener, selectors.EVENT_READ)
            selector.register(self._wake_r, selectors.EVENT_READ)
            while not self._stopping:
                for key, _ in selector.select():
                    if key.fileobj is not self._listener or self._stopping:
                        continue
                    try:
                        conn, _ = self._listener.accept()
                    except BlockingIOError:
                        continue
                    conn.setblocking(True)
                    with self.lock:
                        self._connections.add(conn)
                    thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
                    self._threads.append(thread)
                    thread.start()

    def _serve(self, conn):
        raw = TSocket.TSocket()
        raw.setHandle(conn)
        transport = TTransport.TBufferedTransport(raw)
        protocol = TBinaryProtocolAccelerated(transport)
        try:
            while True:
                self._processor.process(protocol, protocol)
        except (TTransportException, OSError, EOFError):
            pass
        finally:
            with self.lock:
                self._connections.discard(conn)
            conn.close()

    def stop(self):
        """The manager goes away: closes the listener and every connection, removes the path."""
        if self._stopping:
            return
        self._stopping = True
        os.write(self._wake_w, b"x")
        self._accept_thread.join(5)
        self._listener.close()
        with self.lock:
            connections = list(self._connections)
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for thread in self._threads:
            thread.join(5)
        os.close(self._wake_r)
        os.close(self._wake_w)
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass

    def wait_registered(self, timeout=5.0):
        return self.registered.wait(timeout)

    # the core calling an extension: one connection per operation

    def extension_path(self, uuid):
        return f"{self.path}.{uuid}"

    def _client(self, uuid, timeout):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        sock.connect(self.extension_path(uuid))
        raw = TSocket.TSocket()
        raw.setHandle(sock)
        transport = TTransport.TBufferedTransport(raw)
        return transport, Extension.Client(TBinaryProtocolAccelerated(transport))

    def _once(self, uuid, method, *args, timeout=5.0):
        transport, client = self._client(uuid, timeout)
        try:
            return getattr(client, method)(*args)
        finally:
            transport.close()

    def ext_call(self, uuid, registry, item, request, timeout=5.0):
        return self._once(uuid, "call", registry, item, request, timeout=timeout)

    def ext_ping(self, uuid, timeout=5.0):
        return self._once(uuid, "ping", timeout=timeout)

    def ext_shutdown(self, uuid, timeout=5.0):
        return self._once(uuid, "shutdown", timeout=timeout)


def wait_for(predicate, timeout=5.0, step=0.01):
    """Polls PREDICATE until it is true or TIMEOUT seconds passed; returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(step)
