/* SPDX-License-Identifier: Apache-2.0
 *
 * The flag table and its parsers. Names and types follow osquery where osquery has the flag
 * (extensions_timeout and extensions_interval are strings there, so they are here too); the
 * rpc_* and query_* flags are osq's own. Values are kept as text, checked against the type when
 * set, and converted on read, so options() reports exactly what was given.
 */
#include "config.h"

#include "osqd-flags.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "osq-error.h"

/* nested --flagfile lines are followed this deep */
#define OSQD_FLAGS_MAX_FILE_DEPTH 8
/* a flagfile larger than this is refused */
#define OSQD_FLAGS_MAX_FILE_SIZE (1024 * 1024)

typedef struct {
	const gchar *name;
	OsqdFlagType type;
	const gchar *root_default; /* NULL: computed per user */
	const gchar *description;
} OsqdFlagSpec;

/* sorted by name */
static const OsqdFlagSpec osqd_flag_specs[] = {
	{ "access_policy", OSQD_FLAG_STRING, "",
	  "Path of the TOML access policy (empty: the built-in default, root may do everything and "
	  "others may read tables that are not sensitive)" },
	{ "audit_allow_failed_socket_events", OSQD_FLAG_BOOL, "false",
	  "socket_events also keeps calls that failed" },
	{ "audit_allow_sockets", OSQD_FLAG_BOOL, "false",
	  "With --disable_audit=false: fill socket_events from the audit subsystem (osqd installs "
	  "audit rules for bind, connect and accept while it runs; needs root and no auditd)" },
	{ "audit_allow_unix", OSQD_FLAG_BOOL, "false", "socket_events also keeps Unix sockets" },
	{ "buffered_log_max", OSQD_FLAG_UINT64, "1000000",
	  "Most log lines kept in the database while loggers catch up; the oldest go first, with a "
	  "warning (0: no cap)" },
	{ "config_check", OSQD_FLAG_BOOL, "false",
	  "Check the config (JSON, keys, every query's SQL) and exit: 0 when it is valid" },
	{ "config_dump", OSQD_FLAG_BOOL, "false", "Print the merged config as JSON and exit" },
	{ "config_path", OSQD_FLAG_STRING, NULL,
	  "The filesystem config plugin's file; <config_path>.d/ is merged after it (a missing "
	  "default file means no schedule)" },
	{ "config_plugin", OSQD_FLAG_STRING, "filesystem",
	  "Where the config comes from: filesystem, or a config plugin an extension registered" },
	{ "config_refresh", OSQD_FLAG_UINT32, "0",
	  "Seconds between config reloads (0: only at start and on SIGHUP)" },
	{ "database_path", OSQD_FLAG_STRING, NULL,
	  "Path of the daemon's database (kept for the scheduler and event store)" },
	{ "decorations_top_level", OSQD_FLAG_BOOL, "false",
	  "Write decorations as top-level keys of each log line instead of under \"decorations\"" },
	{ "denylist_duration", OSQD_FLAG_UINT32, "86400",
	  "Seconds a scheduled query over its budget is not run (0: never denylist)" },
	{ "disable_audit", OSQD_FLAG_BOOL, "true",
	  "osquery's switch for process_events: false turns the table on (osq reads the kernel's "
	  "process connector, not audit)" },
	{ "disable_events", OSQD_FLAG_BOOL, "false",
	  "Start no event publishers: event tables stay empty" },
	{ "disable_extensions", OSQD_FLAG_BOOL, "false",
	  "Turn the extension API off: registerExtension is refused" },
	{ "disable_hardware_events", OSQD_FLAG_BOOL, "false",
	  "Do not listen to the kernel's device uevents (hardware_events stays empty)" },
	{ "disable_logging", OSQD_FLAG_BOOL, "false", "Write no result logs" },
	{ "enable_file_events", OSQD_FLAG_BOOL, "false",
	  "Watch the config's file_paths with inotify and fill file_events" },
	{ "events_expiry", OSQD_FLAG_UINT64, "3600",
	  "Seconds event rows are kept (0: until --events_max pushes them out)" },
	{ "events_max", OSQD_FLAG_UINT64, "50000",
	  "Most rows kept per event table; the oldest go first (0: no cap)" },
	{ "extensions_autoload", OSQD_FLAG_STRING, "",
	  "File listing extension executables to start, one path per line (# starts a comment)" },
	{ "extensions_default_index", OSQD_FLAG_BOOL, "true",
	  "Treat extension columns without options as indexed, so their constraints reach the "
	  "extension (as osquery does)" },
	{ "extensions_interval", OSQD_FLAG_STRING, "3",
	  "Seconds between health checks of registered extensions (decimals allowed, at least "
	  "0.2)" },
	{ "extensions_require", OSQD_FLAG_STRING, "",
	  "Comma-separated names of autoloaded extensions that must register before osqd serves "
	  "queries" },
	{ "extensions_socket", OSQD_FLAG_STRING, NULL,
	  "Path of the Unix socket osqd serves the extension API on" },
	{ "extensions_socket_group", OSQD_FLAG_STRING, "",
	  "Group (name or number) given to the socket, so its members can connect (empty: keep "
	  "the daemon's group)" },
	{ "extensions_socket_mode", OSQD_FLAG_STRING, "0660",
	  "Permission bits of the socket in octal; connecting needs write permission, so 0660 "
	  "lets the owner and the socket's group in" },
	{ "extensions_timeout", OSQD_FLAG_STRING, "3",
	  "Seconds to wait for an extension to answer its first health check, for each ping, and "
	  "for --extensions_require" },
	{ "file_events_hash", OSQD_FLAG_BOOL, "true",
	  "Hash (md5, sha1, sha256) created and updated files in file_events" },
	{ "flagfile", OSQD_FLAG_STRING, "",
	  "Read more flags from this file, one per line (# starts a comment)" },
	{ "host_identifier", OSQD_FLAG_STRING, "hostname",
	  "What log lines name the host by: hostname, uuid, instance, ephemeral or specified" },
	{ "logger_event_type", OSQD_FLAG_BOOL, "true",
	  "One log line per changed row (false: one line per run with diffResults)" },
	{ "logger_mode", OSQD_FLAG_STRING, "0640", "Permission bits of new log files, in octal" },
	{ "logger_numerics", OSQD_FLAG_BOOL, "false",
	  "Write numeric columns as JSON numbers instead of strings" },
	{ "logger_path", OSQD_FLAG_STRING, NULL,
	  "Directory of the filesystem logger's osqd.results.log, osqd.snapshots.log and status "
	  "logs" },
	{ "logger_plugin", OSQD_FLAG_STRING, "filesystem",
	  "Logger plugins, comma-separated: filesystem, stdout, syslog, or ones extensions "
	  "registered" },
	{ "logger_rotate", OSQD_FLAG_BOOL, "false", "Rotate the log files by size" },
	{ "logger_rotate_max_files", OSQD_FLAG_UINT32, "25", "Rotated log files kept" },
	{ "logger_rotate_size", OSQD_FLAG_UINT64, "26214400",
	  "Size in bytes at which a log file rotates" },
	{ "logger_snapshot_event_type", OSQD_FLAG_BOOL, "false",
	  "Write snapshot results one line per row instead of one line per run" },
	{ "pack_delimiter", OSQD_FLAG_STRING, "_",
	  "Between pack and query names in scheduled query names (pack_<pack>_<query>)" },
	{ "pack_refresh_interval", OSQD_FLAG_UINT32, "3600",
	  "Seconds between runs of the packs' discovery queries (0: only when the config loads)" },
	{ "pidfile", OSQD_FLAG_STRING, NULL,
	  "Path of the pidfile (locked while osqd runs, removed when it stops)" },
	{ "query_max_bytes", OSQD_FLAG_UINT64, "104857600",
	  "Largest encoded query result in bytes; a larger one fails with an error (the default "
	  "matches the 100 MiB Thrift clients accept)" },
	{ "query_max_rows", OSQD_FLAG_UINT64, "1000000",
	  "Most rows one query may return; more fail the query with an error" },
	{ "query_timeout", OSQD_FLAG_UINT32, "60000",
	  "Milliseconds a query may run before it is stopped with an error (0: no limit)" },
	{ "rpc_idle_timeout", OSQD_FLAG_UINT32, "30",
	  "Seconds a new connection may wait before its first request, and a request may take "
	  "to arrive in full, before the connection is dropped (0: no limit)" },
	{ "rpc_max_connections", OSQD_FLAG_UINT32, "128",
	  "Most connections served at once; more are closed after an error reply" },
	{ "rpc_max_message", OSQD_FLAG_UINT32, "1048576",
	  "Largest request in bytes; a larger one closes the connection" },
	{ "schedule_default_interval", OSQD_FLAG_UINT32, "3600",
	  "Interval of a scheduled query that gives none, in seconds" },
	{ "schedule_epoch", OSQD_FLAG_UINT64, "0",
	  "Epoch written in result logs; changing it starts every query's results afresh" },
	{ "schedule_max_cpu_time", OSQD_FLAG_UINT32, "30000",
	  "CPU time one scheduled run may use, in ms, before it is stopped and denylisted "
	  "(0: no limit)" },
	{ "schedule_max_memory", OSQD_FLAG_UINT32, "200",
	  "Result one scheduled run may hold, in MiB, before it is stopped and denylisted "
	  "(0: no limit)" },
	{ "schedule_max_wall_time", OSQD_FLAG_UINT32, "60000",
	  "Wall time one scheduled run may take, in ms, before it is stopped and denylisted "
	  "(0: no limit)" },
	{ "schedule_splay_percent", OSQD_FLAG_UINT32, "10",
	  "Spread of each query's interval, in percent, so queries do not all run together" },
	{ "schedule_workers", OSQD_FLAG_UINT32, "2",
	  "Threads running scheduled queries, so one slow query does not delay the others" },
	{ "specified_identifier", OSQD_FLAG_STRING, "",
	  "The host identifier when --host_identifier=specified" },
	{ "thrift_timeout", OSQD_FLAG_UINT32, "300",
	  "Seconds one call into an extension may take (a query's own deadline may end it "
	  "sooner)" },
	{ "verbose", OSQD_FLAG_BOOL, "false", "Log debug messages" },
};

