/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests for the device helpers: usb.ids / pci.ids lookups (comments, truncated and nameless
 * entries, the class section), udev's string clean-up, and the uevent / id / class parsers.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "devices.h"

static const gchar ids_text[] = "# comment\n"
                                "0010  Allied\n"
                                "8086  Intel Corporation\n"
                                "\t1237  440FX\n"
                                "\t\t1af4 1100  Qemu virtual machine\n"
                                "\t\t1af4 1101\n"
                                "# a comment inside\n"
                                "\n"
                                "\t7000\n"
                                "\t7000  PIIX3 ISA\n"
                                "8086  Duplicate Intel\n"
                                "abcd  Last Vendor   \r\n"
                                "\tbeef  Trailing\n"
                                "C 06  Bridge\n"
                                "\t00  Host bridge\n"
                                "\t01  ISA bridge\n"
                                "C 0c  Serial bus controller\n"
                                "\t03  USB controller\n"
                                "\t\t30  XHCI\n"
                                "ab";

static gboolean
name_is(gboolean found, const gchar *name, gsize len, const gchar *expected)
{
	return found && len == strlen(expected) && memcmp(name, expected, len) == 0;
}

static void
test_ids(void **state)
{
	g_autoptr(OsqdDevicesIds) ids =
	        osqd_devices_ids_new(g_strdup(ids_text), sizeof(ids_text) - 1);
	const gchar *name = NULL;
	gsize len = 0;
	gboolean found;

	(void)state;
	found = osqd_devices_ids_vendor(ids, 0x8086, &name, &len);
	assert_true(name_is(found, name, len, "Intel Corporation"));
	found = osqd_devices_ids_vendor(ids, 0x0010, &name, &len);
	assert_true(name_is(found, name, len, "Allied"));
	found = osqd_devices_ids_vendor(ids, 0xabcd, &name, &len);
	assert_true(name_is(found, name, len, "Last Vendor"));
	assert_false(osqd_devices_ids_vendor(ids, 0x1234, &name, &len));
	found = osqd_devices_ids_device(ids, 0x8086, 0x1237, &name, &len);
	assert_true(name_is(found, name, len, "440FX"));
	found = osqd_devices_ids_device(ids, 0x8086, 0x7000, &name, &len);
	assert_true(name_is(found, name, len, "PIIX3 ISA"));
	found = osqd_devices_ids_device(ids, 0xabcd, 0xbeef, &name, &len);
	assert_true(name_is(found, name, len, "Trailing"));
	assert_false(osqd_devices_ids_device(ids, 0x0010, 0x1237, &name, &len));
	assert_false(osqd_devices_ids_device(ids, 0x8086, 0xbeef, &name, &len));
	found = osqd_devices_ids_subsystem(ids, 0x8086, 0x1237, 0x1af4, 0x1100, &name, &len);
	assert_true(name_is(found, name, len, "Qemu virtual machine"));
	assert_false(osqd_devices_ids_subsystem(ids, 0x8086, 0x1237, 0x1af4, 0x1101, &name, &len));
	assert_false(osqd_devices_ids_subsystem(ids, 0x8086, 0x7000, 0x1af4, 0x1100, &name, &len));
	found = osqd_devices_ids_class(ids, 0x06, &name, &len);
	assert_true(name_is(found, name, len, "Bridge"));
	found = osqd_devices_ids_subclass(ids, 0x06, 0x01, &name, &len);
	assert_true(name_is(found, name, len, "ISA bridge"));
	found = osqd_devices_ids_subclass(ids, 0x0c, 0x03, &name, &len);
	assert_true(name_is(found, name, len, "USB controller"));
	assert_false(osqd_devices_ids_subclass(ids, 0x0c, 0x30, &name, &len));
	assert_false(osqd_devices_ids_class(ids, 0x03, &name, &len));
}

static void
test_ids_empty(void **state)
{
	g_autoptr(OsqdDevicesIds) ids = osqd_devices_ids_new(g_strdup(""), 0);
	const gchar *name = NULL;
	gsize len = 0;

	(void)state;
	assert_false(osqd_devices_ids_vendor(ids, 0, &name, &len));
	assert_false(osqd_devices_ids_class(ids, 0, &name, &len));
	assert_false(osqd_devices_ids_subclass(ids, 0, 0, &name, &len));
}

