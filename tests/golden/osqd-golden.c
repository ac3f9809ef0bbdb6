/* SPDX-License-Identifier: Apache-2.0
 *
 * Golden table tests. Every tests/golden/cases/<name>.sql runs, statement by statement, against
 * the engine with a fixture root: tests/fixtures/<family>/ when the file starts with a
 * "-- root: <family>" line, else tests/fixtures/rootfs. The output (the constraints each
 * generator was handed and how many rows it made, the query plan, then the typed rows) must equal
 * <name>.out. The trace is what proves pushdown: a generator that ignored `pid = 1` would report
 * every fixture process. OSQ_GOLDEN_UPDATE=1 rewrites the .out files (review the diff!).
 *
 * Usage: osqd-golden CASES_DIR FIXTURES_DIR [NAME...]
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "osqd-engine.h"

static const gchar *
op_name(OsqdOp op)
{
	switch (op) {
	case OSQD_OP_EQ:
		return "=";
	case OSQD_OP_GT:
		return ">";
	case OSQD_OP_LE:
		return "<=";
	case OSQD_OP_LT:
		return "<";
	case OSQD_OP_GE:
		return ">=";
	case OSQD_OP_LIKE:
		return "LIKE";
	case OSQD_OP_GLOB:
		return "GLOB";
	}
	return "?";
}

static void
append_value(GString *out, const OsqdValue *value)
{
	switch (value->kind) {
	case OSQD_VALUE_INTEGER:
		g_string_append_printf(out, "%" G_GINT64_FORMAT, value->integer);
		break;
	case OSQD_VALUE_DOUBLE:
		g_string_append_printf(out, "%.17g", value->real);
		break;
	case OSQD_VALUE_TEXT:
		g_string_append_printf(out, "'%s'", value->bytes.data);
		break;
	case OSQD_VALUE_BLOB:
		g_string_append_printf(out, "x(%" G_GSIZE_FORMAT " bytes)", value->bytes.len);
		break;
	default:
		g_string_append(out, "NULL");
	}
}

static void
trace_cb(OsqdTableContext *ctx, guint n_rows, gpointer user_data)
{
	GString *out = user_data;
	const OsqdTable *table = osqd_table_context_get_table(ctx);
	guint n = 0;
	const OsqdConstraint *c = osqd_table_context_get_constraints(ctx, &n);

	g_string_append_printf(out, "generate %s [", table->name);
	for (guint i = 0; i < n; i++) {
		g_string_append_printf(out, "%s%s %s ", i > 0 ? ", " : "",
		                       table->columns[c[i].column].name, op_name(c[i].op));
		append_value(out, &c[i].value);
	}
	g_string_append_printf(out, "] -> %u rows\n", n_rows);
}

static void
append_row(GString *out, sqlite3_stmt *stmt)
{
	for (int i = 0; i < sqlite3_column_count(stmt); i++) {
		if (i > 0)
			g_string_append_c(out, '|');
		switch (sqlite3_column_type(stmt, i)) {
		case SQLITE_INTEGER:
			g_string_append_printf(out, "%lld",
			                       (long long)sqlite3_column_int64(stmt, i));
			break;
		case SQLITE_FLOAT:
			g_string_append_printf(out, "%.17g", sqlite3_column_double(stmt, i));
			break;
		case SQLITE_TEXT:
			g_string_append_printf(out, "'%s'", sqlite3_column_text(stmt, i));
			break;
		case SQLITE_BLOB:
			g_string_append_printf(out, "x(%d bytes)", sqlite3_column_bytes(stmt, i));
			break;
		default:
			g_string_append(out, "NULL");
		}
	}
	g_string_append_c(out, '\n');
}

static void
append_plan(GString *out, OsqdEngine *engine, const gchar *sql, gsize len)
{
	g_autofree gchar *explain = g_strdup_printf("EXPLAIN QUERY PLAN %.*s", (int)len, sql);
	sqlite3_stmt *stmt = NULL;

	if (sqlite3_prepare_v2(osqd_engine_get_database(engine), explain, -1, &stmt, NULL) !=
	    SQLITE_OK) {
		sqlite3_finalize(stmt);
		return;
	}
	while (sqlite3_step(stmt) == SQLITE_ROW)
		g_string_append_printf(out, "plan: %s\n", sqlite3_column_text(stmt, 3));
	sqlite3_finalize(stmt);
}

static void
run_case(OsqdEngine *engine, const gchar *sql, GString *out)
{
	const gchar *next = sql;

	while (next != NULL && *next != '\0') {
		g_autoptr(GError) error = NULL;
		const gchar *start = next, *tail = NULL;
		g_autofree gchar *text = NULL;
		sqlite3_stmt *stmt = osqd_engine_prepare(engine, start, &tail, &error);
		gint rc;

		next = tail;
		if (stmt == NULL && error == NULL)
			break;
		/* leading blanks and "--" comment lines are not part of the echoed statement */
		for (;;) {
			while (g_ascii_isspace(*start))
				start++;
			if (!g_str_has_prefix(start, "--") || strchr(start, '\n') == NULL)
				break;
			start = strchr(start, '\n') + 1;
		}
		text = g_strndup(start, tail != NULL ? (gsize)(tail - start) : strlen(start));
		g_string_append_printf(out, "> %s\n", g_strstrip(text));
		if (stmt == NULL) {
			g_string_append_printf(out, "error %d: %s\n\n", error->code,
			                       error->message);
			if (tail == NULL || tail <= start)
				break;
			continue; /* on with the next statement */
		}
		if (g_ascii_strncasecmp(text, "SELECT", 6) == 0 ||
		    g_ascii_strncasecmp(text, "WITH", 4) == 0)
			append_plan(out, engine, text, strlen(text));
		for (int i = 0; i < sqlite3_column_count(stmt); i++)
			g_string_append_printf(out, "%s%s", i > 0 ? "|" : "",
			                       sqlite3_column_name(stmt, i));
		g_string_append_c(out, '\n');
		while ((rc = osqd_engine_step(engine, stmt, &error)) == SQLITE_ROW)
			append_row(out, stmt);
		if (rc < 0)
			g_string_append_printf(out, "error %d: %s\n", error->code, error->message);
		g_string_append_c(out, '\n');
		sqlite3_finalize(stmt);
	}
}

