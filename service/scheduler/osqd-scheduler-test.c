/* SPDX-License-Identifier: Apache-2.0
 *
 * The schedule: splayed intervals stay within their bounds and are kept in the store while the
 * interval stays; queries run on the tick (a 1-second query runs about once a second, each run
 * committed), statistics add up, a failing query is counted and does not stop the others, and a
 * reload keeps the statistics of queries that stay.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <glib/gstdio.h>

#include "osqd-scheduler.h"

static GPtrArray *
format_cb(const OsqdRunResult *result, gpointer user_data)
{
	GPtrArray *logs = g_ptr_array_new_with_free_func((GDestroyNotify)osqd_store_log_free);

	g_ptr_array_add(logs, osqd_store_log_new(OSQD_STORE_LOG_RESULT, result->query->name,
	                                         result->unix_time, "changed"));
	return logs;
}

static void
test_splay(void **state)
{
	g_autoptr(GRand) rand = g_rand_new_with_seed(7);

	for (guint i = 0; i < 1000; i++) {
		guint s = osqd_scheduler_splay(100, 10, rand);
		assert_true(s >= 90 && s <= 110);
	}
	assert_int_equal(osqd_scheduler_splay(1, 10, rand), 1);
	assert_int_equal(osqd_scheduler_splay(60, 0, rand), 60);
	for (guint i = 0; i < 100; i++)
		assert_true(osqd_scheduler_splay(5, 100, rand) >= 1);
}

static void
remove_store(const gchar *dir, const gchar *path)
{
	const gchar *suffixes[] = { "", "-wal", "-shm" };

	for (guint i = 0; i < G_N_ELEMENTS(suffixes); i++) {
		g_autofree gchar *file = g_strconcat(path, suffixes[i], NULL);
		(void)g_unlink(file);
	}
	(void)g_rmdir(dir);
}

static OsqdScheduleStats *
find_stats(GPtrArray *list, const gchar *name)
{
	for (guint i = 0; i < list->len; i++) {
		OsqdScheduleStats *stats = list->pdata[i];
		if (g_strcmp0(stats->name, name) == 0)
			return stats;
	}
	return NULL;
}

static void
test_schedule_runs(void **state)
{
	g_autofree gchar *dir = g_dir_make_tmp("osqd-schedule-XXXXXX", NULL);
	g_autofree gchar *path = g_build_filename(dir, "osqd.db", NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(OsqdRegistry) registry = osqd_registry_new_builtin();
	OsqdStore *store = osqd_store_open(path, &error);
	OsqdSchedulerConfig config = { .splay_percent = 0, .workers = 2, .format = format_cb };
	OsqdScheduler *scheduler;
	GPtrArray *entries =
	        g_ptr_array_new_with_free_func((GDestroyNotify)osqd_schedule_entry_free);
	g_autoptr(GPtrArray) list = NULL;
	OsqdScheduleStats *stats;

	assert_non_null(store);
	scheduler = osqd_scheduler_new(registry, store, &config);
	/* unix_time changes every second, so every run of "clock" is a change */
	g_ptr_array_add(entries, osqd_schedule_entry_new("clock", "SELECT unix_time FROM time", 1));
	g_ptr_array_add(entries, osqd_schedule_entry_new("broken", "SELECT nope FROM time", 1));
	g_ptr_array_add(entries, osqd_schedule_entry_new("hourly", "SELECT 1", 3600));
	osqd_scheduler_set_schedule(scheduler, entries);
	osqd_scheduler_start(scheduler);
	g_usleep(2600 * 1000);

	list = osqd_scheduler_list(scheduler);
	assert_int_equal(list->len, 3);
	stats = find_stats(list, "clock");
	assert_true(stats->executions >= 2 && stats->executions <= 4);
	assert_int_equal(stats->failures, 0);
	assert_int_equal(stats->splayed, 1);
	stats = find_stats(list, "broken");
	assert_true(stats->failures >= 2);
	assert_non_null(strstr(stats->last_error, "no such column"));
	assert_int_equal(find_stats(list, "hourly")->executions, 0);
	assert_true(osqd_store_count_logs(store) >= 2);

	/* run now; a reload keeps the statistics of a query that stays */
	assert_true(osqd_scheduler_run_now(scheduler, "hourly", &error));
	entries = g_ptr_array_new_with_free_func((GDestroyNotify)osqd_schedule_entry_free);
	g_ptr_array_add(entries, osqd_schedule_entry_new("hourly", "SELECT 1", 3600));
	osqd_scheduler_set_schedule(scheduler, entries);
	g_clear_pointer(&list, g_ptr_array_unref);
	list = osqd_scheduler_list(scheduler);
	assert_int_equal(list->len, 1);
	assert_int_equal(find_stats(list, "hourly")->executions, 1);
	assert_false(osqd_scheduler_run_now(scheduler, "clock", NULL));

	osqd_scheduler_free(scheduler);
	/* the splay of an unchanged interval is kept in the store */
	{
		g_autoptr(GBytes) splay = NULL;
		assert_true(osqd_store_get(store, "splay", "hourly", &splay, &error));
		assert_non_null(splay);
	}
	osqd_store_close(store);
	remove_store(dir, path);
}