struct _OsqdFlags {
	OsqdFlag flags[G_N_ELEMENTS(osqd_flag_specs)];
};

const gchar *
osqd_flag_type_to_string(OsqdFlagType type)
{
	switch (type) {
	case OSQD_FLAG_BOOL:
		return "bool";
	case OSQD_FLAG_STRING:
		return "string";
	case OSQD_FLAG_INT32:
		return "int32";
	case OSQD_FLAG_UINT32:
		return "uint32";
	case OSQD_FLAG_UINT64:
		return "uint64";
	default:
		return "string";
	}
}

static gchar *
flags_user_default(const gchar *name, gboolean as_root, const gchar *runtime_dir)
{
	const gchar *dir = runtime_dir != NULL ? runtime_dir : g_get_user_runtime_dir();

	if (g_strcmp0(name, "extensions_socket") == 0)
		return as_root ? g_strdup("/var/osquery/osquery.em")
		               : g_build_filename(dir, "osq", "osquery.em", NULL);
	if (g_strcmp0(name, "pidfile") == 0)
		return as_root ? g_strdup("/var/osquery/osqd.pid")
		               : g_build_filename(dir, "osq", "osqd.pid", NULL);
	if (g_strcmp0(name, "config_path") == 0)
		return as_root ? g_strdup("/etc/osquery/osquery.conf") : g_strdup("");
	if (g_strcmp0(name, "logger_path") == 0)
		return as_root ? g_strdup("/var/log/osquery")
		               : g_build_filename(g_get_user_state_dir(), "osq", "log", NULL);
	if (g_strcmp0(name, "database_path") == 0)
		return as_root ? g_strdup("/var/osquery/osquery.db")
		               : g_build_filename(g_get_user_state_dir(), "osq", "osquery.db",
		                                  NULL);
	return g_strdup("");
}

