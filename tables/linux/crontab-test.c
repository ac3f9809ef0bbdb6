/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests for the crontab line parser: schedules, @events, whitespace handling, and the
 * lines that are not jobs (comments, variables, short lines).
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "crontab.h"

static gboolean
parse(const gchar *text, OsqdCrontabEntry *entry, gchar **storage)
{
	g_free(*storage);
	*storage = g_strdup(text);
	return osqd_crontab_parse_line(*storage, entry);
}

static void
test_schedule(void **state)
{
	g_autofree gchar *line = NULL;
	OsqdCrontabEntry entry;

	(void)state;
	assert_true(parse("  */5 1,2\t* JAN  mon-fri   root  run-parts  --report\t/etc/x \r",
	                  &entry, &line));
	assert_string_equal(entry.event, "");
	assert_string_equal(entry.minute, "*/5");
	assert_string_equal(entry.hour, "1,2");
	assert_string_equal(entry.day_of_month, "*");
	assert_string_equal(entry.month, "JAN");
	assert_string_equal(entry.day_of_week, "mon-fri");
	assert_string_equal(entry.command, "root run-parts --report /etc/x");
}

static void
test_event(void **state)
{
	g_autofree gchar *line = NULL;
	OsqdCrontabEntry entry;

	(void)state;
	assert_true(parse("@reboot\t/usr/bin/thing  --now", &entry, &line));
	assert_string_equal(entry.event, "@reboot");
	assert_string_equal(entry.minute, "");
	assert_string_equal(entry.day_of_week, "");
	assert_string_equal(entry.command, "/usr/bin/thing --now");
}

static void
test_not_jobs(void **state)
{
	g_autofree gchar *line = NULL;
	OsqdCrontabEntry entry;

	(void)state;
	assert_false(parse("", &entry, &line));
	assert_false(parse(" \t \r", &entry, &line));
	assert_false(parse("# 0 0 * * * comment", &entry, &line));
	assert_false(parse("   # indented comment", &entry, &line));
	assert_false(parse("SHELL=/bin/sh", &entry, &line));
	assert_false(parse("MAILTO = root", &entry, &line));
	assert_false(parse("0 0 * * *", &entry, &line));
	assert_false(parse("0 0 * * *   \t", &entry, &line));
	assert_false(parse("@daily", &entry, &line));
	/* a job whose command looks like a comment is still a job */
	assert_true(parse("0 0 * * * #x", &entry, &line));
	assert_string_equal(entry.command, "#x");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_schedule),
		cmocka_unit_test(test_event),
		cmocka_unit_test(test_not_jobs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
