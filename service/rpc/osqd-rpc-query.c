/* SPDX-License-Identifier: Apache-2.0
 *
 * Query replies, encoded while the statement steps. The success status {0, "OK", 0} has a fixed
 * size, so it is written first, then the row list with a count patched at the end; an error at
 * any point rewinds the buffer and writes the error reply. Values are rendered as osquery
 * renders them: integers in decimal, doubles with "%!.15g" (always a decimal point), NULL as "",
 * text and blobs as UTF-8 (invalid bytes replaced). Row maps list their keys in byte order, as
 * osquery's std::map does; a column name used twice keeps its last value, as there. A cursor
 * (queryStart) holds one prepared statement and a buffer for the next page; its deadline and
 * caps count from queryStart over all its pages.
 */
#include "config.h"

#include "osqd-rpc-query.h"

#include <string.h>

#include "osq-error.h"
#include "osq-thrift.h"
#include "osqd-rpc-encoder.h"
#include "osqd-rpc-values.h"

#define OSQD_RPC_MAX_REPLY ((guint64)G_MAXINT32)

typedef struct {
	OsqdRpcQueryRun *run;
	GByteArray *out;
	gsize start;          /* where this reply begins in out */
	gint64 deadline;      /* monotonic microseconds; 0: none */
	guint64 rows;         /* rows encoded so far */
	gsize typed_start;    /* queryTyped: where the result fields begin */
	gboolean have_result; /* queryTyped: a statement with columns was encoded */
	GArray *null_cells;   /* queryTyped: gint64 positions */
	guint64 prior_bytes;  /* a cursor: bytes of the pages before this one */
	OsqdRpcOut sink;      /* out, for the cells */
} OsqdRpcQueryState;

/* A statement's result keys, encoded once: the kept columns in key order, and each one's
 * Thrift string (length + bytes) back to back in @keys. */
typedef struct {
	GArray *columns; /* gint */
	GArray *offsets; /* guint, n + 1 entries into keys */
	GByteArray *keys;
} OsqdRpcQueryKeys;

void
osqd_rpc_write_status(GByteArray *out, gint16 id, gint32 code, const gchar *message)
{
	osq_thrift_write_field_begin(out, OSQ_THRIFT_STRUCT, id);
	osq_thrift_write_field_begin(out, OSQ_THRIFT_I32, 1);
	osq_thrift_write_i32(out, code);
	osq_thrift_write_field_begin(out, OSQ_THRIFT_STRING, 2);
	osq_thrift_write_string(out, message);
	osq_thrift_write_field_begin(out, OSQ_THRIFT_I64, 3);
	osq_thrift_write_i64(out, 0);
	osq_thrift_write_field_stop(out);
}

void
osqd_rpc_write_response_reply(GByteArray *out, const gchar *name, gint32 seqid, gint32 code,
                              const gchar *message)
{
	osq_thrift_write_message_begin(out, name, OSQ_THRIFT_REPLY, seqid);
	osq_thrift_write_field_begin(out, OSQ_THRIFT_STRUCT, 0);
	osqd_rpc_write_status(out, 1, code, message);
	osq_thrift_write_field_begin(out, OSQ_THRIFT_LIST, 2);
	osq_thrift_write_list_begin(out, OSQ_THRIFT_MAP, 0);
	osq_thrift_write_field_stop(out);
	osq_thrift_write_field_stop(out);
}

static void
typed_write_empty_result(GByteArray *out)
{
	osq_thrift_write_field_begin(out, OSQ_THRIFT_LIST, 2);
	osq_thrift_write_list_begin(out, OSQ_THRIFT_STRING, 0);
	osq_thrift_write_field_begin(out, OSQ_THRIFT_LIST, 3);
	osq_thrift_write_list_begin(out, OSQ_THRIFT_STRING, 0);
	osq_thrift_write_field_begin(out, OSQ_THRIFT_LIST, 4);
	osq_thrift_write_list_begin(out, OSQ_THRIFT_LIST, 0);
}

/* A QueryPage's done field (6). */
static void
page_write_done(GByteArray *out, gboolean done)
{
	osq_thrift_write_field_begin(out, OSQ_THRIFT_BOOL, 6);
	osq_thrift_write_byte(out, done ? 1 : 0);
}

/* The fields of a failed QueryResult (or a last QueryPage when @page), up to its stop. */
static void
typed_write_error_body(GByteArray *out, const gchar *message, gboolean page)
{
	osqd_rpc_write_status(out, 1, 1, message);
	typed_write_empty_result(out);
	osq_thrift_write_field_begin(out, OSQ_THRIFT_LIST, 5);
	osq_thrift_write_list_begin(out, OSQ_THRIFT_I64, 0);
	if (page)
		page_write_done(out, TRUE);
	osq_thrift_write_field_stop(out);
}

