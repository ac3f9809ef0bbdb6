/* SPDX-License-Identifier: Apache-2.0
 *
 * Dot-command, input-loop and completion tests. Parsing (splitting, abbreviations, booleans)
 * is tested on its own; commands and the input loop run against an engine holding two small
 * in-test tables, with the shell's output and error streams captured in memory.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "osqi-commands.h"
#include "osqi-remote.h"
#include "osqi-complete.h"

static gboolean
fruits_generate(OsqdTableContext *ctx, OsqdRowSink *sink, GError **error)
{
	const gchar *names[] = { "apple", "banana", "cherry" };

	for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
		OsqdRow *row = osqd_row_sink_append(sink);
		osqd_row_set_int(row, 0, i + 1);
		osqd_row_set_text(row, 1, names[i]);
		osqd_row_set_double(row, 2, 0.5 * (i + 1));
	}
	return TRUE;
}

static gboolean
fridge_generate(OsqdTableContext *ctx, OsqdRowSink *sink, GError **error)
{
	OsqdRow *row = osqd_row_sink_append(sink);

	osqd_row_set_text(row, 0, "milk");
	return TRUE;
}

static const OsqdColumn fruits_columns[] = {
	{ "fruit_id", OSQD_COLUMN_TYPE_BIGINT, OSQD_COLUMN_FLAG_INDEX, "Id." },
	{ "fruit_name", OSQD_COLUMN_TYPE_TEXT, 0, "Name." },
	{ "price", OSQD_COLUMN_TYPE_DOUBLE, OSQD_COLUMN_FLAG_HIDDEN, "Price." },
};

static const OsqdColumn fridge_columns[] = {
	{ "item", OSQD_COLUMN_TYPE_TEXT, 0, "What is in it." },
};

static const OsqdTable fruits_table = {
	.name = "fruits",
	.description = "Fruits.",
	.columns = fruits_columns,
	.n_columns = G_N_ELEMENTS(fruits_columns),
	.generate = fruits_generate,
};

static const OsqdTable fridge_table = {
	.name = "fridge",
	.description = "Fridge.",
	.columns = fridge_columns,
	.n_columns = G_N_ELEMENTS(fridge_columns),
	.generate = fridge_generate,
};

typedef struct {
	OsqdRegistry *registry;
	OsqiShell *shell;
	gchar *out_text;
	gsize out_size;
	gchar *err_text;
	gsize err_size;
} Fixture;

static OsqdRegistry *
test_registry(void)
{
	g_autoptr(OsqdRegistry) registry = osqd_registry_new();

	assert_true(osqd_registry_add(registry, &fruits_table, NULL));
	assert_true(osqd_registry_add(registry, &fridge_table, NULL));
	return g_steal_pointer(&registry);
}

static int
fixture_setup(void **state)
{
	Fixture *fixture = g_new0(Fixture, 1);
	g_autoptr(GError) error = NULL;
	OsqdEngine *engine;

	fixture->registry = test_registry();
	engine = osqd_engine_new(fixture->registry, &error);
	assert_non_null(engine);
	fixture->shell = osqi_shell_new(engine);
	fixture->shell->out = open_memstream(&fixture->out_text, &fixture->out_size);
	fixture->shell->err = open_memstream(&fixture->err_text, &fixture->err_size);
	*state = fixture;
	return 0;
}

static int
fixture_teardown(void **state)
{
	Fixture *fixture = *state;

	(void)fclose(fixture->shell->out);
	(void)fclose(fixture->shell->err);
	free(fixture->out_text);
	free(fixture->err_text);
	osqi_shell_free(fixture->shell);
	osqd_registry_unref(fixture->registry);
	g_free(fixture);
	return 0;
}

/* Returns what the shell printed since the last call, and resets both streams. */
static gchar *
fixture_take_out(Fixture *fixture)
{
	gchar *text;

	(void)fflush(fixture->shell->out);
	text = g_strndup(fixture->out_text, fixture->out_size);
	(void)fseeko(fixture->shell->out, 0, SEEK_SET);
	fixture->out_text[0] = '\0';
	fixture->out_size = 0;
	return text;
}

