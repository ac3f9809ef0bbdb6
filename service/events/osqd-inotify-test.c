/* SPDX-License-Identifier: Apache-2.0
 *
 * The inotify publisher against the real kernel in a temporary directory (inotify needs no
 * privilege), through the framework and SQL: categories and their patterns (%%, a leaf glob, a
 * single entry that appears later), exclusions, new directories followed, moves paired,
 * hashes, a reconfigure that drops and adds watches, and osquery_events' counts.
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
#include <sys/stat.h>
#include <unistd.h>

#include "events/events.h"
#include "osqd-engine-testing.h"
#include "osqd-events-testing.h"
#include "osqd-events.h"
#include "osqd-inotify.h"
#include "osqd-registry.h"
#include "osqd-store.h"

typedef struct {
	gchar *directory;
	gchar *tree; /* watched, where the files change */
	OsqdStore *store;
	OsqdEvents *events;
	OsqdEventPublisher *publisher;
	OsqdRegistry *registry;
	OsqdEngine *engine;
} Fixture;

static gchar *
fixture_path(Fixture *f, const gchar *relative)
{
	return g_build_filename(f->tree, relative, NULL);
}

static void
make_dir(Fixture *f, const gchar *relative)
{
	g_autofree gchar *path = fixture_path(f, relative);

	assert_int_equal(g_mkdir_with_parents(path, 0755), 0);
}

static void
make_file(Fixture *f, const gchar *relative, const gchar *contents)
{
	g_autofree gchar *path = fixture_path(f, relative);
	g_autoptr(GError) error = NULL;

	assert_true(g_file_set_contents(path, contents, -1, &error));
}

static GPtrArray *
strings(const gchar *first, ...)
{
	GPtrArray *array = g_ptr_array_new_with_free_func(g_free);
	va_list args;

	va_start(args, first);
	for (const gchar *s = first; s != NULL; s = va_arg(args, const gchar *))
		g_ptr_array_add(array, g_strdup(s));
	va_end(args);
	return array;
}

/* file_paths: tree -> <tree>/w/%%; logs -> <tree>/c/%.log; one -> <tree>/c/app.conf;
 * exclude_paths: tree -> <tree>/w/skip/%% */
static void
configure(Fixture *f, gboolean with_logs)
{
	g_autoptr(GHashTable) paths = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
	                                                    (GDestroyNotify)g_ptr_array_unref);
	g_autoptr(GHashTable) excludes = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
	                                                       (GDestroyNotify)g_ptr_array_unref);
	g_autofree gchar *tree = g_strdup_printf("%s/w/%%%%", f->tree);
	g_autofree gchar *logs = g_strdup_printf("%s/c/%%.log", f->tree);
	g_autofree gchar *one = g_strdup_printf("%s/c/app.conf", f->tree);
	g_autofree gchar *skip = g_strdup_printf("%s/w/skip/%%%%", f->tree);
	OsqdInotifyPaths config = { .file_paths = paths, .exclude_paths = excludes };

	g_hash_table_insert(paths, g_strdup("tree"), strings(tree, NULL));
	if (with_logs)
		g_hash_table_insert(paths, g_strdup("logs"), strings(logs, NULL));
	g_hash_table_insert(paths, g_strdup("one"), strings(one, NULL));
	g_hash_table_insert(excludes, g_strdup("tree"), strings(skip, NULL));
	if (osqd_inotify_get_n_watches(f->publisher) == 0)
		osqd_events_start(f->events, &config);
	else
		osqd_events_configure(f->events, &config);
}