OsqdFlags *
osqd_flags_new_full(gboolean as_root, const gchar *runtime_dir)
{
	OsqdFlags *flags = g_new0(OsqdFlags, 1);

	for (guint i = 0; i < G_N_ELEMENTS(osqd_flag_specs); i++) {
		const OsqdFlagSpec *spec = &osqd_flag_specs[i];
		OsqdFlag *flag = &flags->flags[i];
		flag->name = spec->name;
		flag->type = spec->type;
		flag->description = spec->description;
		flag->default_value =
		        spec->root_default != NULL
		                ? g_strdup(spec->root_default)
		                : flags_user_default(spec->name, as_root, runtime_dir);
		flag->value = g_strdup(flag->default_value);
	}
	return flags;
}

OsqdFlags *
osqd_flags_new(void)
{
	return osqd_flags_new_full(geteuid() == 0, NULL);
}

void
osqd_flags_free(OsqdFlags *flags)
{
	if (flags == NULL)
		return;
	for (guint i = 0; i < G_N_ELEMENTS(flags->flags); i++) {
		g_free(flags->flags[i].default_value);
		g_free(flags->flags[i].value);
	}
	g_free(flags);
}

static OsqdFlag *
flags_find(OsqdFlags *flags, const gchar *name)
{
	for (guint i = 0; i < G_N_ELEMENTS(flags->flags); i++) {
		if (g_strcmp0(flags->flags[i].name, name) == 0)
			return &flags->flags[i];
	}
	return NULL;
}

