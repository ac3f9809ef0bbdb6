/* SPDX-License-Identifier: Apache-2.0
 *
 * Dot-commands, dispatched like osqueryi (which took it from sqlite's shell): the commands are
 * tried in a fixed order and the first whose name starts with the typed word and accepts that
 * many arguments wins, so ".mo line" is .mode and ".e" alone is .exit but ".e on" is .echo.
 * Error texts are osqueryi's, because scripts match on them.
 */
#include "config.h"

#include "osqi-commands.h"

#include <string.h>

#include "osqi-remote.h"

typedef OsqiCommandStatus (*OsqiCommandFunc)(OsqiShell *shell, GPtrArray *args, const gchar *line,
                                             gint *exit_code);

typedef struct {
	const gchar *name;
	guint min_args;
	guint max_args;
	OsqiCommandFunc func;
} OsqiCommand;

static const gchar command_help_text[] =
        "osq shell: SQL over the state of this host, in read-only virtual tables.\n"
        "End each SQL statement with ';'. Commands (any unambiguous prefix works):\n"
        "\n"
        ".all TABLE         Print every row of TABLE\n"
        ".bail ON|OFF       Stop reading piped input at the first error\n"
        ".connect SOCKET    Send statements to the osq daemon at SOCKET from now on\n"
        ".disconnect        Run statements in this process again (after .connect)\n"
        ".echo ON|OFF       Print each input line before running it\n"
        ".exit [CODE]       Leave the shell, with exit status CODE\n"
        ".follow SQL        Print the rows of new events as they come, until Ctrl-C; SQL\n"
        "                   reads an event table (file_events...); needs .connect\n"
        ".headers ON|OFF    Print column names in list, csv and column modes\n"
        ".help              Show this text\n"
        ".mode MODE         Choose how results look; MODE is one of:\n"
        "                     pretty   boxed table (the default)\n"
        "                     line     one 'column = value' line per value\n"
        "                     list     values joined by the separator\n"
        "                     csv      comma-separated values\n"
        "                     column   left-aligned columns, widths from .width\n"
        ".nullvalue TEXT    Print TEXT where a value is NULL\n"
        ".print TEXT...     Print TEXT\n"
        ".quit              Leave the shell\n"
        ".schema [PREFIX]   Show CREATE TABLE statements (of tables starting with PREFIX)\n"
        ".separator TEXT    Set the separator of list and csv modes\n"
        ".show              Show the current settings\n"
        ".tables [PREFIX]   List the tables (starting with PREFIX)\n"
        ".timer ON|OFF      Print how long each statement took\n"
        ".timeout MS        Stop statements running longer than MS milliseconds (0: never)\n"
        ".types SQL         Show the name and type of each result column of SQL\n"
        ".version           Show the osq and SQLite versions\n"
        ".width N...        Set column widths for column mode (0: automatic)\n";

static gchar *
command_unescape(const gchar *text, gsize len)
{
	GString *out = g_string_sized_new(len + 1);

	for (gsize i = 0; i < len; i++) {
		gchar c = text[i];
		if (c == '\\' && i + 1 < len) {
			c = text[++i];
			if (c == 'n') {
				c = '\n';
			} else if (c == 't') {
				c = '\t';
			} else if (c == 'r') {
				c = '\r';
			} else if (c >= '0' && c <= '7') {
				guint value = (guint)(c - '0');
				for (guint j = 0; j < 2 && i + 1 < len && text[i + 1] >= '0' &&
				                  text[i + 1] <= '7';
				     j++)
					value = value * 8 + (guint)(text[++i] - '0');
				c = (gchar)(value & 0xff);
			}
		}
		g_string_append_c(out, c);
	}
	return g_string_free(out, FALSE);
}

