/* SPDX-License-Identifier: Apache-2.0
 *
 * libosq's extension SDK: registers with an osquery-compatible manager and serves osquery's
 * Extension service (ping, call, shutdown) on "<manager>.<uuid>". osq_extension_run() owns
 * the main thread: it accepts connections and gives each one a thread of its own (capped at
 * OSQ_EXTENSION_MAX_CONNECTIONS; above it the listening socket is left unpolled, so callers
 * wait in the backlog), and pings the manager on its own persistent connection between
 * accepts. One self-pipe ("wake") carries osq_extension_stop() (async-signal-safe: an atomic
 * store and a write()), shutdown() calls and finished connection threads to the main loop; a
 * second pipe ("quit") is written once at the end and stays readable, so every connection
 * thread waiting for a request leaves at once. Requests are read whole before being parsed,
 * bounded by OSQ_EXTENSION_MAX_REQUEST_SIZE by libosq's resumable scanner, which refuses any
 * length prefix that points past it as soon as it arrives.
 */
#include "config.h"

#include "osq-extension-private.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "osq-client-private.h"
#include "osq-error.h"
#include "osq-json.h"
#include "osq-thrift.h"

/* a request that started arriving must be complete within this time */
#define EXT_REQUEST_TIMEOUT_US (30 * G_USEC_PER_SEC)
/* each call to the manager (register, ping, deregister) */
#define EXT_MANAGER_CALL_TIMEOUT_US (10 * G_USEC_PER_SEC)
/* polling for the manager socket to appear */
#define EXT_SOCKET_POLL_MS 20
/* osquery's SDK gate refuses dotted SDK versions below 1.7.7 but lets "0.0.0" through, and
 * libosq's own version (0.x) is below it: so the registration claims "0.0.0" */
#define EXT_SDK_VERSION     "0.0.0"
#define EXT_MIN_SDK_VERSION "0.0.0"

typedef enum {
	EXT_PLUGIN_TABLE,
	EXT_PLUGIN_CONFIG,
	EXT_PLUGIN_LOGGER,
} ExtPluginKind;

static const gchar *const ext_registry_names[] = {
	[EXT_PLUGIN_TABLE] = "table",
	[EXT_PLUGIN_CONFIG] = "config",
	[EXT_PLUGIN_LOGGER] = "logger",
};

typedef struct {
	ExtPluginKind kind;
	gchar *name;
	/* tables */
	guint n_columns;
	gchar **column_names; /* NULL-terminated */
	OsqColumnType *column_types;
	guint *column_options;
	GHashTable *column_index; /* name -> index + 1 */
	OsqTableGenerateFunc generate;
	/* config and logger */
	OsqConfigGenerateFunc config;
	OsqLoggerFunc logger;
	void *user_data;
} ExtPlugin;

typedef enum {
	EXT_STOP_NONE = 0,
	EXT_STOP_REQUESTED, /* osq_extension_stop() */
	EXT_STOP_SHUTDOWN,  /* the manager called shutdown() */
} ExtStop;

struct OsqExtension {
	gchar *name;
	gchar *version;
	gchar *socket_path;
	gdouble timeout_s;
	gdouble interval_s;
	gboolean verbose;
	GPtrArray *plugins; /* ExtPlugin */
	gint64 uuid;        /* atomic */
	gint stop;          /* ExtStop, atomic */
	gint wake_fds[2];
	gint quit_fds[2];
	gboolean ran;
	GMutex lock;
	GCond cond;
	guint active;          /* connection threads running */
	GPtrArray *finished;   /* GThread, to join */
	gchar *extension_path; /* "<socket>.<uuid>" while running */
	gint manager_fd;       /* main thread only */
	gint32 manager_seqid;  /* main thread only */
};

typedef struct {
	gchar *column;
	gint op;
	gchar *value;
} ExtConstraint;

struct OsqTableRequest {
	gchar *context;
	GArray *constraints; /* ExtConstraint */
	GHashTable *used;    /* column names; NULL: every column */
};

struct OsqRowWriter {
	const ExtPlugin *table;
	GPtrArray *rows; /* GPtrArray of n_columns values (NULL: unset) */
	GPtrArray *current;
};

typedef struct {
	OsqExtension *ext;
	gint fd;
} ExtConnection;

/* ---- errors ---- */

static gint
ext_error_export(GError *error_local, OsqClientError **error)
{
	gint code = OSQ_CLIENT_ERROR_FAILED;

	if (error_local == NULL)
		return OSQ_CLIENT_OK;
	if (error_local->domain == OSQ_CLIENT_ERROR && error_local->code > 0 &&
	    error_local->code < OSQ_CLIENT_ERROR_UNKNOWN_METHOD)
		code = error_local->code;
	if (error != NULL) {
		OsqClientError *exported = g_new0(OsqClientError, 1);
		exported->code = code;
		exported->message = g_strdup(error_local->message);
		*error = exported;
	}
	return code;
}

static gint ext_invalid(OsqClientError **error, const gchar *format, ...) G_GNUC_PRINTF(2, 3);

static gint
ext_invalid(OsqClientError **error, const gchar *format, ...)
{
	g_autoptr(GError) error_local = NULL;
	g_autofree gchar *message = NULL;
	va_list args;

	va_start(args, format);
	message = g_strdup_vprintf(format, args);
	va_end(args);
	error_local =
	        g_error_new_literal(OSQ_CLIENT_ERROR, OSQ_CLIENT_ERROR_INVALID_ARGUMENT, message);
	return ext_error_export(error_local, error);
}

/* ---- plugins ---- */

