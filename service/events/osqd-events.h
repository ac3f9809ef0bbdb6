/* SPDX-License-Identifier: Apache-2.0
 *
 * The event framework. Publishers own a kernel event source (inotify, the process connector,
 * uevents) and run on their own threads; for every event they build a row for a subscriber
 * (one subscriber per event table) and hand it over with osqd_event_subscriber_add(). The
 * framework stamps the row with `time` and an event id (one increasing sequence for all
 * subscribers, never reused, kept across restarts) and queues it; a writer thread commits the
 * queue to the daemon's database in batches (one transaction each), expires rows older than
 * --events_expiry and drops the oldest past --events_max per subscriber. Event tables read the
 * committed rows back (tables/events), after a flush, so a scan sees every event added before it
 * started.
 *
 * Nothing is lost without a trace: every event that does not become a row is counted, by
 * publisher or subscriber and reason (a kernel queue overflow, a gap in a kernel sequence, a full
 * queue, expiry, --events_max), logged at warning level and shown by osq_event_loss. A kernel
 * overflow that does not say how many events it dropped is counted as one, and marked inexact.
 */
#pragma once

#include <glib.h>

#include "osqd-table.h"

G_BEGIN_DECLS

typedef struct _OsqdEvents OsqdEvents;
typedef struct _OsqdEventPublisher OsqdEventPublisher;
typedef struct _OsqdEventSubscriber OsqdEventSubscriber;
typedef struct _OsqdEventRow OsqdEventRow;

typedef struct {
	const gchar *database_path; /* the daemon's database (--database_path) */
	gint64 expiry_s;            /* --events_expiry; 0: rows never expire */
	guint64 max_rows;           /* --events_max: rows kept per subscriber; 0: no cap */
	guint64 max_queued;         /* rows waiting for the writer; past it, new ones are dropped */
	guint flush_ms;             /* the writer commits at least this often */
} OsqdEventsConfig;

/* Opens the database (creating the events table) and starts the writer thread. */
OsqdEvents *osqd_events_new(const OsqdEventsConfig *config, GError **error);
/* Stops every publisher (joining their threads), commits what is queued, stops the writer. */
void osqd_events_free(OsqdEvents *events);

/* Makes @events the one event tables read from (NULL: none; event tables are then empty). */
void osqd_events_install(OsqdEvents *events);

/* ---- publishers ---- */

typedef struct {
	const gchar *name; /* "inotify", "proc_connector", "uevent" */
	/* Opens the kernel source. FALSE (with @error) when it cannot work here: the publisher is
	 * then inactive and its subscribers stay empty; the daemon goes on. */
	gboolean (*setup)(OsqdEventPublisher *publisher, GError **error);
	/* Applies the config (inotify: the file paths); called before run and on every reload, from
	 * the daemon's thread. NULL when there is nothing to configure. */
	void (*configure)(OsqdEventPublisher *publisher, gpointer config);
	/* The publisher's thread: reads events until osqd_event_publisher_stopping(). It must wake
	 * at least every 200 ms to check (poll with a timeout). */
	void (*run)(OsqdEventPublisher *publisher);
	/* Closes the source (after run returned). */
	void (*teardown)(OsqdEventPublisher *publisher);
	/* Frees the publisher's own state (osqd_event_publisher_get_data). */
	GDestroyNotify free_data;
} OsqdEventPublisherClass;

/* Adds a publisher (not started). @klass must outlive @events. */
OsqdEventPublisher *osqd_events_add_publisher(OsqdEvents *events,
                                              const OsqdEventPublisherClass *klass, gpointer data);
OsqdEventPublisher *osqd_events_find_publisher(OsqdEvents *events, const gchar *name);
/* Configures (with @config, may be NULL) and starts every publisher that has an enabled
 * subscriber and is not started yet; setup failures are logged and leave it inactive. */
void osqd_events_start(OsqdEvents *events, gpointer config);
/* Calls every started publisher's configure with @config (a reload). */
void osqd_events_configure(OsqdEvents *events, gpointer config);

gpointer osqd_event_publisher_get_data(OsqdEventPublisher *publisher);
const gchar *osqd_event_publisher_get_name(OsqdEventPublisher *publisher);
OsqdEvents *osqd_event_publisher_get_events(OsqdEventPublisher *publisher);
/* TRUE once the framework asks the publisher's thread to end. */
gboolean osqd_event_publisher_stopping(OsqdEventPublisher *publisher);
/* The number of subscriptions (watches, groups) it has, for osquery_events. */
void osqd_event_publisher_set_subscriptions(OsqdEventPublisher *publisher, gint64 n);
/* One more configure pass done (osquery_events' refreshes). */
void osqd_event_publisher_note_refresh(OsqdEventPublisher *publisher);

