/* SPDX-License-Identifier: Apache-2.0
 *
 * The extension manager (see the header). One mutex guards the records; calls into extensions
 * (pings, shutdown, routed calls) are made on copies of what they need, outside the lock, so a
 * hung extension delays only the thread that called it. Registration is all or nothing: its
 * tables are added to the registry one by one and removed again if any fails, and the record
 * appears only when all are in. uuids are drawn at random from 1..65535 like osquery's, never
 * one in use; a dead extension's uuid (and socket file) is released when the watcher drops it.
 */
#include "config.h"

#include "osqd-extensions.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "osq-error.h"
#include "osqd-extension-client.h"
#include "osqd-extension-table.h"

#define OSQD_EXTENSIONS_MAX         1024
#define OSQD_EXTENSIONS_SHUTDOWN_MS 1000

typedef struct {
	gint64 uuid;
	OsqdExtensionInfo info;
	gchar *path;
	gint64 registered_at; /* monotonic */
	gboolean answered;    /* a ping got through once */
	GPtrArray *tables;    /* SQL names it added to the registry */
	GPtrArray *plugins;   /* "registry\nitem" keys it owns */
} OsqdExtensionRecord;

struct _OsqdExtensions {
	GMutex mutex;
	OsqdRegistry *registry;
	gchar *manager_path;
	OsqdExtensionsConfig config;
	GHashTable *records; /* gint64 uuid -> OsqdExtensionRecord */
	GHashTable *owners;  /* "registry\nitem" -> gint64 uuid (0: built in) */
	GThread *watcher;
	GCond watcher_cond;
	gboolean stopping;
};

void
osqd_extension_info_clear(OsqdExtensionInfo *info)
{
	g_clear_pointer(&info->name, g_free);
	g_clear_pointer(&info->version, g_free);
	g_clear_pointer(&info->sdk_version, g_free);
	g_clear_pointer(&info->min_sdk_version, g_free);
}

static void
extension_info_copy(OsqdExtensionInfo *to, const OsqdExtensionInfo *from)
{
	to->name = g_strdup(from->name != NULL ? from->name : "");
	to->version = g_strdup(from->version != NULL ? from->version : "");
	to->sdk_version = g_strdup(from->sdk_version != NULL ? from->sdk_version : "");
	to->min_sdk_version = g_strdup(from->min_sdk_version != NULL ? from->min_sdk_version : "");
}

void
osqd_extension_entry_free(OsqdExtensionEntry *entry)
{
	if (entry == NULL)
		return;
	osqd_extension_info_clear(&entry->info);
	g_free(entry->path);
	g_free(entry);
}

void
osqd_plugin_entry_free(OsqdPluginEntry *entry)
{
	if (entry == NULL)
		return;
	g_free(entry->registry);
	g_free(entry->name);
	g_free(entry);
}

static void
record_free(gpointer data)
{
	OsqdExtensionRecord *record = data;

	osqd_extension_info_clear(&record->info);
	g_free(record->path);
	g_ptr_array_unref(record->tables);
	g_ptr_array_unref(record->plugins);
	g_free(record);
}

static gchar *
plugin_key(const gchar *registry, const gchar *item)
{
	return g_strconcat(registry, "\n", item, NULL);
}

OsqdExtensions *
osqd_extensions_new(OsqdRegistry *registry, const gchar *manager_path,
                    const OsqdExtensionsConfig *config)
{
	OsqdExtensions *extensions = g_new0(OsqdExtensions, 1);

	g_mutex_init(&extensions->mutex);
	g_cond_init(&extensions->watcher_cond);
	extensions->registry = osqd_registry_ref(registry);
	extensions->manager_path = g_strdup(manager_path);
	extensions->config = *config;
	extensions->records = g_hash_table_new_full(g_int64_hash, g_int64_equal, NULL, record_free);
	extensions->owners = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	return extensions;
}