static void
ext_plugin_free(ExtPlugin *plugin)
{
	g_free(plugin->name);
	g_strfreev(plugin->column_names);
	g_free(plugin->column_types);
	g_free(plugin->column_options);
	if (plugin->column_index != NULL)
		g_hash_table_unref(plugin->column_index);
	g_free(plugin);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(ExtPlugin, ext_plugin_free)

static const ExtPlugin *
ext_find_plugin(OsqExtension *ext, const gchar *registry, const gchar *item,
                gboolean *registry_known)
{
	*registry_known = FALSE;
	for (guint i = 0; i < ext->plugins->len; i++) {
		const ExtPlugin *plugin = g_ptr_array_index(ext->plugins, i);
		if (g_strcmp0(ext_registry_names[plugin->kind], registry) != 0)
			continue;
		*registry_known = TRUE;
		if (g_strcmp0(plugin->name, item) == 0)
			return plugin;
	}
	return NULL;
}

static gint
ext_add_plugin(OsqExtension *ext, ExtPlugin *plugin_owned, OsqClientError **error)
{
	g_autoptr(ExtPlugin) plugin = plugin_owned;
	gboolean registry_known;

	if (ext == NULL)
		return ext_invalid(error, "no extension");
	if (ext->ran)
		return ext_invalid(error, "plugins must be added before osq_extension_run()");
	if (plugin->name == NULL || plugin->name[0] == '\0')
		return ext_invalid(error, "a %s plugin needs a name",
		                   ext_registry_names[plugin->kind]);
	if (ext_find_plugin(ext, ext_registry_names[plugin->kind], plugin->name, &registry_known) !=
	    NULL)
		return ext_invalid(error, "duplicate %s plugin: %s",
		                   ext_registry_names[plugin->kind], plugin->name);
	g_ptr_array_add(ext->plugins, g_steal_pointer(&plugin));
	return OSQ_CLIENT_OK;
}

static const gchar *const ext_type_names[] = {
	[OSQ_COLUMN_TYPE_UNKNOWN] = "UNKNOWN",
	[OSQ_COLUMN_TYPE_TEXT] = "TEXT",
	[OSQ_COLUMN_TYPE_INTEGER] = "INTEGER",
	[OSQ_COLUMN_TYPE_BIGINT] = "BIGINT",
	[OSQ_COLUMN_TYPE_UNSIGNED_BIGINT] = "UNSIGNED BIGINT",
	[OSQ_COLUMN_TYPE_DOUBLE] = "DOUBLE",
	[OSQ_COLUMN_TYPE_BLOB] = "BLOB",
};

int
osq_extension_add_table(OsqExtension *ext, const char *table, const OsqExtensionColumn *columns,
                        size_t n_columns, OsqTableGenerateFunc generate, void *user_data,
                        OsqClientError **error)
{
	g_autoptr(ExtPlugin) plugin = g_new0(ExtPlugin, 1);

	if (generate == NULL)
		return ext_invalid(error, "table %s has no generate function", table);
	if (n_columns == 0 || columns == NULL || n_columns > G_MAXINT32)
		return ext_invalid(error, "table %s has no columns", table);
	plugin->kind = EXT_PLUGIN_TABLE;
	plugin->name = g_strdup(table);
	plugin->n_columns = (guint)n_columns;
	plugin->column_names = g_new0(gchar *, n_columns + 1);
	plugin->column_types = g_new0(OsqColumnType, n_columns);
	plugin->column_options = g_new0(guint, n_columns);
	plugin->column_index = g_hash_table_new(g_str_hash, g_str_equal);
	for (gsize i = 0; i < n_columns; i++) {
		const OsqExtensionColumn *column = &columns[i];
		if (column->name == NULL || column->name[0] == '\0')
			return ext_invalid(error,
			                   "table %s: column %" G_GSIZE_FORMAT " has no name",
			                   table, i);
		if (column->type <= OSQ_COLUMN_TYPE_UNKNOWN || column->type > OSQ_COLUMN_TYPE_BLOB)
			return ext_invalid(error, "table %s: column %s has an unknown type", table,
			                   column->name);
		if (g_hash_table_contains(plugin->column_index, column->name))
			return ext_invalid(error, "table %s: duplicate column %s", table,
			                   column->name);
		plugin->column_names[i] = g_strdup(column->name);
		plugin->column_types[i] = column->type;
		plugin->column_options[i] = column->options;
		g_hash_table_insert(plugin->column_index, plugin->column_names[i],
		                    GSIZE_TO_POINTER(i + 1));
	}
	plugin->generate = generate;
	plugin->user_data = user_data;
	return ext_add_plugin(ext, g_steal_pointer(&plugin), error);
}

int
osq_extension_add_config(OsqExtension *ext, const char *name, OsqConfigGenerateFunc func,
                         void *user_data, OsqClientError **error)
{
	ExtPlugin *plugin;

	if (func == NULL)
		return ext_invalid(error, "config plugin %s has no function", name);
	plugin = g_new0(ExtPlugin, 1);
	plugin->kind = EXT_PLUGIN_CONFIG;
	plugin->name = g_strdup(name);
	plugin->config = func;
	plugin->user_data = user_data;
	return ext_add_plugin(ext, plugin, error);
}

int
osq_extension_add_logger(OsqExtension *ext, const char *name, OsqLoggerFunc func, void *user_data,
                         OsqClientError **error)
{
	ExtPlugin *plugin;

	if (func == NULL)
		return ext_invalid(error, "logger plugin %s has no function", name);
	plugin = g_new0(ExtPlugin, 1);
	plugin->kind = EXT_PLUGIN_LOGGER;
	plugin->name = g_strdup(name);
	plugin->logger = func;
	plugin->user_data = user_data;
	return ext_add_plugin(ext, plugin, error);
}

/* ---- the extension object ---- */

OsqExtension *
osq_extension_new(const char *name, const char *version)
{
	OsqExtension *ext;

	if (name == NULL || name[0] == '\0')
		return NULL;
	ext = g_new0(OsqExtension, 1);
	ext->name = g_strdup(name);
	ext->version = g_strdup(version != NULL ? version : "0.0.0");
	ext->socket_path = g_strdup(OSQ_EXTENSION_DEFAULT_SOCKET);
	ext->timeout_s = 3;
	ext->interval_s = 3;
	ext->plugins = g_ptr_array_new_with_free_func((GDestroyNotify)ext_plugin_free);
	ext->finished = g_ptr_array_new();
	ext->manager_fd = -1;
	g_mutex_init(&ext->lock);
	g_cond_init(&ext->cond);
	/* created here, so osq_extension_stop() works before run() and from a signal handler */
	if (pipe2(ext->wake_fds, O_CLOEXEC | O_NONBLOCK) != 0) {
		ext->wake_fds[0] = ext->wake_fds[1] = -1;
	}
	if (pipe2(ext->quit_fds, O_CLOEXEC | O_NONBLOCK) != 0) {
		ext->quit_fds[0] = ext->quit_fds[1] = -1;
	}
	return ext;
}

static void
ext_close(gint *fd)
{
	if (*fd >= 0)
		(void)close(*fd);
	*fd = -1;
}

void
osq_extension_free(OsqExtension *ext)
{
	if (ext == NULL)
		return;
	ext_close(&ext->wake_fds[0]);
	ext_close(&ext->wake_fds[1]);
	ext_close(&ext->quit_fds[0]);
	ext_close(&ext->quit_fds[1]);
	ext_close(&ext->manager_fd);
	g_ptr_array_unref(ext->plugins);
	g_ptr_array_unref(ext->finished);
	g_mutex_clear(&ext->lock);
	g_cond_clear(&ext->cond);
	g_free(ext->extension_path);
	g_free(ext->name);
	g_free(ext->version);
	g_free(ext->socket_path);
	g_free(ext);
}

void
osq_extension_set_socket(OsqExtension *ext, const char *manager_socket_path)
{
	if (ext == NULL || manager_socket_path == NULL)
		return;
	g_free(ext->socket_path);
	ext->socket_path = g_strdup(manager_socket_path);
}

const char *
osq_extension_get_socket(const OsqExtension *ext)
{
	return ext != NULL ? ext->socket_path : NULL;
}

void
osq_extension_set_timeout(OsqExtension *ext, double seconds)
{
	if (ext != NULL && seconds > 0 && isfinite(seconds))
		ext->timeout_s = seconds;
}

void
osq_extension_set_interval(OsqExtension *ext, double seconds)
{
	if (ext != NULL && seconds > 0 && isfinite(seconds))
		ext->interval_s = seconds;
}

bool
osq_extension_get_verbose(const OsqExtension *ext)
{
	return ext != NULL && ext->verbose;
}

int64_t
osq_extension_get_uuid(const OsqExtension *ext)
{
	if (ext == NULL)
		return 0;
	return __atomic_load_n(&ext->uuid, __ATOMIC_SEQ_CST);
}

static void
ext_wake(OsqExtension *ext)
{
	const guint8 byte = 1;
	gint errsv = errno;

	/* a full pipe already wakes the main loop */
	while (write(ext->wake_fds[1], &byte, 1) < 0 && errno == EINTR)
		;
	errno = errsv;
}

static void
ext_request_stop(OsqExtension *ext, ExtStop reason)
{
	gint none = EXT_STOP_NONE;

	(void)__atomic_compare_exchange_n(&ext->stop, &none, (gint)reason, FALSE, __ATOMIC_SEQ_CST,
	                                  __ATOMIC_SEQ_CST);
	ext_wake(ext);
}

void
osq_extension_stop(OsqExtension *ext)
{
	if (ext != NULL)
		ext_request_stop(ext, EXT_STOP_REQUESTED);
}

static ExtStop
ext_get_stop(OsqExtension *ext)
{
	return (ExtStop)__atomic_load_n(&ext->stop, __ATOMIC_SEQ_CST);
}

/* ---- arguments ---- */

static gint
ext_parse_seconds(const gchar *flag, const gchar *text, gdouble *seconds, OsqClientError **error)
{
	gchar *end = NULL;
	gdouble value;

	errno = 0;
	value = g_ascii_strtod(text, &end);
	if (errno != 0 || end == text || *end != '\0' || !(value > 0) || !isfinite(value))
		return ext_invalid(error, "--%s needs a positive number of seconds, not \"%s\"",
		                   flag, text);
	*seconds = value;
	return OSQ_CLIENT_OK;
}

int
osq_extension_parse_args(OsqExtension *ext, int *argc, char **argv, OsqClientError **error)
{
	static const gchar *const valued[] = { "socket", "timeout", "interval" };
	g_autofree gchar *socket_path = NULL;
	gdouble timeout_s = ext != NULL ? ext->timeout_s : 0;
	gdouble interval_s = ext != NULL ? ext->interval_s : 0;
	gboolean verbose = ext != NULL ? ext->verbose : FALSE;
	g_autoptr(GPtrArray) kept = g_ptr_array_new();

	if (ext == NULL || argc == NULL || (*argc > 0 && argv == NULL))
		return ext_invalid(error, "no extension or arguments");
	for (gint i = 0; i < *argc; i++) {
		const gchar *arg = argv[i];
		const gchar *flag, *value = NULL, *equals;
		gsize flag_len;
		guint which = G_N_ELEMENTS(valued);

		if (i == 0 || arg == NULL || arg[0] != '-' || g_strcmp0(arg, "-") == 0 ||
		    g_strcmp0(arg, "--") == 0) {
			g_ptr_array_add(kept, argv[i]);
			continue;
		}
		flag = arg + (arg[1] == '-' ? 2 : 1);
		equals = strchr(flag, '=');
		flag_len = equals != NULL ? (gsize)(equals - flag) : strlen(flag);
		if (flag_len == 7 && strncmp(flag, "verbose", 7) == 0 && equals == NULL) {
			verbose = TRUE;
			continue;
		}
		for (guint j = 0; j < G_N_ELEMENTS(valued); j++) {
			if (strlen(valued[j]) == flag_len &&
			    strncmp(flag, valued[j], flag_len) == 0)
				which = j;
		}
		if (which == G_N_ELEMENTS(valued)) {
			g_ptr_array_add(kept, argv[i]);
			continue;
		}
		if (equals != NULL) {
			value = equals + 1;
		} else if (i + 1 < *argc && argv[i + 1] != NULL) {
			value = argv[++i];
		} else {
			return ext_invalid(error, "--%s needs a value", valued[which]);
		}
		if (which == 0) {
			if (value[0] == '\0')
				return ext_invalid(error, "--socket needs a path");
			g_free(socket_path);
			socket_path = g_strdup(value);
		} else {
			gint rc = ext_parse_seconds(valued[which], value,
			                            which == 1 ? &timeout_s : &interval_s, error);
			if (rc != OSQ_CLIENT_OK)
				return rc;
		}
	}
	if (socket_path != NULL) {
		g_free(ext->socket_path);
		ext->socket_path = g_steal_pointer(&socket_path);
	}
	ext->timeout_s = timeout_s;
	ext->interval_s = interval_s;
	ext->verbose = verbose;
	for (guint i = 0; i < kept->len; i++)
		argv[i] = g_ptr_array_index(kept, i);
	argv[kept->len] = NULL;
	*argc = (gint)kept->len;
	return OSQ_CLIENT_OK;
}

/* ---- table requests ---- */

static void
ext_constraint_clear(gpointer data)
{
	ExtConstraint *constraint = data;

	g_free(constraint->column);
	g_free(constraint->value);
}

void
osq_extension_table_request_free(OsqTableRequest *request)
{
	if (request == NULL)
		return;
	g_free(request->context);
	g_array_unref(request->constraints);
	if (request->used != NULL)
		g_hash_table_unref(request->used);
	g_free(request);
}

/* An "op" as an integer, or as decimal text (older osquery). */
static gboolean
ext_json_op(const OsqJsonNode *node, gint *op)
{
	gint64 value;

	if (osq_json_node_get_kind(node) == OSQ_JSON_STRING) {
		if (!g_ascii_string_to_signed(osq_json_node_get_text(node), 10, 0, G_MAXINT, &value,
		                              NULL))
			return FALSE;
	} else if (!osq_json_node_get_int64(node, &value) || value < 0 || value > G_MAXINT) {
		return FALSE;
	}
	*op = (gint)value;
	return TRUE;
}

static void
ext_request_add_constraints(OsqTableRequest *request, const OsqJsonNode *constraints)
{
	for (guint i = 0; i < osq_json_node_get_length(constraints); i++) {
		const OsqJsonNode *entry = osq_json_node_get_member(constraints, i);
		const OsqJsonNode *name = osq_json_object_get(entry, "name");
		const OsqJsonNode *list = osq_json_object_get(entry, "list");

		if (osq_json_node_get_kind(name) != OSQ_JSON_STRING ||
		    osq_json_node_get_kind(list) != OSQ_JSON_ARRAY)
			continue; /* older osquery sends an empty list as "" */
		for (guint j = 0; j < osq_json_node_get_length(list); j++) {
			const OsqJsonNode *item = osq_json_node_get_member(list, j);
			const OsqJsonNode *expr = osq_json_object_get(item, "expr");
			ExtConstraint constraint = { 0 };
			OsqJsonKind kind = osq_json_node_get_kind(expr);

			if (!ext_json_op(osq_json_object_get(item, "op"), &constraint.op) ||
			    (kind != OSQ_JSON_STRING && kind != OSQ_JSON_NUMBER))
				continue;
			constraint.column = g_strdup(osq_json_node_get_text(name));
			constraint.value = g_strdup(osq_json_node_get_text(expr));
			g_array_append_val(request->constraints, constraint);
		}
	}
}

static void
ext_request_set_used(OsqTableRequest *request, const OsqJsonNode *root, const gchar *const *columns,
                     guint n_columns)
{
	const OsqJsonNode *names = osq_json_object_get(root, "colsUsed");
	const OsqJsonNode *bitset = osq_json_object_get(root, "colsUsedBitset");
	guint64 bits;

	if (osq_json_node_get_kind(names) == OSQ_JSON_ARRAY) {
		request->used = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
		for (guint i = 0; i < osq_json_node_get_length(names); i++) {
			const OsqJsonNode *name = osq_json_node_get_member(names, i);
			if (osq_json_node_get_kind(name) == OSQ_JSON_STRING)
				g_hash_table_add(request->used,
				                 g_strdup(osq_json_node_get_text(name)));
		}
		return;
	}
	/* an unsigned 64-bit mask: bit i is column i, bit 63 every column from 63 on */
	if (osq_json_node_get_kind(bitset) != OSQ_JSON_NUMBER ||
	    !g_ascii_string_to_unsigned(osq_json_node_get_text(bitset), 10, 0, G_MAXUINT64, &bits,
	                                NULL))
		return;
	request->used = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	for (guint i = 0; i < n_columns; i++) {
		if ((bits >> MIN(i, 63u)) & 1)
			g_hash_table_add(request->used, g_strdup(columns[i]));
	}
}

OsqTableRequest *
osq_extension_table_request_new(const gchar *context, const gchar *const *columns, guint n_columns)
{
	OsqTableRequest *request = g_new0(OsqTableRequest, 1);
	g_autoptr(OsqJsonNode) root = NULL;

	request->context = g_strdup(context != NULL ? context : "");
	request->constraints = g_array_new(FALSE, FALSE, sizeof(ExtConstraint));
	g_array_set_clear_func(request->constraints, ext_constraint_clear);
	if (context == NULL || context[0] == '\0')
		return request;
	root = osq_json_parse(context, strlen(context), NULL);
	if (osq_json_node_get_kind(root) != OSQ_JSON_OBJECT)
		return request;
	ext_request_add_constraints(request, osq_json_object_get(root, "constraints"));
	ext_request_set_used(request, root, columns, n_columns);
	return request;
}

size_t
osq_table_request_get_n_constraints(const OsqTableRequest *request)
{
	return request != NULL ? request->constraints->len : 0;
}

void
osq_table_request_get_constraint(const OsqTableRequest *request, size_t i, const char **column,
                                 int *op, const char **value)
{
	const ExtConstraint *constraint = NULL;

	if (request != NULL && i < request->constraints->len)
		constraint = &g_array_index(request->constraints, ExtConstraint, i);
	if (column != NULL)
		*column = constraint != NULL ? constraint->column : NULL;
	if (op != NULL)
		*op = constraint != NULL ? constraint->op : 0;
	if (value != NULL)
		*value = constraint != NULL ? constraint->value : NULL;
}

bool
osq_table_request_column_used(const OsqTableRequest *request, const char *column)
{
	if (request == NULL || column == NULL)
		return false;
	return request->used == NULL || g_hash_table_contains(request->used, column);
}

const char *
osq_table_request_get_context(const OsqTableRequest *request)
{
	return request != NULL ? request->context : NULL;
}

/* ---- row writer ---- */

static void
ext_row_writer_set(OsqRowWriter *rows, const gchar *column, gchar *value_owned)
{
	g_autofree gchar *value = value_owned;
	gpointer found;
	guint index;

	if (rows == NULL || column == NULL)
		return;
	found = g_hash_table_lookup(rows->table->column_index, column);
	if (found == NULL)
		return;
	index = GPOINTER_TO_UINT(found) - 1;
	if (rows->current == NULL)
		osq_row_writer_begin_row(rows);
	g_free(g_ptr_array_index(rows->current, index));
	g_ptr_array_index(rows->current, index) = g_steal_pointer(&value);
}

void
osq_row_writer_begin_row(OsqRowWriter *rows)
{
	if (rows == NULL)
		return;
	rows->current = g_ptr_array_new_full(rows->table->n_columns, g_free);
	g_ptr_array_set_size(rows->current, (gint)rows->table->n_columns);
	g_ptr_array_add(rows->rows, rows->current);
}

void
osq_row_writer_set_text(OsqRowWriter *rows, const char *column, const char *value)
{
	if (value != NULL)
		ext_row_writer_set(rows, column, g_strdup(value));
}

void
osq_row_writer_set_int64(OsqRowWriter *rows, const char *column, int64_t value)
{
	ext_row_writer_set(rows, column, g_strdup_printf("%" G_GINT64_FORMAT, (gint64)value));
}

gboolean
osq_extension_format_double(gdouble value, gchar *buffer, gsize size)
{
	static const gchar *const formats[] = { "%.15g", "%.16g", "%.17g" };

	if (!isfinite(value) || size < G_ASCII_DTOSTR_BUF_SIZE)
		return FALSE;
	for (guint i = 0; i < G_N_ELEMENTS(formats); i++) {
		g_ascii_formatd(buffer, (gint)size - 2, formats[i], value);
		if (g_ascii_strtod(buffer, NULL) == value)
			break;
	}
	if (strpbrk(buffer, ".eE") == NULL)
		g_strlcat(buffer, ".0", size);
	return TRUE;
}

void
osq_row_writer_set_double(OsqRowWriter *rows, const char *column, double value)
{
	gchar buffer[G_ASCII_DTOSTR_BUF_SIZE + 2];

	if (osq_extension_format_double(value, buffer, sizeof(buffer)))
		ext_row_writer_set(rows, column, g_strdup(buffer));
}

/* ---- replies ---- */

static void
ext_write_status(GByteArray *out, gint32 code, const gchar *message, gint64 uuid)
{
	osq_thrift_write_field_begin(out, OSQ_THRIFT_I32, 1);
	osq_thrift_write_i32(out, code);
	osq_thrift_write_field_begin(out, OSQ_THRIFT_STRING, 2);
	osq_thrift_write_string(out, message);
	osq_thrift_write_field_begin(out, OSQ_THRIFT_I64, 3);
	osq_thrift_write_i64(out, uuid);
	osq_thrift_write_field_stop(out);
}

/* A string map from @n pairs of @keys and @values; NULL values are left out. */
static void
ext_write_map(GByteArray *out, const gchar *const *keys, gpointer const *values, guint n)
{
	gint32 count = 0;

	for (guint i = 0; i < n; i++)
		count += values[i] != NULL;
	osq_thrift_write_map_begin(out, OSQ_THRIFT_STRING, OSQ_THRIFT_STRING, count);
	for (guint i = 0; i < n; i++) {
		if (values[i] == NULL)
			continue;
		osq_thrift_write_string(out, keys[i]);
		osq_thrift_write_string(out, values[i]);
	}
}

/* A call() reply: ExtensionResponse{status, response}. @rows holds GPtrArrays of values keyed
 * by @keys (a table's column names), or of alternating keys and values when @keys is NULL. */
static void
ext_write_call_reply(GByteArray *out, gint32 seqid, gint32 code, const gchar *message, gint64 uuid,
                     GPtrArray *rows, const gchar *const *keys)
{
	osq_thrift_write_message_begin(out, "call", OSQ_THRIFT_REPLY, seqid);
	osq_thrift_write_field_begin(out, OSQ_THRIFT_STRUCT, 0);
	osq_thrift_write_field_begin(out, OSQ_THRIFT_STRUCT, 1);
	ext_write_status(out, code, message, uuid);
	osq_thrift_write_field_begin(out, OSQ_THRIFT_LIST, 2);
	osq_thrift_write_list_begin(out, OSQ_THRIFT_MAP,
	                            code == 0 && rows != NULL ? (gint32)rows->len : 0);
	for (guint i = 0; code == 0 && rows != NULL && i < rows->len; i++) {
		GPtrArray *row = g_ptr_array_index(rows, i);
		if (keys != NULL) {
			ext_write_map(out, keys, row->pdata, row->len);
			continue;
		}
		osq_thrift_write_map_begin(out, OSQ_THRIFT_STRING, OSQ_THRIFT_STRING,
		                           (gint32)(row->len / 2));
		for (guint j = 0; j + 1 < row->len; j += 2) {
			osq_thrift_write_string(out, g_ptr_array_index(row, j));
			osq_thrift_write_string(out, g_ptr_array_index(row, j + 1));
		}
	}
	osq_thrift_write_field_stop(out); /* ExtensionResponse */
	osq_thrift_write_field_stop(out); /* result */
}

/* A row of alternating keys and values, each copied; ends at a NULL key. */
static GPtrArray *
ext_pairs_row(const gchar *key, ...)
{
	GPtrArray *row = g_ptr_array_new_with_free_func(g_free);
	va_list args;

	va_start(args, key);
	for (const gchar *k = key; k != NULL; k = va_arg(args, const gchar *)) {
		g_ptr_array_add(row, g_strdup(k));
		g_ptr_array_add(row, g_strdup(va_arg(args, const gchar *)));
	}
	va_end(args);
	return row;
}

static GPtrArray *
ext_rows_new(void)
{
	return g_ptr_array_new_with_free_func((GDestroyNotify)g_ptr_array_unref);
}

/* ---- call() handlers: each sets a status and, on success, rows ---- */

typedef struct {
	gint32 code;
	gchar *message;
	GPtrArray *rows;
	const gchar *const *keys;
} ExtResponse;

static void ext_response_fail(ExtResponse *response, const gchar *format, ...) G_GNUC_PRINTF(2, 3);

static void
ext_response_fail(ExtResponse *response, const gchar *format, ...)
{
	va_list args;

	response->code = 1;
	g_free(response->message);
	va_start(args, format);
	response->message = g_strdup_vprintf(format, args);
	va_end(args);
}

static void
ext_table_columns(const ExtPlugin *table, ExtResponse *response)
{
	response->rows = ext_rows_new();
	for (guint i = 0; i < table->n_columns; i++) {
		g_autofree gchar *op = g_strdup_printf("%u", table->column_options[i]);
		g_ptr_array_add(response->rows,
		                ext_pairs_row("id", "column", "name", table->column_names[i],
		                              "type", ext_type_names[table->column_types[i]], "op",
		                              op, NULL));
	}
}

static void
ext_table_generate(const ExtPlugin *table, GHashTable *request, ExtResponse *response)
{
	g_autoptr(OsqTableRequest) scan = osq_extension_table_request_new(
	        g_hash_table_lookup(request, "context"), (const gchar *const *)table->column_names,
	        table->n_columns);
	OsqRowWriter writer = { .table = table, .rows = ext_rows_new() };
	gchar *error_message = NULL;
	gint rc;

	rc = table->generate(scan, &writer, table->user_data, &error_message);
	if (rc != 0) {
		ext_response_fail(response, "%s",
		                  error_message != NULL ? error_message : "table generate failed");
		free(error_message);
		g_ptr_array_unref(writer.rows);
		return;
	}
	free(error_message);
	response->rows = writer.rows;
	response->keys = (const gchar *const *)table->column_names;
}

static void
ext_call_table(const ExtPlugin *table, GHashTable *request, ExtResponse *response)
{
	const gchar *action = g_hash_table_lookup(request, "action");

	if (action == NULL) {
		ext_response_fail(response, "Table plugins must include a request action");
	} else if (g_str_equal(action, "columns")) {
		ext_table_columns(table, response);
	} else if (g_str_equal(action, "generate")) {
		ext_table_generate(table, request, response);
	} else if (g_str_equal(action, "insert") || g_str_equal(action, "update") ||
	           g_str_equal(action, "delete")) {
		/* what osquery's read-only tables answer to writes */
		response->rows = ext_rows_new();
		g_ptr_array_add(response->rows, ext_pairs_row("status", "readonly", NULL));
	} else {
		ext_response_fail(response, "Unknown table action: %s", action);
	}
}

static void
ext_call_config(const ExtPlugin *config, GHashTable *request, ExtResponse *response)
{
	const gchar *action = g_hash_table_lookup(request, "action");
	gchar *error_message = NULL;
	gchar *json;

	if (g_strcmp0(action, "genConfig") != 0) {
		ext_response_fail(response, "Not a valid config plugin action: %s",
		                  action != NULL ? action : "(none)");
		return;
	}
	json = config->config(config->user_data, &error_message);
	if (json == NULL) {
		ext_response_fail(response, "%s",
		                  error_message != NULL ? error_message : "config generate failed");
		free(error_message);
		return;
	}
	free(error_message);
	response->rows = ext_rows_new();
	g_ptr_array_add(response->rows, ext_pairs_row(config->name, json, NULL));
	free(json);
}

static void
ext_call_logger(const ExtPlugin *logger, GHashTable *request, ExtResponse *response)
{
	/* osquery's order: the first key present says what the request is */
	static const gchar *const kinds[] = { "string", "snapshot", "init",
		                              "status", "event",    "health" };
	const gchar *action = g_hash_table_lookup(request, "action");
	const gchar *log = g_hash_table_lookup(request, "log");
	gint rc = 0;

	for (guint i = 0; i < G_N_ELEMENTS(kinds); i++) {
		const gchar *value = g_hash_table_lookup(request, kinds[i]);
		if (value == NULL)
			continue;
		if (g_str_equal(kinds[i], "status")) {
			rc = logger->logger("status", log != NULL ? log : "", logger->user_data);
		} else {
			rc = logger->logger(kinds[i], value, logger->user_data);
			/* init carries the status lines buffered before the logger started */
			if (rc == 0 && g_str_equal(kinds[i], "init") && log != NULL &&
			    log[0] != '\0')
				rc = logger->logger("status", log, logger->user_data);
		}
		if (rc != 0)
			ext_response_fail(response, "logger %s failed to log %s", logger->name,
			                  kinds[i]);
		return;
	}
	if (g_strcmp0(action, "features") == 0)
		return; /* code 0: no LOGSTATUS, no LOGEVENT */
	ext_response_fail(response, "Unknown logger request");
}

static void
ext_handle_call(OsqExtension *ext, const gchar *registry, const gchar *item, GHashTable *request,
                ExtResponse *response)
{
	gboolean registry_known;
	const ExtPlugin *plugin = ext_find_plugin(ext, registry, item, &registry_known);

	if (plugin == NULL) {
		if (!registry_known)
			ext_response_fail(response, "Unknown registry: %s", registry);
		else
			ext_response_fail(response, "Unknown registry item: %s", item);
		return;
	}
	switch (plugin->kind) {
	case EXT_PLUGIN_TABLE:
		ext_call_table(plugin, request, response);
		break;
	case EXT_PLUGIN_CONFIG:
		ext_call_config(plugin, request, response);
		break;
	case EXT_PLUGIN_LOGGER:
		ext_call_logger(plugin, request, response);
		break;
	default:
		g_assert_not_reached();
	}
}

/* Reads call()'s arguments: 1 registry, 2 item, 3 request. */
static gboolean
ext_read_call_args(OsqThriftReader *reader, gchar **registry, gchar **item, GHashTable **request,
                   GError **error)
{
	for (;;) {
		OsqThriftType type;
		gint16 id;
		if (!osq_thrift_read_field_begin(reader, &type, &id, error))
			return FALSE;
		if (type == OSQ_THRIFT_STOP)
			return TRUE;
		if ((id == 1 || id == 2) && type == OSQ_THRIFT_STRING) {
			gchar **target = id == 1 ? registry : item;
			g_free(*target);
			if (!osq_thrift_read_string(reader, target, error))
				return FALSE;
		} else if (id == 3 && type == OSQ_THRIFT_MAP) {
			g_clear_pointer(request, g_hash_table_unref);
			if (!osq_thrift_read_string_map(reader, request, error))
				return FALSE;
		} else if (!osq_thrift_skip(reader, type, error)) {
			return FALSE;
		}
	}
}

/* Handles one whole message; FALSE means drop the connection (malformed input). @out gets
 * the reply, empty for a oneway message. */
static gboolean
ext_handle_message(OsqExtension *ext, const guint8 *data, gsize len, GByteArray *out,
                   gboolean *shutdown)
{
	OsqThriftReader reader;
	g_autofree gchar *name = NULL;
	OsqThriftMessageType type;
	gint32 seqid;
	gint64 uuid = osq_extension_get_uuid(ext);

	osq_thrift_reader_init(&reader, data, len);
	if (!osq_thrift_read_message_begin(&reader, &name, &type, &seqid, NULL))
		return FALSE;
	if (type != OSQ_THRIFT_CALL && type != OSQ_THRIFT_ONEWAY)
		return FALSE;
	if (g_str_equal(name, "call")) {
		g_autofree gchar *registry = NULL, *item = NULL;
		g_autoptr(GHashTable) request = NULL;
		ExtResponse response = { .code = 0 };
		if (!ext_read_call_args(&reader, &registry, &item, &request, NULL))
			return FALSE;
		if (request == NULL)
			request = g_hash_table_new(g_str_hash, g_str_equal);
		ext_handle_call(ext, registry != NULL ? registry : "", item != NULL ? item : "",
		                request, &response);
		ext_write_call_reply(out, seqid, response.code,
		                     response.message != NULL ? response.message : "OK", uuid,
		                     response.rows, response.keys);
		g_free(response.message);
		if (response.rows != NULL)
			g_ptr_array_unref(response.rows);
	} else if (!osq_thrift_skip(&reader, OSQ_THRIFT_STRUCT, NULL)) {
		return FALSE;
	} else if (g_str_equal(name, "ping")) {
		osq_thrift_write_message_begin(out, name, OSQ_THRIFT_REPLY, seqid);
		osq_thrift_write_field_begin(out, OSQ_THRIFT_STRUCT, 0);
		ext_write_status(out, 0, "OK", uuid);
		osq_thrift_write_field_stop(out);
	} else if (g_str_equal(name, "shutdown")) {
		osq_thrift_write_message_begin(out, name, OSQ_THRIFT_REPLY, seqid);
		osq_thrift_write_field_stop(out);
		*shutdown = TRUE;
	} else {
		g_autofree gchar *message = g_strdup_printf("Unknown function %s", name);
		osq_thrift_write_application_exception(out, name, seqid,
		                                       OSQ_THRIFT_APP_UNKNOWN_METHOD, message);
	}
	if (type == OSQ_THRIFT_ONEWAY)
		g_byte_array_set_size(out, 0);
	return TRUE;
}

/* ---- socket I/O ---- */

/* Waits for @events on @fd until @deadline (-1: none); also returns (FALSE, no error set
 * to OSQ_ERROR_CANCELLED) when @quit_fd becomes readable. */
static gboolean
ext_wait(gint fd, gshort events, gint64 deadline, gint quit_fd, GError **error)
{
	for (;;) {
		struct pollfd pfds[2] = { { .fd = fd, .events = events },
			                  { .fd = quit_fd, .events = POLLIN } };
		gint timeout = -1;
		gint rc;

		if (deadline >= 0) {
			gint64 left = deadline - g_get_monotonic_time();
			if (left <= 0) {
				g_set_error_literal(error, OSQ_ERROR, OSQ_ERROR_TIMED_OUT,
				                    "timed out");
				return FALSE;
			}
			timeout = (gint)MIN((left + 999) / 1000, G_MAXINT);
		}
		rc = poll(pfds, quit_fd >= 0 ? 2 : 1, timeout);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc < 0) {
			g_set_error(error, OSQ_ERROR, OSQ_ERROR_IO, "poll: %s", g_strerror(errno));
			return FALSE;
		}
		if (quit_fd >= 0 && pfds[1].revents != 0) {
			g_set_error_literal(error, OSQ_ERROR, OSQ_ERROR_CANCELLED, "stopping");
			return FALSE;
		}
		if (rc > 0)
			return TRUE;
	}
}