static gchar *
fixture_take_err(Fixture *fixture)
{
	gchar *text;

	(void)fflush(fixture->shell->err);
	text = g_strndup(fixture->err_text, fixture->err_size);
	(void)fseeko(fixture->shell->err, 0, SEEK_SET);
	fixture->err_text[0] = '\0';
	fixture->err_size = 0;
	return text;
}

static OsqiCommandStatus
fixture_run(Fixture *fixture, const gchar *line)
{
	gint exit_code = -1;
	OsqiCommandStatus status = osqi_commands_run(fixture->shell, line, &exit_code);

	if (status != OSQI_COMMAND_EXIT)
		assert_int_equal(exit_code, 0);
	return status;
}

/* ---- parsing ---- */

static void
assert_split(const gchar *line, const gchar *const *expected)
{
	g_autoptr(GPtrArray) args = osqi_command_split(line);

	assert_int_equal(args->len, g_strv_length((gchar **)expected));
	for (guint i = 0; i < args->len; i++)
		assert_string_equal(args->pdata[i], expected[i]);
}

static void
test_split(void **state)
{
	const gchar *const simple[] = { "mode", "line", NULL };
	/* as in sqlite: no escapes inside '...', so 'it\'s' ends after the backslash */
	const gchar *const quoted[] = { "print", "a b", "c\td", "it\\", "s'", "x", NULL };
	const gchar *const separator[] = { "separator", "\t", NULL };
	const gchar *const octal[] = { "separator", "\001", NULL };
	const gchar *const empty[] = { NULL };
	const gchar *const unterminated[] = { "print", "open ended", NULL };

	(void)state;
	assert_split("  .mode   line  ", simple);
	assert_split(".print 'a b' \"c\\td\" 'it\\'s' x", quoted);
	assert_split(".separator \"\\t\"", separator);
	assert_split(".separator \\t", separator);
	assert_split(".separator \\001", octal);
	assert_split("", empty);
	assert_split(".print \"open ended", unterminated);
	assert_split(". ", empty);
	assert_string_equal(osqi_command_rest(".types  SELECT 1, 'a b'"), "SELECT 1, 'a b'");
	assert_string_equal(osqi_command_rest(".types"), "");
}

static void
test_lookup(void **state)
{
	(void)state;
	assert_string_equal(osqi_command_lookup("mo", 1), "mode");
	assert_null(osqi_command_lookup("mode", 0)); /* .mode needs its argument */
	assert_null(osqi_command_lookup("modes", 1));
	assert_string_equal(osqi_command_lookup("e", 0), "exit");
	assert_string_equal(osqi_command_lookup("e", 1), "echo");
	assert_string_equal(osqi_command_lookup("ex", 1), "exit");
	assert_string_equal(osqi_command_lookup("h", 0), "help");
	assert_string_equal(osqi_command_lookup("h", 1), "headers");
	assert_string_equal(osqi_command_lookup("header", 1), "headers");
	assert_string_equal(osqi_command_lookup("s", 0), "schema");
	assert_string_equal(osqi_command_lookup("se", 1), "separator");
	assert_string_equal(osqi_command_lookup("sh", 0), "show");
	assert_string_equal(osqi_command_lookup("t", 0), "tables");
	assert_string_equal(osqi_command_lookup("ti", 1), "timer");
	assert_string_equal(osqi_command_lookup("timeo", 1), "timeout");
	assert_string_equal(osqi_command_lookup("ty", 3), "types");
	assert_string_equal(osqi_command_lookup("l", 0), "list");
	assert_string_equal(osqi_command_lookup("q", 0), "quit");
	assert_string_equal(osqi_command_lookup("p", 0), "print");
	assert_null(osqi_command_lookup("", 0));
	assert_null(osqi_command_lookup("zz", 0));
	assert_string_equal(osqi_command_lookup("c", 1), "connect");
	assert_null(osqi_command_lookup("connect", 0));
	assert_string_equal(osqi_command_lookup("d", 0), "disconnect");
	assert_string_equal(osqi_command_lookup("f", 4), "follow");
	assert_null(osqi_command_lookup("follow", 0));
}

