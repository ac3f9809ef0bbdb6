/* SPDX-License-Identifier: Apache-2.0
 *
 * Engine-side view of the table context and row sink: what the virtual-table module fills in
 * before calling a generator and reads back afterwards. Generators only see osqd-table.h.
 */
#pragma once

#include "osqd-table.h"

G_BEGIN_DECLS

/* Shared by a connection and every generator it runs: set from any thread (Ctrl-C, a client
 * disconnect), read between rows. */
typedef struct {
	gint cancelled;  /* atomic */
	gint64 deadline; /* g_get_monotonic_time() microseconds; 0 = none */
	/* a CPU-time budget, checked on the thread running the statement (0: none) */
	gint64 cpu_limit_us;
	gint64 cpu_start_us; /* that thread's CPU time when the statement began */
	guint cpu_checks;    /* the clock is read on every 16th check only */
	/* event tables: the last event id the running scheduled query has seen (0: none), the
	 * highest id a scan returned, and how many scans of event tables the statement made */
	gboolean unprivileged; /* the peer may not point tables at other files (deb_packages) */
	gint64 events_since;
	gint64 events_limit; /* the most events one scan returns (0: no limit): live follows */
	gint64 events_max;
	guint event_scans;
} OsqdQueryControl;

/* This thread's CPU time (user + system) in microseconds. */
gint64 osqd_query_control_thread_cpu_us(void);

struct _OsqdTableContext {
	const OsqdTable *table;
	const gchar *root;
	GArray *constraints;  /* of OsqdConstraint, values owned */
	const gboolean *used; /* n_columns */
	OsqdQueryControl *control;
};

struct _OsqdRow {
	OsqdRowSink *sink;
	OsqdValue values[];
};

struct _OsqdRowSink {
	const OsqdTable *table;
	const gboolean *used;
	GPtrArray *rows; /* of OsqdRow*, g_free'd with their values */
	guint max_rows;  /* 0 = no cap */
	gboolean over_limit;
};

void osqd_value_clear(OsqdValue *value);
void osqd_value_copy(OsqdValue *dest, const OsqdValue *src);

OsqdRowSink *osqd_row_sink_new(const OsqdTable *table, const gboolean *used);
void osqd_row_sink_free(OsqdRowSink *sink);
OsqdRow *osqd_row_sink_get_row(OsqdRowSink *sink, guint index);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(OsqdRowSink, osqd_row_sink_free)

gboolean osqd_query_control_check(OsqdQueryControl *control, GError **error);

G_END_DECLS