static gboolean
ext_send(gint fd, const guint8 *data, gsize len, gint64 deadline, gint quit_fd, GError **error)
{
	gsize sent = 0;

	while (sent < len) {
		ssize_t n = send(fd, data + sent, len - sent, MSG_NOSIGNAL);
		if (n > 0) {
			sent += (gsize)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (!ext_wait(fd, POLLOUT, deadline, quit_fd, error))
				return FALSE;
			continue;
		}
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_IO, "send: %s", g_strerror(errno));
		return FALSE;
	}
	return TRUE;
}

/* Reads one whole message into @in (which may already hold bytes of it); *@length is its
 * size. Fails with OSQ_ERROR_NOT_FOUND at a clean end of stream (nothing buffered).
 * @first_deadline bounds waiting for the first byte, EXT_REQUEST_TIMEOUT_US the rest. */
static gboolean
ext_receive(gint fd, GByteArray *in, gsize max, gint64 first_deadline, gint quit_fd, gsize *length,
            GError **error)
{
	gint64 deadline =
	        in->len > 0 ? g_get_monotonic_time() + EXT_REQUEST_TIMEOUT_US : first_deadline;

	OsqClientScanner scanner;

	/* the resumable scanner walks each byte once, and refuses a length prefix that points
	 * past @max as soon as it is seen */
	osq_client_scanner_init(&scanner, max);
	for (;;) {
		guint old_len = in->len;
		gsize chunk;
		ssize_t n;

		if (old_len > 0) {
			OsqThriftScan scan =
			        osq_client_scanner_run(&scanner, in->data, in->len, length, error);
			if (scan == OSQ_THRIFT_SCAN_COMPLETE)
				return TRUE;
			if (scan == OSQ_THRIFT_SCAN_INVALID)
				return FALSE;
		}
		chunk = MIN(MAX((gsize)16384, (gsize)old_len), max + 1 - MIN(old_len, max));
		g_byte_array_set_size(in, old_len + (guint)chunk);
		n = recv(fd, in->data + old_len, chunk, MSG_DONTWAIT);
		g_byte_array_set_size(in, old_len + (n > 0 ? (guint)n : 0));
		if (n > 0) {
			if (old_len == 0)
				deadline = g_get_monotonic_time() + EXT_REQUEST_TIMEOUT_US;
			continue;
		}
		if (n == 0) {
			g_set_error_literal(error, OSQ_ERROR,
			                    old_len == 0 ? OSQ_ERROR_NOT_FOUND : OSQ_ERROR_IO,
			                    "connection closed");
			return FALSE;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			if (!ext_wait(fd, POLLIN, deadline, quit_fd, error))
				return FALSE;
			continue;
		}
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_IO, "recv: %s", g_strerror(errno));
		return FALSE;
	}
}

