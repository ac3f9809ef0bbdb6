/* SPDX-License-Identifier: Apache-2.0
 *
 * osqi's main: osqueryi-style flags (gflags syntax: -flag or --flag, =value or a separate
 * value), then one of four runs: -L/-A, one positional SQL or dot-command, SQL piped on stdin,
 * or the interactive prompt. Only the last loads the line editor (the osqi-editline.so module,
 * with libedit) and sets up the SIGINT handler, and JSON output loads osqi-json.so itself, so
 * the executable links only glib and sqlite and `osqi "SELECT 1"` costs little more than
 * opening the engine.
 */
#include "config.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "osqi-commands.h"
#include "osqi-complete.h"
#include "osqi-editline.h"
#include "osqi-remote.h"
#include "osqi-shell.h"

typedef struct {
	gboolean json;
	gboolean json_pretty;
	gboolean csv;
	gboolean line;
	gboolean list;
	gboolean header;
	gboolean list_tables;
	gboolean help;
	gboolean version;
	gchar *separator;
	gchar *nullvalue;
	gchar *all_table;
	gchar *root;
	gchar *connect;
	guint timeout_ms;
	gchar *query;
} OsqiOptions;

typedef enum {
	OSQI_FLAG_BOOLEAN,
	OSQI_FLAG_STRING,
	OSQI_FLAG_UINT,
} OsqiFlagKind;

typedef struct {
	const gchar *name;
	OsqiFlagKind kind;
	gsize offset;
} OsqiFlag;

static const OsqiFlag flags[] = {
	{ "json", OSQI_FLAG_BOOLEAN, offsetof(OsqiOptions, json) },
	{ "json_pretty", OSQI_FLAG_BOOLEAN, offsetof(OsqiOptions, json_pretty) },
	{ "csv", OSQI_FLAG_BOOLEAN, offsetof(OsqiOptions, csv) },
	{ "line", OSQI_FLAG_BOOLEAN, offsetof(OsqiOptions, line) },
	{ "list", OSQI_FLAG_BOOLEAN, offsetof(OsqiOptions, list) },
	{ "header", OSQI_FLAG_BOOLEAN, offsetof(OsqiOptions, header) },
	{ "L", OSQI_FLAG_BOOLEAN, offsetof(OsqiOptions, list_tables) },
	{ "help", OSQI_FLAG_BOOLEAN, offsetof(OsqiOptions, help) },
	{ "version", OSQI_FLAG_BOOLEAN, offsetof(OsqiOptions, version) },
	{ "separator", OSQI_FLAG_STRING, offsetof(OsqiOptions, separator) },
	{ "nullvalue", OSQI_FLAG_STRING, offsetof(OsqiOptions, nullvalue) },
	{ "A", OSQI_FLAG_STRING, offsetof(OsqiOptions, all_table) },
	{ "root", OSQI_FLAG_STRING, offsetof(OsqiOptions, root) },
	{ "connect", OSQI_FLAG_STRING, offsetof(OsqiOptions, connect) },
	{ "timeout", OSQI_FLAG_UINT, offsetof(OsqiOptions, timeout_ms) },
};

static const gchar osqi_help[] =
        "Usage: osqi [OPTION...] [SQL | .COMMAND]\n"
        "\n"
        "osq's shell: ask SQL questions about this host (processes, users, mounts...).\n"
        "With an argument, runs that SQL (or dot-command) and exits. When stdin is not a\n"
        "terminal, runs the statements read from it (each ending with ';') and exits.\n"
        "Otherwise starts an interactive prompt; type .help there for the commands.\n"
        "\n"
        "Output:\n"
        "  --json               a JSON array with one object per row\n"
        "  --json_pretty        the same, indented\n"
        "  --csv                comma-separated values (the separator becomes ',')\n"
        "  --line               one 'column = value' line per value\n"
        "  --list               values joined by the separator\n"
        "  --header[=BOOL]      print column names in list and csv output (default true)\n"
        "  --separator TEXT     separator for list and csv output (default '|')\n"
        "  --nullvalue TEXT     text printed for NULL (default empty)\n"
        "  If several modes are given, --list wins over --line, --line over --csv, and\n"
        "  --json/--json_pretty apply only when none of those three is given.\n"
        "\n"
        "Tables:\n"
        "  -L                   list all tables and exit\n"
        "  -A TABLE             print every row of TABLE and exit\n"
        "\n"
        "osq options:\n"
        "  --root PATH          read the host's files under PATH instead of / (for tests)\n"
        "  --timeout MS         stop a statement after MS milliseconds (default: no limit)\n"
        "  --connect SOCKET     send statements to the osq daemon (osqd) listening on\n"
        "                       SOCKET instead of running them in this process; output\n"
        "                       is the same. .schema is not available there yet, .tables\n"
        "                       lists the daemon's tables\n"
        "\n"
        "  --help               show this text and exit\n"
        "  --version            show the version and exit\n"
        "\n"
        "Unlike osqueryi, JSON output keeps each value's type: integers and doubles are JSON\n"
        "numbers, NULL is null and text is a string; keys follow the SELECT order (osqueryi\n"
        "prints every value as a string, keys sorted by name).\n";

