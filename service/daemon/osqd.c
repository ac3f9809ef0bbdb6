/* SPDX-License-Identifier: Apache-2.0
 *
 * osqd's main: flags, logging to stderr (or the journal), the pidfile lock, the RPC server,
 * and a main loop that waits for SIGTERM/SIGINT or a permitted shutdown() call. Shutdown
 * stops accepting, cancels running queries, joins every thread, then removes the socket and
 * the pidfile. Everything that can be checked before serving (flag values, the group, the
 * engine) is checked first, so a bad setup fails at once with a clear message.
 */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib-unix.h>

#include "osq-error.h"
#include "osqd-autoload.h"
#include "osqd-flags.h"
#include "osqd-monitor.h"
#include "osqd-pidfile.h"
#include "osqd-policy.h"
#include "osqd-rpc-server.h"
#include "utility/osquery.h"

typedef struct {
	OsqdFlags *flags;
	GMainLoop *loop;
	OsqdPolicy *policy;         /* immutable once loaded: shared by every worker */
	gint shutdown_requested;    /* atomic: by shutdown() over the socket */
	gint stop_requested;        /* atomic: shutdown() or a signal */
	OsqdExtensions *extensions; /* NULL with --disable_extensions */
	OsqdMonitor *monitor;       /* NULL without a config */
	OsqdRegistry *registry;
	guint sighup_id;
	guint refresh_id;
} OsqdDaemon;

/* for the log writer: status lines also go to the monitor's loggers */
static OsqdMonitor *osqd_status_monitor;

static gboolean osqd_verbose = FALSE;

static GLogWriterOutput
osqd_log_writer_cb(GLogLevelFlags level, const GLogField *fields, gsize n_fields,
                   gpointer user_data)
{
	g_autofree gchar *line = NULL;

	if (!osqd_verbose && (level & G_LOG_LEVEL_DEBUG) != 0)
		return G_LOG_WRITER_HANDLED;
	if (!osqd_verbose && (level & G_LOG_LEVEL_INFO) != 0)
		return G_LOG_WRITER_HANDLED;
	if (g_log_writer_is_journald(fileno(stderr)) &&
	    g_log_writer_journald(level, fields, n_fields, user_data) == G_LOG_WRITER_HANDLED)
		return G_LOG_WRITER_HANDLED;
	line = g_log_writer_format_fields(level, fields, n_fields, FALSE);
	if (osqd_status_monitor != NULL && (level & (G_LOG_LEVEL_DEBUG | G_LOG_LEVEL_INFO)) == 0) {
		const gchar *message = "";
		for (gsize i = 0; i < n_fields; i++) {
			if (g_strcmp0(fields[i].key, "MESSAGE") == 0 && fields[i].length < 0)
				message = fields[i].value;
		}
		osqd_monitor_log_status((level & G_LOG_LEVEL_WARNING) != 0    ? 1
		                        : (level & G_LOG_LEVEL_CRITICAL) != 0 ? 2
		                        : (level & G_LOG_LEVEL_ERROR) != 0    ? 3
		                                                              : 0,
		                        message);
	}
	(void)fprintf(stderr, "%s\n", line);
	(void)fflush(stderr);
	return G_LOG_WRITER_HANDLED;
}

static gboolean
osqd_parse_mode(const gchar *text, guint *mode, GError **error)
{
	guint64 value = 0;

	if (!g_ascii_string_to_unsigned(text, 8, 0, 07777, &value, NULL)) {
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_INVALID_ARGUMENT,
		            "--extensions_socket_mode: '%s' is not an octal mode such as 0660",
		            text);
		return FALSE;
	}
	*mode = (guint)value;
	return TRUE;
}

/* A group name or number; -1 when empty. Runs before any thread starts. */
static gboolean
osqd_parse_group(const gchar *text, gint *gid, GError **error)
{
	struct group entry, *result = NULL;
	gchar buf[16384];
	guint64 number;
	int rc;

	*gid = -1;
	if (text[0] == '\0')
		return TRUE;
	if (g_ascii_string_to_unsigned(text, 10, 0, G_MAXINT32, &number, NULL)) {
		*gid = (gint)number;
		return TRUE;
	}
	rc = getgrnam_r(text, &entry, buf, sizeof(buf), &result);
	if (rc != 0 || result == NULL) {
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_NOT_FOUND,
		            "--extensions_socket_group: no group named '%s'", text);
		return FALSE;
	}
	*gid = (gint)entry.gr_gid;
	return TRUE;
}

