/* SPDX-License-Identifier: Apache-2.0
 *
 * Logger tests in a temporary directory: file modes on create (whatever the umask), appending
 * across logger instances, glog's per-severity status files, reopen after logrotate moved a
 * file away, size rotation keeping N files with no line lost or split, and failures (missing
 * directory, a full device) reported as errors with the logger still usable afterwards. Also
 * the stdout logger through a pipe and the list of loggers by name.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "osq-error.h"
#include "osqd-logger.h"

typedef struct {
	gchar *dir;
	OsqdLoggerOptions options;
	GTimeZone *utc;
} Fixture;

static int
setup(void **state)
{
	Fixture *f = g_new0(Fixture, 1);

	f->dir = g_dir_make_tmp("osqd-logger-XXXXXX", NULL);
	assert_non_null(f->dir);
	f->utc = g_time_zone_new_utc();
	osqd_logger_options_init(&f->options);
	f->options.path = f->dir;
	f->options.time_zone = f->utc;
	*state = f;
	return 0;
}

static void
remove_tree(const gchar *path)
{
	g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
	const gchar *name = NULL;

	while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
		g_autofree gchar *child = g_build_filename(path, name, NULL);
		if (g_file_test(child, G_FILE_TEST_IS_DIR) &&
		    !g_file_test(child, G_FILE_TEST_IS_SYMLINK))
			remove_tree(child);
		else
			(void)g_unlink(child);
	}
	(void)g_rmdir(path);
}

static int
teardown(void **state)
{
	Fixture *f = *state;

	(void)g_chmod(f->dir, 0700);
	remove_tree(f->dir);
	g_free(f->dir);
	g_time_zone_unref(f->utc);
	g_free(f);
	return 0;
}

static gchar *
read_file(const gchar *dir, const gchar *name)
{
	g_autofree gchar *path = g_build_filename(dir, name, NULL);
	gchar *contents = NULL;

	if (!g_file_get_contents(path, &contents, NULL, NULL))
		return NULL;
	return contents;
}

static guint
file_mode(const gchar *dir, const gchar *name)
{
	g_autofree gchar *path = g_build_filename(dir, name, NULL);
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_mode & 07777;
}

static void
log_result_ok(OsqdLogger *logger, const gchar *line)
{
	g_autoptr(GError) error = NULL;

	assert_true(osqd_logger_log_result(logger, line, &error));
	assert_null(error);
}

static void
test_mode_applied_on_create(void **state)
{
	Fixture *f = *state;
	g_autoptr(GError) error = NULL;
	g_autoptr(OsqdLogger) logger = NULL;
	mode_t old_umask = umask(077);

	f->options.mode = "0644";
	logger = osqd_logger_filesystem_new(&f->options, &error);
	assert_non_null(logger);
	log_result_ok(logger, "{\"a\":1}");
	assert_true(osqd_logger_log_snapshot(logger, "{\"s\":1}", &error));
	(void)umask(old_umask);
	assert_int_equal(file_mode(f->dir, "osqd.results.log"), 0644);
	assert_int_equal(file_mode(f->dir, "osqd.snapshots.log"), 0644);
	assert_string_equal(osqd_logger_get_name(logger), "filesystem");
}

static void
test_default_mode_and_existing_file_kept(void **state)
{
	Fixture *f = *state;
	g_autoptr(GError) error = NULL;
	g_autoptr(OsqdLogger) logger = osqd_logger_filesystem_new(&f->options, &error);
	g_autofree gchar *path = g_build_filename(f->dir, "osqd.snapshots.log", NULL);

	assert_non_null(logger);
	log_result_ok(logger, "x");
	assert_int_equal(file_mode(f->dir, "osqd.results.log"), 0640);
	/* a file that already exists keeps its mode (logrotate's "create" decides it) */
	assert_true(g_file_set_contents(path, "old\n", -1, NULL));
	assert_int_equal(g_chmod(path, 0600), 0);
	assert_true(osqd_logger_log_snapshot(logger, "new", &error));
	assert_int_equal(file_mode(f->dir, "osqd.snapshots.log"), 0600);
}

static void
test_invalid_mode(void **state)
{
	Fixture *f = *state;
	const gchar *bad[] = { "0999", "", "rw-r--r--", "077777", "-1" };

	for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autoptr(GError) error = NULL;
		f->options.mode = bad[i];
		assert_null(osqd_logger_filesystem_new(&f->options, &error));
		assert_true(g_error_matches(error, OSQ_ERROR, OSQ_ERROR_INVALID_ARGUMENT));
	}
}