GPtrArray *
osqi_command_split(const gchar *line)
{
	GPtrArray *args = g_ptr_array_new_with_free_func(g_free);
	const gchar *p = line;

	while (g_ascii_isspace(*p))
		p++;
	if (*p == '.')
		p++;
	for (;;) {
		const gchar *start;
		while (g_ascii_isspace(*p))
			p++;
		if (*p == '\0')
			break;
		if (*p == '\'' || *p == '"') {
			gchar delimiter = *p++;
			start = p;
			while (*p != '\0' && *p != delimiter) {
				if (*p == '\\' && delimiter == '"' && p[1] != '\0')
					p++;
				p++;
			}
			if (delimiter == '"')
				g_ptr_array_add(args, command_unescape(start, (gsize)(p - start)));
			else
				g_ptr_array_add(args, g_strndup(start, (gsize)(p - start)));
			if (*p == delimiter)
				p++;
		} else {
			start = p;
			while (*p != '\0' && !g_ascii_isspace(*p))
				p++;
			g_ptr_array_add(args, command_unescape(start, (gsize)(p - start)));
		}
	}
	return args;
}

const gchar *
osqi_command_rest(const gchar *line)
{
	const gchar *p = line;

	while (g_ascii_isspace(*p))
		p++;
	while (*p != '\0' && !g_ascii_isspace(*p))
		p++;
	while (g_ascii_isspace(*p))
		p++;
	return p;
}

gboolean
osqi_command_parse_boolean(const gchar *text, gboolean *value)
{
	static const gchar *const yes[] = { "on", "yes", "true", NULL };
	static const gchar *const no[] = { "off", "no", "false", NULL };
	const gchar *digits = text;
	guint base = 10;

	if (text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
		digits = text + 2;
		base = 16;
	}
	if (digits[0] != '\0' && strspn(digits, base == 16 ? "0123456789abcdefABCDEF"
	                                                   : "0123456789") == strlen(digits)) {
		*value = g_ascii_strtoull(digits, NULL, base) != 0;
		return TRUE;
	}
	for (guint i = 0; yes[i] != NULL; i++) {
		if (g_ascii_strcasecmp(text, yes[i]) == 0) {
			*value = TRUE;
			return TRUE;
		}
		if (g_ascii_strcasecmp(text, no[i]) == 0) {
			*value = FALSE;
			return TRUE;
		}
	}
	return FALSE;
}

static void
command_set_boolean(OsqiShell *shell, const gchar *text, gboolean *value)
{
	if (!osqi_command_parse_boolean(text, value)) {
		(void)fprintf(shell->err, "ERROR: Not a boolean value: \"%s\". Assuming \"no\".\n",
		              text);
		*value = FALSE;
	}
}

static gchar *
command_quote_identifier(const gchar *name)
{
	GString *out = g_string_new("\"");

	for (const gchar *p = name; *p != '\0'; p++) {
		if (*p == '"')
			g_string_append_c(out, '"');
		g_string_append_c(out, *p);
	}
	g_string_append_c(out, '"');
	return g_string_free(out, FALSE);
}

/* Over --connect the tables are the daemon's (extensions' tables too). */
static gboolean
commands_print_remote_tables(OsqiShell *shell, const gchar *prefix)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) names = osqi_remote_list_tables(shell, &error);

	if (names == NULL) {
		osqi_shell_print_error(shell, 0, error->message);
		return FALSE;
	}
	for (guint i = 0; i < names->len; i++) {
		if (prefix == NULL || g_str_has_prefix(names->pdata[i], prefix))
			(void)fprintf(shell->out, "  => %s\n", (const gchar *)names->pdata[i]);
	}
	return TRUE;
}

gboolean
osqi_commands_print_tables(OsqiShell *shell, const gchar *prefix)
{
	g_autoptr(GPtrArray) tables = NULL;

	if (shell->client != NULL)
		return commands_print_remote_tables(shell, prefix);
	tables = osqd_registry_list(osqi_shell_get_registry(shell));
	for (guint i = 0; i < tables->len; i++) {
		const OsqdTable *table = tables->pdata[i];
		if (prefix == NULL || g_str_has_prefix(table->name, prefix))
			(void)fprintf(shell->out, "  => %s\n", table->name);
	}
	return TRUE;
}

gboolean
osqi_commands_select_all(OsqiShell *shell, const gchar *table)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *quoted = command_quote_identifier(table);
	g_autofree gchar *sql = g_strdup_printf("SELECT * FROM %s", quoted);

	if (osqi_shell_run_sql(shell, sql, &error))
		return TRUE;
	osqi_shell_print_error(shell, 0, error->message);
	return FALSE;
}

