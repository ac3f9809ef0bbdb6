/* SPDX-License-Identifier: Apache-2.0
 *
 * Tests of the file tables: the pure matchers and formatters, then the tables themselves on a
 * temporary root built at run time, because git cannot store what they are about (setuid and
 * setgid bits, owners, files large enough to take several read chunks, a pattern that expands
 * past the path cap).
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

#include "files.h"
#include "osqd-engine-testing.h"

/* ---- pure helpers ---- */

static gboolean
like(const gchar *pattern, const gchar *name)
{
	return osqd_files_like_match(pattern, strlen(pattern), name);
}

static void
test_like_match(void **state)
{
	assert_true(like("%", "anything"));
	assert_true(like("%", ""));
	assert_true(like("%%", "x"));
	assert_true(like("a%", "a"));
	assert_true(like("a%c", "abbbc"));
	assert_false(like("a%c", "abbbd"));
	assert_true(like("%.txt", "a.txt"));
	assert_false(like("%.txt", "a.txt.bak"));
	assert_true(like("%a%a%a%b", "aaaaaaab"));
	assert_false(like("%a%a%a%b", "aaaaaaaa"));
	/* '_' is one character, multi-byte ones included */
	assert_true(like("a_c", "abc"));
	assert_true(like("a_c", "a\xc3\xa9"
	                        "c"));
	assert_false(like("a_c", "ac"));
	assert_false(like("a_c", "abbc"));
	/* ASCII letters ignore case, as SQLite's LIKE does */
	assert_true(like("UPPER.txt", "upper.TXT"));
	assert_false(like("\xc3\x89", "\xc3\xa9"));
	assert_true(like("", ""));
	assert_false(like("", "a"));
	assert_false(like("a", ""));
	/* a length-limited pattern: only the first component counts */
	assert_true(osqd_files_like_match("ab/cd", 2, "AB"));
	assert_true(osqd_files_like_has_wildcard("a_b", 3));
	assert_true(osqd_files_like_has_wildcard("%", 1));
	assert_false(osqd_files_like_has_wildcard("abc", 3));
}

static void
test_glob_match(void **state)
{
	assert_true(osqd_files_glob_match("/data/*.txt", "/data/a.txt", FALSE));
	assert_true(osqd_files_glob_match("/data/*.txt", "/data/sub/c.txt", FALSE));
	assert_false(osqd_files_glob_match("/data/*.txt", "/data/a.TXT", FALSE));
	assert_true(osqd_files_glob_match("/data/?.txt", "/data/\xc3\xa9.txt", FALSE));
	assert_true(osqd_files_glob_match("/data/[ab].txt", "/data/b.txt", FALSE));
	assert_false(osqd_files_glob_match("/data/[ab].txt", "/data/c.txt", FALSE));
	assert_true(osqd_files_glob_match("/data/[^ab].txt", "/data/c.txt", FALSE));
	assert_true(osqd_files_glob_match("/data/[a-c]", "/data/b", FALSE));
	assert_false(osqd_files_glob_match("/data/[a-c]", "/data/d", FALSE));
	assert_true(osqd_files_glob_match("[]]", "]", FALSE));
	assert_true(osqd_files_glob_match("[a-]", "-", FALSE));
	assert_false(osqd_files_glob_match("/data/[ab", "/data/a", FALSE));
	assert_true(osqd_files_glob_match("*", "", FALSE));
	assert_false(osqd_files_glob_match("?", "", FALSE));
	assert_true(osqd_files_glob_match("a*b*c", "aXbYbZc", FALSE));
	assert_false(osqd_files_glob_match("a*b*c", "aXbYbZ", FALSE));
	/* prefix mode: could something below this directory match? */
	assert_true(osqd_files_glob_match("/data/sub/*.txt", "/data/", TRUE));
	assert_true(osqd_files_glob_match("/data/sub/*.txt", "/data/sub/deeper/", TRUE));
	assert_false(osqd_files_glob_match("/data/sub/*.txt", "/etc/", TRUE));
	assert_false(osqd_files_glob_match("/data/[ab]/x", "/data/c/", TRUE));
	assert_true(osqd_files_glob_match("/data/[ab]/x", "/data/a/", TRUE));
}

