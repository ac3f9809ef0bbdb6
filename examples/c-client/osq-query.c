/* SPDX-License-Identifier: Apache-2.0
 *
 * osq-query: a small libosq example. Runs SQL on an osq (or osquery) daemon and prints the
 * rows, either as `a|b|c` lines under a header line, or as JSON where integers and doubles are
 * numbers and NULL is null (the column types say which). With "-" as the SQL it reads one
 * statement per line from stdin on the same client, which shows the reconnect behaviour: a
 * failing call prints its error, and the next one connects again. Uses only <osq.h>.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "osq.h"

typedef struct {
	int json;
	int columns;
	int extensions;
	int ping;
	int timeout_ms;
	const char *socket_path;
	const char *sql;
} Options;

static void
usage(FILE *out)
{
	(void)fputs("Usage: osq-query [--json] [--timeout MS] SOCKET SQL\n"
	            "       osq-query --columns SOCKET SQL\n"
	            "       osq-query --extensions | --ping SOCKET\n"
	            "Runs SQL on the osq daemon listening on SOCKET and prints the rows.\n"
	            "With SQL \"-\", runs each line read from stdin as a query.\n"
	            "--columns prints the result columns of SQL (name|type) without running it;\n"
	            "--extensions lists the registered extensions; --ping checks the daemon.\n",
	            out);
}

static void
print_json_string(const char *text, size_t len)
{
	(void)putchar('"');
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		if (c == '"' || c == '\\')
			(void)printf("\\%c", c);
		else if (c == '\n')
			(void)fputs("\\n", stdout);
		else if (c == '\t')
			(void)fputs("\\t", stdout);
		else if (c < 0x20)
			(void)printf("\\u%04x", c);
		else
			(void)putchar(c);
	}
	(void)putchar('"');
}

static void
print_json_value(const OsqResult *result, size_t row, size_t column)
{
	const char *text = osq_result_get_text(result, row, column);
	int64_t number;
	double real;

	if (text == NULL) {
		(void)fputs("null", stdout);
	} else if (osq_result_get_int64(result, row, column, &number) == OSQ_CLIENT_OK) {
		(void)printf("%lld", (long long)number);
	} else if (osq_result_get_column_type(result, column) == OSQ_COLUMN_TYPE_DOUBLE &&
	           osq_result_get_double(result, row, column, &real) == OSQ_CLIENT_OK &&
	           isfinite(real)) {
		(void)fputs(text, stdout); /* the daemon's rendering is a JSON number */
	} else {
		print_json_string(text, osq_result_get_text_length(result, row, column));
	}
}

static void
print_json(const OsqResult *result)
{
	size_t n_rows = osq_result_get_n_rows(result);
	size_t n_columns = osq_result_get_n_columns(result);

	(void)fputs("[\n", stdout);
	for (size_t r = 0; r < n_rows; r++) {
		(void)fputs("  {", stdout);
		for (size_t c = 0; c < n_columns; c++) {
			const char *name = osq_result_get_column_name(result, c);
			if (c > 0)
				(void)putchar(',');
			print_json_string(name, strlen(name));
			(void)putchar(':');
			print_json_value(result, r, c);
		}
		(void)fputs(r + 1 < n_rows ? "},\n" : "}\n", stdout);
	}
	(void)fputs("]\n", stdout);
}

static void
print_list(const OsqResult *result)
{
	size_t n_rows = osq_result_get_n_rows(result);
	size_t n_columns = osq_result_get_n_columns(result);

	for (size_t c = 0; c < n_columns; c++)
		(void)printf("%s%s", c > 0 ? "|" : "", osq_result_get_column_name(result, c));
	if (n_columns > 0)
		(void)putchar('\n');
	for (size_t r = 0; r < n_rows; r++) {
		for (size_t c = 0; c < n_columns; c++) {
			const char *text = osq_result_get_text(result, r, c);
			if (c > 0)
				(void)putchar('|');
			if (text != NULL)
				(void)fwrite(text, 1, osq_result_get_text_length(result, r, c),
				             stdout);
		}
		(void)putchar('\n');
	}
}

static int
print_error(OsqClientError *error)
{
	(void)fflush(stdout);
	(void)fprintf(stderr, "Error: %s\n", error->message);
	osq_client_error_free(error);
	return 1;
}