static OsqiCommandStatus
command_all(OsqiShell *shell, GPtrArray *args, const gchar *line, gint *exit_code)
{
	return osqi_commands_select_all(shell, args->pdata[1]) ? OSQI_COMMAND_OK
	                                                       : OSQI_COMMAND_ERROR;
}

static OsqiCommandStatus
command_bail(OsqiShell *shell, GPtrArray *args, const gchar *line, gint *exit_code)
{
	command_set_boolean(shell, args->pdata[1], &shell->bail);
	return OSQI_COMMAND_OK;
}

static OsqiCommandStatus
command_connect(OsqiShell *shell, GPtrArray *args, const gchar *line, gint *exit_code)
{
	g_autoptr(GError) error = NULL;

	if (!osqi_remote_connect(shell, args->pdata[1], &error)) {
		osqi_shell_print_error(shell, 0, error->message);
		return OSQI_COMMAND_ERROR;
	}
	return OSQI_COMMAND_OK;
}

static OsqiCommandStatus
command_disconnect(OsqiShell *shell, GPtrArray *args, const gchar *line, gint *exit_code)
{
	if (shell->client == NULL) {
		osqi_shell_print_error(shell, 0, "not connected (see .connect)");
		return OSQI_COMMAND_ERROR;
	}
	osqi_remote_disconnect(shell);
	return OSQI_COMMAND_OK;
}

static OsqiCommandStatus
command_echo(OsqiShell *shell, GPtrArray *args, const gchar *line, gint *exit_code)
{
	command_set_boolean(shell, args->pdata[1], &shell->echo);
	return OSQI_COMMAND_OK;
}

static OsqiCommandStatus
command_exit(OsqiShell *shell, GPtrArray *args, const gchar *line, gint *exit_code)
{
	*exit_code = args->len > 1 ? (gint)g_ascii_strtoll(args->pdata[1], NULL, 10) : 0;
	return OSQI_COMMAND_EXIT;
}

static OsqiCommandStatus
command_follow(OsqiShell *shell, GPtrArray *args, const gchar *line, gint *exit_code)
{
	g_autoptr(GError) error = NULL;

	if (shell->client == NULL) {
		osqi_shell_print_error(shell, 0,
		                       ".follow needs a connection to osqd (.connect PATH or "
		                       "--connect PATH)");
		return OSQI_COMMAND_ERROR;
	}
	if (!osqi_remote_follow(shell, osqi_command_rest(line), &error)) {
		osqi_shell_print_error(shell, 0, error->message);
		return OSQI_COMMAND_ERROR;
	}
	return OSQI_COMMAND_OK;
}

static OsqiCommandStatus
command_headers(OsqiShell *shell, GPtrArray *args, const gchar *line, gint *exit_code)
{
	command_set_boolean(shell, args->pdata[1], &shell->output.headers);
	return OSQI_COMMAND_OK;
}

static OsqiCommandStatus
command_help(OsqiShell *shell, GPtrArray *args, const gchar *line, gint *exit_code)
{
	(void)fflush(shell->out);
	(void)fputs(command_help_text, shell->err);
	return OSQI_COMMAND_OK;
}

static OsqiCommandStatus
command_mode(OsqiShell *shell, GPtrArray *args, const gchar *line, gint *exit_code)
{
	OsqiMode mode;

	if (!osqi_output_mode_from_string(args->pdata[1], &mode)) {
		(void)fprintf(shell->err,
		              "Error: mode should be one of: column csv line list pretty\n");
		return OSQI_COMMAND_ERROR;
	}
	shell->output.mode = mode;
	if (mode == OSQI_MODE_CSV) {
		g_free(shell->output.separator);
		shell->output.separator = g_strdup(",");
	}
	return OSQI_COMMAND_OK;
}

static OsqiCommandStatus
command_nullvalue(OsqiShell *shell, GPtrArray *args, const gchar *line, gint *exit_code)
{
	g_free(shell->output.nullvalue);
	shell->output.nullvalue = g_strdup(args->pdata[1]);
	return OSQI_COMMAND_OK;
}

