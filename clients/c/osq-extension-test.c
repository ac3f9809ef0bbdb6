/* SPDX-License-Identifier: Apache-2.0
 *
 * The extension SDK against a fake manager: a thread serving registerExtension, ping,
 * deregisterExtension and extensions on a temporary Unix socket with libosq's codec, which
 * records what the extension sends. The tests then drive the extension as osquery's core does
 * (a fresh connection per call): columns, generate with a context, config and logger calls,
 * unknown registries/items/actions, garbage and oversized frames, concurrent scans; and they
 * end it every way it can end (manager gone, shutdown(), osq_extension_stop(), refused
 * registration). The example extension is run as a process against the same fake manager.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "osq-error.h"
#include "osq-extension-private.h"
#include "osq-json.h"
#include "osq-thrift.h"

#define TEST_TIMEOUT_US (10 * G_USEC_PER_SEC)

/* ---- raw socket helpers ---- */

static gint
raw_connect(const gchar *path)
{
	struct sockaddr_un address = { .sun_family = AF_UNIX };
	gint fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	g_assert_cmpint(fd, >=, 0);
	g_strlcpy(address.sun_path, path, sizeof(address.sun_path));
	if (connect(fd, (struct sockaddr *)&address, sizeof(address)) != 0) {
		(void)close(fd);
		return -1;
	}
	return fd;
}

static gboolean
raw_send(gint fd, const guint8 *data, gsize len)
{
	while (len > 0) {
		ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return FALSE;
		data += n;
		len -= (gsize)n;
	}
	return TRUE;
}

/* One whole message into @in (emptied first); FALSE at end of stream or after 10 s. */
static gboolean
raw_receive(gint fd, GByteArray *in)
{
	gint64 deadline = g_get_monotonic_time() + TEST_TIMEOUT_US;

	g_byte_array_set_size(in, 0);
	for (;;) {
		guint8 buffer[65536];
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		gsize length;
		ssize_t n;

		if (in->len > 0) {
			OsqThriftScan scan = osq_thrift_message_scan(
			        in->data, in->len, 256 * 1024 * 1024, &length, NULL);
			if (scan == OSQ_THRIFT_SCAN_COMPLETE) {
				g_byte_array_set_size(in, (guint)length);
				return TRUE;
			}
			if (scan == OSQ_THRIFT_SCAN_INVALID)
				return FALSE;
		}
		if (g_get_monotonic_time() > deadline)
			return FALSE;
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		n = recv(fd, buffer, sizeof(buffer), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return FALSE;
		g_byte_array_append(in, buffer, (guint)n);
	}
}

/* Whether the peer closed @fd (EOF within 5 s). */
static gboolean
raw_closed(gint fd)
{
	gint64 deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;

	while (g_get_monotonic_time() < deadline) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		guint8 buffer[256];
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		if (recv(fd, buffer, sizeof(buffer), 0) <= 0)
			return TRUE;
	}
	return FALSE;
}

static void
write_status(GByteArray *out, gint32 code, const gchar *message, gint64 uuid)
{
	osq_thrift_write_field_begin(out, OSQ_THRIFT_I32, 1);
	osq_thrift_write_i32(out, code);
	osq_thrift_write_field_begin(out, OSQ_THRIFT_STRING, 2);
	osq_thrift_write_string(out, message);
	osq_thrift_write_field_begin(out, OSQ_THRIFT_I64, 3);
	osq_thrift_write_i64(out, uuid);
	osq_thrift_write_field_stop(out);
}

/* ---- the fake manager ---- */

typedef struct {
	gchar *dir;
	gchar *path;
	gint listen_fd;
	gint stop_fds[2];
	GThread *thread;
	GMutex lock;
	GPtrArray *threads; /* connection threads */
	GArray *fds;        /* their sockets */
	/* behaviour */
	gint64 uuid;
	const gchar *refuse;
	/* what it saw */
	gchar *info[4];       /* name, version, sdk_version, min_sdk_version */
	GHashTable *registry; /* registry -> (plugin -> GPtrArray of GHashTable routes) */
	guint registrations;
	guint pings;
	gint64 deregistered;
} FakeManager;

typedef struct {
	FakeManager *manager;
	gint fd;
} FakeConnection;

static gboolean
fake_read_info(OsqThriftReader *reader, FakeManager *manager)
{
	for (;;) {
		OsqThriftType type;
		gint16 id;
		if (!osq_thrift_read_field_begin(reader, &type, &id, NULL))
			return FALSE;
		if (type == OSQ_THRIFT_STOP)
			return TRUE;
		if (id >= 1 && id <= 4 && type == OSQ_THRIFT_STRING) {
			g_free(manager->info[id - 1]);
			if (!osq_thrift_read_string(reader, &manager->info[id - 1], NULL))
				return FALSE;
		} else if (!osq_thrift_skip(reader, type, NULL)) {
			return FALSE;
		}
	}
}

static gboolean
fake_read_registry(OsqThriftReader *reader, GHashTable *registry)
{
	OsqThriftType k, v;
	guint32 n_registries;

	if (!osq_thrift_read_map_begin(reader, &k, &v, &n_registries, NULL))
		return FALSE;
	for (guint32 i = 0; i < n_registries; i++) {
		gchar *name = NULL;
		guint32 n_plugins;
		GHashTable *plugins = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
		                                            (GDestroyNotify)g_ptr_array_unref);
		if (!osq_thrift_read_string(reader, &name, NULL) ||
		    !osq_thrift_read_map_begin(reader, &k, &v, &n_plugins, NULL)) {
			g_free(name);
			g_hash_table_unref(plugins);
			return FALSE;
		}
		g_hash_table_replace(registry, name, plugins);
		for (guint32 j = 0; j < n_plugins; j++) {
			gchar *plugin = NULL;
			OsqThriftType element;
			guint32 n_routes;
			GPtrArray *routes =
			        g_ptr_array_new_with_free_func((GDestroyNotify)g_hash_table_unref);
			if (!osq_thrift_read_string(reader, &plugin, NULL)) {
				g_ptr_array_unref(routes);
				return FALSE;
			}
			g_hash_table_replace(plugins, plugin, routes);
			if (!osq_thrift_read_list_begin(reader, &element, &n_routes, NULL))
				return FALSE;
			for (guint32 r = 0; r < n_routes; r++) {
				GHashTable *route = NULL;
				if (!osq_thrift_read_string_map(reader, &route, NULL))
					return FALSE;
				g_ptr_array_add(routes, route);
			}
		}
	}
	return TRUE;
}

