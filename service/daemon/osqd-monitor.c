/* SPDX-License-Identifier: Apache-2.0
 *
 * The monitor (see the header). Each logger has a cursor: the id of the last pending line it
 * wrote, kept in the database, and a line is deleted once every logger is past it, so a failing
 * logger is retried alone and the others do not see lines twice. A crash between a file write
 * and the cursor update would repeat lines; the filesystem logger's files are therefore checked
 * at start against the pending lines after its cursor (lines already at the end of the file
 * are skipped): each log line is unique (name, time, counter and row), so this keeps "exactly
 * once" across kill -9.
 */
#include "config.h"

#include "osqd-monitor.h"

#include <string.h>

#include "osq-error.h"
#include "osqd-log-record.h"
#include "osqd-logger.h"
#include "osqd-audit.h"
#include "osqd-events.h"
#include "osqd-inotify.h"
#include "osqd-proc-connector.h"
#include "osqd-uevent.h"
#include "osqd-store.h"

/* the osquery version a config's "version" selectors are compared with: the osquery whose
 * tables, flags and formats osqd follows */
#define OSQD_MONITOR_OSQUERY_VERSION "5.12.1"
#define OSQD_MONITOR_DRAIN_BATCH     1024
#define OSQD_MONITOR_TAIL_BYTES      (256 * 1024)

static const gchar *const osqd_monitor_cli_only[] = {
	"access_policy",
	"buffered_log_max",
	"config_check",
	"config_dump",
	"config_path",
	"config_plugin",
	"database_path",
	"disable_extensions",
	"extensions_autoload",
	"extensions_require",
	"extensions_socket",
	"extensions_socket_group",
	"extensions_socket_mode",
	"flagfile",
	"logger_path",
	"logger_plugin",
	"pidfile",
	"rpc_max_connections",
	"schedule_workers",
	NULL,
};

typedef struct {
	OsqdLogger *logger;
	gint64 cursor; /* the last pending line id it wrote */
} OsqdMonitorSink;

struct _OsqdMonitor {
	OsqdFlags *flags;
	OsqdRegistry *registry;
	OsqdExtensions *extensions;
	OsqdStore *store;
	OsqdScheduler *scheduler;
	OsqdEvents *events; /* NULL with --disable_events */
	GMutex mutex;       /* config, decorations, host identifier */
	OsqdConfig *config;
	gboolean config_valid;
	GPtrArray *load_decorations;      /* name, value, name, value... */
	GHashTable *interval_decorations; /* interval (seconds) -> GPtrArray of name, value... */
	guint decorator_id;               /* the 60-second tick of interval decorators */
	guint64 decorator_seconds;        /* seconds counted by that tick */
	gchar *host_identifier;
	gchar *instance_id;
	GHashTable *packs;  /* pack name -> OsqdMonitorPack: its discovery state */
	guint discovery_id; /* the --pack_refresh_interval timer */
	OsqdLogOptions log_options;
	GMutex sinks_mutex; /* the loggers: written by the drain, reopened on reload */
	gboolean failing;   /* a logger failed last pass (its warning is not repeated) */
	GPtrArray *sinks;   /* OsqdMonitorSink */
	GThread *drain;
	GCond drain_cond;
	gboolean drain_stopping;
	gboolean drain_wake;
};

gboolean
osqd_monitor_flag_is_cli_only(const gchar *name)
{
	return g_strv_contains(osqd_monitor_cli_only, name);
}

/* ---- config ---- */

static gboolean
monitor_check_sql_cb(const gchar *sql, gpointer data, GError **error)
{
	OsqdEngine *engine = data;
	const gchar *tail = NULL;
	sqlite3_stmt *stmt = osqd_engine_prepare(engine, sql, &tail, error);

	if (stmt == NULL) {
		if (error != NULL && *error == NULL)
			g_set_error_literal(error, OSQ_ERROR, OSQ_ERROR_INVALID_ARGUMENT,
			                    "no SQL statement");
		return FALSE;
	}
	(void)sqlite3_finalize(stmt);
	return TRUE;
}

/* Sources from an extension's config plugin: genConfig's row maps source -> JSON. */
static GPtrArray *
monitor_plugin_sources(OsqdExtensions *extensions, const gchar *plugin, GError **error)
{
	g_autoptr(GHashTable) request = g_hash_table_new(g_str_hash, g_str_equal);
	g_autoptr(GPtrArray) rows = NULL;
	g_autofree gchar *message = NULL;
	GPtrArray *sources;
	gint32 code = 1;

	if (extensions == NULL) {
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_NOT_FOUND,
		            "config plugin %s: extensions are disabled", plugin);
		return NULL;
	}
	g_hash_table_insert(request, "action", "genConfig");
	if (!osqd_extensions_call(extensions, "config", plugin, request, &rows, &code, &message,
	                          error)) {
		g_prefix_error(error, "config plugin %s: ", plugin);
		return NULL;
	}
	if (code != 0) {
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_FAILED, "config plugin %s: %s", plugin,
		            message != NULL ? message : "genConfig failed");
		return NULL;
	}
	sources = g_ptr_array_new_with_free_func((GDestroyNotify)osqd_config_source_free);
	for (guint i = 0; i < rows->len; i++) {
		g_autoptr(GList) keys = g_hash_table_get_keys(rows->pdata[i]);
		keys = g_list_sort(keys, (GCompareFunc)g_strcmp0);
		for (GList *k = keys; k != NULL; k = k->next)
			g_ptr_array_add(
			        sources,
			        osqd_config_source_new(
			                k->data, g_hash_table_lookup(rows->pdata[i], k->data)));
	}
	return sources;
}

OsqdConfig *
osqd_monitor_load_config(OsqdFlags *flags, OsqdRegistry *registry, OsqdExtensions *extensions,
                         GError **error)
{
	const gchar *plugin = osqd_flags_get_string(flags, "config_plugin");
	const gchar *path = osqd_flags_get_string(flags, "config_path");
	g_autoptr(GPtrArray) sources = NULL;
	g_autoptr(GHashTable) known = g_hash_table_new(g_str_hash, g_str_equal);
	g_autoptr(OsqdEngine) engine = NULL;
	OsqdConfigHost host = { "linux", OSQD_MONITOR_OSQUERY_VERSION, 0 };
	OsqdConfigParams params = { 0 };

	if (g_strcmp0(plugin, "filesystem") == 0) {
		if (path[0] == '\0') {
			g_set_error_literal(error, OSQ_ERROR, OSQ_ERROR_NOT_FOUND,
			                    "no config: --config_path is empty");
			return NULL;
		}
		if (!osqd_config_read_filesystem(path, &sources, error))
			return NULL;
	} else {
		sources = monitor_plugin_sources(extensions, plugin, error);
		if (sources == NULL)
			return NULL;
	}
	for (guint i = 0; i < osqd_flags_get_count(flags); i++) {
		const OsqdFlag *flag = osqd_flags_get_nth(flags, i);
		g_hash_table_insert(known, (gpointer)flag->name,
		                    GINT_TO_POINTER(osqd_monitor_flag_is_cli_only(flag->name)));
	}
	engine = osqd_engine_new(registry, error);
	if (engine == NULL)
		return NULL;
	host.shard = osqd_config_host_shard(g_get_host_name());
	params.known_flags = known;
	params.pack_delimiter = osqd_flags_get_string(flags, "pack_delimiter");
	params.default_interval = (guint)osqd_flags_get_uint(flags, "schedule_default_interval");
	params.check_sql = monitor_check_sql_cb;
	params.check_sql_data = engine;
	params.host = &host;
	return osqd_config_parse(sources, &params, error);
}

