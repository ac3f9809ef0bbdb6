/* SPDX-License-Identifier: Apache-2.0
 *
 * Chunks and the encoder thread (see the header). A chunk holds whole rows, each cell a tag
 * byte and its value in host order: 'i' int64, 'f' double, 't' a 32-bit length and the bytes
 * (text and blobs; UTF-8 is checked when encoding), 'n' NULL. The worker may have at most
 * OSQD_RPC_ENCODER_CHUNKS chunks out at once, so a slow encoder holds the worker back instead
 * of letting memory grow. The encoder renders chunks in the order they were pushed, into the
 * reply buffer given to begin(); the worker does not touch that buffer until finish() returned.
 * When the reply grows past its byte cap the encoder stops rendering and says so.
 */
#include "config.h"

#include "osqd-rpc-encoder.h"

#define OSQD_RPC_CHUNK_ROWS     256
#define OSQD_RPC_CHUNK_BYTES    (256 * 1024)
#define OSQD_RPC_ENCODER_CHUNKS 4

struct _OsqdRpcChunk {
	guint8 *data;
	gsize len;
	gsize capacity;
	guint rows;
};

OsqdRpcChunk *
osqd_rpc_chunk_new(void)
{
	return g_new0(OsqdRpcChunk, 1);
}

void
osqd_rpc_chunk_free(OsqdRpcChunk *chunk)
{
	if (chunk == NULL)
		return;
	g_free(chunk->data);
	g_free(chunk);
}

void
osqd_rpc_chunk_reset(OsqdRpcChunk *chunk)
{
	chunk->len = 0;
	chunk->rows = 0;
}

static guint8 *
chunk_reserve(OsqdRpcChunk *chunk, gsize size)
{
	if (G_UNLIKELY(chunk->capacity - chunk->len < size)) {
		chunk->capacity = MAX(chunk->len + size, MAX(chunk->capacity * 2, (gsize)4096));
		chunk->data = g_realloc(chunk->data, chunk->capacity);
	}
	return chunk->data + chunk->len;
}

static void
chunk_put_number(OsqdRpcChunk *chunk, guint8 tag, const void *value)
{
	guint8 *p = chunk_reserve(chunk, 9);

	p[0] = tag;
	memcpy(p + 1, value, 8);
	chunk->len += 9;
}

static void
chunk_put_bytes(OsqdRpcChunk *chunk, const void *data, gsize len)
{
	guint32 len32 = (guint32)MIN(len, (gsize)G_MAXUINT32);
	guint8 *p = chunk_reserve(chunk, 5 + len32);

	p[0] = 't';
	memcpy(p + 1, &len32, 4);
	if (len32 > 0)
		memcpy(p + 5, data, len32);
	chunk->len += 5 + len32;
}

/* Copies column @column of @stmt's current row; returns its SQLite type. The value is read
 * through sqlite3_column_value(), one lookup instead of two per cell; SQLite calls that use of
 * the unprotected value not thread-safe, and it does not need to be: a statement is stepped
 * and read by one thread only (the engine's connections are opened NOMUTEX). */
gint
osqd_rpc_chunk_add_cell(OsqdRpcChunk *chunk, sqlite3_stmt *stmt, gint column)
{
	sqlite3_value *value = sqlite3_column_value(stmt, column);
	gint type = sqlite3_value_type(value);

	switch (type) {
	case SQLITE_INTEGER: {
		gint64 number = sqlite3_value_int64(value);
		chunk_put_number(chunk, 'i', &number);
		break;
	}
	case SQLITE_FLOAT: {
		gdouble number = sqlite3_value_double(value);
		chunk_put_number(chunk, 'f', &number);
		break;
	}
	case SQLITE_TEXT: {
		const guchar *text = sqlite3_value_text(value);
		chunk_put_bytes(chunk, text, (gsize)sqlite3_value_bytes(value));
		break;
	}
	case SQLITE_BLOB: {
		const void *blob = sqlite3_value_blob(value);
		chunk_put_bytes(chunk, blob, (gsize)sqlite3_value_bytes(value));
		break;
	}
	case SQLITE_NULL:
	default:
		*chunk_reserve(chunk, 1) = 'n';
		chunk->len++;
		break;
	}
	return type;
}

void
osqd_rpc_chunk_end_row(OsqdRpcChunk *chunk)
{
	chunk->rows++;
}

gboolean
osqd_rpc_chunk_is_full(const OsqdRpcChunk *chunk)
{
	return chunk->rows >= OSQD_RPC_CHUNK_ROWS || chunk->len >= OSQD_RPC_CHUNK_BYTES;
}

/* Each row as a list<string> of @n_columns cells. */
void
osqd_rpc_chunk_encode(const OsqdRpcChunk *chunk, OsqdRpcOut *out, gint n_columns)
{
	const guint8 *p = chunk->data;

	for (guint row = 0; row < chunk->rows; row++) {
		osqd_rpc_put_list_begin(out, OSQ_THRIFT_STRING, n_columns);
		for (gint column = 0; column < n_columns; column++) {
			guint8 tag = *p++;
			if (tag == 'i') {
				gint64 value;
				memcpy(&value, p, 8);
				osqd_rpc_put_int64(out, value);
				p += 8;
			} else if (tag == 'f') {
				gdouble value;
				memcpy(&value, p, 8);
				osqd_rpc_put_double(out, value);
				p += 8;
			} else if (tag == 't') {
				guint32 len;
				memcpy(&len, p, 4);
				osqd_rpc_put_utf8(out, (const gchar *)p + 4, len);
				p += 4 + len;
			} else {
				osqd_rpc_put_binary(out, NULL, 0);
			}
		}
	}
}

