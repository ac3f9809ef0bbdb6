/* SPDX-License-Identifier: Apache-2.0
 *
 * Engine unit tests on small in-test tables: constraint pushdown (=, IN all at once, LIKE,
 * ranges), required columns, used columns, the read-only authorizer, deadlines and
 * cancellation, the SQL functions, and UTF-8 repair.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "osqd-engine-testing.h"

enum { NUMBERS_VALUE, NUMBERS_SQUARE, NUMBERS_LABEL };
enum { REQUIRED_PATH, REQUIRED_DIRECTORY, REQUIRED_DATA };

static guint numbers_calls;
static guint numbers_last_constraints;
static gboolean numbers_square_used;

static gboolean
numbers_generate(OsqdTableContext *ctx, OsqdRowSink *sink, GError **error)
{
	g_autoptr(GArray) wanted = osqd_table_context_int_equals(ctx, NUMBERS_VALUE);
	guint n = 0;

	(void)osqd_table_context_get_constraints(ctx, &n);
	numbers_calls++;
	numbers_last_constraints = n;
	numbers_square_used = osqd_table_context_column_used(ctx, NUMBERS_SQUARE);
	for (gint64 v = 1; v <= 10; v++) {
		OsqdRow *row;
		gboolean keep = wanted == NULL;
		for (guint i = 0; wanted != NULL && i < wanted->len; i++)
			keep |= g_array_index(wanted, gint64, i) == v;
		if (!keep)
			continue;
		row = osqd_row_sink_append(sink);
		osqd_row_set_int(row, NUMBERS_VALUE, v);
		osqd_row_set_int(row, NUMBERS_SQUARE, v * v);
		osqd_row_set_printf(row, NUMBERS_LABEL, "n%" G_GINT64_FORMAT, v);
	}
	return TRUE;
}

static gboolean
required_generate(OsqdTableContext *ctx, OsqdRowSink *sink, GError **error)
{
	g_autoptr(GPtrArray) paths = osqd_table_context_text_equals(ctx, REQUIRED_PATH);
	g_autoptr(GPtrArray) likes = osqd_table_context_text_likes(ctx, REQUIRED_PATH);

	for (guint i = 0; paths != NULL && i < paths->len; i++) {
		OsqdRow *row = osqd_row_sink_append(sink);
		osqd_row_set_text(row, REQUIRED_PATH, paths->pdata[i]);
		osqd_row_set_text(row, REQUIRED_DATA, "\xff\xfe bad utf8");
	}
	for (guint i = 0; likes != NULL && i < likes->len; i++) {
		OsqdRow *row = osqd_row_sink_append(sink);
		osqd_row_set_text(row, REQUIRED_PATH, likes->pdata[i]);
	}
	return TRUE;
}

static gboolean
slow_generate(OsqdTableContext *ctx, OsqdRowSink *sink, GError **error)
{
	for (;;) {
		if (!osqd_table_context_check(ctx, error))
			return FALSE;
		g_usleep(1000);
	}
}

static const OsqdColumn numbers_columns[] = {
	{ "value", OSQD_COLUMN_TYPE_BIGINT, OSQD_COLUMN_FLAG_INDEX, "A number." },
	{ "square", OSQD_COLUMN_TYPE_BIGINT, 0, "Its square." },
	{ "label", OSQD_COLUMN_TYPE_TEXT, 0, "Its name." },
};
static const OsqdColumn required_columns[] = {
	{ "path", OSQD_COLUMN_TYPE_TEXT, OSQD_COLUMN_FLAG_INDEX | OSQD_COLUMN_FLAG_REQUIRED, "P." },
	{ "directory", OSQD_COLUMN_TYPE_TEXT, OSQD_COLUMN_FLAG_REQUIRED, "D." },
	{ "data", OSQD_COLUMN_TYPE_TEXT, 0, "Data." },
};
static const OsqdTable test_tables[] = {
	{ "test_numbers", "Numbers.", numbers_columns, 3, 0, numbers_generate, NULL },
	{ "test_required", "Required.", required_columns, 3, 0, required_generate, NULL },
	{ "test_slow", "Never ends.", numbers_columns, 3, 0, slow_generate, NULL },
};

static OsqdEngine *
engine_new(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(OsqdRegistry) registry = osqd_registry_new_builtin();
	OsqdEngine *engine;

	for (guint i = 0; i < G_N_ELEMENTS(test_tables); i++)
		assert_true(osqd_registry_add(registry, &test_tables[i], &error));
	engine = osqd_engine_new(registry, &error);
	assert_non_null(engine);
	return engine;
}

static void
assert_rows(OsqdEngine *engine, const gchar *sql, const gchar *expected)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *rows = osqd_engine_testing_run(engine, sql, &error);

	if (rows == NULL)
		fail_msg("%s: %s", sql, error->message);
	assert_string_equal(rows, expected);
}

static void
assert_error(OsqdEngine *engine, const gchar *sql, gint code)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *rows = osqd_engine_testing_run(engine, sql, &error);

	if (rows != NULL)
		fail_msg("%s: expected error %d, got rows '%s'", sql, code, rows);
	if (!g_error_matches(error, OSQ_ERROR, code))
		fail_msg("%s: expected error %d, got %d: %s", sql, code, error->code,
		         error->message);
}

static void
test_select_one(void **state)
{
	g_autoptr(OsqdEngine) engine = engine_new();

	assert_rows(engine, "SELECT 1", "1\n");
	assert_rows(engine, "SELECT count(*) > 0 FROM time", "1\n");
}

static void
test_pushdown_equals_and_in(void **state)
{
	g_autoptr(OsqdEngine) engine = engine_new();

	numbers_calls = 0;
	assert_rows(engine, "SELECT value FROM test_numbers WHERE value = 3", "3\n");
	assert_int_equal(numbers_calls, 1);
	assert_int_equal(numbers_last_constraints, 1);

	/* the whole IN list arrives in one generator call */
	numbers_calls = 0;
	assert_rows(engine,
	            "SELECT value FROM test_numbers WHERE value IN (7, 2, 7, 9) ORDER BY value",
	            "2\n7\n9\n");
	assert_int_equal(numbers_calls, 1);
	assert_int_equal(numbers_last_constraints, 3); /* SQLite hands over distinct values */

	/* a constraint on a column that is not an index is left to SQLite */
	assert_rows(engine, "SELECT value FROM test_numbers WHERE square = 16", "4\n");
	assert_int_equal(numbers_last_constraints, 0);

	/* ranges on an integer index are pushed; SQLite still filters */
	assert_rows(engine, "SELECT count(*) FROM test_numbers WHERE value > 8", "2\n");
	assert_int_equal(numbers_last_constraints, 1);
}