/* Handles one CALL; writes the reply into @out. */
static void
fake_handle(FakeManager *manager, const guint8 *data, gsize len, GByteArray *out)
{
	OsqThriftReader reader;
	g_autofree gchar *name = NULL;
	OsqThriftMessageType type;
	gint32 seqid;

	osq_thrift_reader_init(&reader, data, len);
	assert_true(osq_thrift_read_message_begin(&reader, &name, &type, &seqid, NULL));
	assert_int_equal(type, OSQ_THRIFT_CALL);
	osq_thrift_write_message_begin(out, name, OSQ_THRIFT_REPLY, seqid);
	osq_thrift_write_field_begin(out, OSQ_THRIFT_STRUCT, 0);
	g_mutex_lock(&manager->lock);
	if (g_str_equal(name, "registerExtension")) {
		for (;;) {
			OsqThriftType field;
			gint16 id;
			assert_true(osq_thrift_read_field_begin(&reader, &field, &id, NULL));
			if (field == OSQ_THRIFT_STOP)
				break;
			if (id == 1 && field == OSQ_THRIFT_STRUCT)
				assert_true(fake_read_info(&reader, manager));
			else if (id == 2 && field == OSQ_THRIFT_MAP)
				assert_true(fake_read_registry(&reader, manager->registry));
			else
				assert_true(osq_thrift_skip(&reader, field, NULL));
		}
		manager->registrations++;
		if (manager->refuse != NULL)
			write_status(out, 1, manager->refuse, 0);
		else
			write_status(out, 0, "OK", manager->uuid);
	} else if (g_str_equal(name, "ping")) {
		manager->pings++;
		write_status(out, 0, "pong", 0);
	} else if (g_str_equal(name, "deregisterExtension")) {
		OsqThriftType field;
		gint16 id;
		assert_true(osq_thrift_read_field_begin(&reader, &field, &id, NULL));
		assert_int_equal(field, OSQ_THRIFT_I64);
		assert_true(osq_thrift_read_i64(&reader, &manager->deregistered, NULL));
		write_status(out, 0, "OK", 0);
	} else {
		g_byte_array_set_size(out, 0);
		osq_thrift_write_application_exception(out, name, seqid,
		                                       OSQ_THRIFT_APP_UNKNOWN_METHOD, "unknown");
		g_mutex_unlock(&manager->lock);
		return;
	}
	g_mutex_unlock(&manager->lock);
	osq_thrift_write_field_stop(out);
}

static gpointer
fake_connection_thread(gpointer data)
{
	FakeConnection *connection = data;
	g_autoptr(GByteArray) in = g_byte_array_new();
	g_autoptr(GByteArray) out = g_byte_array_new();

	while (raw_receive(connection->fd, in)) {
		g_byte_array_set_size(out, 0);
		fake_handle(connection->manager, in->data, in->len, out);
		if (!raw_send(connection->fd, out->data, out->len))
			break;
	}
	g_free(connection);
	return NULL;
}

static gpointer
fake_manager_thread(gpointer data)
{
	FakeManager *manager = data;

	for (;;) {
		struct pollfd pfds[2] = { { .fd = manager->listen_fd, .events = POLLIN },
			                  { .fd = manager->stop_fds[0], .events = POLLIN } };
		FakeConnection *connection;
		gint fd;

		if (poll(pfds, 2, -1) < 0)
			continue;
		if (pfds[1].revents != 0)
			return NULL;
		fd = accept4(manager->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		connection = g_new0(FakeConnection, 1);
		connection->manager = manager;
		connection->fd = fd;
		g_mutex_lock(&manager->lock);
		g_array_append_val(manager->fds, fd);
		g_ptr_array_add(manager->threads,
		                g_thread_new("fake-conn", fake_connection_thread, connection));
		g_mutex_unlock(&manager->lock);
	}
}

static FakeManager *
fake_manager_new(gint64 uuid)
{
	FakeManager *manager = g_new0(FakeManager, 1);
	struct sockaddr_un address = { .sun_family = AF_UNIX };

	manager->dir = g_dir_make_tmp("osq-ext-test-XXXXXX", NULL);
	g_assert_nonnull(manager->dir);
	manager->path = g_build_filename(manager->dir, "osquery.em", NULL);
	manager->uuid = uuid;
	manager->registry = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
	                                          (GDestroyNotify)g_hash_table_unref);
	manager->threads = g_ptr_array_new();
	manager->fds = g_array_new(FALSE, FALSE, sizeof(gint));
	g_mutex_init(&manager->lock);
	g_assert_cmpint(pipe2(manager->stop_fds, O_CLOEXEC), ==, 0);
	manager->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	g_strlcpy(address.sun_path, manager->path, sizeof(address.sun_path));
	g_assert_cmpint(bind(manager->listen_fd, (struct sockaddr *)&address, sizeof(address)), ==,
	                0);
	g_assert_cmpint(listen(manager->listen_fd, 16), ==, 0);
	manager->thread = g_thread_new("fake-manager", fake_manager_thread, manager);
	return manager;
}

/* The manager goes away: its socket is removed and every connection closed. */
static void
fake_manager_stop(FakeManager *manager)
{
	if (manager->thread == NULL)
		return;
	g_assert_cmpint(write(manager->stop_fds[1], "x", 1), ==, 1);
	g_thread_join(manager->thread);
	manager->thread = NULL;
	(void)close(manager->listen_fd);
	(void)g_unlink(manager->path);
	for (guint i = 0; i < manager->fds->len; i++)
		(void)shutdown(g_array_index(manager->fds, gint, i), SHUT_RDWR);
	for (guint i = 0; i < manager->threads->len; i++)
		g_thread_join(g_ptr_array_index(manager->threads, i));
	for (guint i = 0; i < manager->fds->len; i++)
		(void)close(g_array_index(manager->fds, gint, i));
	g_ptr_array_set_size(manager->threads, 0);
	g_array_set_size(manager->fds, 0);
}

static void
fake_manager_free(FakeManager *manager)
{
	fake_manager_stop(manager);
	(void)close(manager->stop_fds[0]);
	(void)close(manager->stop_fds[1]);
	(void)g_rmdir(manager->dir);
	for (guint i = 0; i < G_N_ELEMENTS(manager->info); i++)
		g_free(manager->info[i]);
	g_hash_table_unref(manager->registry);
	g_ptr_array_unref(manager->threads);
	g_array_unref(manager->fds);
	g_mutex_clear(&manager->lock);
	g_free(manager->path);
	g_free(manager->dir);
	g_free(manager);
}

/* ---- calling the extension as osquery's core does ---- */

typedef struct {
	gboolean exception;
	gint32 code;
	gchar *message;
	gint64 uuid;
	GPtrArray *rows; /* GHashTable */
} CallResult;

static void
call_result_clear(CallResult *result)
{
	g_free(result->message);
	if (result->rows != NULL)
		g_ptr_array_unref(result->rows);
	memset(result, 0, sizeof(*result));
}

static void
read_status(OsqThriftReader *reader, CallResult *result)
{
	for (;;) {
		OsqThriftType type;
		gint16 id;
		assert_true(osq_thrift_read_field_begin(reader, &type, &id, NULL));
		if (type == OSQ_THRIFT_STOP)
			return;
		if (id == 1 && type == OSQ_THRIFT_I32)
			assert_true(osq_thrift_read_i32(reader, &result->code, NULL));
		else if (id == 2 && type == OSQ_THRIFT_STRING)
			assert_true(osq_thrift_read_string(reader, &result->message, NULL));
		else if (id == 3 && type == OSQ_THRIFT_I64)
			assert_true(osq_thrift_read_i64(reader, &result->uuid, NULL));
		else
			fail_msg("unexpected status field %d", id);
	}
}

