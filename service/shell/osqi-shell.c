/* SPDX-License-Identifier: Apache-2.0
 *
 * Statements run one at a time; rows are copied into a typed result buffer and handed to the
 * printer in chunks when the mode can stream, or all at once (pretty, pretty JSON). Input is
 * accumulated line by line until sqlite3_complete() says a statement ends; a line starting
 * with '.' outside a statement is a dot-command. Ctrl-C sets a flag and, while a statement
 * runs, calls osqd_engine_interrupt() (an atomic store and sqlite3_interrupt()).
 */
#include "config.h"

#include "osqi-shell.h"

#include <errno.h>
#include <string.h>
#include <sys/resource.h>

#include "osqi-commands.h"
#include "osqi-remote.h"

#define OSQI_SHELL_CHUNK_ROWS 256

static OsqiShell *shell_interrupt_target;
static volatile sig_atomic_t shell_interrupt_seen;

OsqiShell *
osqi_shell_new(OsqdEngine *engine)
{
	OsqiShell *shell = g_new0(OsqiShell, 1);

	shell->engine = engine;
	osqi_output_settings_init(&shell->output);
	shell->root = g_strdup("/");
	shell->out = stdout;
	shell->err = stderr;
	return shell;
}

void
osqi_shell_free(OsqiShell *shell)
{
	if (shell == NULL)
		return;
	if (shell_interrupt_target == shell)
		shell_interrupt_target = NULL;
	osq_client_free(shell->client);
	osqd_engine_free(shell->engine);
	if (shell->registry != NULL)
		osqd_registry_unref(shell->registry);
	osqi_output_settings_clear(&shell->output);
	g_free(shell->root);
	g_free(shell);
}

OsqdEngine *
osqi_shell_get_engine(OsqiShell *shell, GError **error)
{
	if (shell->engine != NULL)
		return shell->engine;
	shell->engine = osqd_engine_new(osqi_shell_get_registry(shell), error);
	if (shell->engine == NULL)
		return NULL;
	osqd_engine_set_root(shell->engine, shell->root);
	osqd_engine_set_timeout(shell->engine, shell->timeout_ms);
	return shell->engine;
}

OsqdRegistry *
osqi_shell_get_registry(OsqiShell *shell)
{
	if (shell->engine != NULL)
		return osqd_engine_get_registry(shell->engine);
	if (shell->registry == NULL)
		shell->registry = osqd_registry_new_builtin();
	return shell->registry;
}

void
osqi_shell_set_root(OsqiShell *shell, const gchar *root)
{
	if (shell->engine != NULL)
		osqd_engine_set_root(shell->engine, root);
	g_free(shell->root);
	shell->root = g_strdup(root != NULL && root[0] != '\0' ? root : "/");
}

void
osqi_shell_set_timeout(OsqiShell *shell, guint timeout_ms)
{
	if (shell->engine != NULL)
		osqd_engine_set_timeout(shell->engine, timeout_ms);
	/* over --connect the timeout bounds each call: the daemon drops a query whose client
	 * gave up */
	if (shell->client != NULL)
		osq_client_set_timeout(shell->client, (int)MIN(timeout_ms, G_MAXINT));
	shell->timeout_ms = timeout_ms;
}

void
osqi_shell_print_error(OsqiShell *shell, guint line, const gchar *message)
{
	(void)fflush(shell->out);
	if (line > 0)
		(void)fprintf(shell->err, "Error: near line %u: %s\n", line, message);
	else
		(void)fprintf(shell->err, "Error: %s\n", message);
}

static void
shell_write(OsqiShell *shell, GString *text)
{
	if (text->len == 0)
		return;
	(void)fwrite(text->str, 1, text->len, shell->out);
	g_string_truncate(text, 0);
}

static void
shell_add_row(OsqiResult *result, sqlite3_stmt *stmt)
{
	guint n_columns = osqi_result_get_n_columns(result);

	for (guint c = 0; c < n_columns; c++) {
		switch (sqlite3_column_type(stmt, (int)c)) {
		case SQLITE_INTEGER:
			osqi_result_add_int(result, sqlite3_column_int64(stmt, (int)c));
			break;
		case SQLITE_FLOAT:
			osqi_result_add_double(result, sqlite3_column_double(stmt, (int)c));
			break;
		case SQLITE_TEXT: {
			const guchar *text = sqlite3_column_text(stmt, (int)c);
			osqi_result_add_text(result, (const gchar *)text,
			                     (gsize)sqlite3_column_bytes(stmt, (int)c));
			break;
		}
		case SQLITE_BLOB: {
			gconstpointer data = sqlite3_column_blob(stmt, (int)c);
			osqi_result_add_blob(result, data,
			                     (gsize)sqlite3_column_bytes(stmt, (int)c));
			break;
		}
		default:
			osqi_result_add_null(result);
			break;
		}
	}
}

