/* SPDX-License-Identifier: Apache-2.0
 *
 * Printer tests: exact text of every mode on small hand-built results, including the cases
 * that are easy to get wrong (multibyte widths, csv quoting, JSON types, streaming in chunks,
 * zero rows, statements without columns). JSON goes through the real osqi-json.so, found
 * through OSQI_MODULE_DIR (set by the build's test environment).
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "osqi-output.h"

/* osqi_output_print(), failing the test with the error (JSON: osqi-json.so not loaded). */
static void
print_chunk(const OsqiOutputSettings *settings, OsqiResult *result, gboolean last, GString *out)
{
	g_autoptr(GError) error = NULL;

	if (!osqi_output_print(settings, result, last, out, &error))
		fail_msg("%s", error->message);
}

/* The e2e fixed query: SELECT 1 AS a, 'x' AS b, NULL AS c, 2.5 AS d */
static OsqiResult *
fixed_result(void)
{
	OsqiResult *result = osqi_result_new(4);

	osqi_result_set_column_name(result, 0, "a");
	osqi_result_set_column_name(result, 1, "b");
	osqi_result_set_column_name(result, 2, "c");
	osqi_result_set_column_name(result, 3, "d");
	osqi_result_add_int(result, 1);
	osqi_result_add_text(result, "x", 1);
	osqi_result_add_null(result);
	osqi_result_add_double(result, 2.5);
	return result;
}

static gchar *
print_all(OsqiOutputSettings *settings, OsqiResult *result)
{
	GString *out = g_string_new(NULL);

	print_chunk(settings, result, TRUE, out);
	return g_string_free(out, FALSE);
}

static gchar *
print_fixed(OsqiMode mode, OsqiJson json)
{
	OsqiOutputSettings settings;
	g_autoptr(OsqiResult) result = fixed_result();
	gchar *text;

	osqi_output_settings_init(&settings);
	settings.mode = mode;
	settings.json = json;
	if (mode == OSQI_MODE_CSV) {
		g_free(settings.separator);
		settings.separator = g_strdup(",");
	}
	text = print_all(&settings, result);
	osqi_output_settings_clear(&settings);
	return text;
}

static void
test_fixed_modes(void **state)
{
	g_autofree gchar *pretty = print_fixed(OSQI_MODE_PRETTY, OSQI_JSON_NONE);
	g_autofree gchar *line = print_fixed(OSQI_MODE_LINE, OSQI_JSON_NONE);
	g_autofree gchar *csv = print_fixed(OSQI_MODE_CSV, OSQI_JSON_NONE);
	g_autofree gchar *list = print_fixed(OSQI_MODE_LIST, OSQI_JSON_NONE);
	g_autofree gchar *column = print_fixed(OSQI_MODE_COLUMN, OSQI_JSON_NONE);
	g_autofree gchar *json = print_fixed(OSQI_MODE_PRETTY, OSQI_JSON_COMPACT);
	g_autofree gchar *json_pretty = print_fixed(OSQI_MODE_PRETTY, OSQI_JSON_PRETTY);
	g_autofree gchar *list_json = print_fixed(OSQI_MODE_LIST, OSQI_JSON_COMPACT);

	(void)state;
	assert_string_equal(pretty, "+---+---+---+-----+\n"
	                            "| a | b | c | d   |\n"
	                            "+---+---+---+-----+\n"
	                            "| 1 | x |   | 2.5 |\n"
	                            "+---+---+---+-----+\n");
	assert_string_equal(line, "    a = 1\n    b = x\n    c = \n    d = 2.5\n");
	assert_string_equal(csv, "a,b,c,d\n1,x,,2.5\n");
	assert_string_equal(list, "a|b|c|d\n1|x||2.5\n");
	assert_string_equal(column, "a           b           c           d         \n"
	                            "----------  ----------  ----------  ----------\n"
	                            "1           x                       2.5       \n");
	assert_string_equal(json, "[\n  {\"a\":1,\"b\":\"x\",\"c\":null,\"d\":2.5}\n]\n");
	assert_string_equal(json_pretty, "[\n"
	                                 "    {\n"
	                                 "        \"a\" : 1,\n"
	                                 "        \"b\" : \"x\",\n"
	                                 "        \"c\" : null,\n"
	                                 "        \"d\" : 2.5\n"
	                                 "    }\n"
	                                 "]\n");
	/* JSON replaces only the pretty printer */
	assert_string_equal(list_json, list);
}

