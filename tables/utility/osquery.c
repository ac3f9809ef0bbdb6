/* SPDX-License-Identifier: Apache-2.0
 *
 * osquery_extensions and osquery_registry (see osquery.h). The provider is read under a lock and
 * called outside it; what it returns is a snapshot, so a scan never holds the daemon's state.
 */
#include "config.h"

#include "osquery.h"

#include <string.h>

#include "osqd-tables-generated.h"

#include <unistd.h>

static GMutex osqd_osquery_lock;
static OsqdOsqueryProvider osqd_osquery_provider;
static gboolean osqd_osquery_have_provider;

void
osqd_osquery_extension_free(OsqdOsqueryExtension *extension)
{
	if (extension == NULL)
		return;
	g_free(extension->name);
	g_free(extension->version);
	g_free(extension->sdk_version);
	g_free(extension->path);
	g_free(extension);
}

void
osqd_osquery_plugin_free(OsqdOsqueryPlugin *plugin)
{
	if (plugin == NULL)
		return;
	g_free(plugin->registry);
	g_free(plugin->name);
	g_free(plugin);
}

void
osqd_osquery_flag_free(OsqdOsqueryFlag *flag)
{
	if (flag == NULL)
		return;
	g_free(flag->name);
	g_free(flag->type);
	g_free(flag->description);
	g_free(flag->default_value);
	g_free(flag->value);
	g_free(flag);
}

void
osqd_osquery_pack_free(OsqdOsqueryPack *pack)
{
	if (pack == NULL)
		return;
	g_free(pack->name);
	g_free(pack->platform);
	g_free(pack->version);
	g_free(pack);
}

void
osqd_osquery_schedule_free(OsqdOsquerySchedule *schedule)
{
	if (schedule == NULL)
		return;
	g_free(schedule->name);
	g_free(schedule->query);
	g_free(schedule);
}

void
osqd_osquery_info_clear(OsqdOsqueryInfo *info)
{
	g_clear_pointer(&info->instance_id, g_free);
	g_clear_pointer(&info->config_hash, g_free);
}

void
osqd_osquery_set_provider(const OsqdOsqueryProvider *provider)
{
	g_mutex_lock(&osqd_osquery_lock);
	osqd_osquery_have_provider = provider != NULL;
	if (provider != NULL)
		osqd_osquery_provider = *provider;
	g_mutex_unlock(&osqd_osquery_lock);
}

static gboolean
osquery_get_provider(OsqdOsqueryProvider *provider)
{
	gboolean have;

	g_mutex_lock(&osqd_osquery_lock);
	have = osqd_osquery_have_provider;
	if (have)
		*provider = osqd_osquery_provider;
	g_mutex_unlock(&osqd_osquery_lock);
	return have;
}

gboolean
osqd_table_osquery_extensions_generate(OsqdTableContext *ctx, OsqdRowSink *sink, GError **error)
{
	OsqdOsqueryProvider provider;
	gboolean have = osquery_get_provider(&provider);
	g_autofree gchar *manager = have ? provider.manager_path(provider.user_data) : NULL;
	g_autoptr(GPtrArray) extensions = have ? provider.extensions(provider.user_data) : NULL;
	OsqdRow *row = osqd_row_sink_append(sink);

	osqd_row_set_int(row, OSQD_OSQUERY_EXTENSIONS_COL_UUID, 0);
	osqd_row_set_text(row, OSQD_OSQUERY_EXTENSIONS_COL_NAME, "core");
	osqd_row_set_text(row, OSQD_OSQUERY_EXTENSIONS_COL_VERSION, OSQ_VERSION);
	osqd_row_set_text(row, OSQD_OSQUERY_EXTENSIONS_COL_SDK_VERSION, "0.0.0");
	osqd_row_set_text(row, OSQD_OSQUERY_EXTENSIONS_COL_PATH, manager != NULL ? manager : "");
	osqd_row_set_text(row, OSQD_OSQUERY_EXTENSIONS_COL_TYPE, "core");
	for (guint i = 0; extensions != NULL && i < extensions->len; i++) {
		const OsqdOsqueryExtension *extension = extensions->pdata[i];
		row = osqd_row_sink_append(sink);
		osqd_row_set_int(row, OSQD_OSQUERY_EXTENSIONS_COL_UUID, extension->uuid);
		osqd_row_set_text(row, OSQD_OSQUERY_EXTENSIONS_COL_NAME, extension->name);
		osqd_row_set_text(row, OSQD_OSQUERY_EXTENSIONS_COL_VERSION, extension->version);
		osqd_row_set_text(row, OSQD_OSQUERY_EXTENSIONS_COL_SDK_VERSION,
		                  extension->sdk_version);
		osqd_row_set_text(row, OSQD_OSQUERY_EXTENSIONS_COL_PATH, extension->path);
		osqd_row_set_text(row, OSQD_OSQUERY_EXTENSIONS_COL_TYPE, "extension");
	}
	return TRUE;
}