static void
osqi_options_clear(OsqiOptions *options)
{
	g_free(options->separator);
	g_free(options->nullvalue);
	g_free(options->all_table);
	g_free(options->root);
	g_free(options->connect);
	g_free(options->query);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(OsqiOptions, osqi_options_clear)

static gboolean
osqi_parse_boolean(const gchar *text, gboolean *value)
{
	static const gchar *const yes[] = { "true", "t", "yes", "y", "1", NULL };
	static const gchar *const no[] = { "false", "f", "no", "n", "0", NULL };

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

static const OsqiFlag *
osqi_flag_lookup(const gchar *name, gsize len)
{
	for (guint i = 0; i < G_N_ELEMENTS(flags); i++) {
		if (strlen(flags[i].name) == len && strncmp(flags[i].name, name, len) == 0)
			return &flags[i];
	}
	return NULL;
}

static gboolean
osqi_flag_set(OsqiOptions *options, const OsqiFlag *flag, const gchar *shown, const gchar *value,
              GError **error)
{
	gpointer field = (guint8 *)options + flag->offset;
	guint64 number = 0;

	switch (flag->kind) {
	case OSQI_FLAG_BOOLEAN:
		if (value == NULL) {
			*(gboolean *)field = TRUE;
		} else if (!osqi_parse_boolean(value, field)) {
			g_set_error(error, OSQ_ERROR, OSQ_ERROR_INVALID_ARGUMENT,
			            "invalid value for %s: %s (expected true or false)", shown,
			            value);
			return FALSE;
		}
		return TRUE;
	case OSQI_FLAG_STRING:
		g_free(*(gchar **)field);
		*(gchar **)field = g_strdup(value);
		return TRUE;
	case OSQI_FLAG_UINT:
	default:
		if (!g_ascii_string_to_unsigned(value, 10, 0, G_MAXUINT, &number, NULL)) {
			g_set_error(error, OSQ_ERROR, OSQ_ERROR_INVALID_ARGUMENT,
			            "invalid value for %s: %s (expected a number)", shown, value);
			return FALSE;
		}
		*(guint *)field = (guint)number;
		return TRUE;
	}
}

/* Parses one "-name", "--name", "--name=value" or "--noname" at argv[*i], consuming the next
 * argument as the value of a string or number flag given without '='. */
static gboolean
osqi_parse_flag(OsqiOptions *options, gint argc, gchar **argv, gint *i, GError **error)
{
	const gchar *arg = argv[*i];
	const gchar *name = arg + (arg[1] == '-' ? 2 : 1);
	const gchar *equals = strchr(name, '=');
	gsize len = equals != NULL ? (gsize)(equals - name) : strlen(name);
	g_autofree gchar *shown = g_strndup(arg, (gsize)(name - arg) + len);
	const OsqiFlag *flag = osqi_flag_lookup(name, len);
	const gchar *value = equals != NULL ? equals + 1 : NULL;

	if (flag == NULL && equals == NULL && g_str_has_prefix(name, "no")) {
		flag = osqi_flag_lookup(name + 2, len - 2);
		if (flag != NULL && flag->kind == OSQI_FLAG_BOOLEAN)
			return osqi_flag_set(options, flag, shown, "false", error);
		flag = NULL;
	}
	if (flag == NULL) {
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_INVALID_ARGUMENT, "unknown flag %s", shown);
		return FALSE;
	}
	if (flag->kind != OSQI_FLAG_BOOLEAN && value == NULL) {
		if (*i + 1 >= argc) {
			g_set_error(error, OSQ_ERROR, OSQ_ERROR_INVALID_ARGUMENT,
			            "flag %s needs a value", shown);
			return FALSE;
		}
		value = argv[++*i];
	}
	return osqi_flag_set(options, flag, shown, value, error);
}

static gboolean
osqi_parse_args(OsqiOptions *options, gint argc, gchar **argv, GError **error)
{
	gboolean flags_done = FALSE;

	for (gint i = 1; i < argc; i++) {
		const gchar *arg = argv[i];
		if (!flags_done && strcmp(arg, "--") == 0) {
			flags_done = TRUE;
		} else if (!flags_done && arg[0] == '-' && arg[1] != '\0') {
			if (!osqi_parse_flag(options, argc, argv, &i, error))
				return FALSE;
		} else if (options->query == NULL) {
			options->query = g_strdup(arg);
		} else {
			g_set_error(error, OSQ_ERROR, OSQ_ERROR_INVALID_ARGUMENT,
			            "too many arguments: give the SQL as one quoted argument");
			return FALSE;
		}
	}
	return TRUE;
}

/* Output settings from flags, with osqueryi's precedence: list > line > csv > pretty; JSON
 * replaces only the pretty printer. */
static void
osqi_apply_options(OsqiShell *shell, const OsqiOptions *options)
{
	OsqiOutputSettings *output = &shell->output;

	output->headers = options->header;
	if (options->separator != NULL) {
		g_free(output->separator);
		output->separator = g_strdup(options->separator);
	}
	if (options->nullvalue != NULL) {
		g_free(output->nullvalue);
		output->nullvalue = g_strdup(options->nullvalue);
	}
	if (options->list) {
		output->mode = OSQI_MODE_LIST;
	} else if (options->line) {
		output->mode = OSQI_MODE_LINE;
	} else if (options->csv) {
		output->mode = OSQI_MODE_CSV;
		g_free(output->separator);
		output->separator = g_strdup(",");
	}
	if (options->json_pretty)
		output->json = OSQI_JSON_PRETTY;
	else if (options->json)
		output->json = OSQI_JSON_COMPACT;
	if (options->root != NULL)
		osqi_shell_set_root(shell, options->root);
	osqi_shell_set_timeout(shell, options->timeout_ms);
}

static gchar *
osqi_read_stream(gpointer user_data, gboolean continuation, gboolean *interrupted)
{
	FILE *stream = user_data;
	g_autofree gchar *line = NULL;
	size_t size = 0;
	ssize_t len;

	(void)continuation;
	(void)interrupted;
	len = getline(&line, &size, stream);
	if (len < 0)
		return NULL;
	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		line[--len] = '\0';
	return g_strdup(line); /* getline's buffer is malloc'd, ours must be g_free-able */
}

/* The interactive fallback when libedit cannot drive the terminal. */
static gchar *
osqi_read_prompted(gpointer user_data, gboolean continuation, gboolean *interrupted)
{
	gchar *line;

	(void)fputs(continuation ? "   ...> " : "osq> ", stdout);
	(void)fflush(stdout);
	(void)osqi_shell_take_interrupt();
	line = osqi_read_stream(user_data, continuation, interrupted);
	if (line == NULL && osqi_shell_take_interrupt()) {
		clearerr(stdin);
		(void)fputc('\n', stdout);
		*interrupted = TRUE;
	}
	return line;
}

static GPtrArray *
osqi_complete_cb(gpointer user_data, const gchar *line, gsize cursor, gsize *word_start)
{
	OsqiShell *shell = user_data;

	/* over --connect too: the daemon's built-in tables are this build's */
	return osqi_complete(osqi_shell_get_registry(shell), line, cursor, word_start);
}

/* The line editor from osqi-editline.so; NULL (after saying why when the module is missing)
 * when the plain prompt has to do. */
static OsqiEditline *
osqi_editline_start(OsqiShell *shell, const gchar *program, const OsqiEditlineModule **module)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *history_path = NULL;
	const gchar *home = g_getenv("HOME");
	const OsqiEditlineHooks hooks = {
		.complete = osqi_complete_cb,
		.common_prefix = osqi_complete_common_prefix,
		.take_interrupt = osqi_shell_take_interrupt,
		.user_data = shell,
	};
	OsqiEditline *editline;

	*module = osqi_module_load("editline", "line editing", OSQI_EDITLINE_MODULE_ABI,
	                           sizeof(OsqiEditlineModule), &error);
	if (*module == NULL) {
		(void)fflush(stdout);
		(void)fprintf(stderr, "Warning: %s; reading lines without editing\n",
		              error->message);
		return NULL;
	}
	if (home != NULL && home[0] != '\0')
		history_path = g_build_filename(home, ".osqi_history", NULL);
	editline = (*module)->editline_new(program, history_path, &hooks, &error);
	if (editline == NULL)
		g_debug("no line editing: %s", error->message);
	return editline;
}