static int
setup(void **state)
{
	Fixture *f = g_new0(Fixture, 1);
	g_autoptr(GError) error = NULL;
	g_autofree gchar *database = NULL;
	OsqdEventsConfig config = { 0 };

	f->directory = g_dir_make_tmp("osqd-inotify-XXXXXX", &error);
	assert_non_null(f->directory);
	f->tree = g_build_filename(f->directory, "t", NULL);
	database = g_build_filename(f->directory, "osq.db", NULL);
	make_dir(f, "w/skip");
	make_dir(f, "w/deep/er");
	make_dir(f, "c");
	f->store = osqd_store_open(database, &error);
	assert_non_null(f->store);
	config.database_path = database;
	f->events = osqd_events_new(&config, &error);
	assert_non_null(f->events);
	f->publisher = osqd_inotify_add(f->events, "/", TRUE, &error);
	assert_non_null(f->publisher);
	osqd_events_install(f->events);
	f->registry = osqd_registry_new_builtin();
	f->engine = osqd_engine_new(f->registry, &error);
	assert_non_null(f->engine);
	configure(f, TRUE);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	Fixture *f = *state;

	osqd_engine_free(f->engine);
	osqd_registry_unref(f->registry);
	osqd_events_free(f->events);
	osqd_store_close(f->store);
	(void)osqd_events_testing_remove_tree(f->directory);
	g_free(f->tree);
	g_free(f->directory);
	g_free(f);
	return 0;
}

/* The rows (path relative to the tree, action, category), once @n of them are there. */
static gchar *
rows_when(Fixture *f, guint n)
{
	g_autofree gchar *sql = g_strdup_printf(
	        "SELECT substr(target_path, %u), action, category FROM file_events ORDER BY eid",
	        (guint)strlen(f->tree) + 2);

	for (gint i = 0; i < 500; i++) {
		g_autoptr(GError) error = NULL;
		gchar *out = osqd_engine_testing_run(f->engine, sql, &error);
		guint lines = 0;

		assert_non_null(out);
		for (const gchar *p = out; *p != '\0'; p++)
			lines += *p == '\n';
		if (lines >= n)
			return out;
		g_free(out);
		g_usleep(10 * 1000);
	}
	return osqd_engine_testing_run(f->engine, sql, NULL);
}

/* The rows, once one of them contains @needle. */
static gchar *
rows_until(Fixture *f, const gchar *needle)
{
	for (gint i = 0; i < 500; i++) {
		gchar *out = rows_when(f, 0);

		if (strstr(out, needle) != NULL)
			return out;
		g_free(out);
		g_usleep(10 * 1000);
	}
	return rows_when(f, 0);
}

static void
test_categories_and_exclusions(void **state)
{
	Fixture *f = *state;
	g_autofree gchar *rows = NULL;
	g_autofree gchar *a = fixture_path(f, "w/a");
	g_autofree gchar *b = fixture_path(f, "w/b");
	g_autofree gchar *x = fixture_path(f, "w/deep/er/x");

	make_file(f, "w/skip/ignored", "");
	make_file(f, "c/app.txt", "");
	make_file(f, "c/today.log", "");
	make_file(f, "c/app.conf", "x");
	make_file(f, "w/deep/er/x", "");
	assert_int_equal(g_rename(x, a), 0);
	assert_int_equal(g_rename(a, b), 0);
	assert_int_equal(g_chmod(b, 0600), 0);
	assert_int_equal(g_unlink(b), 0);
	/* g_file_set_contents writes a temporary file and renames it over the target */
	rows = rows_until(f, "w/b|DELETED|tree\n");
	assert_non_null(strstr(rows, "c/today.log|MOVED_TO|logs\n"));
	assert_non_null(strstr(rows, "c/app.conf|MOVED_TO|one\n"));
	assert_non_null(strstr(rows, "w/deep/er/x|MOVED_TO|tree\n"));
	assert_non_null(strstr(rows, "w/deep/er/x|MOVED_FROM|tree\nw/a|MOVED_TO|tree\n"));
	assert_non_null(strstr(rows, "w/a|MOVED_FROM|tree\nw/b|MOVED_TO|tree\n"));
	assert_non_null(strstr(rows, "w/b|ATTRIBUTES_MODIFIED|tree\nw/b|DELETED|tree\n"));
	assert_null(strstr(rows, "skip"));
	assert_null(strstr(rows, "app.txt"));
}