void
osqd_extensions_free(OsqdExtensions *extensions)
{
	if (extensions == NULL)
		return;
	g_mutex_lock(&extensions->mutex);
	extensions->stopping = TRUE;
	g_cond_broadcast(&extensions->watcher_cond);
	g_mutex_unlock(&extensions->mutex);
	if (extensions->watcher != NULL)
		g_thread_join(extensions->watcher);
	/* the tables leave the registry with their extensions */
	{
		GHashTableIter iter;
		gpointer value;
		g_hash_table_iter_init(&iter, extensions->records);
		while (g_hash_table_iter_next(&iter, NULL, &value)) {
			OsqdExtensionRecord *record = value;
			for (guint i = 0; i < record->tables->len; i++)
				(void)osqd_registry_remove(extensions->registry,
				                           record->tables->pdata[i]);
		}
	}
	g_hash_table_unref(extensions->records);
	g_hash_table_unref(extensions->owners);
	osqd_registry_unref(extensions->registry);
	g_free(extensions->manager_path);
	g_cond_clear(&extensions->watcher_cond);
	g_mutex_clear(&extensions->mutex);
	g_free(extensions);
}

void
osqd_extensions_add_builtin_plugin(OsqdExtensions *extensions, const gchar *registry,
                                   const gchar *name)
{
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&extensions->mutex);
	gint64 zero = 0;

	g_hash_table_replace(extensions->owners, plugin_key(registry, name),
	                     g_memdup2(&zero, sizeof(zero)));
}

const gchar *
osqd_extensions_get_manager_path(OsqdExtensions *extensions)
{
	return extensions->manager_path;
}

/* ---- registration ---- */

/* osquery's SDK gate: a dotted version below 1.7.7 is refused; "" and "0.0.0" pass. */
static gboolean
extensions_sdk_is_compatible(const gchar *sdk)
{
	static const guint64 floor[] = { 1, 7, 7 };
	g_auto(GStrv) parts = NULL;

	if (sdk == NULL || sdk[0] == '\0' || g_strcmp0(sdk, "0.0.0") == 0)
		return TRUE;
	parts = g_strsplit(sdk, ".", 4);
	for (guint i = 0; i < G_N_ELEMENTS(floor); i++) {
		guint64 part;
		if (parts[i] == NULL)
			return TRUE; /* a prefix of the floor's parts compares equal */
		part = g_ascii_strtoull(parts[i], NULL, 10);
		if (part != floor[i])
			return part > floor[i];
	}
	return TRUE;
}

static gboolean
extensions_registry_is_known(const gchar *name)
{
	return g_strcmp0(name, "table") == 0 || g_strcmp0(name, "config") == 0 ||
	       g_strcmp0(name, "logger") == 0 || g_strcmp0(name, "distributed") == 0;
}

static gint64
extensions_new_uuid(OsqdExtensions *extensions)
{
	for (;;) {
		gint64 uuid = g_random_int_range(1, 65536);
		if (!g_hash_table_contains(extensions->records, &uuid))
			return uuid;
	}
}

/* Whether @name is taken in the table registry: a registry table (built-in or an extension's)
 * or an extension's plugin. */
static gboolean
extensions_table_taken(OsqdExtensions *extensions, const gchar *name)
{
	g_autofree gchar *key = plugin_key("table", name);
	g_autofree gchar *lower = g_ascii_strdown(name, -1);

	return osqd_registry_lookup(extensions->registry, lower) != NULL ||
	       g_hash_table_contains(extensions->owners, key);
}

