/* SPDX-License-Identifier: Apache-2.0
 *
 * Remote statements. SQL is split into statements here (with sqlite3_complete(), as the input
 * loop does) and each is sent on its own, so a script prints one result per statement exactly
 * as in-process. A libosq error becomes an OSQ_ERROR with the daemon's message; a broken
 * connection is reopened by libosq on the next statement. Ctrl-C calls osq_client_cancel(),
 * which drops the connection, and the daemon cancels the query of a client that hung up. A
 * live follow polls with a short wait, so Ctrl-C ends it within one wait even when it arrives
 * between two polls.
 */
#include "config.h"

#include "osqi-remote.h"

#include <sqlite3.h>
#include <string.h>
#include <unistd.h>

#include "osq-error.h"

/* How long one poll of a live follow waits for new events. */
#define OSQI_REMOTE_FOLLOW_WAIT_MS 500

G_DEFINE_AUTOPTR_CLEANUP_FUNC(OsqFollow, osq_follow_free)

/* SQLite's own virtual table modules, left out of the daemon's table list */
static const gchar *const remote_sqlite_modules[] = {
	"bytecode",      "carray",        "completion",   "csv",
	"dbstat",        "fts3",          "fts3tokenize", "fts4",
	"fts4aux",       "fts5",          "fts5vocab",    "generate_series",
	"geopoly",       "json_each",     "json_tree",    "jsonb_each",
	"jsonb_tree",    "rtree",         "rtree_i32",    "series",
	"sqlite_dbdata", "sqlite_dbpage", "sqlite_dbptr", "sqlite_stmt",
	"tables_used",   "zipfile",       NULL,
};

static gboolean
remote_set_error(GError **error, OsqClientError *client_error)
{
	gint code = client_error->code;

	/* the public codes 1-10 are OSQ_ERROR's */
	if (code < OSQ_ERROR_FAILED || code > OSQ_ERROR_IO)
		code = code == OSQ_CLIENT_ERROR_TYPE ? OSQ_ERROR_INVALID_ARGUMENT
		                                     : OSQ_ERROR_FAILED;
	/* Ctrl-C reads as it does in-process */
	g_set_error_literal(error, OSQ_ERROR, code,
	                    code == OSQ_ERROR_CANCELLED ? "query cancelled"
	                                                : client_error->message);
	osq_client_error_free(client_error);
	return FALSE;
}

gboolean
osqi_remote_connect(OsqiShell *shell, const gchar *path, GError **error)
{
	OsqClientError *client_error = NULL;
	OsqClient *client =
	        osq_client_new(path, (int)MIN(shell->timeout_ms, G_MAXINT), &client_error);

	if (client == NULL)
		return remote_set_error(error, client_error);
	osq_client_free(shell->client);
	shell->client = client;
	return TRUE;
}

void
osqi_remote_disconnect(OsqiShell *shell)
{
	g_clear_pointer(&shell->client, osq_client_free);
}

gchar *
osqi_remote_next_statement(const gchar *sql, const gchar **tail)
{
	const gchar *p = sql;

	while ((p = strchr(p, ';')) != NULL) {
		g_autofree gchar *statement = g_strndup(sql, (gsize)(p + 1 - sql));
		p++;
		if (sqlite3_complete(statement)) {
			*tail = p;
			return g_steal_pointer(&statement);
		}
	}
	*tail = sql + strlen(sql);
	return g_strdup(sql);
}

static void
remote_add_cell(OsqiResult *out, const OsqResult *in, gsize row, gsize column)
{
	const gchar *text = osq_result_get_text(in, row, column);
	gsize len = osq_result_get_text_length(in, row, column);
	int64_t number;
	gdouble real;
	gchar *end = NULL;

	if (text == NULL) {
		osqi_result_add_null(out);
		return;
	}
	switch (osq_result_get_column_type(in, column)) {
	case OSQ_COLUMN_TYPE_INTEGER:
	case OSQ_COLUMN_TYPE_BIGINT:
	case OSQ_COLUMN_TYPE_UNSIGNED_BIGINT:
		if (osq_result_get_int64(in, row, column, &number) == OSQ_CLIENT_OK) {
			osqi_result_add_int(out, number);
			return;
		}
		break;
	case OSQ_COLUMN_TYPE_DOUBLE:
		real = g_ascii_strtod(text, &end);
		if (len > 0 && end == text + len) {
			osqi_result_add_double(out, real);
			return;
		}
		break;
	case OSQ_COLUMN_TYPE_BLOB:
		osqi_result_add_blob(out, text, len);
		return;
	case OSQ_COLUMN_TYPE_TEXT:
	case OSQ_COLUMN_TYPE_UNKNOWN:
	default:
		break;
	}
	osqi_result_add_text(out, text, len);
}