static void
test_new_directories_and_hashes(void **state)
{
	Fixture *f = *state;
	g_autofree gchar *rows = NULL;
	g_autofree gchar *hashed = NULL;
	g_autofree gchar *path = fixture_path(f, "w/new/file");
	g_autofree gchar *sql = NULL;
	gint fd;

	make_dir(f, "w/new");
	rows = rows_when(f, 1);
	assert_string_equal(rows, "w/new|CREATED|tree\n");
	/* the new directory got its watch before the event was stored */
	fd = g_open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "abc", 3), 3);
	assert_int_equal(close(fd), 0);
	g_free(rows);
	rows = rows_when(f, 4);
	assert_string_equal(rows, "w/new|CREATED|tree\nw/new/file|CREATED|tree\n"
	                          "w/new/file|UPDATED|tree\nw/new/file|UPDATED|tree\n");
	sql = g_strdup_printf(
	        "SELECT action, size, mode, hashed, md5, sha1, sha256 FROM file_events "
	        "WHERE target_path = '%s' AND action = 'UPDATED' ORDER BY eid DESC "
	        "LIMIT 1",
	        path);
	hashed = osqd_engine_testing_run(f->engine, sql, NULL);
	assert_string_equal(hashed,
	                    "UPDATED|3|0644|1|900150983cd24fb0d6963f7d28e17f72|"
	                    "a9993e364706816aba3e25717850c26c9cd0d89d|"
	                    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\n");
}

static void
test_reconfigure(void **state)
{
	Fixture *f = *state;
	g_autofree gchar *rows = NULL;
	g_autofree gchar *status = NULL;
	guint before = osqd_inotify_get_n_watches(f->publisher);

	/* <tree>/w, skip, deep, deep/er and <tree>/c */
	assert_int_equal(before, 5);
	configure(f, FALSE);
	/* the same watches: logs and one both watched <tree>/c, one still does */
	assert_int_equal(osqd_inotify_get_n_watches(f->publisher), 5);
	make_file(f, "c/new.log", "");
	make_file(f, "c/app.conf", "");
	rows = rows_when(f, 1);
	assert_string_equal(rows, "c/app.conf|MOVED_TO|one\n");
	status = osqd_engine_testing_run(f->engine,
	                                 "SELECT name, subscriptions, refreshes, active FROM "
	                                 "osquery_events WHERE type = 'publisher'",
	                                 NULL);
	assert_string_equal(status, "inotify|5|2|1\n");
}

static void
test_file_accesses(void **state)
{
	Fixture *f = *state;
	g_autoptr(GHashTable) paths = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
	                                                    (GDestroyNotify)g_ptr_array_unref);
	g_autoptr(GPtrArray) accesses = strings("reads", NULL);
	g_autofree gchar *pattern = g_strdup_printf("%s/c/", f->tree);
	g_autofree gchar *path = fixture_path(f, "c/read.me");
	g_autofree gchar *rows = NULL;
	g_autofree gchar *contents = NULL;
	OsqdInotifyPaths config = { .file_paths = paths, .file_accesses = accesses };

	g_hash_table_insert(paths, g_strdup("reads"), strings(pattern, NULL));
	make_file(f, "c/read.me", "text");
	osqd_events_configure(f->events, &config);
	assert_true(g_file_get_contents(path, &contents, NULL, NULL));
	rows = rows_when(f, 7);
	/* opened and read; an access category is not hashed */
	g_free(rows);
	rows = osqd_engine_testing_run(
	        f->engine,
	        "SELECT substr(target_path, length(target_path) - 8), action, "
	        "category FROM file_events WHERE action IN ('OPENED', "
	        "'ACCESSED') ORDER BY eid",
	        NULL);
	assert_string_equal(rows, "c/read.me|OPENED|reads\nc/read.me|ACCESSED|reads\n");
	g_free(rows);
	rows = osqd_engine_testing_run(f->engine, "SELECT DISTINCT hashed FROM file_events", NULL);
	assert_string_equal(rows, "0\n");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_categories_and_exclusions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_new_directories_and_hashes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reconfigure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_accesses, setup, teardown),
	};

	g_log_set_always_fatal(G_LOG_LEVEL_CRITICAL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
