/* SPDX-License-Identifier: Apache-2.0
 *
 * osqd's database (--database_path): one SQLite file in WAL mode, mode 0600, holding what must
 * survive a restart or a crash: each scheduled query's last result and counters, pending log
 * lines, and small keyed state (splay, denylist, executing query, host identifiers). Records are
 * protobuf-c messages (idl/osq-store.proto). A scheduled run commits its new result and its log
 * lines in one transaction, so a crash at any point neither loses nor repeats a result: either
 * both are in or neither is. Loggers read pending lines in id order and delete them only after
 * they were written. The schema has a version; a newer one is refused. Event rows live in the
 * same file (table `events`), written and read by service/events over connections of its own.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* 2: the events table (event rows, written by service/events over its own connections) */
#define OSQD_STORE_SCHEMA_VERSION 2

typedef enum {
	OSQD_STORE_LOG_RESULT = 0,
	OSQD_STORE_LOG_SNAPSHOT = 1,
	OSQD_STORE_LOG_STATUS = 2,
} OsqdStoreLogKind;

typedef struct {
	gint64 id; /* set by the store */
	OsqdStoreLogKind kind;
	gchar *name;
	gint64 unix_time;
	gchar *line;
} OsqdStoreLog;

OsqdStoreLog *osqd_store_log_new(OsqdStoreLogKind kind, const gchar *name, gint64 unix_time,
                                 const gchar *line);
void osqd_store_log_free(OsqdStoreLog *log);

typedef struct _OsqdStore OsqdStore;

OsqdStore *osqd_store_open(const gchar *path, GError **error);
void osqd_store_close(OsqdStore *store);

/* Keyed state: *@value is NULL when there is none. A NULL @value deletes. */
gboolean osqd_store_get(OsqdStore *store, const gchar *domain, const gchar *key, GBytes **value,
                        GError **error);
gboolean osqd_store_put(OsqdStore *store, const gchar *domain, const gchar *key, GBytes *value,
                        GError **error);
/* The keys of @domain, sorted. */
GPtrArray *osqd_store_keys(OsqdStore *store, const gchar *domain, GError **error);

/* One scheduled run in one transaction: @state (a packed QueryState; NULL keeps what is stored)
 * goes to domain "queries" under @query, and @logs (OsqdStoreLog, ids ignored) are queued. Past
 * @max_pending queued lines (0: no cap) the oldest are dropped; *@dropped counts them. */
gboolean osqd_store_commit_run(OsqdStore *store, const gchar *query, GBytes *state, GPtrArray *logs,
                               guint64 max_pending, guint64 *dropped, GError **error);

/* Up to @limit queued lines with ids above @after_id, oldest first (OsqdStoreLog). */
GPtrArray *osqd_store_pending_logs(OsqdStore *store, gint64 after_id, guint limit, GError **error);
/* Deletes queued lines with ids up to @up_to_id (they were written). */
gboolean osqd_store_ack_logs(OsqdStore *store, gint64 up_to_id, GError **error);
guint64 osqd_store_count_logs(OsqdStore *store);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(OsqdStore, osqd_store_close)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(OsqdStoreLog, osqd_store_log_free)

G_END_DECLS
