/* SPDX-License-Identifier: Apache-2.0
 *
 * Config tests on fixture trees (tests/fixtures/config/) and inline sources: comments, .d/
 * merge order, options, schedule and the three kinds of packs, selectors, decorators, file
 * paths, views, unknown keys and type errors (the key path must be in the message: that is the
 * contract --config_check users read), the caps, the SQL hook, dump round trips, and
 * examples/osq.conf checked against the table specs.
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
#include "osqd-config.h"
#include "osqd-engine.h"
#include "osqd-registry.h"

#define FIXTURES OSQ_SOURCE_ROOT "/tests/fixtures/config"

static OsqdConfig *
parse_text(const gchar *text, const OsqdConfigParams *params, GError **error)
{
	g_autoptr(GPtrArray) sources =
	        g_ptr_array_new_with_free_func((GDestroyNotify)osqd_config_source_free);

	g_ptr_array_add(sources, osqd_config_source_new("test.conf", text));
	return osqd_config_parse(sources, params, error);
}

static OsqdConfig *
parse_fixture(const gchar *relative, const OsqdConfigParams *params)
{
	g_autofree gchar *path = g_build_filename(FIXTURES, relative, NULL);
	g_autoptr(GPtrArray) sources = NULL;
	g_autoptr(GError) error = NULL;
	OsqdConfig *config;

	assert_true(osqd_config_read_filesystem(path, &sources, &error));
	config = osqd_config_parse(sources, params, &error);
	if (config == NULL)
		fail_msg("%s: %s", relative, error->message);
	return config;
}

/* Parsing @text fails with @code and a message containing @needle. */
static void
assert_parse_fails(const gchar *text, const OsqdConfigParams *params, gint code,
                   const gchar *needle)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(OsqdConfig) config = parse_text(text, params, &error);

	assert_null(config);
	assert_non_null(error);
	if (!g_error_matches(error, OSQ_ERROR, code) || strstr(error->message, needle) == NULL)
		fail_msg("expected code %d and \"%s\", got %d \"%s\"", code, needle, error->code,
		         error->message);
}

static const gchar *
option(const OsqdConfig *config, const gchar *name)
{
	return g_hash_table_lookup(config->options, name);
}

static void
test_comments(void **state)
{
	g_autoptr(OsqdConfig) config = parse_fixture("comments/osq.conf", NULL);
	const OsqdScheduledQuery *query = osqd_config_lookup_query(config, "escaped");
	g_autoptr(GError) error = NULL;
	g_autofree gchar *stripped = NULL;

	assert_string_equal(option(config, "host_identifier"), "hostname");
	assert_string_equal(option(config, "custom_note"),
	                    "a # and a // and a /* inside a string stay");
	assert_non_null(query);
	assert_string_equal(query->sql, "SELECT \"//not a comment\" AS x FROM time; -- \\");
	assert_int_equal(query->interval, 60);

	stripped = osqd_config_strip_comments("{\n# a\n\"a\": 1 // b\n}", &error);
	assert_string_equal(stripped, "{\n\n\"a\": 1 \n}");
	assert_null(osqd_config_strip_comments("{\n\n /* open", &error));
	assert_true(g_error_matches(error, OSQ_ERROR, OSQ_ERROR_INVALID_ARGUMENT));
	assert_non_null(strstr(error->message, "line 3"));
	/* a syntax error after a comment block still gets the right line */
	assert_parse_fails("{\n/*\n\n*/\n\"a\" 1}", NULL, OSQ_ERROR_INVALID_ARGUMENT,
	                   "test.conf: line 5");
}

static void
test_merge_order(void **state)
{
	g_autofree gchar *path = g_build_filename(FIXTURES, "merge", "osq.conf", NULL);
	g_autoptr(GPtrArray) sources = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(OsqdConfig) config = NULL;
	const OsqdScheduledQuery *query;

	assert_true(osqd_config_read_filesystem(path, &sources, &error));
	assert_int_equal(sources->len, 3);
	assert_true(g_str_has_suffix(((OsqdConfigSource *)sources->pdata[1])->name,
	                             "osq.conf.d/10-override.conf"));
	assert_true(g_str_has_suffix(((OsqdConfigSource *)sources->pdata[2])->name,
	                             "osq.conf.d/20-later.conf"));
	config = osqd_config_parse(sources, NULL, &error);
	assert_non_null(config);
	assert_string_equal(option(config, "schedule_splay_percent"), "30");
	assert_string_equal(option(config, "host_identifier"), "hostname");
	assert_int_equal(config->schedule->len, 3);
	query = config->schedule->pdata[0];
	assert_string_equal(query->name, "first");
	assert_string_equal(query->sql, "SELECT 10 FROM time");
	assert_int_equal(query->interval, 120);
	assert_true(g_str_has_suffix(query->source, "10-override.conf"));
	assert_string_equal(((OsqdScheduledQuery *)config->schedule->pdata[1])->name, "second");
	assert_string_equal(((OsqdScheduledQuery *)config->schedule->pdata[2])->name, "third");
	assert_int_equal(config->decorators_load->len, 2);
	assert_string_equal(config->decorators_load->pdata[1], "SELECT total_seconds FROM uptime");

	/* a missing config file */
	g_clear_error(&error);
	g_clear_pointer(&sources, g_ptr_array_unref);
	assert_false(osqd_config_read_filesystem(FIXTURES "/no/such.conf", &sources, &error));
	assert_true(g_error_matches(error, OSQ_ERROR, OSQ_ERROR_NOT_FOUND));
	assert_null(sources);
}

