/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests for the /proc parsers of the process tables: stat lines whose command name holds
 * spaces and parentheses, truncated and garbage input, status/io/cgroup/maps/environ quirks.
 * The generators themselves are covered by the golden cases on tests/fixtures/processes.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "processes.h"

static gboolean
parse_stat(const gchar *text, OsqdProcessesStat *stat)
{
	return osqd_processes_parse_stat(text, strlen(text), stat);
}

static void
test_stat(void **state)
{
	OsqdProcessesStat stat;

	assert_true(parse_stat("77 (a b) c) Z 42 77 77 0 -1 4227084 0 0 0 0 3 1 0 0 25 -5 2 0 "
	                       "900 0 0 18446744073709551615 0\n",
	                       &stat));
	assert_int_equal(stat.state, 'Z');
	assert_int_equal(stat.parent, 42);
	assert_int_equal(stat.pgroup, 77);
	assert_int_equal(stat.utime, 3);
	assert_int_equal(stat.stime, 1);
	assert_int_equal(stat.nice, -5);
	assert_int_equal(stat.threads, 2);
	assert_int_equal(stat.starttime, 900);

	/* exactly twenty fields after the name is enough */
	assert_true(parse_stat("1 ((sd-pam)) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19",
	                       &stat));
	assert_int_equal(stat.state, 'S');
	assert_int_equal(stat.starttime, 19);
}

static void
test_stat_malformed(void **state)
{
	OsqdProcessesStat stat;
	const gchar *bad[] = {
		"",
		"99 (broken",
		"99 (broken) S 1 two three\n",
		"1 (x) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18\n", /* one field short */
		"1 (x) S 1 2 3 4 5 6 7 8 9 10 x 12 13 14 15 16 17 18 19\n",
		"1 (x) S 1 2 3 4 5 6 7 8 9 10 99999999999999999999 12 13 14 15 16 17 18 19\n",
		"1 (x)\n S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19\n",
	};

	for (guint i = 0; i < G_N_ELEMENTS(bad); i++)
		assert_false(parse_stat(bad[i], &stat));
	/* not NUL-terminated: the length bounds the parse */
	assert_false(osqd_processes_parse_stat("1 (x) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 "
	                                       "17 18 19",
	                                       20, &stat));
}

static void
test_status(void **state)
{
	const gchar *text = "Name:\t a b) c \nUmask:\t0022\nUid:\t1000\t1001\t1002\t1003\n"
	                    "Gid:\t100\t101\t102\t103\nVmSize:\t  105000 kB\nVmRSS:\t    4000 kB\n"
	                    "Threads:\t1\n";
	OsqdProcessesStatus status;

	osqd_processes_parse_status(text, strlen(text), &status);
	assert_non_null(status.name);
	assert_int_equal(status.name_len, 6);
	assert_memory_equal(status.name, "a b) c", 6);
	assert_true(status.has_uids);
	assert_int_equal(status.uids[0], 1000);
	assert_int_equal(status.uids[1], 1001);
	assert_int_equal(status.uids[2], 1002);
	assert_true(status.has_gids);
	assert_int_equal(status.gids[1], 101);
	assert_true(status.has_vm_size);
	assert_int_equal(status.vm_size, 105000000);
	assert_true(status.has_vm_rss);
	assert_int_equal(status.vm_rss, 4000000);
}

static void
test_status_malformed(void **state)
{
	const gchar *text = "Name\tno colon\nUid:\t0\t0\t0\nGid:\t1\t2\t3\t4\t5\nVmRSS:\tlots kB\n"
	                    "VmSize:";
	OsqdProcessesStatus status;

	osqd_processes_parse_status(text, strlen(text), &status);
	assert_null(status.name);
	assert_false(status.has_uids);
	assert_false(status.has_gids);
	assert_false(status.has_vm_rss);
	assert_false(status.has_vm_size);
	osqd_processes_parse_status("", 0, &status);
	assert_null(status.name);
}

static void
test_io(void **state)
{
	const gchar *text = "rchar: 1\nread_bytes: 4096\nwrite_bytes: 8192\n"
	                    "cancelled_write_bytes: 4096\n";
	OsqdProcessesIo io;

	osqd_processes_parse_io(text, strlen(text), &io);
	assert_true(io.has_read_bytes);
	assert_int_equal(io.read_bytes, 4096);
	assert_int_equal(io.write_bytes - io.cancelled_write_bytes, 4096);
	osqd_processes_parse_io("garbage", 7, &io);
	assert_false(io.has_read_bytes);
	assert_int_equal(io.write_bytes, 0);
}

