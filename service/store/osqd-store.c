/* SPDX-License-Identifier: Apache-2.0
 *
 * The database (see the header). One connection, guarded by a mutex: scheduled runs commit from
 * worker threads, loggers drain from theirs. WAL with synchronous=NORMAL: a committed transaction
 * survives the process being killed (the case the crash test checks); only a power loss may
 * take the last transactions back, never half of one. busy_timeout covers a second process
 * (osqd refuses to run twice, but tools may read the file).
 */
#include "config.h"

#include "osqd-store.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include "osq-error.h"
#include "osq-store.pb-c.h"

struct _OsqdStore {
	GMutex mutex;
	sqlite3 *db;
};

static const gchar osqd_store_schema[] =
        "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
        "CREATE TABLE IF NOT EXISTS kv(domain TEXT NOT NULL, key TEXT NOT NULL, "
        "  value BLOB NOT NULL, PRIMARY KEY(domain, key)) WITHOUT ROWID;"
        "CREATE TABLE IF NOT EXISTS logs(id INTEGER PRIMARY KEY AUTOINCREMENT, "
        "  value BLOB NOT NULL);"
        /* version 2: event rows (service/events), by subscriber and event id, and by time */
        "CREATE TABLE IF NOT EXISTS events(subscriber TEXT NOT NULL, eid INTEGER NOT NULL, "
        "  time INTEGER NOT NULL, value BLOB NOT NULL, PRIMARY KEY(subscriber, eid)) "
        "  WITHOUT ROWID;"
        "CREATE INDEX IF NOT EXISTS events_time ON events(subscriber, time);";

OsqdStoreLog *
osqd_store_log_new(OsqdStoreLogKind kind, const gchar *name, gint64 unix_time, const gchar *line)
{
	OsqdStoreLog *log = g_new0(OsqdStoreLog, 1);

	log->kind = kind;
	log->name = g_strdup(name != NULL ? name : "");
	log->unix_time = unix_time;
	log->line = g_strdup(line != NULL ? line : "");
	return log;
}

void
osqd_store_log_free(OsqdStoreLog *log)
{
	if (log == NULL)
		return;
	g_free(log->name);
	g_free(log->line);
	g_free(log);
}

static gboolean
store_error(OsqdStore *store, gint rc, const gchar *what, GError **error)
{
	g_set_error(error, OSQ_ERROR, OSQ_ERROR_IO, "database: %s: %s", what,
	            store->db != NULL ? sqlite3_errmsg(store->db) : sqlite3_errstr(rc));
	return FALSE;
}

static gboolean
store_exec(OsqdStore *store, const gchar *sql, GError **error)
{
	gint rc = sqlite3_exec(store->db, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK || store_error(store, rc, sql, error);
}

/* Creates the schema, or checks the version of an existing one. */
static gboolean
store_setup(OsqdStore *store, GError **error)
{
	sqlite3_stmt *stmt = NULL;
	gint version = 0;

	if (!store_exec(store, "PRAGMA journal_mode=WAL", error) ||
	    !store_exec(store, "PRAGMA synchronous=NORMAL", error) ||
	    !store_exec(store, osqd_store_schema, error))
		return FALSE;
	if (sqlite3_prepare_v2(store->db, "SELECT value FROM meta WHERE key = 'schema_version'", -1,
	                       &stmt, NULL) != SQLITE_OK)
		return store_error(store, SQLITE_ERROR, "reading the schema version", error);
	if (sqlite3_step(stmt) == SQLITE_ROW)
		version = sqlite3_column_int(stmt, 0);
	(void)sqlite3_finalize(stmt);
	if (version > OSQD_STORE_SCHEMA_VERSION) {
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_NOT_SUPPORTED,
		            "database schema version %d is newer than this osqd's (%d)", version,
		            OSQD_STORE_SCHEMA_VERSION);
		return FALSE;
	}
	if (version < OSQD_STORE_SCHEMA_VERSION) {
		/* the schema above created what a version 1 database lacked */
		g_autofree gchar *sql = g_strdup_printf(
		        "INSERT OR REPLACE INTO meta(key, value) VALUES('schema_version', '%d')",
		        OSQD_STORE_SCHEMA_VERSION);
		return store_exec(store, sql, error);
	}
	return TRUE;
}