static void
test_huge_file(void **state)
{
	g_autofree gchar *dir = g_dir_make_tmp("osqd-config-XXXXXX", NULL);
	g_autofree gchar *path = g_build_filename(dir, "osq.conf", NULL);
	g_autoptr(GPtrArray) sources = NULL;
	g_autoptr(GError) error = NULL;

	/* a sparse 17 MiB file is refused before it is read */
	assert_true(g_file_set_contents(path, "{}", -1, NULL));
	assert_int_equal(truncate(path, 17 * 1024 * 1024), 0);
	assert_false(osqd_config_read_filesystem(path, &sources, &error));
	assert_true(g_error_matches(error, OSQ_ERROR, OSQ_ERROR_LIMIT));
	assert_non_null(strstr(error->message, path));
	(void)g_unlink(path);
	(void)g_rmdir(dir);
}

static void
test_options(void **state)
{
	g_autoptr(GHashTable) flags = g_hash_table_new(g_str_hash, g_str_equal);
	OsqdConfigParams params = { .known_flags = flags };
	g_autoptr(OsqdConfig) config = NULL;
	g_autoptr(GError) error = NULL;

	g_hash_table_insert(flags, (gpointer) "verbose", GINT_TO_POINTER(FALSE));
	g_hash_table_insert(flags, (gpointer) "schedule_splay_percent", GINT_TO_POINTER(FALSE));
	g_hash_table_insert(flags, (gpointer) "logger_path", GINT_TO_POINTER(FALSE));
	g_hash_table_insert(flags, (gpointer) "ratio", GINT_TO_POINTER(FALSE));
	g_hash_table_insert(flags, (gpointer) "pidfile", GINT_TO_POINTER(TRUE));
	config = parse_text("{\"options\": {\"verbose\": true, \"schedule_splay_percent\": 5,"
	                    " \"logger_path\": \"/var/log/osq\", \"ratio\": 1.5,"
	                    " \"custom_anything\": false}}",
	                    &params, &error);
	assert_non_null(config);
	assert_string_equal(option(config, "verbose"), "true");
	assert_string_equal(option(config, "schedule_splay_percent"), "5");
	assert_string_equal(option(config, "logger_path"), "/var/log/osq");
	assert_string_equal(option(config, "ratio"), "1.5");
	assert_string_equal(option(config, "custom_anything"), "false");
	assert_parse_fails("{\"options\": {\"verbos\": true}}", &params, OSQ_ERROR_INVALID_ARGUMENT,
	                   "test.conf: options.verbos: unknown flag");
	assert_parse_fails("{\"options\": {\"pidfile\": \"/tmp/x\"}}", &params,
	                   OSQ_ERROR_INVALID_ARGUMENT, "options.pidfile: a command-line-only");
	assert_parse_fails("{\"options\": {\"verbose\": [1]}}", &params, OSQ_ERROR_INVALID_ARGUMENT,
	                   "options.verbose: expected a string, number or boolean");
	assert_parse_fails("{\"options\": []}", &params, OSQ_ERROR_INVALID_ARGUMENT,
	                   "options: expected an object, not an array");
}

static void
test_schedule(void **state)
{
	OsqdConfigParams params = { .default_interval = 120 };
	g_autoptr(OsqdConfig) config = NULL;
	g_autoptr(GError) error = NULL;
	const OsqdScheduledQuery *query;

	config = parse_text("{\"schedule\": {\"a\": {\"query\": \"SELECT 1\"},"
	                    " \"b\": {\"query\": \"SELECT 2\", \"interval\": \"604800\","
	                    " \"snapshot\": true, \"removed\": false, \"blacklist\": false,"
	                    " \"platform\": \"linux\", \"version\": \"1.2\", \"shard\": 10,"
	                    " \"description\": \"d\", \"value\": \"v\"}}}",
	                    &params, &error);
	assert_non_null(config);
	query = osqd_config_lookup_query(config, "a");
	assert_int_equal(query->interval, 120);
	assert_false(query->snapshot);
	assert_true(query->removed);
	assert_true(query->denylist);
	assert_null(query->pack);
	assert_null(query->platform);
	assert_int_equal(query->shard, 0);
	query = osqd_config_lookup_query(config, "b");
	assert_int_equal(query->interval, 604800);
	assert_true(query->snapshot);
	assert_false(query->removed);
	assert_false(query->denylist);
	assert_string_equal(query->platform, "linux");
	assert_string_equal(query->version, "1.2");
	assert_int_equal(query->shard, 10);
	assert_string_equal(query->description, "d");
	assert_string_equal(query->value, "v");
	assert_int_equal(config->queries->len, 2);

	assert_parse_fails("{\"schedule\": {\"a\": {\"query\": \"SELECT 1\", \"interval\": 0}}}",
	                   NULL, OSQ_ERROR_INVALID_ARGUMENT,
	                   "schedule.a.interval: 0 is out of range (1..604800)");
	assert_parse_fails("{\"schedule\": {\"a\": {\"query\": \"SELECT 1\", \"interval\": "
	                   "604801}}}",
	                   NULL, OSQ_ERROR_INVALID_ARGUMENT, "schedule.a.interval: 604801");
	assert_parse_fails("{\"schedule\": {\"a\": {\"query\": \"SELECT 1\", \"interval\": -5}}}",
	                   NULL, OSQ_ERROR_INVALID_ARGUMENT, "schedule.a.interval");
	assert_parse_fails("{\"schedule\": {\"a\": {\"interval\": 60}}}", NULL,
	                   OSQ_ERROR_INVALID_ARGUMENT, "schedule.a: missing \"query\"");
	assert_parse_fails("{\"schedule\": {\"a\": {\"query\": \"SELECT 1\", \"shard\": 101}}}",
	                   NULL, OSQ_ERROR_INVALID_ARGUMENT, "schedule.a.shard");
	assert_parse_fails("{\"schedule\": {\"a\": {\"query\": \"SELECT 1\", \"intervl\": 60}}}",
	                   NULL, OSQ_ERROR_INVALID_ARGUMENT, "schedule.a.intervl: unknown key");
}