/* Steps @stmt to its end, printing rows; rows that arrived before an error are printed too.
 * A printer that fails (JSON without its module) stops the statement. */
static gboolean
shell_run_statement(OsqiShell *shell, sqlite3_stmt *stmt, GError **error)
{
	guint n_columns = (guint)sqlite3_column_count(stmt);
	g_autoptr(OsqiResult) result = osqi_result_new(n_columns);
	g_autoptr(GString) text = g_string_new(NULL);
	gboolean streams = osqi_output_streams(&shell->output);
	gboolean printed = TRUE;
	gint rc = SQLITE_DONE;

	for (guint c = 0; c < n_columns; c++)
		osqi_result_set_column_name(result, c, sqlite3_column_name(stmt, (int)c));
	shell->running = 1;
	while (printed && (rc = osqd_engine_step(shell->engine, stmt, error)) == SQLITE_ROW) {
		shell_add_row(result, stmt);
		if (streams && osqi_result_get_n_rows(result) >= OSQI_SHELL_CHUNK_ROWS) {
			printed = osqi_output_print(&shell->output, result, FALSE, text, error);
			shell_write(shell, text);
		}
	}
	shell->running = 0;
	if (!printed)
		return FALSE;
	if (rc == -1) {
		/* the statement's error is the one to report */
		(void)osqi_output_print(&shell->output, result, TRUE, text, NULL);
		shell_write(shell, text);
		return FALSE;
	}
	printed = osqi_output_print(&shell->output, result, TRUE, text, error);
	shell_write(shell, text);
	return printed;
}

static gdouble
shell_timeval_seconds(const struct timeval *tv)
{
	return (gdouble)tv->tv_sec + (gdouble)tv->tv_usec / 1e6;
}

static void
shell_print_timer(OsqiShell *shell, gint64 start, const struct rusage *usage_start)
{
	struct rusage usage_end;

	if (getrusage(RUSAGE_SELF, &usage_end) != 0)
		return;
	(void)fprintf(shell->out, "Run Time: real %.3f user %f sys %f\n",
	              (gdouble)(g_get_monotonic_time() - start) / 1e6,
	              shell_timeval_seconds(&usage_end.ru_utime) -
	                      shell_timeval_seconds(&usage_start->ru_utime),
	              shell_timeval_seconds(&usage_end.ru_stime) -
	                      shell_timeval_seconds(&usage_start->ru_stime));
}

static gboolean shell_all_whitespace(const gchar *text);

static gboolean
shell_run_remote(OsqiShell *shell, const gchar *sql, GError **error)
{
	const gchar *rest = sql;

	while (rest[0] != '\0') {
		g_autofree gchar *statement = osqi_remote_next_statement(rest, &rest);
		g_autofree gchar *blank = g_strdelimit(g_strdup(statement), ";", ' ');
		if (shell_all_whitespace(blank))
			continue;
		if (!osqi_remote_run_statement(shell, statement, error))
			return FALSE;
	}
	return TRUE;
}

static gboolean
shell_run_sql_inner(OsqiShell *shell, const gchar *sql, GError **error)
{
	const gchar *rest = sql;

	if (shell->client != NULL)
		return shell_run_remote(shell, sql, error);
	if (osqi_shell_get_engine(shell, error) == NULL)
		return FALSE;

	while (rest != NULL && rest[0] != '\0') {
		const gchar *tail = NULL;
		sqlite3_stmt *stmt = osqd_engine_prepare(shell->engine, rest, &tail, error);
		gboolean ok;

		if (stmt == NULL)
			return error == NULL ||
			       *error == NULL; /* NULL without error: nothing left */
		ok = shell_run_statement(shell, stmt, error);
		(void)sqlite3_finalize(stmt);
		if (!ok)
			return FALSE;
		rest = tail;
	}
	return TRUE;
}