static void
typed_write_error_reply(GByteArray *out, const gchar *name, gint32 seqid, const gchar *message,
                        gboolean page)
{
	osq_thrift_write_message_begin(out, name, OSQ_THRIFT_REPLY, seqid);
	osq_thrift_write_field_begin(out, OSQ_THRIFT_STRUCT, 0);
	typed_write_error_body(out, message, page);
	osq_thrift_write_field_stop(out);
}

void
osqd_rpc_write_typed_error_reply(GByteArray *out, const gchar *name, gint32 seqid,
                                 const gchar *message)
{
	typed_write_error_reply(out, name, seqid, message, FALSE);
}

void
osqd_rpc_write_page_error_reply(GByteArray *out, const gchar *name, gint32 seqid,
                                const gchar *message)
{
	typed_write_error_reply(out, name, seqid, message, TRUE);
}

/* ---- values ---- */

/* ---- limits and errors ---- */

static gboolean
query_check_row_limit(OsqdRpcQueryState *state, GError **error)
{
	guint64 max = state->run->limits->query_max_rows;

	if (max == 0 || state->rows < max)
		return TRUE;
	g_set_error(error, OSQ_ERROR, OSQ_ERROR_LIMIT,
	            "query returned more than %" G_GUINT64_FORMAT
	            " rows (the limit set by --query_max_rows)",
	            max);
	return FALSE;
}

static gboolean
query_check_byte_limit(OsqdRpcQueryState *state, GError **error)
{
	guint64 max = state->run->limits->query_max_bytes;

	/* a Thrift message cannot be larger than a 31-bit length allows */
	if (max == 0 || max > OSQD_RPC_MAX_REPLY)
		max = OSQD_RPC_MAX_REPLY;
	if (state->prior_bytes + (state->out->len - state->start) <= max)
		return TRUE;
	g_set_error(error, OSQ_ERROR, OSQ_ERROR_LIMIT,
	            "query result is larger than %" G_GUINT64_FORMAT
	            " bytes (the limit set by --query_max_bytes)",
	            max);
	return FALSE;
}

/* Gives the next statement what is left of the whole call's time. */
static gboolean
query_arm_deadline(OsqdRpcQueryState *state, GError **error)
{
	gint64 now, left_ms;

	if (g_atomic_int_get(state->run->cancelled)) {
		g_set_error_literal(error, OSQ_ERROR, OSQ_ERROR_CANCELLED, "query cancelled");
		return FALSE;
	}
	if (state->deadline == 0) {
		osqd_engine_set_timeout(state->run->engine, 0);
		return TRUE;
	}
	now = g_get_monotonic_time();
	if (now >= state->deadline) {
		g_set_error_literal(error, OSQ_ERROR, OSQ_ERROR_TIMED_OUT, "query timed out");
		return FALSE;
	}
	left_ms = (state->deadline - now + 999) / 1000;
	osqd_engine_set_timeout(state->run->engine, (guint)MAX(left_ms, 1));
	return TRUE;
}

/* The status message for a failed call. */
static gchar *
query_error_message(OsqdRpcQueryRun *run, const GError *error)
{
	if (g_error_matches(error, OSQ_ERROR, OSQ_ERROR_TIMED_OUT))
		return g_strdup_printf("query timed out after %u ms (the limit set by "
		                       "--query_timeout)",
		                       run->limits->query_timeout_ms);
	return g_strdup(error->message);
}

/* ---- statements ---- */

typedef gboolean (*OsqdRpcStatementFunc)(OsqdRpcQueryState *state, sqlite3_stmt *stmt,
                                         GError **error);

/* Runs every statement of @sql through @func. */
static gboolean
query_run_statements(OsqdRpcQueryState *state, const gchar *sql, OsqdRpcStatementFunc func,
                     GError **error)
{
	const gchar *rest = sql;

	while (rest != NULL && rest[0] != '\0') {
		const gchar *tail = NULL;
		sqlite3_stmt *stmt;
		gboolean ok;

		if (!query_arm_deadline(state, error))
			return FALSE;
		stmt = osqd_engine_prepare(state->run->engine, rest, &tail, error);
		if (stmt == NULL) {
			if (error != NULL && *error != NULL)
				return FALSE;
			rest = tail; /* blanks, comments or a lone ';' */
			continue;
		}
		ok = func(state, stmt, error);
		(void)sqlite3_finalize(stmt);
		if (!ok)
			return FALSE;
		rest = tail;
	}
	return TRUE;
}

