/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests for the interface helpers: masks from prefixes, the address strings osquery
 * prints (scope suffix, broadcast vs point-to-point), the /proc/net/if_inet6 and `ip -o -4 addr`
 * fixture formats, MAC normalisation, link flags rebuilt from sysfs, and bus addresses.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <net/if.h>
#include <string.h>
#include <sys/socket.h>

#include "interfaces.h"

static void
test_mask_from_prefix(void **state)
{
	guint8 mask[16];
	gchar text[64];

	(void)state;
	osqd_interfaces_mask_from_prefix(AF_INET, 24, mask);
	assert_string_equal(inet_ntop(AF_INET, mask, text, sizeof(text)), "255.255.255.0");
	osqd_interfaces_mask_from_prefix(AF_INET, 13, mask);
	assert_string_equal(inet_ntop(AF_INET, mask, text, sizeof(text)), "255.248.0.0");
	osqd_interfaces_mask_from_prefix(AF_INET, 0, mask);
	assert_string_equal(inet_ntop(AF_INET, mask, text, sizeof(text)), "0.0.0.0");
	osqd_interfaces_mask_from_prefix(AF_INET, 99, mask);
	assert_string_equal(inet_ntop(AF_INET, mask, text, sizeof(text)), "255.255.255.255");
	osqd_interfaces_mask_from_prefix(AF_INET6, 64, mask);
	assert_string_equal(inet_ntop(AF_INET6, mask, text, sizeof(text)), "ffff:ffff:ffff:ffff::");
	osqd_interfaces_mask_from_prefix(AF_INET6, 128, mask);
	assert_string_equal(inet_ntop(AF_INET6, mask, text, sizeof(text)),
	                    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
}

static OsqdInterfaceAddress
address_new(gint family, const gchar *link, const gchar *address, guint prefix,
            const gchar *destination, guint flags)
{
	OsqdInterfaceAddress a;

	memset(&a, 0, sizeof(a));
	a.family = family;
	g_strlcpy(a.name, link, sizeof(a.name));
	g_strlcpy(a.link, link, sizeof(a.link));
	assert_int_equal(inet_pton(family, address, a.address), 1);
	osqd_interfaces_mask_from_prefix(family, prefix, a.mask);
	a.has_mask = TRUE;
	if (destination != NULL) {
		assert_int_equal(inet_pton(family, destination, a.destination), 1);
		a.has_destination = TRUE;
	}
	a.link_flags = flags;
	return a;
}

static void
test_address_text(void **state)
{
	OsqdInterfaceAddressText text;
	OsqdInterfaceAddress a;

	(void)state;
	a = address_new(AF_INET, "eth0", "192.168.1.2", 24, "192.168.1.255",
	                IFF_UP | IFF_BROADCAST);
	assert_true(osqd_interfaces_address_text(&a, &text));
	assert_string_equal(text.address, "192.168.1.2");
	assert_string_equal(text.mask, "255.255.255.0");
	assert_string_equal(text.broadcast, "192.168.1.255");
	assert_string_equal(text.point_to_point, "");

	a = address_new(AF_INET, "lo", "127.0.0.1", 8, "127.0.0.1", IFF_UP | IFF_LOOPBACK);
	assert_true(osqd_interfaces_address_text(&a, &text));
	assert_string_equal(text.broadcast, "");
	assert_string_equal(text.point_to_point, "127.0.0.1");

	a = address_new(AF_INET6, "eth0", "fe80::1", 64, NULL, IFF_UP | IFF_BROADCAST);
	assert_true(osqd_interfaces_address_text(&a, &text));
	assert_string_equal(text.address, "fe80::1%eth0");
	assert_string_equal(text.mask, "ffff:ffff:ffff:ffff::");
	assert_string_equal(text.broadcast, "");
	assert_string_equal(text.point_to_point, "");

	a = address_new(AF_INET6, "eth0", "2001:db8::1", 64, NULL, IFF_UP);
	assert_true(osqd_interfaces_address_text(&a, &text));
	assert_string_equal(text.address, "2001:db8::1");
	a.has_mask = FALSE;
	assert_true(osqd_interfaces_address_text(&a, &text));
	assert_string_equal(text.mask, "");
	a.family = AF_UNIX;
	assert_false(osqd_interfaces_address_text(&a, &text));
}

static void
test_if_inet6(void **state)
{
	g_autoptr(GArray) addresses = g_array_new(FALSE, TRUE, sizeof(OsqdInterfaceAddress));
	const OsqdInterfaceAddress *a;
	OsqdInterfaceAddressText text;

	(void)state;
	osqd_interfaces_parse_if_inet6("00000000000000000000000000000001 01 80 10 80       lo\n"
	                               "fe800000000000005054fffffe123456 02 40 20 80     eth0\n"
	                               "zz000000000000000000000000000001 01 80 10 80       lo\n"
	                               "00000000000000000000000000000001 01 99 10 80       lo\n"
	                               "00000000000000000000000000000001 01 80 10 80\n"
	                               "0000000000000000000000000000001 01 80 10 80       lo\n"
	                               "\n",
	                               addresses);
	assert_int_equal(addresses->len, 2);
	a = &g_array_index(addresses, OsqdInterfaceAddress, 0);
	assert_string_equal(a->name, "lo");
	assert_true(osqd_interfaces_address_text(a, &text));
	assert_string_equal(text.address, "::1");
	assert_string_equal(text.mask, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	a = &g_array_index(addresses, OsqdInterfaceAddress, 1);
	assert_false(a->has_destination);
	assert_true(osqd_interfaces_address_text(a, &text));
	assert_string_equal(text.address, "fe80::5054:ffff:fe12:3456%eth0");
}

static void
test_ip_addr(void **state)
{
	g_autoptr(GArray) addresses = g_array_new(FALSE, TRUE, sizeof(OsqdInterfaceAddress));
	OsqdInterfaceAddressText text;
	OsqdInterfaceAddress *a;

	(void)state;
	osqd_interfaces_parse_ip_addr(
	        "2: eth0    inet 192.168.1.2/24 brd 192.168.1.255 scope global dynamic eth0\\   "
	        "    valid_lft 86000sec preferred_lft 86000sec\n"
	        "2: eth0    inet 192.168.1.3/24 scope global secondary eth0:1\\       valid_lft "
	        "forever preferred_lft forever\n"
	        "4: tun0    inet 10.8.0.1 peer 10.8.0.2/32 scope global tun0\\\n"
	        "9: veth0@if8    inet 10.1.0.1/30 metric 5 scope link veth0\\\n"
	        "garbage\n"
	        "5: bad0    inet 999.1.1.1/24 scope global bad0\\\n"
	        "5: bad0    inet 10.0.0.1/33 scope global bad0\\\n"
	        "5: bad0    inet6 ::1/128 scope host\\\n"
	        "5: bad0    inet 10.0.0.1/8 brd nonsense scope global bad0\\\n",
	        addresses);
	assert_int_equal(addresses->len, 4);

	a = &g_array_index(addresses, OsqdInterfaceAddress, 0);
	a->link_flags = IFF_BROADCAST;
	assert_string_equal(a->name, "eth0");
	assert_true(osqd_interfaces_address_text(a, &text));
	assert_string_equal(text.address, "192.168.1.2");
	assert_string_equal(text.mask, "255.255.255.0");
	assert_string_equal(text.broadcast, "192.168.1.255");

	/* no brd: getifaddrs() gives the local address as the destination */
	a = &g_array_index(addresses, OsqdInterfaceAddress, 1);
	a->link_flags = IFF_BROADCAST;
	assert_string_equal(a->name, "eth0:1");
	assert_string_equal(a->link, "eth0");
	assert_true(osqd_interfaces_address_text(a, &text));
	assert_string_equal(text.broadcast, "192.168.1.3");

	a = &g_array_index(addresses, OsqdInterfaceAddress, 2);
	a->link_flags = IFF_POINTOPOINT;
	assert_true(osqd_interfaces_address_text(a, &text));
	assert_string_equal(text.address, "10.8.0.1");
	assert_string_equal(text.mask, "255.255.255.255");
	assert_string_equal(text.point_to_point, "10.8.0.2");

	a = &g_array_index(addresses, OsqdInterfaceAddress, 3);
	assert_string_equal(a->link, "veth0");
	assert_string_equal(a->name, "veth0");
	assert_true(osqd_interfaces_address_text(a, &text));
	assert_string_equal(text.mask, "255.255.255.252");
}

static void
test_mac(void **state)
{
	gchar mac[18];

	(void)state;
	osqd_interfaces_mac("52:54:00:AB:cd:ef", mac);
	assert_string_equal(mac, "52:54:00:ab:cd:ef");
	osqd_interfaces_mac("", mac);
	assert_string_equal(mac, "00:00:00:00:00:00");
	osqd_interfaces_mac(NULL, mac);
	assert_string_equal(mac, "00:00:00:00:00:00");
	osqd_interfaces_mac("0a:00:00:01", mac);
	assert_string_equal(mac, "0a:00:00:01:00:00");
	osqd_interfaces_mac("80:00:02:08:fe:80:00:00:00:00:00:00:00:02:c9:03:00:0a:0b:0c", mac);
	assert_string_equal(mac, "80:00:02:08:fe:80");
	osqd_interfaces_mac("zz:00", mac);
	assert_string_equal(mac, "00:00:00:00:00:00");
}

static void
test_link_flags(void **state)
{
	(void)state;
	/* down: nothing added */
	assert_int_equal(osqd_interfaces_link_flags(0x1002, "down", -1, 0), 0x1002);
	/* loopback: operstate unknown counts as running */
	assert_int_equal(osqd_interfaces_link_flags(0x9, "unknown", 1, 0), 0x10049);
	assert_int_equal(osqd_interfaces_link_flags(0x1003, "up", 1, 0), 0x11043);
	/* up but no carrier */
	assert_int_equal(osqd_interfaces_link_flags(0x1003, "lowerlayerdown", 0, 0), 0x1003);
	assert_int_equal(osqd_interfaces_link_flags(0x1003, "dormant", 1, 1), 0x31003);
	assert_int_equal(osqd_interfaces_link_flags(0x1003, NULL, -1, -1), 0x1003);
}

static void
test_bus_address(void **state)
{
	g_autofree gchar *pci = NULL, *virtio = NULL, *usb = NULL, *plain = NULL;

	(void)state;
	pci = osqd_interfaces_bus_address("/sys/devices/pci0000:00/0000:00:1f.6");
	assert_string_equal(pci, "0000:00:1f.6");
	virtio = osqd_interfaces_bus_address("/sys/devices/pci0000:00/0000:00:03.0/virtio2");
	assert_string_equal(virtio, "0000:00:03.0");
	usb = osqd_interfaces_bus_address("/sys/devices/pci0000:00/0000:00:14.0/usb2/2-1/2-1:1.0");
	assert_string_equal(usb, "0000:00:14.0");
	plain = osqd_interfaces_bus_address("/sys/devices/platform/ff540000.ethernet");
	assert_string_equal(plain, "ff540000.ethernet");
	assert_null(osqd_interfaces_bus_address(""));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mask_from_prefix),
		cmocka_unit_test(test_address_text),
		cmocka_unit_test(test_if_inet6),
		cmocka_unit_test(test_ip_addr),
		cmocka_unit_test(test_mac),
		cmocka_unit_test(test_link_flags),
		cmocka_unit_test(test_bus_address),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