static OsqiCommandStatus
command_print(OsqiShell *shell, GPtrArray *args, const gchar *line, gint *exit_code)
{
	for (guint i = 1; i < args->len; i++)
		(void)fprintf(shell->out, "%s%s", i > 1 ? " " : "", (const gchar *)args->pdata[i]);
	(void)fputc('\n', shell->out);
	return OSQI_COMMAND_OK;
}

static OsqiCommandStatus
command_quit(OsqiShell *shell, GPtrArray *args, const gchar *line, gint *exit_code)
{
	*exit_code = 0;
	return OSQI_COMMAND_EXIT;
}

static OsqiCommandStatus
command_schema(OsqiShell *shell, GPtrArray *args, const gchar *line, gint *exit_code)
{
	g_autoptr(GPtrArray) tables = NULL;
	const gchar *prefix = args->len > 1 ? args->pdata[1] : NULL;

	if (shell->client != NULL) {
		/* the wire has no way yet to ask for hidden columns and keys */
		osqi_shell_print_error(shell, 0,
		                       ".schema is not available over --connect yet; "
		                       "try .types SELECT * FROM TABLE");
		return OSQI_COMMAND_ERROR;
	}
	tables = osqd_registry_list(osqi_shell_get_registry(shell));
	for (guint i = 0; i < tables->len; i++) {
		const OsqdTable *table = tables->pdata[i];
		g_autofree gchar *definition = NULL;
		if (prefix != NULL && !g_str_has_prefix(table->name, prefix))
			continue;
		/* the definition ends with its own closing parenthesis */
		definition = osqd_table_column_definition(table);
		(void)fprintf(shell->out, "CREATE TABLE %s(%s;\n", table->name, definition);
	}
	return OSQI_COMMAND_OK;
}

static OsqiCommandStatus
command_separator(OsqiShell *shell, GPtrArray *args, const gchar *line, gint *exit_code)
{
	g_free(shell->output.separator);
	shell->output.separator = g_strdup(args->pdata[1]);
	return OSQI_COMMAND_OK;
}

static void
command_show_quoted(OsqiShell *shell, const gchar *label, const gchar *value)
{
	g_autofree gchar *escaped = g_strescape(value, NULL);

	(void)fprintf(shell->out, "%13.13s: \"%s\"\n", label, escaped);
}

static OsqiCommandStatus
command_show(OsqiShell *shell, GPtrArray *args, const gchar *line, gint *exit_code)
{
	FILE *out = shell->out;

	(void)fprintf(out, "osq %s\nusing SQLite %s\n\nShell settings:\n", OSQ_VERSION,
	              sqlite3_libversion());
	(void)fprintf(out, "%13.13s: %s\n", "echo", shell->echo ? "on" : "off");
	(void)fprintf(out, "%13.13s: %s\n", "headers", shell->output.headers ? "on" : "off");
	(void)fprintf(out, "%13.13s: %s\n", "mode", osqi_output_mode_to_string(&shell->output));
	command_show_quoted(shell, "nullvalue", shell->output.nullvalue);
	(void)fprintf(out, "%13.13s: %s\n", "output", "stdout");
	command_show_quoted(shell, "separator", shell->output.separator);
	(void)fprintf(out, "%13.13s: ", "width");
	for (guint i = 0; i < shell->output.widths->len; i++)
		(void)fprintf(out, "%d ", g_array_index(shell->output.widths, gint, i));
	(void)fprintf(out, "\n%13.13s: %s\n", "bail", shell->bail ? "on" : "off");
	(void)fprintf(out, "%13.13s: %s\n", "timer", shell->timer ? "on" : "off");
	(void)fprintf(out, "%13.13s: %u ms%s\n", "timeout", shell->timeout_ms,
	              shell->timeout_ms == 0 ? " (none)" : "");
	(void)fprintf(out, "%13.13s: %s\n", "root", shell->root);
	if (shell->client != NULL)
		(void)fprintf(out, "%13.13s: %s%s\n", "connection",
		              osq_client_get_socket_path(shell->client),
		              osq_client_is_typed(shell->client) ? ""
		                                                 : " (osquery: untyped results)");
	else
		(void)fprintf(out, "%13.13s: %s\n", "connection", "none (in-process)");
	return OSQI_COMMAND_OK;
}

