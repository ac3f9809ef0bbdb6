/* SPDX-License-Identifier: Apache-2.0
 *
 * A scheduled run (see the header). The statement runs to its end into a result set before
 * anything is compared, so a failing query (syntax, timeout, a table error) commits nothing and
 * its previous state stays for the next run. Multi-statement SQL keeps the last statement that
 * has result columns, as query() does.
 */
#include "config.h"

#include "osqd-run.h"

#include <sys/resource.h>
#include <unistd.h>

#include "osq-error.h"

void
osqd_run_result_free(OsqdRunResult *result)
{
	if (result == NULL)
		return;
	osqd_result_set_free(result->current);
	osqd_result_set_free(result->previous);
	if (result->added != NULL)
		g_array_unref(result->added);
	if (result->removed != NULL)
		g_array_unref(result->removed);
	g_free(result);
}

/* This thread's CPU time so far, user and system. */
static void
run_thread_cpu(gint64 *user_us, gint64 *system_us)
{
	struct rusage usage;

	*user_us = *system_us = 0;
	if (getrusage(RUSAGE_THREAD, &usage) != 0)
		return;
	*user_us = (gint64)usage.ru_utime.tv_sec * G_USEC_PER_SEC + usage.ru_utime.tv_usec;
	*system_us = (gint64)usage.ru_stime.tv_sec * G_USEC_PER_SEC + usage.ru_stime.tv_usec;
}

/* The process's resident size, from /proc/self/statm. */
static gint64
run_rss_bytes(void)
{
	g_autofree gchar *text = NULL;
	g_auto(GStrv) fields = NULL;

	if (!g_file_get_contents("/proc/self/statm", &text, NULL, NULL))
		return 0;
	fields = g_strsplit(text, " ", 3);
	if (fields[0] == NULL || fields[1] == NULL)
		return 0;
	return g_ascii_strtoll(fields[1], NULL, 10) * sysconf(_SC_PAGESIZE);
}

static void
run_take_cell(OsqdCell *cell, sqlite3_stmt *stmt, gint column, gsize *size)
{
	switch (sqlite3_column_type(stmt, column)) {
	case SQLITE_INTEGER:
		cell->kind = OSQD_CELL_INTEGER;
		cell->integer = sqlite3_column_int64(stmt, column);
		*size += 8;
		break;
	case SQLITE_FLOAT:
		cell->kind = OSQD_CELL_DOUBLE;
		cell->real = sqlite3_column_double(stmt, column);
		*size += 8;
		break;
	case SQLITE_TEXT:
	case SQLITE_BLOB: {
		const gchar *text = (const gchar *)sqlite3_column_text(stmt, column);
		gint len = sqlite3_column_bytes(stmt, column);
		osqd_cell_set_text(cell, text != NULL ? text : "", text != NULL ? len : 0);
		*size += (gsize)len;
		break;
	}
	default:
		cell->kind = OSQD_CELL_NULL;
		break;
	}
}

static OsqdResultSet *
run_collect(OsqdEngine *engine, const gchar *sql, guint64 max_output, gsize *size, GError **error)
{
	g_autoptr(OsqdResultSet) kept = NULL;
	const gchar *rest = sql;

	*size = 0;
	while (rest != NULL && rest[0] != '\0') {
		const gchar *tail = NULL;
		g_autoptr(OsqdResultSet) set = NULL;
		g_autoptr(GPtrArray) names = g_ptr_array_new();
		sqlite3_stmt *stmt = osqd_engine_prepare(engine, rest, &tail, error);
		gint rc, n;
		if (stmt == NULL) {
			if (error != NULL && *error != NULL)
				return NULL;
			rest = tail;
			continue;
		}
		n = sqlite3_column_count(stmt);
		for (gint i = 0; i < n; i++)
			g_ptr_array_add(names, (gpointer)sqlite3_column_name(stmt, i));
		g_ptr_array_add(names, NULL);
		set = osqd_result_set_new((const gchar *const *)names->pdata);
		while ((rc = osqd_engine_step(engine, stmt, error)) == SQLITE_ROW) {
			OsqdCell *cells = osqd_result_set_add_row(set);
			for (gint i = 0; i < n; i++)
				run_take_cell(&cells[i], stmt, i, size);
			if (max_output > 0 && *size > max_output) {
				g_set_error(error, OSQ_ERROR, OSQ_ERROR_LIMIT,
				            "the result is larger than %" G_GUINT64_FORMAT
				            " bytes (the memory budget)",
				            max_output);
				rc = -1;
				break;
			}
		}
		(void)sqlite3_finalize(stmt);
		if (rc < 0)
			return NULL;
		if (n > 0) {
			osqd_result_set_free(kept);
			kept = g_steal_pointer(&set);
		}
		rest = tail;
	}
	if (kept == NULL) {
		const gchar *const none[] = { NULL };
		kept = osqd_result_set_new(none);
	}
	return g_steal_pointer(&kept);
}

OsqdResultSet *
osqd_run_collect(OsqdEngine *engine, const gchar *sql, GError **error)
{
	gsize size = 0;

	return run_collect(engine, sql, 0, &size, error);
}

