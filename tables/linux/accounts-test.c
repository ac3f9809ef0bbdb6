/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests for the account parsers: glibc's passwd/group line rules (what is accepted, what is
 * skipped, 32-bit truncation), member lists, and utmp record decoding including unterminated
 * text fields and short records.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "accounts.h"

static gboolean
parse_passwd(const gchar *text, OsqdAccountsPasswd *entry, gchar **storage)
{
	g_free(*storage);
	*storage = g_strdup(text);
	return osqd_accounts_parse_passwd_line(*storage, entry);
}

static void
test_passwd_line(void **state)
{
	g_autofree gchar *line = NULL;
	OsqdAccountsPasswd entry;

	(void)state;
	assert_true(parse_passwd("root:x:0:0:root:/root:/bin/bash", &entry, &line));
	assert_string_equal(entry.name, "root");
	assert_int_equal(entry.uid, 0);
	assert_int_equal(entry.gid, 0);
	assert_string_equal(entry.gecos, "root");
	assert_string_equal(entry.directory, "/root");
	assert_string_equal(entry.shell, "/bin/bash");

	/* leading blanks skipped; missing trailing fields are empty; colons stay in the shell */
	assert_true(parse_passwd("  eve:x:7:8", &entry, &line));
	assert_string_equal(entry.name, "eve");
	assert_int_equal(entry.uid, 7);
	assert_int_equal(entry.gid, 8);
	assert_string_equal(entry.gecos, "");
	assert_string_equal(entry.directory, "");
	assert_string_equal(entry.shell, "");
	assert_true(parse_passwd("a:x:1:1:g:/h:/bin/sh:extra", &entry, &line));
	assert_string_equal(entry.shell, "/bin/sh:extra");

	/* ids are strtoul() truncated to 32 bits, as uid_t */
	assert_true(parse_passwd("n:x:4294967294:4294967296:::", &entry, &line));
	assert_int_equal(entry.uid, 4294967294u);
	assert_int_equal(entry.gid, 0);

	/* rejected */
	assert_false(parse_passwd("", &entry, &line));
	assert_false(parse_passwd("   ", &entry, &line));
	assert_false(parse_passwd("# comment", &entry, &line));
	assert_false(parse_passwd("x:x::1:::", &entry, &line));
	assert_false(parse_passwd("x:x:1", &entry, &line));
	assert_false(parse_passwd("x:x:abc:1:::", &entry, &line));
	assert_false(parse_passwd("x:x:12z:1:::", &entry, &line));
	assert_false(parse_passwd("+::::::", &entry, &line));
	assert_false(parse_passwd("-bob::::::", &entry, &line));
	assert_false(parse_passwd(":x:1:1:::", &entry, &line));
	assert_false(parse_passwd("no colons at all", &entry, &line));
}

static void
test_passwd_file(void **state)
{
	static const gchar data[] = "root:x:0:0::/root:/bin/sh\n"
	                            "\n"
	                            "# comment\n"
	                            "bad:x:\n"
	                            "nul:x:5:5\0ignored:after:nul\n"
	                            "last:x:9:9::/home/last:/bin/sh";
	/* sizeof includes the final NUL, which the parser may rely on, as osqd_read_file adds it */
	g_autofree gchar *text = g_memdup2(data, sizeof(data));
	guint n_malformed = 99;
	g_autoptr(GArray) entries =
	        osqd_accounts_parse_passwd(text, sizeof(data) - 1, &n_malformed);

	(void)state;
	assert_int_equal(entries->len, 3);
	assert_int_equal(n_malformed, 1);
	assert_string_equal(g_array_index(entries, OsqdAccountsPasswd, 0).name, "root");
	assert_string_equal(g_array_index(entries, OsqdAccountsPasswd, 1).name, "nul");
	assert_string_equal(g_array_index(entries, OsqdAccountsPasswd, 1).shell, "");
	assert_string_equal(g_array_index(entries, OsqdAccountsPasswd, 2).name, "last");
	assert_string_equal(g_array_index(entries, OsqdAccountsPasswd, 2).shell, "/bin/sh");
}