static void
test_remote_split(void **state)
{
	const gchar *tail = NULL;
	g_autofree gchar *first = NULL;
	g_autofree gchar *second = NULL;
	g_autofree gchar *third = NULL;
	const gchar *sql = "SELECT ';' AS a; -- x;\nSELECT 2\n;SELECT 3";

	(void)state;
	first = osqi_remote_next_statement(sql, &tail);
	assert_string_equal(first, "SELECT ';' AS a;");
	/* a comment ending in ';' is not complete without its newline */
	second = osqi_remote_next_statement(tail, &tail);
	assert_string_equal(second, " -- x;\nSELECT 2\n;");
	third = osqi_remote_next_statement(tail, &tail);
	assert_string_equal(third, "SELECT 3");
	assert_string_equal(tail, "");
}

static void
test_connect_commands(void **state)
{
	Fixture *fixture = *state;
	g_autofree gchar *err = NULL;
	g_autofree gchar *err2 = NULL;
	g_autofree gchar *show = NULL;
	g_autofree gchar *follow_err = NULL;
	g_autofree gchar *follow_out = NULL;

	/* a follow needs a daemon */
	assert_int_equal(fixture_run(fixture, ".follow SELECT target_path FROM file_events"),
	                 OSQI_COMMAND_ERROR);
	follow_err = fixture_take_err(fixture);
	assert_string_equal(follow_err, "Error: .follow needs a connection to osqd (.connect PATH "
	                                "or --connect PATH)\n");
	follow_out = fixture_take_out(fixture);
	assert_string_equal(follow_out, "");
	assert_int_equal(fixture_run(fixture, ".disconnect"), OSQI_COMMAND_ERROR);
	err = fixture_take_err(fixture);
	assert_non_null(strstr(err, "not connected"));
	assert_int_equal(fixture_run(fixture, ".connect /nonexistent/osqd.sock"),
	                 OSQI_COMMAND_ERROR);
	err2 = fixture_take_err(fixture);
	assert_non_null(strstr(err2, "Error: cannot connect to /nonexistent/osqd.sock"));
	assert_null(fixture->shell->client);
	/* still in-process */
	assert_int_equal(fixture_run(fixture, ".show"), OSQI_COMMAND_OK);
	show = fixture_take_out(fixture);
	assert_non_null(strstr(show, "   connection: none (in-process)\n"));
}

static void
test_booleans(void **state)
{
	const gchar *const yes[] = { "on",   "ON", "yes", "Yes",  "true",
		                     "TRUE", "1",  "42",  "0x10", NULL };
	const gchar *const no[] = { "off", "Off", "no", "NO", "false", "False", "0", "0x0", NULL };
	const gchar *const bad[] = { "maybe", "", "1x", "0x", "onn", "-1", NULL };
	gboolean value;

	(void)state;
	for (guint i = 0; yes[i] != NULL; i++) {
		value = FALSE;
		assert_true(osqi_command_parse_boolean(yes[i], &value));
		assert_true(value);
	}
	for (guint i = 0; no[i] != NULL; i++) {
		value = TRUE;
		assert_true(osqi_command_parse_boolean(no[i], &value));
		assert_false(value);
	}
	for (guint i = 0; bad[i] != NULL; i++)
		assert_false(osqi_command_parse_boolean(bad[i], &value));
}

/* ---- running commands ---- */