/* The stored state of @name: its rows (NULL when never run) and what goes with them. */
static gboolean
run_load_state(OsqdStore *store, const gchar *name, OsqdResultSet **rows, OsqdQueryMeta *meta,
               GError **error)
{
	g_autoptr(GBytes) bytes = NULL;
	g_autoptr(GError) decode_error = NULL;

	*rows = NULL;
	if (!osqd_store_get(store, "queries", name, &bytes, error))
		return FALSE;
	if (bytes == NULL)
		return TRUE;
	*rows = osqd_result_set_unpack(bytes, meta, &decode_error);
	/* an unreadable state is a fresh start, not a failure forever */
	if (*rows == NULL)
		g_debug("%s: stored state unreadable, starting afresh: %s", name,
		        decode_error->message);
	return TRUE;
}

gboolean
osqd_run_query(OsqdEngine *engine, OsqdStore *store, const OsqdRunQuery *query,
               const OsqdRunParams *params, OsqdRunResult **out, GError **error)
{
	g_autoptr(OsqdRunResult) result = g_new0(OsqdRunResult, 1);
	g_autoptr(GPtrArray) logs = NULL;
	g_autoptr(GBytes) state = NULL;
	OsqdQueryMeta stored = { 0 };
	guint64 dropped = 0;
	gint64 start = g_get_monotonic_time(), user = 0, system = 0;

	result->query = query;
	result->epoch = params->epoch;
	result->unix_time = g_get_real_time() / G_USEC_PER_SEC;
	if (!query->snapshot &&
	    !run_load_state(store, query->name, &result->previous, &stored, error))
		return FALSE;
	result->fresh = result->previous == NULL || stored.epoch != params->epoch;
	run_thread_cpu(&user, &system);
	osqd_engine_set_timeout(engine, params->timeout_ms);
	osqd_engine_set_cpu_limit(engine, params->cpu_limit_ms);
	/* event tables give this query only the events after the ones it already logged */
	osqd_engine_set_events_since(engine, result->fresh ? 0 : stored.events_since);
	result->current =
	        run_collect(engine, query->sql, params->max_output, &result->output_size, error);
	osqd_engine_set_events_since(engine, 0);
	result->wall_us = g_get_monotonic_time() - start;
	run_thread_cpu(&result->user_us, &result->system_us);
	result->user_us -= user;
	result->system_us -= system;
	result->rss_bytes = run_rss_bytes();
	if (result->current == NULL) {
		osqd_query_meta_clear(&stored);
		g_prefix_error(error, "%s: ", query->name);
		return FALSE;
	}
	if (query->snapshot) {
		/* every row, every run; no state */
		result->added = g_array_new(FALSE, FALSE, sizeof(guint));
		result->removed = g_array_new(FALSE, FALSE, sizeof(guint));
		for (guint i = 0; i < result->current->rows->len; i++)
			g_array_append_val(result->added, i);
		result->changed = TRUE;
	} else if (osqd_engine_get_event_scans(engine) > 0) {
		/* a query on event tables: no diff (the events are new by construction); every
		 * row is added, the counter moves when there were rows, and the event cursor is
		 * kept with the counter, in the same transaction as the lines */
		OsqdQueryMeta next = { (gchar *)query->sql, params->epoch, 0, result->unix_time,
			               MAX(result->fresh ? 0 : stored.events_since,
			                   osqd_engine_get_events_max(engine)) };
		g_autoptr(OsqdResultSet) none =
		        osqd_result_set_new((const gchar *const *)result->current->columns);
		result->added = g_array_new(FALSE, FALSE, sizeof(guint));
		result->removed = g_array_new(FALSE, FALSE, sizeof(guint));
		for (guint i = 0; i < result->current->rows->len; i++)
			g_array_append_val(result->added, i);
		g_clear_pointer(&result->previous, osqd_result_set_free);
		result->changed = result->added->len > 0 || result->fresh;
		result->counter = result->fresh            ? 0
		                  : result->added->len > 0 ? stored.counter + 1
		                                           : stored.counter;
		next.counter = result->counter;
		if (result->changed || next.events_since != stored.events_since)
			state = osqd_result_set_pack(none, &next);
	} else {
		if (result->fresh)
			g_clear_pointer(&result->previous, osqd_result_set_free);
		osqd_result_set_diff(result->previous, result->current, &result->added,
		                     &result->removed);
		result->changed = result->fresh || result->added->len > 0 ||
		                  result->removed->len > 0 ||
		                  g_strcmp0(stored.sql, query->sql) != 0;
		result->counter = result->fresh     ? 0
		                  : result->changed ? stored.counter + 1
		                                    : stored.counter;
		if (!query->removed)
			g_array_set_size(result->removed, 0);
		if (result->changed) {
			OsqdQueryMeta next = { (gchar *)query->sql, params->epoch, result->counter,
				               result->unix_time, 0 };
			state = osqd_result_set_pack(result->current, &next);
		}
	}
	osqd_query_meta_clear(&stored);
	if (result->changed && (result->added->len > 0 || result->removed->len > 0) &&
	    params->format != NULL)
		logs = params->format(result, params->format_data);
	if (state != NULL || (logs != NULL && logs->len > 0)) {
		if (!osqd_store_commit_run(store, query->name, state, logs, params->max_pending,
		                           &dropped, error))
			return FALSE;
		if (dropped > 0)
			g_warning("the log queue is full (--buffered_log_max): dropped the "
			          "%" G_GUINT64_FORMAT " oldest lines",
			          dropped);
	}
	if (out != NULL)
		*out = g_steal_pointer(&result);
	return TRUE;
}
