#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
#
# The C extension against a manager built from Thrift's own Python library and the stock
# generated osquery code (not libosq's codec): the registration must decode there, and the
# extension must answer Thrift's generated Extension client, so both directions are checked
# against an independent implementation of the protocol.
#   wire-test.py EXTENSION_BINARY   (OSQ_THRIFT_PY = the generated gen-py directory)
import os
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.environ["OSQ_THRIFT_PY"])
from osq.gen.osquery import Extension, ExtensionManager  # noqa: E402
from osq.gen.osquery.ttypes import ExtensionStatus  # noqa: E402
from thrift.protocol import TBinaryProtocol  # noqa: E402
from thrift.server import TServer  # noqa: E402
from thrift.transport import TSocket, TTransport  # noqa: E402

UUID = 4321


class Manager(ExtensionManager.Iface):
    def __init__(self):
        self.registered = threading.Event()
        self.info = None
        self.registry = None
        self.pings = 0

    def registerExtension(self, info, registry):
        self.info, self.registry = info, registry
        self.registered.set()
        return ExtensionStatus(code=0, message="OK", uuid=UUID)

    def ping(self):
        self.pings += 1
        return ExtensionStatus(code=0, message="pong", uuid=0)

    def deregisterExtension(self, uuid):
        return ExtensionStatus(code=0, message="OK", uuid=0)


def connect(path):
    transport = TTransport.TBufferedTransport(TSocket.TSocket(unix_socket=path))
    transport.open()
    return transport, Extension.Client(TBinaryProtocol.TBinaryProtocolAccelerated(transport))


def wait_for(predicate, what):
    deadline = time.monotonic() + 10
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.01)


def main():
    binary = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "osquery.em")
        root = os.path.join(tmp, "pressure")
        os.mkdir(root)
        with open(os.path.join(root, "memory"), "w") as f:
            f.write("some avg10=0.10 avg60=0.20 avg300=0.30 total=77\n"
                    "full avg10=0.00 avg60=0.00 avg300=0.00 total=5\n")
        manager = Manager()
        server = TServer.TThreadedServer(
            ExtensionManager.Processor(manager),
            TSocket.TServerSocket(unix_socket=path),
            TTransport.TBufferedTransportFactory(),
            TBinaryProtocol.TBinaryProtocolAcceleratedFactory())
        server.daemon = True
        threading.Thread(target=server.serve, daemon=True).start()
        wait_for(lambda: os.path.exists(path), "the manager socket")
        child = subprocess.Popen([binary, "--socket", path, "--interval", "0.1", "--root", root])
        try:
            assert manager.registered.wait(10), "no registration"
            assert manager.info.name == "kernel_pressure", manager.info
            assert manager.info.version == "1.0.0", manager.info
            assert manager.info.sdk_version == "0.0.0", manager.info
            routes = manager.registry["table"]["kernel_pressure"]
            assert [r["name"] for r in routes] == [
                "resource", "kind", "avg10", "avg60", "avg300", "total"], routes
            assert routes[0] == {"id": "column", "name": "resource", "type": "TEXT", "op": "1"}
            assert routes[5]["type"] == "BIGINT", routes
            ext_path = "%s.%d" % (path, UUID)
            wait_for(lambda: os.path.exists(ext_path), "the extension socket")

            transport, client = connect(ext_path)
            status = client.ping()
            assert (status.code, status.uuid) == (0, UUID), status
            response = client.call("table", "kernel_pressure", {
                "action": "generate",
                "context": '{"constraints":[{"name":"resource","list":[{"op":2,"expr":'
                           '"memory"}],"affinity":"TEXT"}],"colsUsed":["resource","total"]}'})
            assert response.status.code == 0, response.status
            assert response.response == [
                {"resource": "memory", "kind": "some", "avg10": "0.1", "avg60": "0.2",
                 "avg300": "0.3", "total": "77"},
                {"resource": "memory", "kind": "full", "avg10": "0.0", "avg60": "0.0",
                 "avg300": "0.0", "total": "5"}], response.response
            response = client.call("table", "nope", {"action": "generate"})
            assert response.status.code == 1, response.status
            transport.close()
            wait_for(lambda: manager.pings >= 2, "pings")

            transport, client = connect(ext_path)
            client.shutdown()
            transport.close()
            assert child.wait(10) == 0
            assert not os.path.exists(ext_path)
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
    print("ok")


if __name__ == "__main__":
    main()
