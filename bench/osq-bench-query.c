/* SPDX-License-Identifier: Apache-2.0
 *
 * Times one query through libosq against a running osqd, and the same query in-process
 * through the engine (what osqi does), in one program so both see the same machine state.
 * Both sides read every cell as the caller would use it (integers as integers, text as
 * bytes, by each column's type), runs are interleaved, and the medians are printed as `key=value`
 * lines for bench/client_query.py.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "osq.h"
#include "osqd-engine.h"

/* 10,000 rows x 26 columns: integers, text and doubles, as a wide table's result would be */
static const gchar default_sql[] =
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 10000) "
        "SELECT x AS c01, x * 2 AS c02, 'text' || x AS c03, x * 3 AS c04, 'name-' || x AS c05, "
        "x / 7.0 AS c06, x % 13 AS c07, 'path/' || x || '/file' AS c08, x * 5 AS c09, "
        "'v' || (x % 100) AS c10, x + 1000000 AS c11, 'user' || (x % 50) AS c12, x * 7 AS c13, "
        "hex(x) AS c14, x * 11 AS c15, 'state-' || (x % 4) AS c16, x * 13 AS c17, "
        "'/usr/bin/prog' || x AS c18, x * 17 AS c19, 'group' || (x % 9) AS c20, x * 19 AS c21, "
        "x % 2 AS c22, x * 23 AS c23, 'cmdline --flag=' || x AS c24, x * 29 AS c25, "
        "x * 31 AS c26 FROM c";

static volatile gint64 bench_sink; /* keeps the reads from being optimised away */

static gboolean
bench_in_process(OsqdEngine *engine, const gchar *sql, gsize *n_rows, GError **error)
{
	sqlite3_stmt *stmt = osqd_engine_prepare(engine, sql, NULL, error);
	gint64 sum = 0;
	gint rc;

	if (stmt == NULL)
		return FALSE;
	*n_rows = 0;
	while ((rc = osqd_engine_step(engine, stmt, error)) == SQLITE_ROW) {
		gint n_columns = sqlite3_column_count(stmt);
		for (gint c = 0; c < n_columns; c++) {
			switch (sqlite3_column_type(stmt, c)) {
			case SQLITE_INTEGER:
				sum += sqlite3_column_int64(stmt, c);
				break;
			case SQLITE_FLOAT:
				sum += (gint64)sqlite3_column_double(stmt, c);
				break;
			case SQLITE_NULL:
				break;
			default:
				/* the text itself, as a caller would take it */
				sum += sqlite3_column_text(stmt, c)[0] +
				       sqlite3_column_bytes(stmt, c);
				break;
			}
		}
		(*n_rows)++;
	}
	(void)sqlite3_finalize(stmt);
	bench_sink = sum;
	return rc == SQLITE_DONE;
}

static gboolean
bench_client(OsqClient *client, const gchar *sql, gsize *n_rows, GError **error)
{
	OsqClientError *client_error = NULL;
	OsqResult *result = NULL;
	g_autofree OsqColumnType *types = NULL;
	gsize n_columns;
	gint64 sum = 0;

	if (osq_client_query(client, sql, &result, &client_error) != OSQ_CLIENT_OK) {
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_FAILED, "%s", client_error->message);
		osq_client_error_free(client_error);
		return FALSE;
	}
	*n_rows = osq_result_get_n_rows(result);
	n_columns = osq_result_get_n_columns(result);
	/* as a caller reads a typed result: by each column's type */
	types = g_new0(OsqColumnType, n_columns + 1);
	for (gsize c = 0; c < n_columns; c++)
		types[c] = osq_result_get_column_type(result, c);
	for (gsize r = 0; r < *n_rows; r++) {
		for (gsize c = 0; c < n_columns; c++) {
			int64_t value;
			double real;
			const char *text;
			switch (types[c]) {
			case OSQ_COLUMN_TYPE_INTEGER:
			case OSQ_COLUMN_TYPE_BIGINT:
				if (osq_result_get_int64(result, r, c, &value) == OSQ_CLIENT_OK)
					sum += value;
				break;
			case OSQ_COLUMN_TYPE_DOUBLE:
				if (osq_result_get_double(result, r, c, &real) == OSQ_CLIENT_OK)
					sum += (gint64)real;
				break;
			default:
				text = osq_result_get_text(result, r, c);
				if (text != NULL)
					sum += text[0] +
					       (gint64)osq_result_get_text_length(result, r, c);
				break;
			}
		}
	}
	osq_result_free(result);
	bench_sink = sum;
	return TRUE;
}