OsqdStore *
osqd_store_open(const gchar *path, GError **error)
{
	g_autoptr(OsqdStore) store = g_new0(OsqdStore, 1);
	int fd;
	gint rc;

	g_mutex_init(&store->mutex);
	/* created 0600: the results of root's queries are root's */
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_IO, "cannot open the database %s: %s", path,
		            g_strerror(errno));
		return NULL;
	}
	(void)close(fd);
	rc = sqlite3_open_v2(path, &store->db,
	                     SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX | SQLITE_OPEN_EXRESCODE,
	                     NULL);
	if (rc != SQLITE_OK) {
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_IO, "cannot open the database %s: %s", path,
		            store->db != NULL ? sqlite3_errmsg(store->db) : sqlite3_errstr(rc));
		return NULL;
	}
	(void)sqlite3_busy_timeout(store->db, 5000);
	(void)sqlite3_db_config(store->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	if (!store_setup(store, error)) {
		g_prefix_error(error, "%s: ", path);
		return NULL;
	}
	return g_steal_pointer(&store);
}

void
osqd_store_close(OsqdStore *store)
{
	if (store == NULL)
		return;
	if (store->db != NULL)
		(void)sqlite3_close_v2(store->db);
	g_mutex_clear(&store->mutex);
	g_free(store);
}

/* ---- keyed state ---- */

static gboolean
store_get_locked(OsqdStore *store, const gchar *domain, const gchar *key, GBytes **value,
                 GError **error)
{
	sqlite3_stmt *stmt = NULL;
	gint rc;

	*value = NULL;
	if (sqlite3_prepare_v2(store->db, "SELECT value FROM kv WHERE domain = ? AND key = ?", -1,
	                       &stmt, NULL) != SQLITE_OK)
		return store_error(store, SQLITE_ERROR, "get", error);
	(void)sqlite3_bind_text(stmt, 1, domain, -1, SQLITE_STATIC);
	(void)sqlite3_bind_text(stmt, 2, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		*value = g_bytes_new(sqlite3_column_blob(stmt, 0),
		                     (gsize)sqlite3_column_bytes(stmt, 0));
	(void)sqlite3_finalize(stmt);
	return rc == SQLITE_ROW || rc == SQLITE_DONE || store_error(store, rc, "get", error);
}

static gboolean
store_put_locked(OsqdStore *store, const gchar *domain, const gchar *key, GBytes *value,
                 GError **error)
{
	sqlite3_stmt *stmt = NULL;
	gint rc;
	const gchar *sql = value != NULL
	                           ? "INSERT OR REPLACE INTO kv(domain, key, value) VALUES(?, ?, ?)"
	                           : "DELETE FROM kv WHERE domain = ? AND key = ?";

	if (sqlite3_prepare_v2(store->db, sql, -1, &stmt, NULL) != SQLITE_OK)
		return store_error(store, SQLITE_ERROR, "put", error);
	(void)sqlite3_bind_text(stmt, 1, domain, -1, SQLITE_STATIC);
	(void)sqlite3_bind_text(stmt, 2, key, -1, SQLITE_STATIC);
	if (value != NULL) {
		gsize len = 0;
		gconstpointer data = g_bytes_get_data(value, &len);
		/* a zero-length blob must not be bound as NULL */
		(void)sqlite3_bind_blob64(stmt, 3, len > 0 ? data : "", len, SQLITE_STATIC);
	}
	rc = sqlite3_step(stmt);
	(void)sqlite3_finalize(stmt);
	return rc == SQLITE_DONE || store_error(store, rc, "put", error);
}

gboolean
osqd_store_get(OsqdStore *store, const gchar *domain, const gchar *key, GBytes **value,
               GError **error)
{
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&store->mutex);

	return store_get_locked(store, domain, key, value, error);
}

