/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests for the package parsers: dpkg status stanzas (continuations, garbage, truncation,
 * CRLF), Status/Version/Priority normalisation, sources.list lines, deb822 stanzas, apt's cache
 * file names, and cached Release files.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "packages.h"

static OsqdPackagesSpan
span(const gchar *text)
{
	OsqdPackagesSpan s = { text, text != NULL ? strlen(text) : 0 };
	return s;
}

static gboolean
span_equals(OsqdPackagesSpan s, const gchar *text)
{
	if (text == NULL)
		return s.data == NULL;
	return s.data != NULL && s.len == strlen(text) && memcmp(s.data, text, s.len) == 0;
}

static void
test_stanzas(void **state)
{
	const gchar *text = "\n\nPackage: a\nstatus:  install ok installed \nDescription: x\n"
	                    " continued\n .\n more\nVersion: 1.0-1\n\n  \n"
	                    "Package: b\ngarbage\n\n"
	                    " orphan continuation\nPackage: c\n\n"
	                    "Package: d\r\nVersion: 2\r\n\r\n"
	                    "Package: e\nStatus: install ok inst";
	const gchar *cursor = text, *end = text + strlen(text);
	OsqdPackagesStanza stanza;
	guint line = 1;

	(void)state;
	assert_true(osqd_packages_next_stanza(&cursor, end, &line, &stanza));
	assert_int_equal(stanza.line, 3);
	assert_false(stanza.malformed);
	assert_true(span_equals(stanza.package, "a"));
	assert_true(span_equals(stanza.status, "install ok installed"));
	assert_true(span_equals(stanza.version, "1.0-1"));
	assert_true(span_equals(stanza.source, NULL));

	assert_true(osqd_packages_next_stanza(&cursor, end, &line, &stanza));
	assert_int_equal(stanza.line, 12);
	assert_true(span_equals(stanza.package, "b"));
	assert_true(stanza.malformed);

	assert_true(osqd_packages_next_stanza(&cursor, end, &line, &stanza));
	assert_true(stanza.malformed); /* continuation before any field */
	assert_true(span_equals(stanza.package, "c"));

	assert_true(osqd_packages_next_stanza(&cursor, end, &line, &stanza));
	assert_true(span_equals(stanza.package, "d"));
	assert_true(span_equals(stanza.version, "2"));

	assert_true(osqd_packages_next_stanza(&cursor, end, &line, &stanza));
	assert_true(span_equals(stanza.package, "e"));
	assert_true(span_equals(stanza.status, "install ok inst"));
	assert_false(osqd_packages_next_stanza(&cursor, end, &line, &stanza));
	assert_ptr_equal(cursor, end);
}

static void
test_status(void **state)
{
	gchar out[64];
	OsqdPackagesState st;

	(void)state;
	assert_true(
	        osqd_packages_parse_status(span("install ok installed"), out, sizeof(out), &st));
	assert_string_equal(out, "install ok installed");
	assert_int_equal(st, OSQD_PACKAGES_STATE_INSTALLED);
	assert_true(osqd_packages_parse_status(span("Deinstall  OK\tconfig-files"), out,
	                                       sizeof(out), &st));
	assert_string_equal(out, "deinstall ok config-files");
	assert_int_equal(st, OSQD_PACKAGES_STATE_CONFIG_FILES);
	assert_true(
	        osqd_packages_parse_status(span("purge ok not-installed"), out, sizeof(out), &st));
	assert_int_equal(st, OSQD_PACKAGES_STATE_NOT_INSTALLED);
	assert_false(osqd_packages_parse_status(span("install ok inst"), out, sizeof(out), &st));
	assert_false(osqd_packages_parse_status(span("install ok installed extra"), out,
	                                        sizeof(out), &st));
	assert_false(osqd_packages_parse_status(span("install installed"), out, sizeof(out), &st));
	assert_false(osqd_packages_parse_status(span(""), out, sizeof(out), &st));
	assert_false(osqd_packages_parse_status(span(NULL), out, sizeof(out), &st));
}

static void
check_version(const gchar *value, const gchar *shown, const gchar *revision)
{
	OsqdPackagesSpan s, r;

	assert_true(osqd_packages_parse_version(span(value), &s, &r));
	assert_true(span_equals(s, shown));
	assert_true(span_equals(r, revision));
}

static void
test_version(void **state)
{
	OsqdPackagesSpan s, r;

	(void)state;
	check_version("1.2-3", "1.2-3", "3");
	check_version("1.2", "1.2", "");
	check_version("1:1.2-3", "1:1.2-3", "3");
	check_version("0:1.2-3", "1.2-3", "3");
	check_version("00:4.2", "4.2", "");
	check_version("0:1:2-3", "0:1:2-3", "3"); /* the epoch keeps a later colon unambiguous */
	check_version("2.0~rc1-0ubuntu1~22.04", "2.0~rc1-0ubuntu1~22.04", "0ubuntu1~22.04");
	check_version("1.0-a-b", "1.0-a-b", "b");
	check_version("5:", "5:", "");
	assert_false(osqd_packages_parse_version(span(""), &s, &r));
	assert_false(osqd_packages_parse_version(span(NULL), &s, &r));
}

static void
test_priority(void **state)
{
	(void)state;
	assert_true(span_equals(osqd_packages_priority_name(span("Optional")), "optional"));
	assert_true(span_equals(osqd_packages_priority_name(span("extra")), "extra"));
	assert_true(span_equals(osqd_packages_priority_name(span(NULL)), "unknown"));
	assert_true(span_equals(osqd_packages_priority_name(span("")), "unknown"));
	assert_true(span_equals(osqd_packages_priority_name(span("weird")), "weird"));
}

