/* SPDX-License-Identifier: Apache-2.0
 *
 * Table registry. Guarded by a mutex so that extension tables can come and go while worker
 * threads look tables up. The registry holds a reference to each dynamic table it lists.
 */
#include "config.h"

#include "osqd-registry.h"

#include "osqd-tables-generated.h"

struct _OsqdRegistry {
	gint ref_count;
	GMutex mutex;
	GHashTable *tables; /* name -> const OsqdTable* (a reference for dynamic ones) */
	guint64 generation;
	GHashTable *views; /* name -> SQL */
};

const OsqdTable *
osqd_table_ref(const OsqdTable *table)
{
	if (table != NULL && (table->flags & OSQD_TABLE_FLAG_DYNAMIC) != 0)
		g_atomic_int_inc(&((OsqdDynamicTable *)(gpointer)table)->ref_count);
	return table;
}

void
osqd_table_unref(const OsqdTable *table)
{
	OsqdDynamicTable *dynamic;

	if (table == NULL || (table->flags & OSQD_TABLE_FLAG_DYNAMIC) == 0)
		return;
	dynamic = (OsqdDynamicTable *)(gpointer)table;
	if (g_atomic_int_dec_and_test(&dynamic->ref_count))
		dynamic->free_func(dynamic);
}

static void
registry_table_unref_cb(gpointer table)
{
	osqd_table_unref(table);
}

OsqdRegistry *
osqd_registry_new(void)
{
	OsqdRegistry *registry = g_new0(OsqdRegistry, 1);

	registry->ref_count = 1;
	g_mutex_init(&registry->mutex);
	registry->tables =
	        g_hash_table_new_full(g_str_hash, g_str_equal, NULL, registry_table_unref_cb);
	registry->views = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	return registry;
}

OsqdRegistry *
osqd_registry_new_builtin(void)
{
	OsqdRegistry *registry = osqd_registry_new();

	for (guint i = 0; i < osqd_tables_builtin_count; i++)
		g_hash_table_insert(registry->tables, (gpointer)osqd_tables_builtin[i].name,
		                    (gpointer)&osqd_tables_builtin[i]);
	return registry;
}

OsqdRegistry *
osqd_registry_ref(OsqdRegistry *registry)
{
	g_atomic_int_inc(&registry->ref_count);
	return registry;
}

void
osqd_registry_unref(OsqdRegistry *registry)
{
	if (registry == NULL || !g_atomic_int_dec_and_test(&registry->ref_count))
		return;
	g_hash_table_unref(registry->tables);
	g_hash_table_unref(registry->views);
	g_mutex_clear(&registry->mutex);
	g_free(registry);
}

gboolean
osqd_registry_add(OsqdRegistry *registry, const OsqdTable *table, GError **error)
{
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&registry->mutex);

	if (g_hash_table_contains(registry->tables, table->name)) {
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_INVALID_ARGUMENT,
		            "a table named %s exists already", table->name);
		return FALSE;
	}
	g_hash_table_insert(registry->tables, (gpointer)table->name,
	                    (gpointer)osqd_table_ref(table));
	registry->generation++;
	return TRUE;
}

gboolean
osqd_registry_remove(OsqdRegistry *registry, const gchar *name)
{
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&registry->mutex);

	if (!g_hash_table_remove(registry->tables, name))
		return FALSE;
	registry->generation++;
	return TRUE;
}

const OsqdTable *
osqd_registry_lookup(OsqdRegistry *registry, const gchar *name)
{
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&registry->mutex);

	return g_hash_table_lookup(registry->tables, name);
}

const OsqdTable *
osqd_registry_lookup_ref(OsqdRegistry *registry, const gchar *name)
{
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&registry->mutex);

	return osqd_table_ref(g_hash_table_lookup(registry->tables, name));
}

