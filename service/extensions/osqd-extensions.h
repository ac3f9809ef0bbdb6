/* SPDX-License-Identifier: Apache-2.0
 *
 * The extension manager: what osquery's core does for extensions. registerExtension is
 * validated as osquery validates it (duplicate extension or plugin names, the SDK version
 * floor, unknown registries, tables without columns); a table route becomes a dynamic table in
 * the shared registry, so every connection (and osqi --connect) sees it; a scan calls the
 * extension on <socket>.<uuid>. A watcher thread pings every extension each interval and drops
 * one that does not answer (its tables go, its stale socket file is removed). Nothing here calls
 * into an extension while holding the manager's lock, and registration never calls the
 * extension at all (it binds its socket only after the reply).
 */
#pragma once

#include <glib.h>

#include "osqd-registry.h"

G_BEGIN_DECLS

typedef struct {
	gchar *name;
	gchar *version;
	gchar *sdk_version;
	gchar *min_sdk_version;
} OsqdExtensionInfo;

void osqd_extension_info_clear(OsqdExtensionInfo *info);

typedef struct {
	guint interval_ms;     /* between health checks (--extensions_interval) */
	guint timeout_ms;      /* a new extension's grace, and each ping's (--extensions_timeout) */
	guint call_timeout_ms; /* one call into an extension (--thrift_timeout) */
	gsize max_reply;       /* bytes of one extension reply */
	guint64 max_rows;      /* rows of one generate */
	gboolean default_index; /* --extensions_default_index: option 0 columns are INDEX */
} OsqdExtensionsConfig;

/* One registered extension as extensions() lists it. */
typedef struct {
	gint64 uuid;
	OsqdExtensionInfo info;
	gchar *path; /* its socket */
} OsqdExtensionEntry;

void osqd_extension_entry_free(OsqdExtensionEntry *entry);

/* One plugin, as osquery_registry lists it. */
typedef struct {
	gchar *registry;
	gchar *name;
	gint64 owner_uuid; /* 0: built in */
} OsqdPluginEntry;

void osqd_plugin_entry_free(OsqdPluginEntry *entry);

typedef struct _OsqdExtensions OsqdExtensions;

/* @manager_path: the daemon's socket; extensions serve <manager_path>.<uuid>. */
OsqdExtensions *osqd_extensions_new(OsqdRegistry *registry, const gchar *manager_path,
                                    const OsqdExtensionsConfig *config);
/* Stops the watcher; does not call the extensions (see osqd_extensions_shutdown_all). */
void osqd_extensions_free(OsqdExtensions *extensions);

/* Built-in plugins of the config/logger registries (their names cannot be registered). */
void osqd_extensions_add_builtin_plugin(OsqdExtensions *extensions, const gchar *registry,
                                        const gchar *name);

/* @registry: registry name -> (item name -> GPtrArray of route maps (GHashTable string ->
 * string)). On success *@uuid is the new extension's id. The error message is what osquery
 * replies. */
gboolean osqd_extensions_register(OsqdExtensions *extensions, const OsqdExtensionInfo *info,
                                  GHashTable *registry, gint64 *uuid, GError **error);
gboolean osqd_extensions_deregister(OsqdExtensions *extensions, gint64 uuid, GError **error);

/* The registered extensions by uuid (a new array of OsqdExtensionEntry). */
GPtrArray *osqd_extensions_list(OsqdExtensions *extensions);
/* Every plugin: built-in ones and the extensions' (a new array of OsqdPluginEntry). */
GPtrArray *osqd_extensions_list_plugins(OsqdExtensions *extensions);
const gchar *osqd_extensions_get_manager_path(OsqdExtensions *extensions);

/* Which extension serves @item of @registry (0: none). */
gint64 osqd_extensions_find_plugin(OsqdExtensions *extensions, const gchar *registry,
                                   const gchar *item);

/* call(@registry, @item, @request) on the extension that registered that plugin; the reply's
 * rows (GHashTable string -> string each) go to *@rows. FALSE when no extension has it or the
 * call failed in transport. */
gboolean osqd_extensions_call(OsqdExtensions *extensions, const gchar *registry, const gchar *item,
                              GHashTable *request, GPtrArray **rows, gint32 *code, gchar **message,
                              GError **error);

/* Starts the health-check thread (every interval_ms). */
void osqd_extensions_start_watcher(OsqdExtensions *extensions);
/* One round of health checks now (what the watcher runs); for tests. */
void osqd_extensions_check_health(OsqdExtensions *extensions);
/* Calls shutdown() on every extension (each bounded by a short timeout) and forgets them. */
void osqd_extensions_shutdown_all(OsqdExtensions *extensions);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(OsqdExtensions, osqd_extensions_free)

G_END_DECLS