static void
test_used_columns(void **state)
{
	g_autoptr(OsqdEngine) engine = engine_new();

	assert_rows(engine, "SELECT label FROM test_numbers WHERE value = 2", "n2\n");
	assert_false(numbers_square_used);
	/* unused columns are not stored: NULL if read through a different path is impossible,
	 * so check the used one is right */
	assert_rows(engine, "SELECT square FROM test_numbers WHERE value = 2", "4\n");
	assert_true(numbers_square_used);
}

static void
test_required(void **state)
{
	g_autoptr(OsqdEngine) engine = engine_new();
	g_autoptr(GError) error = NULL;
	g_autofree gchar *rows =
	        osqd_engine_testing_run(engine, "SELECT * FROM test_required", &error);

	assert_null(rows);
	assert_true(g_error_matches(error, OSQ_ERROR, OSQ_ERROR_CONSTRAINT));
	assert_string_equal(error->message,
	                    "test_required requires a constraint on path or directory");
	assert_rows(engine, "SELECT path FROM test_required WHERE path = '/etc'", "/etc\n");
	assert_rows(engine, "SELECT path FROM test_required WHERE path IN ('/a', '/b') ORDER BY 1",
	            "/a\n/b\n");
	assert_rows(engine, "SELECT path FROM test_required WHERE path LIKE '/etc/%'", "/etc/%\n");
	/* supplied by a join: SQLite picks the order that feeds the required column */
	assert_rows(engine,
	            "SELECT r.path FROM test_required r JOIN test_numbers n ON r.path = n.label "
	            "WHERE n.value IN (1, 2) ORDER BY 1",
	            "n1\nn2\n");
}

static void
test_utf8_repaired(void **state)
{
	g_autoptr(OsqdEngine) engine = engine_new();
	g_autoptr(GError) error = NULL;
	g_autofree gchar *rows = osqd_engine_testing_run(
	        engine, "SELECT data FROM test_required WHERE path = 'x'", &error);

	assert_non_null(rows);
	assert_true(g_utf8_validate(rows, -1, NULL));
	assert_non_null(strstr(rows, " bad utf8"));
}

