// SPDX-License-Identifier: Apache-2.0
//
// osquery's extension API, wire-compatible with osquery's own IDL: the same services, method
// names, field ids and types, so osquery's clients and extensions (C++, Python, Go, Rust) talk
// to osqd unchanged. Written from the protocol facts in the project's reference notes.
// Generated code (C for tests, Python for the osq package) is produced at build time.

namespace py osq.gen.osquery
namespace c_glib Osquery

typedef map<string, string> ExtensionPluginRequest
typedef list<map<string, string>> ExtensionPluginResponse

struct InternalOptionInfo {
  1:string value,
  2:string default_value,
  3:string type,
}

typedef map<string, InternalOptionInfo> InternalOptionList

struct InternalExtensionInfo {
  1:string name,
  2:string version,
  3:string sdk_version,
  4:string min_sdk_version,
}

typedef i64 ExtensionRouteUUID
typedef map<string, ExtensionPluginResponse> ExtensionRouteTable
typedef map<string, ExtensionRouteTable> ExtensionRegistry
typedef map<ExtensionRouteUUID, InternalExtensionInfo> InternalExtensionList

enum ExtensionCode {
  EXT_SUCCESS = 0,
  EXT_FAILED = 1,
  EXT_FATAL = 2,
}

// Every reply carries a status: code 0 with message "OK" (or "pong"), code 1 and a message
// on failure; uuid names the extension where that matters.
struct ExtensionStatus {
  1:i32 code,
  2:string message,
  3:ExtensionRouteUUID uuid,
}

struct ExtensionResponse {
  1:ExtensionStatus status,
  2:ExtensionPluginResponse response,
}

exception ExtensionException {
  1:i32 code,
  2:string message,
  3:ExtensionRouteUUID uuid,
}

// Served by every extension, and by the manager (osqd) too.
service Extension {
  ExtensionStatus ping(),
  ExtensionResponse call(
    1:string registry,
    2:string item,
    3:ExtensionPluginRequest request),
  void shutdown(),
}

// Served by the manager (osqd) on --extensions_socket.
service ExtensionManager extends Extension {
  InternalExtensionList extensions(),
  InternalOptionList options(),
  ExtensionStatus registerExtension(
    1:InternalExtensionInfo info,
    2:ExtensionRegistry registry),
  ExtensionStatus deregisterExtension(
    1:ExtensionRouteUUID uuid),
  ExtensionResponse query(1:string sql),
  ExtensionResponse getQueryColumns(1:string sql),
}