/* A string flag holding seconds (osquery's are strings): whole or decimal, as milliseconds. */
static gboolean
osqd_get_seconds_ms(OsqdFlags *flags, const gchar *name, guint *ms, GError **error)
{
	const gchar *text = osqd_flags_get_string(flags, name);
	gchar *end = NULL;
	gdouble seconds = g_ascii_strtod(text, &end);

	if (text[0] != '\0' && end != NULL && *end == '\0' && seconds >= 0 &&
	    seconds <= G_MAXUINT32 / 1000) {
		if (ms != NULL)
			*ms = (guint)(seconds * 1000 + 0.5);
		return TRUE;
	}
	g_set_error(error, OSQ_ERROR, OSQ_ERROR_INVALID_ARGUMENT,
	            "--%s: '%s' is not a number of seconds", name, text);
	return FALSE;
}

static gboolean
osqd_check_seconds(OsqdFlags *flags, const gchar *name, GError **error)
{
	return osqd_get_seconds_ms(flags, name, NULL, error);
}

/* The defaults live in directories that may not exist yet: /var/osquery for root, the user's
 * runtime directory otherwise. Paths given by the user must have their directory already. */
static gboolean
osqd_prepare_directory(OsqdFlags *flags, const gchar *name, GError **error)
{
	const OsqdFlag *flag = osqd_flags_lookup(flags, name);
	g_autofree gchar *dirname = NULL;

	if (g_strcmp0(flag->value, flag->default_value) != 0)
		return TRUE;
	dirname = g_path_get_dirname(flag->value);
	if (g_mkdir_with_parents(dirname, geteuid() == 0 ? 0755 : 0700) != 0) {
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_IO, "cannot create %s for --%s: %s",
		            dirname, name, g_strerror(errno));
		return FALSE;
	}
	return TRUE;
}

static GPtrArray *
osqd_options_cb(gpointer user_data)
{
	OsqdFlags *flags = user_data;
	GPtrArray *options = g_ptr_array_new_with_free_func((GDestroyNotify)osqd_rpc_option_free);

	for (guint i = 0; i < osqd_flags_get_count(flags); i++) {
		const OsqdFlag *flag = osqd_flags_get_nth(flags, i);
		g_ptr_array_add(options,
		                osqd_rpc_option_new(flag->name, flag->value, flag->default_value,
		                                    osqd_flag_type_to_string(flag->type)));
	}
	return options;
}

static gboolean
osqd_quit_cb(gpointer user_data)
{
	OsqdDaemon *daemon = user_data;

	g_main_loop_quit(daemon->loop);
	return G_SOURCE_REMOVE;
}

/* Called on a worker thread. The quit goes through the main context as an idle source, so a
 * shutdown that arrives before the main loop runs is not lost (quitting a loop that is not
 * running yet would be undone when it starts). */
static void
osqd_shutdown_cb(gpointer user_data)
{
	OsqdDaemon *daemon = user_data;

	g_atomic_int_set(&daemon->shutdown_requested, 1);
	g_atomic_int_set(&daemon->stop_requested, 1);
	g_idle_add(osqd_quit_cb, daemon);
}

/* SIGTERM/SIGINT, dispatched on the main thread (also while it waits for required extensions,
 * before the main loop runs: the flag covers that). */
static gboolean
osqd_signal_cb(gpointer user_data)
{
	OsqdDaemon *daemon = user_data;

	g_atomic_int_set(&daemon->stop_requested, 1);
	g_main_loop_quit(daemon->loop);
	return G_SOURCE_CONTINUE;
}