static gint
query_compare_keys(gconstpointer a, gconstpointer b, gpointer user_data)
{
	sqlite3_stmt *stmt = user_data;

	return strcmp(sqlite3_column_name(stmt, *(const gint *)a),
	              sqlite3_column_name(stmt, *(const gint *)b));
}

static void
query_keys_clear(OsqdRpcQueryKeys *keys)
{
	g_clear_pointer(&keys->columns, g_array_unref);
	g_clear_pointer(&keys->offsets, g_array_unref);
	g_clear_pointer(&keys->keys, g_byte_array_unref);
}

/* The map keys of a statement's rows: one per distinct name (the last column of a name wins),
 * sorted by name. Called after the first step, when the column names are final. */
static void
query_keys_init(OsqdRpcQueryKeys *keys, sqlite3_stmt *stmt)
{
	gint n = sqlite3_column_count(stmt);
	guint offset = 0;

	keys->columns = g_array_sized_new(FALSE, FALSE, sizeof(gint), (guint)n);
	keys->offsets = g_array_sized_new(FALSE, FALSE, sizeof(guint), (guint)n + 1);
	keys->keys = g_byte_array_new();
	for (gint i = 0; i < n; i++) {
		const gchar *name = sqlite3_column_name(stmt, i);
		gboolean shadowed = FALSE;
		for (gint j = i + 1; j < n && !shadowed; j++)
			shadowed = g_strcmp0(name, sqlite3_column_name(stmt, j)) == 0;
		if (!shadowed)
			g_array_append_val(keys->columns, i);
	}
	g_array_sort_with_data(keys->columns, query_compare_keys, stmt);
	g_array_append_val(keys->offsets, offset);
	for (guint i = 0; i < keys->columns->len; i++) {
		const gchar *name =
		        sqlite3_column_name(stmt, g_array_index(keys->columns, gint, i));
		osq_thrift_write_string(keys->keys, name);
		offset = keys->keys->len;
		g_array_append_val(keys->offsets, offset);
	}
}

static gboolean
query_step(OsqdRpcQueryState *state, sqlite3_stmt *stmt, gboolean *row, GError **error)
{
	gint rc = osqd_engine_step(state->run->engine, stmt, error);

	if (rc < 0)
		return FALSE;
	*row = rc == SQLITE_ROW;
	return TRUE;
}

/* query(): each row as a map<string,string> into the open list. */
static gboolean
query_encode_maps(OsqdRpcQueryState *state, sqlite3_stmt *stmt, GError **error)
{
	OsqdRpcQueryKeys keys = { 0 };
	gboolean row = FALSE, ok = TRUE;

	if (!query_step(state, stmt, &row, error))
		return FALSE;
	if (!row || sqlite3_column_count(stmt) == 0) {
		while (row && (ok = query_step(state, stmt, &row, error)))
			;
		return ok;
	}
	query_keys_init(&keys, stmt);
	while (row) {
		guint8 *head;
		if (!query_check_row_limit(state, error)) {
			ok = FALSE;
			break;
		}
		head = osqd_rpc_out_reserve(&state->sink, 6);
		head[0] = OSQ_THRIFT_STRING;
		head[1] = OSQ_THRIFT_STRING;
		osqd_rpc_put_be32(head + 2, keys.columns->len);
		osqd_rpc_out_commit(&state->sink, 6);
		for (guint i = 0; i < keys.columns->len; i++) {
			guint from = g_array_index(keys.offsets, guint, i);
			guint to = g_array_index(keys.offsets, guint, i + 1);
			guint8 *p = osqd_rpc_out_reserve(&state->sink, to - from);
			memcpy(p, keys.keys->data + from, to - from);
			osqd_rpc_out_commit(&state->sink, to - from);
			(void)osqd_rpc_put_cell(&state->sink, stmt,
			                        g_array_index(keys.columns, gint, i));
		}
		state->rows++;
		if (!query_check_byte_limit(state, error) ||
		    !query_step(state, stmt, &row, error)) {
			ok = FALSE;
			break;
		}
	}
	query_keys_clear(&keys);
	return ok;
}

