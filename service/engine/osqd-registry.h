/* SPDX-License-Identifier: Apache-2.0
 *
 * The set of tables an engine serves: the generated built-in array, joined at run time by tables
 * that extensions register (OsqdDynamicTable, reference-counted). Lookups are by name; listing
 * is sorted by name. Every change bumps a generation number, which engines compare to know when
 * to attach new tables and detach removed ones.
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

/* Adds @table (a built-in one must outlive the registry; a dynamic one gets a reference). Fails if
 * the name is taken. */
gboolean osqd_registry_add(OsqdRegistry *registry, const OsqdTable *table, GError **error);
/* Removes the table named @name; FALSE if there is none. */
gboolean osqd_registry_remove(OsqdRegistry *registry, const gchar *name);
/* Borrowed: for built-in tables, or while the caller knows the table stays registered. */
const OsqdTable *osqd_registry_lookup(OsqdRegistry *registry, const gchar *name);
/* A reference (osqd_table_unref() it), or NULL. */
const OsqdTable *osqd_registry_lookup_ref(OsqdRegistry *registry, const gchar *name);
/* The tables sorted by name; the array holds a reference to each (freeing it drops them). */
GPtrArray *osqd_registry_list(OsqdRegistry *registry);
/* Bumped by every add and remove, and by osqd_registry_set_views(). */
guint64 osqd_registry_get_generation(OsqdRegistry *registry);

/* SQL views every connection gets (a config's "views"): name -> SQL, copied; NULL clears. A
 * view that does not prepare in a connection is left out there. */
void osqd_registry_set_views(OsqdRegistry *registry, GHashTable *views);
/* A new table of the views (name -> SQL). */
GHashTable *osqd_registry_get_views(OsqdRegistry *registry);

/* osquery's column definition for a table: "`pid` BIGINT, ..., PRIMARY KEY (`pid`)) WITHOUT
 * ROWID" without the leading "CREATE TABLE name(". */
gchar *osqd_table_column_definition(const OsqdTable *table);
const gchar *osqd_column_type_to_string(OsqdColumnType type);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(OsqdRegistry, osqd_registry_unref)

G_END_DECLS