static gboolean
osqd_build_config(OsqdFlags *flags, OsqdRpcServerConfig *server_config, OsqdRpcLimits *limits,
                  GError **error)
{
	guint mode = 0;
	gint gid = -1;

	if (!osqd_parse_mode(osqd_flags_get_string(flags, "extensions_socket_mode"), &mode,
	                     error) ||
	    !osqd_parse_group(osqd_flags_get_string(flags, "extensions_socket_group"), &gid,
	                      error) ||
	    !osqd_check_seconds(flags, "extensions_timeout", error) ||
	    !osqd_check_seconds(flags, "extensions_interval", error))
		return FALSE;
	if (osqd_flags_get_uint(flags, "rpc_max_connections") == 0) {
		g_set_error_literal(error, OSQ_ERROR, OSQ_ERROR_INVALID_ARGUMENT,
		                    "--rpc_max_connections must be at least 1");
		return FALSE;
	}
	if (osqd_flags_get_uint(flags, "rpc_max_message") < 64) {
		g_set_error_literal(error, OSQ_ERROR, OSQ_ERROR_INVALID_ARGUMENT,
		                    "--rpc_max_message must be at least 64 bytes");
		return FALSE;
	}
	if (osqd_flags_get_string(flags, "extensions_socket")[0] == '\0' ||
	    osqd_flags_get_string(flags, "pidfile")[0] == '\0') {
		g_set_error_literal(error, OSQ_ERROR, OSQ_ERROR_INVALID_ARGUMENT,
		                    "--extensions_socket and --pidfile must not be empty");
		return FALSE;
	}
	server_config->socket_path = osqd_flags_get_string(flags, "extensions_socket");
	server_config->socket_mode = mode;
	server_config->socket_gid = gid;
	server_config->max_connections = (guint)osqd_flags_get_uint(flags, "rpc_max_connections");
	server_config->max_message = (gsize)osqd_flags_get_uint(flags, "rpc_max_message");
	server_config->idle_timeout_s = (guint)osqd_flags_get_uint(flags, "rpc_idle_timeout");
	limits->query_timeout_ms = (guint)osqd_flags_get_uint(flags, "query_timeout");
	limits->query_max_rows = osqd_flags_get_uint(flags, "query_max_rows");
	limits->query_max_bytes = osqd_flags_get_uint(flags, "query_max_bytes");
	return TRUE;
}

/* An OsqdEngineAccessFunc for one connection: the policy's table/column decision, logged when
 * it denies (the library only returns the error). */
static gboolean
osqd_build_extensions_config(OsqdFlags *flags, const OsqdRpcLimits *limits,
                             OsqdExtensionsConfig *config, GError **error)
{
	if (!osqd_get_seconds_ms(flags, "extensions_interval", &config->interval_ms, error) ||
	    !osqd_get_seconds_ms(flags, "extensions_timeout", &config->timeout_ms, error))
		return FALSE;
	if (config->interval_ms < 200) {
		g_set_error_literal(error, OSQ_ERROR, OSQ_ERROR_INVALID_ARGUMENT,
		                    "--extensions_interval must be at least 0.2 seconds");
		return FALSE;
	}
	config->call_timeout_ms =
	        (guint)MIN(osqd_flags_get_uint(flags, "thrift_timeout"), G_MAXUINT / 1000) * 1000;
	if (config->call_timeout_ms == 0)
		config->call_timeout_ms = G_MAXUINT;
	/* one extension reply may be as large as a whole query result */
	config->max_reply = limits->query_max_bytes > 0
	                            ? (gsize)MIN(limits->query_max_bytes, (guint64)G_MAXINT32)
	                            : (gsize)G_MAXINT32;
	config->max_rows = limits->query_max_rows;
	config->default_index = osqd_flags_get_bool(flags, "extensions_default_index");
	return TRUE;
}

/* ---- the monitor: config, schedule, logs ---- */

static gboolean
osqd_sighup_cb(gpointer user_data)
{
	OsqdDaemon *daemon = user_data;

	g_message("SIGHUP: reloading the config and reopening the logs");
	if (daemon->monitor != NULL)
		osqd_monitor_reload(daemon->monitor);
	return G_SOURCE_CONTINUE;
}

static gboolean
osqd_refresh_cb(gpointer user_data)
{
	OsqdDaemon *daemon = user_data;

	if (daemon->monitor != NULL)
		osqd_monitor_reload(daemon->monitor);
	return G_SOURCE_CONTINUE;
}

/* A config that cannot be read leaves the daemon serving queries, with no schedule. */
static void
osqd_start_monitor(OsqdDaemon *daemon)
{
	g_autoptr(GError) error = NULL;
	guint refresh = (guint)osqd_flags_get_uint(daemon->flags, "config_refresh");

	daemon->monitor =
	        osqd_monitor_new(daemon->flags, daemon->registry, daemon->extensions, &error);
	if (daemon->monitor == NULL) {
		if (error != NULL)
			g_critical("config: %s (serving queries without a schedule)",
			           error->message);
		return;
	}
	osqd_status_monitor = daemon->monitor;
	osqd_monitor_start(daemon->monitor);
	daemon->sighup_id = g_unix_signal_add(SIGHUP, osqd_sighup_cb, daemon);
	if (refresh > 0)
		daemon->refresh_id = g_timeout_add_seconds(refresh, osqd_refresh_cb, daemon);
}