void
osqd_rpc_query_write_reply(OsqdRpcQueryRun *run, const gchar *name, gint32 seqid, const gchar *sql,
                           GByteArray *out)
{
	g_autoptr(GError) error = NULL;
	OsqdRpcQueryState state = {
		.run = run, .out = out, .sink = { .buf = out }, .start = out->len
	};
	gsize count_offset;

	if (run->limits->query_timeout_ms > 0)
		state.deadline =
		        g_get_monotonic_time() + (gint64)run->limits->query_timeout_ms * 1000;
	osq_thrift_write_message_begin(out, name, OSQ_THRIFT_REPLY, seqid);
	osq_thrift_write_field_begin(out, OSQ_THRIFT_STRUCT, 0);
	osqd_rpc_write_status(out, 1, 0, "OK");
	osq_thrift_write_field_begin(out, OSQ_THRIFT_LIST, 2);
	count_offset = osq_thrift_write_list_begin_deferred(out, OSQ_THRIFT_MAP);
	if (!query_run_statements(&state, sql, query_encode_maps, &error)) {
		g_autofree gchar *message = query_error_message(run, error);
		g_byte_array_set_size(out, (guint)state.start);
		osqd_rpc_write_response_reply(out, name, seqid, 1, message);
		return;
	}
	osq_thrift_patch_i32(out, count_offset, (gint32)state.rows);
	osq_thrift_write_field_stop(out);
	osq_thrift_write_field_stop(out);
}

void
osqd_rpc_query_write_columns_reply(OsqdRpcQueryRun *run, const gchar *name, gint32 seqid,
                                   const gchar *sql, GByteArray *out)
{
	g_autoptr(GError) error = NULL;
	g_autofree const gchar **types = NULL;
	sqlite3_stmt *stmt;
	gint n;

	osqd_engine_set_timeout(run->engine, run->limits->query_timeout_ms);
	stmt = osqd_engine_prepare(run->engine, sql, NULL, &error);
	if (stmt == NULL) {
		osqd_rpc_write_response_reply(out, name, seqid, 1,
		                              error != NULL ? error->message
		                                            : "no SQL statement to describe");
		return;
	}
	types = osqd_engine_infer_column_types(run->engine, stmt, &error);
	if (types == NULL) {
		(void)sqlite3_finalize(stmt);
		osqd_rpc_write_response_reply(out, name, seqid, 1, error->message);
		return;
	}
	n = sqlite3_column_count(stmt);
	osq_thrift_write_message_begin(out, name, OSQ_THRIFT_REPLY, seqid);
	osq_thrift_write_field_begin(out, OSQ_THRIFT_STRUCT, 0);
	osqd_rpc_write_status(out, 1, 0, "OK");
	osq_thrift_write_field_begin(out, OSQ_THRIFT_LIST, 2);
	osq_thrift_write_list_begin(out, OSQ_THRIFT_MAP, n);
	for (gint i = 0; i < n; i++) {
		osq_thrift_write_map_begin(out, OSQ_THRIFT_STRING, OSQ_THRIFT_STRING, 1);
		osq_thrift_write_string(out, sqlite3_column_name(stmt, i));
		osq_thrift_write_string(out, types[i]);
	}
	osq_thrift_write_field_stop(out);
	osq_thrift_write_field_stop(out);
	(void)sqlite3_finalize(stmt);
}

/* queryTyped(): a statement with columns replaces what an earlier one wrote. */
static gboolean
query_encode_typed(OsqdRpcQueryState *state, sqlite3_stmt *stmt, GError **error)
{
	g_autoptr(GPtrArray) types = NULL;
	GByteArray *out = state->out;
	gboolean row = FALSE;
	gsize count_offset;
	gint n;

	if (!query_step(state, stmt, &row, error))
		return FALSE;
	n = sqlite3_column_count(stmt);
	if (n == 0) {
		gboolean ok = TRUE;
		while (row && (ok = query_step(state, stmt, &row, error)))
			;
		return ok;
	}
	g_byte_array_set_size(out, (guint)state->typed_start);
	g_array_set_size(state->null_cells, 0);
	state->rows = 0;
	state->have_result = TRUE;
	osq_thrift_write_field_begin(out, OSQ_THRIFT_LIST, 2);
	osq_thrift_write_list_begin(out, OSQ_THRIFT_STRING, n);
	for (gint i = 0; i < n; i++)
		osq_thrift_write_string(out, sqlite3_column_name(stmt, i));
	/* declared types now; an expression's type is that of its first non-NULL value, so the
	 * types field (3) follows the rows (Thrift readers take fields in any order) */
	types = g_ptr_array_new_full((guint)n, g_free);
	for (gint i = 0; i < n; i++) {
		const gchar *declared = sqlite3_column_decltype(stmt, i);
		g_ptr_array_add(types, declared != NULL && declared[0] != '\0' ? g_strdup(declared)
		                                                               : NULL);
	}
	osq_thrift_write_field_begin(out, OSQ_THRIFT_LIST, 4);
	count_offset = osq_thrift_write_list_begin_deferred(out, OSQ_THRIFT_LIST);
	while (row) {
		if (!query_check_row_limit(state, error))
			return FALSE;
		osqd_rpc_put_list_begin(&state->sink, OSQ_THRIFT_STRING, n);
		for (gint i = 0; i < n; i++) {
			if (osqd_rpc_put_cell(&state->sink, stmt, i)) {
				gint64 cell = (gint64)state->rows * n + i;
				g_array_append_val(state->null_cells, cell);
			} else if (types->pdata[i] == NULL) {
				types->pdata[i] = g_strdup(osqd_engine_column_type(stmt, i));
			}
		}
		state->rows++;
		if (!query_check_byte_limit(state, error) || !query_step(state, stmt, &row, error))
			return FALSE;
	}
	osq_thrift_patch_i32(out, count_offset, (gint32)state->rows);
	osq_thrift_write_field_begin(out, OSQ_THRIFT_LIST, 3);
	osq_thrift_write_list_begin(out, OSQ_THRIFT_STRING, n);
	for (gint i = 0; i < n; i++)
		osq_thrift_write_string(out, types->pdata[i] != NULL ? types->pdata[i] : "TEXT");
	return TRUE;
}

