/* SPDX-License-Identifier: Apache-2.0
 *
 * libosq: one non-blocking Unix socket per client, strict request -> reply (no pipelining),
 * every wait a poll() bounded by the call's deadline. Any failure that can leave bytes of a
 * reply unread (a timeout, a cancel, a malformed or oversized reply, a broken connection)
 * closes the connection, and the next call connects again: the stream is never reused out of
 * step. Replies are parsed from one buffer: the cell texts are copied once into an arena, so a
 * result of N cells costs two allocations, not N. A query is read page by page (queryStart,
 * then queryNext until the last page) into that same arena, which grows by doubling. A live
 * follow's poll is a long poll: its deadline is the wait it asks for plus a margin when that
 * is longer than the client's timeout.
 */
#include "config.h"

#include "osq-client-private.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "osq-error.h"

#define OSQ_CLIENT_RECV_CHUNK (64 * 1024)
/* rows per queryStart page: small enough that the daemon's next page overlaps our parsing,
 * large enough that round trips stay cheap (measured with bench/client_query.py) */
#define OSQ_CLIENT_PAGE_ROWS 2000

/* the daemon's status codes are OsqError values; the public enum repeats them */
G_STATIC_ASSERT((int)OSQ_CLIENT_ERROR_FAILED == (int)OSQ_ERROR_FAILED);
G_STATIC_ASSERT((int)OSQ_CLIENT_ERROR_PERMISSION_DENIED == (int)OSQ_ERROR_PERMISSION_DENIED);
G_STATIC_ASSERT((int)OSQ_CLIENT_ERROR_TIMED_OUT == (int)OSQ_ERROR_TIMED_OUT);
G_STATIC_ASSERT((int)OSQ_CLIENT_ERROR_IO == (int)OSQ_ERROR_IO);

struct OsqClient {
	GMutex lock; /* held for a whole call */
	gchar *socket_path;
	gint timeout_ms;
	gsize max_reply_size;
	gint fd;        /* -1 when not connected; read atomically by osq_client_cancel() */
	gint cancelled; /* atomic */
	gint32 seqid;
	gboolean typed_unsupported;
	gboolean paging_unsupported; /* the daemon does not know queryStart */
	GByteArray *out;
	GByteArray *in;
};

G_DEFINE_QUARK(osq - client - error - quark, osq_client_error)

/* ---- errors ---- */

static gint
client_error_export(GError *error_local, OsqClientError **error)
{
	gint code = OSQ_CLIENT_ERROR_FAILED;

	if (error_local == NULL)
		return OSQ_CLIENT_OK;
	if (error_local->domain == OSQ_CLIENT_ERROR)
		code = error_local->code;
	if (code == OSQ_CLIENT_ERROR_UNKNOWN_METHOD)
		code = OSQ_CLIENT_ERROR_NOT_SUPPORTED;
	if (error != NULL) {
		OsqClientError *exported = g_new0(OsqClientError, 1);
		exported->code = code;
		exported->message = g_strdup(error_local->message);
		*error = exported;
	}
	return code;
}

/* A codec error means the daemon sent something that is not the expected reply. */
static gboolean
client_protocol_error(GError **error, GError *codec_error, const gchar *method)
{
	gint code = g_error_matches(codec_error, OSQ_ERROR, OSQ_ERROR_LIMIT)
	                    ? OSQ_CLIENT_ERROR_LIMIT
	                    : OSQ_CLIENT_ERROR_PROTOCOL;

	g_set_error(error, OSQ_CLIENT_ERROR, code, "malformed %s reply from the daemon: %s", method,
	            codec_error->message);
	g_error_free(codec_error);
	return FALSE;
}

void
osq_client_error_free(OsqClientError *error)
{
	if (error == NULL)
		return;
	g_free(error->message);
	g_free(error);
}

const char *
osq_client_version(void)
{
	return OSQ_VERSION;
}

/* ---- column types ---- */

static const gchar *const client_type_names[] = {
	[OSQ_COLUMN_TYPE_UNKNOWN] = "UNKNOWN",
	[OSQ_COLUMN_TYPE_TEXT] = "TEXT",
	[OSQ_COLUMN_TYPE_INTEGER] = "INTEGER",
	[OSQ_COLUMN_TYPE_BIGINT] = "BIGINT",
	[OSQ_COLUMN_TYPE_UNSIGNED_BIGINT] = "UNSIGNED BIGINT",
	[OSQ_COLUMN_TYPE_DOUBLE] = "DOUBLE",
	[OSQ_COLUMN_TYPE_BLOB] = "BLOB",
};

OsqColumnType
osq_client_column_type_from_string(const gchar *name)
{
	for (guint i = 0; i < G_N_ELEMENTS(client_type_names); i++) {
		if (g_ascii_strcasecmp(name, client_type_names[i]) == 0)
			return (OsqColumnType)i;
	}
	return OSQ_COLUMN_TYPE_UNKNOWN;
}

static gboolean
client_type_is_integer(OsqColumnType type)
{
	return type == OSQ_COLUMN_TYPE_INTEGER || type == OSQ_COLUMN_TYPE_BIGINT ||
	       type == OSQ_COLUMN_TYPE_UNSIGNED_BIGINT;
}

/* ---- requests ---- */

void
osq_client_write_call(GByteArray *out, const gchar *method, gint32 seqid, const gchar *sql)
{
	osq_thrift_write_message_begin(out, method, OSQ_THRIFT_CALL, seqid);
	if (sql != NULL) {
		osq_thrift_write_field_begin(out, OSQ_THRIFT_STRING, 1);
		osq_thrift_write_string(out, sql);
	}
	osq_thrift_write_field_stop(out);
}

void
osq_client_write_query_start(GByteArray *out, gint32 seqid, const gchar *sql, gint32 page_rows)
{
	osq_thrift_write_message_begin(out, "queryStart", OSQ_THRIFT_CALL, seqid);
	osq_thrift_write_field_begin(out, OSQ_THRIFT_STRING, 1);
	osq_thrift_write_string(out, sql);
	osq_thrift_write_field_begin(out, OSQ_THRIFT_I32, 2);
	osq_thrift_write_i32(out, page_rows);
	osq_thrift_write_field_stop(out);
}

void
osq_client_write_follow_start(GByteArray *out, gint32 seqid, const gchar *sql, gboolean from_start)
{
	osq_thrift_write_message_begin(out, "followStart", OSQ_THRIFT_CALL, seqid);
	osq_thrift_write_field_begin(out, OSQ_THRIFT_STRING, 1);
	osq_thrift_write_string(out, sql);
	osq_thrift_write_field_begin(out, OSQ_THRIFT_BOOL, 2);
	osq_thrift_write_byte(out, from_start ? 1 : 0);
	osq_thrift_write_field_stop(out);
}

void
osq_client_write_follow_poll(GByteArray *out, gint32 seqid, const gchar *sql, gint64 cursor,
                             gint32 max_rows, gint32 timeout_ms)
{
	osq_thrift_write_message_begin(out, "followPoll", OSQ_THRIFT_CALL, seqid);
	osq_thrift_write_field_begin(out, OSQ_THRIFT_STRING, 1);
	osq_thrift_write_string(out, sql);
	osq_thrift_write_field_begin(out, OSQ_THRIFT_I64, 2);
	osq_thrift_write_i64(out, cursor);
	osq_thrift_write_field_begin(out, OSQ_THRIFT_I32, 3);
	osq_thrift_write_i32(out, max_rows);
	osq_thrift_write_field_begin(out, OSQ_THRIFT_I32, 4);
	osq_thrift_write_i32(out, timeout_ms);
	osq_thrift_write_field_stop(out);
}

/* ---- replies ---- */

/* An EXCEPTION message's TApplicationException {1: message, 2: type}. */
static gboolean
client_read_exception(OsqThriftReader *reader, const gchar *method, GError **error)
{
	g_autofree gchar *message = NULL;
	gint32 type = OSQ_THRIFT_APP_UNKNOWN;

	for (;;) {
		OsqThriftType field;
		gint16 id;
		GError *codec_error = NULL;
		if (!osq_thrift_read_field_begin(reader, &field, &id, &codec_error))
			return client_protocol_error(error, codec_error, method);
		if (field == OSQ_THRIFT_STOP)
			break;
		if (id == 1 && field == OSQ_THRIFT_STRING) {
			g_free(message);
			if (!osq_thrift_read_string(reader, &message, &codec_error))
				return client_protocol_error(error, codec_error, method);
		} else if (id == 2 && field == OSQ_THRIFT_I32) {
			if (!osq_thrift_read_i32(reader, &type, &codec_error))
				return client_protocol_error(error, codec_error, method);
		} else if (!osq_thrift_skip(reader, field, &codec_error)) {
			return client_protocol_error(error, codec_error, method);
		}
	}
	g_set_error(error, OSQ_CLIENT_ERROR,
	            type == OSQ_THRIFT_APP_UNKNOWN_METHOD ? OSQ_CLIENT_ERROR_UNKNOWN_METHOD
	                                                  : OSQ_CLIENT_ERROR_EXCEPTION,
	            "%s", message != NULL && message[0] != '\0' ? message : "the daemon failed");
	return FALSE;
}

/* Reads the header of the reply to @method/@seqid and leaves @reader at its result struct. An
 * EXCEPTION becomes an error with its message (OSQ_CLIENT_ERROR_NOT_SUPPORTED for an unknown
 * method). */
static gboolean
client_reply_begin(OsqThriftReader *reader, const guint8 *data, gsize len, const gchar *method,
                   gint32 seqid, GError **error)
{
	g_autofree gchar *name = NULL;
	OsqThriftMessageType type;
	gint32 reply_seqid;
	GError *codec_error = NULL;

	osq_thrift_reader_init(reader, data, len);
	if (!osq_thrift_read_message_begin(reader, &name, &type, &reply_seqid, &codec_error))
		return client_protocol_error(error, codec_error, method);
	if (g_strcmp0(name, method) != 0) {
		g_set_error(error, OSQ_CLIENT_ERROR, OSQ_CLIENT_ERROR_PROTOCOL,
		            "the daemon answered '%s' to a '%s' call", name, method);
		return FALSE;
	}
	if (reply_seqid != seqid) {
		g_set_error(error, OSQ_CLIENT_ERROR, OSQ_CLIENT_ERROR_PROTOCOL,
		            "out of sequence reply to '%s' (sequence id %d, expected %d)", method,
		            reply_seqid, seqid);
		return FALSE;
	}
	if (type == OSQ_THRIFT_EXCEPTION)
		return client_read_exception(reader, method, error);
	if (type != OSQ_THRIFT_REPLY) {
		g_set_error(error, OSQ_CLIENT_ERROR, OSQ_CLIENT_ERROR_PROTOCOL,
		            "unexpected message type %d in the reply to '%s'", (gint)type, method);
		return FALSE;
	}
	return TRUE;
}

