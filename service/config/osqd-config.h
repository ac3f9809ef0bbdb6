/* SPDX-License-Identifier: Apache-2.0
 *
 * osquery configs as a validated model: sources (the file at --config_path, its .d/ directory,
 * or a config plugin's name -> JSON map) are stripped of the comments osquery accepts, parsed,
 * merged in order and checked, so a broken config is refused with a message naming the source
 * and the key at fault. Pure library: no threads, no logging; the caller decides what to do.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define OSQD_CONFIG_MAX_SOURCE_SIZE        (1024 * 1024) /* bytes after comment stripping */
#define OSQD_CONFIG_MAX_DEPTH              32            /* JSON nesting, as osquery */
#define OSQD_CONFIG_MAX_INTERVAL           604800        /* one week */
#define OSQD_CONFIG_DEFAULT_INTERVAL       3600          /* --schedule_default_interval */
#define OSQD_CONFIG_DEFAULT_PACK_DELIMITER "_"           /* --pack_delimiter */

/* One config text and where it came from (a path, or a config plugin's key). */
typedef struct {
	gchar *name;
	gchar *text;
} OsqdConfigSource;

OsqdConfigSource *osqd_config_source_new(const gchar *name, const gchar *text);
void osqd_config_source_free(OsqdConfigSource *source);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(OsqdConfigSource, osqd_config_source_free)

/* The filesystem config plugin: @config_path, then every regular file of "<config_path>.d/" in
 * lexical order (a missing .d/ is fine). @sources receives a new array of OsqdConfigSource.
 * OSQ_ERROR_NOT_FOUND when @config_path is missing, OSQ_ERROR_IO when unreadable,
 * OSQ_ERROR_LIMIT when a file is larger than 16 MiB (before comment stripping). */
gboolean osqd_config_read_filesystem(const gchar *config_path, GPtrArray **sources, GError **error);

/* Removes osquery's comments (`//` and `#` to the end of the line, `/ * * /` blocks) outside
 * JSON strings, keeping every newline so line numbers stay right. NULL with
 * OSQ_ERROR_INVALID_ARGUMENT ("line N: unterminated comment") on an unterminated block. */
gchar *osqd_config_strip_comments(const gchar *text, GError **error);

/* What a query's selectors are compared with. */
typedef struct {
	const gchar *platform; /* the build platform: "linux" */
	const gchar *version;  /* the version queries' "version" is compared with, "5.12.1" */
	guint shard;           /* osqd_config_host_shard(hostname) */
} OsqdConfigHost;

/* The machine's shard: first byte of SHA1(hostname) * 100 / 255, 0..100. */
guint osqd_config_host_shard(const gchar *hostname);
/* osquery's platform rule: NULL, "", "null", or a string containing "any", "all" or the host's
 * platform (and on linux "ubuntu", "centos", "posix") matches. */
gboolean osqd_config_platform_matches(const gchar *platform, const gchar *host_platform);
/* Numeric dot-separated comparison ("5.10.2" > "5.9"); missing parts count as 0, a part's
 * non-digit suffix is ignored. */
gint osqd_config_version_compare(const gchar *a, const gchar *b);
/* Would a query or pack with these selectors run on @host? platform as above, version <= the
 * host's version (NULL/"" = any), shard 0 = any, else the machine's shard <= @shard. */
gboolean osqd_config_query_selected(const gchar *platform, const gchar *version, guint shard,
                                    const OsqdConfigHost *host);

typedef struct {
	gchar *name; /* scheduled name: the schedule key, or pack<delim><pack><delim><query> */
	gchar *query_name; /* the key inside its schedule/pack */
	gchar *pack;       /* NULL for the schedule (osquery's pack "main") */
	gchar *source;     /* the source (or pack file) it came from */
	gchar *sql;
	guint interval; /* seconds, 1..604800 */
	gboolean snapshot;
	gboolean removed;
	gboolean denylist;
	gchar *platform; /* NULL when not given */
	gchar *version;  /* NULL when not given */
	guint shard;     /* 0 = none */
	gchar *description;
	gchar *value;
	gboolean selected; /* its own and its pack's selectors match the host */
} OsqdScheduledQuery;

typedef struct {
	gchar *name;
	gchar *source;
	gchar *platform;
	gchar *version;
	gchar *oncall;
	guint shard;
	GPtrArray *discovery; /* gchar * SQL */
	GPtrArray *queries;   /* OsqdScheduledQuery *, owned */
	gboolean selected;
} OsqdConfigPack;

