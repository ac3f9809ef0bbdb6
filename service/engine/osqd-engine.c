/* SPDX-License-Identifier: Apache-2.0
 *
 * Connection setup. The connection is in-memory and read-only for clients: the authorizer
 * allows reads, functions (but not load_extension), and writes or schema changes only in TEMP;
 * ATTACH/DETACH, PRAGMAs that change state and everything else are denied. Reads of registry
 * tables also go through the access func, when one is set (osqd's per-peer policy); SQLite asks
 * about each column a statement reads, also inside views, so a view cannot hide a read.
 * Defensive mode is on, extension loading is off, and the SQL length is capped. A progress
 * handler ends a statement that was cancelled or passed its deadline.
 */
#include "config.h"

#include "osqd-engine-private.h"

#include <string.h>

#define OSQD_ENGINE_PROGRESS_OPS 1000

static const gchar *const allowed_pragmas[] = {
	"table_info",     "table_xinfo",     "table_list",
	"function_list",  "module_list",     "pragma_list",
	"collation_list", "compile_options", NULL,
};

/* The registry table SQLite names; names typed in SQL (count(*) reports the FROM name as
 * written) may differ in case from the registry's lowercase names. */
static const OsqdTable *
engine_lookup_table(OsqdEngine *engine, const char *name)
{
	const OsqdTable *table = g_hash_table_lookup(engine->tables, name);
	g_autofree gchar *lower = NULL;

	if (table != NULL)
		return table;
	lower = g_ascii_strdown(name, -1);
	return g_hash_table_lookup(engine->tables, lower);
}

static void
engine_table_unref_cb(gpointer table)
{
	osqd_table_unref(table);
}

/* The registry's views as TEMP views of this connection (replaced wholesale: they are few). */
static void
engine_sync_views(OsqdEngine *engine)
{
	g_autoptr(GHashTable) views = osqd_registry_get_views(engine->registry);
	GHashTableIter iter;
	gpointer key, value;

	if (engine->views == NULL)
		engine->views = g_ptr_array_new_with_free_func(g_free);
	for (guint i = 0; i < engine->views->len; i++) {
		g_autofree gchar *sql = g_strdup_printf("DROP VIEW IF EXISTS temp.\"%s\"",
		                                        (gchar *)engine->views->pdata[i]);
		(void)sqlite3_exec(engine->db, sql, NULL, NULL, NULL);
	}
	g_ptr_array_set_size(engine->views, 0);
	g_hash_table_iter_init(&iter, views);
	while (g_hash_table_iter_next(&iter, &key, &value)) {
		g_autofree gchar *sql = NULL;
		if (strchr(key, '"') != NULL)
			continue;
		sql = g_strdup_printf("CREATE TEMP VIEW \"%s\" AS %s", (gchar *)key,
		                      (gchar *)value);
		if (sqlite3_exec(engine->db, sql, NULL, NULL, NULL) == SQLITE_OK)
			g_ptr_array_add(engine->views, g_strdup(key));
	}
}

/* Attaches the registry's tables that this connection lacks and detaches those that left it (or
 * were replaced under the same name). Only between statements: a prepared statement may use an
 * attached table, so with one open the sync waits for the next prepare. */
static gboolean
engine_sync_tables(OsqdEngine *engine, GError **error)
{
	guint64 generation = osqd_registry_get_generation(engine->registry);
	g_autoptr(GPtrArray) tables = NULL;
	g_autoptr(GHashTable) wanted = NULL;
	GHashTableIter iter;
	gpointer key, value;

	if (generation == engine->generation && engine->tables != NULL)
		return TRUE;
	if (engine->tables != NULL && sqlite3_next_stmt(engine->db, NULL) != NULL)
		return TRUE;
	if (engine->tables == NULL)
		engine->tables = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
		                                       engine_table_unref_cb);
	tables = osqd_registry_list(engine->registry);
	wanted = g_hash_table_new(g_str_hash, g_str_equal);
	for (guint i = 0; i < tables->len; i++) {
		const OsqdTable *table = tables->pdata[i];
		g_hash_table_insert(wanted, (gpointer)table->name, (gpointer)table);
	}
	g_hash_table_iter_init(&iter, engine->tables);
	while (g_hash_table_iter_next(&iter, &key, &value)) {
		if (g_hash_table_lookup(wanted, key) == value)
			continue;
		/* a NULL module drops the module of that name (and its eponymous table) */
		(void)sqlite3_create_module_v2(engine->db, key, NULL, NULL, NULL);
		g_hash_table_iter_remove(&iter);
	}
	for (guint i = 0; i < tables->len; i++) {
		const OsqdTable *table = tables->pdata[i];
		if (g_hash_table_contains(engine->tables, table->name))
			continue;
		if (!osqd_vtab_register(engine, table, error))
			return FALSE;
		g_hash_table_insert(engine->tables, g_strdup(table->name),
		                    (gpointer)osqd_table_ref(table));
	}
	engine_sync_views(engine);
	engine->generation = generation;
	return TRUE;
}