/* Walks the reply struct to its field 0 ("success") of @type; FALSE with an error when it is
 * missing. */
static gboolean
client_reply_find_success(OsqThriftReader *reader, OsqThriftType type, const gchar *method,
                          GError **error)
{
	for (;;) {
		OsqThriftType field;
		gint16 id;
		GError *codec_error = NULL;
		if (!osq_thrift_read_field_begin(reader, &field, &id, &codec_error))
			return client_protocol_error(error, codec_error, method);
		if (field == OSQ_THRIFT_STOP)
			break;
		if (id == 0 && field == type)
			return TRUE;
		if (!osq_thrift_skip(reader, field, &codec_error))
			return client_protocol_error(error, codec_error, method);
	}
	g_set_error(error, OSQ_CLIENT_ERROR, OSQ_CLIENT_ERROR_PROTOCOL,
	            "the daemon's '%s' reply has no result", method);
	return FALSE;
}

/* Skips what follows the result in the reply struct, up to its STOP. */
static gboolean
client_reply_end(OsqThriftReader *reader, const gchar *method, GError **error)
{
	for (;;) {
		OsqThriftType field;
		gint16 id;
		GError *codec_error = NULL;
		if (!osq_thrift_read_field_begin(reader, &field, &id, &codec_error))
			return client_protocol_error(error, codec_error, method);
		if (field == OSQ_THRIFT_STOP)
			return TRUE;
		if (!osq_thrift_skip(reader, field, &codec_error))
			return client_protocol_error(error, codec_error, method);
	}
}

/* ExtensionStatus {1: i32 code, 2: string message, 3: i64 uuid}; missing fields are 0/"". */
static gboolean
client_read_status(OsqThriftReader *reader, gint32 *code, gchar **message, const gchar *method,
                   GError **error)
{
	*code = 0;
	for (;;) {
		OsqThriftType field;
		gint16 id;
		GError *codec_error = NULL;
		if (!osq_thrift_read_field_begin(reader, &field, &id, &codec_error))
			return client_protocol_error(error, codec_error, method);
		if (field == OSQ_THRIFT_STOP)
			return TRUE;
		if (id == 1 && field == OSQ_THRIFT_I32) {
			if (!osq_thrift_read_i32(reader, code, &codec_error))
				return client_protocol_error(error, codec_error, method);
		} else if (id == 2 && field == OSQ_THRIFT_STRING) {
			g_free(*message);
			if (!osq_thrift_read_string(reader, message, &codec_error))
				return client_protocol_error(error, codec_error, method);
		} else if (!osq_thrift_skip(reader, field, &codec_error)) {
			return client_protocol_error(error, codec_error, method);
		}
	}
}

/* A non-zero status is an error carrying the daemon's code (1-10) and message. */
static gboolean
client_status_check(gint32 code, const gchar *message, GError **error)
{
	if (code == 0)
		return TRUE;
	g_set_error(error, OSQ_CLIENT_ERROR,
	            code >= OSQ_CLIENT_ERROR_FAILED && code <= OSQ_CLIENT_ERROR_IO
	                    ? code
	                    : OSQ_CLIENT_ERROR_FAILED,
	            "%s", message != NULL && message[0] != '\0' ? message : "the query failed");
	return FALSE;
}

gboolean
osq_client_parse_ping_reply(const guint8 *data, gsize len, gint32 seqid, GError **error)
{
	OsqThriftReader reader;
	g_autofree gchar *message = NULL;
	gint32 code;

	if (!client_reply_begin(&reader, data, len, "ping", seqid, error) ||
	    !client_reply_find_success(&reader, OSQ_THRIFT_STRUCT, "ping", error) ||
	    !client_read_status(&reader, &code, &message, "ping", error) ||
	    !client_reply_end(&reader, "ping", error))
		return FALSE;
	return client_status_check(code, message, error);
}

/* ---- results ---- */

static OsqResult *
client_result_new(GPtrArray *names, GPtrArray *type_names)
{
	OsqResult *result = g_new0(OsqResult, 1);

	result->n_columns = names->len;
	result->names = g_new0(gchar *, names->len + 1);
	result->type_names = g_new0(gchar *, names->len + 1);
	result->types = g_new0(OsqColumnType, names->len + 1);
	for (guint i = 0; i < names->len; i++) {
		const gchar *type = i < type_names->len ? type_names->pdata[i] : "UNKNOWN";
		result->names[i] = g_strdup(names->pdata[i]);
		result->type_names[i] = g_strdup(type);
		result->types[i] = osq_client_column_type_from_string(type);
	}
	result->arena = g_strdup("");
	result->offsets = g_new0(gsize, 1);
	return result;
}

/* A list<string> read into @out (which must be empty). */
static gboolean
client_read_string_list(OsqThriftReader *reader, GPtrArray *out, const gchar *method,
                        GError **error)
{
	OsqThriftType element;
	guint32 size;
	GError *codec_error = NULL;

	if (!osq_thrift_read_list_begin(reader, &element, &size, &codec_error))
		return client_protocol_error(error, codec_error, method);
	for (guint32 i = 0; i < size; i++) {
		gchar *value = NULL;
		if (element != OSQ_THRIFT_STRING) {
			if (!osq_thrift_skip(reader, element, &codec_error))
				return client_protocol_error(error, codec_error, method);
			continue;
		}
		if (!osq_thrift_read_string(reader, &value, &codec_error))
			return client_protocol_error(error, codec_error, method);
		g_ptr_array_add(out, value);
	}
	return TRUE;
}

/* The cells of queryTyped's rows: text copied into one arena (each followed by a NUL); the
 * arena cannot outgrow the message, since every string costs at least its 4-byte length. */
typedef struct {
	gchar *arena;
	gsize arena_len;
	gsize arena_size;
	GArray *offsets; /* gsize */
	gsize n_rows;
	gsize width;   /* cells per row, from the first row */
	GArray *nulls; /* gint64 cell indexes */
} OsqClientCells;