/* ---- connection threads ---- */

static void
ext_connection_serve(ExtConnection *connection)
{
	OsqExtension *ext = connection->ext;
	g_autoptr(GByteArray) in = g_byte_array_new();
	g_autoptr(GByteArray) out = g_byte_array_new();

	for (;;) {
		g_autoptr(GError) error_local = NULL;
		gboolean shutdown = FALSE;
		gsize length = 0;

		if (!ext_receive(connection->fd, in, OSQ_EXTENSION_MAX_REQUEST_SIZE, -1,
		                 ext->quit_fds[0], &length, &error_local))
			return;
		g_byte_array_set_size(out, 0);
		if (!ext_handle_message(ext, in->data, length, out, &shutdown))
			return;
		g_byte_array_remove_range(in, 0, (guint)length);
		if (out->len > 0 && !ext_send(connection->fd, out->data, out->len,
		                              g_get_monotonic_time() + EXT_REQUEST_TIMEOUT_US,
		                              ext->quit_fds[0], &error_local))
			return;
		if (shutdown) {
			ext_request_stop(ext, EXT_STOP_SHUTDOWN);
			return;
		}
	}
}

static gpointer
ext_connection_thread(gpointer data)
{
	ExtConnection *connection = data;
	OsqExtension *ext = connection->ext;

	ext_connection_serve(connection);
	(void)close(connection->fd);
	g_free(connection);
	/* osq_extension_run() joins this thread before it returns, so @ext outlives it */
	g_mutex_lock(&ext->lock);
	g_ptr_array_add(ext->finished, g_thread_self());
	ext->active--;
	g_cond_signal(&ext->cond);
	g_mutex_unlock(&ext->lock);
	ext_wake(ext);
	return NULL;
}

