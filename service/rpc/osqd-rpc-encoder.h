/* SPDX-License-Identifier: Apache-2.0
 *
 * A second thread for the encoding of large results. The worker that steps a statement copies
 * each row's values into a chunk (a compact, tagged form: no formatting) and hands full chunks
 * to an encoder thread, which renders them as Thrift rows into the reply while the worker steps
 * on. Stepping and rendering then run on two cores at once, so a large result costs about what
 * the statement alone costs. Small results never start the thread: a chunk can also be encoded
 * in place.
 */
#pragma once

#include "osqd-rpc-values.h"

G_BEGIN_DECLS

typedef struct _OsqdRpcChunk OsqdRpcChunk;

OsqdRpcChunk *osqd_rpc_chunk_new(void);
void osqd_rpc_chunk_free(OsqdRpcChunk *chunk);
void osqd_rpc_chunk_reset(OsqdRpcChunk *chunk);
gint osqd_rpc_chunk_add_cell(OsqdRpcChunk *chunk, sqlite3_stmt *stmt, gint column);
void osqd_rpc_chunk_end_row(OsqdRpcChunk *chunk);
gboolean osqd_rpc_chunk_is_full(const OsqdRpcChunk *chunk);
void osqd_rpc_chunk_encode(const OsqdRpcChunk *chunk, OsqdRpcOut *out, gint n_columns);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(OsqdRpcChunk, osqd_rpc_chunk_free)

typedef struct _OsqdRpcEncoder OsqdRpcEncoder;

OsqdRpcEncoder *osqd_rpc_encoder_new(void);
void osqd_rpc_encoder_free(OsqdRpcEncoder *encoder);
void osqd_rpc_encoder_begin(OsqdRpcEncoder *encoder, OsqdRpcOut *out, gint n_columns,
                            gsize max_len);
OsqdRpcChunk *osqd_rpc_encoder_take(OsqdRpcEncoder *encoder);
void osqd_rpc_encoder_push(OsqdRpcEncoder *encoder, OsqdRpcChunk *chunk);
gboolean osqd_rpc_encoder_over(OsqdRpcEncoder *encoder);
gboolean osqd_rpc_encoder_finish(OsqdRpcEncoder *encoder);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(OsqdRpcEncoder, osqd_rpc_encoder_free)

G_END_DECLS