void
osqd_registry_set_views(OsqdRegistry *registry, GHashTable *views)
{
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&registry->mutex);
	GHashTableIter iter;
	gpointer key, value;

	g_hash_table_remove_all(registry->views);
	if (views != NULL) {
		g_hash_table_iter_init(&iter, views);
		while (g_hash_table_iter_next(&iter, &key, &value))
			g_hash_table_insert(registry->views, g_strdup(key), g_strdup(value));
	}
	registry->generation++;
}

GHashTable *
osqd_registry_get_views(OsqdRegistry *registry)
{
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&registry->mutex);
	GHashTable *copy = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	GHashTableIter iter;
	gpointer key, value;

	g_hash_table_iter_init(&iter, registry->views);
	while (g_hash_table_iter_next(&iter, &key, &value))
		g_hash_table_insert(copy, g_strdup(key), g_strdup(value));
	return copy;
}

guint64
osqd_registry_get_generation(OsqdRegistry *registry)
{
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&registry->mutex);

	return registry->generation;
}

static gint
compare_tables(gconstpointer a, gconstpointer b)
{
	const OsqdTable *x = *(const OsqdTable *const *)a;
	const OsqdTable *y = *(const OsqdTable *const *)b;

	return g_strcmp0(x->name, y->name);
}

GPtrArray *
osqd_registry_list(OsqdRegistry *registry)
{
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&registry->mutex);
	GPtrArray *list = g_ptr_array_new_with_free_func(registry_table_unref_cb);
	GHashTableIter iter;
	gpointer value;

	g_hash_table_iter_init(&iter, registry->tables);
	while (g_hash_table_iter_next(&iter, NULL, &value))
		g_ptr_array_add(list, (gpointer)osqd_table_ref(value));
	g_ptr_array_sort(list, compare_tables);
	return list;
}

const gchar *
osqd_column_type_to_string(OsqdColumnType type)
{
	switch (type) {
	case OSQD_COLUMN_TYPE_TEXT:
		return "TEXT";
	case OSQD_COLUMN_TYPE_INTEGER:
		return "INTEGER";
	case OSQD_COLUMN_TYPE_BIGINT:
		return "BIGINT";
	case OSQD_COLUMN_TYPE_UNSIGNED_BIGINT:
		return "UNSIGNED BIGINT";
	case OSQD_COLUMN_TYPE_DOUBLE:
		return "DOUBLE";
	case OSQD_COLUMN_TYPE_BLOB:
		return "BLOB";
	}
	return "TEXT";
}

gchar *
osqd_table_column_definition(const OsqdTable *table)
{
	GString *sql = g_string_new(NULL);
	g_autoptr(GString) key = g_string_new(NULL);
	gboolean has_index = FALSE, has_additional = FALSE;

	for (guint i = 0; i < table->n_columns; i++) {
		const OsqdColumn *c = &table->columns[i];
		if (i > 0)
			g_string_append(sql, ", ");
		g_string_append_printf(sql, "`%s` %s%s", c->name,
		                       osqd_column_type_to_string(c->type),
		                       (c->flags & OSQD_COLUMN_FLAG_HIDDEN) ? " HIDDEN" : "");
		has_index |= (c->flags & OSQD_COLUMN_FLAG_INDEX) != 0;
		has_additional |= (c->flags & OSQD_COLUMN_FLAG_ADDITIONAL) != 0;
	}
	/* osquery: INDEX and ADDITIONAL columns form the key; ADDITIONAL alone means all of them */
	for (guint i = 0; i < table->n_columns; i++) {
		const OsqdColumn *c = &table->columns[i];
		gboolean in_key =
		        (c->flags & (OSQD_COLUMN_FLAG_INDEX | OSQD_COLUMN_FLAG_ADDITIONAL)) ||
		        (has_additional && !has_index);
		if (!in_key)
			continue;
		g_string_append_printf(key, "%s`%s`", key->len > 0 ? ", " : "", c->name);
	}
	if (key->len > 0)
		g_string_append_printf(sql, ", PRIMARY KEY (%s)) WITHOUT ROWID", key->str);
	else
		g_string_append(sql, ")");
	return g_string_free(sql, FALSE);
}