static void
ext_join_finished(OsqExtension *ext)
{
	g_autoptr(GPtrArray) finished = NULL;

	g_mutex_lock(&ext->lock);
	finished = g_steal_pointer(&ext->finished);
	ext->finished = g_ptr_array_new();
	g_mutex_unlock(&ext->lock);
	for (guint i = 0; i < finished->len; i++)
		g_thread_join(g_ptr_array_index(finished, i));
}

/* Accepts what waits on @listen_fd, a thread per connection while under the cap. */
static void
ext_accept(OsqExtension *ext, gint listen_fd)
{
	for (;;) {
		g_autoptr(GError) error_local = NULL;
		ExtConnection *connection;
		GThread *thread;
		gint fd;

		g_mutex_lock(&ext->lock);
		if (ext->active >= OSQ_EXTENSION_MAX_CONNECTIONS) {
			g_mutex_unlock(&ext->lock);
			return;
		}
		g_mutex_unlock(&ext->lock);
		fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return; /* EAGAIN, or out of descriptors: try again on the next wake */
		}
		connection = g_new0(ExtConnection, 1);
		connection->ext = ext;
		connection->fd = fd;
		g_mutex_lock(&ext->lock);
		ext->active++;
		g_mutex_unlock(&ext->lock);
		/* the reference g_thread_try_new() returns is the one ext_join_finished() drops */
		thread = g_thread_try_new("osq-ext-conn", ext_connection_thread, connection,
		                          &error_local);
		if (thread == NULL) {
			(void)close(fd);
			g_free(connection);
			g_mutex_lock(&ext->lock);
			ext->active--;
			g_mutex_unlock(&ext->lock);
			return;
		}
	}
}

