/* SPDX-License-Identifier: Apache-2.0
 *
 * Module loader tests: the search order, loading the real osqi-json.so (from OSQI_MODULE_DIR,
 * which the build's test environment points at the modules), and every way a load fails (not
 * found, not a shared object, no table, another ABI) giving an error rather than a crash. Also
 * the JSON printer without its module: a clear error, nothing printed, and success once the
 * module can be found.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <glib/gstdio.h>

#include "osq-error.h"
#include "osqi-json.h"
#include "osqi-output.h"

static gchar *test_module_dir; /* the build's modules */

/* An empty temporary directory, removed (with its files) by test_tmp_dir_free(). */
static gchar *
test_tmp_dir_new(void)
{
	g_autoptr(GError) error = NULL;
	gchar *dir = g_dir_make_tmp("osqi-module-test-XXXXXX", &error);

	if (dir == NULL)
		fail_msg("%s", error->message);
	return dir;
}

static void
test_tmp_dir_free(gchar *dir)
{
	GDir *handle = g_dir_open(dir, 0, NULL);
	const gchar *name;

	while (handle != NULL && (name = g_dir_read_name(handle)) != NULL) {
		g_autofree gchar *path = g_build_filename(dir, name, NULL);
		(void)g_remove(path);
	}
	if (handle != NULL)
		g_dir_close(handle);
	(void)g_rmdir(dir);
	g_free(dir);
}

/* Loads osqi-@name.so for "test"; asserts that it fails with a message naming the file. */
static gchar *
test_load_error(const gchar *name, guint32 abi_version, gsize size)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *prefix =
	        g_strdup_printf("cannot load osqi-%s.so (needed for test): ", name);

	assert_null(osqi_module_load(name, "test", abi_version, size, &error));
	assert_non_null(error);
	assert_true(g_error_matches(error, OSQ_ERROR, OSQ_ERROR_NOT_SUPPORTED));
	assert_true(g_str_has_prefix(error->message, prefix));
	return g_strdup(error->message + strlen(prefix));
}

static void
test_search_path(void **state)
{
	g_autofree gchar *exe = g_file_read_link("/proc/self/exe", NULL);
	g_autofree gchar *exe_dir = g_path_get_dirname(exe);
	g_autoptr(GPtrArray) dirs = NULL;
	g_autoptr(GPtrArray) dirs_unset = NULL;

	(void)state;
	assert_true(g_setenv("OSQI_MODULE_DIR", "/nonexistent/first", TRUE));
	dirs = osqi_module_search_path();
	assert_int_equal(dirs->len, 3);
	assert_string_equal(dirs->pdata[0], "/nonexistent/first");
	assert_string_equal(dirs->pdata[1], exe_dir);
	assert_string_equal(dirs->pdata[2], OSQI_MODULE_INSTALL_DIR);

	/* unset or empty: not searched */
	assert_true(g_setenv("OSQI_MODULE_DIR", "", TRUE));
	dirs_unset = osqi_module_search_path();
	assert_int_equal(dirs_unset->len, 2);
	assert_string_equal(dirs_unset->pdata[0], exe_dir);
	assert_true(g_setenv("OSQI_MODULE_DIR", test_module_dir, TRUE));
}

static void
test_load_json(void **state)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GString) out = g_string_new(NULL);
	const gchar *const names[] = { "a", "b", "c" };
	const OsqiJsonModule *json;
	OsqiJsonRow *row;

	(void)state;
	json = osqi_module_load("json", "test", OSQI_JSON_MODULE_ABI, sizeof(OsqiJsonModule),
	                        &error);
	if (json == NULL)
		fail_msg("%s", error->message);
	assert_int_equal(json->header.abi_version, OSQI_JSON_MODULE_ABI);
	/* loading again gives the same table */
	assert_ptr_equal(osqi_module_load("json", "test", OSQI_JSON_MODULE_ABI,
	                                  sizeof(OsqiJsonModule), NULL),
	                 json);

	row = json->row_new(names, G_N_ELEMENTS(names), FALSE);
	json->row_set_int(row, 0, 7);
	json->row_set_text(row, 1, "x\xff", 2);
	json->row_append(row, out);
	assert_string_equal(out->str, "{\"a\":7,\"b\":\"x\xef\xbf\xbd\",\"c\":null}");
	g_string_truncate(out, 0);
	json->row_set_null(row, 0);
	json->row_set_double(row, 1, 0.25);
	json->row_set_int(row, 2, 1);
	json->row_append(row, out);
	assert_string_equal(out->str, "{\"a\":null,\"b\":0.25,\"c\":1}");
	json->row_free(row);
}