/* Parses a reply to @method: a status (ping) or an ExtensionResponse (call). */
static void
parse_reply(const GByteArray *in, const gchar *method, gint32 seqid, CallResult *result)
{
	OsqThriftReader reader;
	g_autofree gchar *name = NULL;
	OsqThriftMessageType type;
	gint32 reply_seqid;

	osq_thrift_reader_init(&reader, in->data, in->len);
	assert_true(osq_thrift_read_message_begin(&reader, &name, &type, &reply_seqid, NULL));
	assert_string_equal(name, method);
	assert_int_equal(reply_seqid, seqid);
	if (type == OSQ_THRIFT_EXCEPTION) {
		result->exception = TRUE;
		for (;;) {
			OsqThriftType field;
			gint16 id;
			assert_true(osq_thrift_read_field_begin(&reader, &field, &id, NULL));
			if (field == OSQ_THRIFT_STOP)
				break;
			if (id == 1)
				assert_true(
				        osq_thrift_read_string(&reader, &result->message, NULL));
			else if (id == 2)
				assert_true(osq_thrift_read_i32(&reader, &result->code, NULL));
			else
				assert_true(osq_thrift_skip(&reader, field, NULL));
		}
		return;
	}
	assert_int_equal(type, OSQ_THRIFT_REPLY);
	result->rows = g_ptr_array_new_with_free_func((GDestroyNotify)g_hash_table_unref);
	for (;;) {
		OsqThriftType field;
		gint16 id;
		assert_true(osq_thrift_read_field_begin(&reader, &field, &id, NULL));
		if (field == OSQ_THRIFT_STOP)
			break;
		assert_int_equal(id, 0);
		assert_int_equal(field, OSQ_THRIFT_STRUCT);
		if (g_str_equal(method, "ping")) {
			read_status(&reader, result);
			continue;
		}
		for (;;) {
			OsqThriftType response_field;
			OsqThriftType element;
			guint32 n;
			assert_true(
			        osq_thrift_read_field_begin(&reader, &response_field, &id, NULL));
			if (response_field == OSQ_THRIFT_STOP)
				break;
			if (id == 1) {
				read_status(&reader, result);
				continue;
			}
			assert_int_equal(id, 2);
			assert_true(osq_thrift_read_list_begin(&reader, &element, &n, NULL));
			for (guint32 i = 0; i < n; i++) {
				GHashTable *row = NULL;
				assert_true(osq_thrift_read_string_map(&reader, &row, NULL));
				g_ptr_array_add(result->rows, row);
			}
		}
	}
	assert_int_equal(reader.pos, reader.len);
}

static void
write_call(GByteArray *out, gint32 seqid, const gchar *registry, const gchar *item,
           const gchar *const *request)
{
	guint n = request != NULL ? g_strv_length((gchar **)request) / 2 : 0;

	osq_thrift_write_message_begin(out, "call", OSQ_THRIFT_CALL, seqid);
	osq_thrift_write_field_begin(out, OSQ_THRIFT_STRING, 1);
	osq_thrift_write_string(out, registry);
	osq_thrift_write_field_begin(out, OSQ_THRIFT_STRING, 2);
	osq_thrift_write_string(out, item);
	osq_thrift_write_field_begin(out, OSQ_THRIFT_MAP, 3);
	osq_thrift_write_map_begin(out, OSQ_THRIFT_STRING, OSQ_THRIFT_STRING, (gint32)n);
	for (guint i = 0; i < n; i++) {
		osq_thrift_write_string(out, request[2 * i]);
		osq_thrift_write_string(out, request[2 * i + 1]);
	}
	osq_thrift_write_field_stop(out);
}

/* connect, call, close; @request is NULL-terminated key, value pairs */
static void
call_extension(const gchar *path, const gchar *registry, const gchar *item,
               const gchar *const *request, CallResult *result)
{
	g_autoptr(GByteArray) out = g_byte_array_new();
	g_autoptr(GByteArray) in = g_byte_array_new();
	gint fd = raw_connect(path);

	assert_true(fd >= 0);
	write_call(out, 7, registry, item, request);
	assert_true(raw_send(fd, out->data, out->len));
	assert_true(raw_receive(fd, in));
	(void)close(fd);
	parse_reply(in, "call", 7, result);
}

static void
call_method(const gchar *path, const gchar *method, CallResult *result)
{
	g_autoptr(GByteArray) out = g_byte_array_new();
	g_autoptr(GByteArray) in = g_byte_array_new();
	gint fd = raw_connect(path);

	assert_true(fd >= 0);
	osq_thrift_write_message_begin(out, method, OSQ_THRIFT_CALL, 3);
	osq_thrift_write_field_stop(out);
	assert_true(raw_send(fd, out->data, out->len));
	assert_true(raw_receive(fd, in));
	(void)close(fd);
	if (g_str_equal(method, "shutdown")) {
		OsqThriftReader reader;
		g_autofree gchar *name = NULL;
		OsqThriftMessageType type;
		gint32 seqid;
		OsqThriftType field;
		gint16 id;
		osq_thrift_reader_init(&reader, in->data, in->len);
		assert_true(osq_thrift_read_message_begin(&reader, &name, &type, &seqid, NULL));
		assert_int_equal(type, OSQ_THRIFT_REPLY);
		assert_true(osq_thrift_read_field_begin(&reader, &field, &id, NULL));
		assert_int_equal(field, OSQ_THRIFT_STOP);
		return;
	}
	parse_reply(in, method, 3, result);
}

static const gchar *
row_get(const CallResult *result, guint row, const gchar *key)
{
	assert_true(row < result->rows->len);
	return g_hash_table_lookup(g_ptr_array_index(result->rows, row), key);
}

/* ---- the extension under test ---- */

typedef struct {
	GMutex lock;
	guint calls;
	gint running;
	gint max_running;
	gulong delay_us;
	gchar *constraints; /* "column op value;" as the last scan saw them */
	gchar *used;        /* "a,b," */
	gchar *context;
	GString *logged;
} Probe;

static const OsqExtensionColumn test_columns[] = {
	{ "name", OSQ_COLUMN_TYPE_TEXT, OSQ_COLUMN_OPTION_INDEX },
	{ "size", OSQ_COLUMN_TYPE_BIGINT, OSQ_COLUMN_OPTION_DEFAULT },
	{ "ratio", OSQ_COLUMN_TYPE_DOUBLE, OSQ_COLUMN_OPTION_HIDDEN },
	{ "flag", OSQ_COLUMN_TYPE_INTEGER, OSQ_COLUMN_OPTION_REQUIRED | OSQ_COLUMN_OPTION_INDEX },
};

static int
test_generate(const OsqTableRequest *request, OsqRowWriter *rows, void *user_data,
              char **error_message)
{
	Probe *probe = user_data;
	g_autoptr(GString) constraints = g_string_new(NULL);
	g_autoptr(GString) used = g_string_new(NULL);
	gint running;

	running = g_atomic_int_add(&probe->running, 1) + 1;
	for (gsize i = 0; i < osq_table_request_get_n_constraints(request); i++) {
		const char *column, *value;
		int op;
		osq_table_request_get_constraint(request, i, &column, &op, &value);
		g_string_append_printf(constraints, "%s %d %s;", column, op, value);
	}
	for (guint i = 0; i < G_N_ELEMENTS(test_columns); i++) {
		if (osq_table_request_column_used(request, test_columns[i].name))
			g_string_append_printf(used, "%s,", test_columns[i].name);
	}
	if (probe->delay_us > 0)
		g_usleep(probe->delay_us);
	g_mutex_lock(&probe->lock);
	probe->calls++;
	probe->max_running = MAX(probe->max_running, running);
	g_free(probe->constraints);
	probe->constraints = g_string_free(g_steal_pointer(&constraints), FALSE);
	g_free(probe->used);
	probe->used = g_string_free(g_steal_pointer(&used), FALSE);
	g_free(probe->context);
	probe->context = g_strdup(osq_table_request_get_context(request));
	g_mutex_unlock(&probe->lock);
	g_atomic_int_add(&probe->running, -1);

	if (strstr(osq_table_request_get_context(request), "\"fail\"") != NULL) {
		*error_message = strdup("cannot read the things");
		return 1;
	}
	osq_row_writer_set_text(rows, "name", "first"); /* starts a row */
	osq_row_writer_set_int64(rows, "size", -42);
	osq_row_writer_set_double(rows, "ratio", 1.0);
	osq_row_writer_set_text(rows, "no_such_column", "ignored");
	osq_row_writer_begin_row(rows);
	osq_row_writer_set_text(rows, "name", "second");
	osq_row_writer_set_double(rows, "ratio", 0.1);
	osq_row_writer_set_int64(rows, "flag", G_MAXINT64);
	osq_row_writer_set_int64(rows, "flag", 1); /* the last value wins */
	return 0;
}