static void
test_packs(void **state)
{
	g_autoptr(OsqdConfig) config = parse_fixture("packs/osq.conf", NULL);
	OsqdConfigParams params = { .pack_delimiter = ":" };
	g_autoptr(OsqdConfig) colon = parse_fixture("packs/osq.conf", &params);
	const gchar *expected[] = { "uptime", "pack_inline_ports", "pack_web_nginx",
		                    "pack_alpha_users", "pack_beta_mounts" };
	const OsqdConfigPack *pack;
	const OsqdScheduledQuery *query;

	assert_int_equal(config->queries->len, G_N_ELEMENTS(expected));
	for (guint i = 0; i < G_N_ELEMENTS(expected); i++)
		assert_string_equal(((OsqdScheduledQuery *)config->queries->pdata[i])->name,
		                    expected[i]);
	assert_int_equal(config->packs->len, 4);
	pack = osqd_config_lookup_pack(config, "inline");
	assert_string_equal(pack->platform, "linux");
	assert_int_equal(pack->discovery->len, 1);
	query = osqd_config_lookup_query(config, "pack_inline_ports");
	assert_string_equal(query->pack, "inline");
	assert_string_equal(query->query_name, "ports");
	assert_false(query->removed);
	pack = osqd_config_lookup_pack(config, "web");
	assert_string_equal(pack->version, "1.0.0");
	assert_int_equal(pack->shard, 50);
	assert_string_equal(pack->oncall, "web-team");
	assert_true(g_str_has_suffix(pack->source, "packs/packs/web.json"));
	query = osqd_config_lookup_query(config, "pack_web_nginx");
	assert_true(query->snapshot);
	assert_int_equal(query->interval, 3600);
	assert_string_equal(query->description, "web servers");
	query = osqd_config_lookup_query(config, "pack_beta_mounts");
	assert_false(query->denylist);
	assert_null(osqd_config_lookup_pack(config, "notes"));

	assert_non_null(osqd_config_lookup_query(colon, "pack:alpha:users"));
	assert_null(osqd_config_lookup_query(colon, "pack_alpha_users"));

	assert_parse_fails("{\"packs\": {\"gone\": \"/no/such/pack.json\"}}", NULL,
	                   OSQ_ERROR_NOT_FOUND, "test.conf: packs.gone: ");
	assert_parse_fails("{\"packs\": {\"p\": {\"queries\": {\"q\": {\"query\": 1}}}}}", NULL,
	                   OSQ_ERROR_INVALID_ARGUMENT,
	                   "packs.p.queries.q.query: expected a string, not a number");
	assert_parse_fails("{\"packs\": {\"p\": {\"discovery\": \"SELECT 1\"}}}", NULL,
	                   OSQ_ERROR_INVALID_ARGUMENT, "packs.p.discovery: expected an array");
	assert_parse_fails("{\"packs\": {\"p\": {\"queries\": {}, \"owner\": \"x\"}}}", NULL,
	                   OSQ_ERROR_INVALID_ARGUMENT, "packs.p.owner: unknown key");
	assert_parse_fails("{\"packs\": {\"p\": 3}}", NULL, OSQ_ERROR_INVALID_ARGUMENT,
	                   "packs.p: expected an object or a file path");
	/* two spellings of one scheduled name */
	assert_parse_fails(
	        "{\"schedule\": {\"pack_a_b\": {\"query\": \"SELECT 1\"}},"
	        " \"packs\": {\"a\": {\"queries\": {\"b\": {\"query\": \"SELECT 2\"}}}}}",
	        NULL, OSQ_ERROR_INVALID_ARGUMENT, "packs.a.queries.b: the scheduled");
}

static void
test_platform_version(void **state)
{
	assert_true(osqd_config_platform_matches(NULL, "linux"));
	assert_true(osqd_config_platform_matches("", "linux"));
	assert_true(osqd_config_platform_matches("null", "linux"));
	assert_true(osqd_config_platform_matches("any", "linux"));
	assert_true(osqd_config_platform_matches("all", "linux"));
	assert_true(osqd_config_platform_matches("linux", "linux"));
	assert_true(osqd_config_platform_matches("darwin,linux", "linux"));
	assert_true(osqd_config_platform_matches("ubuntu", "linux"));
	assert_true(osqd_config_platform_matches("centos", "linux"));
	assert_true(osqd_config_platform_matches("posix", "linux"));
	assert_false(osqd_config_platform_matches("darwin", "linux"));
	assert_false(osqd_config_platform_matches("windows", "linux"));
	assert_false(osqd_config_platform_matches("freebsd", "linux"));
	assert_false(osqd_config_platform_matches("ubuntu", "darwin"));

	assert_int_equal(osqd_config_version_compare("5.10.2", "5.9"), 1);
	assert_int_equal(osqd_config_version_compare("5.9", "5.10.2"), -1);
	assert_int_equal(osqd_config_version_compare("1.4", "1.4.0"), 0);
	assert_int_equal(osqd_config_version_compare("2.0.0-rc1", "2.0.0"), 0);
	assert_int_equal(osqd_config_version_compare("", "0"), 0);
	assert_int_equal(osqd_config_version_compare("10", "9.99"), 1);
}