/* The config's options override the flags they name (osquery's rule). */
static void
monitor_apply_options(OsqdMonitor *monitor, OsqdConfig *config)
{
	GHashTableIter iter;
	gpointer key, value;

	g_hash_table_iter_init(&iter, config->options);
	while (g_hash_table_iter_next(&iter, &key, &value)) {
		g_autoptr(GError) error = NULL;
		if (g_str_has_prefix(key, "custom_") ||
		    osqd_flags_lookup(monitor->flags, key) == NULL)
			continue;
		if (!osqd_flags_set(monitor->flags, key, value, &error))
			g_warning("config option %s: %s", (const gchar *)key, error->message);
	}
}

/* ---- host identifier and decorations ---- */

static gchar *
monitor_stored_uuid(OsqdMonitor *monitor, const gchar *key)
{
	g_autoptr(GBytes) bytes = NULL;
	g_autoptr(GBytes) fresh = NULL;
	gchar *uuid;

	if (osqd_store_get(monitor->store, "configurations", key, &bytes, NULL) && bytes != NULL)
		return g_strndup(g_bytes_get_data(bytes, NULL), g_bytes_get_size(bytes));
	uuid = g_uuid_string_random();
	fresh = g_bytes_new(uuid, strlen(uuid));
	(void)osqd_store_put(monitor->store, "configurations", key, fresh, NULL);
	return uuid;
}

static gchar *
monitor_host_identifier(OsqdMonitor *monitor)
{
	const gchar *kind = osqd_flags_get_string(monitor->flags, "host_identifier");

	if (g_strcmp0(kind, "specified") == 0) {
		const gchar *given = osqd_flags_get_string(monitor->flags, "specified_identifier");
		if (given[0] != '\0')
			return g_strdup(given);
	} else if (g_strcmp0(kind, "uuid") == 0) {
		g_autofree gchar *uuid = NULL;
		if (g_file_get_contents("/sys/class/dmi/id/product_uuid", &uuid, NULL, NULL) &&
		    g_strstrip(uuid)[0] != '\0' &&
		    g_strcmp0(uuid, "00000000-0000-0000-0000-000000000000") != 0)
			return g_ascii_strdown(uuid, -1);
		return monitor_stored_uuid(monitor, "host_uuid_v3");
	} else if (g_strcmp0(kind, "instance") == 0) {
		return g_strdup(monitor->instance_id);
	} else if (g_strcmp0(kind, "ephemeral") == 0) {
		return g_uuid_string_random();
	}
	return g_strdup(g_get_host_name());
}

/* Runs decorator queries: each one's first row's columns become name/value pairs. */
static void
monitor_run_decorators(OsqdEngine *engine, GPtrArray *queries, GPtrArray *pairs)
{
	for (guint i = 0; queries != NULL && i < queries->len; i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(OsqdResultSet) set = osqd_run_collect(engine, queries->pdata[i], &error);
		const OsqdCell *cells;
		if (set == NULL) {
			g_warning("decorator failed: %s", error->message);
			continue;
		}
		if (set->rows->len == 0)
			continue;
		cells = set->rows->pdata[0];
		for (guint c = 0; c < set->n_columns; c++) {
			g_ptr_array_add(pairs, g_strdup(set->columns[c]));
			switch (cells[c].kind) {
			case OSQD_CELL_INTEGER:
				g_ptr_array_add(pairs, g_strdup_printf("%" G_GINT64_FORMAT,
				                                       cells[c].integer));
				break;
			case OSQD_CELL_DOUBLE: {
				gchar buf[G_ASCII_DTOSTR_BUF_SIZE];
				g_ptr_array_add(pairs, g_strdup(g_ascii_dtostr(buf, sizeof(buf),
				                                               cells[c].real)));
				break;
			}
			case OSQD_CELL_TEXT:
				g_ptr_array_add(pairs, g_strdup(cells[c].text));
				break;
			default:
				g_ptr_array_add(pairs, g_strdup(""));
				break;
			}
		}
	}
}

/* ---- formatting runs into log lines (worker threads) ---- */

static OsqdLogRow *
monitor_log_row(const OsqdResultSet *set, guint index)
{
	const OsqdCell *cells = set->rows->pdata[index];
	OsqdLogRow *row = osqd_log_row_new();

	for (guint c = 0; c < set->n_columns; c++) {
		const gchar *name = set->columns[c];
		switch (cells[c].kind) {
		case OSQD_CELL_INTEGER:
			osqd_log_row_add_int(row, name, NULL, cells[c].integer);
			break;
		case OSQD_CELL_DOUBLE:
			osqd_log_row_add_double(row, name, NULL, cells[c].real);
			break;
		case OSQD_CELL_TEXT:
			osqd_log_row_add_text(row, name, NULL, cells[c].text);
			break;
		default:
			osqd_log_row_add_null(row, name, NULL);
			break;
		}
	}
	return row;
}

static GPrivate osqd_monitor_engine = G_PRIVATE_INIT((GDestroyNotify)osqd_engine_free);

