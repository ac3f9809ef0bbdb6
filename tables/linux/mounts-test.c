/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests of the /proc/mounts line parser: octal escapes (complete, truncated, out of
 * range), blank separators, short lines, and the remote file system test.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mounts.h"

static void
test_unescape(void **state)
{
	const gchar *cases[][2] = {
		{ "/mnt/my\\040disk", "/mnt/my disk" },
		{ "a\\011b\\012c\\134d", "a\tb\nc\\d" },
		{ "/odd\\04", "/odd\\04" },   /* truncated escape stays literal */
		{ "/big\\400", "/big\\400" }, /* not a byte */
		{ "/nul\\000", "/nul\\000" }, /* no NUL inside a path */
		{ "\\", "\\" },
		{ "", "" },
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree gchar *out = osqd_mounts_unescape(cases[i][0], strlen(cases[i][0]));
		assert_string_equal(out, cases[i][1]);
	}
}

static void
test_parse_line(void **state)
{
	OsqdMountsEntry entry = { 0 };

	assert_true(osqd_mounts_parse_line("/dev/sdb1 /mnt/a\\040b ext4 rw,relatime 0 0", &entry));
	assert_string_equal(entry.device, "/dev/sdb1");
	assert_string_equal(entry.path, "/mnt/a b");
	assert_string_equal(entry.type, "ext4");
	assert_string_equal(entry.flags, "rw,relatime");
	osqd_mounts_entry_clear(&entry);

	assert_true(osqd_mounts_parse_line("  tmpfs\t/run  tmpfs\trw", &entry));
	assert_string_equal(entry.path, "/run");
	assert_string_equal(entry.flags, "rw");
	osqd_mounts_entry_clear(&entry);

	assert_false(osqd_mounts_parse_line("only three fields", &entry));
	assert_false(osqd_mounts_parse_line("", &entry));
	assert_null(entry.device);
}

static void
test_remote(void **state)
{
	assert_true(osqd_mounts_type_is_remote("nfs4"));
	assert_true(osqd_mounts_type_is_remote("autofs"));
	assert_true(osqd_mounts_type_is_remote("fuse.sshfs"));
	assert_false(osqd_mounts_type_is_remote("ext4"));
	assert_false(osqd_mounts_type_is_remote("tmpfs"));
	assert_false(osqd_mounts_type_is_remote(NULL));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unescape),
		cmocka_unit_test(test_parse_line),
		cmocka_unit_test(test_remote),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