/* The column's index, or -1 for "" (the table itself) and names that are not columns (rowid). */
static gint
engine_column_index(const OsqdTable *table, const char *name)
{
	if (name == NULL || name[0] == '\0')
		return -1;
	for (guint i = 0; i < table->n_columns; i++) {
		if (g_ascii_strcasecmp(table->columns[i].name, name) == 0)
			return (gint)i;
	}
	return -1;
}

/* SQLITE_READ of @column_name ("" for none) of @table_name, which may be a TEMP object named
 * like a registry table: it is checked as that table (stricter, never looser). The first denial
 * of a statement is kept for osqd_engine_prepare(). */
static int
engine_authorize_read(OsqdEngine *engine, const char *table_name, const char *column_name)
{
	g_autoptr(GError) error_local = NULL;
	const OsqdTable *table;

	if (engine->access_func == NULL || table_name == NULL)
		return SQLITE_OK;
	table = engine_lookup_table(engine, table_name);
	if (table == NULL)
		return SQLITE_OK;
	if (engine->access_func(table, engine_column_index(table, column_name), engine->access_data,
	                        &error_local))
		return SQLITE_OK;
	if (error_local == NULL)
		error_local = g_error_new(OSQ_ERROR, OSQ_ERROR_PERMISSION_DENIED,
		                          "access denied: may not read %s", table->name);
	if (engine->generator_error == NULL)
		engine->generator_error = g_steal_pointer(&error_local);
	return SQLITE_DENY;
}

static int
engine_authorize_cb(void *data, int action, const char *arg1, const char *arg2,
                    const char *database, const char *trigger)
{
	OsqdEngine *engine = data;

	(void)trigger;
	if (engine->declaring)
		return SQLITE_OK;
	switch (action) {
	case SQLITE_READ:
		/* arg1 is the table, arg2 the column */
		return engine_authorize_read(engine, arg1, arg2);
	case SQLITE_SELECT:
	case SQLITE_RECURSIVE:
		return SQLITE_OK;
	case SQLITE_FUNCTION:
		/* arg2 is the function name */
		if (arg2 != NULL && g_ascii_strcasecmp(arg2, "load_extension") == 0)
			return SQLITE_DENY;
		return SQLITE_OK;
	case SQLITE_PRAGMA:
		/* introspection only: these pragmas read, whatever their argument */
		if (arg1 != NULL && g_strv_contains(allowed_pragmas, arg1))
			return SQLITE_OK;
		return SQLITE_DENY;
	case SQLITE_CREATE_TEMP_TABLE:
	case SQLITE_CREATE_TEMP_VIEW:
	case SQLITE_CREATE_TEMP_INDEX:
	case SQLITE_DROP_TEMP_TABLE:
	case SQLITE_DROP_TEMP_VIEW:
	case SQLITE_DROP_TEMP_INDEX:
		return SQLITE_OK;
	case SQLITE_INSERT:
	case SQLITE_UPDATE:
	case SQLITE_DELETE:
		/* arg1 is the table; writes only to TEMP tables (and their internal bookkeeping) */
		if (database != NULL && g_strcmp0(database, "temp") == 0)
			return SQLITE_OK;
		/* pragma_table_info() and friends ask this of the schema table while reading
		 * it; SQLite never lets SQL write it (defensive mode, writable_schema denied) */
		if (action == SQLITE_UPDATE && g_strcmp0(arg1, "sqlite_master") == 0)
			return SQLITE_OK;
		return SQLITE_DENY;
	case SQLITE_TRANSACTION:
	case SQLITE_SAVEPOINT:
		return SQLITE_OK;
	default:
		/* ATTACH, DETACH, ALTER, CREATE/DROP of persistent objects, CREATE VTABLE... */
		return SQLITE_DENY;
	}
}

static int
engine_progress_cb(void *data)
{
	OsqdEngine *engine = data;

	return osqd_query_control_check(&engine->control, NULL) ? 0 : 1;
}

