/* SPDX-License-Identifier: Apache-2.0
 *
 * Differential results (the multiset rule, duplicates, typed cells, width changes), the stored
 * form of a result (pack/unpack), and the database: keyed state, a run committed with its log
 * lines, the queue read in order and acked, the cap on queued lines, reopening, a newer schema.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <glib/gstdio.h>
#include <sqlite3.h>

#include "osq-error.h"
#include "osqd-result.h"
#include "osqd-store.h"

static const gchar *const two_columns[] = { "name", "value", NULL };

/* Rows from "name:value" specs; value "-" is NULL, "d:x" a double, digits an integer. */
static OsqdResultSet *
make_set(const gchar *const *specs)
{
	OsqdResultSet *set = osqd_result_set_new(two_columns);

	for (guint i = 0; specs[i] != NULL; i++) {
		g_auto(GStrv) parts = g_strsplit(specs[i], ":", 2);
		OsqdCell *cells = osqd_result_set_add_row(set);
		osqd_cell_set_text(&cells[0], parts[0], -1);
		if (g_strcmp0(parts[1], "-") == 0) {
			cells[1].kind = OSQD_CELL_NULL;
		} else if (g_str_has_prefix(parts[1], "d")) {
			cells[1].kind = OSQD_CELL_DOUBLE;
			cells[1].real = g_ascii_strtod(parts[1] + 1, NULL);
		} else {
			cells[1].kind = OSQD_CELL_INTEGER;
			cells[1].integer = g_ascii_strtoll(parts[1], NULL, 10);
		}
	}
	return set;
}

static gchar *
indexes(GArray *array)
{
	GString *out = g_string_new("");

	for (guint i = 0; i < array->len; i++)
		g_string_append_printf(out, "%s%u", i > 0 ? "," : "",
		                       g_array_index(array, guint, i));
	return g_string_free(out, FALSE);
}

static void
assert_diff(const gchar *const *before, const gchar *const *after, const gchar *added,
            const gchar *removed)
{
	g_autoptr(OsqdResultSet) previous = before != NULL ? make_set(before) : NULL;
	g_autoptr(OsqdResultSet) current = make_set(after);
	g_autoptr(GArray) a = NULL;
	g_autoptr(GArray) r = NULL;
	g_autofree gchar *a_text = NULL;
	g_autofree gchar *r_text = NULL;

	osqd_result_set_diff(previous, current, &a, &r);
	a_text = indexes(a);
	r_text = indexes(r);
	assert_string_equal(a_text, added);
	assert_string_equal(r_text, removed);
}

static void
test_diff(void **state)
{
	const gchar *const empty[] = { NULL };
	const gchar *const abc[] = { "a:1", "b:2", "c:3", NULL };
	const gchar *const bcd[] = { "b:2", "c:3", "d:4", NULL };
	const gchar *const dup2[] = { "a:1", "a:1", NULL };
	const gchar *const dup3[] = { "a:1", "a:1", "a:1", NULL };
	const gchar *const nulls[] = { "a:-", "b:d2", NULL };
	const gchar *const typed[] = { "a:0", "b:2", NULL };

	/* first run: everything is added */
	assert_diff(NULL, abc, "0,1,2", "");
	assert_diff(abc, abc, "", "");
	assert_diff(abc, bcd, "2", "0");
	assert_diff(abc, empty, "", "0,1,2");
	/* duplicates count: one more copy is one added row, one fewer is one removed */
	assert_diff(dup2, dup3, "2", "");
	assert_diff(dup3, dup2, "", "2");
	/* NULL is not 0 and a double is not an integer */
	assert_diff(nulls, typed, "0,1", "0,1");
	assert_diff(nulls, nulls, "", "");
}

static void
test_diff_width_change(void **state)
{
	const gchar *const one[] = { "name", NULL };
	g_autoptr(OsqdResultSet) previous = make_set((const gchar *const[]){ "a:1", NULL });
	g_autoptr(OsqdResultSet) current = osqd_result_set_new(one);
	g_autoptr(GArray) added = NULL;
	g_autoptr(GArray) removed = NULL;

	osqd_cell_set_text(&osqd_result_set_add_row(current)[0], "a", -1);
	osqd_result_set_diff(previous, current, &added, &removed);
	assert_int_equal(added->len, 1);
	assert_int_equal(removed->len, 1);
}

static void
test_pack(void **state)
{
	const gchar *const rows[] = { "a:1", "b:-", "c:d0.5", "\xff:7", NULL };
	g_autoptr(OsqdResultSet) set = make_set(rows);
	OsqdQueryMeta meta = { (gchar *)"SELECT 1", 3, 7, 1234, 99 };
	g_autoptr(GBytes) bytes = osqd_result_set_pack(set, &meta);
	OsqdQueryMeta back_meta = { 0 };
	g_autoptr(OsqdResultSet) back = NULL;
	g_autoptr(GArray) added = NULL;
	g_autoptr(GArray) removed = NULL;
	g_autoptr(GBytes) garbage = g_bytes_new_static("\xff\xff\xff", 3);
	g_autoptr(GError) error = NULL;

	back = osqd_result_set_unpack(bytes, &back_meta, &error);
	assert_non_null(back);
	assert_string_equal(back_meta.sql, "SELECT 1");
	assert_int_equal(back_meta.epoch, 3);
	assert_int_equal(back_meta.counter, 7);
	assert_int_equal(back_meta.updated, 1234);
	assert_int_equal(back_meta.events_since, 99);
	osqd_query_meta_clear(&back_meta);
	assert_int_equal(back->n_columns, 2);
	assert_string_equal(back->columns[1], "value");
	osqd_result_set_diff(set, back, &added, &removed);
	assert_int_equal(added->len, 0);
	assert_int_equal(removed->len, 0);
	/* invalid UTF-8 was made valid on the way in */
	assert_true(g_utf8_validate(((OsqdCell *)back->rows->pdata[3])[0].text, -1, NULL));
	assert_null(osqd_result_set_unpack(garbage, NULL, &error));
}