static gint
osqi_run_interactive(OsqiShell *shell, const gchar *program)
{
	const OsqiEditlineModule *module = NULL;
	OsqiEditline *editline;
	gboolean bold = isatty(STDOUT_FILENO);
	gint status;

	osqi_shell_catch_interrupts(shell);
	if (shell->client != NULL)
		(void)printf("Connected to %s%s%s. Need help, type '.help'\n",
		             bold ? "\033[1m" : "", osq_client_get_socket_path(shell->client),
		             bold ? "\033[0m" : "");
	else
		(void)printf("Using a %svirtual database%s. Need help, type '.help'\n",
		             bold ? "\033[1m" : "", bold ? "\033[0m" : "");
	editline = osqi_editline_start(shell, program, &module);
	if (editline == NULL)
		return osqi_shell_process_input(shell, osqi_read_prompted, stdin, TRUE);
	status = osqi_shell_process_input(shell, module->editline_read, editline, TRUE);
	module->editline_free(editline);
	return status;
}

static gint
osqi_run_argument(OsqiShell *shell, const gchar *query)
{
	g_autoptr(GError) error = NULL;

	if (query[strspn(query, " \t\r\n")] == '.') {
		gint exit_code = 0;
		switch (osqi_commands_run(shell, query, &exit_code)) {
		case OSQI_COMMAND_ERROR:
			return 1;
		case OSQI_COMMAND_EXIT: /* an exit request counts as success */
		case OSQI_COMMAND_OK:
		default:
			return 0;
		}
	}
	if (!osqi_shell_run_sql(shell, query, &error)) {
		osqi_shell_print_error(shell, 0, error->message);
		return 1;
	}
	return 0;
}

