/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests of the /proc/modules line parser: dependency lists, taint flags, short and
 * non-numeric lines.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "kernel_modules.h"

static void
test_parse_line(void **state)
{
	OsqdKernelModule m = { 0 };

	assert_true(osqd_kernel_modules_parse_line(
	        "nf_tables 344064 4 nft_chain_nat,nft_compat, Live 0xffffffffc0a8e000", &m));
	assert_string_equal(m.name, "nf_tables");
	assert_int_equal(m.size, 344064);
	assert_string_equal(m.used_by, "nft_chain_nat,nft_compat");
	assert_string_equal(m.status, "Live");
	assert_string_equal(m.address, "0xffffffffc0a8e000");
	osqd_kernel_modules_clear(&m);

	assert_true(osqd_kernel_modules_parse_line(
	        "vboxdrv 696320 0 - Live 0x0000000000000000 (OE)", &m));
	assert_string_equal(m.used_by, "-");
	assert_string_equal(m.address, "0x0000000000000000");
	osqd_kernel_modules_clear(&m);

	assert_false(osqd_kernel_modules_parse_line("short line only", &m));
	assert_false(osqd_kernel_modules_parse_line("bad notanumber 0 - Live 0x0", &m));
	assert_false(osqd_kernel_modules_parse_line("neg -5 0 - Live 0x0", &m));
	assert_false(osqd_kernel_modules_parse_line("big 99999999999999999999 0 - Live 0x0", &m));
	assert_false(osqd_kernel_modules_parse_line("", &m));
	assert_null(m.name);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