/* ---- the manager connection (main thread) ---- */

static gboolean
ext_connect(const gchar *path, gint *fd_out, GError **error)
{
	struct sockaddr_un address = { .sun_family = AF_UNIX };
	gint fd;

	if (strlen(path) >= sizeof(address.sun_path)) {
		g_set_error(error, OSQ_CLIENT_ERROR, OSQ_CLIENT_ERROR_INVALID_ARGUMENT,
		            "socket path too long: %s", path);
		return FALSE;
	}
	memcpy(address.sun_path, path, strlen(path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		g_set_error(error, OSQ_CLIENT_ERROR, OSQ_CLIENT_ERROR_IO, "socket: %s",
		            g_strerror(errno));
		return FALSE;
	}
	/* a blocking connect on a Unix socket does not wait for the peer to accept */
	while (connect(fd, (struct sockaddr *)&address, sizeof(address)) != 0) {
		gint errsv = errno;
		if (errsv == EINTR)
			continue;
		(void)close(fd);
		g_set_error(error, OSQ_CLIENT_ERROR,
		            errsv == ENOENT ? OSQ_CLIENT_ERROR_NOT_FOUND : OSQ_CLIENT_ERROR_IO,
		            "cannot connect to %s: %s", path, g_strerror(errsv));
		return FALSE;
	}
	if (fcntl(fd, F_SETFL, O_NONBLOCK) != 0) {
		(void)close(fd);
		g_set_error(error, OSQ_CLIENT_ERROR, OSQ_CLIENT_ERROR_IO, "fcntl: %s",
		            g_strerror(errno));
		return FALSE;
	}
	*fd_out = fd;
	return TRUE;
}

/* Reads an ExtensionStatus struct. */
static gboolean
ext_read_status(OsqThriftReader *reader, gint32 *code, gchar **message, gint64 *uuid,
                GError **error)
{
	for (;;) {
		OsqThriftType type;
		gint16 id;
		if (!osq_thrift_read_field_begin(reader, &type, &id, error))
			return FALSE;
		if (type == OSQ_THRIFT_STOP)
			return TRUE;
		if (id == 1 && type == OSQ_THRIFT_I32) {
			if (!osq_thrift_read_i32(reader, code, error))
				return FALSE;
		} else if (id == 2 && type == OSQ_THRIFT_STRING) {
			g_free(*message);
			if (!osq_thrift_read_string(reader, message, error))
				return FALSE;
		} else if (id == 3 && type == OSQ_THRIFT_I64) {
			if (!osq_thrift_read_i64(reader, uuid, error))
				return FALSE;
		} else if (!osq_thrift_skip(reader, type, error)) {
			return FALSE;
		}
	}
}

/* Parses a reply whose result (field 0) is an ExtensionStatus. */
static gboolean
ext_parse_status_reply(const guint8 *data, gsize len, const gchar *method, gint32 seqid,
                       gint32 *code, gchar **message, gint64 *uuid, GError **error)
{
	OsqThriftReader reader;
	g_autofree gchar *name = NULL;
	OsqThriftMessageType type;
	gint32 reply_seqid;
	gboolean found = FALSE;

	osq_thrift_reader_init(&reader, data, len);
	if (!osq_thrift_read_message_begin(&reader, &name, &type, &reply_seqid, error))
		return FALSE;
	if (type == OSQ_THRIFT_EXCEPTION) {
		g_autofree gchar *text = NULL;
		for (;;) {
			OsqThriftType field;
			gint16 id;
			if (!osq_thrift_read_field_begin(&reader, &field, &id, error))
				return FALSE;
			if (field == OSQ_THRIFT_STOP)
				break;
			if (id == 1 && field == OSQ_THRIFT_STRING && text == NULL) {
				if (!osq_thrift_read_string(&reader, &text, error))
					return FALSE;
			} else if (!osq_thrift_skip(&reader, field, error)) {
				return FALSE;
			}
		}
		g_set_error(error, OSQ_CLIENT_ERROR, OSQ_CLIENT_ERROR_EXCEPTION,
		            "the manager refused %s: %s", method, text != NULL ? text : "");
		return FALSE;
	}
	if (type != OSQ_THRIFT_REPLY || g_strcmp0(name, method) != 0 || reply_seqid != seqid) {
		g_set_error(error, OSQ_CLIENT_ERROR, OSQ_CLIENT_ERROR_PROTOCOL,
		            "unexpected reply to %s", method);
		return FALSE;
	}
	for (;;) {
		OsqThriftType field;
		gint16 id;
		if (!osq_thrift_read_field_begin(&reader, &field, &id, error))
			return FALSE;
		if (field == OSQ_THRIFT_STOP)
			break;
		if (id == 0 && field == OSQ_THRIFT_STRUCT) {
			if (!ext_read_status(&reader, code, message, uuid, error))
				return FALSE;
			found = TRUE;
		} else if (!osq_thrift_skip(&reader, field, error)) {
			return FALSE;
		}
	}
	if (!found) {
		g_set_error(error, OSQ_CLIENT_ERROR, OSQ_CLIENT_ERROR_PROTOCOL,
		            "the manager's %s reply has no status", method);
		return FALSE;
	}
	return TRUE;
}

/* Sends @out (a whole CALL of @method) on the manager connection and reads its status. */
static gboolean
ext_manager_call(OsqExtension *ext, GByteArray *out, const gchar *method, gint32 *code,
                 gchar **message, gint64 *uuid, GError **error)
{
	g_autoptr(GByteArray) in = g_byte_array_new();
	g_autoptr(GError) error_local = NULL;
	gint64 deadline = g_get_monotonic_time() + EXT_MANAGER_CALL_TIMEOUT_US;
	gsize length;

	if (!ext_send(ext->manager_fd, out->data, out->len, deadline, -1, &error_local) ||
	    !ext_receive(ext->manager_fd, in, OSQ_EXTENSION_MAX_REQUEST_SIZE, deadline, -1, &length,
	                 &error_local)) {
		g_set_error(error, OSQ_CLIENT_ERROR, OSQ_CLIENT_ERROR_IO,
		            "calling %s on the manager at %s: %s", method, ext->socket_path,
		            error_local->message);
		return FALSE;
	}
	return ext_parse_status_reply(in->data, length, method, ext->manager_seqid, code, message,
	                              uuid, error);
}

static void
ext_write_routes(GByteArray *out, const ExtPlugin *plugin)
{
	if (plugin->kind != EXT_PLUGIN_TABLE) {
		osq_thrift_write_list_begin(out, OSQ_THRIFT_MAP, 0);
		return;
	}
	osq_thrift_write_list_begin(out, OSQ_THRIFT_MAP, (gint32)plugin->n_columns);
	for (guint i = 0; i < plugin->n_columns; i++) {
		g_autofree gchar *op = g_strdup_printf("%u", plugin->column_options[i]);
		const gchar *const keys[] = { "id", "name", "type", "op" };
		gpointer const values[] = { (gpointer) "column", plugin->column_names[i],
			                    (gpointer)ext_type_names[plugin->column_types[i]], op };
		ext_write_map(out, keys, values, G_N_ELEMENTS(keys));
	}
}

/* registerExtension(info, registry): only registries that have plugins are sent. */
static void
ext_write_register(OsqExtension *ext, GByteArray *out, gint32 seqid)
{
	guint counts[G_N_ELEMENTS(ext_registry_names)] = { 0 };
	gint32 n_registries = 0;

	for (guint i = 0; i < ext->plugins->len; i++) {
		const ExtPlugin *plugin = g_ptr_array_index(ext->plugins, i);
		counts[plugin->kind]++;
	}
	for (guint k = 0; k < G_N_ELEMENTS(counts); k++)
		n_registries += counts[k] > 0;
	osq_thrift_write_message_begin(out, "registerExtension", OSQ_THRIFT_CALL, seqid);
	osq_thrift_write_field_begin(out, OSQ_THRIFT_STRUCT, 1);
	osq_thrift_write_field_begin(out, OSQ_THRIFT_STRING, 1);
	osq_thrift_write_string(out, ext->name);
	osq_thrift_write_field_begin(out, OSQ_THRIFT_STRING, 2);
	osq_thrift_write_string(out, ext->version);
	osq_thrift_write_field_begin(out, OSQ_THRIFT_STRING, 3);
	osq_thrift_write_string(out, EXT_SDK_VERSION);
	osq_thrift_write_field_begin(out, OSQ_THRIFT_STRING, 4);
	osq_thrift_write_string(out, EXT_MIN_SDK_VERSION);
	osq_thrift_write_field_stop(out);
	osq_thrift_write_field_begin(out, OSQ_THRIFT_MAP, 2);
	osq_thrift_write_map_begin(out, OSQ_THRIFT_STRING, OSQ_THRIFT_MAP, n_registries);
	for (guint k = 0; k < G_N_ELEMENTS(counts); k++) {
		if (counts[k] == 0)
			continue;
		osq_thrift_write_string(out, ext_registry_names[k]);
		osq_thrift_write_map_begin(out, OSQ_THRIFT_STRING, OSQ_THRIFT_LIST,
		                           (gint32)counts[k]);
		for (guint i = 0; i < ext->plugins->len; i++) {
			const ExtPlugin *plugin = g_ptr_array_index(ext->plugins, i);
			if (plugin->kind != k)
				continue;
			osq_thrift_write_string(out, plugin->name);
			ext_write_routes(out, plugin);
		}
	}
	osq_thrift_write_field_stop(out);
}

static gboolean
ext_register(OsqExtension *ext, GError **error)
{
	g_autoptr(GByteArray) out = g_byte_array_new();
	g_autofree gchar *message = NULL;
	gint32 code = -1;
	gint64 uuid = 0;

	ext_write_register(ext, out, ++ext->manager_seqid);
	if (!ext_manager_call(ext, out, "registerExtension", &code, &message, &uuid, error))
		return FALSE;
	if (code != 0) {
		g_set_error(error, OSQ_CLIENT_ERROR, OSQ_CLIENT_ERROR_FAILED,
		            "the manager refused to register %s: %s", ext->name,
		            message != NULL ? message : "(no message)");
		return FALSE;
	}
	if (uuid <= 0) {
		g_set_error(error, OSQ_CLIENT_ERROR, OSQ_CLIENT_ERROR_PROTOCOL,
		            "the manager registered %s with an invalid uuid %" G_GINT64_FORMAT,
		            ext->name, uuid);
		return FALSE;
	}
	__atomic_store_n(&ext->uuid, uuid, __ATOMIC_SEQ_CST);
	return TRUE;
}

/* One ping of the manager: FALSE when it is gone (socket removed, no answer, non-zero
 * status). */
static gboolean
ext_manager_alive(OsqExtension *ext)
{
	g_autoptr(GByteArray) out = g_byte_array_new();
	g_autofree gchar *message = NULL;
	struct stat st;
	gint32 code = -1;
	gint64 uuid = 0;

	if (stat(ext->socket_path, &st) != 0)
		return FALSE;
	osq_thrift_write_message_begin(out, "ping", OSQ_THRIFT_CALL, ++ext->manager_seqid);
	osq_thrift_write_field_stop(out);
	if (!ext_manager_call(ext, out, "ping", &code, &message, &uuid, NULL))
		return FALSE;
	return code == 0;
}

static void
ext_deregister(OsqExtension *ext)
{
	g_autoptr(GByteArray) out = g_byte_array_new();
	g_autofree gchar *message = NULL;
	gint32 code = -1;
	gint64 uuid = 0;

	osq_thrift_write_message_begin(out, "deregisterExtension", OSQ_THRIFT_CALL,
	                               ++ext->manager_seqid);
	osq_thrift_write_field_begin(out, OSQ_THRIFT_I64, 1);
	osq_thrift_write_i64(out, osq_extension_get_uuid(ext));
	osq_thrift_write_field_stop(out);
	(void)ext_manager_call(ext, out, "deregisterExtension", &code, &message, &uuid, NULL);
}

/* ---- run ---- */

static void
ext_drain(gint fd)
{
	guint8 buffer[256];

	while (read(fd, buffer, sizeof(buffer)) > 0)
		;
}

/* Sleeps up to @ms on the wake pipe; TRUE when a stop was requested. */
static gboolean
ext_sleep(OsqExtension *ext, gint ms)
{
	struct pollfd pfd = { .fd = ext->wake_fds[0], .events = POLLIN };

	if (poll(&pfd, 1, ms) > 0)
		ext_drain(ext->wake_fds[0]);
	return ext_get_stop(ext) != EXT_STOP_NONE;
}

/* Waits for the manager socket and connects; FALSE and no error when stopped meanwhile. */
static gboolean
ext_connect_manager(OsqExtension *ext, GError **error)
{
	gint64 deadline = g_get_monotonic_time() + (gint64)(ext->timeout_s * G_USEC_PER_SEC);

	for (;;) {
		g_autoptr(GError) error_local = NULL;
		if (ext_connect(ext->socket_path, &ext->manager_fd, &error_local))
			return TRUE;
		if (g_error_matches(error_local, OSQ_CLIENT_ERROR,
		                    OSQ_CLIENT_ERROR_INVALID_ARGUMENT) ||
		    g_get_monotonic_time() >= deadline) {
			g_propagate_prefixed_error(
			        error, g_steal_pointer(&error_local),
			        "no extension manager within %g s: ", ext->timeout_s);
			return FALSE;
		}
		if (ext_sleep(ext, EXT_SOCKET_POLL_MS))
			return FALSE;
	}
}

/* Binds and listens on "<path>.tmp" and renames it to the socket's path, so that the path
 * never exists without a listener (the core connects as soon as it appears: a connection
 * refused between bind() and listen() would make it drop the extension). Binds the path
 * itself when the temporary name does not fit. */
static gboolean
ext_listen(OsqExtension *ext, gint *fd_out, GError **error)
{
	struct sockaddr_un address = { .sun_family = AF_UNIX };
	g_autofree gchar *temporary = g_strdup_printf("%s.tmp", ext->extension_path);
	const gchar *bound = temporary;
	gint fd;

	if (strlen(ext->extension_path) >= sizeof(address.sun_path)) {
		g_set_error(error, OSQ_CLIENT_ERROR, OSQ_CLIENT_ERROR_INVALID_ARGUMENT,
		            "extension socket path too long: %s", ext->extension_path);
		return FALSE;
	}
	if (strlen(temporary) >= sizeof(address.sun_path))
		bound = ext->extension_path;
	memcpy(address.sun_path, bound, strlen(bound));
	(void)unlink(bound);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&address, sizeof(address)) != 0 ||
	    listen(fd, 128) != 0 ||
	    (bound == temporary && rename(temporary, ext->extension_path) != 0)) {
		gint errsv = errno;
		if (fd >= 0) {
			(void)close(fd);
			(void)unlink(bound);
		}
		g_set_error(error, OSQ_CLIENT_ERROR,
		            errsv == EACCES ? OSQ_CLIENT_ERROR_PERMISSION_DENIED
		                            : OSQ_CLIENT_ERROR_IO,
		            "cannot listen on %s: %s", ext->extension_path, g_strerror(errsv));
		return FALSE;
	}
	*fd_out = fd;
	return TRUE;
}

