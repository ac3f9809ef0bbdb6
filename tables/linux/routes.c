/* SPDX-License-Identifier: Apache-2.0
 *
 * routes and arp_cache. On the live root routes come, as in osquery, from one rtnetlink
 * RTM_GETROUTE dump (IPv4 and IPv6, every table: main, local, ...). Under a fixture root, or if
 * netlink fails, they come from /proc/net/route (IPv4, main table only) and /proc/net/ipv6_route;
 * those files carry no preferred source, MTU, hop limit or rtm_flags, so source is NULL and
 * mtu/hopcount/flags are 0 there. arp_cache is /proc/net/arp (IPv4 neighbours) either way.
 */
#include "config.h"

#include "routes.h"

#include <arpa/inet.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <string.h>
#include <sys/socket.h>

#include "osqd-tables-generated.h"
#include "sockets.h"

G_STATIC_ASSERT(OSQD_ROUTES_ADDRESS_MAX == INET6_ADDRSTRLEN);
G_STATIC_ASSERT(OSQD_ROUTES_INTERFACE_MAX == IF_NAMESIZE);

#define ROUTES_FILE_MAX (16 * 1024 * 1024)

/* RTF_* bits of the /proc tables (linux/route.h, linux/ipv6_route.h) */
#define ROUTES_RTF_GATEWAY 0x00000002U
#define ROUTES_RTF_REJECT  0x00000200U
#define ROUTES_RTF_ANYCAST 0x00100000U
#define ROUTES_RTF_CACHE   0x01000000U
#define ROUTES_RTF_LOCAL   0x80000000U

static const gchar *
routes_type_name(guint rtm_type)
{
	switch (rtm_type) {
	case RTN_UNICAST:
		return "gateway";
	case RTN_LOCAL:
		return "local";
	case RTN_BROADCAST:
		return "broadcast";
	case RTN_ANYCAST:
		return "anycast";
	default:
		return "other";
	}
}

/* osquery reports host routes (/32, /128) with netmask 0. */
static gint
routes_netmask(gint family, guint dst_len)
{
	return dst_len == (family == AF_INET ? 32U : 128U) ? 0 : (gint)dst_len;
}

static guint32
routes_attr_u32(const struct rtattr *attr)
{
	guint32 value = 0;

	if (RTA_PAYLOAD(attr) >= sizeof(value))
		memcpy(&value, RTA_DATA(attr), sizeof(value));
	return value;
}

static gboolean
routes_attr_address(const struct rtattr *attr, gint family, gchar *out)
{
	gsize size = family == AF_INET ? 4 : 16;

	if (RTA_PAYLOAD(attr) < size)
		return FALSE;
	return inet_ntop(family, RTA_DATA(attr), out, OSQD_ROUTES_ADDRESS_MAX) != NULL;
}

static void
routes_parse_metrics(const struct rtattr *metrics, OsqdRoute *route)
{
	gint len = (gint)RTA_PAYLOAD(metrics);

	for (const struct rtattr *attr = RTA_DATA(metrics); RTA_OK(attr, len);
	     attr = RTA_NEXT(attr, len)) {
		if (attr->rta_type == RTAX_MTU)
			route->mtu = routes_attr_u32(attr);
		else if (attr->rta_type == RTAX_HOPLIMIT)
			route->hopcount = routes_attr_u32(attr);
	}
}

