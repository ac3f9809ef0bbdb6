/* SPDX-License-Identifier: Apache-2.0
 *
 * osquery_extensions and osquery_registry (see osquery.h). The provider is read under a lock and
 * called outside it; what it returns is a snapshot, so a scan never holds the daemon's state.
 */
#include "config.h"

#include "osquery.h"

#include "osqd-tables-generated.h"

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
