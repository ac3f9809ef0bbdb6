/* SPDX-License-Identifier: Apache-2.0
 *
 * osquery_extensions and osquery_registry describe the running daemon. The engine does not know
 * the daemon, so osqd installs a provider (its extension manager) at start; without one (osqi on
 * its own) the tables show the core alone and the built-in plugins.
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

void osqd_osquery_extension_free(OsqdOsqueryExtension *extension);
void osqd_osquery_plugin_free(OsqdOsqueryPlugin *plugin);

typedef struct {
	/* the daemon's socket path */
	gchar *(*manager_path)(gpointer user_data);
	/* registered extensions, a new GPtrArray of OsqdOsqueryExtension (free func set) */
	GPtrArray *(*extensions)(gpointer user_data);
	/* plugins of the config, logger and distributed registries and extension tables, a new
	 * GPtrArray of OsqdOsqueryPlugin (built-in tables are listed from the registry) */
	GPtrArray *(*plugins)(gpointer user_data);
	gpointer user_data;
} OsqdOsqueryProvider;

/* Installs (or, with NULL, removes) the provider; the struct is copied. Call it before serving. */
void osqd_osquery_set_provider(const OsqdOsqueryProvider *provider);

G_END_DECLS