static void
osquery_plugin_row(OsqdRowSink *sink, const gchar *registry, const gchar *name, gint64 owner)
{
	OsqdRow *row = osqd_row_sink_append(sink);

	osqd_row_set_text(row, OSQD_OSQUERY_REGISTRY_COL_REGISTRY, registry);
	osqd_row_set_text(row, OSQD_OSQUERY_REGISTRY_COL_NAME, name);
	osqd_row_set_int(row, OSQD_OSQUERY_REGISTRY_COL_OWNER_UUID, owner);
	osqd_row_set_int(row, OSQD_OSQUERY_REGISTRY_COL_INTERNAL, 0);
	osqd_row_set_int(row, OSQD_OSQUERY_REGISTRY_COL_ACTIVE, 1);
}

gboolean
osqd_table_osquery_registry_generate(OsqdTableContext *ctx, OsqdRowSink *sink, GError **error)
{
	OsqdOsqueryProvider provider;
	g_autoptr(GPtrArray) plugins = NULL;

	for (guint i = 0; i < osqd_tables_builtin_count; i++)
		osquery_plugin_row(sink, "table", osqd_tables_builtin[i].name, 0);
	if (!osquery_get_provider(&provider)) {
		/* osqi on its own: the built-in config and logger plugins osqd would have */
		osquery_plugin_row(sink, "config", "filesystem", 0);
		osquery_plugin_row(sink, "logger", "filesystem", 0);
		return TRUE;
	}
	plugins = provider.plugins(provider.user_data);
	for (guint i = 0; plugins != NULL && i < plugins->len; i++) {
		const OsqdOsqueryPlugin *plugin = plugins->pdata[i];
		osquery_plugin_row(sink, plugin->registry, plugin->name, plugin->owner_uuid);
	}
	return TRUE;
}

/* ---- osquery_info, osquery_flags, osquery_packs, osquery_schedule ---- */

/* When this process started, in UNIX seconds (field 22 of /proc/self/stat, in clock ticks). */
static gint64
osquery_start_time(void)
{
	g_autofree gchar *stat = NULL;
	g_autofree gchar *uptime = NULL;
	const gchar *after;
	g_auto(GStrv) fields = NULL;
	gdouble up;

	if (!g_file_get_contents("/proc/self/stat", &stat, NULL, NULL) ||
	    !g_file_get_contents("/proc/uptime", &uptime, NULL, NULL) ||
	    (after = strrchr(stat, ')')) == NULL)
		return 0;
	fields = g_strsplit(after + 2, " ", 21);
	if (g_strv_length(fields) < 20)
		return 0;
	up = g_ascii_strtod(uptime, NULL);
	return g_get_real_time() / G_USEC_PER_SEC - (gint64)up +
	       g_ascii_strtoll(fields[19], NULL, 10) / sysconf(_SC_CLK_TCK);
}