static void
test_cmdline(void **state)
{
	gchar buf[] = "/sbin/init\0splash\0\0";
	gsize len = sizeof(buf) - 1;
	gchar *result = osqd_processes_fix_cmdline(buf, &len);

	assert_int_equal(len, strlen("/sbin/init splash"));
	assert_memory_equal(result, "/sbin/init splash", len);
	len = 0;
	result = osqd_processes_fix_cmdline(buf, &len);
	assert_int_equal(len, 0);
}

static void
test_cgroup(void **state)
{
	const gchar *v1 = "12:pids:/user.slice/a:b\n0::/other\n";
	const gchar *path = NULL;
	gsize len = 0;

	assert_true(osqd_processes_parse_cgroup(v1, strlen(v1), &path, &len));
	assert_int_equal(len, strlen("/user.slice/a:b"));
	assert_memory_equal(path, "/user.slice/a:b", len);
	assert_true(osqd_processes_parse_cgroup("0::/", 4, &path, &len));
	assert_int_equal(len, 1);
	assert_false(osqd_processes_parse_cgroup("no colons\n1:a:b\n", 16, &path, &len));
	assert_false(osqd_processes_parse_cgroup("1:only one\n", 11, &path, &len));
}

static void
test_boot_time(void **state)
{
	const gchar *text = "cpu 1 2 3\nintr 5 btime 7\nbtime 1700000000\nprocesses 3\n";

	assert_int_equal(osqd_processes_parse_boot_time(text, strlen(text)), 1700000000);
	assert_int_equal(osqd_processes_parse_boot_time("cpu 1\n", 6), -1);
	assert_int_equal(osqd_processes_parse_boot_time("btime x\n", 8), -1);
}

static gboolean
parse_map(const gchar *line, OsqdProcessesMapsLine *map)
{
	return osqd_processes_parse_maps_line(line, strlen(line), map);
}

static void
test_maps(void **state)
{
	OsqdProcessesMapsLine map;

	assert_true(parse_map("7f1c2b000000-7f1c2b010000 r--p 0002a000 fe:01 999      "
	                      "  /tmp/with space/lib.so (deleted)  ",
	                      &map));
	assert_int_equal(map.start_len, 12);
	assert_memory_equal(map.start, "7f1c2b000000", 12);
	assert_memory_equal(map.end, "7f1c2b010000", 12);
	assert_memory_equal(map.permissions, "r--p", 4);
	assert_int_equal(map.offset, 0x2a000);
	assert_memory_equal(map.device, "fe:01", 5);
	assert_true(map.has_inode);
	assert_int_equal(map.inode, 999);
	assert_int_equal(map.path_len, strlen("/tmp/with space/lib.so (deleted)"));

	assert_true(parse_map("1000-2000 rw-p 00000000 00:00 0 ", &map));
	assert_null(map.path);
	assert_true(parse_map("1000-2000 rw-p zz 00:00 0 [heap]", &map));
	assert_int_equal(map.offset, -1);
	assert_memory_equal(map.path, "[heap]", 6);

	assert_false(parse_map("garbage line", &map));
	assert_false(parse_map("1000 r--p 0 fe:01 1 /x", &map));
	assert_false(parse_map("-2000 r--p 0 fe:01 1 /x", &map));
	assert_false(parse_map("", &map));
}

static void
test_env(void **state)
{
	const gchar *value = NULL;
	gsize key_len = 0, value_len = 0;

	osqd_processes_split_env("A=b=c", 5, &key_len, &value, &value_len);
	assert_int_equal(key_len, 1);
	assert_int_equal(value_len, 3);
	assert_memory_equal(value, "b=c", 3);
	osqd_processes_split_env("EMPTY=", 6, &key_len, &value, &value_len);
	assert_int_equal(key_len, 5);
	assert_non_null(value);
	assert_int_equal(value_len, 0);
	osqd_processes_split_env("NOEQUALS", 8, &key_len, &value, &value_len);
	assert_int_equal(key_len, 8);
	assert_null(value);
}

static void
test_fd_special(void **state)
{
	assert_true(osqd_processes_fd_is_special("socket:[1234]"));
	assert_true(osqd_processes_fd_is_special("pipe:[5]"));
	assert_true(osqd_processes_fd_is_special("anon_inode:[eventfd]"));
	assert_false(osqd_processes_fd_is_special("/tmp/pipe:[5]"));
	assert_false(osqd_processes_fd_is_special("/dev/null"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stat),       cmocka_unit_test(test_stat_malformed),
		cmocka_unit_test(test_status),     cmocka_unit_test(test_status_malformed),
		cmocka_unit_test(test_io),         cmocka_unit_test(test_cmdline),
		cmocka_unit_test(test_cgroup),     cmocka_unit_test(test_boot_time),
		cmocka_unit_test(test_maps),       cmocka_unit_test(test_env),
		cmocka_unit_test(test_fd_special),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
