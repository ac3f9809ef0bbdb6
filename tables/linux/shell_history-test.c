/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests for the shell history parser: bash timestamp lines, zsh extended history, plain
 * lines, empty lines, a missing final newline and timestamps too large to be numbers.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "shell_history.h"

typedef struct {
	const gchar *command;
	gint64 time;
	gboolean has_time;
} Expected;

static void
check(const gchar *data, gsize len, const Expected *expected, guint n_expected)
{
	OsqdShellHistoryParser parser;
	OsqdShellHistoryEntry entry;
	guint n = 0;

	osqd_shell_history_parser_init(&parser, data, len);
	while (osqd_shell_history_parser_next(&parser, &entry)) {
		g_autofree gchar *command = g_strndup(entry.command, entry.command_len);
		assert_true(n < n_expected);
		assert_string_equal(command, expected[n].command);
		assert_int_equal(entry.has_time, expected[n].has_time);
		if (entry.has_time)
			assert_int_equal(entry.time, expected[n].time);
		n++;
	}
	assert_int_equal(n, n_expected);
}

static void
test_bash(void **state)
{
	const gchar *data = "#1700000000\nls\nplain\n#17\n#18\n#12a\n#\n"
	                    "#99999999999999999999\nbig\n#5\n";
	const Expected expected[] = {
		{ "ls", 1700000000, TRUE }, { "plain", 0, TRUE }, { "#18", 17, TRUE },
		{ "#12a", 0, TRUE },        { "#", 0, TRUE },     { "big", 0, FALSE },
	};

	(void)state;
	check(data, strlen(data), expected, G_N_ELEMENTS(expected));
}

static void
test_zsh(void **state)
{
	const gchar *data = ": 1700000000:0;ls -la\n"
	                    ":1700000001:5;no space\n"
	                    ":          1700000002:0;ten spaces\n"
	                    ":           1700000003:0;eleven spaces\n"
	                    ": 123456789012:0;twelve digits\n"
	                    ": 1700000004:;no duration\n"
	                    ": 1700000005:0;has\rcr\n"
	                    ": 1700000006:0;\n"
	                    ": 1700000007:0;a;b:c";
	const Expected expected[] = {
		{ "ls -la", 1700000000, TRUE },
		{ "no space", 1700000001, TRUE },
		{ "ten spaces", 1700000002, TRUE },
		{ ":           1700000003:0;eleven spaces", 0, TRUE },
		{ ": 123456789012:0;twelve digits", 0, TRUE },
		{ ": 1700000004:;no duration", 0, TRUE },
		{ ": 1700000005:0;has\rcr", 0, TRUE },
		{ "", 1700000006, TRUE },
		{ "a;b:c", 1700000007, TRUE },
	};

	(void)state;
	check(data, strlen(data), expected, G_N_ELEMENTS(expected));
}

static void
test_lines(void **state)
{
	const Expected expected[] = {
		{ "a", 0, TRUE },
		{ "", 0, TRUE },
		{ "b", 0, TRUE },
	};

	(void)state;
	/* empty lines count, a trailing newline does not add one, a missing one loses nothing */
	check("a\n\nb\n", 5, expected, 3);
	check("a\n\nb", 4, expected, 3);
	check("", 0, expected, 0);
	check("\n", 1, expected + 1, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bash),
		cmocka_unit_test(test_zsh),
		cmocka_unit_test(test_lines),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