static void
test_shard(void **state)
{
	/* python3: hashlib.sha1(b"osq-test-host").digest()[0] * 100 // 255 */
	OsqdConfigHost host = { "linux", "5.12.1", osqd_config_host_shard("osq-test-host") };

	assert_int_equal(host.shard, 4);
	assert_int_equal(osqd_config_host_shard("host-b"), 52);
	assert_int_equal(osqd_config_host_shard("host-g"), 100);
	assert_true(osqd_config_query_selected(NULL, NULL, 0, &host));
	assert_true(osqd_config_query_selected(NULL, NULL, 4, &host));
	assert_false(osqd_config_query_selected(NULL, NULL, 3, &host));
	assert_true(osqd_config_query_selected(NULL, NULL, 100, &host));
	assert_true(osqd_config_query_selected("linux", "5.12.1", 0, &host));
	assert_false(osqd_config_query_selected("linux", "5.12.2", 0, &host));
	assert_true(osqd_config_query_selected("posix", "1.0", 50, &host));
	assert_false(osqd_config_query_selected("darwin", NULL, 0, &host));
	assert_true(osqd_config_query_selected("darwin", NULL, 0, NULL));
}

static void
test_selection(void **state)
{
	OsqdConfigHost host = { "linux", "5.0.0", osqd_config_host_shard("host-b") };
	OsqdConfigParams params = { .host = &host };
	g_autoptr(OsqdConfig) config = parse_fixture("packs/osq.conf", &params);
	g_autoptr(OsqdConfig) mixed = NULL;
	g_autoptr(GError) error = NULL;

	/* the web pack has shard 50, this host is in shard 52 */
	assert_false(osqd_config_lookup_pack(config, "web")->selected);
	assert_false(osqd_config_lookup_query(config, "pack_web_nginx")->selected);
	assert_true(osqd_config_lookup_pack(config, "inline")->selected);
	assert_true(osqd_config_lookup_query(config, "pack_inline_ports")->selected);
	assert_true(osqd_config_lookup_query(config, "uptime")->selected);

	mixed = parse_text("{\"schedule\": {"
	                   "\"mac\": {\"query\": \"SELECT 1\", \"platform\": \"darwin\"},"
	                   "\"new\": {\"query\": \"SELECT 1\", \"version\": \"5.1\"},"
	                   "\"old\": {\"query\": \"SELECT 1\", \"version\": \"4.9.9\"}},"
	                   "\"packs\": {\"win\": {\"platform\": \"windows\", \"queries\": "
	                   "{\"q\": {\"query\": \"SELECT 1\", \"platform\": \"linux\"}}}}}",
	                   &params, &error);
	assert_non_null(mixed);
	assert_false(osqd_config_lookup_query(mixed, "mac")->selected);
	assert_false(osqd_config_lookup_query(mixed, "new")->selected);
	assert_true(osqd_config_lookup_query(mixed, "old")->selected);
	assert_false(osqd_config_lookup_pack(mixed, "win")->selected);
	assert_false(osqd_config_lookup_query(mixed, "pack_win_q")->selected);
	/* not selected, but still in the model */
	assert_int_equal(mixed->queries->len, 4);
}

static void
test_decorators(void **state)
{
	g_autoptr(OsqdConfig) config = NULL;
	g_autoptr(GError) error = NULL;
	const OsqdConfigDecoratorInterval *decorator;

	config = parse_text("{\"decorators\": {\"load\": [\"SELECT 1\"], \"always\": [\"SELECT 2\","
	                    " \"SELECT 3\"], \"interval\": {\"3600\": [\"SELECT 4\"], \"60\":"
	                    " [\"SELECT 5\"]}}}",
	                    NULL, &error);
	assert_non_null(config);
	assert_int_equal(config->decorators_load->len, 1);
	assert_int_equal(config->decorators_always->len, 2);
	assert_int_equal(config->decorators_interval->len, 2);
	decorator = config->decorators_interval->pdata[0];
	assert_int_equal(decorator->interval, 60);
	assert_string_equal(decorator->queries->pdata[0], "SELECT 5");
	decorator = config->decorators_interval->pdata[1];
	assert_int_equal(decorator->interval, 3600);

	assert_parse_fails("{\"decorators\": {\"interval\": {\"90\": [\"SELECT 1\"]}}}", NULL,
	                   OSQ_ERROR_INVALID_ARGUMENT,
	                   "decorators.interval.90: the interval must be a multiple of 60");
	assert_parse_fails("{\"decorators\": {\"interval\": {\"0\": []}}}", NULL,
	                   OSQ_ERROR_INVALID_ARGUMENT, "decorators.interval.0");
	assert_parse_fails("{\"decorators\": {\"interval\": {\"hourly\": []}}}", NULL,
	                   OSQ_ERROR_INVALID_ARGUMENT, "decorators.interval.hourly");
	assert_parse_fails("{\"decorators\": {\"load\": [\"SELECT 1\", 2]}}", NULL,
	                   OSQ_ERROR_INVALID_ARGUMENT, "decorators.load[1]: expected a string");
	assert_parse_fails("{\"decorators\": {\"sometimes\": []}}", NULL,
	                   OSQ_ERROR_INVALID_ARGUMENT, "decorators.sometimes: unknown key");
}

