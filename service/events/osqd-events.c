/* SPDX-License-Identifier: Apache-2.0
 *
 * The event framework (see the header). One lock guards the queue, the id sequence and the
 * counters; publishers hold it only to append. The writer thread owns a write connection to the
 * database: it takes the whole queue at once, commits it in one transaction (rows and the next
 * event id), then expires and trims, at most once a second. Scans read over a small pool of
 * read-only connections (WAL lets them run beside the writer). Event ids are one sequence for
 * all subscribers, so a scheduled query's cursor means the same thing for every event table it
 * reads; the next id is committed with each batch, so ids are never reused, even after every row
 * expired.
 */
#include "config.h"

#include "osqd-events.h"

#include <sqlite3.h>
#include <string.h>

#include "events/events.h"
#include "osq-error.h"
#include "osq-store.pb-c.h"
#include "osqd-tables-generated.h"

#define EVENTS_MAINTENANCE_US   (G_USEC_PER_SEC)
#define EVENTS_WARN_INTERVAL_US (G_USEC_PER_SEC)
#define EVENTS_READERS_MAX      8
#define EVENTS_SCAN_CHECK       1024

typedef struct {
	guint64 events;
	gboolean inexact;
	guint64 occurrences;
	gint64 first_time;
	gint64 last_time;
	gint64 last_warning_us; /* monotonic */
	guint64 warned_events;  /* events already in a warning */
} EventsLoss;

struct _OsqdEventPublisher {
	OsqdEvents *events;
	const OsqdEventPublisherClass *klass;
	gpointer data;
	GThread *thread;
	gint stopping; /* atomic */
	gint active;   /* 0 not started, 1 running, -1 its source failed */
	gint64 subscriptions;
	gint64 refreshes;
	EventsLoss losses[OSQD_EVENT_LOSS_N];
};

struct _OsqdEventSubscriber {
	OsqdEvents *events;
	OsqdEventPublisher *publisher;
	gchar *name;
	const OsqdTable *table;
	guint time_column;
	guint eid_column;
	gint enabled; /* atomic */
	gint64 added;
	gint64 last_eid;     /* committed */
	gint64 n_rows;       /* stored; -1: not counted yet (the writer counts it) */
	gint64 min_expiry_s; /* kept at least this long (under the lock) */
	EventsLoss losses[OSQD_EVENT_LOSS_N];
};

struct _OsqdEventRow {
	OsqdEventSubscriber *subscriber;
	gint64 eid;
	gint64 time;
	guint n_values;
	OsqdValue values[];
};

struct _OsqdEvents {
	OsqdEventsConfig config;
	gchar *database_path;
	GMutex lock;
	GCond wake;      /* the writer: rows queued, a flush asked for, stop */
	GCond committed; /* flushes and followers: a batch was committed */
	GPtrArray *publishers;
	GPtrArray *subscribers;
	GPtrArray *queue; /* OsqdEventRow, in eid order */
	gint64 next_eid;
	gint64 committed_eid; /* every row up to it was written (or counted as lost) */
	gboolean flush_wanted;
	gboolean closing; /* waits end: the framework is going */
	gboolean stop;
	GThread *writer;
	sqlite3 *db; /* the writer's */
	GAsyncQueue *readers;
	gint n_readers;
};

static const gchar *const events_loss_names[OSQD_EVENT_LOSS_N] = {
	[OSQD_EVENT_LOSS_KERNEL_OVERFLOW] = "kernel_overflow",
	[OSQD_EVENT_LOSS_SEQUENCE_GAP] = "sequence_gap",
	[OSQD_EVENT_LOSS_QUEUE_FULL] = "queue_full",
	[OSQD_EVENT_LOSS_EXPIRED] = "expired",
	[OSQD_EVENT_LOSS_EVENTS_MAX] = "events_max",
	[OSQD_EVENT_LOSS_WRITE_FAILED] = "write_failed",
};

static OsqdEvents *osqd_events_installed;
static GMutex osqd_events_installed_lock;

const gchar *
osqd_event_loss_reason_name(OsqdEventLossReason reason)
{
	return reason < OSQD_EVENT_LOSS_N ? events_loss_names[reason] : "unknown";
}

/* ---- loss accounting (called with events->lock held) ---- */

static void
events_loss_count(EventsLoss *loss, const gchar *who, const gchar *name, OsqdEventLossReason reason,
                  guint64 n, gboolean exact)
{
	gint64 now_us = g_get_monotonic_time();
	gint64 now = g_get_real_time() / G_USEC_PER_SEC;

	if (n == 0)
		return;
	loss->events += n;
	loss->inexact |= !exact;
	loss->occurrences++;
	if (loss->first_time == 0)
		loss->first_time = now;
	loss->last_time = now;
	/* a warning at most once a second per source and reason, with the running total */
	if (loss->last_warning_us == 0 ||
	    now_us - loss->last_warning_us >= EVENTS_WARN_INTERVAL_US) {
		if (reason == OSQD_EVENT_LOSS_EXPIRED) {
			g_warning("events: %s %s: %" G_GUINT64_FORMAT
			          " rows expired (%" G_GUINT64_FORMAT " since osqd started)",
			          who, name, loss->events - loss->warned_events, loss->events);
		} else {
			g_warning("events: %s %s lost %s%" G_GUINT64_FORMAT
			          " events (%s; %s%" G_GUINT64_FORMAT " since osqd started)",
			          who, name, exact ? "" : "at least ",
			          loss->events - loss->warned_events, events_loss_names[reason],
			          loss->inexact ? "at least " : "", loss->events);
		}
		loss->last_warning_us = now_us;
		loss->warned_events = loss->events;
	}
}