static char *
test_config(void *user_data, char **error_message)
{
	return strdup("{\"schedule\":{}}");
}

static int
test_logger(const char *kind, const char *text, void *user_data)
{
	Probe *probe = user_data;

	g_mutex_lock(&probe->lock);
	g_string_append_printf(probe->logged, "%s=%s;", kind, text);
	g_mutex_unlock(&probe->lock);
	return g_str_equal(text, "refuse") ? 1 : 0;
}

typedef struct {
	FakeManager *manager;
	OsqExtension *ext;
	GThread *thread;
	Probe probe;
	gint rc;
	OsqClientError *error;
	gchar *path; /* the extension's socket */
	gint done;   /* run() returned */
} Fixture;

static gpointer
run_thread(gpointer data)
{
	Fixture *fixture = data;

	fixture->rc = osq_extension_run(fixture->ext, &fixture->error);
	g_atomic_int_set(&fixture->done, 1);
	return NULL;
}

static void
fixture_start(Fixture *fixture, gint64 uuid, const gchar *refuse)
{
	OsqClientError *error = NULL;

	memset(fixture, 0, sizeof(*fixture));
	g_mutex_init(&fixture->probe.lock);
	fixture->probe.logged = g_string_new(NULL);
	fixture->manager = fake_manager_new(uuid);
	fixture->manager->refuse = refuse;
	fixture->ext = osq_extension_new("test_ext", "1.2.3");
	assert_int_equal(osq_extension_add_table(fixture->ext, "things", test_columns,
	                                         G_N_ELEMENTS(test_columns), test_generate,
	                                         &fixture->probe, &error),
	                 0);
	assert_int_equal(
	        osq_extension_add_config(fixture->ext, "test_config", test_config, NULL, &error),
	        0);
	assert_int_equal(osq_extension_add_logger(fixture->ext, "test_logger", test_logger,
	                                          &fixture->probe, &error),
	                 0);
	osq_extension_set_socket(fixture->ext, fixture->manager->path);
	osq_extension_set_interval(fixture->ext, 0.05);
	osq_extension_set_timeout(fixture->ext, 2);
	fixture->path = g_strdup_printf("%s.%" G_GINT64_FORMAT, fixture->manager->path, uuid);
	fixture->thread = g_thread_new("ext-run", run_thread, fixture);
}

/* Waits until the extension serves its socket. */
static void
fixture_wait_ready(Fixture *fixture)
{
	gint64 deadline = g_get_monotonic_time() + TEST_TIMEOUT_US;

	while (g_get_monotonic_time() < deadline) {
		gint fd;
		if (osq_extension_get_uuid(fixture->ext) != 0 &&
		    (fd = raw_connect(fixture->path)) >= 0) {
			(void)close(fd);
			return;
		}
		g_usleep(2000);
	}
	fail_msg("the extension did not start");
}

/* Waits for run() to return (with a deadline) and returns its code. */
static gint
fixture_join(Fixture *fixture)
{
	gint64 deadline = g_get_monotonic_time() + TEST_TIMEOUT_US;

	while (!g_atomic_int_get(&fixture->done)) {
		if (g_get_monotonic_time() > deadline)
			fail_msg("osq_extension_run() did not return");
		g_usleep(2000);
	}
	g_thread_join(fixture->thread);
	fixture->thread = NULL;
	return fixture->rc;
}

static void
fixture_free(Fixture *fixture)
{
	if (fixture->thread != NULL) {
		osq_extension_stop(fixture->ext);
		g_thread_join(fixture->thread);
	}
	osq_extension_free(fixture->ext);
	fake_manager_free(fixture->manager);
	osq_client_error_free(fixture->error);
	g_mutex_clear(&fixture->probe.lock);
	g_free(fixture->probe.constraints);
	g_free(fixture->probe.used);
	g_free(fixture->probe.context);
	g_string_free(fixture->probe.logged, TRUE);
	g_free(fixture->path);
}

/* ---- tests ---- */

static void
assert_routes(GPtrArray *routes)
{
	static const gchar *const expected[][3] = {
		{ "name", "TEXT", "1" },
		{ "size", "BIGINT", "0" },
		{ "ratio", "DOUBLE", "16" },
		{ "flag", "INTEGER", "3" },
	};

	assert_int_equal(routes->len, G_N_ELEMENTS(expected));
	for (guint i = 0; i < routes->len; i++) {
		GHashTable *route = g_ptr_array_index(routes, i);
		assert_int_equal(g_hash_table_size(route), 4);
		assert_string_equal(g_hash_table_lookup(route, "id"), "column");
		assert_string_equal(g_hash_table_lookup(route, "name"), expected[i][0]);
		assert_string_equal(g_hash_table_lookup(route, "type"), expected[i][1]);
		assert_string_equal(g_hash_table_lookup(route, "op"), expected[i][2]);
	}
}

static void
test_register_columns_ping(void **state)
{
	Fixture fixture;
	CallResult result = { 0 };
	GHashTable *plugins;
	static const gchar *const columns[] = { "action", "columns", NULL };

	fixture_start(&fixture, 12345, NULL);
	fixture_wait_ready(&fixture);
	assert_int_equal(osq_extension_get_uuid(fixture.ext), 12345);

	g_mutex_lock(&fixture.manager->lock);
	assert_string_equal(fixture.manager->info[0], "test_ext");
	assert_string_equal(fixture.manager->info[1], "1.2.3");
	assert_string_equal(fixture.manager->info[2], "0.0.0");
	assert_string_equal(fixture.manager->info[3], "0.0.0");
	assert_int_equal(g_hash_table_size(fixture.manager->registry), 3);
	plugins = g_hash_table_lookup(fixture.manager->registry, "table");
	assert_non_null(plugins);
	assert_int_equal(g_hash_table_size(plugins), 1);
	assert_routes(g_hash_table_lookup(plugins, "things"));
	plugins = g_hash_table_lookup(fixture.manager->registry, "config");
	assert_int_equal(((GPtrArray *)g_hash_table_lookup(plugins, "test_config"))->len, 0);
	plugins = g_hash_table_lookup(fixture.manager->registry, "logger");
	assert_int_equal(((GPtrArray *)g_hash_table_lookup(plugins, "test_logger"))->len, 0);
	g_mutex_unlock(&fixture.manager->lock);

	call_extension(fixture.path, "table", "things", columns, &result);
	assert_int_equal(result.code, 0);
	assert_string_equal(result.message, "OK");
	assert_int_equal(result.uuid, 12345);
	assert_routes(result.rows);
	call_result_clear(&result);

	call_method(fixture.path, "ping", &result);
	assert_false(result.exception);
	assert_int_equal(result.code, 0);
	assert_string_equal(result.message, "OK");
	assert_int_equal(result.uuid, 12345);
	call_result_clear(&result);

	/* the extension pings the manager every interval */
	for (gint64 deadline = g_get_monotonic_time() + TEST_TIMEOUT_US;
	     g_get_monotonic_time() < deadline;) {
		guint pings;
		g_mutex_lock(&fixture.manager->lock);
		pings = fixture.manager->pings;
		g_mutex_unlock(&fixture.manager->lock);
		if (pings >= 2)
			break;
		g_usleep(5000);
	}
	assert_true(fixture.manager->pings >= 2);
	fixture_free(&fixture);
}

