/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests of the host identity parsers: kernel command line, /proc/version, /proc/uptime,
 * os-release quoting, the old Red Hat release line, /proc/cpuinfo topology, MemTotal and the
 * host UUID helpers. Edge cases first: these files come from many kernels and distributions.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "system.h"

static void
test_cmdline(void **state)
{
	g_autofree gchar *path = NULL, *device = NULL, *arguments = NULL;

	osqd_system_parse_cmdline("BOOT_IMAGE=/vmlinuz  root=/dev/sda2\tro quiet\n", &path, &device,
	                          &arguments);
	assert_string_equal(path, "/vmlinuz");
	assert_string_equal(device, "/dev/sda2");
	assert_string_equal(arguments, "ro quiet");
	g_clear_pointer(&path, g_free);
	g_clear_pointer(&device, g_free);
	g_clear_pointer(&arguments, g_free);

	osqd_system_parse_cmdline("   \n", &path, &device, &arguments);
	assert_null(path);
	assert_null(device);
	assert_string_equal(arguments, "");
	g_clear_pointer(&arguments, g_free);

	/* a later root= wins, like the kernel's own parsing */
	osqd_system_parse_cmdline("root=/dev/a root=/dev/b rootwait", &path, &device, &arguments);
	assert_null(path);
	assert_string_equal(device, "/dev/b");
	assert_string_equal(arguments, "rootwait");
}

static void
test_proc_version(void **state)
{
	g_autofree gchar *v = osqd_system_parse_proc_version("Linux version 6.8.0-31-generic "
	                                                     "(buildd@lcy02) #31-Ubuntu SMP\n");

	assert_string_equal(v, "6.8.0-31-generic");
	assert_null(osqd_system_parse_proc_version("Linux"));
	assert_null(osqd_system_parse_proc_version("Linux kernel 6.1"));
	assert_null(osqd_system_parse_proc_version(""));
}

static void
test_uptime(void **state)
{
	gint64 s = -1;

	assert_true(osqd_system_parse_uptime("1234567.89 4567890.12\n", &s));
	assert_int_equal(s, 1234567);
	assert_true(osqd_system_parse_uptime("42", &s));
	assert_int_equal(s, 42);
	assert_false(osqd_system_parse_uptime("", &s));
	assert_false(osqd_system_parse_uptime("12345.", &s));
	assert_false(osqd_system_parse_uptime("-5.00 1.00", &s));
	assert_false(osqd_system_parse_uptime("12abc", &s));
	assert_false(osqd_system_parse_uptime("99999999999999999999999.00", &s));
}

static void
test_os_release(void **state)
{
	g_autoptr(GHashTable) v =
	        osqd_system_parse_os_release("# comment\n"
	                                     "NAME=\"Debian GNU/Linux\"\n"
	                                     "VERSION_ID='12'\n"
	                                     "PRETTY_NAME=\"say \\\"hi\\\" \\\\ \\$x\"\n"
	                                     "ID=debian\n"
	                                     "  BUILD_ID=2024.01  \n"
	                                     "BROKEN=\"open quote\n"
	                                     "not a key=1\n"
	                                     "=empty\n"
	                                     "EMPTY=\n");

	assert_string_equal(g_hash_table_lookup(v, "NAME"), "Debian GNU/Linux");
	assert_string_equal(g_hash_table_lookup(v, "VERSION_ID"), "12");
	assert_string_equal(g_hash_table_lookup(v, "PRETTY_NAME"), "say \"hi\" \\ $x");
	assert_string_equal(g_hash_table_lookup(v, "ID"), "debian");
	assert_string_equal(g_hash_table_lookup(v, "BUILD_ID"), "2024.01");
	assert_string_equal(g_hash_table_lookup(v, "EMPTY"), "");
	assert_null(g_hash_table_lookup(v, "BROKEN"));
	assert_int_equal(g_hash_table_size(v), 6);
}

static void
test_integer(void **state)
{
	gint64 n = -1;

	assert_true(osqd_system_parse_integer("04", &n));
	assert_int_equal(n, 4);
	assert_false(osqd_system_parse_integer("rolling", &n));
	assert_false(osqd_system_parse_integer("4.1", &n));
	assert_false(osqd_system_parse_integer("", &n));
	assert_false(osqd_system_parse_integer("-1", &n));
	assert_false(osqd_system_parse_integer(NULL, &n));
}