static void
test_read_only(void **state)
{
	g_autoptr(OsqdEngine) engine = engine_new();

	assert_error(engine, "ATTACH DATABASE '/tmp/osq-attach.db' AS x",
	             OSQ_ERROR_PERMISSION_DENIED);
	assert_error(engine, "CREATE TABLE main.t(x)", OSQ_ERROR_PERMISSION_DENIED);
	assert_error(engine, "SELECT load_extension('/tmp/x.so')", OSQ_ERROR_PERMISSION_DENIED);
	assert_error(engine, "PRAGMA writable_schema = 1", OSQ_ERROR_PERMISSION_DENIED);
	assert_error(engine, "PRAGMA journal_mode = OFF", OSQ_ERROR_PERMISSION_DENIED);
	assert_error(engine, "UPDATE sqlite_master SET sql = ''", OSQ_ERROR_FAILED);
	assert_rows(engine, "SELECT count(*) FROM pragma_table_info('time')", "13\n");
	assert_rows(engine, "SELECT name FROM pragma_table_info('time') LIMIT 1", "weekday\n");
	assert_rows(
	        engine, "PRAGMA table_info(uptime)",
	        "0|days|INTEGER|0|NULL|0\n1|hours|INTEGER|0|NULL|0\n2|minutes|INTEGER|0|NULL|0\n"
	        "3|seconds|INTEGER|0|NULL|0\n4|total_seconds|BIGINT|0|NULL|0\n");
	assert_error(engine, "CREATE VIRTUAL TABLE temp.f USING fts5(x)",
	             OSQ_ERROR_PERMISSION_DENIED);
	assert_error(engine, "INSERT INTO test_numbers VALUES (1, 1, 'x')",
	             OSQ_ERROR_PERMISSION_DENIED);
	/* TEMP is the caller's scratch space */
	assert_rows(engine, "CREATE TEMP TABLE scratch(x)", "");
	assert_rows(engine, "INSERT INTO scratch VALUES (42)", "");
	assert_rows(engine, "SELECT x FROM scratch", "42\n");
	assert_rows(engine, "CREATE TEMP VIEW squares AS SELECT square FROM test_numbers", "");
	assert_rows(engine, "SELECT max(square) FROM squares", "100\n");
	assert_error(engine, "SELECT * FROM no_such_table", OSQ_ERROR_FAILED);
	assert_error(engine, "SELEC 1", OSQ_ERROR_FAILED);
}

static void
test_sql_length_cap(void **state)
{
	g_autoptr(OsqdEngine) engine = engine_new();
	g_autofree gchar *sql = g_strnfill(OSQD_ENGINE_MAX_SQL_LENGTH + 10, ' ');

	memcpy(sql, "SELECT 1", 8);
	assert_error(engine, sql, OSQ_ERROR_LIMIT);
}

static void
test_deadline(void **state)
{
	g_autoptr(OsqdEngine) engine = engine_new();

	osqd_engine_set_timeout(engine, 50);
	assert_error(engine, "SELECT * FROM test_slow", OSQ_ERROR_TIMED_OUT);
	assert_error(engine,
	             "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
	             "SELECT count(*) FROM c",
	             OSQ_ERROR_TIMED_OUT);
	/* the next statement gets a fresh deadline */
	assert_rows(engine, "SELECT 2", "2\n");
}

static gpointer
interrupt_later(gpointer data)
{
	g_usleep(50000);
	osqd_engine_interrupt(data);
	return NULL;
}

static void
test_interrupt(void **state)
{
	g_autoptr(OsqdEngine) engine = engine_new();
	GThread *thread = g_thread_new("interrupt", interrupt_later, engine);

	assert_error(engine, "SELECT * FROM test_slow", OSQ_ERROR_CANCELLED);
	g_thread_join(thread);
	thread = g_thread_new("interrupt", interrupt_later, engine);
	assert_error(engine,
	             "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
	             "SELECT count(*) FROM c",
	             OSQ_ERROR_CANCELLED);
	g_thread_join(thread);
	assert_rows(engine, "SELECT 3", "3\n");
}