static void
client_cells_clear(OsqClientCells *cells)
{
	g_free(cells->arena);
	if (cells->offsets != NULL)
		g_array_unref(cells->offsets);
	if (cells->nulls != NULL)
		g_array_unref(cells->nulls);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(OsqClientCells, client_cells_clear)

static void
client_cells_append(OsqClientCells *cells, const gchar *data, gsize len)
{
	gsize offset = cells->arena_len;

	if (offset + len + 1 > cells->arena_size) {
		/* only osquery's rows can need more: a missing value costs no wire bytes */
		cells->arena_size = MAX(cells->arena_size * 2, offset + len + 1);
		cells->arena = g_realloc(cells->arena, cells->arena_size);
	}
	memcpy(cells->arena + offset, data, len);
	cells->arena[offset + len] = '\0';
	cells->arena_len = offset + len + 1;
	g_array_append_val(cells->offsets, cells->arena_len);
}

/* The hot loop: @width strings straight from the buffer into the arena (the reply's 4-byte
 * length prefixes pay for the NULs, so the arena, sized to the message, never grows here). */
static gboolean
client_read_row_cells(OsqThriftReader *reader, OsqClientCells *cells, guint32 width, GError **error)
{
	const guint8 *p = reader->data + reader->pos;
	gsize left = reader->len - reader->pos;
	gsize base = cells->offsets->len;
	gsize *slots;

	g_array_set_size(cells->offsets, (guint)(base + width));
	slots = &g_array_index(cells->offsets, gsize, base);
	for (guint32 c = 0; c < width; c++) {
		guint32 len;
		if (left < 4 || (len = ((guint32)p[0] << 24) | ((guint32)p[1] << 16) |
		                       ((guint32)p[2] << 8) | p[3]) > left - 4) {
			g_set_error_literal(error, OSQ_CLIENT_ERROR, OSQ_CLIENT_ERROR_PROTOCOL,
			                    "malformed queryTyped reply from the daemon: truncated "
			                    "or negative string length");
			return FALSE;
		}
		if (cells->arena_len + len + 1 > cells->arena_size) {
			g_set_error_literal(error, OSQ_CLIENT_ERROR, OSQ_CLIENT_ERROR_PROTOCOL,
			                    "malformed queryTyped reply from the daemon");
			return FALSE;
		}
		memcpy(cells->arena + cells->arena_len, p + 4, len);
		cells->arena_len += len;
		cells->arena[cells->arena_len++] = '\0';
		slots[c] = cells->arena_len;
		p += 4 + (gsize)len;
		left -= 4 + (gsize)len;
	}
	reader->pos = reader->len - left;
	return TRUE;
}

static gboolean
client_read_rows(OsqThriftReader *reader, OsqClientCells *cells, GError **error)
{
	OsqThriftType element;
	guint32 n_rows;
	GError *codec_error = NULL;

	if (!osq_thrift_read_list_begin(reader, &element, &n_rows, &codec_error))
		return client_protocol_error(error, codec_error, "queryTyped");
	if (n_rows > 0 && element != OSQ_THRIFT_LIST) {
		g_set_error_literal(error, OSQ_CLIENT_ERROR, OSQ_CLIENT_ERROR_PROTOCOL,
		                    "queryTyped rows are not lists");
		return FALSE;
	}
	for (guint32 r = 0; r < n_rows; r++) {
		OsqThriftType cell_type;
		guint32 width;
		if (!osq_thrift_read_list_begin(reader, &cell_type, &width, &codec_error))
			return client_protocol_error(error, codec_error, "queryTyped");
		if (width > 0 && cell_type != OSQ_THRIFT_STRING) {
			g_set_error_literal(error, OSQ_CLIENT_ERROR, OSQ_CLIENT_ERROR_PROTOCOL,
			                    "queryTyped cells are not strings");
			return FALSE;
		}
		if (cells->n_rows == 0) {
			/* bounded by the bytes left, so a lying count cannot reserve much */
			gsize reserve = MIN((gsize)n_rows * width, (reader->len - reader->pos) / 4);
			GArray *offsets =
			        g_array_sized_new(FALSE, FALSE, sizeof(gsize), reserve + 1);
			g_array_append_vals(offsets, cells->offsets->data, cells->offsets->len);
			g_array_unref(cells->offsets);
			cells->offsets = offsets;
			cells->width = width;
		} else if (width != cells->width) {
			g_set_error(error, OSQ_CLIENT_ERROR, OSQ_CLIENT_ERROR_PROTOCOL,
			            "queryTyped row %" G_GSIZE_FORMAT
			            " has %u values, the first had %" G_GSIZE_FORMAT,
			            cells->n_rows, width, cells->width);
			return FALSE;
		}
		if (!client_read_row_cells(reader, cells, width, error))
			return FALSE;
		cells->n_rows++;
	}
	return TRUE;
}

static gboolean
client_read_null_cells(OsqThriftReader *reader, GArray *nulls, GError **error)
{
	OsqThriftType element;
	guint32 size;
	GError *codec_error = NULL;

	if (!osq_thrift_read_list_begin(reader, &element, &size, &codec_error))
		return client_protocol_error(error, codec_error, "queryTyped");
	for (guint32 i = 0; i < size; i++) {
		gint64 index;
		if (element != OSQ_THRIFT_I64) {
			if (!osq_thrift_skip(reader, element, &codec_error))
				return client_protocol_error(error, codec_error, "queryTyped");
			continue;
		}
		if (!osq_thrift_read_i64(reader, &index, &codec_error))
			return client_protocol_error(error, codec_error, "queryTyped");
		g_array_append_val(nulls, index);
	}
	return TRUE;
}

static void
client_result_set_null(OsqResult *result, gsize cell)
{
	gsize n_cells = result->n_rows * result->n_columns;

	if (result->nulls == NULL)
		result->nulls = g_new0(guint8, n_cells / 8 + 1);
	result->nulls[cell / 8] |= (guint8)(1u << (cell % 8));
}

/* Moves @cells into a result with @names and @types, checking that they agree. */
static OsqResult *
client_result_from_cells(GPtrArray *names, GPtrArray *types, OsqClientCells *cells, GError **error)
{
	g_autoptr(OsqResult) result = client_result_new(names, types);
	gsize n_cells;

	if (cells->n_rows > 0 && cells->width != names->len) {
		g_set_error(error, OSQ_CLIENT_ERROR, OSQ_CLIENT_ERROR_PROTOCOL,
		            "queryTyped rows have %" G_GSIZE_FORMAT " values for %u columns",
		            cells->width, names->len);
		return NULL;
	}
	result->n_rows = names->len > 0 ? cells->n_rows : 0;
	n_cells = result->n_rows * result->n_columns;
	for (guint i = 0; i < cells->nulls->len; i++) {
		gint64 cell = g_array_index(cells->nulls, gint64, i);
		if (cell < 0 || (guint64)cell >= n_cells) {
			g_set_error(error, OSQ_CLIENT_ERROR, OSQ_CLIENT_ERROR_PROTOCOL,
			            "queryTyped names NULL cell %" G_GINT64_FORMAT
			            " of %" G_GSIZE_FORMAT,
			            cell, n_cells);
			return NULL;
		}
		client_result_set_null(result, (gsize)cell);
	}
	if (n_cells > 0) {
		g_free(result->arena);
		g_free(result->offsets);
		result->arena = g_realloc(g_steal_pointer(&cells->arena), cells->arena_len);
		result->offsets =
		        (gsize *)(void *)g_array_free(g_steal_pointer(&cells->offsets), FALSE);
	}
	return g_steal_pointer(&result);
}

/* A result read from one queryTyped reply or several QueryPage replies. */
struct OsqClientPages {
	GPtrArray *names;
	GPtrArray *types;
	OsqClientCells cells;
	gboolean started; /* a page was added */
};

OsqClientPages *
osq_client_pages_new(void)
{
	OsqClientPages *pages = g_new0(OsqClientPages, 1);
	gsize zero = 0;

	pages->names = g_ptr_array_new_with_free_func(g_free);
	pages->types = g_ptr_array_new_with_free_func(g_free);
	pages->cells.offsets = g_array_new(FALSE, FALSE, sizeof(gsize));
	pages->cells.nulls = g_array_new(FALSE, FALSE, sizeof(gint64));
	g_array_append_val(pages->cells.offsets, zero);
	return pages;
}

void
osq_client_pages_free(OsqClientPages *pages)
{
	if (pages == NULL)
		return;
	g_ptr_array_unref(pages->names);
	g_ptr_array_unref(pages->types);
	client_cells_clear(&pages->cells);
	g_free(pages);
}

/* Room for every cell of a message of @len bytes (each costs at least its 4-byte length on
 * the wire, which pays for its NUL): grown by doubling, so pages cost amortized O(1) copies. */
static void
client_pages_reserve(OsqClientPages *pages, gsize len)
{
	OsqClientCells *cells = &pages->cells;
	gsize need = cells->arena_len + len + 1;

	if (need <= cells->arena_size)
		return;
	cells->arena_size = cells->arena == NULL ? need : MAX(cells->arena_size * 2, need);
	cells->arena = g_realloc(cells->arena, cells->arena_size);
}

/* Field 6 of a page: QueryPage's done (@done not NULL) or FollowPage's cursor (@cursor not
 * NULL; set only when the page has one and its status is 0). */
static gboolean
client_pages_add_reply(OsqClientPages *pages, const guint8 *data, gsize len, gint32 seqid,
                       const gchar *method, gboolean *done, gint64 *cursor, GError **error)
{
	OsqThriftReader reader;
	OsqClientCells *cells = &pages->cells;
	g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GPtrArray) types = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GArray) nulls = g_array_new(FALSE, FALSE, sizeof(gint64));
	g_autofree gchar *message = NULL;
	gsize base_rows = cells->n_rows;
	gsize page_cells;
	gint32 code = 0;
	gint64 page_cursor = 0;
	gboolean have_status = FALSE, have_rows = FALSE, have_nulls = FALSE, have_done = FALSE;
	gboolean have_cursor = FALSE;
	gboolean first = !pages->started;

	if (!client_reply_begin(&reader, data, len, method, seqid, error) ||
	    !client_reply_find_success(&reader, OSQ_THRIFT_STRUCT, method, error))
		return FALSE;
	client_pages_reserve(pages, len);
	for (;;) {
		OsqThriftType field;
		gint16 id;
		GError *codec_error = NULL;
		gboolean ok = TRUE;
		if (!osq_thrift_read_field_begin(&reader, &field, &id, &codec_error))
			return client_protocol_error(error, codec_error, method);
		if (field == OSQ_THRIFT_STOP)
			break;
		if (id == 1 && field == OSQ_THRIFT_STRUCT) {
			have_status = TRUE;
			ok = client_read_status(&reader, &code, &message, method, error);
		} else if (id == 2 && field == OSQ_THRIFT_LIST && names->len == 0) {
			ok = client_read_string_list(&reader, names, method, error);
		} else if (id == 3 && field == OSQ_THRIFT_LIST && types->len == 0) {
			ok = client_read_string_list(&reader, types, method, error);
		} else if (id == 4 && field == OSQ_THRIFT_LIST && !have_rows) {
			have_rows = TRUE;
			ok = client_read_rows(&reader, cells, error);
		} else if (id == 5 && field == OSQ_THRIFT_LIST && !have_nulls) {
			have_nulls = TRUE;
			ok = client_read_null_cells(&reader, nulls, error);
		} else if (id == 6 && field == OSQ_THRIFT_BOOL && done != NULL) {
			guint8 value = 0;
			if (!osq_thrift_read_byte(&reader, &value, &codec_error))
				return client_protocol_error(error, codec_error, method);
			have_done = TRUE;
			*done = value != 0;
		} else if (id == 6 && field == OSQ_THRIFT_I64 && cursor != NULL) {
			if (!osq_thrift_read_i64(&reader, &page_cursor, &codec_error))
				return client_protocol_error(error, codec_error, method);
			have_cursor = TRUE;
		} else if (!osq_thrift_skip(&reader, field, &codec_error)) {
			return client_protocol_error(error, codec_error, method);
		}
		if (!ok)
			return FALSE;
	}
	if (!client_reply_end(&reader, method, error))
		return FALSE;
	if (!have_status) {
		g_set_error(error, OSQ_CLIENT_ERROR, OSQ_CLIENT_ERROR_PROTOCOL,
		            "the daemon's %s reply has no status", method);
		return FALSE;
	}
	if (!client_status_check(code, message, error))
		return FALSE;
	/* a page without done ends the query rather than asking forever */
	if (done != NULL && !have_done)
		*done = TRUE;
	if (first) {
		g_ptr_array_extend_and_steal(pages->names, g_steal_pointer(&names));
		g_ptr_array_extend_and_steal(pages->types, g_steal_pointer(&types));
		pages->started = TRUE;
	}
	/* NULL positions count from this page's first row */
	page_cells = (cells->n_rows - base_rows) * pages->names->len;
	for (guint i = 0; i < nulls->len; i++) {
		gint64 cell = g_array_index(nulls, gint64, i);
		if (cell < 0 || (guint64)cell >= page_cells) {
			g_set_error(error, OSQ_CLIENT_ERROR, OSQ_CLIENT_ERROR_PROTOCOL,
			            "%s names NULL cell %" G_GINT64_FORMAT " of %" G_GSIZE_FORMAT,
			            method, cell, page_cells);
			return FALSE;
		}
		cell += (gint64)(base_rows * pages->names->len);
		g_array_append_val(cells->nulls, cell);
	}
	if (have_cursor)
		*cursor = page_cursor;
	return TRUE;
}

gboolean
osq_client_pages_add_reply(OsqClientPages *pages, const guint8 *data, gsize len, gint32 seqid,
                           const gchar *method, gboolean *done, GError **error)
{
	return client_pages_add_reply(pages, data, len, seqid, method, done, NULL, error);
}