gboolean
osqd_table_osquery_info_generate(OsqdTableContext *ctx, OsqdRowSink *sink, GError **error)
{
	OsqdOsqueryProvider provider;
	OsqdOsqueryInfo info = { 0 };
	g_autofree gchar *uuid = NULL;
	gboolean have = osquery_get_provider(&provider) && provider.info != NULL;
	OsqdRow *row = osqd_row_sink_append(sink);

	if (have)
		provider.info(provider.user_data, &info);
	if (g_file_get_contents("/sys/class/dmi/id/product_uuid", &uuid, NULL, NULL))
		g_strstrip(uuid);
	osqd_row_set_int(row, OSQD_OSQUERY_INFO_COL_PID, getpid());
	osqd_row_set_text(row, OSQD_OSQUERY_INFO_COL_UUID, uuid != NULL ? uuid : "");
	osqd_row_set_text(row, OSQD_OSQUERY_INFO_COL_INSTANCE_ID,
	                  info.instance_id != NULL ? info.instance_id : "");
	osqd_row_set_text(row, OSQD_OSQUERY_INFO_COL_VERSION, OSQ_VERSION);
	osqd_row_set_text(row, OSQD_OSQUERY_INFO_COL_CONFIG_HASH,
	                  info.config_hash != NULL ? info.config_hash : "");
	osqd_row_set_int(row, OSQD_OSQUERY_INFO_COL_CONFIG_VALID, info.config_valid ? 1 : 0);
	osqd_row_set_text(row, OSQD_OSQUERY_INFO_COL_EXTENSIONS,
	                  info.extensions ? "active" : "inactive");
	osqd_row_set_text(row, OSQD_OSQUERY_INFO_COL_BUILD_PLATFORM, "linux");
	osqd_row_set_text(row, OSQD_OSQUERY_INFO_COL_BUILD_DISTRO, "debian");
	osqd_row_set_int(row, OSQD_OSQUERY_INFO_COL_START_TIME, osquery_start_time());
	osqd_row_set_int(row, OSQD_OSQUERY_INFO_COL_WATCHER, -1);
	osqd_row_set_int(row, OSQD_OSQUERY_INFO_COL_PLATFORM_MASK, 9);
	osqd_osquery_info_clear(&info);
	return TRUE;
}

gboolean
osqd_table_osquery_flags_generate(OsqdTableContext *ctx, OsqdRowSink *sink, GError **error)
{
	OsqdOsqueryProvider provider;
	g_autoptr(GPtrArray) flags = NULL;

	if (!osquery_get_provider(&provider) || provider.flags == NULL)
		return TRUE;
	flags = provider.flags(provider.user_data);
	for (guint i = 0; flags != NULL && i < flags->len; i++) {
		const OsqdOsqueryFlag *flag = flags->pdata[i];
		OsqdRow *row = osqd_row_sink_append(sink);
		osqd_row_set_text(row, OSQD_OSQUERY_FLAGS_COL_NAME, flag->name);
		osqd_row_set_text(row, OSQD_OSQUERY_FLAGS_COL_TYPE, flag->type);
		osqd_row_set_text(row, OSQD_OSQUERY_FLAGS_COL_DESCRIPTION, flag->description);
		osqd_row_set_text(row, OSQD_OSQUERY_FLAGS_COL_DEFAULT_VALUE, flag->default_value);
		osqd_row_set_text(row, OSQD_OSQUERY_FLAGS_COL_VALUE, flag->value);
		osqd_row_set_int(row, OSQD_OSQUERY_FLAGS_COL_SHELL_ONLY, 0);
	}
	return TRUE;
}