static void
check_line(const gchar *line, const gchar *name, const gchar *base_uri, const gchar *cache)
{
	g_autoptr(OsqdPackagesAptSource) source = osqd_packages_parse_source_line(line);

	if (name == NULL) {
		assert_null(source);
		return;
	}
	assert_non_null(source);
	assert_string_equal(source->name, name);
	assert_string_equal(source->base_uri, base_uri);
	assert_string_equal(source->cache, cache);
}

static void
test_source_lines(void **state)
{
	(void)state;
	check_line("deb http://deb.debian.org/debian bookworm main",
	           "deb.debian.org/debian bookworm", "http://deb.debian.org/debian",
	           "deb.debian.org_debian_dists_bookworm_");
	check_line("  deb\thttps://example.org/repo/// stable main # comment",
	           "example.org/repo stable", "https://example.org/repo",
	           "example.org_repo_dists_stable_");
	check_line("deb [arch=amd64 signed-by=/k.gpg] http://x.org/d sid main", "x.org/d sid",
	           "http://x.org/d", "x.org_d_dists_sid_");
	check_line("deb [trusted=yes] http://u:p@h.org:8080/a_b ./", "u:p@h.org:8080/a_b ./",
	           "http://u:p@h.org:8080/a_b", "h.org:8080_a%5fb_._");
	check_line("deb http://h.org/r sub/dir/", "h.org/r sub/dir/", "http://h.org/r",
	           "h.org_r_sub_dir_");
	check_line("deb http://h.org/r a/b", "h.org/r a/b", "http://h.org/r", "h.org_r_dists_a_b_");
	check_line("deb-src http://deb.debian.org/debian bookworm main", NULL, NULL, NULL);
	check_line("# deb http://deb.debian.org/debian bookworm main", NULL, NULL, NULL);
	check_line("deb http://deb.debian.org/debian", NULL, NULL, NULL);
	check_line("deb [arch=amd64 http://x.org/d sid", NULL, NULL, NULL);
	check_line("deb [arch=amd64] http://x.org/d", NULL, NULL, NULL);
	check_line("deb cdrom:[Debian]/ bookworm main", NULL, NULL, NULL);
	check_line("deb http:/// bookworm main", NULL, NULL, NULL);
	check_line("", NULL, NULL, NULL);
}

static void
test_deb822(void **state)
{
	g_autoptr(GPtrArray) sources =
	        g_ptr_array_new_with_free_func((GDestroyNotify)osqd_packages_apt_source_free);
	const OsqdPackagesAptSource *source;

	(void)state;
	osqd_packages_parse_deb822("# comment\n"
	                           "Types: deb deb-src\n"
	                           "URIs: http://a.org/d/ http://b.org/d\n"
	                           "Suites: s1 s2\n"
	                           "Signed-By:\n -----BEGIN PGP PUBLIC KEY BLOCK-----\n"
	                           " Suites: not-a-suite\n"
	                           "\n"
	                           "Types: deb-src\nURIs: http://c.org/d\nSuites: s\n"
	                           "\n"
	                           "Types: deb\nURIs: http://d.org/d\nSuites: s\nEnabled: no\n"
	                           "\n\n"
	                           "types: deb\nuris: http://e.org/d\n  http://f.org/d\n"
	                           "suites: s\nenabled: yes\n"
	                           "\n"
	                           "URIs: http://g.org/d\nSuites: s\n"
	                           "\n"
	                           "Types: deb\nURIs: not-a-uri\nSuites: s\n"
	                           "\n"
	                           "Types: deb\nURIs: http://h.org/d\n",
	                           sources);
	assert_int_equal(sources->len, 6);
	source = g_ptr_array_index(sources, 0);
	assert_string_equal(source->name, "a.org/d s1");
	assert_string_equal(source->base_uri, "http://a.org/d");
	assert_string_equal(source->cache, "a.org_d_dists_s1_");
	source = g_ptr_array_index(sources, 1);
	assert_string_equal(source->name, "a.org/d s2");
	source = g_ptr_array_index(sources, 3);
	assert_string_equal(source->name, "b.org/d s2");
	source = g_ptr_array_index(sources, 4);
	assert_string_equal(source->name, "e.org/d s");
	source = g_ptr_array_index(sources, 5);
	assert_string_equal(source->name, "f.org/d s");
}

static void
test_release(void **state)
{
	OsqdPackagesRelease release = { NULL };

	(void)state;
	osqd_packages_parse_release("-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\n"
	                            "Origin: Debian\nVersion: 12.5\nCodename: bookworm\n"
	                            "Date: Sat, 10 Feb 2024 09:04:32 UTC\n"
	                            "Components: main contrib\nMD5Sum:\n"
	                            " abc 12 Architectures: nope\n"
	                            "Architectures: all amd64\n"
	                            "-----BEGIN PGP SIGNATURE-----\nCodename: ignored\n",
	                            &release);
	assert_string_equal(release.origin, "Debian");
	assert_string_equal(release.version, "12.5");
	assert_string_equal(release.codename, "bookworm");
	assert_string_equal(release.components, "main contrib");
	assert_string_equal(release.architectures, "all amd64");
	osqd_packages_release_clear(&release);

	osqd_packages_parse_release("Origin:\nCodename:sid\ngarbage\n\nVersion: after-blank\n",
	                            &release);
	assert_null(release.origin);
	assert_string_equal(release.codename, "sid");
	assert_null(release.version);
	osqd_packages_release_clear(&release);

	osqd_packages_parse_release("", &release);
	assert_null(release.codename);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stanzas),      cmocka_unit_test(test_status),
		cmocka_unit_test(test_version),      cmocka_unit_test(test_priority),
		cmocka_unit_test(test_source_lines), cmocka_unit_test(test_deb822),
		cmocka_unit_test(test_release),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