void
osqd_event_publisher_count_loss(OsqdEventPublisher *publisher, OsqdEventLossReason reason,
                                guint64 n, gboolean exact)
{
	g_return_if_fail(reason < OSQD_EVENT_LOSS_N);
	g_mutex_lock(&publisher->events->lock);
	events_loss_count(&publisher->losses[reason], "publisher", publisher->klass->name, reason,
	                  n, exact);
	g_mutex_unlock(&publisher->events->lock);
}

static void
events_subscriber_loss(OsqdEventSubscriber *subscriber, OsqdEventLossReason reason, guint64 n)
{
	events_loss_count(&subscriber->losses[reason], "subscriber", subscriber->name, reason, n,
	                  TRUE);
}

/* ---- rows ---- */

static void
events_value_clear(OsqdValue *value)
{
	if (value->kind == OSQD_VALUE_TEXT || value->kind == OSQD_VALUE_BLOB)
		g_free(value->bytes.data);
	value->kind = OSQD_VALUE_NULL;
}

OsqdEventRow *
osqd_event_row_new(OsqdEventSubscriber *subscriber)
{
	guint n = subscriber->table->n_columns;
	OsqdEventRow *row = g_malloc0(sizeof(OsqdEventRow) + n * sizeof(OsqdValue));

	row->subscriber = subscriber;
	row->n_values = n;
	return row;
}

void
osqd_event_row_free(OsqdEventRow *row)
{
	if (row == NULL)
		return;
	for (guint i = 0; i < row->n_values; i++)
		events_value_clear(&row->values[i]);
	g_free(row);
}

void
osqd_event_row_set_int(OsqdEventRow *row, guint column, gint64 value)
{
	g_return_if_fail(column < row->n_values);
	events_value_clear(&row->values[column]);
	row->values[column].kind = OSQD_VALUE_INTEGER;
	row->values[column].integer = value;
}

void
osqd_event_row_set_double(OsqdEventRow *row, guint column, gdouble value)
{
	g_return_if_fail(column < row->n_values);
	events_value_clear(&row->values[column]);
	row->values[column].kind = OSQD_VALUE_DOUBLE;
	row->values[column].real = value;
}

void
osqd_event_row_take_text(OsqdEventRow *row, guint column, gchar *text)
{
	if (column >= row->n_values) {
		g_free(text);
		g_return_if_reached();
	}
	events_value_clear(&row->values[column]);
	if (text == NULL)
		return;
	if (!g_utf8_validate(text, -1, NULL)) {
		gchar *valid = osqd_utf8_make_valid(text, -1);

		g_free(text);
		text = valid;
	}
	row->values[column].kind = OSQD_VALUE_TEXT;
	row->values[column].bytes.data = text;
	row->values[column].bytes.len = strlen(text);
}

void
osqd_event_row_set_text(OsqdEventRow *row, guint column, const gchar *text)
{
	osqd_event_row_take_text(row, column, g_strdup(text));
}

void
osqd_event_row_set_time(OsqdEventRow *row, gint64 unix_time)
{
	row->time = unix_time;
}

/* The row as a packed osq.store.Row (time and eid are stored beside it, not in it). */
static guint8 *
events_row_pack(const OsqdEventRow *row, gsize *len)
{
	g_autofree Osq__Store__Value *values = g_new0(Osq__Store__Value, row->n_values);
	g_autofree Osq__Store__Value **pointers = g_new0(Osq__Store__Value *, row->n_values);
	Osq__Store__Row message = OSQ__STORE__ROW__INIT;
	guint8 *data;

	for (guint i = 0; i < row->n_values; i++) {
		const OsqdValue *v = &row->values[i];
		Osq__Store__Value *out = &values[i];

		osq__store__value__init(out);
		pointers[i] = out;
		switch (v->kind) {
		case OSQD_VALUE_INTEGER:
			out->kind_case = OSQ__STORE__VALUE__KIND_INTEGER;
			out->integer = v->integer;
			break;
		case OSQD_VALUE_DOUBLE:
			out->kind_case = OSQ__STORE__VALUE__KIND_REAL;
			out->real = v->real;
			break;
		case OSQD_VALUE_TEXT:
		case OSQD_VALUE_BLOB:
			out->kind_case = OSQ__STORE__VALUE__KIND_TEXT;
			out->text = v->bytes.data;
			break;
		default:
			/* NULL: an empty Value (two bytes), not the null field (four) */
			break;
		}
	}
	message.n_values = row->n_values;
	message.values = pointers;
	*len = osq__store__row__get_packed_size(&message);
	data = g_malloc(MAX(*len, 1));
	(void)osq__store__row__pack(&message, data);
	return data;
}

/* ---- the writer ---- */

static gboolean
events_db_error(sqlite3 *db, const gchar *what, GError **error)
{
	g_set_error(error, OSQ_ERROR, OSQ_ERROR_IO, "events database: %s: %s", what,
	            sqlite3_errmsg(db));
	return FALSE;
}

static sqlite3 *
events_db_open(const gchar *path, gboolean readonly, GError **error)
{
	sqlite3 *db = NULL;
	gint flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE |
	             (readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE);

	if (sqlite3_open_v2(path, &db, flags, NULL) != SQLITE_OK) {
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_IO,
		            "cannot open the events database %s: %s", path,
		            db != NULL ? sqlite3_errmsg(db) : "out of memory");
		(void)sqlite3_close_v2(db);
		return NULL;
	}
	(void)sqlite3_busy_timeout(db, 5000);
	(void)sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	return db;
}

static void
events_db_close(gpointer db)
{
	(void)sqlite3_close_v2(db);
}