static void
test_pretty_utf8_widths(void **state)
{
	OsqiOutputSettings settings;
	g_autoptr(OsqiResult) result = osqi_result_new(2);
	g_autofree gchar *text = NULL;

	(void)state;
	osqi_output_settings_init(&settings);
	g_free(settings.nullvalue);
	settings.nullvalue = g_strdup("-");
	osqi_result_set_column_name(result, 0, "name");
	osqi_result_set_column_name(result, 1, "größe");
	osqi_result_add_text(result, "héllo wörld", strlen("héllo wörld"));
	osqi_result_add_int(result, -42);
	osqi_result_add_text(result, "日本", strlen("日本"));
	osqi_result_add_null(result);
	text = print_all(&settings, result);
	assert_string_equal(text, "+-------------+-------+\n"
	                          "| name        | größe |\n"
	                          "+-------------+-------+\n"
	                          "| héllo wörld | -42   |\n"
	                          "| 日本          | -     |\n" /* characters, not cells */
	                          "+-------------+-------+\n");
	assert_int_equal(osqi_output_utf8_width("日本", strlen("日本")), 2);
	assert_int_equal(osqi_output_utf8_width("", 0), 0);
	osqi_output_settings_clear(&settings);
}

static void
test_pretty_doubles(void **state)
{
	OsqiOutputSettings settings;
	g_autoptr(OsqiResult) result = osqi_result_new(3);
	g_autofree gchar *text = NULL;

	(void)state;
	osqi_output_settings_init(&settings);
	settings.mode = OSQI_MODE_LIST;
	settings.headers = FALSE;
	osqi_result_add_double(result, 1.0);
	osqi_result_add_double(result, 0.1);
	osqi_result_add_double(result, 1e20);
	text = print_all(&settings, result);
	/* as sqlite3 shows them */
	assert_string_equal(text, "1.0|0.1|1.0e+20\n");
	osqi_output_settings_clear(&settings);
}

static void
test_zero_rows(void **state)
{
	OsqiOutputSettings settings;
	const OsqiMode modes[] = { OSQI_MODE_PRETTY, OSQI_MODE_LINE, OSQI_MODE_CSV, OSQI_MODE_LIST,
		                   OSQI_MODE_COLUMN };

	(void)state;
	osqi_output_settings_init(&settings);
	for (guint i = 0; i < G_N_ELEMENTS(modes); i++) {
		g_autoptr(OsqiResult) result = osqi_result_new(1);
		g_autofree gchar *text = NULL;
		osqi_result_set_column_name(result, 0, "a");
		settings.mode = modes[i];
		text = print_all(&settings, result);
		assert_string_equal(text, "");
	}
	settings.mode = OSQI_MODE_PRETTY;
	settings.json = OSQI_JSON_COMPACT;
	{
		g_autoptr(OsqiResult) result = osqi_result_new(1);
		g_autofree gchar *text = print_all(&settings, result);
		assert_string_equal(text, "[\n\n]\n");
	}
	settings.json = OSQI_JSON_PRETTY;
	{
		g_autoptr(OsqiResult) result = osqi_result_new(1);
		g_autofree gchar *text = print_all(&settings, result);
		assert_string_equal(text, "[]\n");
	}
	/* a statement without columns (CREATE TEMP TABLE...) prints nothing, even as JSON */
	settings.json = OSQI_JSON_COMPACT;
	{
		g_autoptr(OsqiResult) result = osqi_result_new(0);
		g_autofree gchar *text = print_all(&settings, result);
		assert_string_equal(text, "");
	}
	osqi_output_settings_clear(&settings);
}