/* Checks every registry of the payload and builds its tables, before anything changes. */
static gboolean
extensions_prepare(OsqdExtensions *extensions, GHashTable *payload, const gchar *path, gint64 uuid,
                   GPtrArray *tables, GPtrArray *plugins, GError **error)
{
	GHashTableIter iter;
	gpointer key, value;
	g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

	g_hash_table_iter_init(&iter, payload);
	while (g_hash_table_iter_next(&iter, &key, &value)) {
		const gchar *registry = key;
		GHashTable *items = value;
		GHashTableIter item_iter;
		gpointer item_key, item_value;
		if (!extensions_registry_is_known(registry)) {
			/* osquery-go sends empty route tables for every registry it knows */
			if (g_hash_table_size(items) == 0)
				continue;
			g_set_error(error, OSQ_ERROR, OSQ_ERROR_INVALID_ARGUMENT,
			            "Failed adding registry: Unknown registry: %s", registry);
			return FALSE;
		}
		g_hash_table_iter_init(&item_iter, items);
		while (g_hash_table_iter_next(&item_iter, &item_key, &item_value)) {
			const gchar *item = item_key;
			GPtrArray *routes = item_value;
			g_autofree gchar *pkey = plugin_key(registry, item);
			gboolean is_table = g_strcmp0(registry, "table") == 0;
			gboolean taken = is_table ? extensions_table_taken(extensions, item)
			                          : g_hash_table_contains(extensions->owners, pkey);
			if (taken || g_hash_table_contains(seen, pkey)) {
				g_set_error(error, OSQ_ERROR, OSQ_ERROR_INVALID_ARGUMENT,
				            "Failed adding registry: Duplicate registry item: %s",
				            item);
				return FALSE;
			}
			g_hash_table_add(seen, g_strdup(pkey));
			g_ptr_array_add(plugins, g_steal_pointer(&pkey));
			if (is_table) {
				g_autoptr(GPtrArray) aliases = osqd_extension_table_aliases(routes);
				OsqdDynamicTable *table;
				if (routes == NULL || routes->len == 0) {
					g_set_error(error, OSQ_ERROR, OSQ_ERROR_INVALID_ARGUMENT,
					            "Invalid route info for table %s", item);
					return FALSE;
				}
				table = osqd_extension_table_new(item, item, routes, path, uuid,
				                                 &extensions->config, error);
				if (table == NULL)
					return FALSE;
				g_ptr_array_add(tables, table);
				for (guint a = 0; a < aliases->len; a++) {
					const gchar *alias = aliases->pdata[a];
					g_autofree gchar *akey = plugin_key("table", alias);
					if (extensions_table_taken(extensions, alias) ||
					    g_hash_table_contains(seen, akey)) {
						g_set_error(error, OSQ_ERROR,
						            OSQ_ERROR_INVALID_ARGUMENT,
						            "Failed adding registry: Duplicate "
						            "registry "
						            "item: %s",
						            alias);
						return FALSE;
					}
					table = osqd_extension_table_new(alias, item, routes, path,
					                                 uuid, &extensions->config,
					                                 error);
					if (table == NULL)
						return FALSE;
					g_hash_table_add(seen, g_strdup(akey));
					g_ptr_array_add(tables, table);
				}
			}
		}
	}
	return TRUE;
}

static void
table_unref_cb(gpointer table)
{
	osqd_table_unref(table);
}

