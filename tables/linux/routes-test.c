/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests for the route and ARP parsers: hand-built RTM_NEWROUTE messages (attributes,
 * nested metrics, osquery's host-route netmask, route types) and the /proc/net/route,
 * /proc/net/ipv6_route and /proc/net/arp tables with malformed lines.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <linux/rtnetlink.h>
#include <string.h>
#include <sys/socket.h>

#include "routes.h"

typedef struct {
	guint64 storage[512];
	gsize len; /* bytes used after the rtmsg */
} RouteMessage;

static struct nlmsghdr *
route_message_new(RouteMessage *m, guint8 family, guint8 dst_len, guint8 type)
{
	struct nlmsghdr *msg = (struct nlmsghdr *)m->storage;
	struct rtmsg *rtm = NLMSG_DATA(msg);

	memset(m, 0, sizeof(*m));
	msg->nlmsg_type = RTM_NEWROUTE;
	msg->nlmsg_len = NLMSG_LENGTH(sizeof(*rtm));
	rtm->rtm_family = family;
	rtm->rtm_dst_len = dst_len;
	rtm->rtm_type = type;
	rtm->rtm_table = RT_TABLE_MAIN;
	return msg;
}

static struct rtattr *
route_message_add(struct nlmsghdr *msg, guint16 type, gconstpointer data, gsize len)
{
	struct rtattr *attr = (struct rtattr *)((guint8 *)msg + NLMSG_ALIGN(msg->nlmsg_len));

	attr->rta_type = type;
	attr->rta_len = (unsigned short)RTA_LENGTH(len);
	if (len > 0)
		memcpy(RTA_DATA(attr), data, len);
	msg->nlmsg_len = NLMSG_ALIGN(msg->nlmsg_len) + RTA_ALIGN(attr->rta_len);
	return attr;
}

static void
route_message_add_address(struct nlmsghdr *msg, guint16 type, gint family, const gchar *text)
{
	guint8 bytes[16];

	assert_int_equal(inet_pton(family, text, bytes), 1);
	route_message_add(msg, type, bytes, family == AF_INET ? 4 : 16);
}

static void
route_message_add_u32(struct nlmsghdr *msg, guint16 type, guint32 value)
{
	route_message_add(msg, type, &value, sizeof(value));
}

static void
test_netlink_route(void **state)
{
	RouteMessage m;
	struct nlmsghdr *msg = route_message_new(&m, AF_INET, 24, RTN_UNICAST);
	guint8 metrics[64];
	struct rtattr *nested = (struct rtattr *)(gpointer)metrics;
	struct rtattr *x;
	guint32 value;
	OsqdRoute route;

	(void)state;
	route_message_add_address(msg, RTA_DST, AF_INET, "192.168.1.0");
	route_message_add_address(msg, RTA_GATEWAY, AF_INET, "192.168.1.1");
	route_message_add_address(msg, RTA_PREFSRC, AF_INET, "192.168.1.2");
	route_message_add_u32(msg, RTA_OIF, 3);
	route_message_add_u32(msg, RTA_PRIORITY, 600);
	/* RTA_METRICS { RTAX_MTU 1400, RTAX_HOPLIMIT 64 } */
	memset(metrics, 0, sizeof(metrics));
	x = nested;
	x->rta_type = RTAX_MTU;
	x->rta_len = RTA_LENGTH(4);
	value = 1400;
	memcpy(RTA_DATA(x), &value, 4);
	x = (struct rtattr *)(gpointer)(metrics + RTA_ALIGN(x->rta_len));
	x->rta_type = RTAX_HOPLIMIT;
	x->rta_len = RTA_LENGTH(4);
	value = 64;
	memcpy(RTA_DATA(x), &value, 4);
	route_message_add(msg, RTA_METRICS, metrics, 2 * RTA_SPACE(4));
	((struct rtmsg *)NLMSG_DATA(msg))->rtm_flags = 16;

	assert_true(osqd_routes_parse_netlink(msg, &route));
	assert_int_equal(route.family, AF_INET);
	assert_string_equal(route.destination, "192.168.1.0");
	assert_int_equal(route.netmask, 24);
	assert_string_equal(route.gateway, "192.168.1.1");
	assert_string_equal(route.source, "192.168.1.2");
	assert_int_equal(route.oif, 3);
	assert_int_equal(route.metric, 600);
	assert_int_equal(route.mtu, 1400);
	assert_int_equal(route.hopcount, 64);
	assert_int_equal(route.flags, 16);
	assert_string_equal(route.type, "gateway");
	assert_string_equal(route.interface, "");
}

static void
test_netlink_route_kinds(void **state)
{
	RouteMessage m;
	struct nlmsghdr *msg;
	OsqdRoute route;

	(void)state;
	/* a default IPv6 route: no RTA_DST */
	msg = route_message_new(&m, AF_INET6, 0, RTN_UNICAST);
	route_message_add_address(msg, RTA_GATEWAY, AF_INET6, "fe80::1");
	assert_true(osqd_routes_parse_netlink(msg, &route));
	assert_string_equal(route.destination, "::");
	assert_int_equal(route.netmask, 0);
	assert_int_equal(route.metric, 0);
	assert_int_equal(route.mtu, 0);
	assert_string_equal(route.gateway, "fe80::1");
	assert_string_equal(route.source, "");

	/* host routes show netmask 0, as osquery does */
	msg = route_message_new(&m, AF_INET, 32, RTN_LOCAL);
	route_message_add_address(msg, RTA_DST, AF_INET, "127.0.0.1");
	assert_true(osqd_routes_parse_netlink(msg, &route));
	assert_int_equal(route.netmask, 0);
	assert_string_equal(route.type, "local");
	msg = route_message_new(&m, AF_INET6, 128, RTN_LOCAL);
	route_message_add_address(msg, RTA_DST, AF_INET6, "::1");
	assert_true(osqd_routes_parse_netlink(msg, &route));
	assert_int_equal(route.netmask, 0);
	/* but not an IPv6 /32 */
	msg = route_message_new(&m, AF_INET6, 32, RTN_UNICAST);
	route_message_add_address(msg, RTA_DST, AF_INET6, "2001:db8::");
	assert_true(osqd_routes_parse_netlink(msg, &route));
	assert_int_equal(route.netmask, 32);

	msg = route_message_new(&m, AF_INET, 32, RTN_BROADCAST);
	assert_true(osqd_routes_parse_netlink(msg, &route));
	assert_string_equal(route.type, "broadcast");
	assert_string_equal(route.destination, "0.0.0.0");
	msg = route_message_new(&m, AF_INET6, 128, RTN_ANYCAST);
	assert_true(osqd_routes_parse_netlink(msg, &route));
	assert_string_equal(route.type, "anycast");
	msg = route_message_new(&m, AF_INET, 8, RTN_UNREACHABLE);
	assert_true(osqd_routes_parse_netlink(msg, &route));
	assert_string_equal(route.type, "other");
	assert_int_equal(route.netmask, 8);

	/* a truncated address attribute is ignored */
	msg = route_message_new(&m, AF_INET, 24, RTN_UNICAST);
	route_message_add(msg, RTA_GATEWAY, "\x01\x02", 2);
	assert_true(osqd_routes_parse_netlink(msg, &route));
	assert_string_equal(route.gateway, "");

	/* not routes */
	msg = route_message_new(&m, 128 /* RTNL_FAMILY_IPMR */, 0, RTN_MULTICAST);
	assert_false(osqd_routes_parse_netlink(msg, &route));
	msg = route_message_new(&m, AF_INET, 0, RTN_UNICAST);
	msg->nlmsg_type = RTM_NEWLINK;
	assert_false(osqd_routes_parse_netlink(msg, &route));
	msg = route_message_new(&m, AF_INET, 0, RTN_UNICAST);
	msg->nlmsg_len = NLMSG_LENGTH(2);
	assert_false(osqd_routes_parse_netlink(msg, &route));
}

static const OsqdRoute *
route_at(GArray *routes, guint i)
{
	assert_true(i < routes->len);
	return &g_array_index(routes, OsqdRoute, i);
}

static void
test_proc_route(void **state)
{
	g_autoptr(GArray) routes = g_array_new(FALSE, TRUE, sizeof(OsqdRoute));
	g_autoptr(GError) error = NULL;
	const gchar *text = "Iface\tDestination\tGateway "
	                    "\tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
	                    "eth0\t00000000\t0101A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n"
	                    "eth0\t0001A8C0\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0\n"
	                    "eth0\tFE01A8C0\t0101A8C0\t0007\t0\t0\t0\tFFFFFFFF\t0\t0\t0\n"
	                    "*\t0000000A\t00000000\t0201\t0\t0\t0\t000000FF\t0\t0\t0\n"
	                    "*\t00003C0A\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0\n"
	                    "eth0\tnot-hex!\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n"
	                    "eth0\t0001A8C0\t00000000\t0001\t0\t0\t-1\t00FFFFFF\t0\t0\t0\n"
	                    "short\t0000\n\n";

	(void)state;
	assert_true(osqd_routes_parse_proc_route(text, routes, &error));
	assert_int_equal(routes->len, 5);
	assert_string_equal(route_at(routes, 0)->destination, "0.0.0.0");
	assert_string_equal(route_at(routes, 0)->gateway, "192.168.1.1");
	assert_int_equal(route_at(routes, 0)->netmask, 0);
	assert_int_equal(route_at(routes, 0)->metric, 100);
	assert_string_equal(route_at(routes, 0)->interface, "eth0");
	assert_string_equal(route_at(routes, 1)->destination, "192.168.1.0");
	assert_int_equal(route_at(routes, 1)->netmask, 24);
	assert_string_equal(route_at(routes, 1)->gateway, "");
	assert_string_equal(route_at(routes, 1)->type, "gateway");
	assert_int_equal(route_at(routes, 2)->netmask, 0); /* host route */
	assert_string_equal(route_at(routes, 3)->type, "other");
	assert_string_equal(route_at(routes, 3)->interface, "");
	assert_int_equal(route_at(routes, 3)->netmask, 8);
	assert_string_equal(route_at(routes, 4)->destination, "10.60.0.0"); /* blackhole */
	assert_string_equal(route_at(routes, 4)->type, "other");

	assert_false(osqd_routes_parse_proc_route("garbage\n", routes, &error));
	assert_non_null(error);
}

static void
test_proc_ipv6_route(void **state)
{
	g_autoptr(GArray) routes = g_array_new(FALSE, TRUE, sizeof(OsqdRoute));
	g_autoptr(GError) error = NULL;
#define Z "00000000000000000000000000000000"
	const gchar *text = "fd000000000000000000000000000000 40 " Z " 00 " Z
	                    " 00000100 00000001 00000000 00000001     eth0\n" Z " 00 " Z
	                    " 00 fe800000000000000000000000000001 00000400 00000002 00000000 "
	                    "00450003     eth0\n"
	                    "00000000000000000000000000000001 80 " Z " 00 " Z
	                    " 00000000 00000002 00000000 80200001       lo\n"
	                    "fd000000000000000000000000000000 80 " Z " 00 " Z
	                    " 00000000 00000002 00000000 00300001     eth0\n"
	                    "ff000000000000000000000000000000 08 " Z " 00 " Z
	                    " 00000100 00000003 00000000 00000001     eth0\n"
	                    "20010db8000000000000000000000099 80 " Z " 00 " Z
	                    " 00000000 00000001 00000000 01000003     eth0\n" Z " 00 " Z " 00 " Z
	                    " ffffffff 00000001 00000000 00200200       lo\n"
	                    "fd000000000000000000000000000000 zz " Z " 00 " Z
	                    " 00000100 00000001 00000000 00000001     eth0\n"
	                    "fd000000000000000000000000000000 ff " Z " 00 " Z
	                    " 00000100 00000001 00000000 00000001     eth0\n"
	                    "fd00 40 short\n";
#undef Z

	(void)state;
	assert_true(osqd_routes_parse_proc_ipv6_route(text, routes, &error));
	assert_int_equal(routes->len, 5);
	assert_string_equal(route_at(routes, 0)->destination, "fd00::");
	assert_int_equal(route_at(routes, 0)->netmask, 64);
	assert_int_equal(route_at(routes, 0)->metric, 256);
	assert_string_equal(route_at(routes, 0)->type, "gateway");
	assert_string_equal(route_at(routes, 1)->destination, "::");
	assert_string_equal(route_at(routes, 1)->gateway, "fe80::1");
	assert_int_equal(route_at(routes, 1)->metric, 1024);
	assert_string_equal(route_at(routes, 2)->type, "local");
	assert_int_equal(route_at(routes, 2)->netmask, 0);
	assert_string_equal(route_at(routes, 2)->interface, "lo");
	assert_string_equal(route_at(routes, 3)->type, "anycast");
	assert_string_equal(route_at(routes, 4)->type, "other"); /* multicast */
	assert_int_equal(route_at(routes, 4)->netmask, 8);
}

static void
test_arp(void **state)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GArray) entries = NULL;
	const OsqdArpEntry *e;
	const gchar *text =
	        "IP address       HW type     Flags       HW address            Mask     "
	        "Device\n"
	        "192.168.1.1      0x1         0x2         52:54:00:12:34:56     *     eth0\n"
	        "192.168.1.50     0x1         0x6         aa:bb:cc:dd:ee:ff     *     eth0\n"
	        "this line is not an entry\n"
	        "192.168.1.7      0x1         0x2         aa:bb:cc:dd:ee:ff     *\n"
	        "\n";

	(void)state;
	entries = osqd_routes_parse_arp(text, &error);
	assert_non_null(entries);
	assert_int_equal(entries->len, 2);
	e = &g_array_index(entries, OsqdArpEntry, 0);
	assert_string_equal(e->address, "192.168.1.1");
	assert_string_equal(e->mac, "52:54:00:12:34:56");
	assert_string_equal(e->interface, "eth0");
	assert_false(e->permanent);
	assert_true(g_array_index(entries, OsqdArpEntry, 1).permanent);

	assert_null(osqd_routes_parse_arp("", &error));
	assert_non_null(error);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_netlink_route), cmocka_unit_test(test_netlink_route_kinds),
		cmocka_unit_test(test_proc_route),    cmocka_unit_test(test_proc_ipv6_route),
		cmocka_unit_test(test_arp),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