static gchar *
temp_database(void)
{
	g_autofree gchar *dir = g_dir_make_tmp("osqd-store-XXXXXX", NULL);

	return g_build_filename(dir, "osqd.db", NULL);
}

static void
remove_database(const gchar *path)
{
	g_autofree gchar *dir = g_path_get_dirname(path);
	g_autofree gchar *wal = g_strconcat(path, "-wal", NULL);
	g_autofree gchar *shm = g_strconcat(path, "-shm", NULL);

	(void)g_unlink(path);
	(void)g_unlink(wal);
	(void)g_unlink(shm);
	(void)g_rmdir(dir);
}

static GPtrArray *
two_logs(const gchar *name)
{
	GPtrArray *logs = g_ptr_array_new_with_free_func((GDestroyNotify)osqd_store_log_free);

	g_ptr_array_add(logs, osqd_store_log_new(OSQD_STORE_LOG_RESULT, name, 10, "{\"a\":1}"));
	g_ptr_array_add(logs, osqd_store_log_new(OSQD_STORE_LOG_SNAPSHOT, name, 11, "{\"b\":2}"));
	return logs;
}

static void
test_store(void **state)
{
	g_autofree gchar *path = temp_database();
	g_autoptr(GError) error = NULL;
	g_autoptr(OsqdStore) store = osqd_store_open(path, &error);
	g_autoptr(GBytes) value = g_bytes_new_static("v1", 2);
	g_autoptr(GBytes) got = NULL;
	g_autoptr(GBytes) stored = NULL;
	g_autoptr(GPtrArray) logs = two_logs("q");
	g_autoptr(GPtrArray) pending = NULL;
	g_autoptr(GPtrArray) keys = NULL;
	const gchar *const rows[] = { "a:1", NULL };
	g_autoptr(OsqdResultSet) set = make_set(rows);
	OsqdQueryMeta meta = { (gchar *)"SELECT a", 0, 0, 1, 0 };
	g_autoptr(GBytes) packed = osqd_result_set_pack(set, &meta);
	guint64 dropped = 99;
	GStatBuf st;

	assert_non_null(store);
	assert_int_equal(g_stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_true(osqd_store_get(store, "configurations", "missing", &got, &error));
	assert_null(got);
	assert_true(osqd_store_put(store, "configurations", "k", value, &error));
	assert_true(osqd_store_get(store, "configurations", "k", &got, &error));
	assert_true(g_bytes_equal(got, value));
	g_clear_pointer(&got, g_bytes_unref);

	/* a run: its result and its log lines together */
	assert_true(osqd_store_commit_run(store, "q", packed, logs, 0, &dropped, &error));
	assert_int_equal(dropped, 0);
	assert_true(osqd_store_get(store, "queries", "q", &stored, &error));
	assert_true(g_bytes_equal(stored, packed));
	keys = osqd_store_keys(store, "queries", &error);
	assert_int_equal(keys->len, 1);
	pending = osqd_store_pending_logs(store, 0, 10, &error);
	assert_int_equal(pending->len, 2);
	assert_string_equal(((OsqdStoreLog *)pending->pdata[0])->line, "{\"a\":1}");
	assert_int_equal(((OsqdStoreLog *)pending->pdata[1])->kind, OSQD_STORE_LOG_SNAPSHOT);
	assert_true(((OsqdStoreLog *)pending->pdata[0])->id <
	            ((OsqdStoreLog *)pending->pdata[1])->id);
	/* acked lines go; the rest stay across a reopen */
	assert_true(osqd_store_ack_logs(store, ((OsqdStoreLog *)pending->pdata[0])->id, &error));
	assert_int_equal(osqd_store_count_logs(store), 1);
	g_clear_pointer(&store, osqd_store_close);
	store = osqd_store_open(path, &error);
	assert_non_null(store);
	assert_int_equal(osqd_store_count_logs(store), 1);
	assert_true(osqd_store_get(store, "configurations", "k", &got, &error));
	assert_non_null(got);

	/* the cap drops the oldest lines and counts them */
	for (guint i = 0; i < 5; i++) {
		g_autoptr(GPtrArray) more = two_logs("q");
		assert_true(osqd_store_commit_run(store, "q", NULL, more, 4, &dropped, &error));
	}
	assert_int_equal(osqd_store_count_logs(store), 4);
	g_clear_pointer(&store, osqd_store_close);
	remove_database(path);
}

static void
test_store_newer_schema(void **state)
{
	g_autofree gchar *path = temp_database();
	g_autoptr(GError) error = NULL;
	g_autoptr(OsqdStore) store = osqd_store_open(path, &error);
	sqlite3 *db = NULL;

	assert_non_null(store);
	g_clear_pointer(&store, osqd_store_close);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db,
	                              "UPDATE meta SET value = '99' WHERE key = 'schema_version'",
	                              NULL, NULL, NULL),
	                 SQLITE_OK);
	(void)sqlite3_close(db);
	store = osqd_store_open(path, &error);
	assert_null(store);
	assert_true(g_error_matches(error, OSQ_ERROR, OSQ_ERROR_NOT_SUPPORTED));
	remove_database(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_diff),
		cmocka_unit_test(test_diff_width_change),
		cmocka_unit_test(test_pack),
		cmocka_unit_test(test_store),
		cmocka_unit_test(test_store_newer_schema),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