gboolean
osqd_extensions_register(OsqdExtensions *extensions, const OsqdExtensionInfo *info,
                         GHashTable *payload, gint64 *uuid, GError **error)
{
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&extensions->mutex);
	g_autoptr(GPtrArray) tables = g_ptr_array_new_with_free_func(table_unref_cb);
	g_autoptr(GPtrArray) plugins = g_ptr_array_new_with_free_func(g_free);
	g_autofree gchar *path = NULL;
	OsqdExtensionRecord *record;
	GHashTableIter iter;
	gpointer value;
	gint64 id;

	*uuid = 0;
	g_hash_table_iter_init(&iter, extensions->records);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		OsqdExtensionRecord *other = value;
		if (g_strcmp0(other->info.name, info->name) == 0) {
			g_set_error_literal(error, OSQ_ERROR, OSQ_ERROR_INVALID_ARGUMENT,
			                    "Duplicate extension registered");
			return FALSE;
		}
	}
	if (!extensions_sdk_is_compatible(info->sdk_version)) {
		g_set_error_literal(error, OSQ_ERROR, OSQ_ERROR_INVALID_ARGUMENT,
		                    "Incompatible extension SDK version");
		return FALSE;
	}
	if (g_hash_table_size(extensions->records) >= OSQD_EXTENSIONS_MAX) {
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_LIMIT, "Too many extensions (at most %d)",
		            OSQD_EXTENSIONS_MAX);
		return FALSE;
	}
	id = extensions_new_uuid(extensions);
	path = g_strdup_printf("%s.%" G_GINT64_FORMAT, extensions->manager_path, id);
	if (!extensions_prepare(extensions, payload, path, id, tables, plugins, error))
		return FALSE;
	for (guint i = 0; i < tables->len; i++) {
		const OsqdTable *table = tables->pdata[i];
		if (!osqd_registry_add(extensions->registry, table, error)) {
			for (guint j = 0; j < i; j++)
				(void)osqd_registry_remove(
				        extensions->registry,
				        ((const OsqdTable *)tables->pdata[j])->name);
			g_prefix_error(error, "Failed adding registry: ");
			return FALSE;
		}
	}
	record = g_new0(OsqdExtensionRecord, 1);
	record->uuid = id;
	extension_info_copy(&record->info, info);
	record->path = g_steal_pointer(&path);
	record->registered_at = g_get_monotonic_time();
	record->tables = g_ptr_array_new_with_free_func(g_free);
	for (guint i = 0; i < tables->len; i++)
		g_ptr_array_add(record->tables,
		                g_strdup(((const OsqdTable *)tables->pdata[i])->name));
	record->plugins = g_ptr_array_new_with_free_func(g_free);
	for (guint i = 0; i < plugins->len; i++) {
		g_hash_table_replace(extensions->owners, g_strdup(plugins->pdata[i]),
		                     g_memdup2(&id, sizeof(id)));
		g_ptr_array_add(record->plugins, g_strdup(plugins->pdata[i]));
	}
	g_hash_table_insert(extensions->records, &record->uuid, record);
	*uuid = id;
	return TRUE;
}

/* Forgets @record (under the lock): its tables and plugins go; the record is freed. */
static void
extensions_remove_locked(OsqdExtensions *extensions, OsqdExtensionRecord *record)
{
	for (guint i = 0; i < record->tables->len; i++)
		(void)osqd_registry_remove(extensions->registry, record->tables->pdata[i]);
	for (guint i = 0; i < record->plugins->len; i++)
		(void)g_hash_table_remove(extensions->owners, record->plugins->pdata[i]);
	(void)g_hash_table_remove(extensions->records, &record->uuid);
}

gboolean
osqd_extensions_deregister(OsqdExtensions *extensions, gint64 uuid, GError **error)
{
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&extensions->mutex);
	OsqdExtensionRecord *record = g_hash_table_lookup(extensions->records, &uuid);

	if (record == NULL) {
		g_set_error_literal(error, OSQ_ERROR, OSQ_ERROR_NOT_FOUND,
		                    "No extension UUID found");
		return FALSE;
	}
	extensions_remove_locked(extensions, record);
	return TRUE;
}

/* ---- listing ---- */

static gint
compare_entries(gconstpointer a, gconstpointer b)
{
	const OsqdExtensionEntry *x = *(const OsqdExtensionEntry *const *)a;
	const OsqdExtensionEntry *y = *(const OsqdExtensionEntry *const *)b;

	return x->uuid < y->uuid ? -1 : x->uuid > y->uuid;
}

GPtrArray *
osqd_extensions_list(OsqdExtensions *extensions)
{
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&extensions->mutex);
	GPtrArray *list = g_ptr_array_new_with_free_func((GDestroyNotify)osqd_extension_entry_free);
	GHashTableIter iter;
	gpointer value;

	g_hash_table_iter_init(&iter, extensions->records);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		const OsqdExtensionRecord *record = value;
		OsqdExtensionEntry *entry = g_new0(OsqdExtensionEntry, 1);
		entry->uuid = record->uuid;
		extension_info_copy(&entry->info, &record->info);
		entry->path = g_strdup(record->path);
		g_ptr_array_add(list, entry);
	}
	g_ptr_array_sort(list, compare_entries);
	return list;
}