static void
test_generate_context(void **state)
{
	Fixture fixture;
	CallResult result = { 0 };
	static const gchar *const request[] = {
		"action",
		"generate",
		"context",
		"{\"constraints\":[{\"name\":\"flag\",\"list\":[{\"op\":32,\"expr\":\"5\"}],"
		"\"affinity\":\"INTEGER\"},{\"name\":\"name\",\"list\":[{\"op\":2,\"expr\":"
		"\"a\\u00e9\"},"
		"{\"op\":65,\"expr\":\"b%\"}],\"affinity\":\"TEXT\"},{\"name\":\"size\",\"list\":[]"
		","
		"\"affinity\":\"BIGINT\"}],\"colsUsed\":[\"name\",\"size\"],\"colsUsedBitset\":3}",
		NULL,
	};
	static const gchar *const failing[] = {
		"action", "generate", "context", "{\"constraints\":[],\"fail\":1}", NULL,
	};

	fixture_start(&fixture, 7, NULL);
	fixture_wait_ready(&fixture);
	call_extension(fixture.path, "table", "things", request, &result);
	assert_int_equal(result.code, 0);
	assert_int_equal(result.rows->len, 2);
	/* set columns only; integers decimal, doubles always with a '.' */
	assert_int_equal(g_hash_table_size(g_ptr_array_index(result.rows, 0)), 3);
	assert_string_equal(row_get(&result, 0, "name"), "first");
	assert_string_equal(row_get(&result, 0, "size"), "-42");
	assert_string_equal(row_get(&result, 0, "ratio"), "1.0");
	assert_null(row_get(&result, 0, "flag"));
	assert_int_equal(g_hash_table_size(g_ptr_array_index(result.rows, 1)), 3);
	assert_string_equal(row_get(&result, 1, "name"), "second");
	assert_string_equal(row_get(&result, 1, "ratio"), "0.1");
	assert_string_equal(row_get(&result, 1, "flag"), "1");
	assert_null(row_get(&result, 1, "size"));
	call_result_clear(&result);
	assert_string_equal(fixture.probe.constraints, "flag 32 5;name 2 a\xc3\xa9;name 65 b%;");
	assert_string_equal(fixture.probe.used, "name,size,");

	/* no context: no constraints, every column used */
	{
		static const gchar *const bare[] = { "action", "generate", NULL };
		call_extension(fixture.path, "table", "things", bare, &result);
		assert_int_equal(result.code, 0);
		call_result_clear(&result);
		assert_string_equal(fixture.probe.constraints, "");
		assert_string_equal(fixture.probe.used, "name,size,ratio,flag,");
		assert_string_equal(fixture.probe.context, "");
	}

	/* a failing generate: status 1 with its message, no rows */
	call_extension(fixture.path, "table", "things", failing, &result);
	assert_int_equal(result.code, 1);
	assert_string_equal(result.message, "cannot read the things");
	assert_int_equal(result.rows->len, 0);
	call_result_clear(&result);
	fixture_free(&fixture);
}

static void
test_config_logger_errors(void **state)
{
	Fixture fixture;
	CallResult result = { 0 };
	static const gchar *const gen_config[] = { "action", "genConfig", NULL };
	static const gchar *const gen_pack[] = { "action", "genPack", NULL };
	static const gchar *const log_string[] = { "string", "{\"a\":1}", "category", "event",
		                                   NULL };
	static const gchar *const log_refused[] = { "snapshot", "refuse", NULL };
	static const gchar *const log_init[] = { "init", "osqd", "log", "[{\"s\":0}]", NULL };
	static const gchar *const log_status[] = { "status", "true", "log", "[]", NULL };
	static const gchar *const features[] = { "action", "features", NULL };
	static const gchar *const insert[] = { "action", "insert", NULL };
	static const gchar *const bogus[] = { "action", "bogus", NULL };

	fixture_start(&fixture, 99, NULL);
	fixture_wait_ready(&fixture);

	call_extension(fixture.path, "config", "test_config", gen_config, &result);
	assert_int_equal(result.code, 0);
	assert_int_equal(result.rows->len, 1);
	assert_string_equal(row_get(&result, 0, "test_config"), "{\"schedule\":{}}");
	call_result_clear(&result);
	call_extension(fixture.path, "config", "test_config", gen_pack, &result);
	assert_int_equal(result.code, 1);
	call_result_clear(&result);

	call_extension(fixture.path, "logger", "test_logger", log_string, &result);
	assert_int_equal(result.code, 0);
	call_result_clear(&result);
	call_extension(fixture.path, "logger", "test_logger", log_refused, &result);
	assert_int_equal(result.code, 1);
	call_result_clear(&result);
	call_extension(fixture.path, "logger", "test_logger", log_init, &result);
	assert_int_equal(result.code, 0);
	call_result_clear(&result);
	call_extension(fixture.path, "logger", "test_logger", log_status, &result);
	assert_int_equal(result.code, 0);
	call_result_clear(&result);
	call_extension(fixture.path, "logger", "test_logger", features, &result);
	assert_int_equal(result.code, 0);
	call_result_clear(&result);
	assert_string_equal(fixture.probe.logged->str, "string={\"a\":1};snapshot=refuse;init=osqd;"
	                                               "status=[{\"s\":0}];status=[];");

	call_extension(fixture.path, "table", "things", insert, &result);
	assert_int_equal(result.code, 0);
	assert_string_equal(row_get(&result, 0, "status"), "readonly");
	call_result_clear(&result);
	call_extension(fixture.path, "table", "things", bogus, &result);
	assert_int_equal(result.code, 1);
	assert_non_null(strstr(result.message, "bogus"));
	call_result_clear(&result);
	call_extension(fixture.path, "table", "things", NULL, &result);
	assert_int_equal(result.code, 1);
	call_result_clear(&result);
	call_extension(fixture.path, "table", "nothing", bogus, &result);
	assert_int_equal(result.code, 1);
	assert_non_null(strstr(result.message, "nothing"));
	call_result_clear(&result);
	call_extension(fixture.path, "distributed", "x", bogus, &result);
	assert_int_equal(result.code, 1);
	assert_non_null(strstr(result.message, "distributed"));
	call_result_clear(&result);

	/* an unknown method: TApplicationException UNKNOWN_METHOD */
	call_method(fixture.path, "extensions", &result);
	assert_true(result.exception);
	assert_int_equal(result.code, OSQ_THRIFT_APP_UNKNOWN_METHOD);
	call_result_clear(&result);
	fixture_free(&fixture);
}