gboolean
osqd_store_put(OsqdStore *store, const gchar *domain, const gchar *key, GBytes *value,
               GError **error)
{
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&store->mutex);

	return store_put_locked(store, domain, key, value, error);
}

GPtrArray *
osqd_store_keys(OsqdStore *store, const gchar *domain, GError **error)
{
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&store->mutex);
	g_autoptr(GPtrArray) keys = g_ptr_array_new_with_free_func(g_free);
	sqlite3_stmt *stmt = NULL;
	gint rc;

	if (sqlite3_prepare_v2(store->db, "SELECT key FROM kv WHERE domain = ? ORDER BY key", -1,
	                       &stmt, NULL) != SQLITE_OK) {
		(void)store_error(store, SQLITE_ERROR, "keys", error);
		return NULL;
	}
	(void)sqlite3_bind_text(stmt, 1, domain, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
		g_ptr_array_add(keys, g_strdup((const gchar *)sqlite3_column_text(stmt, 0)));
	(void)sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE) {
		(void)store_error(store, rc, "keys", error);
		return NULL;
	}
	return g_steal_pointer(&keys);
}

/* ---- runs and pending logs ---- */

static GBytes *
store_pack_log(const OsqdStoreLog *log)
{
	Osq__Store__LogRecord record = OSQ__STORE__LOG_RECORD__INIT;
	gsize size;
	guint8 *data;

	record.kind = (Osq__Store__LogRecord__Kind)log->kind;
	record.name = log->name;
	record.unix_time = log->unix_time;
	record.line = log->line;
	size = osq__store__log_record__get_packed_size(&record);
	data = g_malloc(MAX(size, 1));
	(void)osq__store__log_record__pack(&record, data);
	return g_bytes_new_take(data, size);
}

/* Queues @logs with one prepared statement (a run may bring tens of thousands of lines). */
static gboolean
store_queue_logs_locked(OsqdStore *store, GPtrArray *logs, GError **error)
{
	sqlite3_stmt *stmt = NULL;
	gint rc = SQLITE_DONE;

	if (logs == NULL || logs->len == 0)
		return TRUE;
	if (sqlite3_prepare_v2(store->db, "INSERT INTO logs(value) VALUES(?)", -1, &stmt, NULL) !=
	    SQLITE_OK)
		return store_error(store, SQLITE_ERROR, "queue a log line", error);
	for (guint i = 0; i < logs->len && rc == SQLITE_DONE; i++) {
		g_autoptr(GBytes) bytes = store_pack_log(logs->pdata[i]);
		gsize len = 0;
		gconstpointer data = g_bytes_get_data(bytes, &len);
		(void)sqlite3_bind_blob64(stmt, 1, len > 0 ? data : "", len, SQLITE_STATIC);
		rc = sqlite3_step(stmt);
		(void)sqlite3_reset(stmt);
	}
	(void)sqlite3_finalize(stmt);
	return rc == SQLITE_DONE || store_error(store, rc, "queue a log line", error);
}

static guint64
store_count_logs_locked(OsqdStore *store)
{
	sqlite3_stmt *stmt = NULL;
	guint64 count = 0;

	if (sqlite3_prepare_v2(store->db, "SELECT count(*) FROM logs", -1, &stmt, NULL) !=
	    SQLITE_OK)
		return 0;
	if (sqlite3_step(stmt) == SQLITE_ROW)
		count = (guint64)sqlite3_column_int64(stmt, 0);
	(void)sqlite3_finalize(stmt);
	return count;
}