static void
test_formatters(void **state)
{
	gchar mode[8];
	g_autofree gchar *b1 = osqd_files_basename("/etc/passwd");
	g_autofree gchar *b2 = osqd_files_basename("/etc/");
	g_autofree gchar *b3 = osqd_files_basename("/");
	g_autofree gchar *b4 = osqd_files_basename("//");
	g_autofree gchar *d1 = osqd_files_dirname("/etc/passwd");
	g_autofree gchar *d2 = osqd_files_dirname("/etc/");
	g_autofree gchar *d3 = osqd_files_dirname("/");
	g_autofree gchar *d4 = osqd_files_dirname("/a//b");
	g_autofree gchar *d5 = osqd_files_dirname("relative");

	osqd_files_mode_string(S_IFREG | 0644, mode);
	assert_string_equal(mode, "0644");
	osqd_files_mode_string(S_IFREG | 04755, mode);
	assert_string_equal(mode, "4755");
	osqd_files_mode_string(S_IFDIR | 01777, mode);
	assert_string_equal(mode, "1777");
	assert_string_equal(osqd_files_type_name(S_IFREG), "regular");
	assert_string_equal(osqd_files_type_name(S_IFDIR), "directory");
	assert_string_equal(osqd_files_type_name(S_IFLNK), "symlink");
	assert_string_equal(osqd_files_type_name(S_IFCHR), "character");
	assert_string_equal(osqd_files_type_name(S_IFBLK), "block");
	assert_string_equal(osqd_files_type_name(S_IFIFO), "fifo");
	assert_string_equal(osqd_files_type_name(S_IFSOCK), "socket");
	assert_string_equal(osqd_files_type_name(0), "unknown");
	assert_string_equal(osqd_files_suid_permissions(04755), "S");
	assert_string_equal(osqd_files_suid_permissions(02755), "G");
	assert_string_equal(osqd_files_suid_permissions(06755), "SG");
	assert_string_equal(osqd_files_suid_permissions(0755), "");
	assert_string_equal(b1, "passwd");
	assert_string_equal(b2, "etc");
	assert_string_equal(b3, "/");
	assert_string_equal(b4, "/");
	assert_string_equal(d1, "/etc");
	assert_string_equal(d2, "/");
	assert_string_equal(d3, "/");
	assert_string_equal(d4, "/a");
	assert_string_equal(d5, ".");
}

/* ---- the tables on a temporary root ---- */

static void
remove_tree(const gchar *path)
{
	GStatBuf info;

	if (g_lstat(path, &info) != 0)
		return;
	if (S_ISDIR(info.st_mode)) {
		g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
		const gchar *name;
		(void)chmod(path, 0700);
		while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
			g_autofree gchar *child = g_build_filename(path, name, NULL);
			remove_tree(child);
		}
	}
	(void)g_remove(path);
}

static void
write_file(const gchar *root, const gchar *path, const gchar *contents, gssize len, guint mode)
{
	g_autofree gchar *full = g_build_filename(root, path, NULL);
	g_autofree gchar *parent = g_path_get_dirname(full);
	g_autoptr(GError) error = NULL;

	assert_int_equal(g_mkdir_with_parents(parent, 0755), 0);
	assert_true(g_file_set_contents(full, contents, len, &error));
	/* chmod, not the create mode, so the umask cannot drop setuid/setgid bits */
	assert_int_equal(chmod(full, mode), 0);
}

static void
make_link(const gchar *root, const gchar *path, const gchar *target)
{
	g_autofree gchar *full = g_build_filename(root, path, NULL);
	g_autofree gchar *parent = g_path_get_dirname(full);

	assert_int_equal(g_mkdir_with_parents(parent, 0755), 0);
	assert_int_equal(symlink(target, full), 0);
}

typedef struct {
	gchar *root;
	OsqdEngine *engine;
} Fixture;

