/* SPDX-License-Identifier: Apache-2.0
 *
 * The set of tables an engine serves: the generated built-in array, later joined by tables that
 * extensions register. Lookups are by name; listing is sorted by name.
 */
#pragma once

#include "osqd-table.h"

G_BEGIN_DECLS

typedef struct _OsqdRegistry OsqdRegistry;

OsqdRegistry *osqd_registry_new(void);
/* A registry holding every built-in table. */
OsqdRegistry *osqd_registry_new_builtin(void);
OsqdRegistry *osqd_registry_ref(OsqdRegistry *registry);
void osqd_registry_unref(OsqdRegistry *registry);

/* @table must outlive the registry. Fails if the name is taken. */
gboolean osqd_registry_add(OsqdRegistry *registry, const OsqdTable *table, GError **error);
const OsqdTable *osqd_registry_lookup(OsqdRegistry *registry, const gchar *name);
/* The tables sorted by name (a new array of borrowed pointers). */
GPtrArray *osqd_registry_list(OsqdRegistry *registry);

/* osquery's column definition for a table: "`pid` BIGINT, ..., PRIMARY KEY (`pid`)) WITHOUT
 * ROWID" without the leading "CREATE TABLE name(". */
gchar *osqd_table_column_definition(const OsqdTable *table);
const gchar *osqd_column_type_to_string(OsqdColumnType type);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(OsqdRegistry, osqd_registry_unref)

G_END_DECLS