/* Serves until a stop or the manager's end. */
static void
ext_serve(OsqExtension *ext, gint listen_fd)
{
	gint64 interval_us = MAX((gint64)(ext->interval_s * G_USEC_PER_SEC), 1000);
	gint64 next_ping = g_get_monotonic_time() + interval_us;

	while (ext_get_stop(ext) == EXT_STOP_NONE) {
		struct pollfd pfds[2] = { { .fd = ext->wake_fds[0], .events = POLLIN },
			                  { .fd = listen_fd, .events = POLLIN } };
		gint64 left = next_ping - g_get_monotonic_time();
		gboolean full;

		g_mutex_lock(&ext->lock);
		full = ext->active >= OSQ_EXTENSION_MAX_CONNECTIONS;
		g_mutex_unlock(&ext->lock);
		if (left > 0 && poll(pfds, full ? 1 : 2, (gint)((left + 999) / 1000)) > 0) {
			if (pfds[0].revents != 0)
				ext_drain(ext->wake_fds[0]);
			ext_join_finished(ext);
			if (!full && pfds[1].revents != 0)
				ext_accept(ext, listen_fd);
			continue;
		}
		if (g_get_monotonic_time() < next_ping)
			continue; /* EINTR */
		if (!ext_manager_alive(ext))
			return;
		next_ping = g_get_monotonic_time() + interval_us;
	}
}