static void
test_release_line(void **state)
{
	g_autofree gchar *name = NULL, *major = NULL, *minor = NULL, *patch = NULL;

	assert_true(osqd_system_parse_release_line("CentOS Linux release 7.9.2009 (Core)", &name,
	                                           &major, &minor, &patch));
	assert_string_equal(name, "CentOS Linux");
	assert_string_equal(major, "7");
	assert_string_equal(minor, "9");
	assert_string_equal(patch, "2009");
	g_clear_pointer(&name, g_free);
	g_clear_pointer(&major, g_free);
	g_clear_pointer(&minor, g_free);
	g_clear_pointer(&patch, g_free);

	assert_true(osqd_system_parse_release_line("Red Hat Enterprise Linux Server release 6.10 "
	                                           "(Santiago)",
	                                           &name, &major, &minor, &patch));
	assert_string_equal(major, "6");
	assert_string_equal(minor, "10");
	assert_string_equal(patch, "0");
	assert_false(osqd_system_parse_release_line("Fedora release 39 (Thirty Nine)", &name,
	                                            &major, &minor, &patch));
}

static void
test_cpuinfo(void **state)
{
	OsqdSystemCpuInfo info;
	const gchar *two_sockets = "processor\t: 0\nmodel\t\t: 85\nmodel name\t:  Xeon  \n"
	                           "microcode\t: 0x5003\nphysical id\t: 0\ncore id\t\t: 0\n\n"
	                           "processor\t: 1\nphysical id\t: 0\ncore id\t\t: 0\n\n"
	                           "processor\t: 2\nphysical id\t: 1\ncore id\t\t: 0\n\n"
	                           "processor\t: 3\nphysical id\t: 1\ncore id\t\t: 1\n";

	osqd_system_parse_cpuinfo(two_sockets, &info);
	assert_int_equal(info.logical_cores, 4);
	assert_int_equal(info.physical_cores, 3);
	assert_int_equal(info.sockets, 2);
	assert_string_equal(info.brand, "Xeon");
	assert_string_equal(info.model, "85");
	assert_string_equal(info.microcode, "0x5003");
	osqd_system_cpu_info_clear(&info);

	osqd_system_parse_cpuinfo("processor\t: 0\nBogoMIPS\t: 50.00\n\nprocessor\t: 1\n", &info);
	assert_int_equal(info.logical_cores, 2);
	assert_int_equal(info.physical_cores, 0);
	assert_int_equal(info.sockets, 0);
	assert_null(info.brand);
	osqd_system_cpu_info_clear(&info);

	osqd_system_parse_cpuinfo("", &info);
	assert_int_equal(info.logical_cores, 0);
	osqd_system_cpu_info_clear(&info);
}

static void
test_meminfo(void **state)
{
	gint64 bytes = 0;

	assert_true(osqd_system_parse_meminfo_total("MemTotal:       16303540 kB\nMemFree: 1 kB\n",
	                                            &bytes));
	assert_int_equal(bytes, (gint64)16303540 * 1024);
	assert_false(osqd_system_parse_meminfo_total("MemTotal: lots kB\n", &bytes));
	assert_false(osqd_system_parse_meminfo_total("MemTotal: 12\n", &bytes));
	assert_false(osqd_system_parse_meminfo_total("XMemTotal: 12 kB\n", &bytes));
	assert_false(osqd_system_parse_meminfo_total("", &bytes));
}

static void
test_uuid(void **state)
{
	g_autofree gchar *uuid =
	        osqd_system_machine_id_to_uuid("3D1219C7C4C5404AAA1F6D2A48ADFDA4\n");

	assert_string_equal(uuid, "3d1219c7-c4c5-404a-aa1f-6d2a48adfda4");
	assert_null(osqd_system_machine_id_to_uuid("3d1219c7"));
	assert_null(osqd_system_machine_id_to_uuid("zz1219c7c4c5404aaa1f6d2a48adfda4"));
	assert_true(osqd_system_uuid_is_placeholder("03000200-0400-0500-0006-000700080009"));
	assert_true(osqd_system_uuid_is_placeholder("FFFFFFFF-ffff-FFFF-ffff-FFFFFFFFFFFF"));
	assert_false(osqd_system_uuid_is_placeholder("8a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cmdline), cmocka_unit_test(test_proc_version),
		cmocka_unit_test(test_uptime),  cmocka_unit_test(test_os_release),
		cmocka_unit_test(test_integer), cmocka_unit_test(test_release_line),
		cmocka_unit_test(test_cpuinfo), cmocka_unit_test(test_meminfo),
		cmocka_unit_test(test_uuid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