OsqResult *
osq_client_pages_finish(OsqClientPages *pages, GError **error)
{
	return client_result_from_cells(pages->names, pages->types, &pages->cells, error);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(OsqClientPages, osq_client_pages_free)

OsqResult *
osq_client_parse_query_typed_reply(const guint8 *data, gsize len, gint32 seqid, GError **error)
{
	g_autoptr(OsqClientPages) pages = osq_client_pages_new();

	if (!osq_client_pages_add_reply(pages, data, len, seqid, "queryTyped", NULL, error))
		return NULL;
	return osq_client_pages_finish(pages, error);
}

OsqResult *
osq_client_parse_follow_reply(const guint8 *data, gsize len, gint32 seqid, const gchar *method,
                              const OsqResult *columns, gint64 *cursor, GError **error)
{
	g_autoptr(OsqClientPages) pages = osq_client_pages_new();
	gint64 page_cursor = *cursor;
	OsqResult *result;

	if (!client_pages_add_reply(pages, data, len, seqid, method, NULL, &page_cursor, error))
		return NULL;
	if (pages->names->len == 0 && columns != NULL) {
		g_ptr_array_set_size(pages->types, 0);
		for (gsize c = 0; c < columns->n_columns; c++) {
			g_ptr_array_add(pages->names, g_strdup(columns->names[c]));
			g_ptr_array_add(pages->types, g_strdup(columns->type_names[c]));
		}
	}
	result = osq_client_pages_finish(pages, error);
	if (result != NULL)
		*cursor = page_cursor;
	return result;
}

/* ExtensionResponse {1: status, 2: list<map<string,string>>}: checks the status and leaves
 * @reader at the start of the rows list (FALSE with no error when there is none). */
static gboolean
client_read_response_begin(OsqThriftReader *reader, const gchar *method, gboolean *have_rows,
                           GError **error)
{
	g_autofree gchar *message = NULL;
	gint32 code = 0;
	gboolean have_status = FALSE;

	*have_rows = FALSE;
	for (;;) {
		OsqThriftType field;
		gint16 id;
		GError *codec_error = NULL;
		if (!osq_thrift_read_field_begin(reader, &field, &id, &codec_error))
			return client_protocol_error(error, codec_error, method);
		if (field == OSQ_THRIFT_STOP)
			break;
		if (id == 1 && field == OSQ_THRIFT_STRUCT) {
			if (!client_read_status(reader, &code, &message, method, error))
				return FALSE;
			have_status = TRUE;
			if (code != 0)
				break;
		} else if (id == 2 && field == OSQ_THRIFT_LIST && have_status) {
			*have_rows = TRUE;
			return TRUE;
		} else if (id == 2 && field == OSQ_THRIFT_LIST) {
			/* rows before the status: osquery writes the status first; so do we */
			g_set_error(error, OSQ_CLIENT_ERROR, OSQ_CLIENT_ERROR_PROTOCOL,
			            "the daemon's %s reply has rows before its status", method);
			return FALSE;
		} else if (!osq_thrift_skip(reader, field, &codec_error)) {
			return client_protocol_error(error, codec_error, method);
		}
	}
	if (!have_status) {
		g_set_error(error, OSQ_CLIENT_ERROR, OSQ_CLIENT_ERROR_PROTOCOL,
		            "the daemon's %s reply has no status", method);
		return FALSE;
	}
	return client_status_check(code, message, error);
}

OsqResult *
osq_client_parse_columns_reply(const guint8 *data, gsize len, gint32 seqid, GError **error)
{
	OsqThriftReader reader;
	g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GPtrArray) types = g_ptr_array_new_with_free_func(g_free);
	OsqThriftType element;
	guint32 n_rows;
	gboolean have_rows;
	GError *codec_error = NULL;

	if (!client_reply_begin(&reader, data, len, "getQueryColumns", seqid, error) ||
	    !client_reply_find_success(&reader, OSQ_THRIFT_STRUCT, "getQueryColumns", error) ||
	    !client_read_response_begin(&reader, "getQueryColumns", &have_rows, error))
		return NULL;
	if (!have_rows)
		return client_reply_end(&reader, "getQueryColumns", error)
		               ? client_result_new(names, types)
		               : NULL;
	if (!osq_thrift_read_list_begin(&reader, &element, &n_rows, &codec_error))
		return client_protocol_error(error, codec_error, "getQueryColumns"), NULL;
	for (guint32 r = 0; r < n_rows; r++) {
		OsqThriftType key, value;
		guint32 size;
		if (element != OSQ_THRIFT_MAP) {
			g_set_error_literal(error, OSQ_CLIENT_ERROR, OSQ_CLIENT_ERROR_PROTOCOL,
			                    "getQueryColumns rows are not maps");
			return NULL;
		}
		/* one {name: type} map per column, in order */
		if (!osq_thrift_read_map_begin(&reader, &key, &value, &size, &codec_error))
			return client_protocol_error(error, codec_error, "getQueryColumns"), NULL;
		for (guint32 i = 0; i < size; i++) {
			gchar *name = NULL, *type = NULL;
			if (key != OSQ_THRIFT_STRING || value != OSQ_THRIFT_STRING) {
				g_set_error_literal(error, OSQ_CLIENT_ERROR,
				                    OSQ_CLIENT_ERROR_PROTOCOL,
				                    "getQueryColumns maps are not string maps");
				return NULL;
			}
			if (!osq_thrift_read_string(&reader, &name, &codec_error))
				return client_protocol_error(error, codec_error, "getQueryColumns"),
				       NULL;
			g_ptr_array_add(names, name);
			if (!osq_thrift_read_string(&reader, &type, &codec_error))
				return client_protocol_error(error, codec_error, "getQueryColumns"),
				       NULL;
			g_ptr_array_add(types, type);
		}
	}
	/* the rest of the response, then of the reply */
	if (!client_reply_end(&reader, "getQueryColumns", error) ||
	    !client_reply_end(&reader, "getQueryColumns", error))
		return NULL;
	return client_result_new(names, types);
}

OsqResult *
osq_client_parse_query_reply(const guint8 *data, gsize len, gint32 seqid, OsqResult *columns,
                             GError **error)
{
	g_autoptr(OsqResult) result = columns;
	g_autoptr(GPtrArray) names = NULL;
	g_autoptr(GPtrArray) types = NULL;
	g_auto(OsqClientCells) cells = { 0 };
	OsqThriftReader reader;
	OsqThriftType element;
	guint32 n_rows;
	gboolean have_rows;
	GError *codec_error = NULL;

	if (!client_reply_begin(&reader, data, len, "query", seqid, error) ||
	    !client_reply_find_success(&reader, OSQ_THRIFT_STRUCT, "query", error) ||
	    !client_read_response_begin(&reader, "query", &have_rows, error))
		return NULL;
	if (!have_rows)
		return client_reply_end(&reader, "query", error) ? g_steal_pointer(&result) : NULL;
	if (!osq_thrift_read_list_begin(&reader, &element, &n_rows, &codec_error))
		return client_protocol_error(error, codec_error, "query"), NULL;
	if (n_rows > 0 && element != OSQ_THRIFT_MAP) {
		g_set_error_literal(error, OSQ_CLIENT_ERROR, OSQ_CLIENT_ERROR_PROTOCOL,
		                    "query rows are not maps");
		return NULL;
	}
	cells.arena_size = len + 1;
	cells.arena = g_malloc(cells.arena_size);
	cells.offsets = g_array_new(FALSE, FALSE, sizeof(gsize));
	cells.nulls = g_array_new(FALSE, FALSE, sizeof(gint64));
	cells.width = result->n_columns;
	g_array_append_val(cells.offsets, cells.arena_len);
	for (guint32 r = 0; r < n_rows; r++) {
		g_autoptr(GHashTable) row = NULL;
		if (!osq_thrift_read_string_map(&reader, &row, &codec_error))
			return client_protocol_error(error, codec_error, "query"), NULL;
		for (gsize c = 0; c < result->n_columns; c++) {
			const gchar *value = g_hash_table_lookup(row, result->names[c]);
			/* osquery renders NULL as "": only TEXT keeps an empty value */
			if (value == NULL ||
			    (value[0] == '\0' && result->types[c] != OSQ_COLUMN_TYPE_TEXT)) {
				gint64 cell = (gint64)(cells.n_rows * result->n_columns + c);
				g_array_append_val(cells.nulls, cell);
				value = "";
			}
			client_cells_append(&cells, value, strlen(value));
		}
		cells.n_rows++;
	}
	if (!client_reply_end(&reader, "query", error) ||
	    !client_reply_end(&reader, "query", error))
		return NULL;
	names = g_ptr_array_new_with_free_func(g_free);
	types = g_ptr_array_new_with_free_func(g_free);
	for (gsize c = 0; c < result->n_columns; c++) {
		g_ptr_array_add(names, g_strdup(result->names[c]));
		g_ptr_array_add(types, g_strdup(result->type_names[c]));
	}
	return client_result_from_cells(names, types, &cells, error);
}

static gboolean
client_read_extension_info(OsqThriftReader *reader, OsqExtensionInfo *info, GError **error)
{
	for (;;) {
		OsqThriftType field;
		gint16 id;
		GError *codec_error = NULL;
		gchar **target = NULL;
		if (!osq_thrift_read_field_begin(reader, &field, &id, &codec_error))
			return client_protocol_error(error, codec_error, "extensions");
		if (field == OSQ_THRIFT_STOP)
			return TRUE;
		if (field == OSQ_THRIFT_STRING && id == 1)
			target = (gchar **)&info->name;
		else if (field == OSQ_THRIFT_STRING && id == 2)
			target = (gchar **)&info->version;
		else if (field == OSQ_THRIFT_STRING && id == 3)
			target = (gchar **)&info->sdk_version;
		else if (field == OSQ_THRIFT_STRING && id == 4)
			target = (gchar **)&info->min_sdk_version;
		if (target == NULL) {
			if (!osq_thrift_skip(reader, field, &codec_error))
				return client_protocol_error(error, codec_error, "extensions");
			continue;
		}
		g_free(*target);
		*target = NULL;
		if (!osq_thrift_read_string(reader, target, &codec_error))
			return client_protocol_error(error, codec_error, "extensions");
	}
}

static void
client_extension_info_clear(OsqExtensionInfo *info)
{
	g_free((gchar *)info->name);
	g_free((gchar *)info->version);
	g_free((gchar *)info->sdk_version);
	g_free((gchar *)info->min_sdk_version);
}

static gint
client_extension_info_compare(gconstpointer a, gconstpointer b)
{
	const OsqExtensionInfo *x = a, *y = b;

	return x->uuid < y->uuid ? -1 : x->uuid > y->uuid ? 1 : 0;
}

static void
client_extension_info_fill(OsqExtensionInfo *info)
{
	const gchar **fields[] = { &info->name, &info->version, &info->sdk_version,
		                   &info->min_sdk_version };

	for (guint i = 0; i < G_N_ELEMENTS(fields); i++) {
		if (*fields[i] == NULL)
			*fields[i] = g_strdup("");
	}
}

