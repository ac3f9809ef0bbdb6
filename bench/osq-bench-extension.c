/* SPDX-License-Identifier: Apache-2.0
 *
 * The extension bench/extension_table.py measures: libosq's SDK serving `bench_rows` (10,000
 * rows x 10 columns, five BIGINT and five TEXT) and `bench_one` (one row, for the latency of a
 * single extension call). Takes osquery's extension flags (--socket, --timeout, --interval).
 */
#include <signal.h>
#include <stdio.h>

#include "osq.h"

#define BENCH_ROWS 10000

static const OsqExtensionColumn bench_columns[] = {
	{ "i0", OSQ_COLUMN_TYPE_BIGINT, 0 }, { "t0", OSQ_COLUMN_TYPE_TEXT, 0 },
	{ "i1", OSQ_COLUMN_TYPE_BIGINT, 0 }, { "t1", OSQ_COLUMN_TYPE_TEXT, 0 },
	{ "i2", OSQ_COLUMN_TYPE_BIGINT, 0 }, { "t2", OSQ_COLUMN_TYPE_TEXT, 0 },
	{ "i3", OSQ_COLUMN_TYPE_BIGINT, 0 }, { "t3", OSQ_COLUMN_TYPE_TEXT, 0 },
	{ "i4", OSQ_COLUMN_TYPE_BIGINT, 0 }, { "t4", OSQ_COLUMN_TYPE_TEXT, 0 },
};

static OsqExtension *bench_extension;

static int
bench_generate(const OsqTableRequest *request, OsqRowWriter *rows, void *user_data,
               char **error_message)
{
	int n = *(const int *)user_data;
	char text[64];

	(void)request;
	(void)error_message;
	for (int r = 0; r < n; r++) {
		osq_row_writer_begin_row(rows);
		for (size_t c = 0; c < sizeof(bench_columns) / sizeof(bench_columns[0]); c++) {
			if (bench_columns[c].type == OSQ_COLUMN_TYPE_BIGINT) {
				osq_row_writer_set_int64(rows, bench_columns[c].name,
				                         (int64_t)r * 1000 + (int64_t)c);
			} else {
				(void)snprintf(text, sizeof(text), "value-%d-%zu", r, c);
				osq_row_writer_set_text(rows, bench_columns[c].name, text);
			}
		}
	}
	return 0;
}

static void
bench_on_signal(int signum)
{
	(void)signum;
	osq_extension_stop(bench_extension);
}

int
main(int argc, char **argv)
{
	static const int many = BENCH_ROWS, one = 1;
	OsqClientError *error = NULL;
	size_t n_columns = sizeof(bench_columns) / sizeof(bench_columns[0]);
	int rc;

	bench_extension = osq_extension_new("osq_bench", "1.0.0");
	if (osq_extension_parse_args(bench_extension, &argc, argv, &error) != OSQ_CLIENT_OK ||
	    osq_extension_add_table(bench_extension, "bench_rows", bench_columns, n_columns,
	                            bench_generate, (void *)&many, &error) != OSQ_CLIENT_OK ||
	    osq_extension_add_table(bench_extension, "bench_one", bench_columns, n_columns,
	                            bench_generate, (void *)&one, &error) != OSQ_CLIENT_OK) {
		(void)fprintf(stderr, "Error: %s\n", error->message);
		osq_client_error_free(error);
		osq_extension_free(bench_extension);
		return 1;
	}
	(void)signal(SIGTERM, bench_on_signal);
	(void)signal(SIGINT, bench_on_signal);
	rc = osq_extension_run(bench_extension, &error);
	if (rc != OSQ_CLIENT_OK) {
		(void)fprintf(stderr, "Error: %s\n", error->message);
		osq_client_error_free(error);
	}
	osq_extension_free(bench_extension);
	return rc == OSQ_CLIENT_OK ? 0 : 1;
}
