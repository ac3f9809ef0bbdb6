/* SPDX-License-Identifier: Apache-2.0
 *
 * osq-ext-kernel-pressure: a libosq extension adding the table kernel_pressure, the kernel's
 * pressure stall information (/proc/pressure/{cpu,memory,io}, Linux >= 4.20 with PSI on): one
 * row per resource and kind ("some" tasks stalled, or "full": all non-idle tasks stalled), the
 * share of time stalled over 10, 60 and 300 s, and the total stall time in microseconds. A
 * `resource = '...'` constraint is pushed down: only that file is read. Uses only <osq.h>.
 *
 *   osq-ext-kernel-pressure --socket /var/osquery/osquery.em [--timeout 3] [--interval 3]
 *                           [--root DIR]   (read DIR/{cpu,memory,io}; for tests)
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "osq.h"

static const char *const resources[] = { "cpu", "memory", "io" };

static const OsqExtensionColumn columns[] = {
	{ "resource", OSQ_COLUMN_TYPE_TEXT, OSQ_COLUMN_OPTION_INDEX },
	{ "kind", OSQ_COLUMN_TYPE_TEXT, OSQ_COLUMN_OPTION_DEFAULT },
	{ "avg10", OSQ_COLUMN_TYPE_DOUBLE, OSQ_COLUMN_OPTION_DEFAULT },
	{ "avg60", OSQ_COLUMN_TYPE_DOUBLE, OSQ_COLUMN_OPTION_DEFAULT },
	{ "avg300", OSQ_COLUMN_TYPE_DOUBLE, OSQ_COLUMN_OPTION_DEFAULT },
	{ "total", OSQ_COLUMN_TYPE_BIGINT, OSQ_COLUMN_OPTION_DEFAULT },
};

static OsqExtension *extension;

static void
on_signal(int signum)
{
	(void)signum;
	osq_extension_stop(extension); /* async-signal-safe */
}

/* Whether the scan wants @resource: no equality constraint on "resource", or one naming it. */
static int
resource_wanted(const OsqTableRequest *request, const char *resource)
{
	int constrained = 0;

	for (size_t i = 0; i < osq_table_request_get_n_constraints(request); i++) {
		const char *column, *value;
		int op;
		osq_table_request_get_constraint(request, i, &column, &op, &value);
		if (strcmp(column, "resource") != 0 || op != OSQ_CONSTRAINT_EQUALS)
			continue;
		if (strcmp(value, resource) == 0)
			return 1;
		constrained = 1;
	}
	return !constrained;
}

/* One line: "some avg10=0.00 avg60=0.00 avg300=0.00 total=0". */
static void
add_line(OsqRowWriter *rows, const char *resource, const char *line)
{
	char kind[8];
	double avg10, avg60, avg300;
	long long total;

	if (sscanf(line, "%7s avg10=%lf avg60=%lf avg300=%lf total=%lld", kind, &avg10, &avg60,
	           &avg300, &total) != 5)
		return; /* a format this version does not know: skip the line */
	osq_row_writer_begin_row(rows);
	osq_row_writer_set_text(rows, "resource", resource);
	osq_row_writer_set_text(rows, "kind", kind);
	osq_row_writer_set_double(rows, "avg10", avg10);
	osq_row_writer_set_double(rows, "avg60", avg60);
	osq_row_writer_set_double(rows, "avg300", avg300);
	osq_row_writer_set_int64(rows, "total", total);
}

static int
kernel_pressure_generate(const OsqTableRequest *request, OsqRowWriter *rows, void *user_data,
                         char **error_message)
{
	const char *root = user_data;
	int found = 0;

	for (size_t i = 0; i < sizeof(resources) / sizeof(resources[0]); i++) {
		char path[4096], line[256];
		FILE *file;

		if (!resource_wanted(request, resources[i]))
			continue;
		(void)snprintf(path, sizeof(path), "%s/%s", root, resources[i]);
		file = fopen(path, "re");
		if (file == NULL)
			continue; /* e.g. no io pressure on this kernel */
		found++;
		while (fgets(line, sizeof(line), file) != NULL)
			add_line(rows, resources[i], line);
		(void)fclose(file);
	}
	if (found == 0 && osq_table_request_get_n_constraints(request) == 0) {
		char message[4200];
		(void)snprintf(message, sizeof(message),
		               "no pressure information in %s (a kernel without PSI?)", root);
		*error_message = strdup(message);
		return 1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	OsqClientError *error = NULL;
	const char *root = "/proc/pressure";
	struct sigaction action = { .sa_handler = on_signal };
	int rc;

	extension = osq_extension_new("kernel_pressure", "1.0.0");
	if (osq_extension_parse_args(extension, &argc, argv, &error) != 0) {
		(void)fprintf(stderr, "osq-ext-kernel-pressure: %s\n", error->message);
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--root") == 0 && i + 1 < argc) {
			root = argv[++i];
		} else {
			(void)fprintf(
			        stderr,
			        "Usage: osq-ext-kernel-pressure [--socket PATH] [--timeout S] "
			        "[--interval S] [--verbose] [--root DIR]\n");
			return 2;
		}
	}
	if (osq_extension_add_table(extension, "kernel_pressure", columns,
	                            sizeof(columns) / sizeof(columns[0]), kernel_pressure_generate,
	                            (void *)root, &error) != 0) {
		(void)fprintf(stderr, "osq-ext-kernel-pressure: %s\n", error->message);
		return 1;
	}
	(void)sigemptyset(&action.sa_mask);
	(void)sigaction(SIGINT, &action, NULL);
	(void)sigaction(SIGTERM, &action, NULL);
	rc = osq_extension_run(extension, &error);
	if (rc != 0) {
		(void)fprintf(stderr, "osq-ext-kernel-pressure: %s\n", error->message);
		osq_client_error_free(error);
	} else if (osq_extension_get_verbose(extension)) {
		(void)fprintf(stderr, "osq-ext-kernel-pressure: stopped\n");
	}
	osq_extension_free(extension);
	return rc == 0 ? 0 : 1;
}
