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

// One page of a paged query (queryStart, queryNext). The first page carries columns and
// types (a column's type is its declared type, else the type of its first non-NULL value in
// the first page, else TEXT: queryTyped's rule); later pages leave them out. null_cells are
// positions row * n_columns + column within this page. done is true on the last page, which
// is also the page of any error (status code 1).
struct QueryPage {
  1:osquery.ExtensionStatus status,
  2:list<string> columns,
  3:list<string> types,
  4:list<list<string>> rows,
  5:list<i64> null_cells,
  6:bool done,
}

// One answer of a live follow (followStart, followPoll): the follow query's rows over the events
// after the cursor it was given, as queryTyped returns them, and the cursor to give next time.
// Event ids are one sequence for all event tables, so a cursor means the same for each of them.
struct FollowPage {
  1:osquery.ExtensionStatus status,
  2:list<string> columns,
  3:list<string> types,
  4:list<list<string>> rows,
  5:list<i64> null_cells,
  6:i64 cursor,
}

service OsqManager extends osquery.ExtensionManager {
  // query() with ordered, typed columns and NULLs kept, in one round trip.
  QueryResult queryTyped(1:string sql),
  // Starts a paged query: the first page of at most page_rows rows (0: the daemon's default,
  // 2000; at most 100000). A single statement stays open on the connection while rows remain
  // (done false) and the daemon computes the next page before it is asked for; SQL with
  // several statements is answered in one page, as queryTyped answers it. --query_timeout,
  // --query_max_rows and --query_max_bytes count for all pages together. Any other call on
  // the connection (queryStart again too) ends the open query.
  QueryPage queryStart(1:string sql, 2:i32 page_rows),
  // The next page of the query queryStart opened; without one, status 1 "no query in
  // progress" and done true.
  QueryPage queryNext(),
  // Starts a live follow of sql, a query that reads an event table (file_events,
  // process_events, hardware_events; joins and filters allowed): checks it and answers with its
  // columns, no rows, and the cursor to poll from: the newest event now (from_start false) or
  // 0 (from_start true: the history kept comes first). Status 1 when sql reads no event table.
  FollowPage followStart(1:string sql, 2:bool from_start),
  // Long poll: waits up to timeout_ms (0: answer at once; at most 60000) until events newer
  // than cursor exist, then answers with sql's rows over at most max_rows of them, oldest
  // first (max_rows 0: 1000; at most 100000), and the cursor after the last event it read.
  // Events the query filtered out still move the cursor. No new events before the timeout:
  // no rows and the same cursor. Rows are never given twice for one cursor sequence.
  FollowPage followPoll(1:string sql, 2:i64 cursor, 3:i32 max_rows, 4:i32 timeout_ms),
}