static void
test_file_paths(void **state)
{
	g_autoptr(OsqdConfig) config = NULL;
	g_autoptr(GError) error = NULL;
	GPtrArray *list;

	config = parse_text("{\"file_paths\": {\"etc\": [\"/etc/%%\"], \"homes\": "
	                    "[\"/home/%/.ssh/\", \"/root/.ssh/%\"]},"
	                    " \"file_paths_query\": {\"bins\": [\"SELECT path FROM suid_bin\"]},"
	                    " \"exclude_paths\": {\"etc\": [\"/etc/mtab\"], \"bins\": [\"/x\"]},"
	                    " \"file_accesses\": [\"homes\"],"
	                    " \"events\": {\"enable_subscribers\": [\"file_events\"],"
	                    " \"disable_subscribers\": [\"socket_events\"]},"
	                    " \"views\": {\"big\": \"SELECT * FROM processes\"}}",
	                    NULL, &error);
	assert_non_null(config);
	list = g_hash_table_lookup(config->file_paths, "homes");
	assert_int_equal(list->len, 2);
	assert_string_equal(list->pdata[0], "/home/%/.ssh/");
	list = g_hash_table_lookup(config->exclude_paths, "etc");
	assert_string_equal(list->pdata[0], "/etc/mtab");
	assert_int_equal(g_hash_table_size(config->file_paths_query), 1);
	assert_string_equal(config->file_accesses->pdata[0], "homes");
	assert_string_equal(config->enable_subscribers->pdata[0], "file_events");
	assert_string_equal(config->disable_subscribers->pdata[0], "socket_events");
	assert_string_equal(g_hash_table_lookup(config->views, "big"), "SELECT * FROM processes");

	assert_parse_fails("{\"file_paths\": {\"etc\": [\"/etc/\"]}, \"exclude_paths\":"
	                   " {\"var\": [\"/var/x\"]}}",
	                   NULL, OSQ_ERROR_INVALID_ARGUMENT,
	                   "test.conf: exclude_paths.var: no such category in file_paths");
	assert_parse_fails("{\"file_paths\": {\"etc\": [\"/etc/%%/passwd\"]}}", NULL,
	                   OSQ_ERROR_INVALID_ARGUMENT, "file_paths.etc: \"/etc/%%/passwd\"");
	assert_parse_fails("{\"file_paths\": {\"etc\": \"/etc/\"}}", NULL,
	                   OSQ_ERROR_INVALID_ARGUMENT, "file_paths.etc: expected an array");
	assert_parse_fails("{\"events\": {\"enable\": []}}", NULL, OSQ_ERROR_INVALID_ARGUMENT,
	                   "events.enable: unknown key");
	assert_parse_fails("{\"views\": {\"v\": [\"SELECT 1\"]}}", NULL, OSQ_ERROR_INVALID_ARGUMENT,
	                   "views.v: expected a string, not an array");
}

static void
test_unknown_keys(void **state)
{
	const gchar *extra[] = { "yara", NULL };
	OsqdConfigParams params = { .extra_top_level_keys = extra };
	g_autoptr(OsqdConfig) config = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *dump = NULL;

	assert_parse_fails("{\"shedule\": {}}", NULL, OSQ_ERROR_INVALID_ARGUMENT,
	                   "test.conf: shedule: unknown top-level key");
	assert_parse_fails("{\"yara\": {}}", NULL, OSQ_ERROR_INVALID_ARGUMENT,
	                   "yara: unknown top-level key");
	config = parse_text("{\"yara\": {\"signatures\": {\"a\": [\"/x.yar\"]}}}", &params, &error);
	assert_non_null(config);
	assert_non_null(g_hash_table_lookup(config->extra, "yara"));
	dump = osqd_config_dump(config);
	assert_non_null(strstr(dump, "\"/x.yar\""));
	assert_parse_fails("[1, 2]", NULL, OSQ_ERROR_INVALID_ARGUMENT,
	                   "test.conf: the config must be a JSON object, not an array");
}

static void
test_type_errors(void **state)
{
	assert_parse_fails("{\"schedule\": {\"processes\": {\"query\": \"SELECT 1\","
	                   " \"interval\": \"often\"}}}",
	                   NULL, OSQ_ERROR_INVALID_ARGUMENT,
	                   "schedule.processes.interval: expected a number");
	assert_parse_fails("{\"schedule\": {\"processes\": {\"query\": \"SELECT 1\","
	                   " \"interval\": true}}}",
	                   NULL, OSQ_ERROR_INVALID_ARGUMENT,
	                   "schedule.processes.interval: expected a number, not a boolean");
	assert_parse_fails("{\"schedule\": {\"processes\": {\"query\": \"SELECT 1\","
	                   " \"interval\": 1.5}}}",
	                   NULL, OSQ_ERROR_INVALID_ARGUMENT,
	                   "schedule.processes.interval: expected a number");
	assert_parse_fails("{\"schedule\": {\"p\": {\"query\": \"SELECT 1\", \"snapshot\": 1}}}",
	                   NULL, OSQ_ERROR_INVALID_ARGUMENT,
	                   "schedule.p.snapshot: expected a boolean, not a number");
	assert_parse_fails("{\"schedule\": []}", NULL, OSQ_ERROR_INVALID_ARGUMENT,
	                   "schedule: expected an object");
	assert_parse_fails("{\"schedule\": {\"p\": \"SELECT 1\"}}", NULL,
	                   OSQ_ERROR_INVALID_ARGUMENT,
	                   "schedule.p: expected an object, not a string");
}

