/* SPDX-License-Identifier: Apache-2.0
 *
 * The event framework with a test publisher (rows added by the test itself) and the real
 * database and engine: ids and times, scans through SQL (time windows from the index, cursors
 * and limits as the scheduler and live follows set them), expiry and --events_max counted as
 * losses, disabled subscribers, osquery_events and osq_event_loss, ids never reused after a
 * restart, waits, and a publisher thread stopped with the framework.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <glib/gstdio.h>

#include "events/events.h"
#include "osqd-engine-testing.h"
#include "osqd-events.h"
#include "osqd-registry.h"
#include "osqd-store.h"
#include "osqd-tables-generated.h"

typedef struct {
	gchar *directory;
	gchar *database;
	OsqdStore *store;
	OsqdEvents *events;
	OsqdEventPublisher *publisher;
	OsqdEventSubscriber *subscriber;
	OsqdRegistry *registry;
	OsqdEngine *engine;
} Fixture;

static gint test_runs;

/* A publisher whose thread only waits to be stopped: the test adds the rows. */
static void
test_publisher_run(OsqdEventPublisher *publisher)
{
	g_atomic_int_inc(&test_runs);
	while (!osqd_event_publisher_stopping(publisher))
		g_usleep(10 * 1000);
}

static const OsqdEventPublisherClass test_publisher_class = {
	.name = "test",
	.run = test_publisher_run,
};

static void
fixture_open(Fixture *f, guint64 max_rows, gint64 expiry_s)
{
	g_autoptr(GError) error = NULL;
	OsqdEventsConfig config = { .database_path = f->database,
		                    .max_rows = max_rows,
		                    .expiry_s = expiry_s };

	f->store = osqd_store_open(f->database, &error);
	assert_non_null(f->store);
	f->events = osqd_events_new(&config, &error);
	assert_null(error);
	f->publisher = osqd_events_add_publisher(f->events, &test_publisher_class, NULL);
	f->subscriber = osqd_events_add_subscriber(f->events, f->publisher, "file_events", &error);
	assert_non_null(f->subscriber);
	osqd_events_install(f->events);
}

static void
fixture_close(Fixture *f)
{
	g_clear_pointer(&f->events, osqd_events_free);
	g_clear_pointer(&f->store, osqd_store_close);
}

static int
setup(void **state)
{
	Fixture *f = g_new0(Fixture, 1);
	g_autoptr(GError) error = NULL;

	f->directory = g_dir_make_tmp("osqd-events-XXXXXX", &error);
	assert_non_null(f->directory);
	f->database = g_build_filename(f->directory, "osq.db", NULL);
	fixture_open(f, 0, 0);
	f->registry = osqd_registry_new_builtin();
	f->engine = osqd_engine_new(f->registry, &error);
	assert_non_null(f->engine);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	Fixture *f = *state;
	g_autofree gchar *wal = g_strconcat(f->database, "-wal", NULL);
	g_autofree gchar *shm = g_strconcat(f->database, "-shm", NULL);

	osqd_engine_free(f->engine);
	osqd_registry_unref(f->registry);
	fixture_close(f);
	(void)g_unlink(f->database);
	(void)g_unlink(wal);
	(void)g_unlink(shm);
	(void)g_rmdir(f->directory);
	g_free(f->database);
	g_free(f->directory);
	g_free(f);
	return 0;
}

static void
add_file_event(Fixture *f, const gchar *path, const gchar *action, gint64 time)
{
	OsqdEventRow *row = osqd_event_row_new(f->subscriber);

	osqd_event_row_set_text(row, OSQD_FILE_EVENTS_COL_TARGET_PATH, path);
	osqd_event_row_set_text(row, OSQD_FILE_EVENTS_COL_ACTION, action);
	osqd_event_row_set_int(row, OSQD_FILE_EVENTS_COL_SIZE, 42);
	osqd_event_row_set_double(row, OSQD_FILE_EVENTS_COL_INODE, 7.0);
	if (time != 0)
		osqd_event_row_set_time(row, time);
	osqd_event_subscriber_add(f->subscriber, row);
}

static gchar *
run(Fixture *f, const gchar *sql)
{
	g_autoptr(GError) error = NULL;
	gchar *out = osqd_engine_testing_run(f->engine, sql, &error);

	if (out == NULL)
		fail_msg("%s: %s", sql, error->message);
	return out;
}

