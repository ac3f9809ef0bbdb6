/* SPDX-License-Identifier: Apache-2.0
 *
 * Runs of a scheduled query against a table whose rows the test changes between runs: the
 * first run, no change, a row appearing and disappearing, duplicates, removed:false, a changed
 * query text, a new epoch, a snapshot, a failing query (nothing committed), and the stored state
 * surviving a reopen of the store.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <glib/gstdio.h>

#include "osqd-registry.h"
#include "osqd-run.h"

/* the rows of test_items: "name" values, changed by the tests */
static const gchar *items[8];

static gboolean
items_generate(OsqdTableContext *ctx, OsqdRowSink *sink, GError **error)
{
	for (guint i = 0; items[i] != NULL; i++) {
		OsqdRow *row = osqd_row_sink_append(sink);
		osqd_row_set_text(row, 0, items[i]);
		osqd_row_set_int(row, 1, (gint64)strlen(items[i]));
	}
	return TRUE;
}

static const OsqdColumn items_columns[] = {
	{ "name", OSQD_COLUMN_TYPE_TEXT, 0, "N." },
	{ "length", OSQD_COLUMN_TYPE_BIGINT, 0, "L." },
};
static const OsqdTable items_table = { "test_items",   "Items.", items_columns, 2, 0,
	                               items_generate, NULL };

/* an event table: events with increasing ids, appended by the tests */
static GPtrArray *events;

static gboolean
events_generate(OsqdTableContext *ctx, OsqdRowSink *sink, GError **error)
{
	gint64 since = osqd_table_context_get_events_since(ctx);

	for (guint i = 0; events != NULL && i < events->len; i++) {
		gint64 id = (gint64)i + 1;
		OsqdRow *row;
		if (id <= since)
			continue;
		row = osqd_row_sink_append(sink);
		osqd_row_set_text(row, 0, events->pdata[i]);
		osqd_row_set_int(row, 1, id);
		osqd_table_context_note_event(ctx, id);
	}
	return TRUE;
}

static const OsqdColumn events_columns[] = {
	{ "name", OSQD_COLUMN_TYPE_TEXT, 0, "N." },
	{ "eid", OSQD_COLUMN_TYPE_BIGINT, 0, "E." },
};
static const OsqdTable events_table = {
	"test_events", "Events.", events_columns, 2, OSQD_TABLE_FLAG_EVENT, events_generate, NULL
};

typedef struct {
	OsqdRegistry *registry;
	OsqdEngine *engine;
	OsqdStore *store;
	gchar *dir;
	gchar *path;
} Fixture;

/* "<counter> added name" / "<counter> removed name" lines */
static GPtrArray *
format_cb(const OsqdRunResult *result, gpointer user_data)
{
	GPtrArray *logs = g_ptr_array_new_with_free_func((GDestroyNotify)osqd_store_log_free);

	for (guint i = 0; i < result->removed->len; i++) {
		const OsqdCell *cells =
		        result->previous->rows->pdata[g_array_index(result->removed, guint, i)];
		g_autofree gchar *line = g_strdup_printf("%" G_GUINT64_FORMAT " removed %s",
		                                         result->counter, cells[0].text);
		g_ptr_array_add(logs, osqd_store_log_new(OSQD_STORE_LOG_RESULT, result->query->name,
		                                         result->unix_time, line));
	}
	for (guint i = 0; i < result->added->len; i++) {
		const OsqdCell *cells =
		        result->current->rows->pdata[g_array_index(result->added, guint, i)];
		g_autofree gchar *line = g_strdup_printf(
		        "%" G_GUINT64_FORMAT " %s %s", result->counter,
		        result->query->snapshot ? "snapshot" : "added", cells[0].text);
		g_ptr_array_add(logs,
		                osqd_store_log_new(result->query->snapshot ? OSQD_STORE_LOG_SNAPSHOT
		                                                           : OSQD_STORE_LOG_RESULT,
		                                   result->query->name, result->unix_time, line));
	}
	return logs;
}