static void
test_lines_appended(void **state)
{
	Fixture *f = *state;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *results = NULL;
	g_autofree gchar *snapshots = NULL;

	for (guint round = 0; round < 2; round++) {
		g_autoptr(OsqdLogger) logger = osqd_logger_filesystem_new(&f->options, &error);
		g_autofree gchar *a = g_strdup_printf("{\"round\":%u,\"n\":1}", round);
		g_autofree gchar *b = g_strdup_printf("{\"round\":%u,\"n\":2}", round);
		log_result_ok(logger, a);
		log_result_ok(logger, b);
		assert_true(osqd_logger_log_snapshot(logger, a, &error));
		assert_true(osqd_logger_flush(logger, &error));
	}
	results = read_file(f->dir, "osqd.results.log");
	snapshots = read_file(f->dir, "osqd.snapshots.log");
	assert_string_equal(results, "{\"round\":0,\"n\":1}\n{\"round\":0,\"n\":2}\n"
	                             "{\"round\":1,\"n\":1}\n{\"round\":1,\"n\":2}\n");
	assert_string_equal(snapshots, "{\"round\":0,\"n\":1}\n{\"round\":1,\"n\":1}\n");
}

static void
test_status_files_by_severity(void **state)
{
	Fixture *f = *state;
	g_autoptr(GError) error = NULL;
	g_autoptr(OsqdLogger) logger = osqd_logger_filesystem_new(&f->options, &error);
	g_autoptr(OsqdStatusRecord) info = osqd_status_record_new(OSQD_LOG_SEVERITY_INFO, "a.c", 1,
	                                                          "started", 1462227452000001, "h");
	g_autoptr(OsqdStatusRecord) warning = osqd_status_record_new(
	        OSQD_LOG_SEVERITY_WARNING, "b.c", 2, "slow", 1462227453000002, "h");
	g_autoptr(OsqdStatusRecord) err = osqd_status_record_new(OSQD_LOG_SEVERITY_ERROR, "c.c", 3,
	                                                         "failed", 1462227454000003, "h");
	g_autofree gchar *pid = g_strdup_printf("%5d", (int)getpid());
	g_autofree gchar *expected_info = NULL, *expected_warning = NULL, *expected_error = NULL;
	g_autofree gchar *got_info = NULL, *got_warning = NULL, *got_error = NULL;

	assert_true(osqd_logger_log_status(logger, info, &error));
	assert_true(osqd_logger_log_status(logger, warning, &error));
	assert_true(osqd_logger_log_status(logger, err, &error));
	expected_error = g_strdup_printf("E0502 22:17:34.000003 %s c.c:3] failed\n", pid);
	expected_warning =
	        g_strdup_printf("W0502 22:17:33.000002 %s b.c:2] slow\n%s", pid, expected_error);
	expected_info = g_strdup_printf("I0502 22:17:32.000001 %s a.c:1] started\n%s", pid,
	                                expected_warning);
	got_info = read_file(f->dir, "osqd.INFO");
	got_warning = read_file(f->dir, "osqd.WARNING");
	got_error = read_file(f->dir, "osqd.ERROR");
	assert_string_equal(got_info, expected_info);
	assert_string_equal(got_warning, expected_warning);
	assert_string_equal(got_error, expected_error);
}

static void
test_reopen_after_move(void **state)
{
	Fixture *f = *state;
	g_autoptr(GError) error = NULL;
	g_autoptr(OsqdLogger) logger = osqd_logger_filesystem_new(&f->options, &error);
	g_autofree gchar *path = g_build_filename(f->dir, "osqd.results.log", NULL);
	g_autofree gchar *moved = g_build_filename(f->dir, "osqd.results.log.moved", NULL);
	g_autofree gchar *old_contents = NULL, *new_contents = NULL;

	log_result_ok(logger, "one");
	assert_int_equal(g_rename(path, moved), 0);
	log_result_ok(logger, "two"); /* still the moved file: the descriptor is held */
	assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
	assert_true(osqd_logger_reopen(logger, &error));
	assert_true(g_file_test(path, G_FILE_TEST_EXISTS));
	assert_int_equal(file_mode(f->dir, "osqd.results.log"), 0640);
	log_result_ok(logger, "three");
	old_contents = read_file(f->dir, "osqd.results.log.moved");
	new_contents = read_file(f->dir, "osqd.results.log");
	assert_string_equal(old_contents, "one\ntwo\n");
	assert_string_equal(new_contents, "three\n");
}

