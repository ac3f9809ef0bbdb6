/* SPDX-License-Identifier: Apache-2.0
 *
 * File paths: how each form of pattern becomes watches (a tree under a temporary root for the
 * middle wildcards), which event paths it matches, exclusions of a path or its parent, the
 * patterns refused, and osquery's action names for inotify masks.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <glib/gstdio.h>
#include <sys/inotify.h>

#include "osq-error.h"
#include "osqd-file-paths.h"

static OsqdFilePath *
only_plan(const gchar *pattern)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) plans = osqd_file_path_plan(pattern, "", &error);

	if (plans == NULL)
		fail_msg("%s: %s", pattern, error->message);
	assert_int_equal(plans->len, 1);
	return g_ptr_array_steal_index(plans, 0);
}

static void
test_plans(void **state)
{
	g_autoptr(OsqdFilePath) file = only_plan("/etc/passwd");
	g_autoptr(OsqdFilePath) dir = only_plan("/etc/");
	g_autoptr(OsqdFilePath) star = only_plan("/etc/%");
	g_autoptr(OsqdFilePath) suffix = only_plan("/etc/%.conf");
	g_autoptr(OsqdFilePath) tree = only_plan("/etc/%%");
	g_autoptr(OsqdFilePath) everything = only_plan("/%%");

	assert_string_equal(file->watch, "/etc/passwd");
	assert_true(file->file);
	assert_true(osqd_file_path_matches(file, "/etc/passwd"));
	assert_false(osqd_file_path_matches(file, "/etc/passwd-"));

	assert_string_equal(dir->watch, "/etc");
	assert_false(dir->recursive);
	assert_true(osqd_file_path_matches(dir, "/etc/hosts"));
	assert_false(osqd_file_path_matches(dir, "/etc/ssh/sshd_config"));
	assert_false(osqd_file_path_matches(dir, "/etcetera/x"));
	assert_true(osqd_file_path_matches(star, "/etc/hosts"));

	assert_string_equal(suffix->leaf, "*.conf");
	assert_true(osqd_file_path_matches(suffix, "/etc/resolv.conf"));
	assert_false(osqd_file_path_matches(suffix, "/etc/hosts"));

	assert_true(tree->recursive);
	assert_true(osqd_file_path_matches(tree, "/etc/ssh/sshd_config"));
	assert_true(osqd_file_path_matches(tree, "/etc/hosts"));
	assert_false(osqd_file_path_matches(tree, "/var/log/syslog"));
	assert_string_equal(everything->watch, "/");
	assert_true(osqd_file_path_matches(everything, "/var/log/syslog"));
}

static void
test_middle_wildcards(void **state)
{
	g_autofree gchar *root = g_dir_make_tmp("osqd-paths-XXXXXX", NULL);
	const gchar *dirs[] = { "home/alice/.ssh", "home/bob/.ssh", "home/carol", NULL };
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) plans = NULL;
	g_autofree gchar *file = g_build_filename(root, "home", "notadir", NULL);

	for (guint i = 0; dirs[i] != NULL; i++) {
		g_autofree gchar *path = g_build_filename(root, dirs[i], NULL);
		assert_int_equal(g_mkdir_with_parents(path, 0755), 0);
	}
	assert_true(g_file_set_contents(file, "", 0, NULL));
	/* one plan per home directory that exists; files are not directories to expand */
	plans = osqd_file_path_plan("/home/%/.ssh/", root, &error);
	assert_non_null(plans);
	assert_int_equal(plans->len, 3);
	for (guint i = 0; i < plans->len; i++) {
		const OsqdFilePath *plan = plans->pdata[i];
		assert_true(g_str_has_prefix(plan->watch, "/home/"));
		assert_true(g_str_has_suffix(plan->watch, "/.ssh"));
	}
	(void)g_unlink(file);
	for (gint i = 2; i >= 0; i--) {
		g_autofree gchar *path = g_build_filename(root, dirs[i], NULL);
		while (g_str_has_prefix(path, root) && g_strcmp0(path, root) != 0) {
			gchar *up;
			(void)g_rmdir(path);
			up = g_path_get_dirname(path);
			g_free(path);
			path = up;
		}
	}
	(void)g_rmdir(root);
}

static void
test_refused(void **state)
{
	const gchar *bad[] = { "etc/passwd", "~/x", "/a/%%/b", "/a/%%%", NULL };

	for (guint i = 0; bad[i] != NULL; i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(GPtrArray) plans = osqd_file_path_plan(bad[i], "", &error);
		if (plans != NULL)
			fail_msg("%s was accepted", bad[i]);
		assert_true(g_error_matches(error, OSQ_ERROR, OSQ_ERROR_INVALID_ARGUMENT));
	}
}

static void
test_excluded(void **state)
{
	g_autoptr(GPtrArray) excludes = g_ptr_array_new();

	g_ptr_array_add(excludes, "/etc/ssh/");
	g_ptr_array_add(excludes, "/tmp/%.swp");
	g_ptr_array_add(excludes, "/var/cache/%%");
	assert_true(osqd_file_path_excluded(excludes, "/etc/ssh/sshd_config"));
	assert_true(osqd_file_path_excluded(excludes, "/tmp/a.swp"));
	assert_true(osqd_file_path_excluded(excludes, "/var/cache/apt/x/y"));
	assert_false(osqd_file_path_excluded(excludes, "/etc/hosts"));
	assert_false(osqd_file_path_excluded(excludes, "/tmp/a.txt"));
	assert_false(osqd_file_path_excluded(NULL, "/etc/hosts"));
}

static void
test_actions(void **state)
{
	assert_string_equal(osqd_file_action(IN_CREATE), "CREATED");
	assert_string_equal(osqd_file_action(IN_DELETE), "DELETED");
	assert_string_equal(osqd_file_action(IN_MODIFY), "UPDATED");
	assert_string_equal(osqd_file_action(IN_CLOSE_WRITE), "UPDATED");
	assert_string_equal(osqd_file_action(IN_ATTRIB), "ATTRIBUTES_MODIFIED");
	assert_string_equal(osqd_file_action(IN_MOVED_FROM), "MOVED_FROM");
	assert_string_equal(osqd_file_action(IN_MOVED_TO), "MOVED_TO");
	assert_string_equal(osqd_file_action(IN_OPEN), "OPENED");
	assert_string_equal(osqd_file_action(IN_ACCESS), "ACCESSED");
	/* the first bit in ascending order wins */
	assert_string_equal(osqd_file_action(IN_CREATE | IN_ISDIR), "CREATED");
	assert_string_equal(osqd_file_action(IN_MODIFY | IN_CLOSE_WRITE), "UPDATED");
	assert_null(osqd_file_action(IN_IGNORED));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plans),   cmocka_unit_test(test_middle_wildcards),
		cmocka_unit_test(test_refused), cmocka_unit_test(test_excluded),
		cmocka_unit_test(test_actions),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