static gint
osqi_run(OsqiShell *shell, const OsqiOptions *options, const gchar *program)
{
	gint status = 0;

	if (options->list_tables || options->all_table != NULL || options->query != NULL) {
		if (options->list_tables && !osqi_commands_print_tables(shell, NULL))
			status = 1;
		if (options->all_table != NULL &&
		    !osqi_commands_select_all(shell, options->all_table))
			status = 1;
		if (options->query != NULL && osqi_run_argument(shell, options->query) != 0)
			status = 1;
		return status;
	}
	if (!isatty(STDIN_FILENO))
		return osqi_shell_process_input(shell, osqi_read_stream, stdin, FALSE);
	return osqi_run_interactive(shell, program);
}

int
main(int argc, char **argv)
{
	g_auto(OsqiOptions) options = { .header = TRUE };
	g_autoptr(GError) error = NULL;
	g_autoptr(OsqdRegistry) registry = NULL;
	g_autoptr(OsqiShell) shell = NULL;
	OsqdEngine *engine = NULL;
	gint status;

	if (!osqi_parse_args(&options, argc, argv, &error)) {
		g_printerr("Error: %s\n", error->message);
		return 1;
	}
	if (options.help) {
		(void)fputs(osqi_help, stdout);
		return 0;
	}
	if (options.version) {
		(void)printf("osqi version %s\n", OSQ_VERSION);
		return 0;
	}
	if (options.connect == NULL) {
		registry = osqd_registry_new_builtin();
		engine = osqd_engine_new(registry, &error);
		if (engine == NULL) {
			g_printerr("Error: %s\n", error->message);
			return 1;
		}
	}
	/* over --connect the engine is made only if .disconnect asks for it */
	shell = osqi_shell_new(engine);
	osqi_apply_options(shell, &options);
	if (options.connect != NULL && !osqi_remote_connect(shell, options.connect, &error)) {
		g_printerr("Error: %s\n", error->message);
		return 1;
	}
	status = osqi_run(shell, &options, argv[0]);
	(void)fflush(stdout);
	return status;
}