static void
osqd_stop_monitor(OsqdDaemon *daemon)
{
	if (daemon->sighup_id != 0)
		g_source_remove(daemon->sighup_id);
	if (daemon->refresh_id != 0)
		g_source_remove(daemon->refresh_id);
	daemon->sighup_id = daemon->refresh_id = 0;
	osqd_status_monitor = NULL;
	g_clear_pointer(&daemon->monitor, osqd_monitor_free);
}

/* --config_check and --config_dump: read the config, report, exit. */
static gint
osqd_config_command(OsqdFlags *flags)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(OsqdRegistry) registry = osqd_registry_new_builtin();
	g_autoptr(OsqdConfig) config = osqd_monitor_load_config(flags, registry, NULL, &error);

	if (config == NULL) {
		(void)fprintf(stderr, "osqd: config: %s\n", error->message);
		return EXIT_FAILURE;
	}
	if (osqd_flags_get_bool(flags, "config_dump")) {
		g_autofree gchar *dump = osqd_config_dump(config);
		(void)printf("%s\n", dump);
	} else {
		(void)printf("config OK: %u scheduled queries, %u packs\n", config->queries->len,
		             config->packs->len);
	}
	return EXIT_SUCCESS;
}

/* ---- autoloaded extensions ---- */

static gboolean
osqd_setup_autoload(OsqdFlags *flags, const gchar *socket_path, OsqdAutoload **autoload,
                    GStrv *required, GError **error)
{
	const gchar *list = osqd_flags_get_string(flags, "extensions_autoload");
	const gchar *require = osqd_flags_get_string(flags, "extensions_require");
	OsqdAutoloadConfig config = {
		.socket_path = socket_path,
		.timeout = osqd_flags_get_string(flags, "extensions_timeout"),
		.interval = osqd_flags_get_string(flags, "extensions_interval"),
		.verbose = osqd_flags_get_bool(flags, "verbose"),
	};

	if (require[0] != '\0') {
		g_auto(GStrv) names = g_strsplit(require, ",", -1);
		g_autoptr(GPtrArray) kept = g_ptr_array_new_with_free_func(g_free);
		for (guint i = 0; names[i] != NULL; i++) {
			gchar *name = g_strstrip(names[i]);
			if (name[0] != '\0')
				g_ptr_array_add(kept, g_strdup(name));
		}
		g_ptr_array_add(kept, NULL);
		*required = (GStrv)g_ptr_array_free(g_steal_pointer(&kept), FALSE);
	}
	if (list[0] == '\0')
		return TRUE;
	if (osqd_flags_get_bool(flags, "disable_extensions")) {
		g_warning("--extensions_autoload is ignored: --disable_extensions is set");
		return TRUE;
	}
	*autoload = osqd_autoload_new(list, &config, error);
	return *autoload != NULL;
}

static gchar *
osqd_require_gate(GStrv required)
{
	g_autofree gchar *names = g_strjoinv(", ", required);

	return g_strdup_printf("osqd is starting: waiting for required extensions (%s)", names);
}

/* --extensions_require: queries wait (refused with a message) until every named extension has
 * registered; past --extensions_timeout the daemon gives up, as osquery does. */
static gboolean
osqd_wait_required(OsqdFlags *flags, OsqdRpcHandler *handler, OsqdExtensions *extensions,
                   GStrv required, gint *stop_requested, GError **error)
{
	g_autofree gchar *names = g_strjoinv(", ", required);
	g_autofree gchar *gate = osqd_require_gate(required);
	guint timeout_ms = 0;
	gint64 deadline;

	if (required[0] == NULL)
		return TRUE;
	if (extensions == NULL) {
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_INVALID_ARGUMENT,
		            "--extensions_require names %s, but extensions are disabled", names);
		return FALSE;
	}
	(void)osqd_get_seconds_ms(flags, "extensions_timeout", &timeout_ms, NULL);
	deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
	osqd_rpc_handler_set_gate(handler, gate);
	for (;;) {
		g_autoptr(GPtrArray) entries = osqd_extensions_list(extensions);
		g_autoptr(GPtrArray) missing = g_ptr_array_new();
		for (guint i = 0; required[i] != NULL; i++) {
			gboolean found = FALSE;
			for (guint j = 0; j < entries->len && !found; j++)
				found = g_strcmp0(((OsqdExtensionEntry *)entries->pdata[j])
				                          ->info.name,
				                  required[i]) == 0;
			if (!found)
				g_ptr_array_add(missing, required[i]);
		}
		if (missing->len == 0 || g_atomic_int_get(stop_requested))
			break;
		if (g_get_monotonic_time() >= deadline) {
			g_ptr_array_add(missing, NULL);
			g_autofree gchar *text = g_strjoinv(", ", (gchar **)missing->pdata);
			g_set_error(
			        error, OSQ_ERROR, OSQ_ERROR_TIMED_OUT,
			        "required extensions did not register within --extensions_timeout "
			        "(%u ms): %s",
			        timeout_ms, text);
			return FALSE;
		}
		/* child watches of autoloaded extensions run here meanwhile */
		while (g_main_context_iteration(NULL, FALSE))
			;
		g_usleep(20 * 1000);
	}
	osqd_rpc_handler_set_gate(handler, NULL);
	g_message("required extensions registered: %s", names);
	return TRUE;
}