/* queryTyped, or queryStart of several statements (@page: a last QueryPage), or a follow's
 * FollowPage (@follow: its cursor is written as field 6 and the counts are returned). */
static void
query_write_typed_full(OsqdRpcQueryRun *run, const gchar *name, gint32 seqid, const gchar *sql,
                       GByteArray *out, gboolean page, OsqdRpcFollowResult *follow)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GArray) null_cells = g_array_new(FALSE, FALSE, sizeof(gint64));
	OsqdRpcQueryState state = { .run = run,
		                    .out = out,
		                    .sink = { .buf = out },
		                    .start = out->len,
		                    .null_cells = null_cells };

	if (run->limits->query_timeout_ms > 0)
		state.deadline =
		        g_get_monotonic_time() + (gint64)run->limits->query_timeout_ms * 1000;
	osq_thrift_write_message_begin(out, name, OSQ_THRIFT_REPLY, seqid);
	osq_thrift_write_field_begin(out, OSQ_THRIFT_STRUCT, 0);
	osqd_rpc_write_status(out, 1, 0, "OK");
	state.typed_start = out->len;
	if (!query_run_statements(&state, sql, query_encode_typed, &error)) {
		g_autofree gchar *message = query_error_message(run, error);
		g_byte_array_set_size(out, (guint)state.start);
		typed_write_error_reply(out, name, seqid, message, page);
		return;
	}
	if (!state.have_result)
		typed_write_empty_result(out);
	osq_thrift_write_field_begin(out, OSQ_THRIFT_LIST, 5);
	osq_thrift_write_list_begin(out, OSQ_THRIFT_I64, (gint32)null_cells->len);
	for (guint i = 0; i < null_cells->len; i++)
		osq_thrift_write_i64(out, g_array_index(null_cells, gint64, i));
	if (page)
		page_write_done(out, TRUE);
	if (follow != NULL) {
		follow->cursor = MAX(follow->cursor, osqd_engine_get_events_max(run->engine));
		follow->rows = state.rows;
		follow->ok = TRUE;
		osq_thrift_write_field_begin(out, OSQ_THRIFT_I64, 6);
		osq_thrift_write_i64(out, follow->cursor);
	}
	if (!query_check_byte_limit(&state, &error)) {
		g_autofree gchar *message = query_error_message(run, error);
		g_byte_array_set_size(out, (guint)state.start);
		typed_write_error_reply(out, name, seqid, message, page);
		if (follow != NULL)
			follow->ok = FALSE;
		return;
	}
	osq_thrift_write_field_stop(out);
	osq_thrift_write_field_stop(out);
}

static void
query_write_typed(OsqdRpcQueryRun *run, const gchar *name, gint32 seqid, const gchar *sql,
                  GByteArray *out, gboolean page)
{
	query_write_typed_full(run, name, seqid, sql, out, page, NULL);
}

void
osqd_rpc_query_write_follow_reply(OsqdRpcQueryRun *run, const gchar *name, gint32 seqid,
                                  const gchar *sql, OsqdRpcFollowResult *follow, GByteArray *out)
{
	follow->ok = FALSE;
	follow->rows = 0;
	query_write_typed_full(run, name, seqid, sql, out, FALSE, follow);
}

void
osqd_rpc_query_write_typed_reply(OsqdRpcQueryRun *run, const gchar *name, gint32 seqid,
                                 const gchar *sql, GByteArray *out)
{
	query_write_typed(run, name, seqid, sql, out, FALSE);
}

/* ---- cursors: queryStart, queryNext ---- */