static void
check_udev(const gchar *in, const gchar *out)
{
	gchar buf[64];

	osqd_devices_udev_string(in, buf, sizeof(buf));
	assert_string_equal(buf, out);
}

static void
test_udev_string(void **state)
{
	gchar tiny[4];

	(void)state;
	check_udev("USB Optical Mouse", "USB_Optical_Mouse");
	check_udev("  ACME   Corp. \n", "ACME_Corp.");
	check_udev("Widget (tm) / v2", "Widget__tm____v2");
	check_udev("0000:00:14.0", "0000:00:14.0");
	check_udev("caf\xc3\xa9 \xff", "caf\xc3\xa9__");
	check_udev("a\\x20b", "a\\x20b");
	check_udev("", "");
	osqd_devices_udev_string("abcdef", tiny, sizeof(tiny));
	assert_string_equal(tiny, "abc");
}

static void
test_parsers(void **state)
{
	guint a = 0, b = 0;
	gchar value[16];
	const gchar *uevent = "DRIVER=virtio-pci\nPCI_CLASS=C0330\nPCI_ID=1AF4:1041\n"
	                      "PCI_SLOT_NAME=0000:00:01.0\nEMPTY=\nLONG=0123456789abcdefgh";

	(void)state;
	assert_true(osqd_devices_parse_hex("0x8086", &a));
	assert_int_equal(a, 0x8086);
	assert_true(osqd_devices_parse_hex("ff", &a));
	assert_int_equal(a, 255);
	assert_false(osqd_devices_parse_hex("0x", &a));
	assert_false(osqd_devices_parse_hex("", &a));
	assert_false(osqd_devices_parse_hex("12g", &a));
	assert_false(osqd_devices_parse_hex("123456789", &a));

	assert_true(osqd_devices_uevent_value(uevent, "PCI_ID", value, sizeof(value)));
	assert_string_equal(value, "1AF4:1041");
	assert_true(osqd_devices_uevent_value(uevent, "PCI_SLOT_NAME", value, sizeof(value)));
	assert_string_equal(value, "0000:00:01.0");
	assert_true(osqd_devices_uevent_value(uevent, "EMPTY", value, sizeof(value)));
	assert_string_equal(value, "");
	assert_false(osqd_devices_uevent_value(uevent, "LONG", value, sizeof(value)));
	assert_false(osqd_devices_uevent_value(uevent, "PCI", value, sizeof(value)));
	assert_false(osqd_devices_uevent_value("", "PCI_ID", value, sizeof(value)));

	assert_true(osqd_devices_pci_parse_id("1AF4:1041", &a, &b));
	assert_int_equal(a, 0x1af4);
	assert_int_equal(b, 0x1041);
	assert_false(osqd_devices_pci_parse_id("1af4", &a, &b));
	assert_false(osqd_devices_pci_parse_id("1af4:", &a, &b));
	assert_false(osqd_devices_pci_parse_id(":1041", &a, &b));
	assert_false(osqd_devices_pci_parse_id("1:2:3", &a, &b));
	assert_false(osqd_devices_pci_parse_id("zzzz:1041", &a, &b));
	assert_false(osqd_devices_pci_parse_id("12345:1041", &a, &b));

	assert_true(osqd_devices_pci_parse_class("C0330", &a, &b));
	assert_int_equal(a, 0x0c);
	assert_int_equal(b, 0x03);
	assert_true(osqd_devices_pci_parse_class("30000", &a, &b));
	assert_int_equal(a, 0x03);
	assert_int_equal(b, 0x00);
	assert_true(osqd_devices_pci_parse_class("0x060100", &a, &b));
	assert_int_equal(a, 0x06);
	assert_int_equal(b, 0x01);
	assert_false(osqd_devices_pci_parse_class("nonsense", &a, &b));
	assert_false(osqd_devices_pci_parse_class("1000000", &a, &b));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ids),
		cmocka_unit_test(test_ids_empty),
		cmocka_unit_test(test_udev_string),
		cmocka_unit_test(test_parsers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