/* burns CPU until the engine stops it */
static gboolean
burn_generate(OsqdTableContext *ctx, OsqdRowSink *sink, GError **error)
{
	volatile guint64 x = 0;

	for (;;) {
		for (guint i = 0; i < 100000; i++)
			x += i;
		if (!osqd_table_context_check(ctx, error))
			return FALSE;
	}
}

static const OsqdColumn burn_columns[] = { { "x", OSQD_COLUMN_TYPE_BIGINT, 0, "X." } };
static const OsqdTable burn_table = { "test_burn", "Burns CPU.",  burn_columns, 1,
	                              0,           burn_generate, NULL };

static void
test_budgets_and_denylist(void **state)
{
	g_autofree gchar *dir = g_dir_make_tmp("osqd-budget-XXXXXX", NULL);
	g_autofree gchar *path = g_build_filename(dir, "osqd.db", NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(OsqdRegistry) registry = osqd_registry_new_builtin();
	OsqdStore *store = osqd_store_open(path, &error);
	OsqdSchedulerConfig config = { .splay_percent = 0,
		                       .workers = 1,
		                       .format = format_cb,
		                       .cpu_limit_ms = 100,
		                       .max_output = 1000,
		                       .denylist_s = 3600 };
	OsqdScheduler *scheduler;
	GPtrArray *entries =
	        g_ptr_array_new_with_free_func((GDestroyNotify)osqd_schedule_entry_free);
	OsqdScheduleEntry *exempt;
	g_autoptr(GPtrArray) list = NULL;
	g_autoptr(GBytes) stored = NULL;
	gint64 start;

	assert_true(osqd_registry_add(registry, &burn_table, &error));
	scheduler = osqd_scheduler_new(registry, store, &config);
	g_ptr_array_add(entries, osqd_schedule_entry_new("burn", "SELECT * FROM test_burn", 60));
	g_ptr_array_add(entries,
	                osqd_schedule_entry_new("big",
	                                        "SELECT printf('%0100d', unix_time) FROM time, "
	                                        "(WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL "
	                                        "SELECT n + 1 FROM c LIMIT 50) SELECT n FROM c)",
	                                        60));
	exempt = osqd_schedule_entry_new("exempt", "SELECT * FROM test_burn", 60);
	exempt->denylist = FALSE;
	g_ptr_array_add(entries, exempt);
	osqd_scheduler_set_schedule(scheduler, entries);

	/* over the CPU budget: stopped soon, denylisted, remembered in the store */
	start = g_get_monotonic_time();
	assert_false(osqd_scheduler_run_now(scheduler, "burn", &error));
	assert_true(g_error_matches(error, OSQ_ERROR, OSQ_ERROR_LIMIT));
	assert_non_null(strstr(error->message, "ms of CPU time"));
	assert_true(g_get_monotonic_time() - start < 5 * G_USEC_PER_SEC);
	g_clear_error(&error);
	/* over the memory budget */
	assert_false(osqd_scheduler_run_now(scheduler, "big", &error));
	assert_non_null(strstr(error->message, "memory budget"));
	g_clear_error(&error);
	/* "denylist": false stops the run but keeps the query scheduled */
	assert_false(osqd_scheduler_run_now(scheduler, "exempt", &error));
	g_clear_error(&error);
	list = osqd_scheduler_list(scheduler);
	assert_true(find_stats(list, "burn")->denylisted);
	assert_true(find_stats(list, "big")->denylisted);
	assert_false(find_stats(list, "exempt")->denylisted);
	assert_true(osqd_store_get(store, "denylist", "burn", &stored, &error));
	assert_non_null(stored);

	/* a new scheduler (a restart) still has it denylisted */
	osqd_scheduler_free(scheduler);
	scheduler = osqd_scheduler_new(registry, store, &config);
	entries = g_ptr_array_new_with_free_func((GDestroyNotify)osqd_schedule_entry_free);
	g_ptr_array_add(entries, osqd_schedule_entry_new("burn", "SELECT * FROM test_burn", 60));
	osqd_scheduler_set_schedule(scheduler, entries);
	g_clear_pointer(&list, g_ptr_array_unref);
	list = osqd_scheduler_list(scheduler);
	assert_true(find_stats(list, "burn")->denylisted);
	osqd_scheduler_free(scheduler);
	osqd_store_close(store);
	remove_store(dir, path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_splay),
		cmocka_unit_test(test_schedule_runs),
		cmocka_unit_test(test_budgets_and_denylist),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