/* ---- osquery_extensions and osquery_registry, from the extension manager ---- */

static gchar *
osqd_manager_path_cb(gpointer user_data)
{
	OsqdDaemon *daemon = user_data;

	return g_strdup(osqd_flags_get_string(daemon->flags, "extensions_socket"));
}

static GPtrArray *
osqd_extensions_cb(gpointer user_data)
{
	OsqdDaemon *daemon = user_data;
	g_autoptr(GPtrArray) entries = NULL;
	GPtrArray *rows =
	        g_ptr_array_new_with_free_func((GDestroyNotify)osqd_osquery_extension_free);

	if (daemon->extensions == NULL)
		return rows;
	entries = osqd_extensions_list(daemon->extensions);
	for (guint i = 0; i < entries->len; i++) {
		const OsqdExtensionEntry *entry = entries->pdata[i];
		OsqdOsqueryExtension *row = g_new0(OsqdOsqueryExtension, 1);
		row->uuid = entry->uuid;
		row->name = g_strdup(entry->info.name);
		row->version = g_strdup(entry->info.version);
		row->sdk_version = g_strdup(entry->info.sdk_version);
		row->path = g_strdup(entry->path);
		g_ptr_array_add(rows, row);
	}
	return rows;
}

static GPtrArray *
osqd_plugins_cb(gpointer user_data)
{
	OsqdDaemon *daemon = user_data;
	g_autoptr(GPtrArray) entries = NULL;
	GPtrArray *rows = g_ptr_array_new_with_free_func((GDestroyNotify)osqd_osquery_plugin_free);

	if (daemon->extensions == NULL)
		return rows;
	entries = osqd_extensions_list_plugins(daemon->extensions);
	for (guint i = 0; i < entries->len; i++) {
		const OsqdPluginEntry *entry = entries->pdata[i];
		OsqdOsqueryPlugin *row = g_new0(OsqdOsqueryPlugin, 1);
		row->registry = g_strdup(entry->registry);
		row->name = g_strdup(entry->name);
		row->owner_uuid = entry->owner_uuid;
		g_ptr_array_add(rows, row);
	}
	return rows;
}

static GPtrArray *
osqd_flags_cb(gpointer user_data)
{
	OsqdDaemon *daemon = user_data;
	GPtrArray *rows = g_ptr_array_new_with_free_func((GDestroyNotify)osqd_osquery_flag_free);

	for (guint i = 0; i < osqd_flags_get_count(daemon->flags); i++) {
		const OsqdFlag *flag = osqd_flags_get_nth(daemon->flags, i);
		OsqdOsqueryFlag *row = g_new0(OsqdOsqueryFlag, 1);
		row->name = g_strdup(flag->name);
		row->type = g_strdup(osqd_flag_type_to_string(flag->type));
		row->description = g_strdup(flag->description);
		row->default_value = g_strdup(flag->default_value);
		row->value = g_strdup(flag->value);
		g_ptr_array_add(rows, row);
	}
	return rows;
}

static void
osqd_info_cb(gpointer user_data, OsqdOsqueryInfo *info)
{
	OsqdDaemon *daemon = user_data;
	g_autoptr(OsqdConfig) config = NULL;

	info->extensions = daemon->extensions != NULL;
	if (daemon->monitor == NULL)
		return;
	config = osqd_monitor_get_config(daemon->monitor);
	info->config_hash = config != NULL ? osqd_config_hash(config) : NULL;
	info->config_valid = osqd_monitor_config_valid(daemon->monitor);
	info->instance_id = osqd_monitor_get_instance_id(daemon->monitor);
}