struct _OsqdRpcCursor {
	sqlite3_stmt *stmt; /* NULL once the last row was encoded (or stepping failed) */
	gint n_columns;
	guint page_rows;
	gint64 deadline;         /* of the whole cursor; 0: none */
	guint64 rows;            /* rows encoded so far, for --query_max_rows */
	guint64 bytes;           /* page bytes encoded so far, for --query_max_bytes */
	gboolean row;            /* stmt holds a row not yet encoded */
	GByteArray *page;        /* the next page: QueryPage fields and their stop */
	gboolean have_page;      /* page is computed and waits for queryNext */
	gboolean page_done;      /* the waiting page is the last one */
	OsqdRpcChunk *chunk;     /* rows copied for encoding in place (small pages) */
	OsqdRpcEncoder *encoder; /* started once a page needs more than one chunk */
};

void
osqd_rpc_cursor_free(OsqdRpcCursor *cursor)
{
	if (cursor == NULL)
		return;
	if (cursor->stmt != NULL)
		(void)sqlite3_finalize(cursor->stmt);
	osqd_rpc_encoder_free(cursor->encoder);
	osqd_rpc_chunk_free(cursor->chunk);
	g_byte_array_unref(cursor->page);
	g_free(cursor);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(OsqdRpcCursor, osqd_rpc_cursor_free)

static void
cursor_finish(OsqdRpcCursor *cursor)
{
	cursor->row = FALSE;
	if (cursor->stmt != NULL)
		(void)sqlite3_finalize(g_steal_pointer(&cursor->stmt));
}

/* The most bytes @state's reply may reach under --query_max_bytes. */
static gsize
query_max_len(OsqdRpcQueryState *state)
{
	guint64 max = state->run->limits->query_max_bytes;

	if (max == 0 || max > OSQD_RPC_MAX_REPLY)
		max = OSQD_RPC_MAX_REPLY;
	if (state->prior_bytes >= max)
		return state->start;
	return state->start + (gsize)MIN(max - state->prior_bytes, (guint64)G_MAXUINT);
}

/* Copies rows of the page into @chunk until it is full or the page is: NULL positions and
 * first-value types are noted on the way. */
static gboolean
cursor_fill_chunk(OsqdRpcCursor *cursor, OsqdRpcQueryState *state, OsqdRpcChunk *chunk,
                  GPtrArray *types, GArray *null_cells, guint *count, GError **error)
{
	sqlite3_stmt *stmt = cursor->stmt;
	gint n = cursor->n_columns;

	while (cursor->row && *count < cursor->page_rows && !osqd_rpc_chunk_is_full(chunk)) {
		if (!query_check_row_limit(state, error))
			return FALSE;
		for (gint i = 0; i < n; i++) {
			gint type = osqd_rpc_chunk_add_cell(chunk, stmt, i);
			if (type == SQLITE_NULL) {
				gint64 cell = (gint64)*count * n + i;
				g_array_append_val(null_cells, cell);
			} else if (types != NULL && types->pdata[i] == NULL) {
				types->pdata[i] = g_strdup(osqd_engine_column_type(stmt, i));
			}
		}
		osqd_rpc_chunk_end_row(chunk);
		(*count)++;
		state->rows++;
		if (!query_step(state, stmt, &cursor->row, error))
			return FALSE;
	}
	return TRUE;
}

/* The rows of a page, chunk by chunk. The first chunk is encoded in place; when the page
 * wants more, an encoder thread renders the chunks while this thread steps on. */
static gboolean
cursor_encode_rows(OsqdRpcCursor *cursor, OsqdRpcQueryState *state, GPtrArray *types,
                   GArray *null_cells, guint *count, GError **error)
{
	gsize max_len = query_max_len(state);
	gboolean encoding = FALSE, ok = TRUE;

	if (cursor->encoder != NULL) {
		osqd_rpc_encoder_begin(cursor->encoder, &state->sink, cursor->n_columns, max_len);
		encoding = TRUE;
	}
	while (ok && cursor->row && *count < cursor->page_rows) {
		OsqdRpcChunk *chunk;
		if (encoding && osqd_rpc_encoder_over(cursor->encoder))
			break;
		if (encoding) {
			chunk = osqd_rpc_encoder_take(cursor->encoder);
		} else {
			if (cursor->chunk == NULL)
				cursor->chunk = osqd_rpc_chunk_new();
			chunk = cursor->chunk;
			osqd_rpc_chunk_reset(chunk);
		}
		ok = cursor_fill_chunk(cursor, state, chunk, types, null_cells, count, error);
		if (encoding) {
			osqd_rpc_encoder_push(cursor->encoder, chunk);
			continue;
		}
		osqd_rpc_chunk_encode(chunk, &state->sink, cursor->n_columns);
		if (ok && !query_check_byte_limit(state, error))
			return FALSE;
		if (ok && cursor->row && *count < cursor->page_rows) {
			cursor->encoder = osqd_rpc_encoder_new();
			if (cursor->encoder != NULL) {
				osqd_rpc_encoder_begin(cursor->encoder, &state->sink,
				                       cursor->n_columns, max_len);
				encoding = TRUE;
			}
		}
	}
	if (encoding)
		(void)osqd_rpc_encoder_finish(cursor->encoder);
	if (!ok)
		return FALSE;
	return query_check_byte_limit(state, error);
}

/* Appends up to page_rows rows as QueryPage fields and their stop; the first page carries the
 * columns and types too. On failure @out holds a partial page: the caller rewinds it. */
static gboolean
cursor_encode_page(OsqdRpcCursor *cursor, OsqdRpcQueryRun *run, GByteArray *out, gboolean first,
                   GError **error)
{
	g_autoptr(GArray) null_cells = g_array_new(FALSE, FALSE, sizeof(gint64));
	g_autoptr(GPtrArray) types = NULL;
	OsqdRpcQueryState state = {
		.run = run,
		.out = out,
		.sink = { .buf = out },
		.start = out->len,
		.deadline = cursor->deadline,
		.rows = cursor->rows,
		.prior_bytes = cursor->bytes,
	};
	sqlite3_stmt *stmt = cursor->stmt;
	gint n = cursor->n_columns;
	guint count = 0;
	gsize count_offset;

	/* the engine's own deadline, armed when the statement was prepared, stops a long step */
	if (!first && !query_arm_deadline(&state, error))
		return FALSE;
	osqd_rpc_write_status(out, 1, 0, "OK");
	if (first) {
		osq_thrift_write_field_begin(out, OSQ_THRIFT_LIST, 2);
		osq_thrift_write_list_begin(out, OSQ_THRIFT_STRING, n);
		for (gint i = 0; i < n; i++)
			osq_thrift_write_string(out, sqlite3_column_name(stmt, i));
		types = g_ptr_array_new_full((guint)n, g_free);
		for (gint i = 0; i < n; i++) {
			const gchar *declared = sqlite3_column_decltype(stmt, i);
			g_ptr_array_add(types, declared != NULL && declared[0] != '\0'
			                               ? g_strdup(declared)
			                               : NULL);
		}
	}
	osq_thrift_write_field_begin(out, OSQ_THRIFT_LIST, 4);
	count_offset = osq_thrift_write_list_begin_deferred(out, OSQ_THRIFT_LIST);
	if (!cursor_encode_rows(cursor, &state, types, null_cells, &count, error))
		return FALSE;
	osq_thrift_patch_i32(out, count_offset, (gint32)count);
	if (types != NULL) {
		osq_thrift_write_field_begin(out, OSQ_THRIFT_LIST, 3);
		osq_thrift_write_list_begin(out, OSQ_THRIFT_STRING, n);
		for (gint i = 0; i < n; i++)
			osq_thrift_write_string(out,
			                        types->pdata[i] != NULL ? types->pdata[i] : "TEXT");
	}
	osq_thrift_write_field_begin(out, OSQ_THRIFT_LIST, 5);
	osq_thrift_write_list_begin(out, OSQ_THRIFT_I64, (gint32)null_cells->len);
	for (guint i = 0; i < null_cells->len; i++)
		osq_thrift_write_i64(out, g_array_index(null_cells, gint64, i));
	page_write_done(out, !cursor->row);
	osq_thrift_write_field_stop(out);
	if (!query_check_byte_limit(&state, error))
		return FALSE;
	cursor->rows = state.rows;
	cursor->bytes += out->len - state.start;
	if (!cursor->row)
		cursor_finish(cursor);
	return TRUE;
}

/* Whether @sql has a statement after the one that ends at @tail (an unpreparable one counts). */
static gboolean
query_has_more_statements(OsqdRpcQueryRun *run, const gchar *tail)
{
	const gchar *rest = tail;

	while (rest != NULL && rest[0] != '\0') {
		g_autoptr(GError) error = NULL;
		const gchar *next = NULL;
		sqlite3_stmt *stmt = osqd_engine_prepare(run->engine, rest, &next, &error);
		if (stmt != NULL) {
			(void)sqlite3_finalize(stmt);
			return TRUE;
		}
		if (error != NULL)
			return TRUE;
		rest = next;
	}
	return FALSE;
}

OsqdRpcCursor *
osqd_rpc_query_write_start_reply(OsqdRpcQueryRun *run, const gchar *name, gint32 seqid,
                                 const gchar *sql, gint32 page_rows, GByteArray *out)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(OsqdRpcCursor) cursor = g_new0(OsqdRpcCursor, 1);
	OsqdRpcQueryState state = {
		.run = run, .out = out, .sink = { .buf = out }, .start = out->len
	};
	const gchar *rest = sql;
	const gchar *tail = NULL;
	sqlite3_stmt *stmt = NULL;

	cursor->page = g_byte_array_new();
	cursor->page_rows = page_rows <= 0 ? OSQD_RPC_PAGE_ROWS_DEFAULT
	                                   : (guint)MIN(page_rows, OSQD_RPC_PAGE_ROWS_MAX);
	if (run->limits->query_timeout_ms > 0)
		state.deadline =
		        g_get_monotonic_time() + (gint64)run->limits->query_timeout_ms * 1000;
	cursor->deadline = state.deadline;
	/* the first statement; blanks, comments and lone ';' before it are skipped */
	while (stmt == NULL && rest != NULL && rest[0] != '\0') {
		if (!query_arm_deadline(&state, &error))
			break;
		stmt = osqd_engine_prepare(run->engine, rest, &tail, &error);
		if (error != NULL)
			break;
		rest = tail;
	}
	if (error != NULL) {
		g_autofree gchar *message = query_error_message(run, error);
		osqd_rpc_write_page_error_reply(out, name, seqid, message);
		return NULL;
	}
	if (stmt == NULL || query_has_more_statements(run, tail)) {
		/* nothing to page, or several statements: queryTyped's answer in one page */
		if (stmt != NULL)
			(void)sqlite3_finalize(stmt);
		query_write_typed(run, name, seqid, sql, out, TRUE);
		return NULL;
	}
	cursor->stmt = stmt;
	if (!query_step(&state, stmt, &cursor->row, &error)) {
		g_autofree gchar *message = query_error_message(run, error);
		osqd_rpc_write_page_error_reply(out, name, seqid, message);
		return NULL;
	}
	cursor->n_columns = sqlite3_column_count(stmt);
	if (cursor->n_columns == 0) {
		while (cursor->row && query_step(&state, stmt, &cursor->row, &error))
			;
		if (error != NULL) {
			g_autofree gchar *message = query_error_message(run, error);
			osqd_rpc_write_page_error_reply(out, name, seqid, message);
			return NULL;
		}
	}
	osq_thrift_write_message_begin(out, name, OSQ_THRIFT_REPLY, seqid);
	osq_thrift_write_field_begin(out, OSQ_THRIFT_STRUCT, 0);
	if (!cursor_encode_page(cursor, run, out, TRUE, &error)) {
		g_autofree gchar *message = query_error_message(run, error);
		g_byte_array_set_size(out, (guint)state.start);
		osqd_rpc_write_page_error_reply(out, name, seqid, message);
		return NULL;
	}
	osq_thrift_write_field_stop(out);
	if (!cursor->row)
		return NULL;
	return g_steal_pointer(&cursor);
}