gboolean
osqd_routes_parse_netlink(const struct nlmsghdr *msg, OsqdRoute *route)
{
	const struct rtmsg *rtm = NLMSG_DATA(msg);
	gboolean has_destination = FALSE;
	gint len;

	if (msg->nlmsg_type != RTM_NEWROUTE || msg->nlmsg_len < NLMSG_LENGTH(sizeof(*rtm)) ||
	    (rtm->rtm_family != AF_INET && rtm->rtm_family != AF_INET6))
		return FALSE;
	memset(route, 0, sizeof(*route));
	route->family = rtm->rtm_family;
	len = (gint)RTM_PAYLOAD(msg);
	for (const struct rtattr *attr = RTM_RTA(rtm); RTA_OK(attr, len);
	     attr = RTA_NEXT(attr, len)) {
		switch (attr->rta_type) {
		case RTA_DST:
			has_destination =
			        routes_attr_address(attr, route->family, route->destination);
			break;
		case RTA_GATEWAY:
			if (!routes_attr_address(attr, route->family, route->gateway))
				route->gateway[0] = '\0';
			break;
		case RTA_PREFSRC:
			if (!routes_attr_address(attr, route->family, route->source))
				route->source[0] = '\0';
			break;
		case RTA_OIF:
			route->oif = routes_attr_u32(attr);
			break;
		case RTA_PRIORITY:
			route->metric = routes_attr_u32(attr);
			break;
		case RTA_METRICS:
			routes_parse_metrics(attr, route);
			break;
		default:
			break;
		}
	}
	if (!has_destination)
		g_strlcpy(route->destination,
		          route->family == AF_INET ? "0.0.0.0" : "::", sizeof(route->destination));
	route->netmask = has_destination ? routes_netmask(route->family, rtm->rtm_dst_len)
	                                 : (gint)rtm->rtm_dst_len;
	route->type = routes_type_name(rtm->rtm_type);
	route->flags = rtm->rtm_flags;
	return TRUE;
}

/* ---- /proc text tables ---- */

static gboolean
routes_parse_hex(const gchar *text, gsize len, guint64 *value)
{
	guint64 result = 0;

	if (len == 0 || len > 16)
		return FALSE;
	for (gsize i = 0; i < len; i++) {
		gint digit = g_ascii_xdigit_value(text[i]);
		if (digit < 0)
			return FALSE;
		result = result << 4 | (guint64)digit;
	}
	*value = result;
	return TRUE;
}

static gboolean
routes_hex_u32(const gchar *text, guint32 *value)
{
	guint64 v;

	if (strlen(text) != 8 || !routes_parse_hex(text, 8, &v))
		return FALSE;
	*value = (guint32)v;
	return TRUE;
}

/* The words of /proc/net/route are __be32 values printed as host integers. */
static gboolean
routes_ipv4_from_hex(const gchar *text, gchar *out, guint32 *raw)
{
	guint32 word;

	if (!routes_hex_u32(text, &word))
		return FALSE;
	if (raw != NULL)
		*raw = word;
	return inet_ntop(AF_INET, &word, out, OSQD_ROUTES_ADDRESS_MAX) != NULL;
}

/* The addresses of /proc/net/ipv6_route are their 16 bytes in order, as 32 hex digits. */
static gboolean
routes_ipv6_from_hex(const gchar *text, gchar *out, guint8 *first_byte)
{
	guint8 bytes[16];

	if (strlen(text) != 32)
		return FALSE;
	for (guint i = 0; i < 16; i++) {
		gint high = g_ascii_xdigit_value(text[2 * i]);
		gint low = g_ascii_xdigit_value(text[2 * i + 1]);
		if (high < 0 || low < 0)
			return FALSE;
		bytes[i] = (guint8)(high << 4 | low);
	}
	if (first_byte != NULL)
		*first_byte = bytes[0];
	return inet_ntop(AF_INET6, bytes, out, OSQD_ROUTES_ADDRESS_MAX) != NULL;
}

static guint
routes_prefix_length(guint32 mask_be)
{
	guint32 mask = ntohl(mask_be);
	guint n = 0;

	while (n < 32 && (mask & (0x80000000U >> n)) != 0)
		n++;
	return n;
}

static void
routes_set_interface(OsqdRoute *route, const gchar *name)
{
	if (g_strcmp0(name, "*") != 0)
		g_strlcpy(route->interface, name, sizeof(route->interface));
}