static GPtrArray *
osqd_schedule_cb(gpointer user_data)
{
	OsqdDaemon *daemon = user_data;
	GPtrArray *rows =
	        g_ptr_array_new_with_free_func((GDestroyNotify)osqd_osquery_schedule_free);
	g_autoptr(GPtrArray) list = NULL;

	if (daemon->monitor == NULL)
		return rows;
	list = osqd_monitor_list_schedule(daemon->monitor);
	for (guint i = 0; i < list->len; i++) {
		const OsqdScheduleStats *stats = list->pdata[i];
		OsqdOsquerySchedule *row = g_new0(OsqdOsquerySchedule, 1);
		row->name = g_strdup(stats->name);
		row->query = g_strdup(stats->sql);
		row->interval = stats->interval;
		row->executions = (gint64)stats->executions;
		row->last_executed = stats->last_executed;
		row->denylisted = stats->denylisted;
		row->output_size = (gint64)stats->output_size;
		row->wall_time_ms = (gint64)stats->wall_time_ms;
		row->last_wall_time_ms = (gint64)stats->last_wall_time_ms;
		row->user_time_ms = (gint64)stats->user_time_ms;
		row->last_user_time_ms = (gint64)stats->last_user_time_ms;
		row->system_time_ms = (gint64)stats->system_time_ms;
		row->last_system_time_ms = (gint64)stats->last_system_time_ms;
		row->average_memory = stats->executions > 0
		                              ? (gint64)(stats->total_memory / stats->executions)
		                              : 0;
		row->last_memory = (gint64)stats->last_memory;
		g_ptr_array_add(rows, row);
	}
	return rows;
}

static GPtrArray *
osqd_packs_cb(gpointer user_data)
{
	OsqdDaemon *daemon = user_data;
	GPtrArray *rows = g_ptr_array_new_with_free_func((GDestroyNotify)osqd_osquery_pack_free);
	g_autoptr(OsqdConfig) config =
	        daemon->monitor != NULL ? osqd_monitor_get_config(daemon->monitor) : NULL;

	for (guint i = 0; config != NULL && i < config->packs->len; i++) {
		const OsqdConfigPack *pack = config->packs->pdata[i];
		OsqdOsqueryPack *row = g_new0(OsqdOsqueryPack, 1);
		row->name = g_strdup(pack->name);
		row->platform = g_strdup(pack->platform != NULL ? pack->platform : "");
		row->version = g_strdup(pack->version != NULL ? pack->version : "");
		row->shard = pack->shard;
		row->active = pack->selected;
		{
			gboolean active = FALSE;
			guint64 executions = 0, hits = 0;
			if (osqd_monitor_pack_state(daemon->monitor, pack->name, &active,
			                            &executions, &hits)) {
				row->active = active;
				row->discovery_executions = (gint64)executions;
				row->discovery_cache_hits = (gint64)hits;
			}
		}
		g_ptr_array_add(rows, row);
	}
	return rows;
}

static void
osqd_install_provider(OsqdDaemon *daemon)
{
	OsqdOsqueryProvider provider = {
		.manager_path = osqd_manager_path_cb,
		.extensions = osqd_extensions_cb,
		.plugins = osqd_plugins_cb,
		.flags = osqd_flags_cb,
		.packs = osqd_packs_cb,
		.schedule = osqd_schedule_cb,
		.info = osqd_info_cb,
		.user_data = daemon,
	};

	osqd_osquery_set_provider(&provider);
}

static gboolean
osqd_engine_access_cb(const OsqdTable *table, gint column, gpointer user_data, GError **error)
{
	OsqdPolicyAccess *access = user_data;

	if (osqd_policy_may_read(access->policy, access->peer, table, column, error))
		return TRUE;
	g_warning("denied for pid %d: %s", (gint)access->peer->pid, (*error)->message);
	return FALSE;
}

/* An OsqdRpcEngineSetupFunc: every connection's engine checks reads against the policy. */
static gboolean
osqd_engine_setup_cb(OsqdEngine *engine, const OsqdPeer *peer, gpointer user_data, GError **error)
{
	OsqdDaemon *daemon = user_data;
	OsqdPolicyAccess *access = g_new0(OsqdPolicyAccess, 1);

	access->policy = daemon->policy;
	access->peer = peer; /* the session owns the peer and outlives its engine */
	osqd_engine_set_access_func(engine, osqd_engine_access_cb, access, g_free);
	osqd_engine_set_privileged(engine, osqd_policy_may_read_sensitive(daemon->policy, peer));
	return TRUE;
}