static void
test_csv_quoting(void **state)
{
	OsqiOutputSettings settings;
	g_autoptr(OsqiResult) result = osqi_result_new(2);
	g_autofree gchar *text = NULL;
	const gchar *values[] = { "plain", "a,b",       "two words", "say \"hi\"", "it's",
		                  "",      "tab\there", "é",         "x;y",        "-_.:/+" };

	(void)state;
	osqi_output_settings_init(&settings);
	settings.mode = OSQI_MODE_CSV;
	g_free(settings.separator);
	settings.separator = g_strdup(",");
	g_free(settings.nullvalue);
	settings.nullvalue = g_strdup("NULL");
	osqi_result_set_column_name(result, 0, "the value");
	osqi_result_set_column_name(result, 1, "n");
	for (guint i = 0; i < G_N_ELEMENTS(values); i++) {
		osqi_result_add_text(result, values[i], strlen(values[i]));
		osqi_result_add_int(result, i);
	}
	osqi_result_add_null(result);
	osqi_result_add_double(result, -1.5);
	text = print_all(&settings, result);
	assert_string_equal(text, "\"the value\",n\n"
	                          "plain,0\n"
	                          "\"a,b\",1\n"
	                          "\"two words\",2\n"
	                          "\"say \"\"hi\"\"\",3\n"
	                          "\"it's\",4\n"
	                          "\"\",5\n"
	                          "\"tab\there\",6\n"
	                          "\"é\",7\n"
	                          "x;y,8\n"
	                          "-_.:/+,9\n"
	                          "NULL,-1.5\n");
	osqi_output_settings_clear(&settings);

	/* with another separator, that separator triggers quoting instead */
	osqi_output_settings_init(&settings);
	settings.mode = OSQI_MODE_CSV;
	settings.headers = FALSE;
	g_free(settings.separator);
	settings.separator = g_strdup(";");
	{
		g_autoptr(OsqiResult) other = osqi_result_new(2);
		g_autofree gchar *other_text = NULL;
		osqi_result_add_text(other, "x;y", 3);
		osqi_result_add_text(other, "a,b", 3);
		other_text = print_all(&settings, other);
		assert_string_equal(other_text, "\"x;y\";a,b\n");
	}
	osqi_output_settings_clear(&settings);
}

static void
test_json_types(void **state)
{
	OsqiOutputSettings settings;
	g_autoptr(OsqiResult) result = osqi_result_new(6);
	g_autofree gchar *text = NULL;

	(void)state;
	osqi_output_settings_init(&settings);
	settings.json = OSQI_JSON_COMPACT;
	/* keys keep the SELECT order, not alphabetical */
	osqi_result_set_column_name(result, 0, "zeta");
	osqi_result_set_column_name(result, 1, "alpha");
	osqi_result_set_column_name(result, 2, "text");
	osqi_result_set_column_name(result, 3, "nothing");
	osqi_result_set_column_name(result, 4, "big");
	osqi_result_set_column_name(result, 5, "bad");
	osqi_result_add_int(result, -7);
	osqi_result_add_double(result, 0.5);
	osqi_result_add_text(result, "a \"q\"\n\\", strlen("a \"q\"\n\\"));
	osqi_result_add_null(result);
	osqi_result_add_int(result, G_MAXINT64);
	osqi_result_add_text(result, "\xff", 1);
	osqi_result_add_int(result, 0);
	osqi_result_add_double(result, 1.0 / 0.0);
	osqi_result_add_text(result, "", 0);
	osqi_result_add_int(result, 1);
	osqi_result_add_blob(result, "ab", 2);
	osqi_result_add_null(result);
	text = print_all(&settings, result);
	assert_string_equal(text, "[\n"
	                          "  {\"zeta\":-7,\"alpha\":0.5,\"text\":\"a \\\"q\\\"\\n\\\\\","
	                          "\"nothing\":null,\"big\":9223372036854775807,"
	                          "\"bad\":\"\xef\xbf\xbd\"},\n"
	                          "  {\"zeta\":0,\"alpha\":\"Inf\",\"text\":\"\",\"nothing\":1,"
	                          "\"big\":\"ab\",\"bad\":null}\n"
	                          "]\n");
	osqi_output_settings_clear(&settings);
}

