/* SPDX-License-Identifier: Apache-2.0
 *
 * The cost of differential results for a 10,000-row scheduled query, as bench/scheduler.py
 * reports it: one run executes the query, diffs it against the stored result, formats the log
 * lines (osquery's event format) and commits state and lines in one transaction. Measured for
 * an unchanged result (diff only) and for a result whose every row changed (10,000 removed and
 * 10,000 added lines), against the time of the query alone.
 */
#include "config.h"

#include <stdio.h>

#include <glib/gstdio.h>

#include "osqd-log-record.h"
#include "osqd-registry.h"
#include "osqd-run.h"

#define BENCH_SQL                                                                                  \
	"WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 10000) "             \
	"SELECT x AS id, 'name-' || x AS name, x * %d AS value, '/usr/bin/p' || x AS path FROM c"

static OsqdLogRow *
bench_row(const OsqdResultSet *set, guint index)
{
	const OsqdCell *cells = set->rows->pdata[index];
	OsqdLogRow *row = osqd_log_row_new();

	for (guint c = 0; c < set->n_columns; c++) {
		if (cells[c].kind == OSQD_CELL_INTEGER)
			osqd_log_row_add_int(row, set->columns[c], NULL, cells[c].integer);
		else if (cells[c].kind == OSQD_CELL_TEXT)
			osqd_log_row_add_text(row, set->columns[c], NULL, cells[c].text);
		else
			osqd_log_row_add_null(row, set->columns[c], NULL);
	}
	return row;
}

static GPtrArray *
bench_format_cb(const OsqdRunResult *result, gpointer user_data)
{
	g_autoptr(OsqdResultRecord) record =
	        osqd_result_record_new(result->query->name, "bench", result->unix_time);
	g_autoptr(GPtrArray) lines = NULL;
	GPtrArray *logs = g_ptr_array_new_with_free_func((GDestroyNotify)osqd_store_log_free);
	OsqdLogOptions options;

	osqd_log_options_init(&options);
	record->counter = (gint64)result->counter;
	for (guint i = 0; i < result->added->len; i++)
		g_ptr_array_add(record->added,
		                bench_row(result->current, g_array_index(result->added, guint, i)));
	for (guint i = 0; i < result->removed->len; i++)
		g_ptr_array_add(
		        record->removed,
		        bench_row(result->previous, g_array_index(result->removed, guint, i)));
	lines = osqd_result_record_format(record, &options);
	for (guint i = 0; i < lines->len; i++)
		g_ptr_array_add(logs, osqd_store_log_new(OSQD_STORE_LOG_RESULT, result->query->name,
		                                         result->unix_time, lines->pdata[i]));
	return logs;
}

static gdouble
bench_run_ms(OsqdEngine *engine, OsqdStore *store, const gchar *sql, guint64 *lines)
{
	g_autoptr(GError) error = NULL;
	OsqdRunQuery query = { "bench", sql, FALSE, TRUE };
	OsqdRunParams params = { .format = bench_format_cb };
	gint64 start = g_get_monotonic_time();
	guint64 before = osqd_store_count_logs(store);

	if (!osqd_run_query(engine, store, &query, &params, NULL, &error)) {
		(void)fprintf(stderr, "Error: %s\n", error->message);
		exit(1);
	}
	*lines = osqd_store_count_logs(store) - before;
	return (gdouble)(g_get_monotonic_time() - start) / 1000.0;
}

int
main(int argc, char **argv)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(OsqdRegistry) registry = osqd_registry_new_builtin();
	g_autoptr(OsqdEngine) engine = osqd_engine_new(registry, &error);
	g_autofree gchar *dir = g_dir_make_tmp("osq-bench-diff-XXXXXX", NULL);
	g_autofree gchar *path = g_build_filename(dir, "osqd.db", NULL);
	OsqdStore *store = osqd_store_open(path, &error);
	g_autofree gchar *sql_a = g_strdup_printf(BENCH_SQL, 2);
	g_autofree gchar *sql_b = g_strdup_printf(BENCH_SQL, 3);
	gdouble query_ms = 0, same_ms = 0, changed_ms = 0;
	guint64 lines = 0, changed_lines = 0;
	const guint runs = 5;

	if (engine == NULL || store == NULL) {
		(void)fprintf(stderr, "Error: %s\n", error->message);
		return 1;
	}
	const gchar *current = sql_a;

	(void)bench_run_ms(engine, store, current, &lines); /* the first run: all added */
	for (guint i = 0; i < runs; i++) {
		const gchar *other = current == sql_a ? sql_b : sql_a;
		gint64 start = g_get_monotonic_time();
		g_autoptr(OsqdResultSet) set = osqd_run_collect(engine, current, &error);
		query_ms += (gdouble)(g_get_monotonic_time() - start) / 1000.0;
		/* the same result again: a diff that finds nothing */
		same_ms += bench_run_ms(engine, store, current, &lines);
		/* every row changes (the value column): all removed and all added */
		changed_ms += bench_run_ms(engine, store, other, &changed_lines);
		(void)osqd_store_ack_logs(store, G_MAXINT64, NULL);
		current = other;
	}
	(void)printf("rows=10000\nquery_ms=%.2f\nunchanged_run_ms=%.2f\nchanged_run_ms=%.2f\n"
	             "changed_lines=%" G_GUINT64_FORMAT "\n",
	             query_ms / runs, same_ms / runs, changed_ms / runs, changed_lines);
	osqd_store_close(store);
	{
		const gchar *suffixes[] = { "", "-wal", "-shm" };
		for (guint i = 0; i < G_N_ELEMENTS(suffixes); i++) {
			g_autofree gchar *file = g_strconcat(path, suffixes[i], NULL);
			(void)g_unlink(file);
		}
		(void)g_rmdir(dir);
	}
	return 0;
}