/* An OsqdRpcAccessFunc: shutdown and extension registration as the policy says. */
static gboolean
osqd_rpc_access_cb(const OsqdPeer *peer, OsqdRpcAccess access, gpointer user_data, GError **error)
{
	OsqdDaemon *daemon = user_data;
	OsqdPolicyAction action = access == OSQD_RPC_ACCESS_SHUTDOWN
	                                  ? OSQD_POLICY_ACTION_SHUTDOWN
	                                  : OSQD_POLICY_ACTION_REGISTER_EXTENSION;

	return osqd_policy_may(daemon->policy, peer, action, error);
}

static OsqdPolicy *
osqd_load_policy(OsqdFlags *flags, GError **error)
{
	const gchar *path = osqd_flags_get_string(flags, "access_policy");

	if (path == NULL || path[0] == '\0')
		return osqd_policy_new_default();
	return osqd_policy_load(path, error);
}

static gint
osqd_run(OsqdDaemon *daemon, GError **error)
{
	OsqdFlags *flags = daemon->flags;
	OsqdRpcServerConfig server_config = { 0 };
	OsqdRpcLimits limits = { 0 };
	g_autoptr(OsqdPidfile) pidfile = NULL;
	g_autoptr(OsqdRegistry) registry = NULL;
	g_autoptr(OsqdEngine) engine = NULL;
	g_autoptr(OsqdRpcHandler) handler = NULL;
	g_autoptr(OsqdRpcServer) server = NULL;
	g_autoptr(OsqdPolicy) policy = NULL;
	g_autoptr(OsqdExtensions) extensions = NULL;
	g_autoptr(OsqdAutoload) autoload = NULL;
	g_auto(GStrv) required = NULL;
	g_autofree gchar *policy_text = NULL;
	OsqdExtensionsConfig extensions_config = { 0 };

	if (!osqd_build_config(flags, &server_config, &limits, error) ||
	    !osqd_build_extensions_config(flags, &limits, &extensions_config, error))
		return EXIT_FAILURE;
	if (!osqd_prepare_directory(flags, "pidfile", error) ||
	    !osqd_prepare_directory(flags, "extensions_socket", error))
		return EXIT_FAILURE;
	policy = osqd_load_policy(flags, error);
	if (policy == NULL) {
		g_prefix_error(error, "bad --access_policy: ");
		return EXIT_FAILURE;
	}
	daemon->policy = policy;
	pidfile = osqd_pidfile_acquire(osqd_flags_get_string(flags, "pidfile"), error);
	if (pidfile == NULL)
		return EXIT_FAILURE;

	/* one engine up front: a table that cannot attach fails the start, not every query */
	registry = osqd_registry_new_builtin();
	daemon->registry = registry;
	engine = osqd_engine_new(registry, error);
	if (engine == NULL) {
		g_prefix_error(error, "cannot set up the SQL engine: ");
		return EXIT_FAILURE;
	}
	g_clear_pointer(&engine, osqd_engine_free);

	if (!osqd_setup_autoload(flags, server_config.socket_path, &autoload, &required, error))
		return EXIT_FAILURE;

	handler = osqd_rpc_handler_new(registry, &limits);
	if (!osqd_flags_get_bool(flags, "disable_extensions")) {
		extensions = osqd_extensions_new(registry, server_config.socket_path,
		                                 &extensions_config);
		osqd_extensions_add_builtin_plugin(extensions, "config", "filesystem");
		osqd_extensions_add_builtin_plugin(extensions, "logger", "filesystem");
		osqd_extensions_add_builtin_plugin(extensions, "logger", "stdout");
		osqd_extensions_add_builtin_plugin(extensions, "logger", "syslog");
		osqd_rpc_handler_set_extensions(handler, extensions);
	}
	daemon->extensions = extensions;
	osqd_install_provider(daemon);
	/* --extensions_require: queries wait from the first moment the socket is up */
	if (required != NULL && required[0] != NULL) {
		g_autofree gchar *gate = osqd_require_gate(required);
		osqd_rpc_handler_set_gate(handler, gate);
	}
	osqd_rpc_handler_set_options_func(handler, osqd_options_cb, flags);
	osqd_rpc_handler_set_access_func(handler, osqd_rpc_access_cb, daemon);
	osqd_rpc_handler_set_engine_setup_func(handler, osqd_engine_setup_cb, daemon);
	server = osqd_rpc_server_new(&server_config, handler);
	osqd_rpc_server_set_shutdown_func(server, osqd_shutdown_cb, daemon);
	if (!osqd_rpc_server_start(server, error))
		return EXIT_FAILURE;
	g_message("osqd %s serving %s (pid %d, pidfile %s)", OSQ_VERSION, server_config.socket_path,
	          (gint)getpid(), osqd_flags_get_string(flags, "pidfile"));
	if (extensions != NULL)
		osqd_extensions_start_watcher(extensions);
	if (autoload != NULL)
		osqd_autoload_start(autoload);
	if (required != NULL && !osqd_wait_required(flags, handler, extensions, required,
	                                            &daemon->stop_requested, error)) {
		if (autoload != NULL)
			osqd_autoload_stop(autoload);
		osqd_extensions_shutdown_all(extensions);
		osqd_rpc_server_stop(server);
		osqd_osquery_set_provider(NULL);
		return EXIT_FAILURE;
	}

	policy_text = osqd_policy_describe(policy);
	g_info("access policy:\n%s", policy_text);

	osqd_start_monitor(daemon);
	if (!g_atomic_int_get(&daemon->stop_requested))
		g_main_loop_run(daemon->loop);
	osqd_stop_monitor(daemon);

	g_message("stopping%s", g_atomic_int_get(&daemon->shutdown_requested)
	                                ? " (shutdown requested over the socket)"
	                                : "");
	/* every extension hears shutdown(), as osquery's core tells them, while their sockets are
	 * still there (stopping the server removes <socket>.* files); autoloaded ones that stay
	 * are terminated */
	if (extensions != NULL)
		osqd_extensions_shutdown_all(extensions);
	if (autoload != NULL)
		osqd_autoload_stop(autoload);
	osqd_rpc_server_stop(server);
	osqd_osquery_set_provider(NULL);
	daemon->extensions = NULL;
	g_clear_pointer(&extensions, osqd_extensions_free);
	/* the pidfile goes last: while it is locked, no second daemon starts */
	g_clear_pointer(&server, osqd_rpc_server_free);
	g_clear_pointer(&pidfile, osqd_pidfile_release);
	daemon->policy = NULL;
	g_message("stopped");
	return EXIT_SUCCESS;
}