OsqExtensionList *
osq_client_parse_extensions_reply(const guint8 *data, gsize len, gint32 seqid, GError **error)
{
	g_autoptr(OsqExtensionList) list = g_new0(OsqExtensionList, 1);
	OsqThriftReader reader;
	OsqThriftType key, value;
	guint32 size;
	GError *codec_error = NULL;

	list->items = g_array_new(FALSE, TRUE, sizeof(OsqExtensionInfo));
	g_array_set_clear_func(list->items, (GDestroyNotify)client_extension_info_clear);
	if (!client_reply_begin(&reader, data, len, "extensions", seqid, error) ||
	    !client_reply_find_success(&reader, OSQ_THRIFT_MAP, "extensions", error))
		return NULL;
	if (!osq_thrift_read_map_begin(&reader, &key, &value, &size, &codec_error))
		return client_protocol_error(error, codec_error, "extensions"), NULL;
	if (size > 0 && (key != OSQ_THRIFT_I64 || value != OSQ_THRIFT_STRUCT)) {
		g_set_error_literal(error, OSQ_CLIENT_ERROR, OSQ_CLIENT_ERROR_PROTOCOL,
		                    "extensions is not a map of uuid to extension");
		return NULL;
	}
	for (guint32 i = 0; i < size; i++) {
		OsqExtensionInfo info = { 0 };
		if (!osq_thrift_read_i64(&reader, &info.uuid, &codec_error))
			return client_protocol_error(error, codec_error, "extensions"), NULL;
		/* appended first, so the clear function owns whatever was read on failure */
		g_array_append_val(list->items, info);
		if (!client_read_extension_info(
		            &reader,
		            &g_array_index(list->items, OsqExtensionInfo, list->items->len - 1),
		            error))
			return NULL;
		client_extension_info_fill(
		        &g_array_index(list->items, OsqExtensionInfo, list->items->len - 1));
	}
	if (!client_reply_end(&reader, "extensions", error))
		return NULL;
	g_array_sort(list->items, client_extension_info_compare);
	return g_steal_pointer(&list);
}

/* ---- the scanner ---- */

void
osq_client_scanner_init(OsqClientScanner *scanner, gsize max)
{
	memset(scanner, 0, sizeof(*scanner));
	scanner->max = max;
}

static guint32
scanner_be32(const guint8 *p)
{
	return ((guint32)p[0] << 24) | ((guint32)p[1] << 16) | ((guint32)p[2] << 8) | p[3];
}

static OsqThriftScan
scanner_invalid(GError **error, const gchar *what)
{
	g_set_error(error, OSQ_CLIENT_ERROR, OSQ_CLIENT_ERROR_PROTOCOL,
	            "malformed reply from the daemon: %s", what);
	return OSQ_THRIFT_SCAN_INVALID;
}

/* INCOMPLETE when @need more bytes from @pos are not there yet; INVALID when they never can
 * be (past the maximum). COMPLETE means they are there. */
static OsqThriftScan
scanner_need(OsqClientScanner *scanner, gsize len, gsize pos, guint64 need, GError **error)
{
	if ((guint64)pos + need > scanner->max) {
		g_set_error(error, OSQ_CLIENT_ERROR, OSQ_CLIENT_ERROR_LIMIT,
		            "the daemon's reply is larger than %" G_GSIZE_FORMAT " bytes",
		            scanner->max);
		return OSQ_THRIFT_SCAN_INVALID;
	}
	return (guint64)pos + need <= len ? OSQ_THRIFT_SCAN_COMPLETE : OSQ_THRIFT_SCAN_INCOMPLETE;
}

static gboolean
scanner_type_is_valid(guint8 type)
{
	switch (type) {
	case OSQ_THRIFT_BOOL:
	case OSQ_THRIFT_BYTE:
	case OSQ_THRIFT_DOUBLE:
	case OSQ_THRIFT_I16:
	case OSQ_THRIFT_I32:
	case OSQ_THRIFT_I64:
	case OSQ_THRIFT_STRING:
	case OSQ_THRIFT_STRUCT:
	case OSQ_THRIFT_MAP:
	case OSQ_THRIFT_SET:
	case OSQ_THRIFT_LIST:
		return TRUE;
	default:
		return FALSE;
	}
}

/* The fewest bytes a value of @type takes. */
static guint64
scanner_min_size(guint8 type)
{
	switch (type) {
	case OSQ_THRIFT_I16:
		return 2;
	case OSQ_THRIFT_I32:
	case OSQ_THRIFT_STRING:
		return 4;
	case OSQ_THRIFT_I64:
	case OSQ_THRIFT_DOUBLE:
		return 8;
	case OSQ_THRIFT_MAP:
		return 6;
	case OSQ_THRIFT_LIST:
	case OSQ_THRIFT_SET:
		return 5;
	default:
		return 1;
	}
}

static OsqThriftScan
scanner_header(OsqClientScanner *scanner, const guint8 *data, gsize len, GError **error)
{
	OsqThriftScan scan = scanner_need(scanner, len, 0, 4, error);
	guint32 first;
	guint64 header;

	if (scan != OSQ_THRIFT_SCAN_COMPLETE)
		return scan;
	first = scanner_be32(data);
	if ((first & 0x80000000u) != 0) {
		/* strict: version|type, name length, name, seqid */
		if ((first & 0xffff0000u) != 0x80010000u)
			return scanner_invalid(error, "bad protocol version");
		scan = scanner_need(scanner, len, 0, 8, error);
		if (scan != OSQ_THRIFT_SCAN_COMPLETE)
			return scan;
		header = 8 + (guint64)scanner_be32(data + 4) + 4;
		if (scanner_be32(data + 4) > G_MAXINT32)
			return scanner_invalid(error, "negative name length");
	} else {
		/* unversioned: name length, name, type byte, seqid */
		header = 4 + (guint64)first + 1 + 4;
	}
	scan = scanner_need(scanner, len, 0, header, error);
	if (scan != OSQ_THRIFT_SCAN_COMPLETE)
		return scan;
	scanner->pos = (gsize)header;
	scanner->started = TRUE;
	scanner->depth = 1;
	scanner->stack[0] = (OsqClientScanFrame){ .kind = OSQ_THRIFT_STRUCT };
	return OSQ_THRIFT_SCAN_COMPLETE;
}

/* Consumes one value of @type at @pos (its field header, if any, already counted in @pos):
 * sets *@end past it, or pushes the frame of a container. Nothing changes unless COMPLETE. */
static OsqThriftScan
scanner_value(OsqClientScanner *scanner, const guint8 *data, gsize len, guint8 type, gsize pos,
              gsize *end, GError **error)
{
	OsqClientScanFrame frame = { .kind = type };
	OsqThriftScan scan;
	gsize fixed = 0;
	guint32 count;

	switch (type) {
	case OSQ_THRIFT_BOOL:
	case OSQ_THRIFT_BYTE:
		fixed = 1;
		break;
	case OSQ_THRIFT_I16:
		fixed = 2;
		break;
	case OSQ_THRIFT_I32:
		fixed = 4;
		break;
	case OSQ_THRIFT_I64:
	case OSQ_THRIFT_DOUBLE:
		fixed = 8;
		break;
	case OSQ_THRIFT_STRING:
		scan = scanner_need(scanner, len, pos, 4, error);
		if (scan != OSQ_THRIFT_SCAN_COMPLETE)
			return scan;
		count = scanner_be32(data + pos);
		if (count > G_MAXINT32)
			return scanner_invalid(error, "negative string length");
		fixed = 4 + (gsize)count;
		break;
	case OSQ_THRIFT_STRUCT:
		break;
	case OSQ_THRIFT_LIST:
	case OSQ_THRIFT_SET:
	case OSQ_THRIFT_MAP:
		fixed = type == OSQ_THRIFT_MAP ? 6 : 5;
		scan = scanner_need(scanner, len, pos, fixed, error);
		if (scan != OSQ_THRIFT_SCAN_COMPLETE)
			return scan;
		frame.kind = type == OSQ_THRIFT_MAP ? OSQ_THRIFT_MAP : OSQ_THRIFT_LIST;
		frame.key_type = data[pos];
		frame.value_type = type == OSQ_THRIFT_MAP ? data[pos + 1] : data[pos];
		count = scanner_be32(data + pos + fixed - 4);
		if (count > G_MAXINT32)
			return scanner_invalid(error, "negative container size");
		frame.remaining = type == OSQ_THRIFT_MAP ? 2 * (guint64)count : count;
		if (count > 0 && (!scanner_type_is_valid(frame.key_type) ||
		                  !scanner_type_is_valid(frame.value_type)))
			return scanner_invalid(error, "unknown element type");
		/* a count that cannot fit is refused now, not after max bytes arrived */
		scan = scanner_need(
		        scanner, len, pos,
		        fixed + (guint64)count *
		                        (scanner_min_size(frame.value_type) +
		                         (type == OSQ_THRIFT_MAP ? scanner_min_size(frame.key_type)
		                                                 : 0)),
		        error);
		if (scan == OSQ_THRIFT_SCAN_INVALID)
			return scan;
		break;
	default:
		return scanner_invalid(error, "unknown type");
	}
	scan = scanner_need(scanner, len, pos, fixed, error);
	if (scan != OSQ_THRIFT_SCAN_COMPLETE)
		return scan;
	if (type == OSQ_THRIFT_STRUCT || type == OSQ_THRIFT_LIST || type == OSQ_THRIFT_SET ||
	    type == OSQ_THRIFT_MAP) {
		if (scanner->depth > OSQ_THRIFT_MAX_DEPTH)
			return scanner_invalid(error, "nested too deeply");
		scanner->stack[scanner->depth++] = frame;
	}
	*end = pos + fixed;
	return OSQ_THRIFT_SCAN_COMPLETE;
}

