// SPDX-License-Identifier: Apache-2.0
//
// osq's own additions to the manager API. They live in a service that extends osquery's
// ExtensionManager, so osquery clients see exactly the methods they expect on the same socket,
// and osq clients can call more. Later issues add methods here.

include "osquery.thrift"

namespace py osq.gen.osq
namespace c_glib OsqWire

// One query's result with what osquery's query() leaves out: column order, column types and
// NULLs. Values are rendered as osquery renders them (decimal integers, doubles with a decimal
// point, text); a NULL cell is "" in rows and its position (row * n_columns + column) is listed
// in null_cells.
struct QueryResult {
  1:osquery.ExtensionStatus status,
  2:list<string> columns,
  3:list<string> types,
  4:list<list<string>> rows,
  5:list<i64> null_cells,
}

service OsqManager extends osquery.ExtensionManager {
  // query() with ordered, typed columns and NULLs kept, in one round trip.
  QueryResult queryTyped(1:string sql),
}