gboolean
osqd_rpc_cursor_wants_page(OsqdRpcCursor *cursor)
{
	return !cursor->have_page && cursor->row;
}

void
osqd_rpc_cursor_fill(OsqdRpcCursor *cursor, OsqdRpcQueryRun *run)
{
	g_autoptr(GError) error = NULL;

	if (cursor->have_page)
		return;
	g_byte_array_set_size(cursor->page, 0);
	if (!cursor->row) {
		/* nothing left (cannot happen for a cursor the handler keeps): an empty last page
		 */
		osqd_rpc_write_status(cursor->page, 1, 0, "OK");
		typed_write_empty_result(cursor->page);
		osq_thrift_write_field_begin(cursor->page, OSQ_THRIFT_LIST, 5);
		osq_thrift_write_list_begin(cursor->page, OSQ_THRIFT_I64, 0);
		page_write_done(cursor->page, TRUE);
		osq_thrift_write_field_stop(cursor->page);
	} else if (!cursor_encode_page(cursor, run, cursor->page, FALSE, &error)) {
		g_autofree gchar *message = query_error_message(run, error);
		g_byte_array_set_size(cursor->page, 0);
		typed_write_error_body(cursor->page, message, TRUE);
		cursor_finish(cursor);
	}
	cursor->have_page = TRUE;
	cursor->page_done = !cursor->row;
}

gboolean
osqd_rpc_cursor_write_reply(OsqdRpcCursor *cursor, OsqdRpcQueryRun *run, const gchar *name,
                            gint32 seqid, GByteArray *out)
{
	osqd_rpc_cursor_fill(cursor, run);
	osq_thrift_write_message_begin(out, name, OSQ_THRIFT_REPLY, seqid);
	osq_thrift_write_field_begin(out, OSQ_THRIFT_STRUCT, 0);
	g_byte_array_append(out, cursor->page->data, cursor->page->len);
	osq_thrift_write_field_stop(out);
	cursor->have_page = FALSE;
	return !cursor->page_done;
}