static void
test_settings_commands(void **state)
{
	Fixture *fixture = *state;
	OsqiShell *shell = fixture->shell;
	g_autofree gchar *err = NULL;
	g_autofree gchar *show = NULL;

	assert_int_equal(fixture_run(fixture, ".mo line"), OSQI_COMMAND_OK);
	assert_int_equal(shell->output.mode, OSQI_MODE_LINE);
	assert_int_equal(fixture_run(fixture, ".mode csv"), OSQI_COMMAND_OK);
	assert_int_equal(shell->output.mode, OSQI_MODE_CSV);
	assert_string_equal(shell->output.separator, ",");
	assert_int_equal(fixture_run(fixture, ".mode json"), OSQI_COMMAND_ERROR);
	err = fixture_take_err(fixture);
	assert_string_equal(err, "Error: mode should be one of: column csv line list pretty\n");
	assert_int_equal(shell->output.mode, OSQI_MODE_CSV);

	assert_int_equal(fixture_run(fixture, ".headers off"), OSQI_COMMAND_OK);
	assert_false(shell->output.headers);
	assert_int_equal(fixture_run(fixture, ".header 1"), OSQI_COMMAND_OK);
	assert_true(shell->output.headers);
	assert_int_equal(fixture_run(fixture, ".headers maybe"), OSQI_COMMAND_OK);
	assert_false(shell->output.headers);
	g_free(err);
	err = fixture_take_err(fixture);
	assert_string_equal(err, "ERROR: Not a boolean value: \"maybe\". Assuming \"no\".\n");

	assert_int_equal(fixture_run(fixture, ".e on"), OSQI_COMMAND_OK);
	assert_true(shell->echo);
	assert_int_equal(fixture_run(fixture, ".bail yes"), OSQI_COMMAND_OK);
	assert_true(shell->bail);
	assert_int_equal(fixture_run(fixture, ".timer ON"), OSQI_COMMAND_OK);
	assert_true(shell->timer);
	assert_int_equal(fixture_run(fixture, ".separator \" | \""), OSQI_COMMAND_OK);
	assert_string_equal(shell->output.separator, " | ");
	assert_int_equal(fixture_run(fixture, ".nullvalue NULL"), OSQI_COMMAND_OK);
	assert_string_equal(shell->output.nullvalue, "NULL");
	assert_int_equal(fixture_run(fixture, ".width 5 -3"), OSQI_COMMAND_OK);
	assert_int_equal(shell->output.widths->len, 2);
	assert_int_equal(g_array_index(shell->output.widths, gint, 1), -3);
	assert_int_equal(fixture_run(fixture, ".timeout 250"), OSQI_COMMAND_OK);
	assert_int_equal(shell->timeout_ms, 250);
	assert_int_equal(fixture_run(fixture, ".timeout soon"), OSQI_COMMAND_ERROR);
	assert_int_equal(shell->timeout_ms, 250);

	assert_int_equal(fixture_run(fixture, ".show"), OSQI_COMMAND_OK);
	show = fixture_take_out(fixture);
	assert_non_null(strstr(show, "         echo: on\n"));
	assert_non_null(strstr(show, "         mode: csv\n"));
	assert_non_null(strstr(show, "    nullvalue: \"NULL\"\n"));
	assert_non_null(strstr(show, "    separator: \" | \"\n"));
	assert_non_null(strstr(show, "        width: 5 -3 \n"));
}

static void
test_unknown_and_exit(void **state)
{
	Fixture *fixture = *state;
	g_autofree gchar *err = NULL;
	gint exit_code = -1;

	assert_int_equal(fixture_run(fixture, ".frobnicate"), OSQI_COMMAND_ERROR);
	err = fixture_take_err(fixture);
	assert_string_equal(err, "Error: unknown command or invalid arguments:  \"frobnicate\". "
	                         "Enter \".help\" for help\n");
	/* right name, wrong number of arguments */
	assert_int_equal(fixture_run(fixture, ".mode"), OSQI_COMMAND_ERROR);
	g_free(err);
	err = fixture_take_err(fixture);
	assert_non_null(strstr(err, "\"mode\""));

	assert_int_equal(osqi_commands_run(fixture->shell, ".exit 3", &exit_code),
	                 OSQI_COMMAND_EXIT);
	assert_int_equal(exit_code, 3);
	assert_int_equal(osqi_commands_run(fixture->shell, ".quit", &exit_code), OSQI_COMMAND_EXIT);
	assert_int_equal(exit_code, 0);
	assert_int_equal(osqi_commands_run(fixture->shell, ".exi", &exit_code), OSQI_COMMAND_EXIT);
	assert_int_equal(exit_code, 0);

	assert_int_equal(fixture_run(fixture, ".help"), OSQI_COMMAND_OK);
	g_free(err);
	err = fixture_take_err(fixture);
	assert_non_null(strstr(err, ".mode MODE"));
}