static gint
bench_compare_doubles(gconstpointer a, gconstpointer b)
{
	gdouble x = *(const gdouble *)a, y = *(const gdouble *)b;

	return x < y ? -1 : x > y ? 1 : 0;
}

static gdouble
bench_median(GArray *values)
{
	g_array_sort(values, bench_compare_doubles);
	return g_array_index(values, gdouble, values->len / 2);
}

int
main(int argc, char **argv)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(OsqdRegistry) registry = osqd_registry_new_builtin();
	g_autoptr(OsqdEngine) engine = NULL;
	g_autoptr(GArray) client_ms = g_array_new(FALSE, FALSE, sizeof(gdouble));
	g_autoptr(GArray) local_ms = g_array_new(FALSE, FALSE, sizeof(gdouble));
	OsqClientError *client_error = NULL;
	OsqClient *client;
	const gchar *sql = default_sql;
	guint runs = 15;
	gsize client_rows = 0, local_rows = 0;
	gboolean client_only = FALSE;

	if (argc < 2) {
		(void)fprintf(stderr, "Usage: osq-bench-query SOCKET [RUNS] [SQL] [client-only]\n");
		return 2;
	}
	if (argc > 2)
		runs = (guint)CLAMP(g_ascii_strtoull(argv[2], NULL, 10), 1, 1000);
	if (argc > 3)
		sql = argv[3];
	/* a table only the daemon has (an extension's): no in-process run */
	client_only = argc > 4 && g_strcmp0(argv[4], "client-only") == 0;
	engine = osqd_engine_new(registry, &error);
	if (engine == NULL) {
		(void)fprintf(stderr, "Error: %s\n", error->message);
		return 1;
	}
	client = osq_client_new(argv[1], 60000, &client_error);
	if (client == NULL) {
		(void)fprintf(stderr, "Error: %s\n", client_error->message);
		osq_client_error_free(client_error);
		return 1;
	}
	/* one warm-up each, then interleaved runs */
	for (guint i = 0; i <= runs; i++) {
		gint64 start = g_get_monotonic_time();
		gdouble ms;
		if (!bench_client(client, sql, &client_rows, &error))
			break;
		ms = (gdouble)(g_get_monotonic_time() - start) / 1000.0;
		if (i > 0)
			g_array_append_val(client_ms, ms);
		if (client_only)
			continue;
		start = g_get_monotonic_time();
		if (!bench_in_process(engine, sql, &local_rows, &error))
			break;
		ms = (gdouble)(g_get_monotonic_time() - start) / 1000.0;
		if (i > 0)
			g_array_append_val(local_ms, ms);
	}
	osq_client_free(client);
	if (error != NULL) {
		(void)fprintf(stderr, "Error: %s\n", error->message);
		return 1;
	}
	if (client_only) {
		(void)printf("rows=%" G_GSIZE_FORMAT "\nruns=%u\nclient_ms=%.3f\n", client_rows,
		             runs, bench_median(client_ms));
		return 0;
	}
	if (client_rows != local_rows) {
		(void)fprintf(stderr,
		              "Error: %" G_GSIZE_FORMAT " rows through the client, %" G_GSIZE_FORMAT
		              " in-process\n",
		              client_rows, local_rows);
		return 1;
	}
	(void)printf("rows=%" G_GSIZE_FORMAT "\nruns=%u\nclient_ms=%.3f\ninprocess_ms=%.3f\n",
	             client_rows, runs, bench_median(client_ms), bench_median(local_ms));
	return 0;
}