static void
test_invalid_json(void **state)
{
	g_autoptr(GPtrArray) sources =
	        g_ptr_array_new_with_free_func((GDestroyNotify)osqd_config_source_free);
	g_autoptr(GError) error = NULL;

	g_ptr_array_add(sources, osqd_config_source_new("/etc/osq/osq.conf", "{}"));
	g_ptr_array_add(sources,
	                osqd_config_source_new("/etc/osq/osq.conf.d/20-bad.conf",
	                                       "{\n  \"options\": {\n    \"a\": 1,\n  }\n"));
	assert_null(osqd_config_parse(sources, NULL, &error));
	assert_true(g_error_matches(error, OSQ_ERROR, OSQ_ERROR_INVALID_ARGUMENT));
	assert_true(g_str_has_prefix(error->message, "/etc/osq/osq.conf.d/20-bad.conf: line 3:"));
	assert_parse_fails("", NULL, OSQ_ERROR_INVALID_ARGUMENT, "test.conf: empty document");
	assert_parse_fails("{}\n{\"options\": {}}", NULL, OSQ_ERROR_INVALID_ARGUMENT,
	                   "test.conf: line 2: unexpected text after the end of the document");
	assert_parse_fails("{} // fine\n  ]", NULL, OSQ_ERROR_INVALID_ARGUMENT,
	                   "test.conf: line 2");
}

static void
test_caps(void **state)
{
	g_autoptr(GString) big = g_string_new("{\"options\": {\"custom_big\": \"");
	g_autoptr(GString) commented = g_string_new("");
	g_autoptr(GString) deep = g_string_new("");
	g_autoptr(OsqdConfig) config = NULL;
	g_autoptr(GError) error = NULL;

	/* 1 MiB + a bit of real content is refused */
	for (guint i = 0; i < OSQD_CONFIG_MAX_SOURCE_SIZE / 64 + 1; i++)
		g_string_append(big,
		                "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
	g_string_append(big, "\"}}");
	assert_parse_fails(big->str, NULL, OSQ_ERROR_LIMIT, "test.conf: larger than 1048576");

	/* but 2 MiB of comments around a small config are fine */
	for (guint i = 0; i < 2 * OSQD_CONFIG_MAX_SOURCE_SIZE / 64; i++)
		g_string_append(commented,
		                "# a comment that is sixty-four bytes long, newline included..\n");
	g_string_append(commented, "{\"options\": {\"custom_x\": 1}}");
	config = parse_text(commented->str, NULL, &error);
	assert_non_null(config);

	/* nesting: 32 levels are fine, 33 are not */
	g_string_append(deep, "{\"views\": {\"custom\": ");
	for (guint i = 0; i < 30; i++)
		g_string_append_c(deep, '[');
	for (guint i = 0; i < 30; i++)
		g_string_append_c(deep, ']');
	g_string_append(deep, "}}");
	assert_parse_fails(deep->str, NULL, OSQ_ERROR_INVALID_ARGUMENT,
	                   "views.custom: expected a string, not an array");
	g_string_assign(deep, "{\"views\": {\"custom\": ");
	for (guint i = 0; i < 31; i++)
		g_string_append_c(deep, '[');
	for (guint i = 0; i < 31; i++)
		g_string_append_c(deep, ']');
	g_string_append(deep, "}}");
	assert_parse_fails(deep->str, NULL, OSQ_ERROR_LIMIT,
	                   "test.conf: line 1: JSON nested deeper than 32 levels");
	/* brackets inside strings do not count */
	g_string_assign(deep, "{\"options\": {\"custom_x\": \"");
	for (guint i = 0; i < 40; i++)
		g_string_append(deep, "[{");
	g_string_append(deep, "\"}}");
	g_clear_pointer(&config, osqd_config_unref);
	config = parse_text(deep->str, NULL, &error);
	assert_non_null(config);
}

typedef struct {
	guint calls;
} SqlCheck;

/* A stand-in for preparing the statement: "SELEC" is a syntax error. */
static gboolean
check_sql_cb(const gchar *sql, gpointer data, GError **error)
{
	SqlCheck *check = data;

	check->calls++;
	if (g_str_has_prefix(sql, "SELEC ")) {
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_FAILED, "near \"SELEC\": syntax error");
		return FALSE;
	}
	return TRUE;
}

static void
test_check_sql(void **state)
{
	OsqdConfigHost host = { "linux", "5.0.0", 0 };
	SqlCheck check = { 0 };
	OsqdConfigParams params = { .check_sql = check_sql_cb,
		                    .check_sql_data = &check,
		                    .host = &host };
	g_autoptr(OsqdConfig) config = NULL;
	g_autoptr(GError) error = NULL;

	config =
	        parse_text("{\"schedule\": {\"ok\": {\"query\": \"SELECT 1\"},"
	                   " \"mac\": {\"query\": \"SELEC launchd\", \"platform\": \"darwin\"}},"
	                   " \"packs\": {\"p\": {\"discovery\": [\"SELECT 2\"], \"queries\":"
	                   " {\"q\": {\"query\": \"SELECT 3\"}}}},"
	                   " \"decorators\": {\"load\": [\"SELECT 4\"], \"always\": [\"SELECT 5\"],"
	                   " \"interval\": {\"60\": [\"SELECT 6\"]}},"
	                   " \"file_paths\": {\"x\": [\"/x\"]},"
	                   " \"file_paths_query\": {\"x\": [\"SELECT 7\"]},"
	                   " \"views\": {\"v\": \"SELECT 8\"}}",
	                   &params, &error);
	assert_non_null(config);
	/* everything but the darwin query, which will not run here */
	assert_int_equal(check.calls, 8);

	assert_parse_fails("{\"schedule\": {\"foo\": {\"query\": \"SELEC * FROM processes\"}}}",
	                   &params, OSQ_ERROR_INVALID_ARGUMENT,
	                   "test.conf: schedule.foo: near \"SELEC\": syntax error");
	assert_parse_fails("{\"packs\": {\"p\": {\"queries\": {\"q\": {\"query\": \"SELEC x\"}}}}}",
	                   &params, OSQ_ERROR_INVALID_ARGUMENT, "packs.p.queries.q: near");
	assert_parse_fails("{\"packs\": {\"p\": {\"discovery\": [\"SELECT 1\", \"SELEC x\"]}}}",
	                   &params, OSQ_ERROR_INVALID_ARGUMENT, "packs.p.discovery[1]: near");
	assert_parse_fails("{\"decorators\": {\"always\": [\"SELEC x\"]}}", &params,
	                   OSQ_ERROR_INVALID_ARGUMENT, "decorators.always[0]: near");
	assert_parse_fails("{\"decorators\": {\"interval\": {\"120\": [\"SELEC x\"]}}}", &params,
	                   OSQ_ERROR_INVALID_ARGUMENT, "decorators.interval.120[0]: near");
	assert_parse_fails("{\"views\": {\"v\": \"SELEC x\"}}", &params, OSQ_ERROR_INVALID_ARGUMENT,
	                   "views.v: near");
	assert_parse_fails("{\"file_paths_query\": {\"c\": [\"SELEC x\"]}}", &params,
	                   OSQ_ERROR_INVALID_ARGUMENT, "file_paths_query.c[0]: near");
}