gboolean
osqd_table_osquery_packs_generate(OsqdTableContext *ctx, OsqdRowSink *sink, GError **error)
{
	OsqdOsqueryProvider provider;
	g_autoptr(GPtrArray) packs = NULL;

	if (!osquery_get_provider(&provider) || provider.packs == NULL)
		return TRUE;
	packs = provider.packs(provider.user_data);
	for (guint i = 0; packs != NULL && i < packs->len; i++) {
		const OsqdOsqueryPack *pack = packs->pdata[i];
		OsqdRow *row = osqd_row_sink_append(sink);
		osqd_row_set_text(row, OSQD_OSQUERY_PACKS_COL_NAME, pack->name);
		osqd_row_set_text(row, OSQD_OSQUERY_PACKS_COL_PLATFORM, pack->platform);
		osqd_row_set_text(row, OSQD_OSQUERY_PACKS_COL_VERSION, pack->version);
		osqd_row_set_int(row, OSQD_OSQUERY_PACKS_COL_SHARD, pack->shard);
		osqd_row_set_int(row, OSQD_OSQUERY_PACKS_COL_DISCOVERY_CACHE_HITS,
		                 pack->discovery_cache_hits);
		osqd_row_set_int(row, OSQD_OSQUERY_PACKS_COL_DISCOVERY_EXECUTIONS,
		                 pack->discovery_executions);
		osqd_row_set_int(row, OSQD_OSQUERY_PACKS_COL_ACTIVE, pack->active ? 1 : 0);
	}
	return TRUE;
}

gboolean
osqd_table_osquery_schedule_generate(OsqdTableContext *ctx, OsqdRowSink *sink, GError **error)
{
	OsqdOsqueryProvider provider;
	g_autoptr(GPtrArray) schedule = NULL;

	if (!osquery_get_provider(&provider) || provider.schedule == NULL)
		return TRUE;
	schedule = provider.schedule(provider.user_data);
	for (guint i = 0; schedule != NULL && i < schedule->len; i++) {
		const OsqdOsquerySchedule *query = schedule->pdata[i];
		OsqdRow *row = osqd_row_sink_append(sink);
		osqd_row_set_text(row, OSQD_OSQUERY_SCHEDULE_COL_NAME, query->name);
		osqd_row_set_text(row, OSQD_OSQUERY_SCHEDULE_COL_QUERY, query->query);
		osqd_row_set_int(row, OSQD_OSQUERY_SCHEDULE_COL_INTERVAL, query->interval);
		osqd_row_set_int(row, OSQD_OSQUERY_SCHEDULE_COL_EXECUTIONS, query->executions);
		osqd_row_set_int(row, OSQD_OSQUERY_SCHEDULE_COL_LAST_EXECUTED,
		                 query->last_executed);
		osqd_row_set_int(row, OSQD_OSQUERY_SCHEDULE_COL_DENYLISTED,
		                 query->denylisted ? 1 : 0);
		osqd_row_set_int(row, OSQD_OSQUERY_SCHEDULE_COL_OUTPUT_SIZE, query->output_size);
		osqd_row_set_int(row, OSQD_OSQUERY_SCHEDULE_COL_WALL_TIME,
		                 query->wall_time_ms / 1000);
		osqd_row_set_int(row, OSQD_OSQUERY_SCHEDULE_COL_WALL_TIME_MS, query->wall_time_ms);
		osqd_row_set_int(row, OSQD_OSQUERY_SCHEDULE_COL_LAST_WALL_TIME_MS,
		                 query->last_wall_time_ms);
		osqd_row_set_int(row, OSQD_OSQUERY_SCHEDULE_COL_USER_TIME, query->user_time_ms);
		osqd_row_set_int(row, OSQD_OSQUERY_SCHEDULE_COL_LAST_USER_TIME,
		                 query->last_user_time_ms);
		osqd_row_set_int(row, OSQD_OSQUERY_SCHEDULE_COL_SYSTEM_TIME, query->system_time_ms);
		osqd_row_set_int(row, OSQD_OSQUERY_SCHEDULE_COL_LAST_SYSTEM_TIME,
		                 query->last_system_time_ms);
		osqd_row_set_int(row, OSQD_OSQUERY_SCHEDULE_COL_AVERAGE_MEMORY,
		                 query->average_memory);
		osqd_row_set_int(row, OSQD_OSQUERY_SCHEDULE_COL_LAST_MEMORY, query->last_memory);
	}
	return TRUE;
}