static void
test_table_commands(void **state)
{
	Fixture *fixture = *state;
	g_autofree gchar *tables = NULL;
	g_autofree gchar *some = NULL;
	g_autofree gchar *schema = NULL;
	g_autofree gchar *all = NULL;
	g_autofree gchar *err = NULL;
	g_autofree gchar *print = NULL;

	assert_int_equal(fixture_run(fixture, ".tables"), OSQI_COMMAND_OK);
	tables = fixture_take_out(fixture);
	assert_string_equal(tables, "  => fridge\n  => fruits\n");
	assert_int_equal(fixture_run(fixture, ".ta fru"), OSQI_COMMAND_OK);
	some = fixture_take_out(fixture);
	assert_string_equal(some, "  => fruits\n");

	assert_int_equal(fixture_run(fixture, ".schema fru"), OSQI_COMMAND_OK);
	schema = fixture_take_out(fixture);
	assert_string_equal(schema, "CREATE TABLE fruits(`fruit_id` BIGINT, `fruit_name` TEXT, "
	                            "`price` DOUBLE HIDDEN, PRIMARY KEY (`fruit_id`)) WITHOUT "
	                            "ROWID;\n");

	assert_int_equal(fixture_run(fixture, ".mode list"), OSQI_COMMAND_OK);
	assert_int_equal(fixture_run(fixture, ".all fruits"), OSQI_COMMAND_OK);
	all = fixture_take_out(fixture);
	assert_string_equal(all, "fruit_id|fruit_name\n1|apple\n2|banana\n3|cherry\n");
	assert_int_equal(fixture_run(fixture, ".all nothing"), OSQI_COMMAND_ERROR);
	err = fixture_take_err(fixture);
	assert_string_equal(err, "Error: no such table: nothing\n");

	assert_int_equal(fixture_run(fixture, ".print hello \"big world\""), OSQI_COMMAND_OK);
	print = fixture_take_out(fixture);
	assert_string_equal(print, "hello big world\n");
}

static void
test_types(void **state)
{
	Fixture *fixture = *state;
	g_autofree gchar *types = NULL;
	g_autofree gchar *expressions = NULL;
	g_autofree gchar *err = NULL;

	assert_int_equal(fixture_run(fixture, ".mode list"), OSQI_COMMAND_OK);
	assert_int_equal(fixture_run(fixture, ".types SELECT fruit_id, fruit_name, price FROM "
	                                      "fruits"),
	                 OSQI_COMMAND_OK);
	types = fixture_take_out(fixture);
	assert_string_equal(types, "name|type\nfruit_id|BIGINT\nfruit_name|TEXT\nprice|DOUBLE\n");
	assert_int_equal(fixture_run(fixture, ".ty SELECT 1 AS one, 2.5 AS half, 'x' AS t"),
	                 OSQI_COMMAND_OK);
	expressions = fixture_take_out(fixture);
	assert_string_equal(expressions, "name|type\none|BIGINT\nhalf|DOUBLE\nt|TEXT\n");
	assert_int_equal(fixture_run(fixture, ".types SELEC 1"), OSQI_COMMAND_ERROR);
	err = fixture_take_err(fixture);
	assert_string_equal(err, "Error: near \"SELEC\": syntax error\n");
}

/* ---- the input loop ---- */

typedef struct {
	gchar **lines;
	guint next;
	guint continuations; /* how often the reader was asked for a continuation line */
} ScriptReader;

static gchar *
script_read(gpointer user_data, gboolean continuation, gboolean *interrupted)
{
	ScriptReader *reader = user_data;

	if (continuation)
		reader->continuations++;
	if (reader->lines[reader->next] == NULL)
		return NULL;
	return g_strdup(reader->lines[reader->next++]);
}

static gint
fixture_script(Fixture *fixture, const gchar *script, gboolean interactive, guint *continuations)
{
	g_auto(GStrv) lines = g_strsplit(script, "\n", -1);
	ScriptReader reader = { .lines = lines };
	gint status;

	/* g_strsplit leaves an empty last element after a final newline */
	if (g_strv_length(lines) > 0 && lines[g_strv_length(lines) - 1][0] == '\0') {
		g_free(lines[g_strv_length(lines) - 1]);
		lines[g_strv_length(lines) - 1] = NULL;
	}
	status = osqi_shell_process_input(fixture->shell, script_read, &reader, interactive);
	if (continuations != NULL)
		*continuations = reader.continuations;
	return status;
}

