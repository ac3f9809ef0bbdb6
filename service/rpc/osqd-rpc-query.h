/* SPDX-License-Identifier: Apache-2.0
 *
 * The SQL methods' replies (query, getQueryColumns, queryTyped, queryStart/queryNext pages),
 * encoded straight from sqlite3_step() into the output buffer, plus the small status writers
 * the handler shares. A cursor keeps a statement open between pages and can compute the next
 * page before it is asked for. Each writer appends one whole REPLY message; on failure it
 * rewinds what it wrote and appends an error reply instead, so a reply is either complete or a
 * clear status 1, never truncated.
 */
#pragma once

#include "osqd-rpc-handler.h"

G_BEGIN_DECLS

typedef struct {
	OsqdEngine *engine;
	const OsqdRpcLimits *limits;
	gint *cancelled; /* atomic; set by another thread to stop between statements */
} OsqdRpcQueryRun;

/* query(sql): every statement runs; the rows of all of them, as string maps (osquery's
 * ExtensionResponse). */
void osqd_rpc_query_write_reply(OsqdRpcQueryRun *run, const gchar *name, gint32 seqid,
                                const gchar *sql, GByteArray *out);
/* getQueryColumns(sql): prepares the first statement only; one {name: type} map per column. */
void osqd_rpc_query_write_columns_reply(OsqdRpcQueryRun *run, const gchar *name, gint32 seqid,
                                        const gchar *sql, GByteArray *out);
/* queryTyped(sql): every statement runs; the result describes the last one that has result
 * columns (columns, types, rows as lists, NULL positions). */
void osqd_rpc_query_write_typed_reply(OsqdRpcQueryRun *run, const gchar *name, gint32 seqid,
                                      const gchar *sql, GByteArray *out);

/* A follow's answer: in, the cursor the page may not go below; out, the cursor written (the
 * newest event the statement read, if higher), the rows written, and whether the query ran. */
typedef struct {
	gint64 cursor;
	guint64 rows;
	gboolean ok;
} OsqdRpcFollowResult;

/* followStart/followPoll: queryTyped's reply as a FollowPage (field 6 the cursor). Set the
 * engine's event cursor and limit first. On failure the reply is a FollowPage with status 1
 * and no cursor. */
void osqd_rpc_query_write_follow_reply(OsqdRpcQueryRun *run, const gchar *name, gint32 seqid,
                                       const gchar *sql, OsqdRpcFollowResult *follow,
                                       GByteArray *out);

/* queryStart/queryNext: a cursor is one statement's rows, encoded page by page. */
#define OSQD_RPC_PAGE_ROWS_DEFAULT 2000
#define OSQD_RPC_PAGE_ROWS_MAX     100000

typedef struct _OsqdRpcCursor OsqdRpcCursor;

/* queryStart(sql, page_rows): appends the first page's reply (page_rows <= 0: the default;
 * clamped to the maximum). Returns the open cursor when rows remain, else NULL (several
 * statements are answered as queryTyped answers them, in one last page). The deadline and
 * caps of @run's limits count for the whole cursor. */
OsqdRpcCursor *osqd_rpc_query_write_start_reply(OsqdRpcQueryRun *run, const gchar *name,
                                                gint32 seqid, const gchar *sql, gint32 page_rows,
                                                GByteArray *out);
/* Whether the next page is still to be computed. */
gboolean osqd_rpc_cursor_wants_page(OsqdRpcCursor *cursor);
/* Computes the next page into the cursor (read-ahead); nothing when one is waiting. An error
 * becomes a last page with status 1. */
void osqd_rpc_cursor_fill(OsqdRpcCursor *cursor, OsqdRpcQueryRun *run);
/* queryNext(): appends the waiting page (computed first if needed) as a reply. FALSE when it
 * was the last one: the cursor is then spent. */
gboolean osqd_rpc_cursor_write_reply(OsqdRpcCursor *cursor, OsqdRpcQueryRun *run, const gchar *name,
                                     gint32 seqid, GByteArray *out);
/* Finalizes the statement. */
void osqd_rpc_cursor_free(OsqdRpcCursor *cursor);

/* An ExtensionStatus as field @id: {code, message, uuid 0}. */
void osqd_rpc_write_status(GByteArray *out, gint16 id, gint32 code, const gchar *message);
/* A whole reply whose success is an ExtensionResponse {status, []}. */
void osqd_rpc_write_response_reply(GByteArray *out, const gchar *name, gint32 seqid, gint32 code,
                                   const gchar *message);
/* A whole queryTyped reply carrying only a status (and empty lists). */
void osqd_rpc_write_typed_error_reply(GByteArray *out, const gchar *name, gint32 seqid,
                                      const gchar *message);
/* A whole last QueryPage reply (done) carrying only a status. */
void osqd_rpc_write_page_error_reply(GByteArray *out, const gchar *name, gint32 seqid,
                                     const gchar *message);

G_END_DECLS