int
main(int argc, char **argv)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(OsqdFlags) flags = osqd_flags_new();
	g_autoptr(GMainLoop) loop = NULL;
	OsqdDaemon daemon = { 0 };
	gboolean help = FALSE, version = FALSE;
	guint sigterm_id, sigint_id;
	gint rc;

	(void)signal(SIGPIPE, SIG_IGN);
	g_log_set_writer_func(osqd_log_writer_cb, NULL, NULL);
	if (!osqd_flags_parse_args(flags, argc, argv, &help, &version, &error)) {
		(void)fprintf(stderr, "osqd: %s\nTry 'osqd --help'.\n", error->message);
		return EXIT_FAILURE;
	}
	if (help) {
		g_autofree gchar *text = osqd_flags_help(flags);
		(void)fputs(text, stdout);
		return EXIT_SUCCESS;
	}
	if (version) {
		(void)printf("osqd %s\n", OSQ_VERSION);
		return EXIT_SUCCESS;
	}
	osqd_verbose = osqd_flags_get_bool(flags, "verbose");
	if (osqd_flags_get_bool(flags, "config_check") || osqd_flags_get_bool(flags, "config_dump"))
		return osqd_config_command(flags);
	/* a thread per connection: cap glibc's per-thread arenas so memory returns to a few pools
	 */
	(void)mallopt(M_ARENA_MAX, 2);

	loop = g_main_loop_new(NULL, FALSE);
	daemon.flags = flags;
	daemon.loop = loop;
	sigterm_id = g_unix_signal_add(SIGTERM, osqd_signal_cb, &daemon);
	sigint_id = g_unix_signal_add(SIGINT, osqd_signal_cb, &daemon);
	rc = osqd_run(&daemon, &error);
	g_source_remove(sigterm_id);
	g_source_remove(sigint_id);
	if (rc != EXIT_SUCCESS)
		g_printerr("osqd: %s\n", error != NULL ? error->message : "failed");
	return rc;
}