static void
test_rotation_keeps_n_files(void **state)
{
	Fixture *f = *state;
	g_autoptr(GError) error = NULL;
	g_autoptr(OsqdLogger) logger = NULL;
	g_autoptr(GString) all = g_string_new(NULL);
	g_autoptr(GString) kept = g_string_new(NULL);
	g_autofree gchar *too_many = NULL;

	f->options.rotate = TRUE;
	f->options.rotate_size = 100;
	f->options.rotate_max_files = 3;
	logger = osqd_logger_filesystem_new(&f->options, &error);
	for (guint i = 0; i < 40; i++) {
		g_autofree gchar *line =
		        g_strdup_printf("{\"line\":%02u,\"pad\":\"xxxxxxxxxx\"}", i);
		log_result_ok(logger, line);
		g_string_append_printf(all, "%s\n", line);
	}
	/* .3 (oldest) .2 .1 and the live file: each under the limit, whole lines, in order */
	for (gint i = 3; i >= 0; i--) {
		g_autofree gchar *name = i > 0 ? g_strdup_printf("osqd.results.log.%d", i)
		                               : g_strdup("osqd.results.log");
		g_autofree gchar *contents = read_file(f->dir, name);
		assert_non_null(contents);
		assert_true(strlen(contents) <= 100);
		assert_true(strlen(contents) > 0);
		assert_true(g_str_has_suffix(contents, "}\n"));
		g_string_append(kept, contents);
	}
	too_many = read_file(f->dir, "osqd.results.log.4");
	assert_null(too_many);
	assert_true(g_str_has_suffix(all->str, kept->str));
	assert_true(kept->len >= 3 * (100 - 34));
}

static void
test_rotation_of_existing_big_file(void **state)
{
	Fixture *f = *state;
	g_autoptr(GError) error = NULL;
	g_autoptr(OsqdLogger) logger = NULL;
	g_autofree gchar *path = g_build_filename(f->dir, "osqd.results.log", NULL);
	g_autofree gchar *rotated = NULL, *live = NULL;

	assert_true(g_file_set_contents(path, "0123456789\n", -1, NULL));
	f->options.rotate = TRUE;
	f->options.rotate_size = 12;
	logger = osqd_logger_filesystem_new(&f->options, &error);
	log_result_ok(logger, "abc");
	rotated = read_file(f->dir, "osqd.results.log.1");
	live = read_file(f->dir, "osqd.results.log");
	assert_string_equal(rotated, "0123456789\n");
	assert_string_equal(live, "abc\n");
}

static void
test_missing_directory_is_an_error(void **state)
{
	Fixture *f = *state;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *gone = g_build_filename(f->dir, "gone", NULL);
	g_autoptr(OsqdLogger) logger = NULL;
	g_autofree gchar *contents = NULL;

	f->options.path = gone;
	logger = osqd_logger_filesystem_new(&f->options, &error);
	assert_non_null(logger);
	assert_false(osqd_logger_log_result(logger, "lost?", &error));
	assert_true(g_error_matches(error, OSQ_ERROR, OSQ_ERROR_IO));
	g_clear_error(&error);
	/* the caller retries once the directory is back: nothing was lost */
	assert_int_equal(g_mkdir(gone, 0700), 0);
	log_result_ok(logger, "retried");
	contents = read_file(gone, "osqd.results.log");
	assert_string_equal(contents, "retried\n");
}

static void
test_directory_removed_then_reopen(void **state)
{
	Fixture *f = *state;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *sub = g_build_filename(f->dir, "sub", NULL);
	g_autoptr(OsqdLogger) logger = NULL;

	assert_int_equal(g_mkdir(sub, 0700), 0);
	f->options.path = sub;
	logger = osqd_logger_filesystem_new(&f->options, &error);
	log_result_ok(logger, "one");
	remove_tree(sub);
	assert_false(osqd_logger_reopen(logger, &error));
	assert_true(g_error_matches(error, OSQ_ERROR, OSQ_ERROR_IO));
	g_clear_error(&error);
	assert_false(osqd_logger_log_result(logger, "two", &error));
	assert_true(g_error_matches(error, OSQ_ERROR, OSQ_ERROR_IO));
}