static int
fixture_setup(void **state)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(OsqdRegistry) registry = osqd_registry_new_builtin();
	Fixture *fixture = g_new0(Fixture, 1);

	fixture->root = g_dir_make_tmp("osq-files-test-XXXXXX", &error);
	assert_non_null(fixture->root);
	fixture->engine = osqd_engine_new(registry, &error);
	assert_non_null(fixture->engine);
	osqd_engine_set_root(fixture->engine, fixture->root);
	*state = fixture;
	return 0;
}

static int
fixture_teardown(void **state)
{
	Fixture *fixture = *state;

	remove_tree(fixture->root);
	osqd_engine_free(fixture->engine);
	g_free(fixture->root);
	g_free(fixture);
	return 0;
}

static void
assert_rows(OsqdEngine *engine, const gchar *sql, const gchar *expected)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *rows = osqd_engine_testing_run(engine, sql, &error);

	if (rows == NULL)
		fail_msg("%s: %s", sql, error->message);
	if (g_strcmp0(rows, expected) != 0)
		fail_msg("%s:\nexpected:\n%s\ngot:\n%s", sql, expected, rows);
}

static void
assert_error(OsqdEngine *engine, const gchar *sql, gint code)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *rows = osqd_engine_testing_run(engine, sql, &error);

	if (rows != NULL)
		fail_msg("%s: expected error %d, got rows '%s'", sql, code, rows);
	if (!g_error_matches(error, OSQ_ERROR, code))
		fail_msg("%s: expected error %d, got %d: %s", sql, code, error->code,
		         error->message);
}

static gboolean
set_owner(const gchar *root, const gchar *path, guint uid, guint gid)
{
	g_autofree gchar *full = g_build_filename(root, path, NULL);
	struct stat info;

	/* chown clears setuid/setgid: put the mode back afterwards */
	if (stat(full, &info) != 0 || lchown(full, uid, gid) != 0)
		return FALSE;
	return chmod(full, info.st_mode & 07777) == 0;
}