static void
ext_finish_threads(OsqExtension *ext)
{
	const guint8 byte = 1;

	while (write(ext->quit_fds[1], &byte, 1) < 0 && errno == EINTR)
		;
	g_mutex_lock(&ext->lock);
	while (ext->active > 0)
		g_cond_wait(&ext->cond, &ext->lock);
	g_mutex_unlock(&ext->lock);
	ext_join_finished(ext);
}

int
osq_extension_run(OsqExtension *ext, OsqClientError **error)
{
	g_autoptr(GError) error_local = NULL;
	gint listen_fd = -1;

	if (ext == NULL || ext->ran)
		return ext_invalid(error, "osq_extension_run() runs once per extension");
	if (ext->wake_fds[0] < 0 || ext->quit_fds[0] < 0)
		return ext_invalid(error, "cannot create the extension's pipes");
	ext->ran = TRUE;
	if (ext_get_stop(ext) != EXT_STOP_NONE)
		return OSQ_CLIENT_OK;
	/* "<socket>.<uuid>" must fit too, whatever uuid the manager picks */
	if (strlen(ext->socket_path) + 6 >= sizeof(((struct sockaddr_un *)NULL)->sun_path))
		return ext_invalid(error, "manager socket path too long: %s", ext->socket_path);
	if (!ext_connect_manager(ext, &error_local)) {
		ext_close(&ext->manager_fd);
		return ext_error_export(error_local, error);
	}
	if (!ext_register(ext, &error_local)) {
		ext_close(&ext->manager_fd);
		return ext_error_export(error_local, error);
	}
	ext->extension_path = g_strdup_printf("%s.%" G_GINT64_FORMAT, ext->socket_path,
	                                      osq_extension_get_uuid(ext));
	if (!ext_listen(ext, &listen_fd, &error_local)) {
		ext_deregister(ext);
		ext_close(&ext->manager_fd);
		return ext_error_export(error_local, error);
	}
	ext_serve(ext, listen_fd);
	ext_close(&listen_fd);
	(void)unlink(ext->extension_path);
	if (ext_get_stop(ext) == EXT_STOP_REQUESTED)
		ext_deregister(ext);
	ext_close(&ext->manager_fd);
	ext_finish_threads(ext);
	return OSQ_CLIENT_OK;
}