/* The fixture root a case asks for with its first line, "-- root: <family>". */
static gchar *
case_root(const gchar *fixtures, const gchar *sql)
{
	g_autofree gchar *family = NULL;

	if (g_str_has_prefix(sql, "-- root:")) {
		const gchar *end = strchr(sql, '\n');
		family = g_strndup(sql + 8, end != NULL ? (gsize)(end - sql - 8) : strlen(sql + 8));
		g_strstrip(family);
	}
	return g_build_filename(fixtures, family != NULL ? family : "rootfs", NULL);
}

static gboolean
check_case(const gchar *dir, const gchar *name, const gchar *fixtures, gboolean update)
{
	g_autofree gchar *root = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(OsqdRegistry) registry = osqd_registry_new_builtin();
	g_autoptr(OsqdEngine) engine = osqd_engine_new(registry, &error);
	g_autofree gchar *sql_path = g_strdup_printf("%s/%s.sql", dir, name);
	g_autofree gchar *out_path = g_strdup_printf("%s/%s.out", dir, name);
	g_autofree gchar *sql = NULL, *expected = NULL;
	g_autoptr(GString) out = g_string_new(NULL);

	if (engine == NULL || !g_file_get_contents(sql_path, &sql, NULL, &error)) {
		g_printerr("%s: %s\n", name, error->message);
		return FALSE;
	}
	root = case_root(fixtures, sql);
	osqd_engine_set_root(engine, root);
	osqd_engine_set_trace(engine, trace_cb, out);
	run_case(engine, sql, out);
	if (update) {
		if (!g_file_set_contents(out_path, out->str, (gssize)out->len, &error)) {
			g_printerr("%s: %s\n", name, error->message);
			return FALSE;
		}
		g_print("updated %s\n", out_path);
		return TRUE;
	}
	if (!g_file_get_contents(out_path, &expected, NULL, &error)) {
		g_printerr("%s: %s (run with OSQ_GOLDEN_UPDATE=1 to create it)\n", name,
		           error->message);
		return FALSE;
	}
	if (g_strcmp0(expected, out->str) != 0) {
		g_autofree gchar *actual_path = g_strdup_printf("%s.actual", name);
		(void)g_file_set_contents(actual_path, out->str, (gssize)out->len, NULL);
		g_printerr("FAIL %s: output differs from %s (actual output in %s)\n", name,
		           out_path, actual_path);
		return FALSE;
	}
	g_print("ok %s\n", name);
	return TRUE;
}

static gint
compare_names(gconstpointer a, gconstpointer b)
{
	return g_strcmp0(*(const gchar *const *)a, *(const gchar *const *)b);
}

int
main(int argc, char **argv)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
	gboolean update = g_strcmp0(g_getenv("OSQ_GOLDEN_UPDATE"), "1") == 0;
	guint failed = 0;

	if (argc < 3) {
		g_printerr("usage: %s CASES_DIR FIXTURES_DIR [NAME...]\n", argv[0]);
		return 2;
	}
	if (argc > 3) {
		for (int i = 3; i < argc; i++)
			g_ptr_array_add(names, g_strdup(argv[i]));
	} else {
		g_autoptr(GDir) dir = g_dir_open(argv[1], 0, &error);
		const gchar *entry;
		if (dir == NULL) {
			g_printerr("%s\n", error->message);
			return 2;
		}
		while ((entry = g_dir_read_name(dir)) != NULL) {
			if (g_str_has_suffix(entry, ".sql"))
				g_ptr_array_add(names, g_strndup(entry, strlen(entry) - 4));
		}
	}
	g_ptr_array_sort(names, compare_names);
	for (guint i = 0; i < names->len; i++)
		failed += !check_case(argv[1], names->pdata[i], argv[2], update);
	g_print("%u passed, %u failed\n", names->len - failed, failed);
	return failed > 0 ? 1 : 0;
}
