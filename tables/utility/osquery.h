/* SPDX-License-Identifier: Apache-2.0
 *
 * osquery_info, osquery_flags, osquery_extensions, osquery_registry, osquery_packs and
 * osquery_schedule describe the running daemon. The engine does not know the daemon, so osqd
 * installs a provider at start (each callback may be NULL); without one (osqi on its own) the
 * tables show the process itself: the core alone, the built-in plugins, no schedule.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
	gint64 uuid;
	gchar *name;
	gchar *version;
	gchar *sdk_version;
	gchar *path;
} OsqdOsqueryExtension;

typedef struct {
	gchar *registry;
	gchar *name;
	gint64 owner_uuid;
} OsqdOsqueryPlugin;

typedef struct {
	gchar *name;
	gchar *type;
	gchar *description;
	gchar *default_value;
	gchar *value;
} OsqdOsqueryFlag;

typedef struct {
	gchar *name;
	gchar *platform;
	gchar *version;
	gint64 shard;
	gint64 discovery_cache_hits;
	gint64 discovery_executions;
	gboolean active;
} OsqdOsqueryPack;

typedef struct {
	gchar *name;
	gchar *query;
	gint64 interval;
	gint64 executions;
	gint64 last_executed;
	gboolean denylisted;
	gint64 output_size;
	gint64 wall_time_ms;
	gint64 last_wall_time_ms;
	gint64 user_time_ms;
	gint64 last_user_time_ms;
	gint64 system_time_ms;
	gint64 last_system_time_ms;
	gint64 average_memory;
	gint64 last_memory;
} OsqdOsquerySchedule;

typedef struct {
	gchar *instance_id;
	gchar *config_hash;
	gboolean config_valid;
	gboolean extensions;
} OsqdOsqueryInfo;

void osqd_osquery_extension_free(OsqdOsqueryExtension *extension);
void osqd_osquery_plugin_free(OsqdOsqueryPlugin *plugin);
void osqd_osquery_flag_free(OsqdOsqueryFlag *flag);
void osqd_osquery_pack_free(OsqdOsqueryPack *pack);
void osqd_osquery_schedule_free(OsqdOsquerySchedule *schedule);
void osqd_osquery_info_clear(OsqdOsqueryInfo *info);

typedef struct {
	/* the daemon's socket path */
	gchar *(*manager_path)(gpointer user_data);
	/* registered extensions, a new GPtrArray of OsqdOsqueryExtension (free func set) */
	GPtrArray *(*extensions)(gpointer user_data);
	/* plugins of the config, logger and distributed registries and extension tables, a new
	 * GPtrArray of OsqdOsqueryPlugin (built-in tables are listed from the registry) */
	GPtrArray *(*plugins)(gpointer user_data);
	/* OsqdOsqueryFlag, OsqdOsqueryPack, OsqdOsquerySchedule arrays (free funcs set) */
	GPtrArray *(*flags)(gpointer user_data);
	GPtrArray *(*packs)(gpointer user_data);
	GPtrArray *(*schedule)(gpointer user_data);
	void (*info)(gpointer user_data, OsqdOsqueryInfo *info);
	gpointer user_data;
} OsqdOsqueryProvider;

/* Installs (or, with NULL, removes) the provider; the struct is copied. Call it before serving. */
void osqd_osquery_set_provider(const OsqdOsqueryProvider *provider);

G_END_DECLS