static void
test_rows_ids_and_times(void **state)
{
	Fixture *f = *state;
	g_autofree gchar *all = NULL;
	g_autofree gchar *window = NULL;
	g_autofree gchar *none = NULL;

	add_file_event(f, "/a", "CREATED", 1000);
	add_file_event(f, "/b", "UPDATED", 2000);
	add_file_event(f, "/c", "DELETED", 3000);
	all = run(f, "SELECT target_path, action, size, inode, time, eid, md5 FROM file_events");
	assert_string_equal(all, "/a|CREATED|42|7.0|1000|0000000001|NULL\n"
	                         "/b|UPDATED|42|7.0|2000|0000000002|NULL\n"
	                         "/c|DELETED|42|7.0|3000|0000000003|NULL\n");
	window = run(f, "SELECT target_path FROM file_events WHERE time >= 1500 AND time < 3000");
	assert_string_equal(window, "/b\n");
	none = run(f, "SELECT target_path FROM file_events WHERE time > 3000 AND time < 100");
	assert_string_equal(none, "");
	assert_int_equal(osqd_event_subscriber_get_last_eid(f->subscriber), 3);
	/* a row without a time of its own gets "now" */
	add_file_event(f, "/d", "CREATED", 0);
	{
		g_autofree gchar *recent = run(f, "SELECT target_path FROM file_events WHERE time "
		                                  "> strftime('%s','now') - 60");
		assert_string_equal(recent, "/d\n");
	}
}

static void
test_cursor_and_limit(void **state)
{
	Fixture *f = *state;

	for (gint i = 0; i < 10; i++) {
		g_autofree gchar *path = g_strdup_printf("/f%d", i);
		add_file_event(f, path, "CREATED", 1000 + i);
	}
	/* as the scheduler sets it: only events after the cursor, and the newest one noted */
	osqd_engine_set_events_since(f->engine, 7);
	{
		g_autofree gchar *rest = run(f, "SELECT target_path FROM file_events");
		assert_string_equal(rest, "/f7\n/f8\n/f9\n");
		assert_int_equal(osqd_engine_get_events_max(f->engine), 10);
		assert_int_equal(osqd_engine_get_event_scans(f->engine), 1);
	}
	/* as a follow sets it: a slice of at most N events, oldest first */
	osqd_engine_set_events_since(f->engine, 2);
	osqd_engine_set_events_limit(f->engine, 3);
	{
		g_autofree gchar *slice = run(f, "SELECT target_path FROM file_events WHERE "
		                                 "target_path != '/f3'");
		assert_string_equal(slice, "/f2\n/f4\n");
		assert_int_equal(osqd_engine_get_events_max(f->engine), 5);
	}
	/* the time window reaches the scan (the index): with a one-event slice, the one event
	 * read is the window's first, not the table's first (SQLite would filter that out) */
	osqd_engine_set_events_since(f->engine, 0);
	osqd_engine_set_events_limit(f->engine, 1);
	{
		g_autofree gchar *first =
		        run(f, "SELECT target_path FROM file_events WHERE time >= "
		               "1004 AND time <= 1006");
		g_autofree gchar *equal = run(f, "SELECT target_path FROM file_events WHERE time = "
		                                 "1008");
		g_autofree gchar *below = run(f, "SELECT target_path FROM file_events WHERE time < "
		                                 "1003 AND time > 1001");
		assert_string_equal(first, "/f4\n");
		assert_string_equal(equal, "/f8\n");
		assert_string_equal(below, "/f2\n");
	}
	osqd_engine_set_events_since(f->engine, 0);
	osqd_engine_set_events_limit(f->engine, 0);
	assert_int_equal(osqd_events_sync(), 10);
}

static void
test_disabled_subscriber_takes_nothing(void **state)
{
	Fixture *f = *state;
	g_autofree gchar *rows = NULL;
	g_autofree gchar *status = NULL;

	osqd_event_subscriber_set_enabled(f->subscriber, FALSE);
	add_file_event(f, "/x", "CREATED", 1);
	rows = run(f, "SELECT COUNT(*) FROM file_events");
	assert_string_equal(rows, "0\n");
	status = run(f, "SELECT name, publisher, type, subscriptions, events, active FROM "
	                "osquery_events ORDER BY type");
	assert_string_equal(status, "test|test|publisher|0|0|0\n"
	                            "file_events|test|subscriber|0|0|0\n");
	osqd_event_subscriber_set_enabled(f->subscriber, TRUE);
	osqd_events_start(f->events, NULL);
	while (g_atomic_int_get(&test_runs) == 0)
		g_usleep(1000);
	add_file_event(f, "/y", "CREATED", 1);
	{
		g_autofree gchar *after = run(f, "SELECT name, events, active FROM osquery_events "
		                                 "ORDER BY type");
		assert_string_equal(after, "test|1|1\nfile_events|1|1\n");
	}
}

