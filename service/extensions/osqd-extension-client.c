/* SPDX-License-Identifier: Apache-2.0
 *
 * The daemon's calls into extensions (see the header). The socket is non-blocking and every
 * wait is a poll() of at most 50 ms followed by the check function, so neither a silent
 * extension nor one that trickles bytes can hold a worker past its deadline. Replies are not
 * framed: the message scanner finds the end. Rescanning a growing buffer from its start after
 * every read would cost O(n^2) on a large reply, so the buffer is scanned when it has doubled
 * since the last scan, or when the extension pauses (2 ms without data): O(n) in all.
 */
#include "config.h"

#include "osqd-extension-client.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "osq-error.h"
#include "osq-thrift.h"

#define OSQD_EXTENSION_POLL_MS       50
#define OSQD_EXTENSION_PAUSE_MS      2
#define OSQD_EXTENSION_CHUNK         (64 * 1024)
#define OSQD_EXTENSION_BIND_PAUSE_US 10000

static gint
client_ms_left(gint64 deadline)
{
	gint64 left = deadline - g_get_monotonic_time();

	if (left <= 0)
		return 0;
	return (gint)MIN((left + 999) / 1000, (gint64)G_MAXINT);
}

static gboolean
client_check(const OsqdExtensionCallOptions *options, GError **error)
{
	if (options->check != NULL && !options->check(options->check_data, error))
		return FALSE;
	if (g_get_monotonic_time() >= options->deadline) {
		g_set_error_literal(error, OSQ_ERROR, OSQ_ERROR_TIMED_OUT,
		                    "the extension did not answer in time");
		return FALSE;
	}
	return TRUE;
}

/* Waits up to @slice_ms for @events on @fd: 1 ready, 0 not yet, -1 error. */
static gint
client_poll(int fd, short events, gint slice_ms, GError **error)
{
	struct pollfd entry = { .fd = fd, .events = events };
	gint rc = poll(&entry, 1, slice_ms);

	if (rc < 0 && errno == EINTR)
		return 0;
	if (rc < 0) {
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_IO, "poll: %s", g_strerror(errno));
		return -1;
	}
	return rc > 0 ? 1 : 0;
}

static int
client_connect(const gchar *path, const OsqdExtensionCallOptions *options, GError **error)
{
	struct sockaddr_un address = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(address.sun_path)) {
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_INVALID_ARGUMENT,
		            "extension socket path is too long: %s", path);
		return -1;
	}
	memcpy(address.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_IO, "socket: %s", g_strerror(errno));
		return -1;
	}
	for (;;) {
		if (connect(fd, (struct sockaddr *)&address, sizeof(address)) == 0)
			return fd;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN) {
			/* the extension's backlog is full: try again shortly */
			if (!client_check(options, error))
				break;
			g_usleep(1000);
			continue;
		}
		if ((errno == ENOENT || errno == ECONNREFUSED) &&
		    g_get_monotonic_time() < options->bind_deadline) {
			/* registered a moment ago: its socket is on its way */
			if (!client_check(options, error))
				break;
			g_usleep(OSQD_EXTENSION_BIND_PAUSE_US);
			continue;
		}
		g_set_error(error, OSQ_ERROR, errno == ENOENT ? OSQ_ERROR_NOT_FOUND : OSQ_ERROR_IO,
		            "cannot connect to the extension at %s: %s", path, g_strerror(errno));
		break;
	}
	(void)close(fd);
	return -1;
}

static gboolean
client_send(int fd, const guint8 *data, gsize len, const OsqdExtensionCallOptions *options,
            GError **error)
{
	gsize sent = 0;

	while (sent < len) {
		ssize_t n = send(fd, data + sent, len - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			sent += (gsize)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (!client_check(options, error) ||
			    client_poll(
			            fd, POLLOUT,
			            MIN(OSQD_EXTENSION_POLL_MS, client_ms_left(options->deadline)),
			            error) < 0)
				return FALSE;
			continue;
		}
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_IO, "cannot send to the extension: %s",
		            g_strerror(errno));
		return FALSE;
	}
	return TRUE;
}