gboolean
osqd_routes_parse_proc_route(const gchar *text, GArray *routes, GError **error)
{
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);

	if (lines[0] == NULL || !g_str_has_prefix(lines[0], "Iface")) {
		g_set_error_literal(error, OSQ_ERROR, OSQ_ERROR_FAILED,
		                    "unexpected /proc/net/route header");
		return FALSE;
	}
	for (guint i = 1; lines[i] != NULL; i++) {
		g_auto(GStrv) f = g_strsplit_set(g_strstrip(lines[i]), " \t", -1);
		g_autoptr(GPtrArray) fields = g_ptr_array_new();
		OsqdRoute route = { 0 };
		guint32 flags, mask, gateway;
		guint64 metric, flags64;

		for (guint j = 0; f[j] != NULL; j++) {
			if (f[j][0] != '\0')
				g_ptr_array_add(fields, f[j]);
		}
		if (fields->len == 0)
			continue;
		/* Iface Destination Gateway Flags RefCnt Use Metric Mask MTU Window IRTT */
		if (fields->len < 11 ||
		    !routes_ipv4_from_hex(fields->pdata[1], route.destination, NULL) ||
		    !routes_ipv4_from_hex(fields->pdata[2], route.gateway, &gateway) ||
		    !g_ascii_string_to_unsigned(fields->pdata[3], 16, 0, G_MAXUINT32, &flags64,
		                                NULL) ||
		    !g_ascii_string_to_unsigned(fields->pdata[6], 10, 0, G_MAXUINT32, &metric,
		                                NULL) ||
		    !routes_hex_u32(fields->pdata[7], &mask)) {
			g_debug("routes: skipping malformed line: %s", lines[i]);
			continue;
		}
		flags = (guint32)flags64;
		route.family = AF_INET;
		route.netmask = routes_netmask(AF_INET, routes_prefix_length(mask));
		if ((flags & ROUTES_RTF_GATEWAY) == 0)
			route.gateway[0] = '\0';
		route.metric = (gint64)metric;
		/* unreachable/prohibit carry RTF_REJECT; blackhole and throw routes have no device
		 */
		route.type =
		        (flags & ROUTES_RTF_REJECT) != 0 || g_strcmp0(fields->pdata[0], "*") == 0
		                ? "other"
		                : "gateway";
		routes_set_interface(&route, fields->pdata[0]);
		g_array_append_val(routes, route);
	}
	return TRUE;
}

gboolean
osqd_routes_parse_proc_ipv6_route(const gchar *text, GArray *routes, GError **error)
{
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);

	for (guint i = 0; lines[i] != NULL; i++) {
		g_auto(GStrv) f = g_strsplit_set(g_strstrip(lines[i]), " \t", -1);
		g_autoptr(GPtrArray) fields = g_ptr_array_new();
		OsqdRoute route = { 0 };
		guint32 metric, flags;
		guint64 dst_len;
		guint8 first = 0;

		for (guint j = 0; f[j] != NULL; j++) {
			if (f[j][0] != '\0')
				g_ptr_array_add(fields, f[j]);
		}
		if (fields->len == 0)
			continue;
		/* dst dst_len src src_len gateway metric refcnt use flags device */
		if (fields->len < 10 ||
		    !routes_ipv6_from_hex(fields->pdata[0], route.destination, &first) ||
		    strlen(fields->pdata[1]) != 2 ||
		    !routes_parse_hex(fields->pdata[1], 2, &dst_len) || dst_len > 128 ||
		    !routes_ipv6_from_hex(fields->pdata[4], route.gateway, NULL) ||
		    !routes_hex_u32(fields->pdata[5], &metric) ||
		    !routes_hex_u32(fields->pdata[8], &flags)) {
			g_debug("routes: skipping malformed line: %s", lines[i]);
			continue;
		}
		/* netlink dumps show neither cached clones nor the kernel's null entry */
		if ((flags & ROUTES_RTF_CACHE) != 0 ||
		    ((flags & ROUTES_RTF_REJECT) != 0 && dst_len == 0 && metric == G_MAXUINT32))
			continue;
		route.family = AF_INET6;
		route.netmask = dst_len == 0 ? 0 : routes_netmask(AF_INET6, (guint)dst_len);
		if ((flags & ROUTES_RTF_GATEWAY) == 0)
			route.gateway[0] = '\0';
		route.metric = metric;
		if ((flags & ROUTES_RTF_LOCAL) != 0)
			route.type = "local";
		else if ((flags & ROUTES_RTF_ANYCAST) != 0)
			route.type = "anycast";
		else if ((flags & ROUTES_RTF_REJECT) != 0 || first == 0xff)
			route.type = "other"; /* unreachable/prohibit, multicast */
		else
			route.type = "gateway";
		routes_set_interface(&route, fields->pdata[9]);
		g_array_append_val(routes, route);
	}
	(void)error;
	return TRUE;
}

static void
routes_arp_entry_clear(gpointer data)
{
	OsqdArpEntry *entry = data;

	g_free(entry->address);
	g_free(entry->mac);
	g_free(entry->interface);
}