void
osqi_remote_fill_result(OsqiResult *out, const OsqResult *in)
{
	gsize n_rows = osq_result_get_n_rows(in);
	gsize n_columns = osq_result_get_n_columns(in);

	g_return_if_fail(n_columns == osqi_result_get_n_columns(out));
	for (gsize r = 0; r < n_rows; r++) {
		for (gsize c = 0; c < n_columns; c++)
			remote_add_cell(out, in, r, c);
	}
}

static OsqiResult *
remote_result_new(const OsqResult *in)
{
	gsize n_columns = osq_result_get_n_columns(in);
	OsqiResult *out = osqi_result_new((guint)n_columns);

	for (gsize c = 0; c < n_columns; c++)
		osqi_result_set_column_name(out, (guint)c, osq_result_get_column_name(in, c));
	return out;
}

/* Runs @sql on the daemon; the shell's running flag is up meanwhile, for Ctrl-C. */
static OsqResult *
remote_query(OsqiShell *shell, const gchar *sql, GError **error)
{
	OsqClientError *client_error = NULL;
	OsqResult *result = NULL;
	gint code;

	shell->running = 1;
	code = osq_client_query(shell->client, sql, &result, &client_error);
	shell->running = 0;
	if (code != OSQ_CLIENT_OK) {
		(void)remote_set_error(error, client_error);
		return NULL;
	}
	return result;
}

gboolean
osqi_remote_run_statement(OsqiShell *shell, const gchar *sql, GError **error)
{
	g_autoptr(OsqiResult) rows = NULL;
	g_autoptr(GString) text = g_string_new(NULL);
	OsqResult *result = remote_query(shell, sql, error);
	gboolean ok;

	if (result == NULL)
		return FALSE;
	rows = remote_result_new(result);
	osqi_remote_fill_result(rows, result);
	osq_result_free(result);
	ok = osqi_output_print(&shell->output, rows, TRUE, text, error);
	(void)fwrite(text->str, 1, text->len, shell->out);
	return ok;
}

/* Prints one batch of a follow and flushes it. A streaming mode carries on in *@rows (headers
 * once, one JSON array); pretty mode prints each batch as a table of its own. */
static gboolean
remote_follow_print(OsqiShell *shell, OsqiResult **rows, const OsqResult *batch, GError **error)
{
	g_autoptr(GString) text = g_string_new(NULL);
	gboolean streams = osqi_output_streams(&shell->output);
	gboolean ok;

	if (osq_result_get_n_rows(batch) == 0)
		return TRUE;
	if (*rows != NULL && osqi_result_get_n_columns(*rows) != osq_result_get_n_columns(batch))
		g_clear_pointer(rows, osqi_result_free);
	if (*rows == NULL)
		*rows = remote_result_new(batch);
	osqi_remote_fill_result(*rows, batch);
	ok = osqi_output_print(&shell->output, *rows, !streams, text, error);
	if (!streams)
		g_clear_pointer(rows, osqi_result_free);
	(void)fwrite(text->str, 1, text->len, shell->out);
	(void)fflush(shell->out);
	return ok;
}

/* Polls @follow until Ctrl-C or an error. */
static gboolean
remote_follow_loop(OsqiShell *shell, OsqFollow *follow, OsqiResult **rows, GError **error)
{
	while (!osqi_shell_take_interrupt()) {
		OsqClientError *client_error = NULL;
		OsqResult *batch = NULL;
		gboolean ok;
		gint code;

		shell->running = 1;
		code = osq_follow_next(follow, OSQI_REMOTE_FOLLOW_WAIT_MS, 0, &batch,
		                       &client_error);
		shell->running = 0;
		if (code == OSQ_CLIENT_ERROR_CANCELLED) {
			/* Ctrl-C during the poll */
			osq_client_error_free(client_error);
			return TRUE;
		}
		if (code != OSQ_CLIENT_OK)
			return remote_set_error(error, client_error);
		ok = remote_follow_print(shell, rows, batch, error);
		osq_result_free(batch);
		if (!ok)
			return FALSE;
	}
	return TRUE;
}