static GPtrArray *
monitor_format_cb(const OsqdRunResult *result, gpointer user_data)
{
	OsqdMonitor *monitor = user_data;
	g_autoptr(OsqdResultRecord) record = NULL;
	g_autoptr(GPtrArray) lines = NULL;
	g_autoptr(GPtrArray) always = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(OsqdConfig) config = NULL;
	g_autofree gchar *host = NULL;
	GPtrArray *logs = g_ptr_array_new_with_free_func((GDestroyNotify)osqd_store_log_free);
	OsqdLogOptions options;

	g_mutex_lock(&monitor->mutex);
	host = g_strdup(monitor->host_identifier);
	config = monitor->config != NULL ? osqd_config_ref(monitor->config) : NULL;
	options = monitor->log_options;
	record = osqd_result_record_new(result->query->name, host, result->unix_time);
	for (guint i = 0; i + 1 < monitor->load_decorations->len; i += 2)
		osqd_result_record_add_decoration(record, monitor->load_decorations->pdata[i],
		                                  monitor->load_decorations->pdata[i + 1]);
	if (monitor->interval_decorations != NULL) {
		GHashTableIter iter;
		gpointer value;
		g_hash_table_iter_init(&iter, monitor->interval_decorations);
		while (g_hash_table_iter_next(&iter, NULL, &value)) {
			GPtrArray *pairs = value;
			for (guint i = 0; i + 1 < pairs->len; i += 2)
				osqd_result_record_add_decoration(record, pairs->pdata[i],
				                                  pairs->pdata[i + 1]);
		}
	}
	g_mutex_unlock(&monitor->mutex);
	if (config != NULL && config->decorators_always != NULL &&
	    config->decorators_always->len > 0) {
		OsqdEngine *engine = g_private_get(&osqd_monitor_engine);
		if (engine == NULL) {
			engine = osqd_engine_new(monitor->registry, NULL);
			g_private_replace(&osqd_monitor_engine, engine);
		}
		if (engine != NULL)
			monitor_run_decorators(engine, config->decorators_always, always);
		for (guint i = 0; i + 1 < always->len; i += 2)
			osqd_result_record_add_decoration(record, always->pdata[i],
			                                  always->pdata[i + 1]);
	}
	record->epoch = (gint64)result->epoch;
	record->counter = (gint64)result->counter;
	record->is_snapshot = result->query->snapshot;
	for (guint i = 0; i < result->added->len; i++)
		g_ptr_array_add(
		        result->query->snapshot ? record->snapshot : record->added,
		        monitor_log_row(result->current, g_array_index(result->added, guint, i)));
	for (guint i = 0; i < result->removed->len; i++)
		g_ptr_array_add(record->removed,
		                monitor_log_row(result->previous,
		                                g_array_index(result->removed, guint, i)));
	lines = osqd_result_record_format(record, &options);
	for (guint i = 0; i < lines->len; i++)
		g_ptr_array_add(logs,
		                osqd_store_log_new(result->query->snapshot ? OSQD_STORE_LOG_SNAPSHOT
		                                                           : OSQD_STORE_LOG_RESULT,
		                                   result->query->name, result->unix_time,
		                                   lines->pdata[i]));
	return logs;
}

static void
monitor_ran_cb(const OsqdRunResult *result, gpointer user_data)
{
	OsqdMonitor *monitor = user_data;

	g_mutex_lock(&monitor->mutex);
	monitor->drain_wake = TRUE;
	g_cond_broadcast(&monitor->drain_cond);
	g_mutex_unlock(&monitor->mutex);
}

static GAsyncQueue *
monitor_status_queue(void)
{
	static GAsyncQueue *queue;

	/* one per process and never freed: a thread may log while a monitor goes away */
	if (g_once_init_enter(&queue))
		g_once_init_leave(&queue,
		                  g_async_queue_new_full((GDestroyNotify)osqd_status_record_free));
	return queue;
}

/* ---- loggers registered by extensions ---- */

typedef struct {
	OsqdLogger base;
	OsqdLoggerVTable vtable; /* a copy per logger: it carries the plugin's name */
	gchar *name;
	OsqdExtensions *extensions;
} OsqdExtensionLogger;

static gboolean
extension_logger_call(OsqdLogger *logger, const gchar *key, const gchar *value, const gchar *key2,
                      const gchar *value2, GError **error)
{
	OsqdExtensionLogger *self = (OsqdExtensionLogger *)logger;
	g_autoptr(GHashTable) request = g_hash_table_new(g_str_hash, g_str_equal);
	g_autoptr(GPtrArray) rows = NULL;
	g_autofree gchar *message = NULL;
	gint32 code = 1;

	if (self->extensions == NULL) {
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_NOT_FOUND, "no extension logger %s",
		            self->name);
		return FALSE;
	}
	g_hash_table_insert(request, (gpointer)key, (gpointer)value);
	if (key2 != NULL)
		g_hash_table_insert(request, (gpointer)key2, (gpointer)value2);
	if (!osqd_extensions_call(self->extensions, "logger", self->name, request, &rows, &code,
	                          &message, error))
		return FALSE;
	if (code != 0) {
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_FAILED, "logger %s: %s", self->name,
		            message != NULL ? message : "failed");
		return FALSE;
	}
	return TRUE;
}

static gboolean
extension_logger_result(OsqdLogger *logger, const gchar *line, GError **error)
{
	return extension_logger_call(logger, "string", line, "category", "event", error);
}

static gboolean
extension_logger_snapshot(OsqdLogger *logger, const gchar *line, GError **error)
{
	return extension_logger_call(logger, "snapshot", line, NULL, NULL, error);
}

static gboolean
extension_logger_status(OsqdLogger *logger, const OsqdStatusRecord *record, GError **error)
{
	g_autofree gchar *json = osqd_status_record_format_json(record);
	g_autofree gchar *batch = g_strdup_printf("[%s]", json);

	return extension_logger_call(logger, "status", "true", "log", batch, error);
}

static gboolean
extension_logger_nothing(OsqdLogger *logger, GError **error)
{
	return TRUE;
}

static void
extension_logger_free(OsqdLogger *logger)
{
	OsqdExtensionLogger *self = (OsqdExtensionLogger *)logger;

	g_free(self->name);
	g_free(self);
}

/* A logger plugin an extension registers (now or later): lines wait while it is not there. */
static OsqdLogger *
extension_logger_new(const gchar *name, OsqdExtensions *extensions)
{
	OsqdExtensionLogger *self = g_new0(OsqdExtensionLogger, 1);

	self->name = g_strdup(name);
	self->extensions = extensions;
	self->vtable.name = self->name;
	self->vtable.log_result = extension_logger_result;
	self->vtable.log_snapshot = extension_logger_snapshot;
	self->vtable.log_status = extension_logger_status;
	self->vtable.reopen = extension_logger_nothing;
	self->vtable.flush = extension_logger_nothing;
	self->vtable.free = extension_logger_free;
	self->base.vtable = &self->vtable;
	return &self->base;
}

/* --logger_plugin's names: built-in loggers, and extension loggers for the rest. */
static GPtrArray *
monitor_new_loggers(const gchar *names, const OsqdLoggerOptions *options,
                    OsqdExtensions *extensions, GError **error)
{
	static const gchar *const builtin[] = { "filesystem", "stdout", "syslog", NULL };
	g_autoptr(GPtrArray) loggers =
	        g_ptr_array_new_with_free_func((GDestroyNotify)osqd_logger_free);
	g_auto(GStrv) parts = g_strsplit(names, ",", -1);

	for (guint i = 0; parts[i] != NULL; i++) {
		const gchar *name = g_strstrip(parts[i]);
		if (name[0] == '\0')
			continue;
		if (g_strv_contains(builtin, name)) {
			g_autoptr(GPtrArray) one = osqd_logger_new_from_names(name, options, error);
			if (one == NULL)
				return NULL;
			g_ptr_array_extend_and_steal(loggers, g_steal_pointer(&one));
		} else {
			g_ptr_array_add(loggers, extension_logger_new(name, extensions));
		}
	}
	return g_steal_pointer(&loggers);
}