/* Reads from @fd into @in until it holds one whole message; returns its length. */
static gboolean
client_receive(int fd, GByteArray *in, const OsqdExtensionCallOptions *options, gsize *length,
               GError **error)
{
	gsize scanned = 0;
	gboolean paused = FALSE;

	for (;;) {
		ssize_t n;
		guint old_len;

		if (in->len > scanned && (scanned == 0 || paused || in->len >= 2 * scanned)) {
			g_autoptr(GError) scan_error = NULL;
			OsqThriftScan scan = osq_thrift_message_scan(
			        in->data, in->len, options->max_reply, length, &scan_error);
			if (scan == OSQ_THRIFT_SCAN_COMPLETE)
				return TRUE;
			if (scan == OSQ_THRIFT_SCAN_INVALID) {
				g_set_error(error, OSQ_ERROR,
				            in->len > options->max_reply ? OSQ_ERROR_LIMIT
				                                         : OSQ_ERROR_FAILED,
				            "the extension sent a malformed or oversized reply: %s",
				            scan_error != NULL ? scan_error->message : "invalid");
				return FALSE;
			}
			scanned = in->len;
		}
		if (in->len > options->max_reply) {
			g_set_error(error, OSQ_ERROR, OSQ_ERROR_LIMIT,
			            "the extension's reply is larger than %" G_GSIZE_FORMAT
			            " bytes",
			            options->max_reply);
			return FALSE;
		}
		old_len = in->len;
		g_byte_array_set_size(in, old_len + OSQD_EXTENSION_CHUNK);
		n = recv(fd, in->data + old_len, OSQD_EXTENSION_CHUNK, MSG_DONTWAIT);
		g_byte_array_set_size(in, old_len + (n > 0 ? (guint)n : 0));
		if (n > 0) {
			paused = FALSE;
			continue;
		}
		if (n == 0) {
			g_set_error_literal(error, OSQ_ERROR, OSQ_ERROR_IO,
			                    "the extension closed the connection before answering");
			return FALSE;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			g_set_error(error, OSQ_ERROR, OSQ_ERROR_IO,
			            "cannot read from the extension: %s", g_strerror(errno));
			return FALSE;
		}
		if (!client_check(options, error))
			return FALSE;
		{
			gint slice = in->len > scanned ? OSQD_EXTENSION_PAUSE_MS
			                               : OSQD_EXTENSION_POLL_MS;
			gint rc = client_poll(fd, POLLIN,
			                      MIN(slice, client_ms_left(options->deadline)), error);
			if (rc < 0)
				return FALSE;
			paused = rc == 0;
		}
	}
}

GBytes *
osqd_extension_roundtrip(const gchar *path, const GByteArray *request,
                         const OsqdExtensionCallOptions *options, GError **error)
{
	g_autoptr(GByteArray) in = g_byte_array_sized_new(4096);
	gsize length = 0;
	int fd = client_connect(path, options, error);
	gboolean ok;

	if (fd < 0)
		return NULL;
	ok = client_send(fd, request->data, request->len, options, error) &&
	     client_receive(fd, in, options, &length, error);
	(void)close(fd);
	if (!ok)
		return NULL;
	return g_bytes_new(in->data, length);
}

/* ---- replies ---- */

/* Reads the header of the reply to @method/@seqid; an EXCEPTION becomes an error. */
static gboolean
client_read_reply_begin(OsqThriftReader *reader, const gchar *method, gint32 seqid, GError **error)
{
	g_autofree gchar *name = NULL;
	OsqThriftMessageType type;
	gint32 got_seqid;

	if (!osq_thrift_read_message_begin(reader, &name, &type, &got_seqid, error))
		return FALSE;
	if (g_strcmp0(name, method) != 0 || got_seqid != seqid) {
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_FAILED,
		            "the extension answered another call than %s", method);
		return FALSE;
	}
	if (type == OSQ_THRIFT_EXCEPTION) {
		g_autofree gchar *message = NULL;
		for (;;) {
			OsqThriftType field;
			gint16 id;
			if (!osq_thrift_read_field_begin(reader, &field, &id, error))
				return FALSE;
			if (field == OSQ_THRIFT_STOP)
				break;
			if (id == 1 && field == OSQ_THRIFT_STRING && message == NULL) {
				if (!osq_thrift_read_string(reader, &message, error))
					return FALSE;
			} else if (!osq_thrift_skip(reader, field, error)) {
				return FALSE;
			}
		}
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_FAILED, "the extension raised an error: %s",
		            message != NULL ? message : "(no message)");
		return FALSE;
	}
	if (type != OSQ_THRIFT_REPLY) {
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_FAILED,
		            "the extension sent message type %d to %s", (gint)type, method);
		return FALSE;
	}
	return TRUE;
}

/* ExtensionStatus: code and message (uuid skipped). */
static gboolean
client_read_status(OsqThriftReader *reader, gint32 *code, gchar **message, GError **error)
{
	for (;;) {
		OsqThriftType field;
		gint16 id;
		if (!osq_thrift_read_field_begin(reader, &field, &id, error))
			return FALSE;
		if (field == OSQ_THRIFT_STOP)
			return TRUE;
		if (id == 1 && field == OSQ_THRIFT_I32) {
			if (!osq_thrift_read_i32(reader, code, error))
				return FALSE;
		} else if (id == 2 && field == OSQ_THRIFT_STRING && message != NULL) {
			g_free(*message);
			if (!osq_thrift_read_string(reader, message, error))
				return FALSE;
		} else if (!osq_thrift_skip(reader, field, error)) {
			return FALSE;
		}
	}
}