static void
test_json_duplicates_and_pretty_rows(void **state)
{
	OsqiOutputSettings settings;
	g_autoptr(OsqiResult) result = osqi_result_new(3);
	g_autoptr(OsqiResult) pretty = osqi_result_new(1);
	g_autoptr(GString) out = g_string_new(NULL);

	(void)state;
	osqi_output_settings_init(&settings);
	settings.json = OSQI_JSON_COMPACT;
	osqi_result_set_column_name(result, 0, "a");
	osqi_result_set_column_name(result, 1, "a");
	osqi_result_set_column_name(result, 2, "b");
	osqi_result_add_int(result, 1);
	osqi_result_add_int(result, 2);
	osqi_result_add_int(result, 3);
	print_chunk(&settings, result, TRUE, out);
	/* as json-glib's own builder does: the last duplicate wins, in the first one's place */
	assert_string_equal(out->str, "[\n  {\"a\":2,\"b\":3}\n]\n");

	g_string_truncate(out, 0);
	settings.json = OSQI_JSON_PRETTY;
	assert_true(osqi_output_streams(&settings));
	osqi_result_set_column_name(pretty, 0, "s");
	osqi_result_add_text(pretty, "multi\nline", strlen("multi\nline"));
	print_chunk(&settings, pretty, FALSE, out);
	osqi_result_add_null(pretty);
	print_chunk(&settings, pretty, TRUE, out);
	assert_string_equal(out->str, "[\n"
	                              "    {\n"
	                              "        \"s\" : \"multi\\nline\"\n"
	                              "    },\n"
	                              "    {\n"
	                              "        \"s\" : null\n"
	                              "    }\n"
	                              "]\n");
	osqi_output_settings_clear(&settings);
}

static void
test_line_alignment(void **state)
{
	OsqiOutputSettings settings;
	g_autoptr(OsqiResult) result = osqi_result_new(2);
	g_autoptr(GString) out = g_string_new(NULL);

	(void)state;
	osqi_output_settings_init(&settings);
	settings.mode = OSQI_MODE_LINE;
	osqi_result_set_column_name(result, 0, "pid");
	osqi_result_set_column_name(result, 1, "cmdline");
	osqi_result_add_int(result, 1);
	osqi_result_add_text(result, "init", 4);
	print_chunk(&settings, result, FALSE, out);
	/* a second chunk of the same statement still gets its blank separator line */
	osqi_result_add_int(result, 2);
	osqi_result_add_null(result);
	print_chunk(&settings, result, TRUE, out);
	assert_string_equal(out->str, "    pid = 1\ncmdline = init\n\n    pid = 2\ncmdline = \n");
	osqi_output_settings_clear(&settings);
}

static void
test_column_mode(void **state)
{
	OsqiOutputSettings settings;
	g_autoptr(OsqiResult) result = osqi_result_new(3);
	g_autoptr(GString) out = g_string_new(NULL);
	gint widths[] = { 3, -4, 0 };

	(void)state;
	osqi_output_settings_init(&settings);
	settings.mode = OSQI_MODE_COLUMN;
	osqi_result_set_column_name(result, 0, "first");
	osqi_result_set_column_name(result, 1, "n");
	osqi_result_set_column_name(result, 2, "a_rather_long_name");
	osqi_result_add_text(result, "abcdef", 6);
	osqi_result_add_int(result, 7);
	osqi_result_add_text(result, "ünïcode", strlen("ünïcode"));
	print_chunk(&settings, result, FALSE, out);
	/* widths come from the first row; later values are cut to fit */
	osqi_result_add_text(result, "x", 1);
	osqi_result_add_int(result, 123456789012);
	osqi_result_add_text(result, "a value longer than eighteen", 28);
	print_chunk(&settings, result, TRUE, out);
	assert_string_equal(out->str, "first       n           a_rather_long_name\n"
	                              "----------  ----------  ------------------\n"
	                              "abcdef      7           ünïcode           \n"
	                              "x           1234567890  a value longer tha\n");

	g_string_truncate(out, 0);
	g_array_append_vals(settings.widths, widths, G_N_ELEMENTS(widths));
	settings.headers = FALSE;
	{
		g_autoptr(OsqiResult) other = osqi_result_new(3);
		osqi_result_add_text(other, "abcdef", 6);
		osqi_result_add_int(other, 7);
		osqi_result_add_text(other, "z", 1);
		print_chunk(&settings, other, TRUE, out);
	}
	assert_string_equal(out->str, "abc     7  z         \n");
	osqi_output_settings_clear(&settings);
}

