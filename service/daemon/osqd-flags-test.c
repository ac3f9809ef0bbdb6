/* SPDX-License-Identifier: Apache-2.0
 *
 * Flag table tests: defaults for root and for a user, gflags argument syntax (=value, separate
 * value, -name, --noname), type checks, flagfiles with comments, unknown flags (an error on the
 * command line, a warning in a file) and nested flagfiles.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <glib/gstdio.h>
#include <string.h>

#include "osq-error.h"
#include "osqd-flags.h"

static void
test_defaults(void **state)
{
	g_autoptr(OsqdFlags) root = osqd_flags_new_full(TRUE, "/run/user/1000");
	g_autoptr(OsqdFlags) user = osqd_flags_new_full(FALSE, "/run/user/1000");
	const OsqdFlag *flag;

	assert_string_equal(osqd_flags_get_string(root, "extensions_socket"),
	                    "/var/osquery/osquery.em");
	assert_string_equal(osqd_flags_get_string(root, "pidfile"), "/var/osquery/osqd.pid");
	assert_string_equal(osqd_flags_get_string(user, "extensions_socket"),
	                    "/run/user/1000/osq/osquery.em");
	assert_string_equal(osqd_flags_get_string(user, "pidfile"), "/run/user/1000/osq/osqd.pid");
	assert_false(osqd_flags_get_bool(root, "verbose"));
	assert_int_equal(osqd_flags_get_uint(root, "rpc_max_message"), 1048576);
	assert_int_equal(osqd_flags_get_uint(root, "query_timeout"), 60000);
	flag = osqd_flags_lookup(root, "extensions_timeout");
	assert_non_null(flag);
	assert_string_equal(osqd_flag_type_to_string(flag->type), "string");
	flag = osqd_flags_lookup(root, "verbose");
	assert_string_equal(osqd_flag_type_to_string(flag->type), "bool");
	assert_string_equal(flag->default_value, "false");
	/* sorted by name */
	for (guint i = 1; i < osqd_flags_get_count(root); i++)
		assert_true(strcmp(osqd_flags_get_nth(root, i - 1)->name,
		                   osqd_flags_get_nth(root, i)->name) < 0);
}

static gboolean
parse(OsqdFlags *flags, const gchar *const *args, GError **error)
{
	g_autoptr(GPtrArray) argv = g_ptr_array_new();
	gboolean help, version;

	g_ptr_array_add(argv, (gpointer) "osqd");
	for (guint i = 0; args[i] != NULL; i++)
		g_ptr_array_add(argv, (gpointer)args[i]);
	return osqd_flags_parse_args(flags, (gint)argv->len, (gchar **)argv->pdata, &help, &version,
	                             error);
}

static void
test_args(void **state)
{
	g_autoptr(OsqdFlags) flags = osqd_flags_new_full(TRUE, NULL);
	const gchar *args[] = { "--extensions_socket=/tmp/a.em",
		                "-pidfile",
		                "/tmp/p",
		                "--verbose",
		                "--query_timeout",
		                "5",
		                "--rpc_max_connections=7",
		                NULL };
	const gchar *negated[] = { "--noverbose", NULL };
	const gchar *explicit_bool[] = { "--verbose=yes", NULL };
	g_autoptr(GError) error = NULL;

	assert_true(parse(flags, args, &error));
	assert_string_equal(osqd_flags_get_string(flags, "extensions_socket"), "/tmp/a.em");
	assert_string_equal(osqd_flags_get_string(flags, "pidfile"), "/tmp/p");
	assert_true(osqd_flags_get_bool(flags, "verbose"));
	assert_int_equal(osqd_flags_get_uint(flags, "query_timeout"), 5);
	assert_int_equal(osqd_flags_get_uint(flags, "rpc_max_connections"), 7);
	assert_true(osqd_flags_lookup(flags, "pidfile")->is_set);
	assert_false(osqd_flags_lookup(flags, "database_path")->is_set);
	assert_true(parse(flags, negated, &error));
	assert_false(osqd_flags_get_bool(flags, "verbose"));
	assert_true(parse(flags, explicit_bool, &error));
	assert_string_equal(osqd_flags_get_string(flags, "verbose"), "true");
}

static void
test_args_errors(void **state)
{
	const gchar *cases[][3] = {
		{ "--no_such_flag=1", NULL },
		{ "--query_timeout=soon", NULL },
		{ "--query_timeout=-1", NULL },
		{ "--rpc_max_message=99999999999", NULL },
		{ "--verbose=maybe", NULL },
		{ "--pidfile", NULL },
		{ "stray", NULL },
		{ "--verbose", "false", NULL },
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(OsqdFlags) flags = osqd_flags_new_full(TRUE, NULL);
		g_autoptr(GError) error = NULL;
		assert_false(parse(flags, cases[i], &error));
		assert_non_null(error);
	}
}