static gint64
events_db_int(sqlite3 *db, const gchar *sql, const gchar *text)
{
	sqlite3_stmt *stmt = NULL;
	gint64 value = 0;

	if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) != SQLITE_OK)
		return 0;
	if (text != NULL)
		(void)sqlite3_bind_text(stmt, 1, text, -1, SQLITE_STATIC);
	if (sqlite3_step(stmt) == SQLITE_ROW)
		value = sqlite3_column_int64(stmt, 0);
	(void)sqlite3_finalize(stmt);
	return value;
}

/* Writes @batch in one transaction; FALSE when the database refused it. */
static gboolean
events_write_batch(OsqdEvents *events, GPtrArray *batch, gint64 next_eid, GError **error)
{
	sqlite3_stmt *insert = NULL;
	sqlite3_stmt *meta = NULL;
	gboolean ok = TRUE;

	if (sqlite3_exec(events->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return events_db_error(events->db, "BEGIN", error);
	if (sqlite3_prepare_v2(events->db,
	                       "INSERT OR REPLACE INTO events(subscriber, eid, time, value) "
	                       "VALUES(?, ?, ?, ?)",
	                       -1, &insert, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(
	            events->db,
	            "INSERT OR REPLACE INTO meta(key, value) VALUES('events_next_eid', ?)", -1,
	            &meta, NULL) != SQLITE_OK)
		ok = events_db_error(events->db, "prepare", error);
	for (guint i = 0; ok && i < batch->len; i++) {
		const OsqdEventRow *row = g_ptr_array_index(batch, i);
		gsize len = 0;
		guint8 *data = events_row_pack(row, &len);

		(void)sqlite3_bind_text(insert, 1, row->subscriber->name, -1, SQLITE_STATIC);
		(void)sqlite3_bind_int64(insert, 2, row->eid);
		(void)sqlite3_bind_int64(insert, 3, row->time);
		(void)sqlite3_bind_blob(insert, 4, data, (int)len, g_free);
		if (sqlite3_step(insert) != SQLITE_DONE)
			ok = events_db_error(events->db, "insert", error);
		(void)sqlite3_reset(insert);
	}
	if (ok) {
		(void)sqlite3_bind_int64(meta, 1, next_eid);
		if (sqlite3_step(meta) != SQLITE_DONE)
			ok = events_db_error(events->db, "next id", error);
	}
	(void)sqlite3_finalize(insert);
	(void)sqlite3_finalize(meta);
	if (ok && sqlite3_exec(events->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		ok = events_db_error(events->db, "COMMIT", error);
	if (!ok)
		(void)sqlite3_exec(events->db, "ROLLBACK", NULL, NULL, NULL);
	return ok;
}

/* Deletes @subscriber's rows selected by @sql (binding the subscriber and @arg); the count. */
static gint64
events_delete(OsqdEvents *events, OsqdEventSubscriber *subscriber, const gchar *sql, gint64 arg)
{
	sqlite3_stmt *stmt = NULL;
	gint64 changes = 0;

	if (sqlite3_prepare_v2(events->db, sql, -1, &stmt, NULL) != SQLITE_OK) {
		g_warning("events: %s: %s", subscriber->name, sqlite3_errmsg(events->db));
		return 0;
	}
	(void)sqlite3_bind_text(stmt, 1, subscriber->name, -1, SQLITE_STATIC);
	(void)sqlite3_bind_int64(stmt, 2, arg);
	if (sqlite3_step(stmt) == SQLITE_DONE)
		changes = sqlite3_changes64(events->db);
	else
		g_warning("events: trimming %s: %s", subscriber->name, sqlite3_errmsg(events->db));
	(void)sqlite3_finalize(stmt);
	return changes;
}

/* Expiry and --events_max, per subscriber; counted as losses. Writer thread. */
static void
events_maintain(OsqdEvents *events)
{
	g_autoptr(GPtrArray) subscribers = g_ptr_array_new();
	gint64 now = g_get_real_time() / G_USEC_PER_SEC;

	/* subscribers live as long as the framework: the list is copied, not its items */
	g_mutex_lock(&events->lock);
	for (guint i = 0; i < events->subscribers->len; i++)
		g_ptr_array_add(subscribers, events->subscribers->pdata[i]);
	g_mutex_unlock(&events->lock);
	for (guint i = 0; i < subscribers->len; i++) {
		OsqdEventSubscriber *subscriber = g_ptr_array_index(subscribers, i);
		gint64 expired = 0;
		gint64 trimmed = 0;
		gint64 n_rows;
		gint64 expiry;

		if (subscriber->n_rows < 0)
			subscriber->n_rows = events_db_int(
			        events->db, "SELECT COUNT(*) FROM events WHERE subscriber = ?",
			        subscriber->name);

		g_mutex_lock(&events->lock);
		expiry = MAX(events->config.expiry_s, subscriber->min_expiry_s);
		g_mutex_unlock(&events->lock);
		if (events->config.expiry_s > 0)
			expired = events_delete(
			        events, subscriber,
			        "DELETE FROM events WHERE subscriber = ?1 AND time < ?2",
			        now - expiry);
		n_rows = subscriber->n_rows - expired;
		if (events->config.max_rows > 0 && n_rows > (gint64)events->config.max_rows)
			trimmed = events_delete(
			        events, subscriber,
			        "DELETE FROM events WHERE subscriber = ?1 AND eid <= (SELECT eid "
			        "FROM "
			        "events WHERE subscriber = ?1 ORDER BY eid LIMIT 1 OFFSET ?2)",
			        n_rows - (gint64)events->config.max_rows - 1);
		g_mutex_lock(&events->lock);
		subscriber->n_rows = MAX(0, n_rows - trimmed);
		events_subscriber_loss(subscriber, OSQD_EVENT_LOSS_EXPIRED, (guint64)expired);
		events_subscriber_loss(subscriber, OSQD_EVENT_LOSS_EVENTS_MAX, (guint64)trimmed);
		g_mutex_unlock(&events->lock);
	}
}

static gpointer
events_writer_thread(gpointer user_data)
{
	OsqdEvents *events = user_data;
	gint64 last_maintenance = 0;

	g_mutex_lock(&events->lock);
	for (;;) {
		g_autoptr(GPtrArray) batch = NULL;
		g_autoptr(GError) error = NULL;
		gint64 next_eid;
		gint64 now = g_get_monotonic_time();
		gint64 wait_until = now + (gint64)events->config.flush_ms * 1000;

		/* rows gather for flush_ms unless a flush is asked for; maintenance runs on time */
		while (!events->stop && !events->flush_wanted &&
		       (events->queue->len == 0 || g_get_monotonic_time() < wait_until) &&
		       g_get_monotonic_time() - last_maintenance < EVENTS_MAINTENANCE_US) {
			gint64 until = events->queue->len == 0
			                       ? last_maintenance + EVENTS_MAINTENANCE_US
			                       : wait_until;

			(void)g_cond_wait_until(&events->wake, &events->lock, until);
		}
		events->flush_wanted = FALSE;
		batch = g_steal_pointer(&events->queue);
		events->queue = g_ptr_array_new_with_free_func((GDestroyNotify)osqd_event_row_free);
		next_eid = events->next_eid;
		if (batch->len == 0 && events->stop) {
			events->committed_eid = next_eid - 1;
			g_cond_broadcast(&events->committed);
			break;
		}
		g_mutex_unlock(&events->lock);

		if (batch->len > 0 && !events_write_batch(events, batch, next_eid, &error)) {
			g_mutex_lock(&events->lock);
			for (guint i = 0; i < batch->len; i++) {
				OsqdEventRow *row = g_ptr_array_index(batch, i);

				events_subscriber_loss(row->subscriber,
				                       OSQD_EVENT_LOSS_WRITE_FAILED, 1);
			}
			g_mutex_unlock(&events->lock);
			g_warning("events: %s", error->message);
		}
		g_mutex_lock(&events->lock);
		for (guint i = 0; i < batch->len; i++) {
			OsqdEventRow *row = g_ptr_array_index(batch, i);

			row->subscriber->last_eid = row->eid;
			if (row->subscriber->n_rows >= 0)
				row->subscriber->n_rows++;
		}
		if (batch->len > 0) {
			OsqdEventRow *last = g_ptr_array_index(batch, batch->len - 1);

			events->committed_eid = last->eid;
		}
		g_cond_broadcast(&events->committed);
		g_mutex_unlock(&events->lock);

		if (g_get_monotonic_time() - last_maintenance >= EVENTS_MAINTENANCE_US) {
			events_maintain(events);
			last_maintenance = g_get_monotonic_time();
		}
		g_mutex_lock(&events->lock);
	}
	g_mutex_unlock(&events->lock);
	return NULL;
}

/* ---- the framework ---- */

static void
events_publisher_free(OsqdEventPublisher *publisher)
{
	if (publisher->klass->free_data != NULL && publisher->data != NULL)
		publisher->klass->free_data(publisher->data);
	g_free(publisher);
}

static void
events_subscriber_free(OsqdEventSubscriber *subscriber)
{
	g_free(subscriber->name);
	g_free(subscriber);
}

OsqdEvents *
osqd_events_new(const OsqdEventsConfig *config, GError **error)
{
	g_autoptr(OsqdEvents) events = g_new0(OsqdEvents, 1);

	g_return_val_if_fail(config->database_path != NULL, NULL);
	events->config = *config;
	events->database_path = g_strdup(config->database_path);
	events->config.database_path = events->database_path;
	if (events->config.flush_ms == 0)
		events->config.flush_ms = 20;
	if (events->config.max_queued == 0)
		events->config.max_queued = 1000000;
	g_mutex_init(&events->lock);
	g_cond_init(&events->wake);
	g_cond_init(&events->committed);
	events->publishers = g_ptr_array_new_with_free_func((GDestroyNotify)events_publisher_free);
	events->subscribers =
	        g_ptr_array_new_with_free_func((GDestroyNotify)events_subscriber_free);
	events->queue = g_ptr_array_new_with_free_func((GDestroyNotify)osqd_event_row_free);
	events->readers = g_async_queue_new_full(events_db_close);
	events->db = events_db_open(events->database_path, FALSE, error);
	if (events->db == NULL)
		return NULL;
	if (events_db_int(events->db, "SELECT COUNT(*) FROM sqlite_schema WHERE name = 'events'",
	                  NULL) != 1) {
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_IO,
		            "the database %s has no events table (open it with the store first)",
		            events->database_path);
		return NULL;
	}
	/* ids go on from the committed sequence, or past the newest row if that is higher */
	events->next_eid =
	        MAX(events_db_int(
	                    events->db,
	                    "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'events_next_eid'",
	                    NULL),
	            events_db_int(events->db, "SELECT MAX(eid) FROM events", NULL) + 1);
	events->next_eid = MAX(events->next_eid, 1);
	events->committed_eid = events->next_eid - 1;
	events->writer = g_thread_new("osqd-events", events_writer_thread, events);
	return g_steal_pointer(&events);
}

static void
events_stop_publisher(OsqdEventPublisher *publisher)
{
	if (publisher->thread == NULL)
		return;
	g_atomic_int_set(&publisher->stopping, 1);
	g_thread_join(publisher->thread);
	publisher->thread = NULL;
	if (publisher->klass->teardown != NULL)
		publisher->klass->teardown(publisher);
	publisher->active = 0;
}

void
osqd_events_free(OsqdEvents *events)
{
	if (events == NULL)
		return;
	/* followers waiting for events give up first, then calls into the tables end */
	g_mutex_lock(&events->lock);
	events->closing = TRUE;
	g_cond_broadcast(&events->committed);
	g_mutex_unlock(&events->lock);
	g_mutex_lock(&osqd_events_installed_lock);
	if (osqd_events_installed == events) {
		osqd_events_installed = NULL;
		osqd_events_set_provider(NULL);
	}
	g_mutex_unlock(&osqd_events_installed_lock);
	for (guint i = 0; events->publishers != NULL && i < events->publishers->len; i++)
		events_stop_publisher(g_ptr_array_index(events->publishers, i));
	if (events->writer != NULL) {
		g_mutex_lock(&events->lock);
		events->stop = TRUE;
		g_cond_signal(&events->wake);
		g_mutex_unlock(&events->lock);
		g_thread_join(events->writer);
	}
	g_clear_pointer(&events->publishers, g_ptr_array_unref);
	g_clear_pointer(&events->subscribers, g_ptr_array_unref);
	g_clear_pointer(&events->queue, g_ptr_array_unref);
	g_clear_pointer(&events->readers, g_async_queue_unref);
	if (events->db != NULL)
		(void)sqlite3_close_v2(events->db);
	g_mutex_clear(&events->lock);
	g_cond_clear(&events->wake);
	g_cond_clear(&events->committed);
	g_free(events->database_path);
	g_free(events);
}

/* ---- publishers ---- */

OsqdEventPublisher *
osqd_events_add_publisher(OsqdEvents *events, const OsqdEventPublisherClass *klass, gpointer data)
{
	OsqdEventPublisher *publisher = g_new0(OsqdEventPublisher, 1);

	publisher->events = events;
	publisher->klass = klass;
	publisher->data = data;
	g_mutex_lock(&events->lock);
	g_ptr_array_add(events->publishers, publisher);
	g_mutex_unlock(&events->lock);
	return publisher;
}

OsqdEventPublisher *
osqd_events_find_publisher(OsqdEvents *events, const gchar *name)
{
	for (guint i = 0; i < events->publishers->len; i++) {
		OsqdEventPublisher *publisher = g_ptr_array_index(events->publishers, i);

		if (g_strcmp0(publisher->klass->name, name) == 0)
			return publisher;
	}
	return NULL;
}

static gpointer
events_publisher_thread(gpointer user_data)
{
	OsqdEventPublisher *publisher = user_data;

	publisher->klass->run(publisher);
	return NULL;
}

static gboolean
events_publisher_wanted(OsqdEvents *events, OsqdEventPublisher *publisher)
{
	for (guint i = 0; i < events->subscribers->len; i++) {
		OsqdEventSubscriber *subscriber = g_ptr_array_index(events->subscribers, i);

		if (subscriber->publisher == publisher &&
		    osqd_event_subscriber_is_enabled(subscriber))
			return TRUE;
	}
	return FALSE;
}

void
osqd_events_start(OsqdEvents *events, gpointer config)
{
	for (guint i = 0; i < events->publishers->len; i++) {
		OsqdEventPublisher *publisher = g_ptr_array_index(events->publishers, i);
		g_autoptr(GError) error = NULL;
		g_autofree gchar *thread_name = NULL;

		if (publisher->thread != NULL || !events_publisher_wanted(events, publisher))
			continue;
		if (publisher->klass->setup != NULL &&
		    !publisher->klass->setup(publisher, &error)) {
			g_warning("events: publisher %s is not running: %s", publisher->klass->name,
			          error->message);
			publisher->active = -1;
			continue;
		}
		if (publisher->klass->configure != NULL) {
			publisher->klass->configure(publisher, config);
			osqd_event_publisher_note_refresh(publisher);
		}
		g_atomic_int_set(&publisher->stopping, 0);
		thread_name = g_strdup_printf("osqd-%s", publisher->klass->name);
		/* Linux keeps 15 bytes of a thread's name: "osqd-proc", not a nameless "osqd" */
		if (strlen(thread_name) > 15) {
			gchar *cut = strchr(thread_name + 5, '_');

			thread_name[cut != NULL && cut - thread_name <= 15 ? cut - thread_name
			                                                   : 15] = '\0';
		}
		publisher->thread = g_thread_new(thread_name, events_publisher_thread, publisher);
		publisher->active = 1;
	}
}

void
osqd_events_configure(OsqdEvents *events, gpointer config)
{
	for (guint i = 0; i < events->publishers->len; i++) {
		OsqdEventPublisher *publisher = g_ptr_array_index(events->publishers, i);

		if (publisher->thread == NULL || publisher->klass->configure == NULL)
			continue;
		publisher->klass->configure(publisher, config);
		osqd_event_publisher_note_refresh(publisher);
	}
}

gpointer
osqd_event_publisher_get_data(OsqdEventPublisher *publisher)
{
	return publisher->data;
}

const gchar *
osqd_event_publisher_get_name(OsqdEventPublisher *publisher)
{
	return publisher->klass->name;
}

OsqdEvents *
osqd_event_publisher_get_events(OsqdEventPublisher *publisher)
{
	return publisher->events;
}

gboolean
osqd_event_publisher_stopping(OsqdEventPublisher *publisher)
{
	return g_atomic_int_get(&publisher->stopping) != 0;
}

void
osqd_event_publisher_set_subscriptions(OsqdEventPublisher *publisher, gint64 n)
{
	g_mutex_lock(&publisher->events->lock);
	publisher->subscriptions = n;
	g_mutex_unlock(&publisher->events->lock);
}

void
osqd_event_publisher_note_refresh(OsqdEventPublisher *publisher)
{
	g_mutex_lock(&publisher->events->lock);
	publisher->refreshes++;
	g_mutex_unlock(&publisher->events->lock);
}

/* ---- subscribers ---- */

static gboolean
events_table_column(const OsqdTable *table, const gchar *name, guint *column)
{
	for (guint i = 0; i < table->n_columns; i++) {
		if (g_strcmp0(table->columns[i].name, name) == 0) {
			*column = i;
			return TRUE;
		}
	}
	return FALSE;
}

OsqdEventSubscriber *
osqd_events_add_subscriber(OsqdEvents *events, OsqdEventPublisher *publisher,
                           const gchar *table_name, GError **error)
{
	const OsqdTable *table = NULL;
	OsqdEventSubscriber *subscriber;
	guint time_column = 0;
	guint eid_column = 0;

	for (guint i = 0; i < osqd_tables_builtin_count; i++) {
		if (g_strcmp0(osqd_tables_builtin[i].name, table_name) == 0)
			table = &osqd_tables_builtin[i];
	}
	if (table == NULL || (table->flags & OSQD_TABLE_FLAG_EVENT) == 0 ||
	    !events_table_column(table, "time", &time_column) ||
	    !events_table_column(table, "eid", &eid_column)) {
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_INVALID_ARGUMENT,
		            "%s is not an event table with time and eid columns", table_name);
		return NULL;
	}
	if (osqd_events_find_subscriber(events, table_name) != NULL) {
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_INVALID_ARGUMENT,
		            "%s has a subscriber already", table_name);
		return NULL;
	}
	subscriber = g_new0(OsqdEventSubscriber, 1);
	subscriber->events = events;
	subscriber->publisher = publisher;
	subscriber->name = g_strdup(table_name);
	subscriber->table = table;
	subscriber->time_column = time_column;
	subscriber->eid_column = eid_column;
	subscriber->enabled = 1;
	subscriber->n_rows = -1;
	g_mutex_lock(&events->lock);
	subscriber->last_eid = events->committed_eid;
	g_ptr_array_add(events->subscribers, subscriber);
	g_mutex_unlock(&events->lock);
	return subscriber;
}

OsqdEventSubscriber *
osqd_events_find_subscriber(OsqdEvents *events, const gchar *table_name)
{
	OsqdEventSubscriber *found = NULL;

	g_mutex_lock(&events->lock);
	for (guint i = 0; i < events->subscribers->len && found == NULL; i++) {
		OsqdEventSubscriber *subscriber = g_ptr_array_index(events->subscribers, i);

		if (g_strcmp0(subscriber->name, table_name) == 0)
			found = subscriber;
	}
	g_mutex_unlock(&events->lock);
	return found;
}

void
osqd_event_subscriber_set_enabled(OsqdEventSubscriber *subscriber, gboolean enabled)
{
	g_atomic_int_set(&subscriber->enabled, enabled ? 1 : 0);
}

gboolean
osqd_event_subscriber_is_enabled(OsqdEventSubscriber *subscriber)
{
	return g_atomic_int_get(&subscriber->enabled) != 0;
}

void
osqd_event_subscriber_set_min_expiry(OsqdEventSubscriber *subscriber, gint64 seconds)
{
	g_mutex_lock(&subscriber->events->lock);
	subscriber->min_expiry_s = MAX(seconds, 0);
	g_mutex_unlock(&subscriber->events->lock);
}

const gchar *
osqd_event_subscriber_get_name(OsqdEventSubscriber *subscriber)
{
	return subscriber->name;
}

void
osqd_event_subscriber_add(OsqdEventSubscriber *subscriber, OsqdEventRow *row)
{
	OsqdEvents *events = subscriber->events;

	g_return_if_fail(row->subscriber == subscriber);
	if (!osqd_event_subscriber_is_enabled(subscriber)) {
		osqd_event_row_free(row);
		return;
	}
	if (row->time == 0)
		row->time = g_get_real_time() / G_USEC_PER_SEC;
	g_mutex_lock(&events->lock);
	if (events->stop) {
		g_mutex_unlock(&events->lock);
		osqd_event_row_free(row);
		return;
	}
	if (events->queue->len >= events->config.max_queued) {
		events_subscriber_loss(subscriber, OSQD_EVENT_LOSS_QUEUE_FULL, 1);
		g_mutex_unlock(&events->lock);
		osqd_event_row_free(row);
		return;
	}
	row->eid = events->next_eid++;
	subscriber->added++;
	g_ptr_array_add(events->queue, row);
	if (events->queue->len == 1 || events->queue->len % 4096 == 0)
		g_cond_signal(&events->wake);
	g_mutex_unlock(&events->lock);
}

/* ---- reading ---- */

void
osqd_events_flush(OsqdEvents *events)
{
	gint64 target;

	g_mutex_lock(&events->lock);
	target = events->next_eid - 1;
	if (events->committed_eid < target) {
		events->flush_wanted = TRUE;
		g_cond_signal(&events->wake);
		while (events->committed_eid < target && events->writer != NULL)
			g_cond_wait(&events->committed, &events->lock);
	}
	g_mutex_unlock(&events->lock);
}

gint64
osqd_event_subscriber_get_last_eid(OsqdEventSubscriber *subscriber)
{
	gint64 eid;

	g_mutex_lock(&subscriber->events->lock);
	eid = subscriber->last_eid;
	g_mutex_unlock(&subscriber->events->lock);
	return eid;
}

/* Waits until *@eid (guarded by events->lock) passes @after_eid, the framework closes,
 * @deadline passes or *@cancelled is set; TRUE in the first case. */
static gboolean
events_wait_for_eid(OsqdEvents *events, const gint64 *eid, gint64 after_eid, gint64 deadline,
                    const gint *cancelled)
{
	gboolean found;

	g_mutex_lock(&events->lock);
	for (;;) {
		gint64 now = g_get_monotonic_time();

		found = *eid > after_eid;
		if (found || events->closing || now >= deadline ||
		    (cancelled != NULL && g_atomic_int_get(cancelled) != 0))
			break;
		(void)g_cond_wait_until(&events->committed, &events->lock,
		                        MIN(deadline, now + 50 * G_TIME_SPAN_MILLISECOND));
	}
	g_mutex_unlock(&events->lock);
	return found;
}

gboolean
osqd_event_subscriber_wait(OsqdEventSubscriber *subscriber, gint64 after_eid, gint64 deadline,
                           const gint *cancelled)
{
	return events_wait_for_eid(subscriber->events, &subscriber->last_eid, after_eid, deadline,
	                           cancelled);
}

static sqlite3 *
events_reader_get(OsqdEvents *events, GError **error)
{
	sqlite3 *db = g_async_queue_try_pop(events->readers);

	if (db != NULL)
		return db;
	db = events_db_open(events->database_path, TRUE, error);
	if (db != NULL)
		g_atomic_int_inc(&events->n_readers);
	return db;
}

static void
events_reader_put(OsqdEvents *events, sqlite3 *db)
{
	if (g_async_queue_length(events->readers) >= EVENTS_READERS_MAX) {
		(void)sqlite3_close_v2(db);
		g_atomic_int_add(&events->n_readers, -1);
		return;
	}
	g_async_queue_push(events->readers, db);
}

/* The [low, high] window of `time` constraints. */
static gboolean
events_time_window(OsqdTableContext *ctx, guint column, gint64 *low, gint64 *high)
{
	const OsqdConstraint *constraints;
	guint n = 0;
	gboolean any = FALSE;

	*low = G_MININT64;
	*high = G_MAXINT64;
	constraints = osqd_table_context_get_constraints(ctx, &n);
	for (guint i = 0; i < n; i++) {
		const OsqdConstraint *c = &constraints[i];
		gint64 v;

		if (c->column != column)
			continue;
		if (c->value.kind == OSQD_VALUE_INTEGER)
			v = c->value.integer;
		else if (c->value.kind == OSQD_VALUE_DOUBLE)
			v = (gint64)c->value.real;
		else
			continue;
		any = TRUE;
		switch (c->op) {
		case OSQD_OP_EQ:
			*low = MAX(*low, v);
			*high = MIN(*high, v);
			break;
		case OSQD_OP_GT:
			*low = MAX(*low, v == G_MAXINT64 ? v : v + 1);
			break;
		case OSQD_OP_GE:
			*low = MAX(*low, v);
			break;
		case OSQD_OP_LT:
			*high = MIN(*high, v == G_MININT64 ? v : v - 1);
			break;
		case OSQD_OP_LE:
			*high = MIN(*high, v);
			break;
		default:
			break;
		}
	}
	return any;
}

static void
events_set_cell(OsqdRow *out, guint column, const Osq__Store__Value *value)
{
	switch (value->kind_case) {
	case OSQ__STORE__VALUE__KIND_INTEGER:
		osqd_row_set_int(out, column, value->integer);
		break;
	case OSQ__STORE__VALUE__KIND_REAL:
		osqd_row_set_double(out, column, value->real);
		break;
	case OSQ__STORE__VALUE__KIND_TEXT:
		osqd_row_set_text(out, column, value->text);
		break;
	default:
		break;
	}
}

static gboolean
events_generate(OsqdEvents *events, OsqdEventSubscriber *subscriber, OsqdTableContext *ctx,
                OsqdRowSink *sink, GError **error)
{
	sqlite3 *db;
	sqlite3_stmt *stmt = NULL;
	gint64 since = osqd_table_context_get_events_since(ctx);
	gint64 limit = osqd_table_context_get_events_limit(ctx);
	gint64 low;
	gint64 high;
	gboolean windowed;
	gboolean ok = TRUE;
	guint n = 0;
	gint rc;

	windowed = events_time_window(ctx, subscriber->time_column, &low, &high);
	if (low > high)
		return TRUE;
	osqd_events_flush(events);
	db = events_reader_get(events, error);
	if (db == NULL)
		return FALSE;
	rc = sqlite3_prepare_v2(
	        db,
	        windowed ? "SELECT eid, time, value FROM events INDEXED BY events_time "
	                   "WHERE subscriber = ?1 AND time BETWEEN ?3 AND ?4 AND "
	                   "eid > ?2 ORDER BY eid LIMIT ?5"
	                 : "SELECT eid, time, value FROM events WHERE subscriber = ?1 "
	                   "AND eid > ?2 ORDER BY eid LIMIT ?5",
	        -1, &stmt, NULL);
	if (rc != SQLITE_OK) {
		ok = events_db_error(db, "scan", error);
		events_reader_put(events, db);
		return ok;
	}
	(void)sqlite3_bind_text(stmt, 1, subscriber->name, -1, SQLITE_STATIC);
	(void)sqlite3_bind_int64(stmt, 2, since);
	(void)sqlite3_bind_int64(stmt, 3, low);
	(void)sqlite3_bind_int64(stmt, 4, high);
	(void)sqlite3_bind_int64(stmt, 5, limit > 0 ? limit : -1);
	while (ok && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		gint64 eid = sqlite3_column_int64(stmt, 0);
		Osq__Store__Row *stored = osq__store__row__unpack(
		        NULL, (size_t)sqlite3_column_bytes(stmt, 2), sqlite3_column_blob(stmt, 2));
		OsqdRow *out;

		osqd_table_context_note_event(ctx, eid);
		if (stored == NULL) {
			g_debug("%s: event %" G_GINT64_FORMAT " cannot be read", subscriber->name,
			        eid);
			continue;
		}
		out = osqd_row_sink_append(sink);
		for (guint i = 0; i < stored->n_values && i < subscriber->table->n_columns; i++)
			events_set_cell(out, i, stored->values[i]);
		osqd_row_set_int(out, subscriber->time_column, sqlite3_column_int64(stmt, 1));
		osqd_row_set_printf(out, subscriber->eid_column, "%010" G_GINT64_FORMAT, eid);
		osq__store__row__free_unpacked(stored, NULL);
		if (++n % EVENTS_SCAN_CHECK == 0)
			ok = osqd_table_context_check(ctx, error);
	}
	if (ok && rc != SQLITE_DONE)
		ok = events_db_error(db, "scan", error);
	(void)sqlite3_finalize(stmt);
	events_reader_put(events, db);
	return ok;
}

/* ---- the tables' provider ---- */

static gboolean
events_provider_generate(gpointer user_data, OsqdTableContext *ctx, OsqdRowSink *sink,
                         GError **error)
{
	OsqdEvents *events = user_data;
	OsqdEventSubscriber *subscriber =
	        osqd_events_find_subscriber(events, osqd_table_context_get_table(ctx)->name);

	if (subscriber == NULL)
		return TRUE;
	return events_generate(events, subscriber, ctx, sink, error);
}

static OsqdEventStatus *
events_status_new(const gchar *name, const gchar *publisher, const gchar *type)
{
	OsqdEventStatus *status = g_new0(OsqdEventStatus, 1);

	status->name = g_strdup(name);
	status->publisher = g_strdup(publisher);
	status->type = g_strdup(type);
	return status;
}

static GPtrArray *
events_provider_status(gpointer user_data)
{
	OsqdEvents *events = user_data;
	GPtrArray *rows = g_ptr_array_new_with_free_func((GDestroyNotify)osqd_event_status_free);

	g_mutex_lock(&events->lock);
	for (guint i = 0; i < events->publishers->len; i++) {
		OsqdEventPublisher *p = g_ptr_array_index(events->publishers, i);
		OsqdEventStatus *s = events_status_new(p->klass->name, p->klass->name, "publisher");

		s->subscriptions = p->subscriptions;
		s->refreshes = p->refreshes;
		s->active = p->active;
		for (guint j = 0; j < events->subscribers->len; j++) {
			OsqdEventSubscriber *sub = g_ptr_array_index(events->subscribers, j);

			if (sub->publisher == p)
				s->events += sub->added;
		}
		g_ptr_array_add(rows, s);
	}
	for (guint i = 0; i < events->subscribers->len; i++) {
		OsqdEventSubscriber *sub = g_ptr_array_index(events->subscribers, i);
		OsqdEventStatus *s =
		        events_status_new(sub->name, sub->publisher->klass->name, "subscriber");
		gboolean enabled = osqd_event_subscriber_is_enabled(sub);

		s->subscriptions = enabled ? 1 : 0;
		s->events = sub->added;
		s->active = enabled && sub->publisher->active == 1
		                    ? 1
		                    : (enabled ? sub->publisher->active : 0);
		g_ptr_array_add(rows, s);
	}
	g_mutex_unlock(&events->lock);
	return rows;
}

static void
events_losses_add(GPtrArray *rows, const gchar *name, const gchar *type, const EventsLoss *losses)
{
	for (guint r = 0; r < OSQD_EVENT_LOSS_N; r++) {
		const EventsLoss *l = &losses[r];
		OsqdEventLoss *row;

		if (l->occurrences == 0)
			continue;
		row = g_new0(OsqdEventLoss, 1);
		row->name = g_strdup(name);
		row->type = g_strdup(type);
		row->reason = g_strdup(events_loss_names[r]);
		row->events = (gint64)l->events;
		row->exact = !l->inexact;
		row->occurrences = (gint64)l->occurrences;
		row->first_time = l->first_time;
		row->last_time = l->last_time;
		g_ptr_array_add(rows, row);
	}
}

static GPtrArray *
events_provider_losses(gpointer user_data)
{
	OsqdEvents *events = user_data;
	GPtrArray *rows = g_ptr_array_new_with_free_func((GDestroyNotify)osqd_event_loss_free);

	/* a scan should see the expiry and trimming that are due */
	osqd_events_flush(events);
	g_mutex_lock(&events->lock);
	for (guint i = 0; i < events->publishers->len; i++) {
		OsqdEventPublisher *p = g_ptr_array_index(events->publishers, i);

		events_losses_add(rows, p->klass->name, "publisher", p->losses);
	}
	for (guint i = 0; i < events->subscribers->len; i++) {
		OsqdEventSubscriber *s = g_ptr_array_index(events->subscribers, i);

		events_losses_add(rows, s->name, "subscriber", s->losses);
	}
	g_mutex_unlock(&events->lock);
	return rows;
}

static gint64
events_provider_sync(gpointer user_data)
{
	OsqdEvents *events = user_data;
	gint64 eid;

	osqd_events_flush(events);
	g_mutex_lock(&events->lock);
	eid = events->committed_eid;
	g_mutex_unlock(&events->lock);
	return eid;
}

static gboolean
events_provider_wait(gpointer user_data, gint64 after_eid, gint64 deadline, const gint *cancelled)
{
	OsqdEvents *events = user_data;

	return events_wait_for_eid(events, &events->committed_eid, after_eid, deadline, cancelled);
}

void
osqd_events_install(OsqdEvents *events)
{
	OsqdEventsProvider provider = {
		.generate = events_provider_generate,
		.status = events_provider_status,
		.losses = events_provider_losses,
		.sync = events_provider_sync,
		.wait = events_provider_wait,
		.user_data = events,
	};

	g_mutex_lock(&osqd_events_installed_lock);
	osqd_events_installed = events;
	g_mutex_unlock(&osqd_events_installed_lock);
	osqd_events_set_provider(events != NULL ? &provider : NULL);
}