static void
test_events_max_and_expiry_are_counted(void **state)
{
	Fixture *f = *state;
	gint64 now = g_get_real_time() / G_USEC_PER_SEC;

	fixture_close(f);
	fixture_open(f, 4, 3600);
	/* 3 rows older than the expiry, then 6 fresh ones of which the oldest 2 pass the cap */
	for (gint i = 0; i < 3; i++)
		add_file_event(f, "/old", "CREATED", now - 7200);
	for (gint i = 0; i < 6; i++) {
		g_autofree gchar *path = g_strdup_printf("/new%d", i);
		add_file_event(f, path, "CREATED", now);
	}
	/* the writer trims once a second */
	for (gint i = 0; i < 300; i++) {
		g_autofree gchar *count = run(f, "SELECT COUNT(*) FROM file_events");
		if (g_strcmp0(count, "4\n") == 0)
			break;
		g_usleep(10 * 1000);
	}
	{
		g_autofree gchar *kept = run(f, "SELECT target_path FROM file_events");
		g_autofree gchar *losses =
		        run(f, "SELECT name, type, reason, events, exact FROM osq_event_loss "
		               "ORDER BY reason");
		/* the old rows may be committed over two batches, and expire in two passes */
		g_autofree gchar *occurrences =
		        run(f, "SELECT occurrences BETWEEN 1 AND events FROM osq_event_loss "
		               "ORDER BY reason");

		assert_string_equal(kept, "/new2\n/new3\n/new4\n/new5\n");
		assert_string_equal(losses, "file_events|subscriber|events_max|2|1\n"
		                            "file_events|subscriber|expired|3|1\n");
		assert_string_equal(occurrences, "1\n1\n");
	}
}

static gchar *
count_after_maintenance(Fixture *f)
{
	/* the writer trims once a second: 1.3 s covers one pass after anything queued now */
	g_usleep(1300 * 1000);
	return run(f, "SELECT COUNT(*) FROM file_events");
}

static void
test_min_expiry(void **state)
{
	Fixture *f = *state;
	gint64 now = g_get_real_time() / G_USEC_PER_SEC;

	fixture_close(f);
	fixture_open(f, 0, 60);
	/* a scheduled query every hour reads the table: rows stay 3 hours, not 60 s */
	osqd_event_subscriber_set_min_expiry(f->subscriber, 3 * 3600);
	add_file_event(f, "/2h", "CREATED", now - 7200);
	add_file_event(f, "/4h", "CREATED", now - 4 * 3600);
	{
		g_autofree gchar *count = count_after_maintenance(f);
		assert_string_equal(count, "1\n");
	}
	osqd_event_subscriber_set_min_expiry(f->subscriber, 0);
	{
		g_autofree gchar *count = count_after_maintenance(f);
		assert_string_equal(count, "0\n");
	}
}

static void
test_publisher_losses(void **state)
{
	Fixture *f = *state;
	g_autofree gchar *losses = NULL;

	osqd_event_publisher_count_loss(f->publisher, OSQD_EVENT_LOSS_KERNEL_OVERFLOW, 1, FALSE);
	osqd_event_publisher_count_loss(f->publisher, OSQD_EVENT_LOSS_KERNEL_OVERFLOW, 1, FALSE);
	osqd_event_publisher_count_loss(f->publisher, OSQD_EVENT_LOSS_SEQUENCE_GAP, 5, TRUE);
	losses = run(f, "SELECT name, type, reason, events, exact, occurrences FROM osq_event_loss "
	                "ORDER BY reason");
	assert_string_equal(losses, "test|publisher|kernel_overflow|2|0|2\n"
	                            "test|publisher|sequence_gap|5|1|1\n");
	assert_string_equal(osqd_event_loss_reason_name(OSQD_EVENT_LOSS_QUEUE_FULL), "queue_full");
}