static void
test_list_streaming(void **state)
{
	OsqiOutputSettings settings;
	g_autoptr(OsqiResult) result = osqi_result_new(2);
	g_autoptr(GString) out = g_string_new(NULL);

	(void)state;
	osqi_output_settings_init(&settings);
	settings.mode = OSQI_MODE_LIST;
	g_free(settings.separator);
	settings.separator = g_strdup(" :: ");
	g_free(settings.nullvalue);
	settings.nullvalue = g_strdup("(null)");
	assert_true(osqi_output_streams(&settings));
	osqi_result_set_column_name(result, 0, "k");
	osqi_result_set_column_name(result, 1, "v");
	osqi_result_add_text(result, "a", 1);
	osqi_result_add_null(result);
	assert_int_equal(osqi_result_get_n_rows(result), 1);
	print_chunk(&settings, result, FALSE, out);
	assert_int_equal(osqi_result_get_n_rows(result), 0);
	osqi_result_add_text(result, "b", 1);
	osqi_result_add_int(result, 2);
	print_chunk(&settings, result, TRUE, out);
	assert_string_equal(out->str, "k :: v\na :: (null)\nb :: 2\n");

	/* JSON arrays stay well-formed across chunks */
	settings.mode = OSQI_MODE_PRETTY;
	settings.json = OSQI_JSON_COMPACT;
	g_string_truncate(out, 0);
	{
		g_autoptr(OsqiResult) json = osqi_result_new(1);
		osqi_result_set_column_name(json, 0, "n");
		osqi_result_add_int(json, 1);
		print_chunk(&settings, json, FALSE, out);
		osqi_result_add_int(json, 2);
		print_chunk(&settings, json, FALSE, out);
		print_chunk(&settings, json, TRUE, out);
	}
	assert_string_equal(out->str, "[\n  {\"n\":1},\n  {\"n\":2}\n]\n");

	/* the pretty printer waits for the last call */
	settings.json = OSQI_JSON_NONE;
	assert_false(osqi_output_streams(&settings));
	g_string_truncate(out, 0);
	{
		g_autoptr(OsqiResult) pretty = osqi_result_new(1);
		osqi_result_set_column_name(pretty, 0, "n");
		osqi_result_add_int(pretty, 1);
		print_chunk(&settings, pretty, FALSE, out);
		assert_string_equal(out->str, "");
		assert_int_equal(osqi_result_get_n_rows(pretty), 1);
	}
	osqi_output_settings_clear(&settings);
}

static void
test_mode_names(void **state)
{
	OsqiOutputSettings settings;
	OsqiMode mode = OSQI_MODE_PRETTY;

	(void)state;
	assert_true(osqi_output_mode_from_string("lines", &mode));
	assert_int_equal(mode, OSQI_MODE_LINE);
	assert_true(osqi_output_mode_from_string("columns", &mode));
	assert_int_equal(mode, OSQI_MODE_COLUMN);
	assert_true(osqi_output_mode_from_string("csv", &mode));
	assert_int_equal(mode, OSQI_MODE_CSV);
	assert_false(osqi_output_mode_from_string("json", &mode));
	assert_false(osqi_output_mode_from_string("lin", &mode));
	osqi_output_settings_init(&settings);
	assert_string_equal(osqi_output_mode_to_string(&settings), "pretty");
	settings.json = OSQI_JSON_COMPACT;
	assert_string_equal(osqi_output_mode_to_string(&settings), "json");
	settings.mode = OSQI_MODE_LIST;
	assert_string_equal(osqi_output_mode_to_string(&settings), "list");
	osqi_output_settings_clear(&settings);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixed_modes),
		cmocka_unit_test(test_pretty_utf8_widths),
		cmocka_unit_test(test_pretty_doubles),
		cmocka_unit_test(test_zero_rows),
		cmocka_unit_test(test_csv_quoting),
		cmocka_unit_test(test_json_types),
		cmocka_unit_test(test_line_alignment),
		cmocka_unit_test(test_column_mode),
		cmocka_unit_test(test_list_streaming),
		cmocka_unit_test(test_mode_names),
		cmocka_unit_test(test_json_duplicates_and_pretty_rows),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