/* ---- the drain ---- */

static gchar *
monitor_cursor_key(OsqdLogger *logger)
{
	return g_strdup(osqd_logger_get_name(logger));
}

static gint64
monitor_load_cursor(OsqdMonitor *monitor, OsqdLogger *logger)
{
	g_autofree gchar *key = monitor_cursor_key(logger);
	g_autoptr(GBytes) bytes = NULL;

	if (!osqd_store_get(monitor->store, "logger_cursors", key, &bytes, NULL) || bytes == NULL)
		return 0;
	{
		g_autofree gchar *text =
		        g_strndup(g_bytes_get_data(bytes, NULL), g_bytes_get_size(bytes));
		return g_ascii_strtoll(text, NULL, 10);
	}
}

static void
monitor_save_cursor(OsqdMonitor *monitor, OsqdMonitorSink *sink)
{
	g_autofree gchar *key = monitor_cursor_key(sink->logger);
	g_autofree gchar *text = g_strdup_printf("%" G_GINT64_FORMAT, sink->cursor);
	g_autoptr(GBytes) bytes = g_bytes_new(text, strlen(text));
	g_autoptr(GError) error = NULL;

	if (!osqd_store_put(monitor->store, "logger_cursors", key, bytes, &error))
		g_warning("cannot save the %s logger's position: %s", key, error->message);
}

/* The last lines of @path (at most OSQD_MONITOR_TAIL_BYTES of it). */
static GPtrArray *
monitor_file_tail(const gchar *path)
{
	g_autofree gchar *contents = NULL;
	gsize len = 0;
	GPtrArray *lines = g_ptr_array_new_with_free_func(g_free);
	g_auto(GStrv) split = NULL;
	const gchar *start;

	if (!g_file_get_contents(path, &contents, &len, NULL))
		return lines;
	start = len > OSQD_MONITOR_TAIL_BYTES ? contents + len - OSQD_MONITOR_TAIL_BYTES : contents;
	split = g_strsplit(start, "\n", -1);
	for (guint i = start == contents ? 0 : 1; split[i] != NULL; i++) {
		if (split[i][0] != '\0')
			g_ptr_array_add(lines, g_strdup(split[i]));
	}
	return lines;
}

/* After a crash between writing lines and saving the cursor: lines already at the end of the
 * filesystem logger's files are not written again. */
static void
monitor_skip_written(OsqdMonitor *monitor, OsqdMonitorSink *sink)
{
	const gchar *dir = osqd_flags_get_string(monitor->flags, "logger_path");
	g_autofree gchar *results = g_build_filename(dir, "osqd.results.log", NULL);
	g_autofree gchar *snapshots = g_build_filename(dir, "osqd.snapshots.log", NULL);
	g_autoptr(GPtrArray) result_tail = monitor_file_tail(results);
	g_autoptr(GPtrArray) snapshot_tail = monitor_file_tail(snapshots);
	GPtrArray *tails[2] = { result_tail, snapshot_tail };
	g_autoptr(GPtrArray) pending = NULL;
	guint position[2] = { G_MAXUINT, G_MAXUINT };

	if (g_strcmp0(osqd_logger_get_name(sink->logger), "filesystem") != 0)
		return;
	pending = osqd_store_pending_logs(monitor->store, sink->cursor, OSQD_MONITOR_DRAIN_BATCH,
	                                  NULL);
	for (guint i = 0; pending != NULL && i < pending->len; i++) {
		const OsqdStoreLog *log = pending->pdata[i];
		guint which = log->kind == OSQD_STORE_LOG_SNAPSHOT ? 1 : 0;
		GPtrArray *tail = tails[which];
		if (log->kind == OSQD_STORE_LOG_STATUS)
			break;
		if (position[which] == G_MAXUINT) {
			/* where this line sits in the file's tail, if it does */
			guint found = G_MAXUINT;
			for (guint t = 0; t < tail->len; t++) {
				if (g_strcmp0(tail->pdata[t], log->line) == 0)
					found = t;
			}
			if (found == G_MAXUINT)
				break;
			position[which] = found;
		} else if (position[which] + 1 >= tail->len ||
		           g_strcmp0(tail->pdata[++position[which]], log->line) != 0) {
			break;
		}
		sink->cursor = log->id;
	}
	monitor_save_cursor(monitor, sink);
}

/* One pass: queued status lines go to every logger; then every logger writes what is pending
 * after its cursor; lines all loggers passed go. Nothing is logged while the loggers are locked
 * (a warning would come back here as a status line): failures are reported after. */
static void
monitor_drain_once(OsqdMonitor *monitor)
{
	g_autoptr(GPtrArray) failures = g_ptr_array_new_with_free_func(g_free);
	gint64 lowest = G_MAXINT64;
	OsqdStatusRecord *record;

	g_mutex_lock(&monitor->sinks_mutex);
	while ((record = g_async_queue_try_pop(monitor_status_queue())) != NULL) {
		for (guint s = 0; s < monitor->sinks->len; s++) {
			OsqdMonitorSink *sink = monitor->sinks->pdata[s];
			(void)osqd_logger_log_status(sink->logger, record, NULL);
		}
		osqd_status_record_free(record);
	}
	for (guint s = 0; s < monitor->sinks->len; s++) {
		OsqdMonitorSink *sink = monitor->sinks->pdata[s];
		g_autoptr(GError) error = NULL;
		g_autoptr(GPtrArray) pending = osqd_store_pending_logs(
		        monitor->store, sink->cursor, OSQD_MONITOR_DRAIN_BATCH, &error);
		for (guint i = 0; pending != NULL && i < pending->len; i++) {
			const OsqdStoreLog *log = pending->pdata[i];
			gboolean ok =
			        log->kind == OSQD_STORE_LOG_SNAPSHOT
			                ? osqd_logger_log_snapshot(sink->logger, log->line, &error)
			                : osqd_logger_log_result(sink->logger, log->line, &error);
			if (!ok) {
				g_ptr_array_add(
				        failures,
				        g_strdup_printf("logger %s failed (its lines are kept and "
				                        "retried): %s",
				                        osqd_logger_get_name(sink->logger),
				                        error->message));
				break;
			}
			sink->cursor = log->id;
		}
		if (pending != NULL && pending->len > 0)
			monitor_save_cursor(monitor, sink);
		lowest = MIN(lowest, sink->cursor);
	}
	g_mutex_unlock(&monitor->sinks_mutex);
	if (lowest != G_MAXINT64 && lowest > 0)
		(void)osqd_store_ack_logs(monitor->store, lowest, NULL);
	/* say it when a logger starts failing, not every second while it does */
	if (failures->len > 0 && !monitor->failing) {
		for (guint i = 0; i < failures->len; i++)
			g_warning("%s", (const gchar *)failures->pdata[i]);
	} else if (failures->len == 0 && monitor->failing) {
		g_message("every logger is writing again");
	}
	monitor->failing = failures->len > 0;
}