static void
test_group_members(void **state)
{
	g_autofree gchar *text = g_strdup("audio:x:29:bob, carol ,alice\n"
	                                  "users:x:100\n"
	                                  "docker:x:999:carol,,bob\n"
	                                  "broken:x:nan:alice\n"
	                                  "again:x:29:alice\n");
	guint n_malformed = 0;
	g_autoptr(GArray) groups = osqd_accounts_parse_group(text, strlen(text), &n_malformed);
	g_autoptr(GHashTable) index = NULL;
	g_autoptr(GHashTable) wanted = NULL;
	GArray *gids;

	(void)state;
	assert_int_equal(groups->len, 4);
	assert_int_equal(n_malformed, 1);
	assert_string_equal(g_array_index(groups, OsqdAccountsGroup, 1).name, "users");
	assert_int_equal(g_array_index(groups, OsqdAccountsGroup, 1).gid, 100);
	assert_string_equal(g_array_index(groups, OsqdAccountsGroup, 1).members, "");

	index = osqd_accounts_index_members(groups, NULL);
	gids = g_hash_table_lookup(index, "alice");
	assert_non_null(gids);
	assert_int_equal(gids->len, 2); /* audio, again: dedup is user_groups' job */
	assert_int_equal(g_array_index(gids, guint32, 0), 29);
	gids = g_hash_table_lookup(index, "bob");
	assert_int_equal(gids->len, 2);
	assert_int_equal(g_array_index(gids, guint32, 1), 999);
	/* "carol " keeps its trailing blank (glibc), so carol is only in docker */
	gids = g_hash_table_lookup(index, "carol");
	assert_int_equal(gids->len, 1);
	assert_int_equal(g_array_index(gids, guint32, 0), 999);
	assert_null(g_hash_table_lookup(index, ""));

	/* only the wanted names */
	g_hash_table_unref(index);
	wanted = g_hash_table_new(g_str_hash, g_str_equal);
	g_hash_table_add(wanted, (gpointer) "bob");
	index = osqd_accounts_index_members(groups, wanted);
	assert_int_equal(g_hash_table_size(index), 1);
	gids = g_hash_table_lookup(index, "bob");
	assert_int_equal(gids->len, 2);
}

static void
put_utmp(guint8 *record, gint16 type, gint32 pid, const gchar *line, const gchar *user,
         const gchar *host, gint32 seconds)
{
	memset(record, 0, OSQD_ACCOUNTS_UTMP_RECORD_SIZE);
	memcpy(record, &type, sizeof(type));
	memcpy(record + 4, &pid, sizeof(pid));
	memcpy(record + 8, line, MIN(strlen(line), 32));
	memcpy(record + 44, user, MIN(strlen(user), 32));
	memcpy(record + 76, host, MIN(strlen(host), 256));
	memcpy(record + 340, &seconds, sizeof(seconds));
}

static void
test_utmp(void **state)
{
	guint8 record[OSQD_ACCOUNTS_UTMP_RECORD_SIZE];
	g_autofree gchar *long_host = g_strnfill(300, 'h');
	OsqdAccountsUtmp out;

	(void)state;
	put_utmp(record, 7, 1234, "pts/0", "alice", "192.0.2.1", 1700000000);
	assert_true(osqd_accounts_parse_utmp(record, sizeof(record), &out));
	assert_int_equal(out.type, 7);
	assert_int_equal(out.pid, 1234);
	assert_int_equal(out.time, 1700000000);
	assert_string_equal(out.line, "pts/0");
	assert_string_equal(out.user, "alice");
	assert_string_equal(out.host, "192.0.2.1");

	/* fields filled to the last byte are not NUL-terminated on disk */
	put_utmp(record, 8, -1, "0123456789012345678901234567890123",
	         "uuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuu", long_host, -5);
	assert_true(osqd_accounts_parse_utmp(record, sizeof(record), &out));
	assert_int_equal(strlen(out.line), 32);
	assert_int_equal(strlen(out.user), 32);
	assert_int_equal(strlen(out.host), 256);
	assert_int_equal(out.pid, -1);
	assert_int_equal(out.time, -5);

	assert_false(osqd_accounts_parse_utmp(record, sizeof(record) - 1, &out));
	assert_false(osqd_accounts_parse_utmp(record, 0, &out));
}

static void
test_type_names(void **state)
{
	(void)state;
	assert_string_equal(osqd_accounts_login_type_name(7), "user");
	assert_string_equal(osqd_accounts_login_type_name(2), "boot_time");
	assert_string_equal(osqd_accounts_login_type_name(1), "runlevel");
	assert_string_equal(osqd_accounts_login_type_name(10), "unknown");
	assert_string_equal(osqd_accounts_last_type_name(7), "user-process");
	assert_string_equal(osqd_accounts_last_type_name(8), "dead-process");
	assert_string_equal(osqd_accounts_last_type_name(-3), "");
}

static void
test_int_in(void **state)
{
	g_autoptr(GArray) values = g_array_new(FALSE, FALSE, sizeof(gint64));
	gint64 v[] = { -4, 0, 7, 1000, 4294967294 };

	(void)state;
	assert_false(osqd_accounts_int_in(values, 0));
	g_array_append_vals(values, v, G_N_ELEMENTS(v));
	for (guint i = 0; i < G_N_ELEMENTS(v); i++)
		assert_true(osqd_accounts_int_in(values, v[i]));
	assert_false(osqd_accounts_int_in(values, 1));
	assert_false(osqd_accounts_int_in(values, -5));
	assert_false(osqd_accounts_int_in(values, 4294967295));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_passwd_line),   cmocka_unit_test(test_passwd_file),
		cmocka_unit_test(test_group_members), cmocka_unit_test(test_utmp),
		cmocka_unit_test(test_type_names),    cmocka_unit_test(test_int_in),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