static void
test_hostile_input(void **state)
{
	Fixture fixture;
	CallResult result = { 0 };
	static const gchar *const columns[] = { "action", "columns", NULL };
	static const guint8 http[] = "POST / HTTP/1.1\r\nHost: x\r\n\r\n";
	/* a strict header, name "call", then a string of 2 GiB - 1 */
	static const guint8 huge[] = { 0x80, 0x01, 0x00, 0x01, 0,    0,    0,    4,
		                       'c',  'a',  'l',  'l',  0,    0,    0,    0,
		                       0x0b, 0,    1,    0x7f, 0xff, 0xff, 0xff, 'x' };
	static const guint8 huge_name[] = { 0x80, 0x01, 0x00, 0x01, 0x7f, 0xff, 0xff, 0xff, 'x' };
	static const guint8 bad_type[] = { 0x80, 0x01, 0x00, 0x01, 0, 0, 0, 4,    'p',
		                           'i',  'n',  'g',  0,    0, 0, 0, 0x63, 0 };
	const guint8 *frames[] = { http, huge, huge_name, bad_type };
	const gsize sizes[] = { sizeof(http) - 1, sizeof(huge), sizeof(huge_name),
		                sizeof(bad_type) };
	gint fd;

	fixture_start(&fixture, 4242, NULL);
	fixture_wait_ready(&fixture);
	for (guint i = 0; i < G_N_ELEMENTS(frames); i++) {
		fd = raw_connect(fixture.path);
		assert_true(fd >= 0);
		assert_true(raw_send(fd, frames[i], sizes[i]));
		if (!raw_closed(fd))
			fail_msg("frame %u was not dropped", i);
		(void)close(fd);
		call_extension(fixture.path, "table", "things", columns, &result);
		assert_int_equal(result.code, 0);
		call_result_clear(&result);
	}

	/* a half-sent request, then the peer goes away */
	fd = raw_connect(fixture.path);
	assert_true(raw_send(fd, huge, 10));
	(void)close(fd);

	/* garbage context JSON: an empty request rather than a crash */
	{
		const gchar *garbage[] = { "{\"constraints\":[{\"name\":", "[[[[[[[[[[[[[[[[[[[[",
			                   "\xff\xfe", "{\"constraints\":5,\"colsUsed\":\"x\"}" };
		for (guint i = 0; i < G_N_ELEMENTS(garbage); i++) {
			const gchar *request[] = { "action", "generate", "context", garbage[i],
				                   NULL };
			call_extension(fixture.path, "table", "things", request, &result);
			assert_int_equal(result.code, 0);
			call_result_clear(&result);
			assert_string_equal(fixture.probe.constraints, "");
			assert_string_equal(fixture.probe.used, "name,size,ratio,flag,");
		}
	}

	/* two calls on one connection, the second as an old unversioned header */
	{
		g_autoptr(GByteArray) out = g_byte_array_new();
		g_autoptr(GByteArray) in = g_byte_array_new();
		static const guint8 old_ping[] = {
			0, 0, 0, 4, 'p', 'i', 'n', 'g', 1, 0, 0, 0, 9, 0
		};
		fd = raw_connect(fixture.path);
		write_call(out, 1, "table", "things", columns);
		assert_true(raw_send(fd, out->data, out->len));
		assert_true(raw_receive(fd, in));
		parse_reply(in, "call", 1, &result);
		assert_int_equal(result.code, 0);
		call_result_clear(&result);
		assert_true(raw_send(fd, old_ping, sizeof(old_ping)));
		assert_true(raw_receive(fd, in));
		parse_reply(in, "ping", 9, &result);
		assert_int_equal(result.uuid, 4242);
		call_result_clear(&result);
		(void)close(fd);
	}
	fixture_free(&fixture);
}

typedef struct {
	const gchar *path;
	guint calls;
	gint failures;
} Hammer;

static gpointer
hammer_thread(gpointer data)
{
	Hammer *hammer = data;
	static const gchar *const request[] = {
		"action", "generate", "context", "{\"constraints\":[],\"colsUsed\":[\"name\"]}",
		NULL,
	};

	for (guint i = 0; i < hammer->calls; i++) {
		CallResult result = { 0 };
		call_extension(hammer->path, "table", "things", request, &result);
		if (result.code != 0 || result.rows->len != 2)
			g_atomic_int_inc(&hammer->failures);
		call_result_clear(&result);
	}
	return NULL;
}

static void
test_concurrent_generate(void **state)
{
	Fixture fixture;
	GThread *threads[8];
	Hammer hammer = { .calls = 10 };
	gint idle;

	fixture_start(&fixture, 31, NULL);
	fixture.probe.delay_us = 5000;
	fixture_wait_ready(&fixture);
	hammer.path = fixture.path;
	/* an idle connection held open must not block anyone */
	idle = raw_connect(fixture.path);
	for (guint i = 0; i < G_N_ELEMENTS(threads); i++)
		threads[i] = g_thread_new("hammer", hammer_thread, &hammer);
	for (guint i = 0; i < G_N_ELEMENTS(threads); i++)
		g_thread_join(threads[i]);
	assert_int_equal(hammer.failures, 0);
	assert_int_equal(fixture.probe.calls, G_N_ELEMENTS(threads) * hammer.calls);
	assert_true(fixture.probe.max_running >= 2);
	/* stop() with the idle connection still open: run() returns and deregisters */
	osq_extension_stop(fixture.ext);
	assert_int_equal(fixture_join(&fixture), 0);
	assert_int_equal(fixture.manager->deregistered, 31);
	assert_false(g_file_test(fixture.path, G_FILE_TEST_EXISTS));
	assert_true(raw_closed(idle));
	(void)close(idle);
	fixture_free(&fixture);
}

static void
test_manager_gone(void **state)
{
	Fixture fixture;

	fixture_start(&fixture, 55, NULL);
	fixture_wait_ready(&fixture);
	fake_manager_stop(fixture.manager);
	assert_int_equal(fixture_join(&fixture), 0);
	assert_null(fixture.error);
	assert_int_equal(fixture.manager->deregistered, 0);
	assert_false(g_file_test(fixture.path, G_FILE_TEST_EXISTS));
	fixture_free(&fixture);
}

static void
test_shutdown(void **state)
{
	Fixture fixture;

	fixture_start(&fixture, 56, NULL);
	fixture_wait_ready(&fixture);
	call_method(fixture.path, "shutdown", NULL);
	assert_int_equal(fixture_join(&fixture), 0);
	assert_null(fixture.error);
	assert_int_equal(fixture.manager->deregistered, 0);
	assert_false(g_file_test(fixture.path, G_FILE_TEST_EXISTS));
	fixture_free(&fixture);
}

static void
test_refused(void **state)
{
	Fixture fixture;

	fixture_start(&fixture, 57, "Duplicate extension registered");
	(void)fixture_join(&fixture);
	assert_int_equal(fixture.rc, OSQ_CLIENT_ERROR_FAILED);
	assert_non_null(fixture.error);
	assert_int_equal(fixture.error->code, OSQ_CLIENT_ERROR_FAILED);
	assert_non_null(strstr(fixture.error->message, "Duplicate extension registered"));
	assert_int_equal(osq_extension_get_uuid(fixture.ext), 0);
	assert_false(g_file_test(fixture.path, G_FILE_TEST_EXISTS));
	fixture_free(&fixture);
}