static void
test_load_errors(void **state)
{
	gchar *dir = test_tmp_dir_new();
	g_autofree gchar *broken = g_build_filename(dir, "osqi-broken.so", NULL);
	g_autofree gchar *editline = g_build_filename(test_module_dir, "osqi-editline.so", NULL);
	g_autofree gchar *wrong = g_build_filename(dir, "osqi-wrong.so", NULL);
	g_autofree gchar *contents = NULL;
	gsize len = 0;
	g_autofree gchar *abi = NULL;
	g_autofree gchar *size = NULL;
	g_autofree gchar *missing = NULL;
	g_autofree gchar *garbage = NULL;
	g_autofree gchar *no_symbol = NULL;

	(void)state;
	abi = test_load_error("json", OSQI_JSON_MODULE_ABI + 1, sizeof(OsqiJsonModule));
	assert_non_null(strstr(abi, "ABI version"));
	size = test_load_error("json", OSQI_JSON_MODULE_ABI, sizeof(OsqiJsonModule) + 8);
	assert_non_null(strstr(size, "ABI version"));

	assert_true(g_setenv("OSQI_MODULE_DIR", dir, TRUE));
	missing = test_load_error("missing", 1, sizeof(OsqiModuleHeader));
	assert_true(g_str_has_prefix(missing, "not found in "));
	assert_non_null(strstr(missing, dir));
	assert_non_null(strstr(missing, OSQI_MODULE_INSTALL_DIR));

	assert_true(g_file_set_contents(broken, "not a shared object", -1, NULL));
	garbage = test_load_error("broken", 1, sizeof(OsqiModuleHeader));
	assert_non_null(strstr(garbage, broken)); /* dlerror() names the file */

	/* a real shared object without the table osqi looks for */
	assert_true(g_file_get_contents(editline, &contents, &len, NULL));
	assert_true(g_file_set_contents(wrong, contents, (gssize)len, NULL));
	no_symbol = test_load_error("wrong", 1, sizeof(OsqiModuleHeader));
	assert_non_null(strstr(no_symbol, "no symbol osqi_wrong_module"));

	assert_true(g_setenv("OSQI_MODULE_DIR", test_module_dir, TRUE));
	test_tmp_dir_free(dir);
}

static void
test_json_output_without_module(void **state)
{
	g_autofree gchar *installed =
	        g_build_filename(OSQI_MODULE_INSTALL_DIR, "osqi-json.so", NULL);
	g_autofree gchar *exe = g_file_read_link("/proc/self/exe", NULL);
	g_autofree gchar *exe_dir = g_path_get_dirname(exe);
	g_autofree gchar *beside = g_build_filename(exe_dir, "osqi-json.so", NULL);
	OsqiOutputSettings settings;
	g_autoptr(OsqiResult) result = osqi_result_new(1);
	g_autoptr(GString) out = g_string_new(NULL);
	g_autoptr(GError) error = NULL;
	gchar *dir;

	(void)state;
	if (g_file_test(installed, G_FILE_TEST_EXISTS) || g_file_test(beside, G_FILE_TEST_EXISTS))
		skip(); /* the module would be found anyway */
	dir = test_tmp_dir_new();
	osqi_output_settings_init(&settings);
	settings.json = OSQI_JSON_PRETTY;
	osqi_result_set_column_name(result, 0, "n");
	osqi_result_add_int(result, 1);
	assert_true(g_setenv("OSQI_MODULE_DIR", dir, TRUE));
	assert_false(osqi_output_print(&settings, result, TRUE, out, &error));
	assert_true(g_error_matches(error, OSQ_ERROR, OSQ_ERROR_NOT_SUPPORTED));
	assert_true(g_str_has_prefix(error->message,
	                             "cannot load osqi-json.so (needed for --json_pretty): "));
	assert_int_equal(out->len, 0);
	assert_int_equal(osqi_result_get_n_rows(result), 1); /* nothing was dropped */

	/* a failed load is not remembered */
	assert_true(g_setenv("OSQI_MODULE_DIR", test_module_dir, TRUE));
	assert_true(osqi_output_print(&settings, result, TRUE, out, NULL));
	assert_string_equal(out->str, "[\n    {\n        \"n\" : 1\n    }\n]\n");
	osqi_output_settings_clear(&settings);
	test_tmp_dir_free(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_output_without_module),
		cmocka_unit_test(test_search_path),
		cmocka_unit_test(test_load_json),
		cmocka_unit_test(test_load_errors),
	};
	const gchar *dir = g_getenv("OSQI_MODULE_DIR");
	gint status;

	if (dir == NULL || dir[0] == '\0') {
		(void)fprintf(stderr, "OSQI_MODULE_DIR must name the directory of the modules\n");
		return 1;
	}
	test_module_dir = g_strdup(dir);
	status = cmocka_run_group_tests(tests, NULL, NULL);
	g_free(test_module_dir);
	return status;
}
