/* SPDX-License-Identifier: Apache-2.0
 *
 * The schedule: a tick thread wakes once a second and hands each query whose turn it is to a
 * small pool of worker threads (each with its own SQLite connection), so one slow query does not
 * delay the others. A query's turn comes when the tick counter, which starts at the UNIX time
 * and advances once per second the daemon runs (osquery's rule: suspended time does not count),
 * is a multiple of its splayed interval. The splay is drawn within +/- --schedule_splay_percent
 * of the interval and kept in the store while the interval stays the same, so a restart keeps
 * the same rhythm. A query still running when its next turn comes is not started twice.
 */
#pragma once

#include <glib.h>

#include "osqd-registry.h"
#include "osqd-run.h"
#include "osqd-store.h"

G_BEGIN_DECLS

typedef struct {
	gchar *name;
	gchar *sql;
	gchar *pack; /* NULL for the schedule */
	guint interval;
	gboolean snapshot;
	gboolean removed;
	gboolean denylist;
} OsqdScheduleEntry;

OsqdScheduleEntry *osqd_schedule_entry_new(const gchar *name, const gchar *sql, guint interval);
void osqd_schedule_entry_free(OsqdScheduleEntry *entry);

/* What osquery_schedule shows of one query. */
typedef struct {
	gchar *name;
	gchar *sql;
	guint interval;
	guint splayed;
	guint64 executions;
	gint64 last_executed; /* unix time; 0: never */
	guint64 wall_time_ms; /* totals over the runs */
	guint64 user_time_ms;
	guint64 system_time_ms;
	guint64 output_size;
	guint64 last_wall_time_ms; /* of the last run */
	guint64 last_user_time_ms;
	guint64 last_system_time_ms;
	guint64 last_memory;  /* the daemon's resident bytes after the last run */
	guint64 total_memory; /* the sum of those, for the average */
	gboolean denylisted;
	guint64 failures;
	gchar *last_error;
} OsqdScheduleStats;

void osqd_schedule_stats_free(OsqdScheduleStats *stats);

typedef struct {
	guint splay_percent; /* --schedule_splay_percent */
	guint workers;       /* threads running queries */
	guint64 epoch;       /* --schedule_epoch */
	guint timeout_ms;    /* wall-time budget of one run */
	guint cpu_limit_ms;  /* CPU-time budget of one run (0: none) */
	guint64 max_output;  /* memory budget: bytes of result one run may hold (0: none) */
	guint denylist_s;    /* how long a query over budget is not run (0: never denylist) */
	guint64 max_pending; /* --buffered_log_max */
	OsqdRunFormatFunc format;
	gpointer format_data;
	/* after each committed run, on a worker thread (e.g. to wake the loggers) */
	void (*ran)(const OsqdRunResult *result, gpointer user_data);
	gpointer ran_data;
} OsqdSchedulerConfig;

typedef struct _OsqdScheduler OsqdScheduler;

OsqdScheduler *osqd_scheduler_new(OsqdRegistry *registry, OsqdStore *store,
                                  const OsqdSchedulerConfig *config);
/* Stops the tick thread and waits for running queries. */
void osqd_scheduler_free(OsqdScheduler *scheduler);

/* Replaces the schedule (a config (re)load); takes the entries (OsqdScheduleEntry). Statistics
 * of queries that stay are kept. */
void osqd_scheduler_set_schedule(OsqdScheduler *scheduler, GPtrArray *entries);
void osqd_scheduler_start(OsqdScheduler *scheduler);

/* Runs the query named @name now, on the calling thread (tests, and "run once"). */
gboolean osqd_scheduler_run_now(OsqdScheduler *scheduler, const gchar *name, GError **error);

/* A new array of OsqdScheduleStats, sorted by name. */
GPtrArray *osqd_scheduler_list(OsqdScheduler *scheduler);

/* The splayed interval for @interval with @percent (exposed for tests): uniform in
 * [max(1, interval - interval * percent / 100), interval + interval * percent / 100]. */
guint osqd_scheduler_splay(guint interval, guint percent, GRand *rand);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(OsqdScheduler, osqd_scheduler_free)

G_END_DECLS