static void
test_full_device_is_an_error(void **state)
{
	Fixture *f = *state;
	g_autoptr(GError) error = NULL;
	g_autoptr(OsqdLogger) logger = NULL;
	g_autofree gchar *path = NULL;
	g_autofree gchar *contents = NULL;

	if (!g_file_test("/dev/full", G_FILE_TEST_EXISTS))
		skip(); /* does not return: nothing may be allocated before it */
	logger = osqd_logger_filesystem_new(&f->options, &error);
	path = g_build_filename(f->dir, "osqd.results.log", NULL);
	assert_int_equal(symlink("/dev/full", path), 0);
	assert_false(osqd_logger_log_result(logger, "no space", &error));
	assert_true(g_error_matches(error, OSQ_ERROR, OSQ_ERROR_IO));
	assert_non_null(strstr(error->message, "osqd.results.log"));
	g_clear_error(&error);
	/* the failed file is closed: once the device is fixed the next line goes through */
	assert_int_equal(g_unlink(path), 0);
	log_result_ok(logger, "space again");
	contents = read_file(f->dir, "osqd.results.log");
	assert_string_equal(contents, "space again\n");
}

static void
test_read_only_directory(void **state)
{
	Fixture *f = *state;
	g_autoptr(GError) error = NULL;
	g_autoptr(OsqdLogger) logger = NULL;

	if (geteuid() == 0)
		skip(); /* root writes into a read-only directory anyway (skip() does not return) */
	logger = osqd_logger_filesystem_new(&f->options, &error);
	assert_int_equal(g_chmod(f->dir, 0500), 0);
	assert_false(osqd_logger_log_result(logger, "denied", &error));
	assert_true(g_error_matches(error, OSQ_ERROR, OSQ_ERROR_IO));
}

static gchar *
drain(gint fd)
{
	GString *out = g_string_new(NULL);
	gchar buffer[4096];
	gssize n;

	while ((n = read(fd, buffer, sizeof(buffer))) > 0)
		g_string_append_len(out, buffer, n);
	return g_string_free(out, FALSE);
}

static void
test_stdout_logger(void **state)
{
	Fixture *f = *state;
	g_autoptr(GError) error = NULL;
	g_autoptr(OsqdStatusRecord) status = osqd_status_record_new(
	        OSQD_LOG_SEVERITY_WARNING, "x.c", 9, "careful", 1462227452000000, "h");
	g_autofree gchar *out = NULL, *err = NULL, *expected_err = NULL;
	int out_pipe[2], err_pipe[2];
	OsqdLogger *logger = NULL;

	assert_int_equal(pipe2(out_pipe, O_CLOEXEC), 0);
	assert_int_equal(pipe2(err_pipe, O_CLOEXEC), 0);
	f->options.stdout_fd = out_pipe[1];
	f->options.stderr_fd = err_pipe[1];
	logger = osqd_logger_stdout_new(&f->options);
	assert_string_equal(osqd_logger_get_name(logger), "stdout");
	assert_true(osqd_logger_log_result(logger, "{\"r\":1}", &error));
	assert_true(osqd_logger_log_snapshot(logger, "{\"s\":1}", &error));
	assert_true(osqd_logger_log_status(logger, status, &error));
	assert_true(osqd_logger_reopen(logger, &error));
	assert_true(osqd_logger_flush(logger, &error));
	osqd_logger_free(logger);
	(void)close(out_pipe[1]);
	(void)close(err_pipe[1]);
	out = drain(out_pipe[0]);
	err = drain(err_pipe[0]);
	(void)close(out_pipe[0]);
	(void)close(err_pipe[0]);
	assert_string_equal(out, "{\"r\":1}\n{\"s\":1}\n");
	expected_err = g_strdup_printf("W0502 22:17:32.000000 %5d x.c:9] careful\n", (int)getpid());
	assert_string_equal(err, expected_err);
}

static void
test_stdout_closed_pipe_is_an_error(void **state)
{
	Fixture *f = *state;
	g_autoptr(GError) error = NULL;
	g_autoptr(OsqdLogger) logger = NULL;
	int fds[2];

	assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
	(void)close(fds[1]);
	f->options.stdout_fd = fds[1]; /* closed: EBADF */
	logger = osqd_logger_stdout_new(&f->options);
	assert_false(osqd_logger_log_result(logger, "x", &error));
	assert_true(g_error_matches(error, OSQ_ERROR, OSQ_ERROR_IO));
	(void)close(fds[0]);
}