static void
assert_round_trip(OsqdConfig *config)
{
	g_autofree gchar *dump = osqd_config_dump(config);
	g_autofree gchar *hash = osqd_config_hash(config);
	g_autofree gchar *dump_again = NULL;
	g_autofree gchar *hash_again = NULL;
	g_autoptr(OsqdConfig) again = NULL;
	g_autoptr(GError) error = NULL;

	again = parse_text(dump, NULL, &error);
	if (again == NULL)
		fail_msg("the dump does not parse: %s\n%s", error->message, dump);
	dump_again = osqd_config_dump(again);
	hash_again = osqd_config_hash(again);
	assert_string_equal(dump, dump_again);
	assert_string_equal(hash, hash_again);
	assert_int_equal(strlen(hash), 64);
}

static void
test_dump(void **state)
{
	g_autoptr(OsqdConfig) packs = parse_fixture("packs/osq.conf", NULL);
	g_autoptr(OsqdConfig) merge = parse_fixture("merge/osq.conf", NULL);
	g_autoptr(OsqdConfig) comments = parse_fixture("comments/osq.conf", NULL);
	g_autoptr(OsqdConfig) other = NULL;
	g_autoptr(OsqdConfig) same = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *dump = osqd_config_dump(packs);
	g_autofree gchar *hash_packs = osqd_config_hash(packs);
	g_autofree gchar *hash_merge = osqd_config_hash(merge);
	g_autofree gchar *hash_other = NULL;
	g_autofree gchar *hash_same = NULL;
	g_autofree gchar *empty = NULL;

	assert_round_trip(packs);
	assert_round_trip(merge);
	assert_round_trip(comments);
	assert_string_not_equal(hash_packs, hash_merge);
	/* file and glob packs are inlined */
	assert_non_null(strstr(dump, "\"oncall\" : \"web-team\""));
	assert_non_null(strstr(dump, "\"beta\" : {"));
	assert_null(strstr(dump, "web.json"));

	/* one changed interval changes the hash; key order in the options does not */
	other = parse_text("{\"options\": {\"a\": 1, \"b\": 2},"
	                   " \"schedule\": {\"q\": {\"query\": \"SELECT 1\", \"interval\": 61}}}",
	                   NULL, &error);
	same = parse_text("{\"options\": {\"b\": 2, \"a\": \"1\"},"
	                  " \"schedule\": {\"q\": {\"query\": \"SELECT 1\", \"interval\": 61}}}",
	                  NULL, &error);
	hash_other = osqd_config_hash(other);
	hash_same = osqd_config_hash(same);
	assert_string_equal(hash_other, hash_same);
	g_clear_pointer(&same, osqd_config_unref);
	g_clear_pointer(&hash_same, g_free);
	same = parse_text("{\"options\": {\"b\": 2, \"a\": \"1\"},"
	                  " \"schedule\": {\"q\": {\"query\": \"SELECT 1\", \"interval\": 60}}}",
	                  NULL, &error);
	hash_same = osqd_config_hash(same);
	assert_string_not_equal(hash_other, hash_same);

	g_clear_pointer(&same, osqd_config_unref);
	same = parse_text("{}", NULL, &error);
	empty = osqd_config_dump(same);
	assert_string_equal(empty, "{}");
}

/* examples/osq.conf: every table a query reads must have a spec in tables/specs/. */

typedef struct {
	GHashTable *tables;
	GPtrArray *unknown;
	guint calls;
} TableCheck;

static GHashTable *
spec_table_names(void)
{
	g_autofree gchar *directory = g_build_filename(OSQ_SOURCE_ROOT, "tables", "specs", NULL);
	g_autoptr(GDir) dir = g_dir_open(directory, 0, NULL);
	GHashTable *names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	const gchar *name;

	assert_non_null(dir);
	while ((name = g_dir_read_name(dir)) != NULL) {
		if (g_str_has_suffix(name, ".toml"))
			g_hash_table_add(names, g_strndup(name, strlen(name) - strlen(".toml")));
	}
	assert_true(g_hash_table_size(names) > 10);
	return names;
}