/* The result struct's field 0 of type @type: positions @reader on its value. */
static gboolean
client_find_success(OsqThriftReader *reader, OsqThriftType type, GError **error)
{
	for (;;) {
		OsqThriftType field;
		gint16 id;
		if (!osq_thrift_read_field_begin(reader, &field, &id, error))
			return FALSE;
		if (field == OSQ_THRIFT_STOP) {
			g_set_error_literal(error, OSQ_ERROR, OSQ_ERROR_FAILED,
			                    "the extension's reply has no result");
			return FALSE;
		}
		if (id == 0 && field == type)
			return TRUE;
		if (!osq_thrift_skip(reader, field, error))
			return FALSE;
	}
}

static gboolean
client_visit_rows(OsqThriftReader *reader, const OsqdExtensionRowVisitor *visitor, GError **error)
{
	OsqThriftType element;
	guint32 n_rows;

	if (!osq_thrift_read_list_begin(reader, &element, &n_rows, error))
		return FALSE;
	if (n_rows > 0 && element != OSQ_THRIFT_MAP) {
		g_set_error_literal(error, OSQ_ERROR, OSQ_ERROR_FAILED,
		                    "the extension's rows are not maps");
		return FALSE;
	}
	for (guint32 r = 0; r < n_rows; r++) {
		OsqThriftType key_type, value_type;
		guint32 n_cells;
		if (!osq_thrift_read_map_begin(reader, &key_type, &value_type, &n_cells, error))
			return FALSE;
		if (n_cells > 0 &&
		    (key_type != OSQ_THRIFT_STRING || value_type != OSQ_THRIFT_STRING)) {
			g_set_error_literal(error, OSQ_ERROR, OSQ_ERROR_FAILED,
			                    "the extension's rows are not string maps");
			return FALSE;
		}
		if (visitor->row_begin != NULL && !visitor->row_begin(visitor->user_data, error))
			return FALSE;
		for (guint32 c = 0; c < n_cells; c++) {
			const gchar *key, *value;
			gsize key_len, value_len;
			if (!osq_thrift_read_binary(reader, &key, &key_len, error) ||
			    !osq_thrift_read_binary(reader, &value, &value_len, error))
				return FALSE;
			if (visitor->cell != NULL && !visitor->cell(key, key_len, value, value_len,
			                                            visitor->user_data, error))
				return FALSE;
		}
	}
	return TRUE;
}

/* One pass over an ExtensionResponse struct: the status, and the rows when @visitor is set
 * (otherwise skipped). */
static gboolean
client_read_response(OsqThriftReader *reader, const OsqdExtensionRowVisitor *visitor, gint32 *code,
                     gchar **message, gboolean *have_status, GError **error)
{
	for (;;) {
		OsqThriftType field;
		gint16 id;
		if (!osq_thrift_read_field_begin(reader, &field, &id, error))
			return FALSE;
		if (field == OSQ_THRIFT_STOP)
			return TRUE;
		if (id == 1 && field == OSQ_THRIFT_STRUCT) {
			*have_status = TRUE;
			if (!client_read_status(reader, code, message, error))
				return FALSE;
		} else if (id == 2 && field == OSQ_THRIFT_LIST && visitor != NULL) {
			if (!client_visit_rows(reader, visitor, error))
				return FALSE;
		} else if (!osq_thrift_skip(reader, field, error)) {
			return FALSE;
		}
	}
}

/* Whether the next field is the status struct (field 1). */
static gboolean
client_status_comes_first(const OsqThriftReader *reader)
{
	return reader->len - reader->pos >= 3 && reader->data[reader->pos] == OSQ_THRIFT_STRUCT &&
	       reader->data[reader->pos + 1] == 0 && reader->data[reader->pos + 2] == 1;
}