static int
run_columns(OsqClient *client, const char *sql)
{
	OsqClientError *error = NULL;
	OsqResult *columns = NULL;

	if (osq_client_get_columns(client, sql, &columns, &error) != OSQ_CLIENT_OK)
		return print_error(error);
	(void)puts("name|type");
	for (size_t c = 0; c < osq_result_get_n_columns(columns); c++)
		(void)printf("%s|%s\n", osq_result_get_column_name(columns, c),
		             osq_result_get_column_type_name(columns, c));
	osq_result_free(columns);
	return 0;
}

static int
run_extensions(OsqClient *client)
{
	OsqClientError *error = NULL;
	OsqExtensionList *extensions = NULL;

	if (osq_client_extensions(client, &extensions, &error) != OSQ_CLIENT_OK)
		return print_error(error);
	(void)puts("uuid|name|version|sdk_version");
	for (size_t i = 0; i < osq_extension_list_get_length(extensions); i++) {
		const OsqExtensionInfo *info = osq_extension_list_get(extensions, i);
		(void)printf("%lld|%s|%s|%s\n", (long long)info->uuid, info->name, info->version,
		             info->sdk_version);
	}
	osq_extension_list_free(extensions);
	return 0;
}

static int
run_ping(OsqClient *client)
{
	OsqClientError *error = NULL;

	if (osq_client_ping(client, &error) != OSQ_CLIENT_OK)
		return print_error(error);
	(void)puts("pong");
	return 0;
}

/* Runs one query; returns 0 or 1. */
static int
run_query(OsqClient *client, const Options *options, const char *sql)
{
	OsqClientError *error = NULL;
	OsqResult *result = NULL;

	if (osq_client_query(client, sql, &result, &error) != OSQ_CLIENT_OK)
		return print_error(error);
	if (options->json)
		print_json(result);
	else
		print_list(result);
	(void)fflush(stdout);
	osq_result_free(result);
	return 0;
}

static int
run_stdin(OsqClient *client, const Options *options)
{
	char *line = NULL;
	size_t size = 0;
	ssize_t len;
	int status = 0;

	while ((len = getline(&line, &size, stdin)) >= 0) {
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (len == 0)
			continue;
		if (run_query(client, options, line) != 0)
			status = 1;
	}
	free(line);
	return status;
}

static int
parse_args(int argc, char **argv, Options *options)
{
	int positional = 0;

	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		if (strcmp(arg, "--json") == 0) {
			options->json = 1;
		} else if (strcmp(arg, "--columns") == 0) {
			options->columns = 1;
		} else if (strcmp(arg, "--extensions") == 0) {
			options->extensions = 1;
		} else if (strcmp(arg, "--ping") == 0) {
			options->ping = 1;
		} else if (strcmp(arg, "--timeout") == 0 && i + 1 < argc) {
			char *end = NULL;
			long value;
			errno = 0;
			value = strtol(argv[++i], &end, 10);
			if (errno != 0 || *end != '\0' || value < 0 || value > 86400000)
				return -1;
			options->timeout_ms = (int)value;
		} else if (strcmp(arg, "--help") == 0) {
			usage(stdout);
			exit(0);
		} else if (positional == 0) {
			options->socket_path = arg;
			positional++;
		} else if (positional == 1) {
			options->sql = arg;
			positional++;
		} else {
			return -1;
		}
	}
	if (options->extensions || options->ping)
		return positional == 1 ? 0 : -1;
	return positional == 2 ? 0 : -1;
}

int
main(int argc, char **argv)
{
	Options options = { .timeout_ms = 0 };
	OsqClientError *error = NULL;
	OsqClient *client;
	int status;

	if (parse_args(argc, argv, &options) != 0) {
		usage(stderr);
		return 2;
	}
	client = osq_client_new(options.socket_path, options.timeout_ms, &error);
	if (client == NULL) {
		(void)fprintf(stderr, "Error: %s\n", error->message);
		osq_client_error_free(error);
		return 1;
	}
	if (options.ping)
		status = run_ping(client);
	else if (options.extensions)
		status = run_extensions(client);
	else if (options.columns)
		status = run_columns(client, options.sql);
	else if (strcmp(options.sql, "-") == 0)
		status = run_stdin(client, &options);
	else
		status = run_query(client, &options, options.sql);
	osq_client_free(client);
	return status;
}