OsqThriftScan
osq_client_scanner_run(OsqClientScanner *scanner, const guint8 *data, gsize len, gsize *length,
                       GError **error)
{
	if (!scanner->started) {
		OsqThriftScan scan = scanner_header(scanner, data, len, error);
		if (scan != OSQ_THRIFT_SCAN_COMPLETE)
			return scan;
	}
	while (scanner->depth > 0) {
		OsqClientScanFrame *frame = &scanner->stack[scanner->depth - 1];
		OsqThriftScan scan;
		gsize pos = scanner->pos, end = 0;
		guint8 type;

		if (frame->kind == OSQ_THRIFT_STRUCT) {
			scan = scanner_need(scanner, len, pos, 1, error);
			if (scan != OSQ_THRIFT_SCAN_COMPLETE)
				return scan;
			type = data[pos];
			if (type == OSQ_THRIFT_STOP) {
				scanner->pos = pos + 1;
				scanner->depth--;
				continue;
			}
			if (!scanner_type_is_valid(type))
				return scanner_invalid(error, "unknown field type");
			scan = scanner_need(scanner, len, pos, 3, error);
			if (scan != OSQ_THRIFT_SCAN_COMPLETE)
				return scan;
			pos += 3;
		} else if (frame->remaining == 0) {
			scanner->depth--;
			continue;
		} else if (frame->kind == OSQ_THRIFT_MAP) {
			type = frame->remaining % 2 == 0 ? frame->key_type : frame->value_type;
		} else {
			type = frame->value_type;
		}
		/* the value may push a frame: count this element as consumed before that */
		scan = scanner_value(scanner, data, len, type, pos, &end, error);
		if (scan != OSQ_THRIFT_SCAN_COMPLETE)
			return scan;
		if (frame->kind != OSQ_THRIFT_STRUCT)
			frame->remaining--;
		scanner->pos = end;
	}
	*length = scanner->pos;
	return OSQ_THRIFT_SCAN_COMPLETE;
}

/* ---- the connection ---- */

static gint64
client_deadline(OsqClient *client)
{
	if (client->timeout_ms <= 0)
		return -1;
	return g_get_monotonic_time() + (gint64)client->timeout_ms * 1000;
}

static void
client_disconnect(OsqClient *client)
{
	gint fd = g_atomic_int_get(&client->fd);

	if (fd < 0)
		return;
	g_atomic_int_set(&client->fd, -1);
	(void)close(fd);
	g_byte_array_set_size(client->in, 0);
}

static gboolean
client_check_cancelled(OsqClient *client, GError **error)
{
	if (!g_atomic_int_get(&client->cancelled))
		return TRUE;
	g_set_error_literal(error, OSQ_CLIENT_ERROR, OSQ_CLIENT_ERROR_CANCELLED, "cancelled");
	return FALSE;
}

/* Waits for @events on the connection until @deadline (-1: none). */
static gboolean
client_wait(OsqClient *client, gint fd, gshort events, gint64 deadline, GError **error)
{
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = events };
		gint timeout = -1;
		gint rc;

		if (!client_check_cancelled(client, error))
			return FALSE;
		if (deadline >= 0) {
			gint64 left = deadline - g_get_monotonic_time();
			if (left <= 0) {
				g_set_error(error, OSQ_CLIENT_ERROR, OSQ_CLIENT_ERROR_TIMED_OUT,
				            "no answer from %s within %d ms", client->socket_path,
				            client->timeout_ms);
				return FALSE;
			}
			timeout = (gint)MIN((left + 999) / 1000, G_MAXINT);
		}
		rc = poll(&pfd, 1, timeout);
		if (rc > 0)
			return TRUE;
		if (rc < 0 && errno != EINTR) {
			g_set_error(error, OSQ_CLIENT_ERROR, OSQ_CLIENT_ERROR_IO, "poll: %s",
			            g_strerror(errno));
			return FALSE;
		}
	}
}

static gboolean
client_connect_error(OsqClient *client, gint errsv, GError **error)
{
	gint code = OSQ_CLIENT_ERROR_IO;
	const gchar *hint = "";

	if (errsv == ENOENT) {
		code = OSQ_CLIENT_ERROR_NOT_FOUND;
		hint = " (is osqd running?)";
	} else if (errsv == ECONNREFUSED) {
		hint = " (nothing listens there: is osqd running?)";
	} else if (errsv == EACCES || errsv == EPERM) {
		code = OSQ_CLIENT_ERROR_PERMISSION_DENIED;
	}
	g_set_error(error, OSQ_CLIENT_ERROR, code, "cannot connect to %s: %s%s",
	            client->socket_path, g_strerror(errsv), hint);
	return FALSE;
}

static gboolean
client_connect(OsqClient *client, gint64 deadline, GError **error)
{
	struct sockaddr_un address = { .sun_family = AF_UNIX };
	gsize path_len = strlen(client->socket_path);
	gint delay_ms = 1;
	gint fd;

	if (path_len == 0 || path_len >= sizeof(address.sun_path)) {
		g_set_error(error, OSQ_CLIENT_ERROR, OSQ_CLIENT_ERROR_INVALID_ARGUMENT,
		            "socket path must have 1 to %u bytes: %s",
		            (guint)sizeof(address.sun_path) - 1, client->socket_path);
		return FALSE;
	}
	memcpy(address.sun_path, client->socket_path, path_len);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		g_set_error(error, OSQ_CLIENT_ERROR, OSQ_CLIENT_ERROR_IO, "socket: %s",
		            g_strerror(errno));
		return FALSE;
	}
	for (;;) {
		gint errsv;
		if (connect(fd, (struct sockaddr *)&address, sizeof(address)) == 0)
			break;
		errsv = errno;
		if (errsv == EINTR)
			continue;
		if (errsv == EINPROGRESS) {
			socklen_t size = sizeof(errsv);
			if (!client_wait(client, fd, POLLOUT, deadline, error)) {
				(void)close(fd);
				return FALSE;
			}
			if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &errsv, &size) == 0 && errsv == 0)
				break;
		} else if (errsv == EAGAIN) {
			/* the daemon's backlog is full: retry until the deadline */
			if (!client_check_cancelled(client, error) ||
			    (deadline >= 0 && g_get_monotonic_time() >= deadline)) {
				if (error != NULL && *error == NULL)
					g_set_error(error, OSQ_CLIENT_ERROR,
					            OSQ_CLIENT_ERROR_TIMED_OUT,
					            "cannot connect to %s within %d ms: the daemon "
					            "is too busy",
					            client->socket_path, client->timeout_ms);
				(void)close(fd);
				return FALSE;
			}
			g_usleep((gulong)delay_ms * 1000);
			delay_ms = MIN(delay_ms * 2, 50);
			continue;
		}
		(void)close(fd);
		return client_connect_error(client, errsv, error);
	}
	g_atomic_int_set(&client->fd, fd);
	return TRUE;
}

/* A connection that became readable while idle was closed by the daemon (or holds bytes
 * nobody asked for): either way it cannot carry the next call. */
static void
client_drop_if_stale(OsqClient *client)
{
	struct pollfd pfd = { .fd = client->fd, .events = POLLIN | POLLRDHUP };

	if (client->fd >= 0 && poll(&pfd, 1, 0) != 0)
		client_disconnect(client);
}

static gboolean
client_send(OsqClient *client, gint64 deadline, GError **error)
{
	gsize sent = 0;

	while (sent < client->out->len) {
		ssize_t n = send(client->fd, client->out->data + sent, client->out->len - sent,
		                 MSG_NOSIGNAL);
		if (n > 0) {
			sent += (gsize)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (!client_wait(client, client->fd, POLLOUT, deadline, error))
				return FALSE;
			continue;
		}
		g_set_error(error, OSQ_CLIENT_ERROR, OSQ_CLIENT_ERROR_IO,
		            "cannot send to the daemon at %s: %s", client->socket_path,
		            g_strerror(errno));
		return FALSE;
	}
	return TRUE;
}

/* Reads one whole message into client->in; *@length is its size. */
static gboolean
client_receive(OsqClient *client, gint64 deadline, gsize *length, GError **error)
{
	OsqClientScanner scanner;

	osq_client_scanner_init(&scanner, client->max_reply_size);
	for (;;) {
		guint old_len = client->in->len;
		gsize chunk = MAX(OSQ_CLIENT_RECV_CHUNK, old_len);
		ssize_t n;

		chunk = MIN(chunk,
		            client->max_reply_size + 1 - MIN(old_len, client->max_reply_size));
		if (chunk == 0) {
			g_set_error(error, OSQ_CLIENT_ERROR, OSQ_CLIENT_ERROR_LIMIT,
			            "the daemon's reply is larger than %" G_GSIZE_FORMAT " bytes",
			            client->max_reply_size);
			return FALSE;
		}
		g_byte_array_set_size(client->in, old_len + (guint)chunk);
		n = recv(client->fd, client->in->data + old_len, chunk, 0);
		g_byte_array_set_size(client->in, old_len + (n > 0 ? (guint)n : 0));
		if (n > 0) {
			OsqThriftScan scan = osq_client_scanner_run(&scanner, client->in->data,
			                                            client->in->len, length, error);
			if (scan == OSQ_THRIFT_SCAN_COMPLETE)
				return TRUE;
			if (scan == OSQ_THRIFT_SCAN_INVALID)
				return FALSE;
			continue;
		}
		if (n == 0) {
			g_set_error(error, OSQ_CLIENT_ERROR, OSQ_CLIENT_ERROR_IO,
			            "the daemon at %s closed the connection%s", client->socket_path,
			            old_len > 0 ? " in the middle of a reply"
			                        : " without replying");
			return FALSE;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			if (!client_wait(client, client->fd, POLLIN, deadline, error))
				return FALSE;
			continue;
		}
		g_set_error(error, OSQ_CLIENT_ERROR, OSQ_CLIENT_ERROR_IO,
		            "cannot read from the daemon at %s: %s", client->socket_path,
		            g_strerror(errno));
		return FALSE;
	}
}

/* Connects if needed, numbers the call (*@seqid) and empties the buffers: the caller then
 * writes its request into client->out and calls client_request_exchange(). */
static gboolean
client_request_prepare(OsqClient *client, gint64 deadline, gint32 *seqid, GError **error)
{
	client_drop_if_stale(client);
	if (client->fd < 0 && !client_connect(client, deadline, error))
		return FALSE;
	client->seqid = client->seqid == G_MAXINT32 ? 1 : client->seqid + 1;
	*seqid = client->seqid;
	g_byte_array_set_size(client->out, 0);
	g_byte_array_set_size(client->in, 0);
	return TRUE;
}

/* Sends client->out and reads the reply to @method into client->in (*@length bytes). On
 * failure the connection is closed. */