GArray *
osqd_routes_parse_arp(const gchar *text, GError **error)
{
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
	g_autoptr(GArray) entries = g_array_new(FALSE, TRUE, sizeof(OsqdArpEntry));

	g_array_set_clear_func(entries, routes_arp_entry_clear);
	if (lines[0] == NULL || !g_str_has_prefix(lines[0], "IP address")) {
		g_set_error_literal(error, OSQ_ERROR, OSQ_ERROR_FAILED, "unexpected header");
		return NULL;
	}
	for (guint i = 1; lines[i] != NULL; i++) {
		g_auto(GStrv) f = g_strsplit_set(g_strstrip(lines[i]), " \t", -1);
		g_autoptr(GPtrArray) fields = g_ptr_array_new();
		struct in_addr ipv4;
		OsqdArpEntry entry;

		for (guint j = 0; f[j] != NULL; j++) {
			if (f[j][0] != '\0')
				g_ptr_array_add(fields, f[j]);
		}
		if (fields->len == 0)
			continue;
		/* IP address, HW type, Flags, HW address, Mask, Device */
		if (fields->len != 6 || inet_pton(AF_INET, fields->pdata[0], &ipv4) != 1 ||
		    !g_str_has_prefix(fields->pdata[2], "0x")) {
			g_debug("arp_cache: skipping malformed line: %s", lines[i]);
			continue;
		}
		entry.address = g_strdup(fields->pdata[0]);
		entry.mac = g_strdup(fields->pdata[3]);
		entry.interface = g_strdup(fields->pdata[5]);
		/* ATF_COM | ATF_PERM, exactly, as osquery tests it */
		entry.permanent = g_strcmp0(fields->pdata[2], "0x6") == 0;
		g_array_append_val(entries, entry);
	}
	return g_steal_pointer(&entries);
}

/* ---- generators ---- */

static gboolean
routes_netlink_cb(const struct nlmsghdr *msg, gpointer user_data, GError **error)
{
	GArray *routes = user_data;
	OsqdRoute route;

	if (osqd_routes_parse_netlink(msg, &route))
		g_array_append_val(routes, route);
	return TRUE;
}

static gboolean
routes_read_netlink(GArray *routes, GError **error)
{
	struct {
		struct nlmsghdr header;
		struct rtmsg body;
	} request;
	g_autoptr(GArray) names = g_array_new(FALSE, TRUE, sizeof(OsqdRoute));

	memset(&request, 0, sizeof(request));
	request.header.nlmsg_len = sizeof(request);
	request.header.nlmsg_type = RTM_GETROUTE;
	request.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	request.body.rtm_family = AF_UNSPEC;
	if (!osqd_sockets_netlink_dump(NETLINK_ROUTE, &request.header, routes_netlink_cb, routes,
	                               error))
		return FALSE;
	/* interface names: one lookup per distinct index */
	for (guint i = 0; i < routes->len; i++) {
		OsqdRoute *route = &g_array_index(routes, OsqdRoute, i);
		gboolean found = FALSE;

		if (route->oif == 0)
			continue;
		for (guint j = 0; j < names->len && !found; j++) {
			const OsqdRoute *known = &g_array_index(names, OsqdRoute, j);
			if (known->oif == route->oif) {
				g_strlcpy(route->interface, known->interface,
				          sizeof(route->interface));
				found = TRUE;
			}
		}
		if (!found) {
			if (if_indextoname(route->oif, route->interface) == NULL)
				route->interface[0] = '\0';
			g_array_append_val(names, *route);
		}
	}
	return TRUE;
}

static gboolean
routes_read_proc(OsqdTableContext *ctx, GArray *routes, GError **error)
{
	static const gchar *const files[] = { "/proc/net/route", "/proc/net/ipv6_route" };
	guint read = 0;

	for (guint i = 0; i < G_N_ELEMENTS(files); i++) {
		g_autofree gchar *path = osqd_table_context_path(ctx, "%s", files[i]);
		g_autofree gchar *text = NULL;
		g_autoptr(GError) error_local = NULL;
		gboolean ok;

		if (!osqd_read_file(path, ROUTES_FILE_MAX, &text, NULL, &error_local)) {
			g_debug("routes: %s", error_local->message);
			continue;
		}
		ok = i == 0 ? osqd_routes_parse_proc_route(text, routes, &error_local)
		            : osqd_routes_parse_proc_ipv6_route(text, routes, &error_local);
		if (!ok) {
			g_debug("routes: %s: %s", path, error_local->message);
			continue;
		}
		read++;
	}
	if (read == 0) {
		g_set_error_literal(error, OSQ_ERROR, OSQ_ERROR_FAILED,
		                    "cannot read /proc/net/route or /proc/net/ipv6_route");
		return FALSE;
	}
	return TRUE;
}