static void
test_no_manager(void **state)
{
	OsqExtension *ext = osq_extension_new("lonely", NULL);
	OsqClientError *error = NULL;
	g_autofree gchar *dir = g_dir_make_tmp("osq-ext-test-XXXXXX", NULL);
	g_autofree gchar *path = g_build_filename(dir, "missing.em", NULL);
	gint64 start = g_get_monotonic_time();

	osq_extension_set_socket(ext, path);
	osq_extension_set_timeout(ext, 0.2);
	assert_int_equal(osq_extension_run(ext, &error), OSQ_CLIENT_ERROR_NOT_FOUND);
	assert_true(g_get_monotonic_time() - start >= 150000);
	assert_true(g_get_monotonic_time() - start < 5 * G_USEC_PER_SEC);
	osq_client_error_free(error);
	error = NULL;
	/* run() is once per extension */
	assert_int_equal(osq_extension_run(ext, &error), OSQ_CLIENT_ERROR_INVALID_ARGUMENT);
	osq_client_error_free(error);
	osq_extension_free(ext);

	/* stop() before run(): run() returns 0 at once */
	ext = osq_extension_new("stopped", NULL);
	osq_extension_set_socket(ext, path);
	osq_extension_stop(ext);
	assert_int_equal(osq_extension_run(ext, NULL), 0);
	osq_extension_free(ext);
	(void)g_rmdir(dir);
}

static void
test_add_plugins(void **state)
{
	OsqExtension *ext = osq_extension_new("plugins", "1");
	OsqClientError *error = NULL;
	const OsqExtensionColumn duplicate[] = { { "a", OSQ_COLUMN_TYPE_TEXT, 0 },
		                                 { "a", OSQ_COLUMN_TYPE_TEXT, 0 } };
	const OsqExtensionColumn unknown[] = { { "a", OSQ_COLUMN_TYPE_UNKNOWN, 0 } };

	assert_null(osq_extension_new("", NULL));
	assert_null(osq_extension_new(NULL, NULL));
	assert_int_equal(
	        osq_extension_add_table(ext, "t", duplicate, 2, test_generate, NULL, &error),
	        OSQ_CLIENT_ERROR_INVALID_ARGUMENT);
	assert_non_null(strstr(error->message, "duplicate"));
	osq_client_error_free(error);
	assert_int_equal(osq_extension_add_table(ext, "t", unknown, 1, test_generate, NULL, NULL),
	                 OSQ_CLIENT_ERROR_INVALID_ARGUMENT);
	assert_int_equal(osq_extension_add_table(ext, "t", duplicate, 0, test_generate, NULL, NULL),
	                 OSQ_CLIENT_ERROR_INVALID_ARGUMENT);
	assert_int_equal(osq_extension_add_table(ext, "t", duplicate, 1, NULL, NULL, NULL),
	                 OSQ_CLIENT_ERROR_INVALID_ARGUMENT);
	assert_int_equal(osq_extension_add_table(ext, "", duplicate, 1, test_generate, NULL, NULL),
	                 OSQ_CLIENT_ERROR_INVALID_ARGUMENT);
	assert_int_equal(osq_extension_add_table(ext, "t", duplicate, 1, test_generate, NULL, NULL),
	                 0);
	assert_int_equal(osq_extension_add_table(ext, "t", duplicate, 1, test_generate, NULL, NULL),
	                 OSQ_CLIENT_ERROR_INVALID_ARGUMENT);
	/* the same name in another registry is fine */
	assert_int_equal(osq_extension_add_config(ext, "t", test_config, NULL, NULL), 0);
	assert_int_equal(osq_extension_add_logger(ext, "t", NULL, NULL, NULL),
	                 OSQ_CLIENT_ERROR_INVALID_ARGUMENT);
	osq_extension_free(ext);
	osq_extension_free(NULL);
}

static void
test_parse_args(void **state)
{
	OsqExtension *ext = osq_extension_new("args", NULL);
	OsqClientError *error = NULL;
	gchar *argv[] = { "prog",      "--socket", "/tmp/a.em", "--interval=0.5", "--keep",
		          "--timeout", "7",        "--verbose", "positional",     NULL };
	gint argc = 9;
	gchar *bad[] = { "prog", "--timeout", "-1", NULL };
	gint bad_argc = 3;
	gchar *missing[] = { "prog", "--socket", NULL };
	gint missing_argc = 2;

	assert_false(osq_extension_get_verbose(ext));
	assert_int_equal(osq_extension_parse_args(ext, &argc, argv, &error), 0);
	assert_int_equal(argc, 3);
	assert_string_equal(argv[0], "prog");
	assert_string_equal(argv[1], "--keep");
	assert_string_equal(argv[2], "positional");
	assert_null(argv[3]);
	assert_string_equal(osq_extension_get_socket(ext), "/tmp/a.em");
	assert_true(osq_extension_get_verbose(ext));

	assert_int_equal(osq_extension_parse_args(ext, &bad_argc, bad, &error),
	                 OSQ_CLIENT_ERROR_INVALID_ARGUMENT);
	assert_int_equal(bad_argc, 3);
	assert_string_equal(bad[1], "--timeout");
	osq_client_error_free(error);
	error = NULL;
	assert_int_equal(osq_extension_parse_args(ext, &missing_argc, missing, &error),
	                 OSQ_CLIENT_ERROR_INVALID_ARGUMENT);
	osq_client_error_free(error);
	assert_string_equal(osq_extension_get_socket(ext), "/tmp/a.em");
	osq_extension_free(ext);
}

static void
test_request_parse(void **state)
{
	static const gchar *const columns[] = { "a", "b", "c" };
	g_autoptr(OsqTableRequest) old = osq_extension_table_request_new(
	        "{\"constraints\":[{\"name\":\"a\",\"list\":\"\",\"affinity\":\"TEXT\"},"
	        "{\"name\":\"b\",\"list\":[{\"op\":\"2\",\"expr\":\"x\"},{\"op\":4,\"expr\":17},"
	        "{\"op\":2},{\"op\":-1,\"expr\":\"y\"}]}],\"colsUsedBitset\":5}",
	        columns, 3);
	g_autoptr(OsqTableRequest) deep = NULL;
	g_autoptr(GString) nested = g_string_new("{\"constraints\":");
	const char *column, *value;
	int op;

	assert_int_equal(osq_table_request_get_n_constraints(old), 2);
	osq_table_request_get_constraint(old, 0, &column, &op, &value);
	assert_string_equal(column, "b");
	assert_int_equal(op, 2);
	assert_string_equal(value, "x");
	osq_table_request_get_constraint(old, 1, &column, &op, &value);
	assert_int_equal(op, 4);
	assert_string_equal(value, "17");
	osq_table_request_get_constraint(old, 2, &column, &op, &value);
	assert_null(column);
	assert_null(value);
	assert_true(osq_table_request_column_used(old, "a"));
	assert_false(osq_table_request_column_used(old, "b"));
	assert_true(osq_table_request_column_used(old, "c"));

	for (guint i = 0; i < 100000; i++)
		g_string_append_c(nested, '[');
	deep = osq_extension_table_request_new(nested->str, columns, 3);
	assert_int_equal(osq_table_request_get_n_constraints(deep), 0);
	assert_true(osq_table_request_column_used(deep, "b"));
}