static void
test_functions(void **state)
{
	g_autoptr(OsqdEngine) engine = engine_new();

	assert_rows(engine, "SELECT split('a,b,,c', ',', 2)", "c\n");
	assert_rows(engine, "SELECT split('a b', ' ', 5)", "NULL\n");
	assert_rows(engine, "SELECT regex_split('a1b22c', '[0-9]+', 1)", "b\n");
	assert_rows(engine, "SELECT regex_match('version 5.23.1', '([0-9]+)\\.([0-9]+)', 2)",
	            "23\n");
	assert_rows(engine, "SELECT regex_match('abc', 'x', 0)", "NULL\n");
	assert_rows(engine, "SELECT 'abc' REGEXP '^a.c$', 'abd' REGEXP '^a.c$'", "1|0\n");
	assert_error(engine, "SELECT regex_match('a', '(', 0)", OSQ_ERROR_FAILED);
	assert_rows(engine, "SELECT concat('a', NULL, 1, 'b')", "a1b\n");
	assert_rows(engine, "SELECT concat_ws('-', 'a', NULL, 'b')", "a-b\n");
	assert_rows(engine, "SELECT inet_aton('1.2.3.4'), inet_aton('nope')", "16909060|NULL\n");
	assert_rows(
	        engine,
	        "SELECT in_cidr_block('10.0.0.0/8', '10.1.2.3'), "
	        "in_cidr_block('10.0.0.0/8', '11.0.0.1'), in_cidr_block('fe80::/10', 'fe80::1')",
	        "1|0|1\n");
	assert_rows(engine, "SELECT to_base64('hi'), from_base64('aGk=')", "aGk=|hi\n");
	assert_rows(engine, "SELECT conditional_to_base64('plain'), conditional_to_base64(char(1))",
	            "plain|AQ==\n");
	assert_rows(engine, "SELECT sha256('abc')",
	            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\n");
	assert_rows(engine, "SELECT md5(''), sqrt(16)", "d41d8cd98f00b204e9800998ecf8427e|4.0\n");
}

/* ---- tables added and removed at run time ---- */

static gint dynamic_freed;

static void
dynamic_table_free(gpointer data)
{
	dynamic_freed++;
	g_free(data);
}

static OsqdDynamicTable *
dynamic_table_new(const gchar *name)
{
	OsqdDynamicTable *dynamic = g_new0(OsqdDynamicTable, 1);

	dynamic->table.name = name;
	dynamic->table.description = "Numbers, added at run time.";
	dynamic->table.columns = numbers_columns;
	dynamic->table.n_columns = G_N_ELEMENTS(numbers_columns);
	dynamic->table.flags = OSQD_TABLE_FLAG_DYNAMIC;
	dynamic->table.generate = numbers_generate;
	dynamic->ref_count = 1;
	dynamic->free_func = dynamic_table_free;
	return dynamic;
}

static void
test_dynamic_tables(void **state)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(OsqdRegistry) registry = osqd_registry_new_builtin();
	g_autoptr(OsqdEngine) engine = osqd_engine_new(registry, &error);
	OsqdDynamicTable *first = dynamic_table_new("ext_numbers");
	OsqdDynamicTable *second = dynamic_table_new("ext_numbers");
	sqlite3_stmt *open_stmt;
	guint64 generation = osqd_registry_get_generation(registry);

	dynamic_freed = 0;
	assert_non_null(engine);
	assert_error(engine, "SELECT * FROM ext_numbers", OSQ_ERROR_FAILED);
	/* added after the engine was made: the next statement sees it */
	assert_true(osqd_registry_add(registry, &first->table, &error));
	osqd_table_unref(&first->table);
	assert_true(osqd_registry_get_generation(registry) > generation);
	assert_rows(engine, "SELECT square FROM ext_numbers WHERE value = 3", "9\n");
	assert_false(osqd_registry_add(registry, &second->table, NULL));

	/* removed while a statement on it is open: that statement still runs; the table goes from
	 * the connection at the next prepare with no statement open, and is freed then */
	open_stmt = osqd_engine_prepare(engine, "SELECT value FROM ext_numbers", NULL, &error);
	assert_non_null(open_stmt);
	assert_true(osqd_registry_remove(registry, "ext_numbers"));
	assert_false(osqd_registry_remove(registry, "ext_numbers"));
	assert_int_equal(dynamic_freed, 0);
	assert_int_equal(osqd_engine_step(engine, open_stmt, &error), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int64(open_stmt, 0), 1);
	(void)sqlite3_finalize(open_stmt);
	assert_error(engine, "SELECT * FROM ext_numbers", OSQ_ERROR_FAILED);
	assert_int_equal(dynamic_freed, 1);

	/* the same name again, a new table: attached afresh */
	assert_true(osqd_registry_add(registry, &second->table, &error));
	osqd_table_unref(&second->table);
	assert_rows(engine, "SELECT count(*) FROM ext_numbers", "10\n");
	g_clear_pointer(&engine, osqd_engine_free);
	assert_int_equal(dynamic_freed, 1);
	assert_true(osqd_registry_remove(registry, "ext_numbers"));
	assert_int_equal(dynamic_freed, 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_select_one),
		cmocka_unit_test(test_pushdown_equals_and_in),
		cmocka_unit_test(test_used_columns),
		cmocka_unit_test(test_required),
		cmocka_unit_test(test_utf8_repaired),
		cmocka_unit_test(test_read_only),
		cmocka_unit_test(test_sql_length_cap),
		cmocka_unit_test(test_deadline),
		cmocka_unit_test(test_interrupt),
		cmocka_unit_test(test_functions),
		cmocka_unit_test(test_dynamic_tables),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