static void
test_help_and_version(void **state)
{
	g_autoptr(OsqdFlags) flags = osqd_flags_new_full(TRUE, NULL);
	g_autofree gchar *help_text = osqd_flags_help(flags);
	gchar *argv[] = { (gchar *)"osqd", (gchar *)"--help", (gchar *)"--version" };
	gboolean help = FALSE, version = FALSE;

	assert_true(osqd_flags_parse_args(flags, 3, argv, &help, &version, NULL));
	assert_true(help);
	assert_true(version);
	for (guint i = 0; i < osqd_flags_get_count(flags); i++)
		assert_non_null(strstr(help_text, osqd_flags_get_nth(flags, i)->name));
}

static void
test_flagfile(void **state)
{
	g_autoptr(OsqdFlags) flags = osqd_flags_new_full(TRUE, NULL);
	g_autoptr(GError) error = NULL;
	g_autofree gchar *dir = g_dir_make_tmp("osqd-flags-XXXXXX", NULL);
	g_autofree gchar *inner = g_build_filename(dir, "inner.flags", NULL);
	g_autofree gchar *outer = g_build_filename(dir, "outer.flags", NULL);
	g_autofree gchar *outer_text = NULL;
	const gchar *args[] = { NULL, "--query_max_rows=5", NULL };
	g_autofree gchar *flagfile_arg = NULL;

	assert_true(g_file_set_contents(inner, "--query_max_rows=77\n", -1, NULL));
	outer_text = g_strdup_printf("# osqd flags\n\n  --extensions_socket=/tmp/x.em  \n"
	                             "--verbose\n--config_plugin=filesystem\n"
	                             "--query_timeout 1234\n--flagfile=%s\n",
	                             inner);
	assert_true(g_file_set_contents(outer, outer_text, -1, NULL));
	flagfile_arg = g_strdup_printf("--flagfile=%s", outer);
	args[0] = flagfile_arg;
	/* the file is read where it appears: a later flag wins */
	assert_true(parse(flags, args, &error));
	assert_string_equal(osqd_flags_get_string(flags, "extensions_socket"), "/tmp/x.em");
	assert_true(osqd_flags_get_bool(flags, "verbose"));
	assert_int_equal(osqd_flags_get_uint(flags, "query_timeout"), 1234);
	assert_int_equal(osqd_flags_get_uint(flags, "query_max_rows"), 5);
	assert_string_equal(osqd_flags_get_string(flags, "flagfile"), outer);
	(void)g_unlink(inner);
	(void)g_unlink(outer);
	(void)g_rmdir(dir);
}

static void
test_flagfile_errors(void **state)
{
	g_autoptr(OsqdFlags) flags = osqd_flags_new_full(TRUE, NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(GError) error_line = NULL;
	g_autoptr(GError) error_missing = NULL;
	g_autoptr(GError) error_self = NULL;
	g_autofree gchar *dir = g_dir_make_tmp("osqd-flags-XXXXXX", NULL);
	g_autofree gchar *self = g_build_filename(dir, "self.flags", NULL);
	g_autofree gchar *self_text = g_strdup_printf("--flagfile=%s\n", self);

	assert_false(osqd_flags_parse_text(flags, "--query_timeout=x\n", "f.flags", &error));
	assert_non_null(strstr(error->message, "f.flags:1"));
	assert_false(osqd_flags_parse_text(flags, "# ok\nverbose\n", "f.flags", &error_line));
	assert_non_null(strstr(error_line->message, "f.flags:2"));
	assert_false(osqd_flags_parse_file(flags, "/nonexistent/osqd.flags", &error_missing));
	assert_true(
	        osqd_flags_parse_text(flags, "--unknown_thing=1\n--verbose=1\n", "f.flags", NULL));
	assert_true(osqd_flags_get_bool(flags, "verbose"));
	/* a flagfile that includes itself stops at the nesting limit */
	assert_true(g_file_set_contents(self, self_text, -1, NULL));
	assert_false(osqd_flags_parse_file(flags, self, &error_self));
	assert_non_null(strstr(error_self->message, "nested"));
	(void)g_unlink(self);
	(void)g_rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),    cmocka_unit_test(test_args),
		cmocka_unit_test(test_args_errors), cmocka_unit_test(test_help_and_version),
		cmocka_unit_test(test_flagfile),    cmocka_unit_test(test_flagfile_errors),
	};

	g_log_set_always_fatal(G_LOG_LEVEL_CRITICAL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
