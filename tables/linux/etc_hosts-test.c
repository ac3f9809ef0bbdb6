/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests of the /etc/hosts line parser: aliases, comments, IPv6 with zones, and lines
 * the resolver would ignore.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "etc_hosts.h"

static void
check(const gchar *line, const gchar *address, const gchar *hostnames)
{
	g_autofree gchar *a = NULL, *h = NULL;

	assert_true(osqd_etc_hosts_parse_line(line, &a, &h));
	assert_string_equal(a, address);
	if (hostnames == NULL)
		assert_null(h);
	else
		assert_string_equal(h, hostnames);
}

static void
test_parse_line(void **state)
{
	gchar *a = NULL, *h = NULL;

	check("127.0.0.1\tlocalhost", "127.0.0.1", "localhost");
	check("  10.0.0.5   db.internal  db   # trailing", "10.0.0.5", "db.internal db");
	check("::1 ip6-localhost ip6-loopback\r", "::1", "ip6-localhost ip6-loopback");
	check("fe80::1%eth0 gw", "fe80::1%eth0", "gw");
	check("192.168.1.10 build#box", "192.168.1.10", "build");
	check("::1", "::1", NULL);

	assert_false(osqd_etc_hosts_parse_line("# 10.9.9.9 disabled", &a, &h));
	assert_false(osqd_etc_hosts_parse_line("   \t", &a, &h));
	assert_false(osqd_etc_hosts_parse_line("", &a, &h));
	assert_false(osqd_etc_hosts_parse_line("not-an-ip host", &a, &h));
	assert_false(osqd_etc_hosts_parse_line("300.1.1.1 bad", &a, &h));
	assert_false(osqd_etc_hosts_parse_line("fe80::1% empty-zone", &a, &h));
	assert_null(a);
	assert_null(h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