static OsqiCommandStatus
command_tables(OsqiShell *shell, GPtrArray *args, const gchar *line, gint *exit_code)
{
	return osqi_commands_print_tables(shell, args->len > 1 ? args->pdata[1] : NULL)
	               ? OSQI_COMMAND_OK
	               : OSQI_COMMAND_ERROR;
}

static OsqiCommandStatus
command_timer(OsqiShell *shell, GPtrArray *args, const gchar *line, gint *exit_code)
{
	command_set_boolean(shell, args->pdata[1], &shell->timer);
	return OSQI_COMMAND_OK;
}

static OsqiCommandStatus
command_timeout(OsqiShell *shell, GPtrArray *args, const gchar *line, gint *exit_code)
{
	guint64 value = 0;
	g_autoptr(GError) error = NULL;

	if (!g_ascii_string_to_unsigned(args->pdata[1], 10, 0, G_MAXUINT, &value, &error)) {
		osqi_shell_print_error(shell, 0, error->message);
		return OSQI_COMMAND_ERROR;
	}
	osqi_shell_set_timeout(shell, (guint)value);
	return OSQI_COMMAND_OK;
}

/* Fills a name/type result from @stmt; steps it once only if an expression needs a value to
 * have a type. */
static gboolean
command_types_result(OsqiShell *shell, sqlite3_stmt *stmt, OsqiResult *result, GError **error)
{
	gint n_columns = sqlite3_column_count(stmt);
	gboolean have_row = FALSE;

	for (gint c = 0; c < n_columns; c++) {
		if (sqlite3_column_decltype(stmt, c) == NULL) {
			gint rc = osqd_engine_step(osqi_shell_get_engine(shell, NULL), stmt, error);
			if (rc < 0)
				return FALSE;
			have_row = rc == SQLITE_ROW;
			break;
		}
	}
	for (gint c = 0; c < n_columns; c++) {
		const gchar *name = sqlite3_column_name(stmt, c);
		const gchar *type = "TEXT";
		if (have_row || sqlite3_column_decltype(stmt, c) != NULL)
			type = osqd_engine_column_type(stmt, c);
		osqi_result_add_text(result, name, strlen(name));
		osqi_result_add_text(result, type, strlen(type));
	}
	return TRUE;
}

static OsqiCommandStatus
commands_types_remote(OsqiShell *shell, const gchar *line)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GString) text = g_string_new(NULL);
	g_autoptr(OsqiResult) result =
	        osqi_remote_column_types(shell, osqi_command_rest(line), &error);

	if (result == NULL || !osqi_output_print(&shell->output, result, TRUE, text, &error)) {
		osqi_shell_print_error(shell, 0, error->message);
		return OSQI_COMMAND_ERROR;
	}
	(void)fwrite(text->str, 1, text->len, shell->out);
	return OSQI_COMMAND_OK;
}

static OsqiCommandStatus
command_types(OsqiShell *shell, GPtrArray *args, const gchar *line, gint *exit_code)
{
	g_autoptr(OsqiResult) result = osqi_result_new(2);
	g_autoptr(GString) text = g_string_new(NULL);
	g_autoptr(GError) error = NULL;
	OsqdEngine *engine;
	sqlite3_stmt *stmt;
	gboolean ok;

	if (shell->client != NULL)
		return commands_types_remote(shell, line);
	engine = osqi_shell_get_engine(shell, &error);
	if (engine == NULL) {
		osqi_shell_print_error(shell, 0, error->message);
		return OSQI_COMMAND_ERROR;
	}
	stmt = osqd_engine_prepare(engine, osqi_command_rest(line), NULL, &error);
	if (stmt == NULL) {
		osqi_shell_print_error(shell, 0, error != NULL ? error->message : "no SQL given");
		return OSQI_COMMAND_ERROR;
	}
	osqi_result_set_column_name(result, 0, "name");
	osqi_result_set_column_name(result, 1, "type");
	ok = command_types_result(shell, stmt, result, &error);
	(void)sqlite3_finalize(stmt);
	if (!ok) {
		osqi_shell_print_error(shell, 0, error->message);
		return OSQI_COMMAND_ERROR;
	}
	if (!osqi_output_print(&shell->output, result, TRUE, text, &error)) {
		osqi_shell_print_error(shell, 0, error->message);
		return OSQI_COMMAND_ERROR;
	}
	(void)fwrite(text->str, 1, text->len, shell->out);
	return OSQI_COMMAND_OK;
}

