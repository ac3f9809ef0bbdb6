/* SPDX-License-Identifier: Apache-2.0
 *
 * The event tables (file_events, process_events, hardware_events) and the framework's status
 * tables (osquery_events, osq_event_loss). Their rows live in the daemon's event framework
 * (service/events), which the engine does not know: osqd installs a provider at start. Without
 * one (osqi on its own, or --disable_events) the tables are empty, as osqueryi's are.
 */
#pragma once

#include <glib.h>

#include "osqd-table.h"

G_BEGIN_DECLS

typedef struct {
	gchar *name;
	gchar *publisher;
	gchar *type; /* "publisher" or "subscriber" */
	gint64 subscriptions;
	gint64 events;
	gint64 refreshes;
	gint64 active;
} OsqdEventStatus;

typedef struct {
	gchar *name;
	gchar *type;
	gchar *reason;
	gint64 events;
	gboolean exact;
	gint64 occurrences;
	gint64 first_time;
	gint64 last_time;
} OsqdEventLoss;

void osqd_event_status_free(OsqdEventStatus *status);
void osqd_event_loss_free(OsqdEventLoss *loss);

typedef struct {
	/* the rows of event table ctx's table, from the store (after a flush) */
	gboolean (*generate)(gpointer user_data, OsqdTableContext *ctx, OsqdRowSink *sink,
	                     GError **error);
	/* new arrays of OsqdEventStatus / OsqdEventLoss (free funcs set) */
	GPtrArray *(*status)(gpointer user_data);
	GPtrArray *(*losses)(gpointer user_data);
	/* every row added so far committed; then the newest committed event id (0: none) */
	gint64 (*sync)(gpointer user_data);
	/* waits until an event newer than @after_eid is committed (TRUE), @deadline
	 * (g_get_monotonic_time()) passes, *@cancelled is set or the framework closes */
	gboolean (*wait)(gpointer user_data, gint64 after_eid, gint64 deadline,
	                 const gint *cancelled);
	gpointer user_data;
} OsqdEventsProvider;

/* Installs (or, with NULL, removes) the provider; the struct is copied. Removing it waits until
 * no call into the old one is running (the framework must first end its waits). */
void osqd_events_set_provider(const OsqdEventsProvider *provider);

/* For live follows (the RPC layer): the provider's sync and wait, or -1 / FALSE without one. */
gint64 osqd_events_sync(void);
gboolean osqd_events_wait(gint64 after_eid, gint64 deadline, const gint *cancelled);

G_END_DECLS