static int
setup(void **state)
{
	Fixture *fixture = g_new0(Fixture, 1);
	g_autoptr(GError) error = NULL;

	fixture->registry = osqd_registry_new();
	assert_true(osqd_registry_add(fixture->registry, &items_table, &error));
	assert_true(osqd_registry_add(fixture->registry, &events_table, &error));
	fixture->engine = osqd_engine_new(fixture->registry, &error);
	assert_non_null(fixture->engine);
	fixture->dir = g_dir_make_tmp("osqd-run-XXXXXX", NULL);
	fixture->path = g_build_filename(fixture->dir, "osqd.db", NULL);
	fixture->store = osqd_store_open(fixture->path, &error);
	assert_non_null(fixture->store);
	*state = fixture;
	return 0;
}

static int
teardown(void **state)
{
	Fixture *fixture = *state;
	const gchar *suffixes[] = { "", "-wal", "-shm" };

	osqd_store_close(fixture->store);
	osqd_engine_free(fixture->engine);
	osqd_registry_unref(fixture->registry);
	for (guint i = 0; i < G_N_ELEMENTS(suffixes); i++) {
		g_autofree gchar *file = g_strconcat(fixture->path, suffixes[i], NULL);
		(void)g_unlink(file);
	}
	(void)g_rmdir(fixture->dir);
	g_free(fixture->path);
	g_free(fixture->dir);
	g_free(fixture);
	return 0;
}

static void
set_items(const gchar *const *names)
{
	guint i = 0;

	for (; names[i] != NULL; i++)
		items[i] = names[i];
	items[i] = NULL;
}

/* Runs the query and returns the lines it queued, in order, joined with '|' (then acks them). */
static gchar *
run(Fixture *fixture, const OsqdRunQuery *query, guint64 epoch)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(OsqdRunResult) result = NULL;
	g_autoptr(GPtrArray) logs = NULL;
	OsqdRunParams params = { .epoch = epoch, .format = format_cb };
	GString *out = g_string_new("");

	if (!osqd_run_query(fixture->engine, fixture->store, query, &params, &result, &error))
		fail_msg("%s", error->message);
	logs = osqd_store_pending_logs(fixture->store, 0, 100, &error);
	for (guint i = 0; i < logs->len; i++) {
		const OsqdStoreLog *log = logs->pdata[i];
		g_string_append_printf(out, "%s%s", i > 0 ? "|" : "", log->line);
		assert_true(osqd_store_ack_logs(fixture->store, log->id, &error));
	}
	return g_string_free(out, FALSE);
}

static void
assert_run(Fixture *fixture, const OsqdRunQuery *query, guint64 epoch, const gchar *expected)
{
	g_autofree gchar *lines = run(fixture, query, epoch);

	assert_string_equal(lines, expected);
}

static void
test_differential(void **state)
{
	Fixture *fixture = *state;
	OsqdRunQuery query = { "items", "SELECT name FROM test_items", FALSE, TRUE };
	OsqdRunQuery quiet = { "items", "SELECT name FROM test_items", FALSE, FALSE };
	OsqdRunQuery changed = { "items", "SELECT name FROM test_items WHERE 1", FALSE, TRUE };

	set_items((const gchar *const[]){ "a", "b", NULL });
	assert_run(fixture, &query, 0, "0 added a|0 added b");
	assert_run(fixture, &query, 0, "");
	/* one appears, one disappears: removed lines first */
	set_items((const gchar *const[]){ "b", "c", NULL });
	assert_run(fixture, &query, 0, "1 removed a|1 added c");
	/* a duplicate is a change of its own */
	set_items((const gchar *const[]){ "b", "c", "c", NULL });
	assert_run(fixture, &query, 0, "2 added c");
	/* removed:false keeps removals out of the log, not out of the state */
	set_items((const gchar *const[]){ "b", NULL });
	assert_run(fixture, &quiet, 0, "");
	set_items((const gchar *const[]){ "b", "d", NULL });
	assert_run(fixture, &quiet, 0, "4 added d");
	/* a new query text: its diff, with the next counter (never backwards) */
	assert_run(fixture, &changed, 0, "");
	set_items((const gchar *const[]){ "d", NULL });
	assert_run(fixture, &changed, 0, "6 removed b");
	/* a new epoch: a fresh start, every row added with counter 0 */
	assert_run(fixture, &changed, 1, "0 added d");
}

