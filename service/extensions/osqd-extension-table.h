/* SPDX-License-Identifier: Apache-2.0
 *
 * A table served by an extension: built from its route info (columns with osquery's type names
 * and option bits, column aliases, attributes) as a dynamic table, whose generator sends
 * call("table", name, {action: generate, context: JSON}) to the extension's socket and types the
 * string rows it gets back by the declared column types.
 */
#pragma once

#include "osqd-extensions.h"
#include "osqd-table.h"

G_BEGIN_DECLS

/* Builds a table named @name (the SQL name; @item is the plugin name the extension knows) from
 * @routes (GPtrArray of GHashTable string -> string). The table has one reference. Errors say
 * what is wrong with the route info. */
OsqdDynamicTable *osqd_extension_table_new(const gchar *name, const gchar *item, GPtrArray *routes,
                                           const gchar *socket_path, gint64 uuid,
                                           const OsqdExtensionsConfig *config, GError **error);

/* The table names @routes ask for besides @name: their "alias" entries. */
GPtrArray *osqd_extension_table_aliases(GPtrArray *routes);

/* The context JSON osquery sends with action=generate (exposed for tests). */
gchar *osqd_extension_table_context_json(OsqdTableContext *ctx);

/* Whether @name can be an SQL table name here ([A-Za-z_][A-Za-z0-9_]*, at most 128 bytes). */
gboolean osqd_extension_table_name_is_valid(const gchar *name);

G_END_DECLS
