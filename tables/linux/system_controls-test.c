/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests of the sysctl configuration model (key spellings, precedence, globs) and of the
 * LIKE-prefix pruning of the /proc/sys walk, which must never drop a name LIKE would match.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "system_controls.h"

static void
test_normalize(void **state)
{
	const gchar *cases[][2] = {
		{ "kernel.sysrq", "kernel.sysrq" },
		{ "kernel/sysrq", "kernel.sysrq" },
		{ "-net.ipv4.ip_forward", "net.ipv4.ip_forward" },
		{ "net.ipv4.conf.eth0/100.rp_filter", "net.ipv4.conf.eth0.100.rp_filter" },
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree gchar *name = osqd_system_controls_normalize_key(cases[i][0]);
		assert_string_equal(name, cases[i][1]);
	}
}

static void
test_config(void **state)
{
	g_autoptr(OsqdSystemControlsConfig) config = osqd_system_controls_config_new();

	osqd_system_controls_config_parse(config, "# comment\n"
	                                          "; also a comment\n"
	                                          "vm.swappiness = 30\n"
	                                          "net.ipv4.conf.*.rp_filter = 1\n"
	                                          "net.ipv4.conf.all.rp_filter = 2\n"
	                                          "no equals sign\n"
	                                          " = no key\n"
	                                          "kernel.core_pattern = |/bin/x %p = y\n");
	osqd_system_controls_config_parse(config, "  vm.swappiness\t=\t10  \n"
	                                          "net.ipv4.conf.lo.*=3\n");
	assert_string_equal(osqd_system_controls_config_lookup(config, "vm.swappiness"), "10");
	/* explicit beats glob, whatever the order */
	assert_string_equal(
	        osqd_system_controls_config_lookup(config, "net.ipv4.conf.all.rp_filter"), "2");
	/* the last matching glob wins */
	assert_string_equal(
	        osqd_system_controls_config_lookup(config, "net.ipv4.conf.lo.rp_filter"), "3");
	assert_string_equal(
	        osqd_system_controls_config_lookup(config, "net.ipv4.conf.eth0.rp_filter"), "1");
	assert_string_equal(osqd_system_controls_config_lookup(config, "kernel.core_pattern"),
	                    "|/bin/x %p = y");
	assert_null(osqd_system_controls_config_lookup(config, "kernel.hostname"));
}

static void
test_like(void **state)
{
	/* directories */
	assert_true(osqd_system_controls_like_may_match("net.ipv4.%", "net", FALSE));
	assert_true(osqd_system_controls_like_may_match("net.ipv4.%", "net.ipv4", FALSE));
	assert_true(osqd_system_controls_like_may_match("net.ipv4.%", "net.ipv4.conf", FALSE));
	assert_false(osqd_system_controls_like_may_match("net.ipv4.%", "kernel", FALSE));
	assert_false(osqd_system_controls_like_may_match("net.ipv4.%", "net.ipv6", FALSE));
	assert_false(osqd_system_controls_like_may_match("net.%", "netfilter", FALSE));
	assert_true(osqd_system_controls_like_may_match("NET.%", "net", FALSE));
	assert_true(osqd_system_controls_like_may_match("%forward", "net", FALSE));
	assert_true(osqd_system_controls_like_may_match("n_t.%", "net", FALSE));
	assert_false(osqd_system_controls_like_may_match("n_t.%", "kernel", FALSE));
	/* leaves */
	assert_true(osqd_system_controls_like_may_match("kernel.random%",
	                                                "kernel.randomize_va_space", TRUE));
	assert_false(osqd_system_controls_like_may_match("kernel.random%", "kernel.rand", TRUE));
	assert_true(
	        osqd_system_controls_like_may_match("Kernel.Hostname", "kernel.hostname", TRUE));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normalize),
		cmocka_unit_test(test_config),
		cmocka_unit_test(test_like),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