static void
test_suid_bin(void **state)
{
	Fixture *fixture = *state;
	const gchar *root = fixture->root;
	g_autofree gchar *expected = NULL;
	g_autofree gchar *passwd = NULL;
	gboolean owners;

	write_file(root, "etc/passwd", "root:x:0:0::/root:/bin/sh\nalice:x:1000:1000::/:/bin/sh\n",
	           -1, 0644);
	write_file(root, "etc/group", "root:x:0:\nstaff:x:50:alice\n", -1, 0644);
	write_file(root, "usr/bin/su", "#!/bin/sh\n", -1, 04755);
	write_file(root, "usr/bin/wall", "#!/bin/sh\n", -1, 02755);
	write_file(root, "usr/bin/both", "#!/bin/sh\n", -1, 06755);
	write_file(root, "usr/bin/plain", "#!/bin/sh\n", -1, 0755);
	write_file(root, "usr/bin/nested/deep/helper", "#!/bin/sh\n", -1, 04711);
	write_file(root, "usr/local/sbin/tool", "", 0, 02700);
	write_file(root, "tmp/dropped", "", 0, 04777);
	write_file(root, "opt/elsewhere", "", 0, 04755); /* not a searched directory */
	write_file(root, "srv/linked/hidden", "", 0, 04755);
	/* a link to a setuid file is reported under the link's name; a link to a directory is not
	 * entered; an absolute link resolves inside the root */
	make_link(root, "usr/sbin/su-link", "/usr/bin/su");
	make_link(root, "usr/sbin/linked-dir", "/srv/linked");
	make_link(root, "usr/sbin/dangling", "/nowhere");
	/* merged /usr: /bin is a link, and its files show up under both names */
	make_link(root, "bin", "usr/bin");
	make_link(root, "sbin", "/usr/sbin");

	owners = set_owner(root, "usr/bin/su", 1000, 50) &&
	         set_owner(root, "usr/bin/wall", 4242, 4343) &&
	         set_owner(root, "usr/bin/both", 0, 0) &&
	         set_owner(root, "usr/bin/nested/deep/helper", 0, 0) &&
	         set_owner(root, "usr/local/sbin/tool", 0, 50) &&
	         set_owner(root, "tmp/dropped", 1000, 1000);
	if (!owners) {
		/* unprivileged: owners stay ours; only check paths and permissions */
		assert_rows(fixture->engine, "SELECT path, permissions FROM suid_bin ORDER BY path",
		            "/bin/both|SG\n/bin/nested/deep/helper|S\n/bin/su|S\n/bin/wall|G\n"
		            "/sbin/su-link|S\n/tmp/dropped|S\n/usr/bin/both|SG\n"
		            "/usr/bin/nested/deep/helper|S\n/usr/bin/su|S\n/usr/bin/wall|G\n"
		            "/usr/local/sbin/tool|G\n/usr/sbin/su-link|S\n");
		return;
	}
	expected = g_strdup("/bin/both|root|root|SG\n"
	                    "/bin/nested/deep/helper|root|root|S\n"
	                    "/bin/su|alice|staff|S\n"
	                    "/bin/wall|4242|4343|G\n"
	                    "/sbin/su-link|alice|staff|S\n"
	                    "/tmp/dropped|alice|1000|S\n"
	                    "/usr/bin/both|root|root|SG\n"
	                    "/usr/bin/nested/deep/helper|root|root|S\n"
	                    "/usr/bin/su|alice|staff|S\n"
	                    "/usr/bin/wall|4242|4343|G\n"
	                    "/usr/local/sbin/tool|root|staff|G\n"
	                    "/usr/sbin/su-link|alice|staff|S\n");
	assert_rows(fixture->engine, "SELECT * FROM suid_bin ORDER BY path", expected);

	/* path = X looks only at X, and only where the walk would have found it */
	assert_rows(fixture->engine,
	            "SELECT path, username FROM suid_bin WHERE path IN ('/usr/bin/su', "
	            "'/bin/su', '/usr/bin/plain', '/opt/elsewhere', '/usr/sbin/linked-dir/hidden', "
	            "'/usr/bin/../bin/su', '/usr/bin//su', '/usr/bin/nested/deep/helper') "
	            "ORDER BY path",
	            "/bin/su|alice\n/usr/bin/nested/deep/helper|root\n/usr/bin/su|alice\n");
	assert_rows(fixture->engine, "SELECT count(*) FROM suid_bin WHERE path = '/nowhere'",
	            "0\n");
	/* without passwd/group files every owner is a number */
	passwd = g_build_filename(root, "etc/passwd", NULL);
	assert_int_equal(g_remove(passwd), 0);
	g_free(passwd);
	passwd = g_build_filename(root, "etc/group", NULL);
	assert_int_equal(g_remove(passwd), 0);
	assert_rows(fixture->engine,
	            "SELECT username, groupname FROM suid_bin WHERE path = '/usr/bin/su'",
	            "1000|50\n");
}

static void
test_file_stat(void **state)
{
	Fixture *fixture = *state;
	const gchar *root = fixture->root;
	g_autofree gchar *full = g_build_filename(root, "data/setuid", NULL);
	g_autofree gchar *fifo = g_build_filename(root, "data/fifo", NULL);
	g_autofree gchar *expected = NULL;
	struct stat info;

	write_file(root, "data/setuid", "abc", 3, 04750);
	make_link(root, "data/link", "setuid");
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_int_equal(stat(full, &info), 0);
	expected = g_strdup_printf("%llu|%u|%u|4750|0|3|%lld|%lld|%lld|1\n",
	                           (unsigned long long)info.st_ino, (guint)info.st_uid,
	                           (guint)info.st_gid, (long long)info.st_atime,
	                           (long long)info.st_mtime, (long long)info.st_ctime);
	assert_rows(fixture->engine,
	            "SELECT inode, uid, gid, mode, device, size, atime, mtime, ctime, hard_links "
	            "FROM file WHERE path = '/data/setuid'",
	            expected);
	assert_rows(fixture->engine,
	            "SELECT path, type, mode, symlink FROM file WHERE directory = '/data'",
	            "/data/fifo|fifo|0600|0\n/data/link|regular|4750|1\n"
	            "/data/setuid|regular|4750|0\n");
	/* the hash table does not open a FIFO (it would block) */
	assert_rows(fixture->engine, "SELECT path FROM hash WHERE directory = '/data'",
	            "/data/link\n/data/setuid\n");
}

