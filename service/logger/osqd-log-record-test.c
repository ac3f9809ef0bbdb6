/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests of the record formatting primitives: calendarTime, the double and string forms of
 * osquery's JSON writer, column sorting, numerics edge cases, top-level decorations replacing
 * standard keys, and the status line in glog's text form and osquery's relay JSON. Whole
 * result lines are covered by the golden cases in tests/golden-logs.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <math.h>

#include "osqd-log-json.h"
#include "osqd-log-record.h"

static void
test_calendar_time(void **state)
{
	g_autofree gchar *a = osqd_log_format_calendar_time(1462227452);
	g_autofree gchar *b = osqd_log_format_calendar_time(0);
	g_autofree gchar *c = osqd_log_format_calendar_time(1700000000);

	assert_string_equal(a, "Mon May  2 22:17:32 2016 UTC");
	assert_string_equal(b, "Thu Jan  1 00:00:00 1970 UTC");
	assert_string_equal(c, "Tue Nov 14 22:13:20 2023 UTC");
}

static void
assert_double(gdouble value, const gchar *expected)
{
	g_autoptr(GString) out = g_string_new(NULL);

	osqd_log_json_append_double(out, value);
	assert_string_equal(out->str, expected);
}

static void
test_doubles(void **state)
{
	assert_double(1.0, "1.0");
	assert_double(0.1, "0.1");
	assert_double(0.0, "0.0");
	assert_double(-0.0, "-0.0");
	assert_double(-2.5, "-2.5");
	assert_double(1.0 / 3.0, "0.3333333333333333");
	assert_double(123456.789, "123456.789");
	assert_double(1e20, "100000000000000000000.0");
	assert_double(1e21, "1e21");
	assert_double(1.5e300, "1.5e300");
	assert_double(0.000001, "0.000001");
	assert_double(1e-7, "1e-7");
	assert_double(1.25e-10, "1.25e-10");
	assert_double(9007199254740993.0, "9007199254740992.0");
	assert_double(INFINITY, "\"Inf\"");
	assert_double(NAN, "\"NaN\"");
}

static void
assert_string(const gchar *text, const gchar *expected)
{
	g_autoptr(GString) out = g_string_new(NULL);

	osqd_log_json_append_string(out, text);
	assert_string_equal(out->str, expected);
}