static void
test_syslog_logger(void **state)
{
	Fixture *f = *state;
	g_autoptr(GError) error = NULL;
	g_autoptr(OsqdLogger) logger = osqd_logger_syslog_new(&f->options);
	g_autoptr(OsqdStatusRecord) status = osqd_status_record_new(OSQD_LOG_SEVERITY_ERROR, "t.c",
	                                                            1, "osqd logger test", 0, "h");

	assert_string_equal(osqd_logger_get_name(logger), "syslog");
	assert_true(osqd_logger_log_result(logger, "{\"osqd\":\"logger test\"}", &error));
	assert_true(osqd_logger_log_status(logger, status, &error));
}

static void
test_log_lines_resumable(void **state)
{
	Fixture *f = *state;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *gone = g_build_filename(f->dir, "gone", NULL);
	g_autoptr(OsqdLogger) logger = osqd_logger_filesystem_new(&f->options, &error);
	g_autoptr(OsqdLogger) failing = NULL;
	g_autoptr(OsqdResultRecord) record = osqd_result_record_new("q", "h", 0);
	g_autoptr(GPtrArray) lines = NULL;
	g_autofree gchar *results = NULL, *snapshots = NULL;
	OsqdLogOptions options;
	guint n = 99;

	osqd_log_options_init(&options);
	for (gint64 i = 0; i < 3; i++) {
		OsqdLogRow *row = osqd_log_row_new();
		osqd_log_row_add_int(row, "i", "INTEGER", i);
		g_ptr_array_add(record->added, row);
	}
	lines = osqd_result_record_format(record, &options);
	assert_true(osqd_logger_log_lines(logger, FALSE, lines, &n, &error));
	assert_int_equal(n, 3);
	assert_true(osqd_logger_log_lines(logger, TRUE, lines, NULL, &error));
	results = read_file(f->dir, "osqd.results.log");
	snapshots = read_file(f->dir, "osqd.snapshots.log");
	assert_string_equal(results, snapshots);
	assert_int_equal(strlen(results), 3 * (strlen(lines->pdata[0]) + 1));
	f->options.path = gone;
	failing = osqd_logger_filesystem_new(&f->options, &error);
	assert_false(osqd_logger_log_lines(failing, FALSE, lines, &n, &error));
	assert_int_equal(n, 0);
}

static void
test_from_names(void **state)
{
	Fixture *f = *state;
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) loggers =
	        osqd_logger_new_from_names(" filesystem, stdout,,filesystem ", &f->options, &error);
	g_autoptr(GPtrArray) none = osqd_logger_new_from_names("", &f->options, &error);
	g_autoptr(GPtrArray) unknown = NULL;
	g_autoptr(GPtrArray) bad_mode = NULL;

	assert_non_null(loggers);
	assert_int_equal(loggers->len, 2);
	assert_string_equal(osqd_logger_get_name(loggers->pdata[0]), "filesystem");
	assert_string_equal(osqd_logger_get_name(loggers->pdata[1]), "stdout");
	assert_non_null(none);
	assert_int_equal(none->len, 0);
	unknown = osqd_logger_new_from_names("filesystem,kafka", &f->options, &error);
	assert_null(unknown);
	assert_true(g_error_matches(error, OSQ_ERROR, OSQ_ERROR_INVALID_ARGUMENT));
	assert_non_null(strstr(error->message, "kafka"));
	g_clear_error(&error);
	f->options.mode = "bad";
	bad_mode = osqd_logger_new_from_names("filesystem", &f->options, &error);
	assert_null(bad_mode);
	assert_true(g_error_matches(error, OSQ_ERROR, OSQ_ERROR_INVALID_ARGUMENT));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_mode_applied_on_create, setup, teardown),
		cmocka_unit_test_setup_teardown(test_default_mode_and_existing_file_kept, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(test_invalid_mode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lines_appended, setup, teardown),
		cmocka_unit_test_setup_teardown(test_status_files_by_severity, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reopen_after_move, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rotation_keeps_n_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rotation_of_existing_big_file, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(test_missing_directory_is_an_error, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(test_directory_removed_then_reopen, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(test_full_device_is_an_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_only_directory, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stdout_logger, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stdout_closed_pipe_is_an_error, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(test_syslog_logger, setup, teardown),
		cmocka_unit_test_setup_teardown(test_log_lines_resumable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_from_names, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