gboolean
osqi_shell_run_sql(OsqiShell *shell, const gchar *sql, GError **error)
{
	struct rusage usage_start = { 0 };
	gint64 start = 0;
	gboolean ok;

	if (shell->timer) {
		start = g_get_monotonic_time();
		(void)getrusage(RUSAGE_SELF, &usage_start);
	}
	ok = shell_run_sql_inner(shell, sql, error);
	if (shell->timer)
		shell_print_timer(shell, start, &usage_start);
	return ok;
}

/* TRUE when @text holds only blanks and SQL comments (sqlite's rule for skipping input). */
static gboolean
shell_all_whitespace(const gchar *text)
{
	const gchar *p = text;

	while (*p != '\0') {
		if (g_ascii_isspace(*p)) {
			p++;
		} else if (p[0] == '-' && p[1] == '-') {
			while (*p != '\0' && *p != '\n')
				p++;
		} else if (p[0] == '/' && p[1] == '*') {
			const gchar *end = strstr(p + 2, "*/");
			if (end == NULL)
				return TRUE;
			p = end + 2;
		} else {
			return FALSE;
		}
	}
	return TRUE;
}

static gboolean
shell_is_command(const gchar *line)
{
	while (g_ascii_isspace(*line))
		line++;
	return line[0] == '.';
}

/* Runs a complete chunk of input; returns FALSE (after printing the error) if it failed. */
static gboolean
shell_run_chunk(OsqiShell *shell, const gchar *sql, guint line)
{
	g_autoptr(GError) error = NULL;

	if (osqi_shell_run_sql(shell, sql, &error))
		return TRUE;
	osqi_shell_print_error(shell, line, error->message);
	return FALSE;
}

gint
osqi_shell_process_input(OsqiShell *shell, OsqiShellReadFunc read_func, gpointer user_data,
                         gboolean interactive)
{
	g_autoptr(GString) sql = g_string_new(NULL);
	guint line_number = 0;
	guint start_line = 0;
	guint n_errors = 0;

	for (;;) {
		g_autofree gchar *line = NULL;
		gboolean interrupted = FALSE;

		if (n_errors > 0 && shell->bail && !interactive)
			break;
		(void)fflush(shell->out);
		line = read_func(user_data, sql->len > 0, &interrupted);
		if (interrupted) {
			g_string_truncate(sql, 0);
			continue;
		}
		if (line == NULL)
			break;
		line_number++;
		if (shell->echo)
			(void)fprintf(shell->out, "%s\n", line);
		if (sql->len == 0 && shell_all_whitespace(line))
			continue;
		if (sql->len == 0 && shell_is_command(line)) {
			gint exit_code = 0;
			OsqiCommandStatus status = osqi_commands_run(shell, line, &exit_code);
			if (status == OSQI_COMMAND_EXIT)
				return exit_code;
			if (status == OSQI_COMMAND_ERROR)
				n_errors++;
			continue;
		}
		if (sql->len == 0)
			start_line = line_number;
		g_string_append(sql, line);
		g_string_append_c(sql, '\n');
		if (!sqlite3_complete(sql->str))
			continue;
		if (!shell_run_chunk(shell, sql->str, interactive ? 0 : start_line))
			n_errors++;
		g_string_truncate(sql, 0);
	}
	/* a last statement without its ';' still runs, as in sqlite3 */
	if (sql->len > 0 && !shell_all_whitespace(sql->str) && !(n_errors > 0 && shell->bail)) {
		if (!shell_run_chunk(shell, sql->str, interactive ? 0 : start_line))
			n_errors++;
	}
	(void)fflush(shell->out);
	return n_errors > 0 && !interactive ? 1 : 0;
}

static void
shell_sigint_cb(int signum)
{
	OsqiShell *shell = shell_interrupt_target;
	int saved_errno = errno;

	(void)signum;
	shell_interrupt_seen = 1;
	if (shell != NULL && shell->running && shell->client != NULL)
		osq_client_cancel(shell->client);
	else if (shell != NULL && shell->running && shell->engine != NULL)
		osqd_engine_interrupt(shell->engine);
	errno = saved_errno;
}

void
osqi_shell_catch_interrupts(OsqiShell *shell)
{
	struct sigaction action = { 0 };

	shell_interrupt_target = shell;
	action.sa_handler = shell_sigint_cb;
	(void)sigemptyset(&action.sa_mask);
	action.sa_flags = 0; /* no SA_RESTART: a blocking read returns EINTR */
	(void)sigaction(SIGINT, &action, NULL);
}

gboolean
osqi_shell_take_interrupt(void)
{
	gboolean seen = shell_interrupt_seen != 0;

	shell_interrupt_seen = 0;
	return seen;
}