gboolean
osqd_extension_parse_response(const guint8 *data, gsize len, const gchar *method, gint32 seqid,
                              const OsqdExtensionRowVisitor *visitor, gint32 *code, gchar **message,
                              GError **error)
{
	OsqThriftReader reader;
	gsize body;
	gboolean have_status = FALSE;

	*code = 1;
	osq_thrift_reader_init(&reader, data, len);
	if (!client_read_reply_begin(&reader, method, seqid, error) ||
	    !client_find_success(&reader, OSQ_THRIFT_STRUCT, error))
		return FALSE;
	body = reader.pos;
	/* every SDK writes the status first: then one pass reads it and the rows it allows */
	if (client_status_comes_first(&reader)) {
		OsqThriftType field;
		gint16 id;
		if (!osq_thrift_read_field_begin(&reader, &field, &id, error) ||
		    !client_read_status(&reader, code, message, error))
			return FALSE;
		if (*code != 0 || visitor == NULL)
			return TRUE;
		return client_read_response(&reader, visitor, code, NULL, &have_status, error);
	}
	/* fields may come in any order: the status first, then the rows only if it says success */
	if (!client_read_response(&reader, NULL, code, message, &have_status, error))
		return FALSE;
	if (!have_status) {
		g_set_error_literal(error, OSQ_ERROR, OSQ_ERROR_FAILED,
		                    "the extension's reply has no status");
		return FALSE;
	}
	if (*code != 0 || visitor == NULL)
		return TRUE;
	reader.pos = body;
	reader.depth = 0;
	return client_read_response(&reader, visitor, code, NULL, &have_status, error);
}

static OsqdExtensionCallOptions
client_simple_options(gint64 deadline)
{
	OsqdExtensionCallOptions options = { .deadline = deadline, .max_reply = 1024 * 1024 };

	return options;
}

gboolean
osqd_extension_ping(const gchar *path, gint64 deadline, GError **error)
{
	g_autoptr(GByteArray) request = g_byte_array_new();
	OsqdExtensionCallOptions options = client_simple_options(deadline);
	g_autoptr(GBytes) reply = NULL;
	g_autofree gchar *message = NULL;
	OsqThriftReader reader;
	gint32 code = 0;
	gsize len;
	const guint8 *data;

	osq_thrift_write_message_begin(request, "ping", OSQ_THRIFT_CALL, 1);
	osq_thrift_write_field_stop(request);
	reply = osqd_extension_roundtrip(path, request, &options, error);
	if (reply == NULL)
		return FALSE;
	data = g_bytes_get_data(reply, &len);
	osq_thrift_reader_init(&reader, data, len);
	if (!client_read_reply_begin(&reader, "ping", 1, error) ||
	    !client_find_success(&reader, OSQ_THRIFT_STRUCT, error) ||
	    !client_read_status(&reader, &code, &message, error))
		return FALSE;
	if (code == 1) {
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_FAILED, "the extension's ping failed: %s",
		            message != NULL ? message : "");
		return FALSE;
	}
	return TRUE;
}

gboolean
osqd_extension_shutdown(const gchar *path, gint64 deadline, GError **error)
{
	g_autoptr(GByteArray) request = g_byte_array_new();
	OsqdExtensionCallOptions options = client_simple_options(deadline);
	g_autoptr(GBytes) reply = NULL;
	OsqThriftReader reader;
	gsize len;
	const guint8 *data;

	osq_thrift_write_message_begin(request, "shutdown", OSQ_THRIFT_CALL, 1);
	osq_thrift_write_field_stop(request);
	reply = osqd_extension_roundtrip(path, request, &options, error);
	if (reply == NULL)
		return FALSE;
	data = g_bytes_get_data(reply, &len);
	osq_thrift_reader_init(&reader, data, len);
	return client_read_reply_begin(&reader, "shutdown", 1, error);
}

gboolean
osqd_extension_call(const gchar *path, const gchar *registry, const gchar *item,
                    GHashTable *request, const OsqdExtensionCallOptions *options,
                    const OsqdExtensionRowVisitor *visitor, gint32 *code, gchar **message,
                    GError **error)
{
	g_autoptr(GByteArray) out = g_byte_array_new();
	g_autoptr(GBytes) reply = NULL;
	GHashTableIter iter;
	gpointer key, value;
	gsize len;
	const guint8 *data;

	osq_thrift_write_message_begin(out, "call", OSQ_THRIFT_CALL, 1);
	osq_thrift_write_field_begin(out, OSQ_THRIFT_STRING, 1);
	osq_thrift_write_string(out, registry);
	osq_thrift_write_field_begin(out, OSQ_THRIFT_STRING, 2);
	osq_thrift_write_string(out, item);
	osq_thrift_write_field_begin(out, OSQ_THRIFT_MAP, 3);
	osq_thrift_write_map_begin(out, OSQ_THRIFT_STRING, OSQ_THRIFT_STRING,
	                           request != NULL ? (gint32)g_hash_table_size(request) : 0);
	if (request != NULL) {
		g_hash_table_iter_init(&iter, request);
		while (g_hash_table_iter_next(&iter, &key, &value)) {
			osq_thrift_write_string(out, key);
			osq_thrift_write_string(out, value);
		}
	}
	osq_thrift_write_field_stop(out);
	reply = osqd_extension_roundtrip(path, out, options, error);
	if (reply == NULL)
		return FALSE;
	data = g_bytes_get_data(reply, &len);
	return osqd_extension_parse_response(data, len, "call", 1, visitor, code, message, error);
}