/* Drops the oldest queued lines beyond @max. */
static gboolean
store_trim_logs_locked(OsqdStore *store, guint64 max, guint64 *dropped, GError **error)
{
	guint64 count = store_count_logs_locked(store);
	g_autofree gchar *sql = NULL;

	if (max == 0 || count <= max)
		return TRUE;
	sql = g_strdup_printf("DELETE FROM logs WHERE id IN (SELECT id FROM logs ORDER BY id "
	                      "LIMIT %" G_GUINT64_FORMAT ")",
	                      count - max);
	if (!store_exec(store, sql, error))
		return FALSE;
	if (dropped != NULL)
		*dropped += count - max;
	return TRUE;
}

gboolean
osqd_store_commit_run(OsqdStore *store, const gchar *query, GBytes *state, GPtrArray *logs,
                      guint64 max_pending, guint64 *dropped, GError **error)
{
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&store->mutex);
	gboolean ok = TRUE;

	if (dropped != NULL)
		*dropped = 0;
	if (!store_exec(store, "BEGIN IMMEDIATE", error))
		return FALSE;
	if (state != NULL)
		ok = store_put_locked(store, "queries", query, state, error);
	if (ok)
		ok = store_queue_logs_locked(store, logs, error);
	if (ok)
		ok = store_trim_logs_locked(store, max_pending, dropped, error);
	if (ok)
		ok = store_exec(store, "COMMIT", error);
	if (!ok)
		(void)sqlite3_exec(store->db, "ROLLBACK", NULL, NULL, NULL);
	return ok;
}

GPtrArray *
osqd_store_pending_logs(OsqdStore *store, gint64 after_id, guint limit, GError **error)
{
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&store->mutex);
	g_autoptr(GPtrArray) logs =
	        g_ptr_array_new_with_free_func((GDestroyNotify)osqd_store_log_free);
	sqlite3_stmt *stmt = NULL;
	gint rc;

	if (sqlite3_prepare_v2(store->db,
	                       "SELECT id, value FROM logs WHERE id > ? ORDER BY id LIMIT ?", -1,
	                       &stmt, NULL) != SQLITE_OK) {
		(void)store_error(store, SQLITE_ERROR, "read queued log lines", error);
		return NULL;
	}
	(void)sqlite3_bind_int64(stmt, 1, after_id);
	(void)sqlite3_bind_int64(stmt, 2, limit);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		Osq__Store__LogRecord *record = osq__store__log_record__unpack(
		        NULL, (gsize)sqlite3_column_bytes(stmt, 1), sqlite3_column_blob(stmt, 1));
		OsqdStoreLog *log;
		if (record == NULL)
			continue; /* unreadable: skipped (it is acked with the ones around it) */
		log = osqd_store_log_new((OsqdStoreLogKind)record->kind, record->name,
		                         record->unix_time, record->line);
		log->id = sqlite3_column_int64(stmt, 0);
		osq__store__log_record__free_unpacked(record, NULL);
		g_ptr_array_add(logs, log);
	}
	(void)sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE) {
		(void)store_error(store, rc, "read queued log lines", error);
		return NULL;
	}
	return g_steal_pointer(&logs);
}

gboolean
osqd_store_ack_logs(OsqdStore *store, gint64 up_to_id, GError **error)
{
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&store->mutex);
	sqlite3_stmt *stmt = NULL;
	gint rc;

	if (sqlite3_prepare_v2(store->db, "DELETE FROM logs WHERE id <= ?", -1, &stmt, NULL) !=
	    SQLITE_OK)
		return store_error(store, SQLITE_ERROR, "delete written log lines", error);
	(void)sqlite3_bind_int64(stmt, 1, up_to_id);
	rc = sqlite3_step(stmt);
	(void)sqlite3_finalize(stmt);
	return rc == SQLITE_DONE || store_error(store, rc, "delete written log lines", error);
}

guint64
osqd_store_count_logs(OsqdStore *store)
{
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&store->mutex);

	return store_count_logs_locked(store);
}