static void
test_hash_chunks(void **state)
{
	Fixture *fixture = *state;
	const gsize size = 3 * 64 * 1024 + 12345;
	g_autofree guchar *data = g_malloc(size);
	g_autofree gchar *md5 = NULL;
	g_autofree gchar *sha1 = NULL;
	g_autofree gchar *sha256 = NULL;
	g_autofree gchar *expected = NULL;

	for (gsize i = 0; i < size; i++)
		data[i] = (guchar)(i * 7 + i / 251);
	write_file(fixture->root, "big/blob", (const gchar *)data, (gssize)size, 0644);
	md5 = g_compute_checksum_for_data(G_CHECKSUM_MD5, data, size);
	sha1 = g_compute_checksum_for_data(G_CHECKSUM_SHA1, data, size);
	sha256 = g_compute_checksum_for_data(G_CHECKSUM_SHA256, data, size);
	expected = g_strdup_printf("%s|%s|%s\n", md5, sha1, sha256);
	assert_rows(fixture->engine, "SELECT md5, sha1, sha256 FROM hash WHERE path = '/big/blob'",
	            expected);
	/* a digest alone is the same digest */
	g_free(expected);
	expected = g_strdup_printf("%s\n", sha256);
	assert_rows(fixture->engine, "SELECT sha256 FROM hash WHERE path LIKE '/big/%'", expected);
}

static void
test_hash_unreadable(void **state)
{
	Fixture *fixture = *state;

	if (geteuid() == 0)
		skip(); /* root reads everything */
	write_file(fixture->root, "secret", "x", 1, 0000);
	assert_rows(fixture->engine, "SELECT path, md5 FROM hash WHERE path = '/secret'",
	            "/secret|NULL\n");
}

static void
test_expansion_cap(void **state)
{
	Fixture *fixture = *state;

	/* 50 links to the directory itself: '/loop/%/%/%' names 50^3 = 125,000 paths */
	for (guint i = 0; i < 50; i++) {
		g_autofree gchar *name = g_strdup_printf("loop/l%02u", i);
		make_link(fixture->root, name, ".");
	}
	assert_rows(fixture->engine, "SELECT count(*) FROM file WHERE path LIKE '/loop/%/%'",
	            "2500\n");
	assert_error(fixture->engine, "SELECT count(*) FROM file WHERE path LIKE '/loop/%/%/%'",
	             OSQ_ERROR_LIMIT);
	assert_error(fixture->engine, "SELECT count(*) FROM hash WHERE path LIKE '/loop/%/%/%'",
	             OSQ_ERROR_LIMIT);
	/* '%%' does not follow the links, so it stays small */
	assert_rows(fixture->engine, "SELECT count(*) FROM file WHERE path LIKE '/loop/%%'",
	            "50\n");
	/* a deadline stops an expansion in the middle */
	osqd_engine_set_timeout(fixture->engine, 1);
	assert_error(fixture->engine, "SELECT count(*) FROM file WHERE path LIKE '/loop/%/%/%/%/%'",
	             OSQ_ERROR_TIMED_OUT);
}

static void
test_deep_recursion(void **state)
{
	Fixture *fixture = *state;
	g_autoptr(GString) path = g_string_new("deep");

	/* '%%' stops 64 levels down */
	for (guint i = 0; i < 70; i++)
		g_string_append(path, "/d");
	g_string_append(path, "/leaf");
	write_file(fixture->root, path->str, "", 0, 0644);
	assert_rows(fixture->engine, "SELECT count(*) FROM file WHERE path LIKE '/deep/%%'",
	            "64\n");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_like_match),
		cmocka_unit_test(test_glob_match),
		cmocka_unit_test(test_formatters),
		cmocka_unit_test_setup_teardown(test_suid_bin, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_file_stat, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_hash_chunks, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_hash_unreadable, fixture_setup,
		                                fixture_teardown),
		cmocka_unit_test_setup_teardown(test_expansion_cap, fixture_setup,
		                                fixture_teardown),
		cmocka_unit_test_setup_teardown(test_deep_recursion, fixture_setup,
		                                fixture_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