static void
routes_set_text(OsqdRow *row, guint column, const gchar *text)
{
	if (text[0] != '\0')
		osqd_row_set_text(row, column, text);
}

gboolean
osqd_table_routes_generate(OsqdTableContext *ctx, OsqdRowSink *sink, GError **error)
{
	g_autoptr(GArray) routes = g_array_new(FALSE, TRUE, sizeof(OsqdRoute));

	if (g_strcmp0(osqd_table_context_get_root(ctx), "/") == 0) {
		g_autoptr(GError) error_local = NULL;
		if (!routes_read_netlink(routes, &error_local)) {
			g_debug("routes: rtnetlink failed, using /proc: %s", error_local->message);
			g_array_set_size(routes, 0);
		}
	}
	if (routes->len == 0 && !routes_read_proc(ctx, routes, error))
		return FALSE;
	for (guint i = 0; i < routes->len; i++) {
		const OsqdRoute *route = &g_array_index(routes, OsqdRoute, i);
		OsqdRow *row = osqd_row_sink_append(sink);

		osqd_row_set_text(row, OSQD_ROUTES_COL_DESTINATION, route->destination);
		osqd_row_set_int(row, OSQD_ROUTES_COL_NETMASK, route->netmask);
		routes_set_text(row, OSQD_ROUTES_COL_GATEWAY, route->gateway);
		routes_set_text(row, OSQD_ROUTES_COL_SOURCE, route->source);
		osqd_row_set_int(row, OSQD_ROUTES_COL_FLAGS, route->flags);
		routes_set_text(row, OSQD_ROUTES_COL_INTERFACE, route->interface);
		osqd_row_set_int(row, OSQD_ROUTES_COL_MTU, route->mtu);
		osqd_row_set_int(row, OSQD_ROUTES_COL_METRIC, route->metric);
		osqd_row_set_text(row, OSQD_ROUTES_COL_TYPE, route->type);
		osqd_row_set_int(row, OSQD_ROUTES_COL_HOPCOUNT, route->hopcount);
	}
	return TRUE;
}

gboolean
osqd_table_arp_cache_generate(OsqdTableContext *ctx, OsqdRowSink *sink, GError **error)
{
	g_autofree gchar *path = osqd_table_context_path(ctx, "/proc/net/arp");
	g_autofree gchar *text = NULL;
	g_autoptr(GArray) entries = NULL;

	g_autoptr(GError) error_local = NULL;

	if (!osqd_read_file(path, ROUTES_FILE_MAX, &text, NULL, &error_local)) {
		g_debug("arp_cache: %s", error_local->message);
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_FAILED, "cannot read /proc/net/arp: %s",
		            g_error_matches(error_local, G_FILE_ERROR, G_FILE_ERROR_NOENT)
		                    ? "no such file"
		                    : "permission denied or I/O error");
		return FALSE;
	}
	entries = osqd_routes_parse_arp(text, error);
	if (entries == NULL) {
		g_prefix_error(error, "/proc/net/arp: ");
		return FALSE;
	}
	for (guint i = 0; i < entries->len; i++) {
		const OsqdArpEntry *entry = &g_array_index(entries, OsqdArpEntry, i);
		OsqdRow *row = osqd_row_sink_append(sink);

		osqd_row_set_text(row, OSQD_ARP_CACHE_COL_ADDRESS, entry->address);
		osqd_row_set_text(row, OSQD_ARP_CACHE_COL_MAC, entry->mac);
		osqd_row_set_text(row, OSQD_ARP_CACHE_COL_INTERFACE, entry->interface);
		osqd_row_set_text(row, OSQD_ARP_CACHE_COL_PERMANENT, entry->permanent ? "1" : "0");
	}
	return TRUE;
}