/* ---- the encoder thread ---- */

struct _OsqdRpcEncoder {
	GThread *thread;
	GMutex mutex;
	GCond cond;
	GQueue pending; /* pushed chunks, oldest first */
	GQueue idle;    /* encoded chunks, for take() */
	guint n_chunks; /* allocated */
	guint n_busy;   /* pushed and not yet encoded */
	gboolean quit;
	/* the page being encoded: set by begin(), read by the thread */
	OsqdRpcOut *out;
	gint n_columns;
	gsize max_len;
	gint over; /* atomic: out grew past max_len */
};

static gpointer
encoder_thread(gpointer data)
{
	OsqdRpcEncoder *encoder = data;

	g_mutex_lock(&encoder->mutex);
	for (;;) {
		OsqdRpcChunk *chunk;
		while (g_queue_is_empty(&encoder->pending) && !encoder->quit)
			g_cond_wait(&encoder->cond, &encoder->mutex);
		chunk = g_queue_pop_head(&encoder->pending);
		if (chunk == NULL)
			break;
		g_mutex_unlock(&encoder->mutex);
		if (!g_atomic_int_get(&encoder->over)) {
			osqd_rpc_chunk_encode(chunk, encoder->out, encoder->n_columns);
			if (encoder->out->buf->len > encoder->max_len)
				g_atomic_int_set(&encoder->over, 1);
		}
		g_mutex_lock(&encoder->mutex);
		g_queue_push_tail(&encoder->idle, chunk);
		encoder->n_busy--;
		g_cond_broadcast(&encoder->cond);
	}
	g_mutex_unlock(&encoder->mutex);
	return NULL;
}

static void
encoder_chunk_free_cb(gpointer chunk)
{
	osqd_rpc_chunk_free(chunk);
}

/* NULL when no thread can be started: the caller encodes in place. */
OsqdRpcEncoder *
osqd_rpc_encoder_new(void)
{
	OsqdRpcEncoder *encoder = g_new0(OsqdRpcEncoder, 1);

	g_mutex_init(&encoder->mutex);
	g_cond_init(&encoder->cond);
	g_queue_init(&encoder->pending);
	g_queue_init(&encoder->idle);
	encoder->thread = g_thread_try_new("osqd-encode", encoder_thread, encoder, NULL);
	if (encoder->thread == NULL) {
		osqd_rpc_encoder_free(encoder);
		return NULL;
	}
	return encoder;
}

void
osqd_rpc_encoder_free(OsqdRpcEncoder *encoder)
{
	if (encoder == NULL)
		return;
	if (encoder->thread != NULL) {
		g_mutex_lock(&encoder->mutex);
		encoder->quit = TRUE;
		g_queue_clear_full(&encoder->pending, encoder_chunk_free_cb);
		g_cond_broadcast(&encoder->cond);
		g_mutex_unlock(&encoder->mutex);
		g_thread_join(encoder->thread);
	}
	g_queue_clear_full(&encoder->idle, encoder_chunk_free_cb);
	g_mutex_clear(&encoder->mutex);
	g_cond_clear(&encoder->cond);
	g_free(encoder);
}

/* Starts a page: chunks pushed from now on are rendered into @out, which the caller leaves
 * alone until finish(); rendering stops once @out is longer than @max_len bytes. */
void
osqd_rpc_encoder_begin(OsqdRpcEncoder *encoder, OsqdRpcOut *out, gint n_columns, gsize max_len)
{
	g_mutex_lock(&encoder->mutex);
	encoder->out = out;
	encoder->n_columns = n_columns;
	encoder->max_len = max_len;
	g_atomic_int_set(&encoder->over, 0);
	g_mutex_unlock(&encoder->mutex);
}

/* An empty chunk; waits while OSQD_RPC_ENCODER_CHUNKS are out. */
OsqdRpcChunk *
osqd_rpc_encoder_take(OsqdRpcEncoder *encoder)
{
	OsqdRpcChunk *chunk;

	g_mutex_lock(&encoder->mutex);
	while (g_queue_is_empty(&encoder->idle) && encoder->n_chunks >= OSQD_RPC_ENCODER_CHUNKS)
		g_cond_wait(&encoder->cond, &encoder->mutex);
	chunk = g_queue_pop_head(&encoder->idle);
	if (chunk == NULL) {
		chunk = osqd_rpc_chunk_new();
		encoder->n_chunks++;
	}
	g_mutex_unlock(&encoder->mutex);
	osqd_rpc_chunk_reset(chunk);
	return chunk;
}

/* Hands @chunk (from take()) to the thread. */
void
osqd_rpc_encoder_push(OsqdRpcEncoder *encoder, OsqdRpcChunk *chunk)
{
	g_mutex_lock(&encoder->mutex);
	g_queue_push_tail(&encoder->pending, chunk);
	encoder->n_busy++;
	g_cond_broadcast(&encoder->cond);
	g_mutex_unlock(&encoder->mutex);
}

/* Whether the page outgrew its cap (the worker can stop stepping). */
gboolean
osqd_rpc_encoder_over(OsqdRpcEncoder *encoder)
{
	return g_atomic_int_get(&encoder->over) != 0;
}

/* Waits until every pushed chunk is rendered; FALSE when the page outgrew its cap. */
gboolean
osqd_rpc_encoder_finish(OsqdRpcEncoder *encoder)
{
	g_mutex_lock(&encoder->mutex);
	while (encoder->n_busy > 0)
		g_cond_wait(&encoder->cond, &encoder->mutex);
	encoder->out = NULL;
	g_mutex_unlock(&encoder->mutex);
	return !osqd_rpc_encoder_over(encoder);
}