/* Process-wide SQLite settings, before SQLite initializes itself: no memory statistics, whose
 * global mutex every allocation would otherwise take (a few % of a large query's time). If
 * the program initialized SQLite already, the call fails harmlessly. */
static void
engine_configure_sqlite(void)
{
	static gsize done = 0;

	if (g_once_init_enter(&done)) {
		(void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
		g_once_init_leave(&done, 1);
	}
}

OsqdEngine *
osqd_engine_new(OsqdRegistry *registry, GError **error)
{
	g_autoptr(OsqdEngine) engine = g_new0(OsqdEngine, 1);
	int rc;

	engine->registry = osqd_registry_ref(registry);
	engine_configure_sqlite();
	engine->root = g_strdup("/");
	rc = sqlite3_open_v2(":memory:", &engine->db,
	                     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX |
	                             SQLITE_OPEN_EXRESCODE,
	                     NULL);
	if (rc != SQLITE_OK) {
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_FAILED, "cannot open SQLite: %s",
		            engine->db != NULL ? sqlite3_errmsg(engine->db) : sqlite3_errstr(rc));
		return NULL;
	}
	(void)sqlite3_db_config(engine->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	(void)sqlite3_db_config(engine->db, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0, NULL);
	(void)sqlite3_db_config(engine->db, SQLITE_DBCONFIG_ENABLE_TRIGGER, 0, NULL);
	(void)sqlite3_limit(engine->db, SQLITE_LIMIT_SQL_LENGTH, OSQD_ENGINE_MAX_SQL_LENGTH);
	(void)sqlite3_limit(engine->db, SQLITE_LIMIT_ATTACHED, 0);
	(void)sqlite3_limit(engine->db, SQLITE_LIMIT_LENGTH, 256 * 1024 * 1024);
	if (!osqd_functions_register(engine->db, error))
		return NULL;
	if (!engine_sync_tables(engine, error))
		return NULL;
	sqlite3_progress_handler(engine->db, OSQD_ENGINE_PROGRESS_OPS, engine_progress_cb, engine);
	(void)sqlite3_set_authorizer(engine->db, engine_authorize_cb, engine);
	return g_steal_pointer(&engine);
}

void
osqd_engine_free(OsqdEngine *engine)
{
	if (engine == NULL)
		return;
	if (engine->db != NULL)
		(void)sqlite3_close_v2(engine->db);
	if (engine->tables != NULL)
		g_hash_table_unref(engine->tables);
	if (engine->views != NULL)
		g_ptr_array_unref(engine->views);
	g_clear_error(&engine->generator_error);
	if (engine->access_destroy != NULL)
		engine->access_destroy(engine->access_data);
	osqd_registry_unref(engine->registry);
	g_free(engine->root);
	g_free(engine);
}

void
osqd_engine_set_root(OsqdEngine *engine, const gchar *root)
{
	g_autofree gchar *copy = g_strdup(root != NULL && root[0] != '\0' ? root : "/");
	gsize len = strlen(copy);

	while (len > 1 && copy[len - 1] == '/')
		copy[--len] = '\0';
	g_free(engine->root);
	engine->root = g_steal_pointer(&copy);
}

void
osqd_engine_set_timeout(OsqdEngine *engine, guint timeout_ms)
{
	engine->timeout_ms = timeout_ms;
}

void
osqd_engine_set_events_since(OsqdEngine *engine, gint64 event_id)
{
	engine->control.events_since = event_id;
}

void
osqd_engine_set_privileged(OsqdEngine *engine, gboolean privileged)
{
	engine->control.unprivileged = !privileged;
}

void
osqd_engine_set_events_limit(OsqdEngine *engine, gint64 limit)
{
	engine->control.events_limit = limit;
}

gint64
osqd_engine_get_events_max(OsqdEngine *engine)
{
	return engine->control.events_max;
}

guint
osqd_engine_get_event_scans(OsqdEngine *engine)
{
	return engine->control.event_scans;
}

void
osqd_engine_set_cpu_limit(OsqdEngine *engine, guint cpu_limit_ms)
{
	engine->cpu_limit_ms = cpu_limit_ms;
}

void
osqd_engine_set_trace(OsqdEngine *engine, OsqdEngineTraceFunc func, gpointer user_data)
{
	engine->trace_func = func;
	engine->trace_data = user_data;
}

void
osqd_engine_set_access_func(OsqdEngine *engine, OsqdEngineAccessFunc func, gpointer user_data,
                            GDestroyNotify destroy)
{
	if (engine->access_destroy != NULL)
		engine->access_destroy(engine->access_data);
	engine->access_func = func;
	engine->access_data = user_data;
	engine->access_destroy = destroy;
}

sqlite3 *
osqd_engine_get_database(OsqdEngine *engine)
{
	return engine->db;
}

OsqdRegistry *
osqd_engine_get_registry(OsqdEngine *engine)
{
	return engine->registry;
}

void
osqd_engine_interrupt(OsqdEngine *engine)
{
	g_atomic_int_set(&engine->control.cancelled, 1);
	sqlite3_interrupt(engine->db);
}

static void
engine_begin(OsqdEngine *engine)
{
	g_atomic_int_set(&engine->control.cancelled, 0);
	engine->control.deadline =
	        engine->timeout_ms > 0 ? g_get_monotonic_time() + (gint64)engine->timeout_ms * 1000
	                               : 0;
	engine->control.cpu_limit_us = (gint64)engine->cpu_limit_ms * 1000;
	engine->control.events_max = 0;
	engine->control.event_scans = 0;
	engine->control.cpu_checks = 0;
	if (engine->cpu_limit_ms > 0)
		engine->control.cpu_start_us = osqd_query_control_thread_cpu_us();
	g_clear_error(&engine->generator_error);
}

/* Turns a failed SQLite call into the most precise GError: the generator's own error when it
 * caused the failure, cancellation/timeout for interrupts, else SQLite's message. */
static void
engine_set_error(OsqdEngine *engine, int rc, GError **error)
{
	int primary = rc & 0xff;

	if (engine->generator_error != NULL) {
		g_propagate_error(error, g_steal_pointer(&engine->generator_error));
		return;
	}
	if (primary == SQLITE_INTERRUPT) {
		GError *local = NULL;
		if (!osqd_query_control_check(&engine->control, &local)) {
			g_propagate_error(error, local);
			return;
		}
		g_set_error_literal(error, OSQ_ERROR, OSQ_ERROR_CANCELLED, "query cancelled");
		return;
	}
	if (primary == SQLITE_AUTH ||
	    g_str_has_prefix(sqlite3_errmsg(engine->db), "not authorized")) {
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_PERMISSION_DENIED,
		            "%s (osq SQL is read-only)", sqlite3_errmsg(engine->db));
		return;
	}
	if (primary == SQLITE_TOOBIG) {
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_LIMIT, "%s", sqlite3_errmsg(engine->db));
		return;
	}
	g_set_error(error, OSQ_ERROR, OSQ_ERROR_FAILED, "%s", sqlite3_errmsg(engine->db));
}