static void
test_json(void **state)
{
	static const gchar *const bad[] = {
		"",   "{",       "{\"a\"}",  "[1,]",    "\"\\ud800\"", "tru", "01x",
		"1.", "[1] [2]", "\"\x01\"", "\"\\x\"", "{\"a\":1,}",  "-",   "\"\xc3\"",
	};
	g_autoptr(OsqJsonNode) node = NULL;
	gint64 value;

	for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autoptr(GError) error = NULL;
		OsqJsonNode *parsed = osq_json_parse(bad[i], strlen(bad[i]), &error);
		if (parsed != NULL)
			fail_msg("parsed %s", bad[i]);
		assert_true(g_error_matches(error, OSQ_ERROR, OSQ_ERROR_INVALID_ARGUMENT));
	}
	node = osq_json_parse(" {\"s\":\"a\\\"\\n\\u00e9\\ud83d\\ude00\",\"n\":-12,\"f\":1.5e3,"
	                      "\"t\":true,\"z\":null,\"l\":[[],{}]} ",
	                      strlen(" {\"s\":\"a\\\"\\n\\u00e9\\ud83d\\ude00\",\"n\":-12,\"f\":"
	                             "1.5e3,\"t\":true,\"z\":null,\"l\":[[],{}]} "),
	                      NULL);
	assert_non_null(node);
	assert_string_equal(osq_json_node_get_text(osq_json_object_get(node, "s")),
	                    "a\"\n\xc3\xa9\xf0\x9f\x98\x80");
	assert_true(osq_json_node_get_int64(osq_json_object_get(node, "n"), &value));
	assert_int_equal(value, -12);
	assert_false(osq_json_node_get_int64(osq_json_object_get(node, "f"), &value));
	assert_string_equal(osq_json_node_get_text(osq_json_object_get(node, "f")), "1.5e3");
	assert_int_equal(osq_json_node_get_kind(osq_json_object_get(node, "t")), OSQ_JSON_TRUE);
	assert_int_equal(osq_json_node_get_kind(osq_json_object_get(node, "z")), OSQ_JSON_NULL);
	assert_int_equal(osq_json_node_get_length(osq_json_object_get(node, "l")), 2);
	assert_null(osq_json_object_get(node, "missing"));
	assert_string_equal(osq_json_node_get_member_name(node, 0), "s");
	/* a length bound, not a NUL, ends the input */
	{
		g_autoptr(OsqJsonNode) cut = osq_json_parse("[1]garbage", 3, NULL);
		assert_non_null(cut);
	}
}

static void
test_format_double(void **state)
{
	static const struct {
		gdouble value;
		const gchar *text;
	} cases[] = {
		{ 1.0, "1.0" },
		{ 0.1, "0.1" },
		{ -2.5, "-2.5" },
		{ 1e300, "1e+300" },
		{ 1.0 / 3, "0.3333333333333333" },
		{ 123456789.0, "123456789.0" },
	};
	gchar buffer[G_ASCII_DTOSTR_BUF_SIZE + 2];

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		assert_true(osq_extension_format_double(cases[i].value, buffer, sizeof(buffer)));
		assert_string_equal(buffer, cases[i].text);
		assert_true(g_ascii_strtod(buffer, NULL) == cases[i].value);
	}
	assert_false(osq_extension_format_double(NAN, buffer, sizeof(buffer)));
	assert_false(osq_extension_format_double(INFINITY, buffer, sizeof(buffer)));
}

/* The example extension, as a process, against the fake manager. */
static void
test_example_extension(void **state)
{
	const gchar *binary = OSQ_BUILD_ROOT "/examples/c-extension/osq-ext-kernel-pressure";
	FakeManager *manager;
	g_autofree gchar *root = NULL, *cpu = NULL, *io = NULL, *path = NULL;
	g_autofree gchar *interval = g_strdup("0.1");
	CallResult result = { 0 };
	static const gchar *const request[] = {
		"action",
		"generate",
		"context",
		"{\"constraints\":[{\"name\":\"resource\",\"list\":[{\"op\":2,\"expr\":\"cpu\"}],"
		"\"affinity\":\"TEXT\"}]}",
		NULL,
	};
	static const gchar *const all[] = { "action", "generate", NULL };
	GPid pid;
	gint status = -1;
	gint64 deadline;

	if (!g_file_test(binary, G_FILE_TEST_IS_EXECUTABLE))
		skip();
	manager = fake_manager_new(777);
	root = g_build_filename(manager->dir, "pressure", NULL);
	g_assert_cmpint(g_mkdir(root, 0700), ==, 0);
	cpu = g_build_filename(root, "cpu", NULL);
	io = g_build_filename(root, "io", NULL);
	assert_true(g_file_set_contents(cpu,
	                                "some avg10=1.50 avg60=0.25 avg300=0.00 total=123456\n"
	                                "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n",
	                                -1, NULL));
	assert_true(g_file_set_contents(io, "some avg10=2.00 avg60=1.00 avg300=0.50 total=9\n", -1,
	                                NULL));
	{
		const gchar *argv[] = { binary,   "--socket", manager->path, "--interval",
			                interval, "--root",   root,          NULL };
		assert_true(g_spawn_async(NULL, (gchar **)argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD,
		                          NULL, NULL, &pid, NULL));
	}
	path = g_strdup_printf("%s.777", manager->path);
	deadline = g_get_monotonic_time() + TEST_TIMEOUT_US;
	/* the socket's path appears only once it listens: the first connect works */
	while (!g_file_test(path, G_FILE_TEST_EXISTS) && g_get_monotonic_time() < deadline)
		g_usleep(1000);

	assert_string_equal(manager->info[0], "kernel_pressure");
	call_extension(path, "table", "kernel_pressure", request, &result);
	assert_int_equal(result.code, 0);
	assert_int_equal(result.rows->len, 2); /* the constraint: cpu only */
	assert_string_equal(row_get(&result, 0, "resource"), "cpu");
	assert_string_equal(row_get(&result, 0, "kind"), "some");
	assert_string_equal(row_get(&result, 0, "avg10"), "1.5");
	assert_string_equal(row_get(&result, 0, "avg300"), "0.0");
	assert_string_equal(row_get(&result, 0, "total"), "123456");
	assert_string_equal(row_get(&result, 1, "kind"), "full");
	call_result_clear(&result);
	call_extension(path, "table", "kernel_pressure", all, &result);
	assert_int_equal(result.code, 0);
	assert_int_equal(result.rows->len, 3); /* no memory file: skipped */
	assert_string_equal(row_get(&result, 2, "resource"), "io");
	call_result_clear(&result);

	call_method(path, "shutdown", NULL);
	deadline = g_get_monotonic_time() + TEST_TIMEOUT_US;
	while (g_get_monotonic_time() < deadline) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			break;
		g_usleep(5000);
	}
	if (!WIFEXITED(status)) {
		(void)kill(pid, SIGKILL);
		(void)waitpid(pid, &status, 0);
		fail_msg("the example did not exit after shutdown()");
	}
	assert_int_equal(WEXITSTATUS(status), 0);
	g_spawn_close_pid(pid);
	assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
	(void)g_unlink(cpu);
	(void)g_unlink(io);
	(void)g_rmdir(root);
	fake_manager_free(manager);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_format_double),
		cmocka_unit_test(test_request_parse),
		cmocka_unit_test(test_parse_args),
		cmocka_unit_test(test_add_plugins),
		cmocka_unit_test(test_register_columns_ping),
		cmocka_unit_test(test_generate_context),
		cmocka_unit_test(test_config_logger_errors),
		cmocka_unit_test(test_hostile_input),
		cmocka_unit_test(test_concurrent_generate),
		cmocka_unit_test(test_manager_gone),
		cmocka_unit_test(test_shutdown),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_no_manager),
		cmocka_unit_test(test_example_extension),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
