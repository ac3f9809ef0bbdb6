# SPDX-License-Identifier: Apache-2.0
"""osq: a Python client for osqd (and osquery) over the Thrift extension socket.

The client speaks osquery's ExtensionManager API plus osq's queryTyped (one round trip with
ordered, typed columns and NULLs) on Debian's python3-thrift with the accelerated binary
protocol. The Thrift code under osq.gen is generated at build time: `pip install` puts it inside
the package; a source tree finds it through $OSQ_THRIFT_PY (meson's build/clients/python/gen-py)
or any sys.path entry holding an osq/gen/ tree.

    import osq
    with osq.Client("/var/osquery/osquery.em") as client:
        for row in client.query("SELECT pid, name FROM processes", typed=True):
            print(row["pid"], row["name"])
"""

import os as _os
import pkgutil as _pkgutil

__version__ = "0.1.0"

# osq.gen may live in another sys.path entry (a generated tree) or in $OSQ_THRIFT_PY.
__path__ = _pkgutil.extend_path(__path__, __name__)
if _os.environ.get("OSQ_THRIFT_PY"):
    __path__.append(_os.path.join(_os.environ["OSQ_THRIFT_PY"], "osq"))

from osq.client import (  # noqa: E402 (the search path above must be set first)
    DEFAULT_SOCKET,
    DEFAULT_TIMEOUT,
    Client,
    Error,
    ProtocolError,
    QueryError,
    Result,
    Status,
    TransportError,
    default_socket,
)

__all__ = [
    "DEFAULT_SOCKET",
    "DEFAULT_TIMEOUT",
    "Client",
    "Error",
    "ProtocolError",
    "QueryError",
    "Result",
    "Status",
    "TransportError",
    "default_socket",
]