/* Why events were not kept. */
typedef enum {
	OSQD_EVENT_LOSS_KERNEL_OVERFLOW, /* the kernel queue overflowed (IN_Q_OVERFLOW, ENOBUFS) */
	OSQD_EVENT_LOSS_SEQUENCE_GAP,    /* a kernel sequence number skipped (exact count) */
	OSQD_EVENT_LOSS_QUEUE_FULL,      /* the writer's queue was full */
	OSQD_EVENT_LOSS_EXPIRED,         /* older than --events_expiry */
	OSQD_EVENT_LOSS_EVENTS_MAX,      /* past --events_max */
	OSQD_EVENT_LOSS_WRITE_FAILED,    /* the database refused the batch */
	OSQD_EVENT_LOSS_N
} OsqdEventLossReason;

const gchar *osqd_event_loss_reason_name(OsqdEventLossReason reason);

/* Counts @n events of @publisher that were lost (@exact FALSE: at least @n), logs a warning
 * (at most once a second per publisher and reason, with the running total). Thread-safe. */
void osqd_event_publisher_count_loss(OsqdEventPublisher *publisher, OsqdEventLossReason reason,
                                     guint64 n, gboolean exact);

/* ---- subscribers ---- */

/* Adds the subscriber of event table @table_name (a built-in table with `time` and `eid`
 * columns) fed by @publisher. Enabled by default. */
OsqdEventSubscriber *osqd_events_add_subscriber(OsqdEvents *events, OsqdEventPublisher *publisher,
                                                const gchar *table_name, GError **error);
OsqdEventSubscriber *osqd_events_find_subscriber(OsqdEvents *events, const gchar *table_name);
/* events.enable_subscribers / disable_subscribers: a disabled subscriber takes no rows. */
void osqd_event_subscriber_set_enabled(OsqdEventSubscriber *subscriber, gboolean enabled);
gboolean osqd_event_subscriber_is_enabled(OsqdEventSubscriber *subscriber);
const gchar *osqd_event_subscriber_get_name(OsqdEventSubscriber *subscriber);
/* Rows are kept at least @seconds even when --events_expiry is shorter (osquery's rule: three
 * times the longest interval of the scheduled queries reading the table, so none of them misses
 * an event between two runs). 0: --events_expiry alone. */
void osqd_event_subscriber_set_min_expiry(OsqdEventSubscriber *subscriber, gint64 seconds);

/* A new row of the subscriber's table, all NULL; fill it with the setters below (column ids are
 * the generated OSQD_<TABLE>_COL_<COLUMN> enums). `time` and `eid` are set by add. */
OsqdEventRow *osqd_event_row_new(OsqdEventSubscriber *subscriber);
void osqd_event_row_free(OsqdEventRow *row);
void osqd_event_row_set_int(OsqdEventRow *row, guint column, gint64 value);
void osqd_event_row_set_double(OsqdEventRow *row, guint column, gdouble value);
/* Copies @text (invalid UTF-8 replaced); NULL sets NULL. */
void osqd_event_row_set_text(OsqdEventRow *row, guint column, const gchar *text);
void osqd_event_row_take_text(OsqdEventRow *row, guint column, gchar *text);
/* The event's time (unix seconds) when it is not "now". */
void osqd_event_row_set_time(OsqdEventRow *row, gint64 unix_time);

/* Takes @row: stamps it and queues it for the writer. Counted as lost (queue full) when the
 * queue is full, dropped silently when the subscriber is disabled. Thread-safe. */
void osqd_event_subscriber_add(OsqdEventSubscriber *subscriber, OsqdEventRow *row);

/* ---- reading ---- */

/* Waits until every row added before the call is committed (or @events stops). */
void osqd_events_flush(OsqdEvents *events);

/* The newest committed event id of @subscriber (0: none yet). */
gint64 osqd_event_subscriber_get_last_eid(OsqdEventSubscriber *subscriber);

/* Waits until @subscriber has a committed event newer than @after_eid, or until @deadline
 * (g_get_monotonic_time() microseconds), or until *@cancelled becomes non-zero (checked every
 * 50 ms; may be NULL). TRUE when there is one. */
gboolean osqd_event_subscriber_wait(OsqdEventSubscriber *subscriber, gint64 after_eid,
                                    gint64 deadline, const gint *cancelled);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(OsqdEvents, osqd_events_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(OsqdEventRow, osqd_event_row_free)

G_END_DECLS