const OsqdFlag *
osqd_flags_lookup(OsqdFlags *flags, const gchar *name)
{
	return flags_find(flags, name);
}

/* gflags' spellings of booleans */
static gboolean
flags_parse_bool(const gchar *text, gboolean *value)
{
	static const gchar *const yes[] = { "true", "t", "yes", "y", "1", NULL };
	static const gchar *const no[] = { "false", "f", "no", "n", "0", NULL };

	for (guint i = 0; yes[i] != NULL; i++) {
		if (g_ascii_strcasecmp(text, yes[i]) == 0) {
			*value = TRUE;
			return TRUE;
		}
		if (g_ascii_strcasecmp(text, no[i]) == 0) {
			*value = FALSE;
			return TRUE;
		}
	}
	return FALSE;
}

static gboolean
flags_check_value(const OsqdFlag *flag, const gchar *value, gchar **normalized, GError **error)
{
	gboolean bool_value;
	guint64 unsigned_value;
	gint64 signed_value;

	switch (flag->type) {
	case OSQD_FLAG_BOOL:
		if (!flags_parse_bool(value, &bool_value)) {
			g_set_error(error, OSQ_ERROR, OSQ_ERROR_INVALID_ARGUMENT,
			            "--%s: '%s' is not a boolean (true or false)", flag->name,
			            value);
			return FALSE;
		}
		*normalized = g_strdup(bool_value ? "true" : "false");
		return TRUE;
	case OSQD_FLAG_INT32:
		if (!g_ascii_string_to_signed(value, 10, G_MININT32, G_MAXINT32, &signed_value,
		                              NULL)) {
			g_set_error(error, OSQ_ERROR, OSQ_ERROR_INVALID_ARGUMENT,
			            "--%s: '%s' is not a 32-bit integer", flag->name, value);
			return FALSE;
		}
		*normalized = g_strdup_printf("%" G_GINT64_FORMAT, signed_value);
		return TRUE;
	case OSQD_FLAG_UINT32:
	case OSQD_FLAG_UINT64:
		if (!g_ascii_string_to_unsigned(value, 10, 0,
		                                flag->type == OSQD_FLAG_UINT32 ? G_MAXUINT32
		                                                               : G_MAXUINT64,
		                                &unsigned_value, NULL)) {
			g_set_error(error, OSQ_ERROR, OSQ_ERROR_INVALID_ARGUMENT,
			            "--%s: '%s' is not a non-negative %s-bit integer", flag->name,
			            value, flag->type == OSQD_FLAG_UINT32 ? "32" : "64");
			return FALSE;
		}
		*normalized = g_strdup_printf("%" G_GUINT64_FORMAT, unsigned_value);
		return TRUE;
	case OSQD_FLAG_STRING:
	default:
		*normalized = g_strdup(value);
		return TRUE;
	}
}

gboolean
osqd_flags_set(OsqdFlags *flags, const gchar *name, const gchar *value, GError **error)
{
	OsqdFlag *flag = flags_find(flags, name);
	gchar *normalized = NULL;

	if (flag == NULL) {
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_NOT_FOUND, "unknown flag --%s", name);
		return FALSE;
	}
	if (!flags_check_value(flag, value, &normalized, error))
		return FALSE;
	g_free(flag->value);
	flag->value = normalized;
	flag->is_set = TRUE;
	return TRUE;
}

/* Whether "name[=value]" names a flag (or a negated boolean "noname"). */
static gboolean
flags_knows(OsqdFlags *flags, const gchar *body)
{
	g_autofree gchar *name = g_strndup(body, strcspn(body, "="));
	OsqdFlag *negated;

	if (flags_find(flags, name) != NULL)
		return TRUE;
	if (!g_str_has_prefix(name, "no") || strchr(body, '=') != NULL)
		return FALSE;
	negated = flags_find(flags, name + 2);
	return negated != NULL && negated->type == OSQD_FLAG_BOOL;
}

static gboolean flags_parse_file_depth(OsqdFlags *flags, const gchar *path, guint depth,
                                       GError **error);