static void
test_snapshot_and_failure(void **state)
{
	Fixture *fixture = *state;
	OsqdRunQuery snapshot = { "snap", "SELECT name FROM test_items", TRUE, TRUE };
	OsqdRunQuery broken = { "broken", "SELECT nope FROM test_items", FALSE, TRUE };
	OsqdRunParams params = { .format = format_cb };
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) stored = NULL;
	g_autoptr(GPtrArray) keys = NULL;

	set_items((const gchar *const[]){ "x", "y", NULL });
	assert_run(fixture, &snapshot, 0, "0 snapshot x|0 snapshot y");
	assert_run(fixture, &snapshot, 0, "0 snapshot x|0 snapshot y");
	assert_true(osqd_store_get(fixture->store, "queries", "snap", &stored, &error));
	assert_null(stored);
	/* a failing query commits nothing */
	assert_false(
	        osqd_run_query(fixture->engine, fixture->store, &broken, &params, NULL, &error));
	assert_non_null(strstr(error->message, "broken: "));
	keys = osqd_store_keys(fixture->store, "queries", NULL);
	assert_int_equal(keys->len, 0);
	assert_int_equal(osqd_store_count_logs(fixture->store), 0);
}

static void
test_state_survives_reopen(void **state)
{
	Fixture *fixture = *state;
	OsqdRunQuery query = { "items", "SELECT name FROM test_items", FALSE, TRUE };
	g_autoptr(GError) error = NULL;

	set_items((const gchar *const[]){ "a", NULL });
	assert_run(fixture, &query, 0, "0 added a");
	osqd_store_close(fixture->store);
	fixture->store = osqd_store_open(fixture->path, &error);
	assert_non_null(fixture->store);
	set_items((const gchar *const[]){ "a", "b", NULL });
	assert_run(fixture, &query, 0, "1 added b");
}

static void
test_event_queries(void **state)
{
	Fixture *fixture = *state;
	OsqdRunQuery query = { "events", "SELECT name FROM test_events", FALSE, TRUE };
	OsqdRunQuery other = { "other", "SELECT name FROM test_events", FALSE, TRUE };
	g_autoptr(GError) error = NULL;
	g_autoptr(OsqdResultSet) all = NULL;

	events = g_ptr_array_new();
	g_ptr_array_add(events, "e1");
	g_ptr_array_add(events, "e2");
	assert_run(fixture, &query, 0, "0 added e1|0 added e2");
	/* no new events: nothing, even though the table still holds e1 and e2 */
	assert_run(fixture, &query, 0, "");
	g_ptr_array_add(events, "e3");
	assert_run(fixture, &query, 0, "1 added e3");
	/* each scheduled query has its own cursor; an ad hoc query sees every event */
	assert_run(fixture, &other, 0, "0 added e1|0 added e2|0 added e3");
	all = osqd_run_collect(fixture->engine, "SELECT name FROM test_events", &error);
	assert_int_equal(all->rows->len, 3);
	/* the cursor survives a restart */
	osqd_store_close(fixture->store);
	fixture->store = osqd_store_open(fixture->path, &error);
	g_ptr_array_add(events, "e4");
	assert_run(fixture, &query, 0, "2 added e4");
	/* a new epoch starts afresh */
	assert_run(fixture, &query, 1, "0 added e1|0 added e2|0 added e3|0 added e4");
	g_clear_pointer(&events, g_ptr_array_unref);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_differential, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snapshot_and_failure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state_survives_reopen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_event_queries, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
