/* SPDX-License-Identifier: Apache-2.0
 *
 * One engine = one SQLite connection with every registered table attached as an eponymous
 * virtual table, osq's SQL functions, a read-only authorizer, limits, and a per-query deadline
 * and cancel flag. An engine is used by one thread at a time; osqd_engine_interrupt() may be
 * called from any thread or a signal handler.
 */
#pragma once

#include <sqlite3.h>

#include "osqd-registry.h"
#include "osqd-table.h"

G_BEGIN_DECLS

typedef struct _OsqdEngine OsqdEngine;

/* Called after each generator run, with the constraints it was given and the number of rows it
 * produced (before SQLite applied the rest of the WHERE clause). Used by tests and --planner. */
typedef void (*OsqdEngineTraceFunc)(OsqdTableContext *ctx, guint n_rows, gpointer user_data);

/* Asked, while a statement is prepared, whether it may read @column of @table (-1: the table
 * itself, as in count(*) or a column SQLite has no name for, such as rowid). Returns FALSE with
 * @error set (OSQ_ERROR_PERMISSION_DENIED) to refuse; osqd_engine_prepare() then fails with that
 * error. Reads through views are checked against the tables the view reads. */
typedef gboolean (*OsqdEngineAccessFunc)(const OsqdTable *table, gint column, gpointer user_data,
                                         GError **error);

#define OSQD_ENGINE_MAX_SQL_LENGTH (1024 * 1024)

OsqdEngine *osqd_engine_new(OsqdRegistry *registry, GError **error);
void osqd_engine_free(OsqdEngine *engine);

/* The host root prefix handed to generators (default "/"). */
void osqd_engine_set_root(OsqdEngine *engine, const gchar *root);
/* Wall-time limit per statement in milliseconds; 0 means none. */
void osqd_engine_set_timeout(OsqdEngine *engine, guint timeout_ms);
void osqd_engine_set_trace(OsqdEngine *engine, OsqdEngineTraceFunc func, gpointer user_data);
/* Checks every read of a registry table in the statements prepared from now on (NULL: allow all,
 * the default). Set it before handing the engine to a client; statements prepared earlier keep
 * their decisions until SQLite re-prepares them (after a schema change). @destroy, if not NULL,
 * frees @user_data when the engine is freed or the function replaced. */
void osqd_engine_set_access_func(OsqdEngine *engine, OsqdEngineAccessFunc func, gpointer user_data,
                                 GDestroyNotify destroy);

sqlite3 *osqd_engine_get_database(OsqdEngine *engine);
OsqdRegistry *osqd_engine_get_registry(OsqdEngine *engine);

/* Event tables (see osqd_table_context_get_events_since()): the cursor handed to scans of the
 * statements prepared from now on (0: everything), the highest event id the last statement's
 * scans returned, and how many scans of event tables it made. */
void osqd_engine_set_events_since(OsqdEngine *engine, gint64 event_id);
gint64 osqd_engine_get_events_max(OsqdEngine *engine);
/* Whether the engine's queries come from a privileged peer (the default: osqi, the scheduler,
 * root clients). Tables that could be pointed at other files (deb_packages' admindir) refuse
 * that for the others (osqd_table_context_is_privileged()). */
void osqd_engine_set_privileged(OsqdEngine *engine, gboolean privileged);
/* At most @limit events per event-table scan (0: all), the oldest first: a live follow reads
 * the history in slices. */
void osqd_engine_set_events_limit(OsqdEngine *engine, gint64 limit);
guint osqd_engine_get_event_scans(OsqdEngine *engine);

/* A CPU-time budget for each statement prepared from now on (0: none): past it the statement
 * fails with OSQ_ERROR_LIMIT. Measured on the thread that steps it. */
void osqd_engine_set_cpu_limit(OsqdEngine *engine, guint cpu_limit_ms);

/* Prepares the first statement of @sql (NULL with no error when @sql holds only blanks or
 * comments); @tail is set to the rest, also when the statement fails to prepare (NULL when
 * nothing could be parsed). Starts the statement's deadline and clears the cancel
 * flag. */
sqlite3_stmt *osqd_engine_prepare(OsqdEngine *engine, const gchar *sql, const gchar **tail,
                                  GError **error);
/* sqlite3_step() with errors turned into GErrors: returns SQLITE_ROW, SQLITE_DONE, or -1. */
gint osqd_engine_step(OsqdEngine *engine, sqlite3_stmt *stmt, GError **error);
void osqd_engine_interrupt(OsqdEngine *engine);

/* The declared type of a result column ("BIGINT", "TEXT"...), or for an expression the type
 * of the value in the current row; "TEXT" when nothing better is known. */
const gchar *osqd_engine_column_type(sqlite3_stmt *stmt, gint column);

/* The types osquery's getQueryColumns reports for @stmt's result columns, without running it:
 * each column's declared type, else what its EXPLAIN program says an expression yields
 * (literals, concatenation, arithmetic, comparisons, casts), else "UNKNOWN". Returns a
 * NULL-terminated array of static strings, one per column; NULL on error. */
const gchar **osqd_engine_infer_column_types(OsqdEngine *engine, sqlite3_stmt *stmt,
                                             GError **error);

/* Registers osq's SQL functions (split, regex_match, ...) on @db. */
gboolean osqd_functions_register(sqlite3 *db, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(OsqdEngine, osqd_engine_free)

G_END_DECLS