GPtrArray *
osqd_extensions_list_plugins(OsqdExtensions *extensions)
{
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&extensions->mutex);
	GPtrArray *list = g_ptr_array_new_with_free_func((GDestroyNotify)osqd_plugin_entry_free);
	GHashTableIter iter;
	gpointer key, value;

	g_hash_table_iter_init(&iter, extensions->owners);
	while (g_hash_table_iter_next(&iter, &key, &value)) {
		const gchar *newline = strchr(key, '\n');
		OsqdPluginEntry *entry = g_new0(OsqdPluginEntry, 1);
		entry->registry = g_strndup(key, (gsize)(newline - (const gchar *)key));
		entry->name = g_strdup(newline + 1);
		entry->owner_uuid = *(const gint64 *)value;
		g_ptr_array_add(list, entry);
	}
	return list;
}

gint64
osqd_extensions_find_plugin(OsqdExtensions *extensions, const gchar *registry, const gchar *item)
{
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&extensions->mutex);
	g_autofree gchar *key = plugin_key(registry, item);
	const gint64 *owner = g_hash_table_lookup(extensions->owners, key);

	return owner != NULL ? *owner : 0;
}

/* The socket path of extension @uuid (NULL: none), and when it was registered. */
static gchar *
extensions_path_of(OsqdExtensions *extensions, gint64 uuid, gint64 *registered_at)
{
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&extensions->mutex);
	const OsqdExtensionRecord *record = g_hash_table_lookup(extensions->records, &uuid);

	if (record == NULL)
		return NULL;
	*registered_at = record->registered_at;
	return g_strdup(record->path);
}

/* ---- routed calls ---- */

typedef struct {
	GPtrArray *rows;
	GHashTable *row;
	gsize bytes;
	gsize max;
} OsqdCollect;

static gboolean
collect_row_begin_cb(gpointer user_data, GError **error)
{
	OsqdCollect *collect = user_data;

	collect->row = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	g_ptr_array_add(collect->rows, collect->row);
	return TRUE;
}

static gboolean
collect_cell_cb(const gchar *key, gsize key_len, const gchar *value, gsize value_len,
                gpointer user_data, GError **error)
{
	OsqdCollect *collect = user_data;

	g_hash_table_replace(collect->row, g_utf8_make_valid(key, (gssize)key_len),
	                     g_utf8_make_valid(value, (gssize)value_len));
	return TRUE;
}

gboolean
osqd_extensions_call(OsqdExtensions *extensions, const gchar *registry, const gchar *item,
                     GHashTable *request, GPtrArray **rows, gint32 *code, gchar **message,
                     GError **error)
{
	gint64 uuid = osqd_extensions_find_plugin(extensions, registry, item);
	gint64 registered_at = 0;
	g_autofree gchar *path =
	        uuid != 0 ? extensions_path_of(extensions, uuid, &registered_at) : NULL;
	g_autoptr(GPtrArray) collected =
	        g_ptr_array_new_with_free_func((GDestroyNotify)g_hash_table_unref);
	OsqdCollect collect = { .rows = collected };
	OsqdExtensionCallOptions options = {
		.deadline =
		        g_get_monotonic_time() + (gint64)extensions->config.call_timeout_ms * 1000,
		.max_reply = extensions->config.max_reply,
		.bind_deadline = registered_at + (gint64)extensions->config.timeout_ms * 1000,
	};
	OsqdExtensionRowVisitor visitor = {
		.row_begin = collect_row_begin_cb,
		.cell = collect_cell_cb,
		.user_data = &collect,
	};

	if (path == NULL) {
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_NOT_FOUND, "Cannot call registry item: %s",
		            item);
		return FALSE;
	}
	if (!osqd_extension_call(path, registry, item, request, &options, &visitor, code, message,
	                         error))
		return FALSE;
	*rows = g_steal_pointer(&collected);
	return TRUE;
}

/* ---- health ---- */

typedef struct {
	gint64 uuid;
	gchar *path;
	gboolean answered;
	gint64 registered_at;
} OsqdHealthTarget;

static void
health_target_free(gpointer data)
{
	OsqdHealthTarget *target = data;

	g_free(target->path);
	g_free(target);
}