static gpointer
monitor_drain_thread(gpointer data)
{
	OsqdMonitor *monitor = data;

	for (;;) {
		gboolean stopping;
		g_mutex_lock(&monitor->mutex);
		if (!monitor->drain_wake && !monitor->drain_stopping)
			(void)g_cond_wait_until(&monitor->drain_cond, &monitor->mutex,
			                        g_get_monotonic_time() + G_USEC_PER_SEC);
		monitor->drain_wake = FALSE;
		stopping = monitor->drain_stopping;
		g_mutex_unlock(&monitor->mutex);
		monitor_drain_once(monitor);
		if (stopping)
			return NULL;
	}
}

/* ---- interval decorators ---- */

/* Runs the interval decorators due at @seconds (all of them when @all). */
static void
monitor_run_interval_decorators(OsqdMonitor *monitor, OsqdConfig *config, guint64 seconds,
                                gboolean all)
{
	g_autoptr(OsqdEngine) engine = NULL;

	for (guint i = 0;
	     config->decorators_interval != NULL && i < config->decorators_interval->len; i++) {
		const OsqdConfigDecoratorInterval *decorator =
		        config->decorators_interval->pdata[i];
		GPtrArray *pairs;
		if (!all && (decorator->interval == 0 || seconds % decorator->interval != 0))
			continue;
		if (engine == NULL)
			engine = osqd_engine_new(monitor->registry, NULL);
		if (engine == NULL)
			return;
		pairs = g_ptr_array_new_with_free_func(g_free);
		monitor_run_decorators(engine, decorator->queries, pairs);
		g_mutex_lock(&monitor->mutex);
		g_hash_table_replace(monitor->interval_decorations,
		                     GUINT_TO_POINTER(decorator->interval), pairs);
		g_mutex_unlock(&monitor->mutex);
	}
}

static gboolean
monitor_decorator_tick_cb(gpointer data)
{
	OsqdMonitor *monitor = data;
	g_autoptr(OsqdConfig) config = osqd_monitor_get_config(monitor);

	monitor->decorator_seconds += 60;
	if (config != NULL)
		monitor_run_interval_decorators(monitor, config, monitor->decorator_seconds, FALSE);
	return G_SOURCE_CONTINUE;
}

/* ---- pack discovery ---- */

typedef struct {
	gboolean active;
	guint64 executions;
	guint64 cache_hits;
} OsqdMonitorPack;

/* A pack is active when its selectors match and each of its discovery queries returns a row
 * (evaluated in order, stopping at the first that does not). */
static gboolean
monitor_discover(OsqdEngine *engine, const OsqdConfigPack *pack)
{
	for (guint i = 0; pack->discovery != NULL && i < pack->discovery->len; i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(OsqdResultSet) set =
		        engine != NULL ? osqd_run_collect(engine, pack->discovery->pdata[i], &error)
		                       : NULL;
		if (set == NULL || set->rows->len == 0) {
			if (error != NULL)
				g_warning("pack %s: discovery query failed: %s", pack->name,
				          error->message);
			return FALSE;
		}
	}
	return TRUE;
}

/* Runs every pack's discovery; TRUE when which packs are active changed. */
static gboolean
monitor_run_discovery(OsqdMonitor *monitor, OsqdConfig *config)
{
	g_autoptr(OsqdEngine) engine = osqd_engine_new(monitor->registry, NULL);
	g_autoptr(GHashTable) packs =
	        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	gboolean changed = FALSE;

	for (guint i = 0; i < config->packs->len; i++) {
		const OsqdConfigPack *pack = config->packs->pdata[i];
		OsqdMonitorPack *state = g_new0(OsqdMonitorPack, 1);
		const OsqdMonitorPack *old;
		g_mutex_lock(&monitor->mutex);
		old = monitor->packs != NULL ? g_hash_table_lookup(monitor->packs, pack->name)
		                             : NULL;
		if (old != NULL)
			*state = *old;
		g_mutex_unlock(&monitor->mutex);
		if (pack->discovery != NULL && pack->discovery->len > 0) {
			gboolean was = state->active;
			state->executions++;
			state->active = pack->selected && monitor_discover(engine, pack);
			changed |= was != state->active || old == NULL;
		} else {
			state->active = pack->selected;
		}
		g_hash_table_insert(packs, g_strdup(pack->name), state);
	}
	g_mutex_lock(&monitor->mutex);
	if (monitor->packs != NULL)
		g_hash_table_unref(monitor->packs);
	monitor->packs = g_steal_pointer(&packs);
	g_mutex_unlock(&monitor->mutex);
	return changed;
}

gboolean
osqd_monitor_pack_state(OsqdMonitor *monitor, const gchar *pack, gboolean *active,
                        guint64 *executions, guint64 *cache_hits)
{
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&monitor->mutex);
	const OsqdMonitorPack *state =
	        monitor->packs != NULL ? g_hash_table_lookup(monitor->packs, pack) : NULL;

	if (state == NULL)
		return FALSE;
	*active = state->active;
	*executions = state->executions;
	*cache_hits = state->cache_hits;
	return TRUE;
}

/* ---- life ---- */

static gboolean
monitor_pack_active(OsqdMonitor *monitor, const gchar *pack)
{
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&monitor->mutex);
	const OsqdMonitorPack *state =
	        monitor->packs != NULL ? g_hash_table_lookup(monitor->packs, pack) : NULL;

	return state == NULL || state->active;
}

static GPtrArray *
monitor_schedule_entries(OsqdMonitor *monitor, OsqdConfig *config)
{
	GPtrArray *entries =
	        g_ptr_array_new_with_free_func((GDestroyNotify)osqd_schedule_entry_free);

	for (guint i = 0; config != NULL && i < config->queries->len; i++) {
		const OsqdScheduledQuery *query = config->queries->pdata[i];
		OsqdScheduleEntry *entry;
		if (!query->selected ||
		    (query->pack != NULL && !monitor_pack_active(monitor, query->pack)))
			continue;
		entry = osqd_schedule_entry_new(query->name, query->sql, query->interval);
		entry->pack = g_strdup(query->pack);
		entry->snapshot = query->snapshot;
		entry->removed = query->removed;
		entry->denylist = query->denylist;
		g_ptr_array_add(entries, entry);
	}
	return entries;
}

/* ---- events ---- */