sqlite3_stmt *
osqd_engine_prepare(OsqdEngine *engine, const gchar *sql, const gchar **tail, GError **error)
{
	sqlite3_stmt *stmt = NULL;
	const gchar *rest = NULL;
	gsize len = strlen(sql);
	int rc;

	if (tail != NULL)
		*tail = NULL;
	if (len > OSQD_ENGINE_MAX_SQL_LENGTH) {
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_LIMIT,
		            "SQL is %" G_GSIZE_FORMAT " bytes, more than the %d allowed", len,
		            OSQD_ENGINE_MAX_SQL_LENGTH);
		return NULL;
	}
	if (!engine_sync_tables(engine, error))
		return NULL;
	engine_begin(engine);
	rc = sqlite3_prepare_v3(engine->db, sql, (int)len, 0, &stmt, &rest);
	/* on failure too, so a caller can go on with the next statement */
	if (tail != NULL && rest != NULL && rest > sql)
		*tail = rest;
	if (rc != SQLITE_OK) {
		engine_set_error(engine, rc, error);
		return NULL;
	}
	return stmt;
}

gint
osqd_engine_step(OsqdEngine *engine, sqlite3_stmt *stmt, GError **error)
{
	int rc = sqlite3_step(stmt);

	if (rc == SQLITE_ROW || rc == SQLITE_DONE)
		return rc;
	engine_set_error(engine, rc, error);
	return -1;
}

const gchar *
osqd_engine_column_type(sqlite3_stmt *stmt, gint column)
{
	const gchar *declared = sqlite3_column_decltype(stmt, column);

	if (declared != NULL && declared[0] != '\0')
		return declared;
	switch (sqlite3_column_type(stmt, column)) {
	case SQLITE_INTEGER:
		return "BIGINT";
	case SQLITE_FLOAT:
		return "DOUBLE";
	case SQLITE_BLOB:
		return "BLOB";
	default:
		return "TEXT";
	}
}