/* Applies one "name[=value]" (dashes already stripped). @next_value is the following argument
 * for "--name value", or NULL; *consumed says whether it was used. */
static gboolean
flags_apply(OsqdFlags *flags, const gchar *body, const gchar *next_value, gboolean *consumed,
            guint depth, GError **error)
{
	g_autofree gchar *name = NULL;
	const gchar *equals = strchr(body, '=');
	const gchar *value = NULL;
	OsqdFlag *flag;

	*consumed = FALSE;
	name = equals != NULL ? g_strndup(body, (gsize)(equals - body)) : g_strdup(body);
	if (equals != NULL)
		value = equals + 1;
	flag = flags_find(flags, name);
	if (flag == NULL && value == NULL && g_str_has_prefix(name, "no")) {
		OsqdFlag *negated = flags_find(flags, name + 2);
		if (negated != NULL && negated->type == OSQD_FLAG_BOOL)
			return osqd_flags_set(flags, negated->name, "false", error);
	}
	if (flag == NULL) {
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_NOT_FOUND, "unknown flag --%s", name);
		return FALSE;
	}
	if (value == NULL && flag->type == OSQD_FLAG_BOOL)
		value = "true";
	if (value == NULL) {
		if (next_value == NULL) {
			g_set_error(error, OSQ_ERROR, OSQ_ERROR_INVALID_ARGUMENT,
			            "--%s needs a value", name);
			return FALSE;
		}
		value = next_value;
		*consumed = TRUE;
	}
	if (g_strcmp0(name, "flagfile") == 0) {
		/* options() reports the outermost flagfile */
		if (depth == 0 && !osqd_flags_set(flags, name, value, error))
			return FALSE;
		return value[0] == '\0' || flags_parse_file_depth(flags, value, depth + 1, error);
	}
	return osqd_flags_set(flags, name, value, error);
}

gboolean
osqd_flags_parse_args(OsqdFlags *flags, gint argc, gchar **argv, gboolean *help, gboolean *version,
                      GError **error)
{
	*help = FALSE;
	*version = FALSE;
	for (gint i = 1; i < argc; i++) {
		const gchar *arg = argv[i];
		gboolean consumed = FALSE;

		if (g_strcmp0(arg, "--") == 0) {
			if (i + 1 < argc) {
				g_set_error(error, OSQ_ERROR, OSQ_ERROR_INVALID_ARGUMENT,
				            "unexpected argument '%s'", argv[i + 1]);
				return FALSE;
			}
			break;
		}
		if (arg[0] != '-' || arg[1] == '\0') {
			g_set_error(error, OSQ_ERROR, OSQ_ERROR_INVALID_ARGUMENT,
			            "unexpected argument '%s' (flags start with --)", arg);
			return FALSE;
		}
		arg += arg[1] == '-' ? 2 : 1;
		if (g_strcmp0(arg, "help") == 0 || g_strcmp0(arg, "h") == 0) {
			*help = TRUE;
			continue;
		}
		if (g_strcmp0(arg, "version") == 0) {
			*version = TRUE;
			continue;
		}
		if (!flags_apply(flags, arg, i + 1 < argc ? argv[i + 1] : NULL, &consumed, 0,
		                 error))
			return FALSE;
		if (consumed)
			i++;
	}
	return TRUE;
}

static gboolean
flags_parse_text_depth(OsqdFlags *flags, const gchar *text, const gchar *origin, guint depth,
                       GError **error)
{
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);

	for (guint i = 0; lines[i] != NULL; i++) {
		g_autoptr(GError) error_local = NULL;
		gchar *line = g_strstrip(lines[i]);
		gchar *space;
		const gchar *value = NULL;
		gboolean consumed;

		if (line[0] == '\0' || line[0] == '#')
			continue;
		if (line[0] != '-') {
			g_set_error(error, OSQ_ERROR, OSQ_ERROR_INVALID_ARGUMENT,
			            "%s:%u: '%s' is not a flag (flags start with --)", origin,
			            i + 1, line);
			return FALSE;
		}
		line += line[1] == '-' ? 2 : 1;
		/* "--name value" on one line */
		space = strpbrk(line, " \t");
		if (space != NULL && (strchr(line, '=') == NULL || strchr(line, '=') > space)) {
			*space = '\0';
			value = g_strchug(space + 1);
		}
		if (!flags_knows(flags, line)) {
			g_warning("%s:%u: ignoring unknown flag --%s", origin, i + 1, line);
			continue;
		}
		if (!flags_apply(flags, line, value, &consumed, depth, &error_local)) {
			g_propagate_prefixed_error(error, g_steal_pointer(&error_local),
			                           "%s:%u: ", origin, i + 1);
			return FALSE;
		}
		if (value != NULL && !consumed) {
			g_set_error(error, OSQ_ERROR, OSQ_ERROR_INVALID_ARGUMENT,
			            "%s:%u: unexpected '%s' after --%s", origin, i + 1, value,
			            line);
			return FALSE;
		}
	}
	return TRUE;
}