static OsqiCommandStatus
command_version(OsqiShell *shell, GPtrArray *args, const gchar *line, gint *exit_code)
{
	(void)fprintf(shell->out, "osq %s\nusing SQLite %s\n", OSQ_VERSION, sqlite3_libversion());
	return OSQI_COMMAND_OK;
}

static OsqiCommandStatus
command_width(OsqiShell *shell, GPtrArray *args, const gchar *line, gint *exit_code)
{
	g_array_set_size(shell->output.widths, 0);
	for (guint i = 1; i < args->len; i++) {
		gint width = (gint)CLAMP(g_ascii_strtoll(args->pdata[i], NULL, 10), -10000, 10000);
		g_array_append_val(shell->output.widths, width);
	}
	return OSQI_COMMAND_OK;
}

/* The order decides what an abbreviation means (first match wins). */
static const OsqiCommand commands[] = {
	{ "all", 1, 1, command_all },
	{ "bail", 1, 1, command_bail },
	{ "connect", 1, 1, command_connect },
	{ "disconnect", 0, 0, command_disconnect },
	{ "echo", 1, 1, command_echo },
	{ "exit", 0, 1, command_exit },
	{ "follow", 1, G_MAXUINT, command_follow },
	{ "headers", 1, 1, command_headers },
	{ "help", 0, 0, command_help },
	{ "list", 0, 1, command_tables },
	{ "mode", 1, 1, command_mode },
	{ "nullvalue", 1, 1, command_nullvalue },
	{ "print", 0, G_MAXUINT, command_print },
	{ "quit", 0, 0, command_quit },
	{ "schema", 0, 1, command_schema },
	{ "separator", 1, 1, command_separator },
	{ "show", 0, 0, command_show },
	{ "summary", 0, 0, command_show },
	{ "tables", 0, 1, command_tables },
	{ "timer", 1, 1, command_timer },
	{ "timeout", 1, 1, command_timeout },
	{ "types", 1, G_MAXUINT, command_types },
	{ "version", 0, 0, command_version },
	{ "width", 1, G_MAXUINT, command_width },
};

static const gchar *const command_names[] = {
	"all",     "bail",      "connect", "disconnect", "echo",      "exit",  "follow",
	"headers", "help",      "list",    "mode",       "nullvalue", "print", "quit",
	"schema",  "separator", "show",    "summary",    "tables",    "timer", "timeout",
	"types",   "version",   "width",   NULL,
};

static const OsqiCommand *
command_find(const gchar *word, guint n_args)
{
	if (word == NULL || word[0] == '\0')
		return NULL;
	for (guint i = 0; i < G_N_ELEMENTS(commands); i++) {
		const OsqiCommand *command = &commands[i];
		if (g_str_has_prefix(command->name, word) && n_args >= command->min_args &&
		    n_args <= command->max_args)
			return command;
	}
	return NULL;
}

const gchar *
osqi_command_lookup(const gchar *word, guint n_args)
{
	const OsqiCommand *command = command_find(word, n_args);

	return command != NULL ? command->name : NULL;
}

const gchar *const *
osqi_commands_get_names(void)
{
	return command_names;
}

OsqiCommandStatus
osqi_commands_run(OsqiShell *shell, const gchar *line, gint *exit_code)
{
	g_autoptr(GPtrArray) args = osqi_command_split(line);
	const gchar *word = args->len > 0 ? args->pdata[0] : "";
	const OsqiCommand *command = command_find(word, args->len > 0 ? args->len - 1 : 0);

	*exit_code = 0;
	if (command == NULL) {
		(void)fflush(shell->out);
		(void)fprintf(shell->err,
		              "Error: unknown command or invalid arguments:  \"%s\". Enter "
		              "\".help\" for help\n",
		              word);
		return OSQI_COMMAND_ERROR;
	}
	return command->func(shell, args, line, exit_code);
}
