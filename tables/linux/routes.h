/* SPDX-License-Identifier: Apache-2.0
 *
 * Pure parsers behind routes and arp_cache: rtnetlink RTM_NEWROUTE messages, the
 * /proc/net/route and /proc/net/ipv6_route tables, and /proc/net/arp.
 */
#pragma once

#include <glib.h>
#include <linux/netlink.h>

G_BEGIN_DECLS

#define OSQD_ROUTES_ADDRESS_MAX   46 /* INET6_ADDRSTRLEN */
#define OSQD_ROUTES_INTERFACE_MAX 16 /* IF_NAMESIZE */

typedef struct {
	gint family;
	gint netmask; /* prefix length, 0 for host routes (osquery's quirk) */
	guint32 flags;
	guint32 oif; /* netlink: interface index, resolved by the caller into @interface */
	gint64 mtu;
	gint64 metric;
	gint64 hopcount;
	const gchar *type; /* gateway, local, broadcast, anycast, other */
	gchar destination[OSQD_ROUTES_ADDRESS_MAX];
	gchar gateway[OSQD_ROUTES_ADDRESS_MAX];     /* "" when none */
	gchar source[OSQD_ROUTES_ADDRESS_MAX];      /* "" when none */
	gchar interface[OSQD_ROUTES_INTERFACE_MAX]; /* "" when unknown */
} OsqdRoute;

typedef struct {
	gchar *address;
	gchar *mac;
	gchar *interface;
	gboolean permanent;
} OsqdArpEntry;

/* One RTM_NEWROUTE message into @route; FALSE when it is not an IPv4/IPv6 route. */
gboolean osqd_routes_parse_netlink(const struct nlmsghdr *msg, OsqdRoute *route);

/* /proc/net/route (IPv4 main table) and /proc/net/ipv6_route, appended to @routes (an array of
 * OsqdRoute). Malformed lines are skipped; FALSE only when the header is wrong. */
gboolean osqd_routes_parse_proc_route(const gchar *text, GArray *routes, GError **error);
gboolean osqd_routes_parse_proc_ipv6_route(const gchar *text, GArray *routes, GError **error);

/* /proc/net/arp into a new array of OsqdArpEntry (with a clear function). */
GArray *osqd_routes_parse_arp(const gchar *text, GError **error);

G_END_DECLS