gboolean
osqd_flags_parse_text(OsqdFlags *flags, const gchar *text, const gchar *origin, GError **error)
{
	return flags_parse_text_depth(flags, text, origin, 0, error);
}

static gboolean
flags_parse_file_depth(OsqdFlags *flags, const gchar *path, guint depth, GError **error)
{
	g_autofree gchar *contents = NULL;
	g_autoptr(GError) error_local = NULL;
	gsize length = 0;

	if (depth > OSQD_FLAGS_MAX_FILE_DEPTH) {
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_INVALID_ARGUMENT,
		            "flagfile %s: --flagfile nested more than %d deep", path,
		            OSQD_FLAGS_MAX_FILE_DEPTH);
		return FALSE;
	}
	if (!g_file_get_contents(path, &contents, &length, &error_local)) {
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_IO, "cannot read flagfile: %s",
		            error_local->message);
		return FALSE;
	}
	if (length > OSQD_FLAGS_MAX_FILE_SIZE || memchr(contents, '\0', length) != NULL) {
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_INVALID_ARGUMENT,
		            "flagfile %s is not a text file of at most %d bytes", path,
		            OSQD_FLAGS_MAX_FILE_SIZE);
		return FALSE;
	}
	return flags_parse_text_depth(flags, contents, path, depth, error);
}

gboolean
osqd_flags_parse_file(OsqdFlags *flags, const gchar *path, GError **error)
{
	return flags_parse_file_depth(flags, path, 0, error);
}

const gchar *
osqd_flags_get_string(OsqdFlags *flags, const gchar *name)
{
	OsqdFlag *flag = flags_find(flags, name);

	g_return_val_if_fail(flag != NULL, "");
	return flag->value;
}

gboolean
osqd_flags_get_bool(OsqdFlags *flags, const gchar *name)
{
	OsqdFlag *flag = flags_find(flags, name);
	gboolean value = FALSE;

	g_return_val_if_fail(flag != NULL && flag->type == OSQD_FLAG_BOOL, FALSE);
	(void)flags_parse_bool(flag->value, &value);
	return value;
}

guint64
osqd_flags_get_uint(OsqdFlags *flags, const gchar *name)
{
	OsqdFlag *flag = flags_find(flags, name);

	g_return_val_if_fail(flag != NULL, 0);
	return g_ascii_strtoull(flag->value, NULL, 10);
}

gint64
osqd_flags_get_int(OsqdFlags *flags, const gchar *name)
{
	OsqdFlag *flag = flags_find(flags, name);

	g_return_val_if_fail(flag != NULL, 0);
	return g_ascii_strtoll(flag->value, NULL, 10);
}

guint
osqd_flags_get_count(OsqdFlags *flags)
{
	return G_N_ELEMENTS(flags->flags);
}

const OsqdFlag *
osqd_flags_get_nth(OsqdFlags *flags, guint index)
{
	g_return_val_if_fail(index < G_N_ELEMENTS(flags->flags), NULL);
	return &flags->flags[index];
}

gchar *
osqd_flags_help(OsqdFlags *flags)
{
	GString *out = g_string_new(NULL);

	g_string_append(out,
	                "Usage: osqd [--flag=value ...]\n\n"
	                "osqd serves SQL over the operating system's state on a Unix socket,\n"
	                "speaking osquery's extension API. It runs in the foreground and logs\n"
	                "to stderr; SIGTERM or SIGINT stop it.\n\nFlags:\n");
	for (guint i = 0; i < G_N_ELEMENTS(flags->flags); i++) {
		const OsqdFlag *flag = &flags->flags[i];
		g_string_append_printf(out, "  --%s (%s, default \"%s\")\n      %s\n", flag->name,
		                       osqd_flag_type_to_string(flag->type), flag->default_value,
		                       flag->description);
	}
	g_string_append(out, "  --help\n      Show this text and exit\n"
	                     "  --version\n      Show the version and exit\n");
	return g_string_free(out, FALSE);
}