static void
test_strings(void **state)
{
	assert_string("plain", "\"plain\"");
	assert_string("a\"b\\c/d", "\"a\\\"b\\\\c/d\"");
	assert_string("\b\f\n\r\t", "\"\\b\\f\\n\\r\\t\"");
	assert_string("\x01\x1f\x7f", "\"\\u0001\\u001F\x7f\"");
	assert_string("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
	              "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
	/* a stray continuation byte and a truncated sequence each become U+FFFD */
	assert_string("a\x80z\xc3", "\"a\xef\xbf\xbdz\xef\xbf\xbd\"");
}

static gchar *
format_one(OsqdResultRecord *record, const OsqdLogOptions *options)
{
	g_autoptr(GPtrArray) lines = osqd_result_record_format(record, options);

	assert_int_equal(lines->len, 1);
	return g_strdup(lines->pdata[0]);
}

static void
test_sorted_columns_and_duplicates(void **state)
{
	g_autoptr(OsqdResultRecord) record = osqd_result_record_new("q", "h", 0);
	OsqdLogRow *row = osqd_log_row_new();
	OsqdLogOptions options;
	g_autofree gchar *line = NULL;

	osqd_log_options_init(&options);
	osqd_log_row_add_text(row, "b", "TEXT", "1");
	osqd_log_row_add_text(row, "a", "TEXT", "2");
	osqd_log_row_add_text(row, "B", "TEXT", "3");
	osqd_log_row_add_text(row, "a", "TEXT", "last");
	g_ptr_array_add(record->added, row);
	line = format_one(record, &options);
	assert_non_null(strstr(line, "\"columns\":{\"B\":\"3\",\"a\":\"last\",\"b\":\"1\"}"));
}

static void
test_numerics_text_values(void **state)
{
	g_autoptr(OsqdResultRecord) record = osqd_result_record_new("q", "h", 0);
	OsqdLogRow *row = osqd_log_row_new();
	OsqdLogOptions options;
	g_autofree gchar *line = NULL;

	osqd_log_options_init(&options);
	options.numerics = TRUE;
	osqd_log_row_add_text(row, "a", "BIGINT", "42");
	osqd_log_row_add_text(row, "b", "BIGINT", "4x");
	osqd_log_row_add_text(row, "c", "DOUBLE", "2.50");
	osqd_log_row_add_text(row, "d", "UNSIGNED BIGINT", "18446744073709551615");
	osqd_log_row_add_int(row, "e", "TEXT", 7);
	osqd_log_row_add_int(row, "f", NULL, 7);
	osqd_log_row_add_int(row, "g", "DOUBLE", 3);
	osqd_log_row_add_text(row, "h", "DOUBLE", "nan");
	osqd_log_row_add_text(row, "i", "DOUBLE", "1e999");
	osqd_log_row_add_text(row, "j", "DOUBLE", "0x10");
	osqd_log_row_add_double(row, "k", "DOUBLE", INFINITY);
	g_ptr_array_add(record->added, row);
	line = format_one(record, &options);
	assert_non_null(strstr(line, "\"numerics\":true,"));
	assert_non_null(strstr(line,
	                       "{\"a\":42,\"b\":\"4x\",\"c\":2.5,"
	                       "\"d\":18446744073709551615,\"e\":\"7\",\"f\":7,\"g\":3.0,"
	                       "\"h\":\"nan\",\"i\":\"1e999\",\"j\":\"0x10\",\"k\":\"Inf\"}"));
}

static void
test_top_level_decoration_replaces_key(void **state)
{
	g_autoptr(OsqdResultRecord) record = osqd_result_record_new("q", "h", 0);
	OsqdLogOptions options;
	g_autofree gchar *line = NULL;

	osqd_log_options_init(&options);
	options.decorations_top_level = TRUE;
	record->is_snapshot = TRUE;
	osqd_result_record_add_decoration(record, "zz", "1");
	osqd_result_record_add_decoration(record, "hostIdentifier", "decorated");
	line = format_one(record, &options);
	/* hostIdentifier's slot goes to the last member (numerics); it is appended at the end */
	assert_string_equal(line, "{\"snapshot\":[],\"action\":\"snapshot\",\"name\":\"q\","
	                          "\"numerics\":false,\"calendarTime\":\"Thu Jan  1 00:00:00 "
	                          "1970 UTC\",\"unixTime\":0,\"epoch\":0,\"counter\":0,"
	                          "\"hostIdentifier\":\"decorated\",\"zz\":\"1\"}");
}

static void
test_nothing_changed_writes_nothing(void **state)
{
	g_autoptr(OsqdResultRecord) record = osqd_result_record_new("q", "h", 0);
	OsqdLogOptions options;
	g_autoptr(GPtrArray) events = NULL;
	g_autoptr(GPtrArray) batch = NULL;

	osqd_log_options_init(&options);
	events = osqd_result_record_format(record, &options);
	options.event_type = FALSE;
	batch = osqd_result_record_format(record, &options);
	assert_int_equal(events->len, 0);
	assert_int_equal(batch->len, 0);
}

static void
test_status_text(void **state)
{
	g_autoptr(GTimeZone) utc = g_time_zone_new_utc();
	g_autoptr(GTimeZone) plus2 = g_time_zone_new_identifier("+02:00");
	g_autoptr(OsqdStatusRecord) info =
	        osqd_status_record_new(OSQD_LOG_SEVERITY_INFO, "scheduler.c", 42, "Executing query",
	                               1462227452000123, "h");
	g_autoptr(OsqdStatusRecord) error = osqd_status_record_new(
	        OSQD_LOG_SEVERITY_ERROR, "config.c", 7, "bad", 1462227452999999, "h");
	g_autofree gchar *a = osqd_status_record_format_text(info, 123, utc);
	g_autofree gchar *b = osqd_status_record_format_text(error, 1234567, plus2);

	assert_string_equal(a, "I0502 22:17:32.000123   123 scheduler.c:42] Executing query");
	assert_string_equal(b, "E0503 00:17:32.999999 1234567 config.c:7] bad");
	info->severity = OSQD_LOG_SEVERITY_WARNING;
	g_free(a);
	a = osqd_status_record_format_text(info, 1, utc);
	assert_true(g_str_has_prefix(a, "W0502 "));
}

static void
test_status_json(void **state)
{
	g_autoptr(OsqdStatusRecord) record =
	        osqd_status_record_new(OSQD_LOG_SEVERITY_WARNING, "config.c", 12,
	                               "quote \" and\nnewline", 1462227452500000, "host-1");
	g_autofree gchar *json = osqd_status_record_format_json(record);

	assert_string_equal(json, "{\"s\":1,\"f\":\"config.c\",\"i\":12,"
	                          "\"m\":\"quote \\\" and\\nnewline\",\"h\":\"host-1\","
	                          "\"c\":\"Mon May  2 22:17:32 2016 UTC\",\"u\":1462227452}");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_calendar_time),
		cmocka_unit_test(test_doubles),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_sorted_columns_and_duplicates),
		cmocka_unit_test(test_numerics_text_values),
		cmocka_unit_test(test_top_level_decoration_replaces_key),
		cmocka_unit_test(test_nothing_changed_writes_nothing),
		cmocka_unit_test(test_status_text),
		cmocka_unit_test(test_status_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