static gboolean
client_request_exchange(OsqClient *client, const gchar *method, gint64 deadline, gsize *length,
                        GError **error)
{
	g_autoptr(GError) error_local = NULL;

	if (!client_send(client, deadline, &error_local) ||
	    !client_receive(client, deadline, length, &error_local)) {
		client_disconnect(client);
		/* a cancel shuts the socket down: what failed then is the cancel's doing */
		if (g_atomic_int_get(&client->cancelled)) {
			g_set_error(error, OSQ_CLIENT_ERROR, OSQ_CLIENT_ERROR_CANCELLED,
			            "the '%s' call was cancelled", method);
			return FALSE;
		}
		g_propagate_error(error, g_steal_pointer(&error_local));
		return FALSE;
	}
	if (*length != client->in->len) {
		/* bytes after the reply: the stream is out of step */
		g_set_error(error, OSQ_CLIENT_ERROR, OSQ_CLIENT_ERROR_PROTOCOL,
		            "the daemon sent %u bytes more than its '%s' reply",
		            client->in->len - (guint)*length, method);
		client_disconnect(client);
		return FALSE;
	}
	return TRUE;
}

/* Sends one call and reads its reply into client->in; *@seqid is the call's sequence id.
 * On failure the connection is closed. */
static gboolean
client_call_full(OsqClient *client, const gchar *method, const gchar *sql, gint32 page_rows,
                 gint64 deadline, gint32 *seqid, gsize *length, GError **error)
{
	if (!client_request_prepare(client, deadline, seqid, error))
		return FALSE;
	if (page_rows >= 0)
		osq_client_write_query_start(client->out, *seqid, sql, page_rows);
	else
		osq_client_write_call(client->out, method, *seqid, sql);
	return client_request_exchange(client, method, deadline, length, error);
}

static gboolean
client_call(OsqClient *client, const gchar *method, const gchar *sql, gint64 deadline,
            gint32 *seqid, gsize *length, GError **error)
{
	return client_call_full(client, method, sql, -1, deadline, seqid, length, error);
}

/* After a reply failed to parse: a protocol error leaves the stream in doubt (e.g. a reply to
 * an earlier call), so the connection goes; a daemon's status or exception does not. */
static void
client_after_parse_error(OsqClient *client, GError *error)
{
	if (g_error_matches(error, OSQ_CLIENT_ERROR, OSQ_CLIENT_ERROR_PROTOCOL) ||
	    g_error_matches(error, OSQ_CLIENT_ERROR, OSQ_CLIENT_ERROR_LIMIT))
		client_disconnect(client);
}

/* ---- public API ---- */

OsqClient *
osq_client_new(const char *socket_path, int timeout_ms, OsqClientError **error)
{
	g_autoptr(GError) error_local = NULL;
	OsqClient *client;

	if (socket_path == NULL) {
		g_set_error_literal(&error_local, OSQ_CLIENT_ERROR,
		                    OSQ_CLIENT_ERROR_INVALID_ARGUMENT, "no socket path given");
		(void)client_error_export(error_local, error);
		return NULL;
	}
	client = g_new0(OsqClient, 1);
	g_mutex_init(&client->lock);
	client->socket_path = g_strdup(socket_path);
	client->timeout_ms = MAX(timeout_ms, 0);
	client->max_reply_size = OSQ_CLIENT_DEFAULT_MAX_REPLY_SIZE;
	client->fd = -1;
	client->out = g_byte_array_new();
	client->in = g_byte_array_new();
	if (!client_connect(client, client_deadline(client), &error_local)) {
		(void)client_error_export(error_local, error);
		osq_client_free(client);
		return NULL;
	}
	return client;
}

void
osq_client_free(OsqClient *client)
{
	if (client == NULL)
		return;
	client_disconnect(client);
	g_byte_array_unref(client->out);
	g_byte_array_unref(client->in);
	g_free(client->socket_path);
	g_mutex_clear(&client->lock);
	g_free(client);
}

void
osq_client_set_timeout(OsqClient *client, int timeout_ms)
{
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&client->lock);

	client->timeout_ms = MAX(timeout_ms, 0);
}

int
osq_client_get_timeout(OsqClient *client)
{
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&client->lock);

	return client->timeout_ms;
}

void
osq_client_set_max_reply_size(OsqClient *client, size_t size)
{
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&client->lock);

	client->max_reply_size = CLAMP(size, 64, G_MAXINT32);
}

const char *
osq_client_get_socket_path(OsqClient *client)
{
	return client->socket_path;
}

bool
osq_client_is_connected(OsqClient *client)
{
	return g_atomic_int_get(&client->fd) >= 0;
}

bool
osq_client_is_typed(OsqClient *client)
{
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&client->lock);

	return !client->typed_unsupported;
}

void
osq_client_cancel(OsqClient *client)
{
	gint fd;

	if (client == NULL)
		return;
	g_atomic_int_set(&client->cancelled, 1);
	fd = g_atomic_int_get(&client->fd);
	if (fd >= 0)
		(void)shutdown(fd, SHUT_RDWR);
}

/* Starts a public call: the lock is held by the caller. */
static void
client_call_begin(OsqClient *client)
{
	g_atomic_int_set(&client->cancelled, 0);
}

int
osq_client_ping(OsqClient *client, OsqClientError **error)
{
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&client->lock);
	g_autoptr(GError) error_local = NULL;
	gint32 seqid;
	gsize length;

	client_call_begin(client);
	if (!client_call(client, "ping", NULL, client_deadline(client), &seqid, &length,
	                 &error_local))
		return client_error_export(error_local, error);
	if (!osq_client_parse_ping_reply(client->in->data, length, seqid, &error_local))
		client_after_parse_error(client, error_local);
	return client_error_export(error_local, error);
}

static OsqResult *
client_get_columns(OsqClient *client, const gchar *sql, gint64 deadline, GError **error)
{
	gint32 seqid;
	gsize length;
	OsqResult *columns;

	if (!client_call(client, "getQueryColumns", sql, deadline, &seqid, &length, error))
		return NULL;
	columns = osq_client_parse_columns_reply(client->in->data, length, seqid, error);
	if (columns == NULL)
		client_after_parse_error(client, *error);
	return columns;
}

/* osquery's way: the columns (order and types), then the rows as maps. */
static OsqResult *
client_query_untyped(OsqClient *client, const gchar *sql, gint64 deadline, GError **error)
{
	OsqResult *columns = client_get_columns(client, sql, deadline, error);
	OsqResult *result;
	gint32 seqid;
	gsize length;

	if (columns == NULL)
		return NULL;
	if (!client_call(client, "query", sql, deadline, &seqid, &length, error)) {
		osq_result_free(columns);
		return NULL;
	}
	result = osq_client_parse_query_reply(client->in->data, length, seqid, columns, error);
	if (result == NULL)
		client_after_parse_error(client, *error);
	return result;
}

/* osq's paged way: queryStart, then queryNext until the last page; the daemon computes each
 * page while the previous one is parsed here. */
static OsqResult *
client_query_paged(OsqClient *client, const gchar *sql, gint64 deadline, GError **error)
{
	g_autoptr(OsqClientPages) pages = osq_client_pages_new();
	const gchar *method = "queryStart";
	gboolean done = FALSE;
	gint32 seqid;
	gsize length;

	if (!client_call_full(client, method, sql, OSQ_CLIENT_PAGE_ROWS, deadline, &seqid, &length,
	                      error))
		return NULL;
	for (;;) {
		if (!osq_client_pages_add_reply(pages, client->in->data, length, seqid, method,
		                                &done, error)) {
			client_after_parse_error(client, *error);
			return NULL;
		}
		if (done)
			break;
		method = "queryNext";
		if (!client_call(client, method, NULL, deadline, &seqid, &length, error))
			return NULL;
	}
	return osq_client_pages_finish(pages, error);
}

static OsqResult *
client_query(OsqClient *client, const gchar *sql, GError **error)
{
	g_autoptr(GError) error_local = NULL;
	gint64 deadline = client_deadline(client);
	OsqResult *result;
	gint32 seqid;
	gsize length;

	if (!client->paging_unsupported && !client->typed_unsupported) {
		result = client_query_paged(client, sql, deadline, &error_local);
		if (result != NULL)
			return result;
		if (!g_error_matches(error_local, OSQ_CLIENT_ERROR,
		                     OSQ_CLIENT_ERROR_UNKNOWN_METHOD)) {
			g_propagate_error(error, g_steal_pointer(&error_local));
			return NULL;
		}
		/* an older osqd, or osquery: remembered for this connection's client */
		client->paging_unsupported = TRUE;
		g_clear_error(&error_local);
	}
	if (client->typed_unsupported)
		return client_query_untyped(client, sql, deadline, error);
	if (!client_call(client, "queryTyped", sql, deadline, &seqid, &length, error))
		return NULL;
	result = osq_client_parse_query_typed_reply(client->in->data, length, seqid, &error_local);
	if (result != NULL)
		return result;
	if (g_error_matches(error_local, OSQ_CLIENT_ERROR, OSQ_CLIENT_ERROR_UNKNOWN_METHOD)) {
		/* osquery does not know queryTyped */
		client->typed_unsupported = TRUE;
		return client_query_untyped(client, sql, deadline, error);
	}
	client_after_parse_error(client, error_local);
	g_propagate_error(error, g_steal_pointer(&error_local));
	return NULL;
}

int
osq_client_query(OsqClient *client, const char *sql, OsqResult **result, OsqClientError **error)
{
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&client->lock);
	g_autoptr(GError) error_local = NULL;

	*result = NULL;
	if (sql == NULL) {
		g_set_error_literal(&error_local, OSQ_CLIENT_ERROR,
		                    OSQ_CLIENT_ERROR_INVALID_ARGUMENT, "no SQL given");
		return client_error_export(error_local, error);
	}
	client_call_begin(client);
	*result = client_query(client, sql, &error_local);
	return client_error_export(error_local, error);
}

int
osq_client_get_columns(OsqClient *client, const char *sql, OsqResult **columns,
                       OsqClientError **error)
{
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&client->lock);
	g_autoptr(GError) error_local = NULL;

	*columns = NULL;
	if (sql == NULL) {
		g_set_error_literal(&error_local, OSQ_CLIENT_ERROR,
		                    OSQ_CLIENT_ERROR_INVALID_ARGUMENT, "no SQL given");
		return client_error_export(error_local, error);
	}
	client_call_begin(client);
	*columns = client_get_columns(client, sql, client_deadline(client), &error_local);
	return client_error_export(error_local, error);
}