/* file_paths_query: each query's `path` column (else its first) adds paths to its category. */
static void
monitor_file_paths_query(OsqdMonitor *monitor, OsqdConfig *config, GHashTable *file_paths)
{
	g_autoptr(OsqdEngine) engine = NULL;
	GHashTableIter iter;
	gpointer key, value;

	if (config->file_paths_query == NULL || g_hash_table_size(config->file_paths_query) == 0)
		return;
	engine = osqd_engine_new(monitor->registry, NULL);
	if (engine == NULL)
		return;
	g_hash_table_iter_init(&iter, config->file_paths_query);
	while (g_hash_table_iter_next(&iter, &key, &value)) {
		GPtrArray *queries = value;
		GPtrArray *paths = g_hash_table_lookup(file_paths, key);

		if (paths == NULL) {
			paths = g_ptr_array_new_with_free_func(g_free);
			g_hash_table_insert(file_paths, g_strdup(key), paths);
		}
		for (guint q = 0; q < queries->len; q++) {
			g_autoptr(GError) error = NULL;
			g_autoptr(OsqdResultSet) set =
			        osqd_run_collect(engine, queries->pdata[q], &error);
			guint column = 0;

			if (set == NULL) {
				g_warning("file_paths_query of %s failed: %s", (const gchar *)key,
				          error->message);
				continue;
			}
			for (guint c = 0; c < set->n_columns; c++) {
				if (g_strcmp0(set->columns[c], "path") == 0)
					column = c;
			}
			for (guint r = 0; set->n_columns > 0 && r < set->rows->len; r++) {
				const OsqdCell *cells = set->rows->pdata[r];

				if (cells[column].kind == OSQD_CELL_TEXT)
					g_ptr_array_add(paths, g_strdup(cells[column].text));
			}
		}
	}
}

static void
monitor_copy_paths(GHashTable *to, GHashTable *from)
{
	GHashTableIter iter;
	gpointer key, value;

	if (from == NULL)
		return;
	g_hash_table_iter_init(&iter, from);
	while (g_hash_table_iter_next(&iter, &key, &value)) {
		GPtrArray *copy = g_ptr_array_new_with_free_func(g_free);

		for (guint i = 0; i < ((GPtrArray *)value)->len; i++)
			g_ptr_array_add(copy, g_strdup(((GPtrArray *)value)->pdata[i]));
		g_hash_table_insert(to, g_strdup(key), copy);
	}
}

/* The longest interval of the scheduled queries that name @table (0: none). */
static guint
monitor_longest_interval(OsqdConfig *config, const gchar *table)
{
	guint longest = 0;

	for (guint i = 0; i < config->queries->len; i++) {
		const OsqdScheduledQuery *query = config->queries->pdata[i];
		g_autofree gchar *lower = g_ascii_strdown(query->sql, -1);

		if (query->selected && strstr(lower, table) != NULL)
			longest = MAX(longest, query->interval);
	}
	return longest;
}

/* Which subscribers take rows: their flag, then the config's events.enable_subscribers /
 * disable_subscribers (disable wins). */
static void
monitor_events_apply(OsqdMonitor *monitor, OsqdConfig *config)
{
	static const struct {
		const gchar *table;
		const gchar *flag;
		gboolean flag_enables;
	} subscribers[] = {
		{ "file_events", "enable_file_events", TRUE },
		{ "process_events", "disable_audit", FALSE },
		{ "hardware_events", "disable_hardware_events", FALSE },
		{ "socket_events", "audit_allow_sockets", TRUE },
	};
	g_autoptr(GHashTable) file_paths = NULL;
	OsqdInotifyPaths paths = { 0 };
	guint64 expiry = osqd_flags_get_uint(monitor->flags, "events_expiry");

	if (monitor->events == NULL)
		return;
	for (gsize i = 0; i < G_N_ELEMENTS(subscribers); i++) {
		OsqdEventSubscriber *subscriber =
		        osqd_events_find_subscriber(monitor->events, subscribers[i].table);
		gboolean enabled;

		if (subscriber == NULL)
			continue;
		enabled = osqd_flags_get_bool(monitor->flags, subscribers[i].flag) ==
		          subscribers[i].flag_enables;
		if (config->enable_subscribers != NULL &&
		    g_ptr_array_find_with_equal_func(config->enable_subscribers,
		                                     subscribers[i].table, g_str_equal, NULL))
			enabled = TRUE;
		if (config->disable_subscribers != NULL &&
		    g_ptr_array_find_with_equal_func(config->disable_subscribers,
		                                     subscribers[i].table, g_str_equal, NULL))
			enabled = FALSE;
		osqd_event_subscriber_set_enabled(subscriber, enabled);
		/* osquery's rule: rows stay three times the longest interval of the scheduled
		 * queries that read the table (in whole minutes), so no run misses one */
		{
			guint longest = monitor_longest_interval(config, subscribers[i].table);
			gint64 minimum = longest == 0 ? 0 : ((gint64)longest * 3 + 59) / 60 * 60;

			if (expiry > 0 && (guint64)minimum > expiry)
				g_info("%s: rows kept %" G_GINT64_FORMAT
				       " s (three times the longest "
				       "interval of the queries reading it), more than "
				       "--events_expiry",
				       subscribers[i].table, minimum);
			osqd_event_subscriber_set_min_expiry(subscriber, minimum);
		}
	}
	file_paths = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
	                                   (GDestroyNotify)g_ptr_array_unref);
	monitor_copy_paths(file_paths, config->file_paths);
	monitor_file_paths_query(monitor, config, file_paths);
	paths.file_paths = file_paths;
	paths.exclude_paths = config->exclude_paths;
	paths.file_accesses = config->file_accesses;
	/* publishers running already take the new paths; newly wanted ones start */
	osqd_events_configure(monitor->events, &paths);
	osqd_events_start(monitor->events, &paths);
}

static OsqdEvents *
monitor_events_new(OsqdMonitor *monitor, GError **error)
{
	OsqdEventsConfig config = { 0 };
	g_autoptr(OsqdEvents) events = NULL;

	config.database_path = osqd_flags_get_string(monitor->flags, "database_path");
	config.expiry_s = (gint64)osqd_flags_get_uint(monitor->flags, "events_expiry");
	config.max_rows = osqd_flags_get_uint(monitor->flags, "events_max");
	events = osqd_events_new(&config, error);
	if (events == NULL)
		return NULL;
	if (osqd_inotify_add(events, "/", osqd_flags_get_bool(monitor->flags, "file_events_hash"),
	                     error) == NULL ||
	    osqd_proc_connector_add(events, "/", error) == NULL ||
	    osqd_uevent_add(events, "/", error) == NULL)
		return NULL;
	/* the audit socket is taken only when asked for: it installs rules for the whole host */
	if (!osqd_flags_get_bool(monitor->flags, "disable_audit") &&
	    osqd_flags_get_bool(monitor->flags, "audit_allow_sockets") &&
	    osqd_audit_add(events,
	                   osqd_flags_get_bool(monitor->flags, "audit_allow_failed_socket_events"),
	                   osqd_flags_get_bool(monitor->flags, "audit_allow_unix"), error) == NULL)
		return NULL;
	osqd_events_install(events);
	return g_steal_pointer(&events);
}

