/* SPDX-License-Identifier: Apache-2.0
 *
 * The SQL methods' replies (query, getQueryColumns, queryTyped), encoded straight from
 * sqlite3_step() into the output buffer, plus the small status writers the handler shares.
 * Each writer appends one whole REPLY message; on failure it rewinds what it wrote and appends
 * an error reply instead, so a reply is either complete or a clear status 1, never truncated.
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

/* An ExtensionStatus as field @id: {code, message, uuid 0}. */
void osqd_rpc_write_status(GByteArray *out, gint16 id, gint32 code, const gchar *message);
/* A whole reply whose success is an ExtensionResponse {status, []}. */
void osqd_rpc_write_response_reply(GByteArray *out, const gchar *name, gint32 seqid, gint32 code,
                                   const gchar *message);
/* A whole queryTyped reply carrying only a status (and empty lists). */
void osqd_rpc_write_typed_error_reply(GByteArray *out, const gchar *name, gint32 seqid,
                                      const gchar *message);

G_END_DECLS