static void
test_ids_survive_a_restart(void **state)
{
	Fixture *f = *state;

	add_file_event(f, "/1", "CREATED", 1);
	add_file_event(f, "/2", "CREATED", 1);
	fixture_close(f);
	fixture_open(f, 0, 0);
	add_file_event(f, "/3", "CREATED", 1);
	{
		g_autofree gchar *rows = run(f, "SELECT target_path, eid FROM file_events");
		assert_string_equal(rows, "/1|0000000001\n/2|0000000002\n/3|0000000003\n");
	}
	/* every row expired: ids still go on (the next one is committed with each batch) */
	fixture_close(f);
	fixture_open(f, 1, 0);
	add_file_event(f, "/4", "CREATED", 1);
	for (gint i = 0; i < 300; i++) {
		g_autofree gchar *count = run(f, "SELECT COUNT(*) FROM file_events");
		if (g_strcmp0(count, "1\n") == 0)
			break;
		g_usleep(10 * 1000);
	}
	fixture_close(f);
	fixture_open(f, 0, 0);
	add_file_event(f, "/5", "CREATED", 1);
	{
		g_autofree gchar *rows = run(f, "SELECT target_path, eid FROM file_events");
		assert_string_equal(rows, "/4|0000000004\n/5|0000000005\n");
	}
}

typedef struct {
	Fixture *f;
	gint cancelled;
} WaitData;

static gpointer
add_later_thread(gpointer data)
{
	Fixture *f = data;

	g_usleep(50 * 1000);
	add_file_event(f, "/late", "CREATED", 1);
	return NULL;
}

static void
test_waits(void **state)
{
	Fixture *f = *state;
	GThread *thread;
	gint cancelled = 0;
	gint64 start = g_get_monotonic_time();

	/* nothing new: the wait ends at its deadline */
	assert_false(osqd_events_wait(0, start + 100 * 1000, NULL));
	assert_true(g_get_monotonic_time() - start >= 100 * 1000);
	/* a cancelled wait ends early */
	cancelled = 1;
	start = g_get_monotonic_time();
	assert_false(osqd_events_wait(0, start + 5 * G_USEC_PER_SEC, &cancelled));
	assert_true(g_get_monotonic_time() - start < G_USEC_PER_SEC);
	/* an event committed meanwhile ends it */
	thread = g_thread_new("add", add_later_thread, f);
	assert_true(osqd_events_wait(0, g_get_monotonic_time() + 5 * G_USEC_PER_SEC, NULL));
	g_thread_join(thread);
	assert_true(osqd_event_subscriber_wait(f->subscriber, 0,
	                                       g_get_monotonic_time() + G_USEC_PER_SEC, NULL));
	assert_false(
	        osqd_event_subscriber_wait(f->subscriber, 1, g_get_monotonic_time() + 1000, NULL));
}

static void
test_without_provider_tables_are_empty(void **state)
{
	Fixture *f = *state;
	g_autofree gchar *rows = NULL;

	add_file_event(f, "/a", "CREATED", 1);
	osqd_events_install(NULL);
	rows = run(f, "SELECT COUNT(*) FROM file_events UNION ALL SELECT COUNT(*) FROM "
	              "osquery_events UNION ALL SELECT COUNT(*) FROM osq_event_loss");
	assert_string_equal(rows, "0\n0\n0\n");
	assert_int_equal(osqd_events_sync(), -1);
	osqd_events_install(f->events);
}

static void
test_not_an_event_table(void **state)
{
	Fixture *f = *state;
	g_autoptr(GError) error = NULL;

	assert_null(osqd_events_add_subscriber(f->events, f->publisher, "processes", &error));
	assert_non_null(strstr(error->message, "not an event table"));
	g_clear_error(&error);
	assert_null(osqd_events_add_subscriber(f->events, f->publisher, "file_events", &error));
	assert_non_null(strstr(error->message, "has a subscriber already"));
	assert_ptr_equal(osqd_events_find_publisher(f->events, "test"), f->publisher);
	assert_ptr_equal(osqd_events_find_subscriber(f->events, "file_events"), f->subscriber);
	assert_null(osqd_events_find_subscriber(f->events, "hardware_events"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_rows_ids_and_times, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cursor_and_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_disabled_subscriber_takes_nothing, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(test_events_max_and_expiry_are_counted, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(test_publisher_losses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_min_expiry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ids_survive_a_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_waits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_without_provider_tables_are_empty, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(test_not_an_event_table, setup, teardown),
	};

	g_log_set_always_fatal(G_LOG_LEVEL_CRITICAL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