/* Installs @config: options, host identifier, load decorators, the schedule. */
static void
monitor_install(OsqdMonitor *monitor, OsqdConfig *config)
{
	g_autoptr(GPtrArray) decorations = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(OsqdEngine) engine = osqd_engine_new(monitor->registry, NULL);
	g_autofree gchar *host = NULL;

	monitor_apply_options(monitor, config);
	if (engine != NULL)
		monitor_run_decorators(engine, config->decorators_load, decorations);
	host = monitor_host_identifier(monitor);
	g_mutex_lock(&monitor->mutex);
	g_clear_pointer(&monitor->config, osqd_config_unref);
	monitor->config = osqd_config_ref(config);
	monitor->config_valid = TRUE;
	g_ptr_array_unref(monitor->load_decorations);
	monitor->load_decorations = g_ptr_array_ref(decorations);
	g_free(monitor->host_identifier);
	monitor->host_identifier = g_steal_pointer(&host);
	monitor->log_options.event_type = osqd_flags_get_bool(monitor->flags, "logger_event_type");
	monitor->log_options.snapshot_event_type =
	        osqd_flags_get_bool(monitor->flags, "logger_snapshot_event_type");
	monitor->log_options.numerics = osqd_flags_get_bool(monitor->flags, "logger_numerics");
	monitor->log_options.decorations_top_level =
	        osqd_flags_get_bool(monitor->flags, "decorations_top_level");
	g_mutex_unlock(&monitor->mutex);
	/* interval decorators: every one once now, then on their intervals */
	g_mutex_lock(&monitor->mutex);
	g_hash_table_remove_all(monitor->interval_decorations);
	g_mutex_unlock(&monitor->mutex);
	monitor_run_interval_decorators(monitor, config, 0, TRUE);
	/* the config's views, in every connection (clients' and the scheduler's) */
	osqd_registry_set_views(monitor->registry, config->views);
	(void)monitor_run_discovery(monitor, config);
	osqd_scheduler_set_schedule(monitor->scheduler, monitor_schedule_entries(monitor, config));
	monitor_events_apply(monitor, config);
}

static void
monitor_sink_free(gpointer data)
{
	OsqdMonitorSink *sink = data;

	osqd_logger_free(sink->logger);
	g_free(sink);
}

OsqdMonitor *
osqd_monitor_new(OsqdFlags *flags, OsqdRegistry *registry, OsqdExtensions *extensions,
                 GError **error)
{
	g_autoptr(GError) config_error = NULL;
	g_autoptr(OsqdConfig) config =
	        osqd_monitor_load_config(flags, registry, extensions, &config_error);
	g_autoptr(OsqdMonitor) monitor = NULL;
	g_autoptr(GPtrArray) loggers = NULL;
	OsqdLoggerOptions logger_options;
	OsqdSchedulerConfig scheduler_config = { 0 };
	g_autofree gchar *database_dir = NULL;
	g_autofree gchar *logger_dir = NULL;

	if (config == NULL) {
		/* the default config file missing: nothing to monitor, quietly */
		if (g_error_matches(config_error, OSQ_ERROR, OSQ_ERROR_NOT_FOUND) &&
		    g_strcmp0(osqd_flags_get_string(flags, "config_plugin"), "filesystem") == 0 &&
		    !osqd_flags_lookup(flags, "config_path")->is_set) {
			g_debug("%s", config_error->message);
			return NULL;
		}
		g_propagate_error(error, g_steal_pointer(&config_error));
		return NULL;
	}
	monitor = g_new0(OsqdMonitor, 1);
	g_mutex_init(&monitor->mutex);
	g_mutex_init(&monitor->sinks_mutex);
	g_cond_init(&monitor->drain_cond);
	monitor->flags = flags;
	monitor->registry = osqd_registry_ref(registry);
	monitor->extensions = extensions;
	monitor->load_decorations = g_ptr_array_new_with_free_func(g_free);
	monitor->interval_decorations = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL,
	                                                      (GDestroyNotify)g_ptr_array_unref);
	monitor->sinks = g_ptr_array_new_with_free_func(monitor_sink_free);
	osqd_log_options_init(&monitor->log_options);
	/* options from the config first: they may set logger and schedule flags */
	monitor_apply_options(monitor, config);

	database_dir = g_path_get_dirname(osqd_flags_get_string(flags, "database_path"));
	(void)g_mkdir_with_parents(database_dir, 0700);
	monitor->store = osqd_store_open(osqd_flags_get_string(flags, "database_path"), error);
	if (monitor->store == NULL)
		return NULL;
	monitor->instance_id = monitor_stored_uuid(monitor, "instance_uuid_v1");
	if (!osqd_flags_get_bool(flags, "disable_events")) {
		monitor->events = monitor_events_new(monitor, error);
		if (monitor->events == NULL)
			return NULL;
	}

	osqd_logger_options_init(&logger_options);
	logger_options.path = osqd_flags_get_string(flags, "logger_path");
	logger_options.mode = osqd_flags_get_string(flags, "logger_mode");
	logger_options.rotate = osqd_flags_get_bool(flags, "logger_rotate");
	logger_options.rotate_size = osqd_flags_get_uint(flags, "logger_rotate_size");
	logger_options.rotate_max_files =
	        (guint)osqd_flags_get_uint(flags, "logger_rotate_max_files");
	logger_dir = g_strdup(logger_options.path);
	if (!osqd_flags_get_bool(flags, "disable_logging")) {
		if (strstr(osqd_flags_get_string(flags, "logger_plugin"), "filesystem") != NULL)
			(void)g_mkdir_with_parents(logger_dir, 0750);
		loggers = monitor_new_loggers(osqd_flags_get_string(flags, "logger_plugin"),
		                              &logger_options, extensions, error);
		if (loggers == NULL)
			return NULL;
		for (guint i = 0; i < loggers->len; i++) {
			OsqdMonitorSink *sink = g_new0(OsqdMonitorSink, 1);
			sink->logger = loggers->pdata[i];
			sink->cursor = monitor_load_cursor(monitor, sink->logger);
			g_ptr_array_add(monitor->sinks, sink);
		}
		/* the sinks own the loggers now */
		g_ptr_array_set_free_func(loggers, NULL);
	}

	scheduler_config.splay_percent =
	        (guint)osqd_flags_get_uint(flags, "schedule_splay_percent");
	scheduler_config.workers = (guint)MAX(osqd_flags_get_uint(flags, "schedule_workers"), 1);
	scheduler_config.epoch = osqd_flags_get_uint(flags, "schedule_epoch");
	scheduler_config.timeout_ms = (guint)osqd_flags_get_uint(flags, "schedule_max_wall_time");
	scheduler_config.cpu_limit_ms = (guint)osqd_flags_get_uint(flags, "schedule_max_cpu_time");
	scheduler_config.max_output =
	        osqd_flags_get_uint(flags, "schedule_max_memory") * 1024 * 1024;
	scheduler_config.denylist_s = (guint)osqd_flags_get_uint(flags, "denylist_duration");
	scheduler_config.max_pending = osqd_flags_get_uint(flags, "buffered_log_max");
	scheduler_config.format = monitor_format_cb;
	scheduler_config.format_data = monitor;
	scheduler_config.ran = monitor_ran_cb;
	scheduler_config.ran_data = monitor;
	monitor->scheduler = osqd_scheduler_new(registry, monitor->store, &scheduler_config);
	monitor_install(monitor, config);
	return g_steal_pointer(&monitor);
}

