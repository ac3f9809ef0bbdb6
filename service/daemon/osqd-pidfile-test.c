/* SPDX-License-Identifier: Apache-2.0
 *
 * Pidfile tests: the pid is written, a second acquire (another open file description, as a
 * second daemon would have) is refused while the first holds the lock, a stale file from a
 * crashed run is taken over, and release removes the file.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "osq-error.h"
#include "osqd-pidfile.h"

static void
test_lock(void **state)
{
	g_autofree gchar *dir = g_dir_make_tmp("osqd-pidfile-XXXXXX", NULL);
	g_autofree gchar *path = g_build_filename(dir, "osqd.pid", NULL);
	g_autofree gchar *contents = NULL;
	g_autofree gchar *expected = g_strdup_printf("%d\n", (gint)getpid());
	g_autoptr(GError) error = NULL;
	OsqdPidfile *first, *second;

	first = osqd_pidfile_acquire(path, &error);
	assert_non_null(first);
	assert_true(g_file_get_contents(path, &contents, NULL, NULL));
	assert_string_equal(contents, expected);
	second = osqd_pidfile_acquire(path, &error);
	assert_null(second);
	assert_true(g_error_matches(error, OSQ_ERROR, OSQ_ERROR_FAILED));
	assert_non_null(strstr(error->message, "already running"));
	assert_non_null(strstr(error->message, g_strchomp(expected)));
	osqd_pidfile_release(first);
	assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
	(void)g_rmdir(dir);
}

static void
test_stale(void **state)
{
	g_autofree gchar *dir = g_dir_make_tmp("osqd-pidfile-XXXXXX", NULL);
	g_autofree gchar *path = g_build_filename(dir, "osqd.pid", NULL);
	g_autofree gchar *contents = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GError) error_missing = NULL;
	g_autoptr(OsqdPidfile) pidfile = NULL;
	g_autofree gchar *missing = g_build_filename(dir, "no", "such", "osqd.pid", NULL);

	/* left behind by a crash: a long pid, no lock */
	assert_true(g_file_set_contents(path, "4194303999\n", -1, NULL));
	pidfile = osqd_pidfile_acquire(path, &error);
	assert_non_null(pidfile);
	assert_true(g_file_get_contents(path, &contents, NULL, NULL));
	assert_int_equal(g_ascii_strtoll(contents, NULL, 10), getpid());
	assert_null(osqd_pidfile_acquire(missing, &error_missing));
	assert_true(g_error_matches(error_missing, OSQ_ERROR, OSQ_ERROR_IO));
	g_clear_pointer(&pidfile, osqd_pidfile_release);
	(void)g_rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lock),
		cmocka_unit_test(test_stale),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