static void
test_input_statements(void **state)
{
	Fixture *fixture = *state;
	g_autofree gchar *out = NULL;
	g_autofree gchar *err = NULL;
	guint continuations = 0;
	gint status;

	fixture->shell->output.mode = OSQI_MODE_LIST;
	status = fixture_script(fixture,
	                        "-- a comment\n"
	                        "SELECT fruit_name\n"
	                        "  FROM fruits\n"
	                        "  WHERE fruit_id = 2;\n"
	                        "\n"
	                        "SELECT 'a;b' AS s; SELECT 2 AS n;\n"
	                        "SELEC oops;\n"
	                        ".mode csv\n"
	                        "SELECT 'x y' AS q;\n"
	                        "SELECT 4 AS last",
	                        FALSE, &continuations);
	assert_int_equal(status, 1);
	assert_int_equal(continuations, 3);
	out = fixture_take_out(fixture);
	assert_string_equal(out, "fruit_name\nbanana\ns\na;b\nn\n2\nq\n\"x y\"\nlast\n4\n");
	err = fixture_take_err(fixture);
	assert_string_equal(err, "Error: near line 7: near \"SELEC\": syntax error\n");
}

static void
test_input_errors_and_bail(void **state)
{
	Fixture *fixture = *state;
	g_autofree gchar *out = NULL;
	g_autofree gchar *err = NULL;
	g_autofree gchar *interactive_err = NULL;
	gint status;

	fixture->shell->output.mode = OSQI_MODE_LIST;
	fixture->shell->output.headers = FALSE;
	/* the line number is the statement's first line */
	status = fixture_script(fixture, "SELECT 1;\nSELECT\n nope\n FROM fruits;\nSELECT 2;\n",
	                        FALSE, NULL);
	assert_int_equal(status, 1);
	out = fixture_take_out(fixture);
	assert_string_equal(out, "1\n2\n");
	err = fixture_take_err(fixture);
	assert_string_equal(err, "Error: near line 2: no such column: nope\n");

	fixture->shell->bail = TRUE;
	status = fixture_script(fixture, ".bogus\nSELECT 1;\n", FALSE, NULL);
	assert_int_equal(status, 1);
	g_free(out);
	out = fixture_take_out(fixture);
	assert_string_equal(out, "");
	g_free(err);
	err = fixture_take_err(fixture);
	assert_non_null(strstr(err, "\"bogus\""));

	/* interactive input: no line numbers, errors do not set the status, bail is ignored */
	status = fixture_script(fixture, "SELECT nope;\nSELECT 3;\n", TRUE, NULL);
	assert_int_equal(status, 0);
	interactive_err = fixture_take_err(fixture);
	assert_string_equal(interactive_err, "Error: no such column: nope\n");
	g_free(out);
	out = fixture_take_out(fixture);
	assert_string_equal(out, "3\n");

	/* .exit ends the input with its code */
	status = fixture_script(fixture, "SELECT 5;\n.exit 7\nSELECT 6;\n", FALSE, NULL);
	assert_int_equal(status, 7);
	g_free(out);
	out = fixture_take_out(fixture);
	assert_string_equal(out, "5\n");
}

static void
test_input_echo_and_timer(void **state)
{
	Fixture *fixture = *state;
	g_autofree gchar *out = NULL;
	g_auto(GStrv) lines = NULL;

	fixture->shell->output.mode = OSQI_MODE_LIST;
	fixture->shell->output.headers = FALSE;
	assert_int_equal(fixture_script(fixture, ".echo on\n.timer on\nSELECT 1;\n", FALSE, NULL),
	                 0);
	out = fixture_take_out(fixture);
	lines = g_strsplit(out, "\n", -1);
	assert_int_equal(g_strv_length(lines), 5);
	assert_string_equal(lines[0], ".timer on");
	assert_string_equal(lines[1], "SELECT 1;");
	assert_string_equal(lines[2], "1");
	assert_true(g_str_has_prefix(lines[3], "Run Time: real "));
	assert_non_null(strstr(lines[3], " user "));
	assert_non_null(strstr(lines[3], " sys "));
}

/* ---- completion ---- */