typedef struct {
	guint interval;     /* seconds, a multiple of 60 */
	GPtrArray *queries; /* gchar * SQL */
} OsqdConfigDecoratorInterval;

/* The merged model. Read-only once built; share it with osqd_config_ref(). Maps whose order
 * matters to a reader are arrays; the GHashTable ones map a name to a GPtrArray of gchar *. */
typedef struct {
	GHashTable *options;        /* name -> gchar * value ("true", "60", "text") */
	GPtrArray *schedule;        /* OsqdScheduledQuery *, owned: the schedule (pack "main") */
	GPtrArray *packs;           /* OsqdConfigPack *, owned */
	GPtrArray *queries;         /* every OsqdScheduledQuery (schedule, then packs), borrowed */
	GPtrArray *decorators_load; /* gchar * SQL */
	GPtrArray *decorators_always;   /* gchar * SQL */
	GPtrArray *decorators_interval; /* OsqdConfigDecoratorInterval *, by interval */
	GHashTable *file_paths;         /* category -> GPtrArray of patterns, as written */
	GHashTable *file_paths_query;   /* category -> GPtrArray of SQL */
	GHashTable *exclude_paths;      /* category -> GPtrArray of patterns */
	GPtrArray *file_accesses;       /* gchar * categories */
	GPtrArray *enable_subscribers;  /* gchar * */
	GPtrArray *disable_subscribers; /* gchar * */
	GHashTable *views;              /* name -> gchar * SQL */
	GHashTable *extra;              /* accepted extra top-level key -> JsonNode * */
} OsqdConfig;

/* A SQL check: return FALSE with @error set to refuse @sql (e.g. prepare it in an engine). */
typedef gboolean (*OsqdConfigCheckSqlFunc)(const gchar *sql, gpointer data, GError **error);

typedef struct {
	/* flag name -> GINT_TO_POINTER(cli_only); NULL accepts any option. Names starting with
	 * "custom_" are always accepted. */
	GHashTable *known_flags;
	const gchar *pack_delimiter;      /* NULL: "_" */
	guint default_interval;           /* 0: 3600 */
	OsqdConfigCheckSqlFunc check_sql; /* NULL: no SQL check */
	gpointer check_sql_data;
	const gchar *const *extra_top_level_keys; /* NULL-terminated; NULL for none */
	const OsqdConfigHost *host;               /* NULL: every query and pack is selected */
} OsqdConfigParams;

/* Parses and merges @sources (OsqdConfigSource *) in order; a later source's option, schedule
 * query (same name), pack (same name) or view replaces an earlier one, lists are appended.
 * Every selected query, every discovery query of a selected pack, every decorator, view and
 * file_paths_query SQL goes through params->check_sql. Errors are OSQ_ERROR_INVALID_ARGUMENT
 * (OSQ_ERROR_LIMIT for the caps, OSQ_ERROR_NOT_FOUND/IO for pack files) with a message
 * "<source>: <key path>: <problem>", e.g. "/etc/osq/osq.conf: schedule.ps.interval: expected a
 * number". @params may be NULL for the defaults. A pack given as a path, or the "*" pack's glob,
 * is read here: relative to the directory of the source's name (the working directory for a
 * plugin's source whose name is not a path). Unselected queries are kept, not SQL-checked. */
OsqdConfig *osqd_config_parse(GPtrArray *sources, const OsqdConfigParams *params, GError **error);

OsqdConfig *osqd_config_ref(OsqdConfig *config);
void osqd_config_unref(OsqdConfig *config);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(OsqdConfig, osqd_config_unref)

/* A scheduled query by its scheduled name, or NULL. */
const OsqdScheduledQuery *osqd_config_lookup_query(const OsqdConfig *config, const gchar *name);
const OsqdConfigPack *osqd_config_lookup_pack(const OsqdConfig *config, const gchar *name);

/* The merged config as pretty JSON (--config_dump): options (sorted, string values), schedule,
 * packs (inline, file and glob packs expanded), decorators, file paths, events, views and extra
 * keys. Parsing the dump again gives the same dump. */
gchar *osqd_config_dump(const OsqdConfig *config);
/* SHA-256 (hex) of the dump: equal hashes mean nothing changed on reload. */
gchar *osqd_config_hash(const OsqdConfig *config);

G_END_DECLS