gboolean
osqi_remote_follow(OsqiShell *shell, const gchar *sql, GError **error)
{
	g_autoptr(OsqiResult) rows = NULL;
	g_autoptr(OsqFollow) follow = NULL;
	g_autoptr(GString) text = g_string_new(NULL);
	OsqClientError *client_error = NULL;
	struct sigaction previous;
	gboolean ok = TRUE;
	gint code;

	/* Ctrl-C stops the follow, not osqi, whatever the input is */
	(void)sigaction(SIGINT, NULL, &previous);
	osqi_shell_catch_interrupts(shell);
	(void)osqi_shell_take_interrupt();
	shell->running = 1;
	code = osq_client_follow(shell->client, sql, false, &follow, &client_error);
	shell->running = 0;
	if (code == OSQ_CLIENT_ERROR_CANCELLED)
		osq_client_error_free(client_error);
	else if (code != OSQ_CLIENT_OK)
		ok = remote_set_error(error, client_error);
	else
		ok = remote_follow_loop(shell, follow, &rows, error);
	/* the end of a stream: a JSON array is closed */
	if (rows != NULL && !osqi_output_print(&shell->output, rows, TRUE, text, ok ? error : NULL))
		ok = FALSE;
	/* ended by Ctrl-C at a terminal: the prompt goes on a line of its own, not after ^C */
	if (ok && isatty(fileno(shell->out)))
		g_string_append_c(text, '\n');
	(void)fwrite(text->str, 1, text->len, shell->out);
	(void)fflush(shell->out);
	(void)osqi_shell_take_interrupt();
	(void)sigaction(SIGINT, &previous, NULL);
	return ok;
}

static gint
remote_compare_names(gconstpointer a, gconstpointer b)
{
	return g_strcmp0(*(const gchar *const *)a, *(const gchar *const *)b);
}

GPtrArray *
osqi_remote_list_tables(OsqiShell *shell, GError **error)
{
	g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
	gboolean typed = osq_client_is_typed(shell->client);
	OsqResult *result;

	/* osq answers PRAGMA module_list; osquery keeps its tables in osquery_registry */
	result = remote_query(shell,
	                      typed ? "PRAGMA module_list"
	                            : "SELECT name FROM osquery_registry WHERE registry = 'table'",
	                      error);
	if (result == NULL)
		return NULL;
	if (!osq_client_is_typed(shell->client) && typed) {
		/* it turned out to be osquery on the way */
		osq_result_free(result);
		return osqi_remote_list_tables(shell, error);
	}
	for (gsize r = 0; r < osq_result_get_n_rows(result); r++) {
		const gchar *name = osq_result_get_text(result, r, 0);
		if (name != NULL && !g_strv_contains(remote_sqlite_modules, name) &&
		    !g_str_has_prefix(name, "pragma_"))
			g_ptr_array_add(names, g_strdup(name));
	}
	osq_result_free(result);
	g_ptr_array_sort(names, remote_compare_names);
	return g_steal_pointer(&names);
}

OsqiResult *
osqi_remote_column_types(OsqiShell *shell, const gchar *sql, GError **error)
{
	g_autoptr(OsqiResult) types = osqi_result_new(2);
	OsqClientError *client_error = NULL;
	OsqResult *columns = NULL;

	shell->running = 1;
	if (osq_client_get_columns(shell->client, sql, &columns, &client_error) != OSQ_CLIENT_OK) {
		shell->running = 0;
		(void)remote_set_error(error, client_error);
		return NULL;
	}
	shell->running = 0;
	osqi_result_set_column_name(types, 0, "name");
	osqi_result_set_column_name(types, 1, "type");
	for (gsize c = 0; c < osq_result_get_n_columns(columns); c++) {
		const gchar *name = osq_result_get_column_name(columns, c);
		const gchar *type = osq_result_get_column_type_name(columns, c);
		osqi_result_add_text(types, name, strlen(name));
		osqi_result_add_text(types, type, strlen(type));
	}
	osq_result_free(columns);
	return g_steal_pointer(&types);
}