int
osq_client_extensions(OsqClient *client, OsqExtensionList **extensions, OsqClientError **error)
{
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&client->lock);
	g_autoptr(GError) error_local = NULL;
	gint32 seqid;
	gsize length;

	*extensions = NULL;
	client_call_begin(client);
	if (!client_call(client, "extensions", NULL, client_deadline(client), &seqid, &length,
	                 &error_local))
		return client_error_export(error_local, error);
	*extensions =
	        osq_client_parse_extensions_reply(client->in->data, length, seqid, &error_local);
	if (*extensions == NULL)
		client_after_parse_error(client, error_local);
	return client_error_export(error_local, error);
}

/* ---- live follows ---- */

/* The daemon's longest wait in a followPoll. */
#define OSQ_CLIENT_FOLLOW_MAX_WAIT_MS 60000
/* What a followPoll may take beyond its wait: running the query over the new events, and the
 * trip. */
#define OSQ_CLIENT_FOLLOW_MARGIN_MS 5000

struct OsqFollow {
	OsqClient *client; /* not owned */
	gchar *sql;
	gint64 cursor;
	OsqResult *columns; /* followStart's answer: the names and types, no rows */
};

/* A followPoll's deadline: the client's timeout, or @wait_ms and a margin if longer (none when
 * the client has no timeout). */
static gint64
client_follow_deadline(OsqClient *client, gint wait_ms)
{
	gint64 allowed_ms;

	if (client->timeout_ms <= 0)
		return -1;
	allowed_ms = MAX((gint64)client->timeout_ms, (gint64)wait_ms + OSQ_CLIENT_FOLLOW_MARGIN_MS);
	return g_get_monotonic_time() + allowed_ms * 1000;
}

/* One followStart (@poll FALSE) or followPoll call: the reply's rows. The cursor moves only
 * when the reply parsed and carries one. */
static OsqResult *
client_follow_call(OsqFollow *follow, gboolean poll, gboolean from_start, gint32 max_rows,
                   gint32 wait_ms, gint64 deadline, GError **error)
{
	OsqClient *client = follow->client;
	const gchar *method = poll ? "followPoll" : "followStart";
	OsqResult *result;
	gint32 seqid;
	gsize length;

	if (!client_request_prepare(client, deadline, &seqid, error))
		return NULL;
	if (poll)
		osq_client_write_follow_poll(client->out, seqid, follow->sql, follow->cursor,
		                             max_rows, wait_ms);
	else
		osq_client_write_follow_start(client->out, seqid, follow->sql, from_start);
	if (!client_request_exchange(client, method, deadline, &length, error))
		return NULL;
	result = osq_client_parse_follow_reply(client->in->data, length, seqid, method,
	                                       follow->columns, &follow->cursor, error);
	if (result == NULL)
		client_after_parse_error(client, *error);
	return result;
}

int
osq_client_follow(OsqClient *client, const char *sql, bool from_start, OsqFollow **follow,
                  OsqClientError **error)
{
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&client->lock);
	g_autoptr(GError) error_local = NULL;
	g_autoptr(OsqFollow) started = NULL;

	*follow = NULL;
	if (sql == NULL) {
		g_set_error_literal(&error_local, OSQ_CLIENT_ERROR,
		                    OSQ_CLIENT_ERROR_INVALID_ARGUMENT, "no SQL given");
		return client_error_export(error_local, error);
	}
	client_call_begin(client);
	started = g_new0(OsqFollow, 1);
	started->client = client;
	started->sql = g_strdup(sql);
	started->columns = client_follow_call(started, FALSE, from_start, 0, 0,
	                                      client_deadline(client), &error_local);
	if (started->columns == NULL)
		return client_error_export(error_local, error);
	*follow = g_steal_pointer(&started);
	return OSQ_CLIENT_OK;
}

int
osq_follow_next(OsqFollow *follow, int timeout_ms, size_t max_rows, OsqResult **rows,
                OsqClientError **error)
{
	OsqClient *client = follow->client;
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&client->lock);
	g_autoptr(GError) error_local = NULL;
	gint32 wait_ms = CLAMP(timeout_ms, 0, OSQ_CLIENT_FOLLOW_MAX_WAIT_MS);

	client_call_begin(client);
	*rows = client_follow_call(follow, TRUE, FALSE, (gint32)MIN(max_rows, (gsize)G_MAXINT32),
	                           wait_ms, client_follow_deadline(client, wait_ms), &error_local);
	return client_error_export(error_local, error);
}

int64_t
osq_follow_get_cursor(const OsqFollow *follow)
{
	return follow->cursor;
}

void
osq_follow_free(OsqFollow *follow)
{
	if (follow == NULL)
		return;
	osq_result_free(follow->columns);
	g_free(follow->sql);
	g_free(follow);
}

/* ---- OsqResult ---- */

void
osq_result_free(OsqResult *result)
{
	if (result == NULL)
		return;
	g_strfreev(result->names);
	g_strfreev(result->type_names);
	g_free(result->types);
	g_free(result->arena);
	g_free(result->offsets);
	g_free(result->nulls);
	g_free(result);
}

size_t
osq_result_get_n_rows(const OsqResult *result)
{
	return result->n_rows;
}

size_t
osq_result_get_n_columns(const OsqResult *result)
{
	return result->n_columns;
}

const char *
osq_result_get_column_name(const OsqResult *result, size_t column)
{
	return column < result->n_columns ? result->names[column] : NULL;
}

const char *
osq_result_get_column_type_name(const OsqResult *result, size_t column)
{
	return column < result->n_columns ? result->type_names[column] : NULL;
}

OsqColumnType
osq_result_get_column_type(const OsqResult *result, size_t column)
{
	return column < result->n_columns ? result->types[column] : OSQ_COLUMN_TYPE_UNKNOWN;
}

static gboolean
result_cell(const OsqResult *result, size_t row, size_t column, gsize *cell)
{
	if (row >= result->n_rows || column >= result->n_columns)
		return FALSE;
	*cell = row * result->n_columns + column;
	return TRUE;
}

static gboolean
result_cell_is_null(const OsqResult *result, gsize cell)
{
	return result->nulls != NULL && (result->nulls[cell / 8] & (1u << (cell % 8))) != 0;
}

bool
osq_result_is_null(const OsqResult *result, size_t row, size_t column)
{
	gsize cell;

	return !result_cell(result, row, column, &cell) || result_cell_is_null(result, cell);
}

const char *
osq_result_get_text(const OsqResult *result, size_t row, size_t column)
{
	gsize cell;

	if (!result_cell(result, row, column, &cell) || result_cell_is_null(result, cell))
		return NULL;
	return result->arena + result->offsets[cell];
}

size_t
osq_result_get_text_length(const OsqResult *result, size_t row, size_t column)
{
	gsize cell;

	if (!result_cell(result, row, column, &cell) || result_cell_is_null(result, cell))
		return 0;
	return result->offsets[cell + 1] - result->offsets[cell] - 1;
}

/* The text of a non-NULL cell of a column whose type passes @accept. */
static gint
result_typed_text(const OsqResult *result, size_t row, size_t column, gboolean want_double,
                  const gchar **text)
{
	OsqColumnType type;
	gsize cell;

	if (!result_cell(result, row, column, &cell))
		return OSQ_CLIENT_ERROR_INVALID_ARGUMENT;
	type = result->types[column];
	if (!client_type_is_integer(type) && !(want_double && type == OSQ_COLUMN_TYPE_DOUBLE))
		return OSQ_CLIENT_ERROR_TYPE;
	if (result_cell_is_null(result, cell))
		return OSQ_CLIENT_ERROR_TYPE;
	*text = result->arena + result->offsets[cell];
	return OSQ_CLIENT_OK;
}

static gsize
result_text_length(const OsqResult *result, size_t row, size_t column)
{
	gsize cell = row * result->n_columns + column;

	return result->offsets[cell + 1] - result->offsets[cell] - 1;
}

/* Decimal digits with an optional '-', in range; faster than strtoll for the bulk reads a
 * caller does over a whole result. */
static gboolean
result_parse_int64(const gchar *text, gsize len, gint64 *value)
{
	const gchar *p = text, *end = text + len;
	gboolean negative = len > 0 && text[0] == '-';
	guint64 limit = negative ? (guint64)G_MAXINT64 + 1 : (guint64)G_MAXINT64;
	guint64 magnitude = 0;

	if (negative)
		p++;
	if (p == end)
		return FALSE;
	if (end - p <= 18) {
		/* up to 18 digits cannot overflow: no range check per digit */
		for (; p < end; p++) {
			guint digit = (guint)((guchar)*p - '0');
			if (digit > 9)
				return FALSE;
			magnitude = magnitude * 10 + digit;
		}
	}
	for (; p < end; p++) {
		guint digit = (guint)((guchar)*p - '0');
		if (digit > 9 || magnitude > (limit - digit) / 10)
			return FALSE;
		magnitude = magnitude * 10 + digit;
	}
	*value = negative ? (gint64)(~magnitude + 1) : (gint64)magnitude;
	return TRUE;
}

int
osq_result_get_int64(const OsqResult *result, size_t row, size_t column, int64_t *value)
{
	const gchar *text = NULL;
	gint64 parsed;
	gint code = result_typed_text(result, row, column, FALSE, &text);

	*value = 0;
	if (code != OSQ_CLIENT_OK)
		return code;
	if (!result_parse_int64(text, result_text_length(result, row, column), &parsed))
		return OSQ_CLIENT_ERROR_TYPE;
	*value = parsed;
	return OSQ_CLIENT_OK;
}

int
osq_result_get_double(const OsqResult *result, size_t row, size_t column, double *value)
{
	const gchar *text = NULL;
	gchar *end = NULL;
	gdouble parsed;
	gint code = result_typed_text(result, row, column, TRUE, &text);

	*value = 0;
	if (code != OSQ_CLIENT_OK)
		return code;
	parsed = g_ascii_strtod(text, &end);
	if (end == text || *end != '\0')
		return OSQ_CLIENT_ERROR_TYPE;
	*value = parsed;
	return OSQ_CLIENT_OK;
}

/* ---- OsqExtensionList ---- */

void
osq_extension_list_free(OsqExtensionList *extensions)
{
	if (extensions == NULL)
		return;
	if (extensions->items != NULL)
		g_array_unref(extensions->items);
	g_free(extensions);
}

size_t
osq_extension_list_get_length(const OsqExtensionList *extensions)
{
	return extensions->items->len;
}

const OsqExtensionInfo *
osq_extension_list_get(const OsqExtensionList *extensions, size_t index)
{
	if (index >= extensions->items->len)
		return NULL;
	return &g_array_index(extensions->items, OsqExtensionInfo, index);
}
