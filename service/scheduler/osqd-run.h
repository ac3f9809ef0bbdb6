/* SPDX-License-Identifier: Apache-2.0
 *
 * One run of a scheduled query: execute it, compare with what the store kept from its last
 * run, and commit the new state together with the log lines of the change, in one transaction.
 * The rules are osquery's (a multiset of whole rows; a first run or a new epoch logs every row
 * as added with counter 0; nothing is logged when nothing changed; snapshot queries log all rows
 * and keep no state), with two corrections: removed rows carry the values they had when last
 * seen (they come from the stored rows), and the counter never goes backwards within an epoch
 * (a changed query text logs its diff with the next counter, where osquery restarts at 0).
 */
#pragma once

#include <glib.h>

#include "osqd-engine.h"
#include "osqd-result.h"
#include "osqd-store.h"

G_BEGIN_DECLS

typedef struct {
	const gchar *name;
	const gchar *sql;
	gboolean snapshot;
	gboolean removed; /* log removed rows (osquery's "removed", default true) */
} OsqdRunQuery;

/* What a run found; the formatter turns it into log lines. */
typedef struct {
	const OsqdRunQuery *query;
	OsqdResultSet *current;
	OsqdResultSet *previous; /* NULL on a fresh run and for snapshots */
	GArray *added;           /* indexes into current->rows */
	GArray *removed;         /* indexes into previous->rows (empty when !query->removed) */
	guint64 epoch;
	guint64 counter;
	gint64 unix_time;
	gboolean fresh;   /* first run, or a new epoch */
	gboolean changed; /* something to log */
	/* costs of the run */
	gint64 wall_us;
	gint64 user_us;   /* this thread's CPU time in user mode */
	gint64 system_us; /* and in the kernel */
	gint64 rss_bytes; /* the daemon's resident size after the run */
	gsize output_size;
} OsqdRunResult;

void osqd_run_result_free(OsqdRunResult *result);

/* Turns a run into log lines (OsqdStoreLog), e.g. osquery's JSON formats. */
typedef GPtrArray *(*OsqdRunFormatFunc)(const OsqdRunResult *result, gpointer user_data);

typedef struct {
	guint64 epoch;
	guint timeout_ms;    /* the query's wall-time budget; 0: none */
	guint cpu_limit_ms;  /* its CPU-time budget; 0: none */
	guint64 max_output;  /* its memory budget: bytes of result held; 0: none */
	guint64 max_pending; /* --buffered_log_max */
	OsqdRunFormatFunc format;
	gpointer format_data;
} OsqdRunParams;

/* Executes @query on @engine and commits its outcome to @store. *@result (may be NULL) tells
 * what happened; on failure nothing is committed. */
gboolean osqd_run_query(OsqdEngine *engine, OsqdStore *store, const OsqdRunQuery *query,
                        const OsqdRunParams *params, OsqdRunResult **result, GError **error);

/* Executes @sql into a result set (exposed for tests and decorators). */
OsqdResultSet *osqd_run_collect(OsqdEngine *engine, const gchar *sql, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(OsqdRunResult, osqd_run_result_free)

G_END_DECLS