static void
assert_completions(OsqdRegistry *registry, const gchar *line, gsize expected_start,
                   const gchar *const *expected)
{
	gsize start = G_MAXSIZE;
	g_autoptr(GPtrArray) matches = osqi_complete(registry, line, strlen(line), &start);

	assert_int_equal(start, expected_start);
	assert_int_equal(matches->len, g_strv_length((gchar **)expected));
	for (guint i = 0; i < matches->len; i++)
		assert_string_equal(matches->pdata[i], expected[i]);
}

static void
test_complete(void **state)
{
	g_autoptr(OsqdRegistry) registry = test_registry();
	const gchar *const mode[] = { ".mode", NULL };
	const gchar *const t_commands[] = { ".tables", ".timeout", ".timer", ".types", NULL };
	const gchar *const tables[] = { "fridge", "fruits", NULL };
	const gchar *const fruit_words[] = { "fruit_id", "fruit_name", "fruits", NULL };
	const gchar *const named_only[] = { "fridge", "fruits", "item", NULL };
	const gchar *const everything_i[] = { "item", NULL };
	const gchar *const modes[] = { "line", "list", NULL };
	const gchar *const booleans[] = { "off", "on", NULL };
	const gchar *const none[] = { NULL };
	g_autoptr(GPtrArray) prefix_input = g_ptr_array_new();
	g_autofree gchar *common = NULL;

	(void)state;
	assert_completions(registry, ".mo", 0, mode);
	assert_completions(registry, ".f", 0, (const gchar *const[]){ ".follow", NULL });
	assert_completions(registry, ".follow SELECT * FROM fri", 22,
	                   (const gchar *const[]){ "fridge", NULL });
	assert_completions(registry, "  .t", 2, t_commands);
	assert_completions(registry, "SELECT * FROM fr", 14, tables);
	assert_completions(registry, "SELECT * FROM fridge JOIN f", 26, tables);
	assert_completions(
	        registry, "SELECT fr", 7,
	        (const gchar *const[]){ "fridge", "fruit_id", "fruit_name", "fruits", NULL });
	/* no table named yet: every column */
	assert_completions(registry, "SELECT FRUIT", 7, fruit_words);
	assert_completions(registry, "SELECT i", 7, everything_i);
	assert_completions(registry, "SELECT f.fru", 9, fruit_words);
	/* a named table limits the columns to its own */
	assert_completions(registry, "SELECT  FROM fridge WHERE ", 26, named_only);
	assert_completions(registry, ".mode l", 6, modes);
	assert_completions(registry, ".headers o", 9, booleans);
	assert_completions(registry, ".schema fri", 8, (const gchar *const[]){ "fridge", NULL });
	assert_completions(registry, ".all f", 5, tables);
	assert_completions(registry, ".print x", 7, none);
	assert_completions(registry, "SELECT zzz", 7, none);

	g_ptr_array_add(prefix_input, (gpointer) "fruit_id");
	g_ptr_array_add(prefix_input, (gpointer) "fruit_name");
	g_ptr_array_add(prefix_input, (gpointer) "fruits");
	common = osqi_complete_common_prefix(prefix_input);
	assert_string_equal(common, "fruit");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_lookup),
		cmocka_unit_test(test_booleans),
		cmocka_unit_test(test_remote_split),
		cmocka_unit_test_setup_teardown(test_connect_commands, fixture_setup,
		                                fixture_teardown),
		cmocka_unit_test_setup_teardown(test_settings_commands, fixture_setup,
		                                fixture_teardown),
		cmocka_unit_test_setup_teardown(test_unknown_and_exit, fixture_setup,
		                                fixture_teardown),
		cmocka_unit_test_setup_teardown(test_table_commands, fixture_setup,
		                                fixture_teardown),
		cmocka_unit_test_setup_teardown(test_types, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_input_statements, fixture_setup,
		                                fixture_teardown),
		cmocka_unit_test_setup_teardown(test_input_errors_and_bail, fixture_setup,
		                                fixture_teardown),
		cmocka_unit_test_setup_teardown(test_input_echo_and_timer, fixture_setup,
		                                fixture_teardown),
		cmocka_unit_test(test_complete),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
