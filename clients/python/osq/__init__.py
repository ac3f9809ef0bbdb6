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

It is also an extension SDK with osquery-python's API (TablePlugin, ConfigPlugin, LoggerPlugin,
register_plugin, start_extension) plus ExtensionRunner, a non-exiting runner for embedding.
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
from osq.extension import (  # noqa: E402
    ExtensionError,
    ExtensionRunner,
    RegistrationError,
    parse_args,
    start_extension,
)
from osq.gen.osquery.ttypes import ExtensionResponse, ExtensionStatus  # noqa: E402
from osq.plugins import (  # noqa: E402
    BIGINT,
    BLOB,
    DOUBLE,
    EQUALS,
    GLOB,
    GREATER_THAN,
    GREATER_THAN_OR_EQUALS,
    INTEGER,
    LESS_THAN,
    LESS_THAN_OR_EQUALS,
    LIKE,
    LOGGER_FEATURE_EVENT,
    LOGGER_FEATURE_STATUS,
    MATCH,
    REGEXP,
    STRING,
    TEXT,
    UNSIGNED_BIGINT,
    BasePlugin,
    ConfigPlugin,
    LoggerPlugin,
    TableColumn,
    TablePlugin,
    clear_registered_plugins,
    constraints,
    register_plugin,
    registered_plugins,
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
    # extension SDK
    "BIGINT",
    "BLOB",
    "DOUBLE",
    "EQUALS",
    "GLOB",
    "GREATER_THAN",
    "GREATER_THAN_OR_EQUALS",
    "INTEGER",
    "LESS_THAN",
    "LESS_THAN_OR_EQUALS",
    "LIKE",
    "LOGGER_FEATURE_EVENT",
    "LOGGER_FEATURE_STATUS",
    "MATCH",
    "REGEXP",
    "STRING",
    "TEXT",
    "UNSIGNED_BIGINT",
    "BasePlugin",
    "ConfigPlugin",
    "ExtensionError",
    "ExtensionResponse",
    "ExtensionRunner",
    "ExtensionStatus",
    "LoggerPlugin",
    "RegistrationError",
    "TableColumn",
    "TablePlugin",
    "clear_registered_plugins",
    "constraints",
    "parse_args",
    "register_plugin",
    "registered_plugins",
    "start_extension",
]