/* Every identifier after FROM or JOIN (outside quotes) must be a table with a spec. */
static gboolean
check_tables_cb(const gchar *sql, gpointer data, GError **error)
{
	TableCheck *check = data;
	g_autoptr(GRegex) regex = g_regex_new("\\b(?:FROM|JOIN)\\s+([A-Za-z_][A-Za-z0-9_]*)",
	                                      G_REGEX_CASELESS, 0, NULL);
	g_autoptr(GMatchInfo) match = NULL;

	check->calls++;
	g_regex_match(regex, sql, 0, &match);
	while (g_match_info_matches(match)) {
		g_autofree gchar *table = g_match_info_fetch(match, 1);
		if (!g_hash_table_contains(check->tables, table)) {
			g_set_error(error, OSQ_ERROR, OSQ_ERROR_FAILED, "no such table: %s", table);
			return FALSE;
		}
		g_match_info_next(match, NULL);
	}
	return TRUE;
}

static void
test_example(void **state)
{
	g_autofree gchar *path = g_build_filename(OSQ_SOURCE_ROOT, "examples", "osq.conf", NULL);
	TableCheck check = { spec_table_names(), NULL, 0 };
	OsqdConfigHost host = { "linux", "5.12.1", osqd_config_host_shard("osq-test-host") };
	OsqdConfigParams params = { .check_sql = check_tables_cb,
		                    .check_sql_data = &check,
		                    .host = &host };
	g_autoptr(GPtrArray) sources = NULL;
	g_autoptr(OsqdConfig) config = NULL;
	g_autoptr(GError) error = NULL;
	guint snapshots = 0;

	assert_true(osqd_config_read_filesystem(path, &sources, &error));
	config = osqd_config_parse(sources, &params, &error);
	if (config == NULL)
		fail_msg("%s", error->message);
	assert_true(config->schedule->len >= 4);
	assert_true(config->packs->len >= 2);
	assert_true(config->decorators_load->len >= 1);
	assert_non_null(option(config, "host_identifier"));
	for (guint i = 0; i < config->queries->len; i++) {
		const OsqdScheduledQuery *query = config->queries->pdata[i];
		assert_true(query->selected);
		assert_in_range(query->interval, 60, 3600);
		snapshots += query->snapshot;
	}
	assert_true(snapshots >= 1);
	assert_true(check.calls >= config->queries->len);
	/* the check itself can fail */
	assert_false(check_tables_cb("SELECT * FROM launchd", &check, &error) && error == NULL);
	g_hash_table_unref(check.tables);
	assert_round_trip(config);
}

/* What osqd passes as check_sql: prepare the statement in an engine with the built-in tables
 * (xBestIndex runs, no generator does), and refuse a second statement. */
static gboolean
prepare_sql_cb(const gchar *sql, gpointer data, GError **error)
{
	OsqdEngine *engine = data;
	const gchar *tail = NULL;
	sqlite3_stmt *stmt = osqd_engine_prepare(engine, sql, &tail, error);

	if (stmt == NULL) {
		if (error != NULL && *error == NULL)
			g_set_error(error, OSQ_ERROR, OSQ_ERROR_INVALID_ARGUMENT, "no statement");
		return FALSE;
	}
	sqlite3_finalize(stmt);
	while (tail != NULL && (g_ascii_isspace(*tail) || *tail == ';'))
		tail++;
	if (tail != NULL && *tail != '\0') {
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_INVALID_ARGUMENT,
		            "more than one statement");
		return FALSE;
	}
	return TRUE;
}

static void
test_example_prepared(void **state)
{
	g_autofree gchar *path = g_build_filename(OSQ_SOURCE_ROOT, "examples", "osq.conf", NULL);
	g_autoptr(OsqdRegistry) registry = osqd_registry_new_builtin();
	g_autoptr(GError) error = NULL;
	g_autoptr(OsqdEngine) engine = osqd_engine_new(registry, &error);
	OsqdConfigHost host = { "linux", "5.12.1", 0 };
	OsqdConfigParams params = { .check_sql = prepare_sql_cb,
		                    .check_sql_data = engine,
		                    .host = &host };
	g_autoptr(GPtrArray) sources = NULL;
	g_autoptr(OsqdConfig) config = NULL;

	assert_non_null(engine);
	assert_true(osqd_config_read_filesystem(path, &sources, &error));
	config = osqd_config_parse(sources, &params, &error);
	if (config == NULL)
		fail_msg("%s", error->message);
	/* the hook with real SQLite messages */
	assert_parse_fails("{\"schedule\": {\"foo\": {\"query\": \"SELEC * FROM processes\"}}}",
	                   &params, OSQ_ERROR_INVALID_ARGUMENT,
	                   "test.conf: schedule.foo: near \"SELEC\": syntax error");
	assert_parse_fails("{\"schedule\": {\"foo\": {\"query\": \"SELECT nope FROM processes\"}}}",
	                   &params, OSQ_ERROR_INVALID_ARGUMENT,
	                   "schedule.foo: no such column: nope");
	assert_parse_fails("{\"views\": {\"v\": \"SELECT 1; SELECT 2\"}}", &params,
	                   OSQ_ERROR_INVALID_ARGUMENT, "views.v: more than one statement");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_comments),
		cmocka_unit_test(test_merge_order),
		cmocka_unit_test(test_huge_file),
		cmocka_unit_test(test_options),
		cmocka_unit_test(test_schedule),
		cmocka_unit_test(test_packs),
		cmocka_unit_test(test_platform_version),
		cmocka_unit_test(test_shard),
		cmocka_unit_test(test_selection),
		cmocka_unit_test(test_decorators),
		cmocka_unit_test(test_file_paths),
		cmocka_unit_test(test_unknown_keys),
		cmocka_unit_test(test_type_errors),
		cmocka_unit_test(test_invalid_json),
		cmocka_unit_test(test_caps),
		cmocka_unit_test(test_check_sql),
		cmocka_unit_test(test_dump),
		cmocka_unit_test(test_example),
		cmocka_unit_test(test_example_prepared),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