static void
extensions_drop(OsqdExtensions *extensions, gint64 uuid, const gchar *why)
{
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&extensions->mutex);
	OsqdExtensionRecord *record = g_hash_table_lookup(extensions->records, &uuid);

	if (record == NULL)
		return; /* deregistered meanwhile */
	g_message("extension %s (uuid %" G_GINT64_FORMAT ") has gone away: %s", record->info.name,
	          uuid, why);
	/* a dead extension's socket file would only confuse the next one with this uuid */
	if (unlink(record->path) != 0 && errno != ENOENT)
		g_debug("cannot remove %s: %s", record->path, g_strerror(errno));
	extensions_remove_locked(extensions, record);
}

void
osqd_extensions_check_health(OsqdExtensions *extensions)
{
	g_autoptr(GPtrArray) targets = g_ptr_array_new_with_free_func(health_target_free);
	gint64 grace = (gint64)extensions->config.timeout_ms * 1000;

	g_mutex_lock(&extensions->mutex);
	{
		GHashTableIter iter;
		gpointer value;
		g_hash_table_iter_init(&iter, extensions->records);
		while (g_hash_table_iter_next(&iter, NULL, &value)) {
			const OsqdExtensionRecord *record = value;
			OsqdHealthTarget *target = g_new0(OsqdHealthTarget, 1);
			target->uuid = record->uuid;
			target->path = g_strdup(record->path);
			target->answered = record->answered;
			target->registered_at = record->registered_at;
			g_ptr_array_add(targets, target);
		}
	}
	g_mutex_unlock(&extensions->mutex);
	for (guint i = 0; i < targets->len; i++) {
		OsqdHealthTarget *target = targets->pdata[i];
		g_autoptr(GError) error = NULL;
		gint64 now = g_get_monotonic_time();
		if (osqd_extension_ping(target->path, now + grace, &error)) {
			g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&extensions->mutex);
			OsqdExtensionRecord *record =
			        g_hash_table_lookup(extensions->records, &target->uuid);
			if (record != NULL)
				record->answered = TRUE;
			continue;
		}
		/* a new extension binds its socket after registering: while there is no socket
		 * yet, give it the timeout; a socket nobody answers on means it died */
		if (!target->answered && now - target->registered_at < grace &&
		    g_error_matches(error, OSQ_ERROR, OSQ_ERROR_NOT_FOUND))
			continue;
		extensions_drop(extensions, target->uuid, error->message);
	}
}

static gpointer
extensions_watcher_thread(gpointer data)
{
	OsqdExtensions *extensions = data;

	g_mutex_lock(&extensions->mutex);
	while (!extensions->stopping) {
		gint64 until = g_get_monotonic_time() +
		               (gint64)MAX(extensions->config.interval_ms, 200) * 1000;
		while (!extensions->stopping &&
		       g_cond_wait_until(&extensions->watcher_cond, &extensions->mutex, until))
			;
		if (extensions->stopping)
			break;
		g_mutex_unlock(&extensions->mutex);
		osqd_extensions_check_health(extensions);
		g_mutex_lock(&extensions->mutex);
	}
	g_mutex_unlock(&extensions->mutex);
	return NULL;
}

void
osqd_extensions_start_watcher(OsqdExtensions *extensions)
{
	if (extensions->watcher == NULL)
		extensions->watcher =
		        g_thread_new("osqd-extensions", extensions_watcher_thread, extensions);
}

void
osqd_extensions_shutdown_all(OsqdExtensions *extensions)
{
	g_autoptr(GPtrArray) entries = osqd_extensions_list(extensions);

	for (guint i = 0; i < entries->len; i++) {
		const OsqdExtensionEntry *entry = entries->pdata[i];
		g_autoptr(GError) error = NULL;
		if (!osqd_extension_shutdown(
		            entry->path,
		            g_get_monotonic_time() + OSQD_EXTENSIONS_SHUTDOWN_MS * 1000, &error))
			g_debug("extension %s did not take shutdown: %s", entry->info.name,
			        error->message);
		(void)osqd_extensions_deregister(extensions, entry->uuid, NULL);
	}
}