/* --pack_refresh_interval: discovery again; a pack that came or went changes the schedule. */
static gboolean
monitor_discovery_cb(gpointer data)
{
	OsqdMonitor *monitor = data;
	g_autoptr(OsqdConfig) config = osqd_monitor_get_config(monitor);

	if (config != NULL && monitor_run_discovery(monitor, config))
		osqd_scheduler_set_schedule(monitor->scheduler,
		                            monitor_schedule_entries(monitor, config));
	return G_SOURCE_CONTINUE;
}

void
osqd_monitor_start(OsqdMonitor *monitor)
{
	g_autoptr(GPtrArray) schedule = NULL;

	for (guint i = 0; i < monitor->sinks->len; i++)
		monitor_skip_written(monitor, monitor->sinks->pdata[i]);
	monitor->drain = g_thread_new("osqd-logs", monitor_drain_thread, monitor);
	monitor->decorator_id = g_timeout_add_seconds(60, monitor_decorator_tick_cb, monitor);
	if (osqd_flags_get_uint(monitor->flags, "pack_refresh_interval") > 0)
		monitor->discovery_id = g_timeout_add_seconds(
		        (guint)osqd_flags_get_uint(monitor->flags, "pack_refresh_interval"),
		        monitor_discovery_cb, monitor);
	osqd_scheduler_start(monitor->scheduler);
	schedule = osqd_monitor_list_schedule(monitor);
	g_message("monitoring: %u scheduled queries, logging to %s", schedule->len,
	          osqd_flags_get_bool(monitor->flags, "disable_logging")
	                  ? "nothing (--disable_logging)"
	                  : osqd_flags_get_string(monitor->flags, "logger_plugin"));
}

void
osqd_monitor_reload(OsqdMonitor *monitor)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(OsqdConfig) config = osqd_monitor_load_config(monitor->flags, monitor->registry,
	                                                        monitor->extensions, &error);
	g_autofree gchar *old_hash = NULL;
	g_autofree gchar *new_hash = NULL;

	g_autoptr(GPtrArray) failures = g_ptr_array_new_with_free_func(g_free);

	g_mutex_lock(&monitor->sinks_mutex);
	for (guint i = 0; i < monitor->sinks->len; i++) {
		OsqdMonitorSink *sink = monitor->sinks->pdata[i];
		g_autoptr(GError) reopen_error = NULL;
		if (!osqd_logger_reopen(sink->logger, &reopen_error))
			g_ptr_array_add(failures,
			                g_strdup_printf("cannot reopen the %s logger: %s",
			                                osqd_logger_get_name(sink->logger),
			                                reopen_error->message));
	}
	g_mutex_unlock(&monitor->sinks_mutex);
	for (guint i = 0; i < failures->len; i++)
		g_warning("%s", (const gchar *)failures->pdata[i]);
	if (config == NULL) {
		g_mutex_lock(&monitor->mutex);
		monitor->config_valid = FALSE;
		g_mutex_unlock(&monitor->mutex);
		g_warning("the new config is not valid, the last good one stays: %s",
		          error->message);
		return;
	}
	g_mutex_lock(&monitor->mutex);
	old_hash = monitor->config != NULL ? osqd_config_hash(monitor->config) : NULL;
	g_mutex_unlock(&monitor->mutex);
	new_hash = osqd_config_hash(config);
	if (g_strcmp0(old_hash, new_hash) == 0) {
		g_mutex_lock(&monitor->mutex);
		monitor->config_valid = TRUE;
		g_mutex_unlock(&monitor->mutex);
		return;
	}
	monitor_install(monitor, config);
	g_message("config reloaded (%s)", new_hash);
}

void
osqd_monitor_free(OsqdMonitor *monitor)
{
	if (monitor == NULL)
		return;
	if (monitor->discovery_id != 0)
		g_source_remove(monitor->discovery_id);
	if (monitor->decorator_id != 0)
		g_source_remove(monitor->decorator_id);
	/* no new runs; running ones finish and commit */
	if (monitor->scheduler != NULL)
		osqd_scheduler_free(monitor->scheduler);
	if (monitor->drain != NULL) {
		g_mutex_lock(&monitor->mutex);
		monitor->drain_stopping = TRUE;
		g_cond_broadcast(&monitor->drain_cond);
		g_mutex_unlock(&monitor->mutex);
		g_thread_join(monitor->drain);
	}
	if (monitor->sinks != NULL)
		g_ptr_array_unref(monitor->sinks);
	/* publishers stop, queued event rows are committed, the tables go empty */
	g_clear_pointer(&monitor->events, osqd_events_free);
	osqd_store_close(monitor->store);
	g_clear_pointer(&monitor->config, osqd_config_unref);
	if (monitor->load_decorations != NULL)
		g_ptr_array_unref(monitor->load_decorations);
	osqd_registry_unref(monitor->registry);
	g_free(monitor->host_identifier);
	g_free(monitor->instance_id);
	if (monitor->packs != NULL)
		g_hash_table_unref(monitor->packs);
	if (monitor->interval_decorations != NULL)
		g_hash_table_unref(monitor->interval_decorations);
	g_cond_clear(&monitor->drain_cond);
	g_mutex_clear(&monitor->sinks_mutex);
	g_mutex_clear(&monitor->mutex);
	g_free(monitor);
}

/* Any thread, any lock held: the line is queued for the drain thread, which writes it within
 * a second. Bounded: past 10,000 waiting lines new ones are counted and dropped. */
void
osqd_monitor_log_status(gint severity, const gchar *message)
{
	GAsyncQueue *queue = monitor_status_queue();

	if (g_async_queue_length(queue) >= 10000)
		return;
	g_async_queue_push(queue,
	                   osqd_status_record_new((OsqdLogSeverity)severity, "osqd", 0, message,
	                                          g_get_real_time(), g_get_host_name()));
}

GPtrArray *
osqd_monitor_list_schedule(OsqdMonitor *monitor)
{
	return osqd_scheduler_list(monitor->scheduler);
}

OsqdConfig *
osqd_monitor_get_config(OsqdMonitor *monitor)
{
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&monitor->mutex);

	return monitor->config != NULL ? osqd_config_ref(monitor->config) : NULL;
}

gboolean
osqd_monitor_config_valid(OsqdMonitor *monitor)
{
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&monitor->mutex);

	return monitor->config_valid;
}

gchar *
osqd_monitor_get_instance_id(OsqdMonitor *monitor)
{
	return g_strdup(monitor->instance_id);
}
