/* SPDX-License-Identifier: Apache-2.0
 *
 * interface_addresses and interface_details. Addresses on the live root come from getifaddrs(),
 * as in osquery; under a fixture root IPv6 ones come from /proc/net/if_inet6 and IPv4 ones from
 * /proc/net/osq-ipv4-addr, a fixture-only file holding `ip -o -4 addr show` output (the kernel
 * lists IPv4 addresses with their masks in no file). Both paths share the row code.
 * Link details come from /sys/class/net/<if>/ on every root; counters are the 64-bit sysfs
 * values (osquery truncates them to 32 bits) and are only read when used; pci_slot asks
 * ETHTOOL_GDRVINFO on the live root and reads the device link under a fixture root.
 */
#include "config.h"

#include "interfaces.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "osqd-tables-generated.h"

G_STATIC_ASSERT(OSQD_INTERFACES_NAME_MAX == IF_NAMESIZE);

#define INTERFACES_FILE_MAX  (4 * 1024 * 1024)
#define INTERFACES_IPV4_FILE "/proc/net/osq-ipv4-addr"

/* linux/if.h bits that glibc's net/if.h (needed for getifaddrs) lacks */
#define INTERFACES_IFF_LOWER_UP 0x10000U
#define INTERFACES_IFF_DORMANT  0x20000U

/* ---- pure helpers ---- */

void
osqd_interfaces_mask_from_prefix(gint family, guint prefix_len, guint8 *mask)
{
	guint size = family == AF_INET ? 4 : 16;

	prefix_len = MIN(prefix_len, size * 8);
	memset(mask, 0, size);
	for (guint i = 0; i < prefix_len / 8; i++)
		mask[i] = 0xff;
	if (prefix_len % 8 != 0)
		mask[prefix_len / 8] = (guint8)(0xff << (8 - prefix_len % 8));
}

static gboolean
interfaces_ntop(gint family, const guint8 *bytes, gchar *out)
{
	return inet_ntop(family, bytes, out, OSQD_INTERFACES_ADDRESS_MAX) != NULL;
}

gboolean
osqd_interfaces_address_text(const OsqdInterfaceAddress *address, OsqdInterfaceAddressText *text)
{
	memset(text, 0, sizeof(*text));
	if (!interfaces_ntop(address->family, address->address, text->address))
		return FALSE;
	/* getnameinfo() names the scope of link-local IPv6 addresses */
	if (address->family == AF_INET6 && address->link[0] != '\0' &&
	    (IN6_IS_ADDR_LINKLOCAL((const struct in6_addr *)address->address) ||
	     IN6_IS_ADDR_MC_LINKLOCAL((const struct in6_addr *)address->address))) {
		gsize len = strlen(text->address);
		g_snprintf(text->address + len, sizeof(text->address) - len, "%%%s", address->link);
	}
	if (address->has_mask && !interfaces_ntop(address->family, address->mask, text->mask))
		text->mask[0] = '\0';
	if (address->has_destination) {
		gchar *out = (address->link_flags & IFF_BROADCAST) != 0 ? text->broadcast
		                                                        : text->point_to_point;
		if (!interfaces_ntop(address->family, address->destination, out))
			out[0] = '\0';
	}
	return TRUE;
}

static gboolean
interfaces_parse_hex(const gchar *text, guint64 *value)
{
	return g_ascii_string_to_unsigned(text, 16, 0, G_MAXUINT32, value, NULL);
}

void
osqd_interfaces_parse_if_inet6(const gchar *text, GArray *addresses)
{
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);

	for (guint i = 0; lines[i] != NULL; i++) {
		g_auto(GStrv) fields = g_strsplit_set(g_strstrip(lines[i]), " \t", -1);
		g_autoptr(GPtrArray) f = g_ptr_array_new();
		OsqdInterfaceAddress entry = { 0 };
		guint64 prefix;
		gboolean ok = TRUE;

		for (guint j = 0; fields[j] != NULL; j++) {
			if (fields[j][0] != '\0')
				g_ptr_array_add(f, fields[j]);
		}
		if (f->len == 0)
			continue;
		/* address ifindex prefix_len scope flags name */
		if (f->len != 6 || strlen(f->pdata[0]) != 32 ||
		    strlen(f->pdata[5]) >= sizeof(entry.name) ||
		    !interfaces_parse_hex(f->pdata[2], &prefix) || prefix > 128) {
			g_debug("interface_addresses: skipping malformed line: %s", lines[i]);
			continue;
		}
		for (guint b = 0; b < 16 && ok; b++) {
			gint high = g_ascii_xdigit_value(((const gchar *)f->pdata[0])[2 * b]);
			gint low = g_ascii_xdigit_value(((const gchar *)f->pdata[0])[2 * b + 1]);
			ok = high >= 0 && low >= 0;
			if (ok)
				entry.address[b] = (guint8)(high << 4 | low);
		}
		if (!ok) {
			g_debug("interface_addresses: skipping malformed line: %s", lines[i]);
			continue;
		}
		entry.family = AF_INET6;
		g_strlcpy(entry.name, f->pdata[5], sizeof(entry.name));
		g_strlcpy(entry.link, f->pdata[5], sizeof(entry.link));
		osqd_interfaces_mask_from_prefix(AF_INET6, (guint)prefix, entry.mask);
		entry.has_mask = TRUE;
		g_array_append_val(addresses, entry);
	}
}

/* "192.0.2.1/24" -> bytes and prefix length (32 without one). */
static gboolean
interfaces_parse_ipv4_prefix(const gchar *text, guint8 *bytes, guint *prefix_len)
{
	g_autofree gchar *copy = g_strdup(text);
	gchar *slash = strchr(copy, '/');
	guint64 len = 32;

	if (slash != NULL) {
		*slash = '\0';
		if (!g_ascii_string_to_unsigned(slash + 1, 10, 0, 32, &len, NULL))
			return FALSE;
	}
	if (prefix_len != NULL)
		*prefix_len = (guint)len;
	return inet_pton(AF_INET, copy, bytes) == 1;
}

void
osqd_interfaces_parse_ip_addr(const gchar *text, GArray *addresses)
{
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);

	for (guint i = 0; lines[i] != NULL; i++) {
		g_auto(GStrv) fields = g_strsplit_set(g_strstrip(lines[i]), " \t", -1);
		g_autoptr(GPtrArray) f = g_ptr_array_new();
		OsqdInterfaceAddress entry = { 0 };
		guint8 peer[4], broadcast[4];
		gboolean has_peer = FALSE, has_broadcast = FALSE, ok = TRUE;
		guint prefix = 32;
		gchar *at;

		for (guint j = 0; fields[j] != NULL; j++) {
			if (fields[j][0] != '\0')
				g_ptr_array_add(f, fields[j]);
		}
		if (f->len == 0)
			continue;
		/* "<index>: <link> inet <local>[/len] [peer <peer>[/len]] [brd <b>] ... <label>\"
		 */
		if (f->len < 4 || !g_str_has_suffix(f->pdata[0], ":") ||
		    g_strcmp0(f->pdata[2], "inet") != 0 ||
		    strlen(f->pdata[1]) >= sizeof(entry.link) ||
		    !interfaces_parse_ipv4_prefix(f->pdata[3], entry.address, &prefix)) {
			g_debug("interface_addresses: skipping malformed line: %s", lines[i]);
			continue;
		}
		g_strlcpy(entry.link, f->pdata[1], sizeof(entry.link));
		at = strchr(entry.link, '@');
		if (at != NULL)
			*at = '\0';
		g_strlcpy(entry.name, entry.link, sizeof(entry.name));
		for (guint j = 4; j < f->len && ok; j++) {
			const gchar *word = f->pdata[j];
			gboolean has_value = j + 1 < f->len;
			if (g_strcmp0(word, "peer") == 0 && has_value) {
				ok = interfaces_parse_ipv4_prefix(f->pdata[++j], peer, &prefix);
				has_peer = TRUE;
			} else if (g_strcmp0(word, "brd") == 0 && has_value) {
				ok = interfaces_parse_ipv4_prefix(f->pdata[++j], broadcast, NULL);
				has_broadcast = TRUE;
			} else if ((g_strcmp0(word, "scope") == 0 ||
			            g_strcmp0(word, "metric") == 0) &&
			           has_value) {
				j++;
			} else if (g_str_has_suffix(word, "\\")) {
				if (strlen(word) > 1 && strlen(word) <= sizeof(entry.name))
					g_strlcpy(entry.name, word, strlen(word));
				break; /* the label ends the address part */
			}
		}
		if (!ok) {
			g_debug("interface_addresses: skipping malformed line: %s", lines[i]);
			continue;
		}
		entry.family = AF_INET;
		osqd_interfaces_mask_from_prefix(AF_INET, prefix, entry.mask);
		entry.has_mask = TRUE;
		entry.has_destination = TRUE;
		memcpy(entry.destination,
		       has_broadcast ? broadcast : (has_peer ? peer : entry.address), 4);
		g_array_append_val(addresses, entry);
	}
}

void
osqd_interfaces_mac(const gchar *sysfs_address, gchar mac[18])
{
	guint8 octets[6] = { 0 };
	const gchar *p = sysfs_address != NULL ? sysfs_address : "";

	for (guint i = 0; i < 6 && *p != '\0'; i++) {
		gint high = g_ascii_xdigit_value(p[0]);
		gint low = high >= 0 ? g_ascii_xdigit_value(p[1]) : -1;
		if (low < 0)
			break;
		octets[i] = (guint8)(high << 4 | low);
		p += 2;
		if (*p != ':')
			break;
		p++;
	}
	g_snprintf(mac, 18, "%02x:%02x:%02x:%02x:%02x:%02x", octets[0], octets[1], octets[2],
	           octets[3], octets[4], octets[5]);
}

static gboolean
interfaces_is_pci_address(const gchar *name)
{
	/* dddd:bb:dd.f */
	static const gchar pattern[] = "xxxx:xx:xx.x";

	if (strlen(name) != sizeof(pattern) - 1)
		return FALSE;
	for (guint i = 0; pattern[i] != '\0'; i++) {
		if (pattern[i] == 'x' ? !g_ascii_isxdigit(name[i]) : name[i] != pattern[i])
			return FALSE;
	}
	return TRUE;
}

gchar *
osqd_interfaces_bus_address(const gchar *device_link)
{
	g_auto(GStrv) parts = g_strsplit(device_link, "/", -1);
	const gchar *found = NULL;
	guint n = g_strv_length(parts);

	for (guint i = 0; i < n; i++) {
		if (interfaces_is_pci_address(parts[i]))
			found = parts[i];
	}
	if (found == NULL && n > 0 && parts[n - 1][0] != '\0')
		found = parts[n - 1];
	return g_strdup(found);
}

guint
osqd_interfaces_link_flags(guint sysfs_flags, const gchar *operstate, gint carrier, gint dormant)
{
	guint flags =
	        sysfs_flags & ~(IFF_RUNNING | INTERFACES_IFF_LOWER_UP | INTERFACES_IFF_DORMANT);

	if ((flags & IFF_UP) == 0)
		return flags;
	if (g_strcmp0(operstate, "up") == 0 || g_strcmp0(operstate, "unknown") == 0)
		flags |= IFF_RUNNING;
	if (carrier == 1)
		flags |= INTERFACES_IFF_LOWER_UP;
	if (dormant == 1)
		flags |= INTERFACES_IFF_DORMANT;
	return flags;
}

/* ---- shared I/O ---- */

static gboolean
interfaces_name_ok(const gchar *name)
{
	return name[0] != '\0' && strchr(name, '/') == NULL && g_strcmp0(name, ".") != 0 &&
	       g_strcmp0(name, "..") != 0 && strlen(name) < IF_NAMESIZE;
}

/* One /sys/class/net/<if>/<attribute> value, stripped; NULL if unreadable. */
static gchar *
interfaces_read_sysfs(OsqdTableContext *ctx, const gchar *name, const gchar *attribute)
{
	g_autofree gchar *path =
	        osqd_table_context_path(ctx, "/sys/class/net/%s/%s", name, attribute);
	g_autoptr(GError) error_local = NULL;
	gchar *text = NULL;

	if (!osqd_read_file(path, 4096, &text, NULL, &error_local)) {
		g_debug("interfaces: %s", error_local->message);
		return NULL;
	}
	return g_strstrip(text);
}

static gboolean
interfaces_read_sysfs_int(OsqdTableContext *ctx, const gchar *name, const gchar *attribute,
                          guint base, gint64 *value)
{
	g_autofree gchar *text = interfaces_read_sysfs(ctx, name, attribute);
	const gchar *digits = text;

	if (text == NULL)
		return FALSE;
	if (base == 16 && g_str_has_prefix(digits, "0x"))
		digits += 2;
	return g_ascii_string_to_signed(digits, base, G_MININT64, G_MAXINT64, value, NULL);
}

/* ---- interface_addresses ---- */

static gboolean
interfaces_name_wanted(GPtrArray *names, const gchar *name)
{
	if (names == NULL)
		return TRUE;
	for (guint i = 0; i < names->len; i++) {
		if (g_strcmp0(names->pdata[i], name) == 0)
			return TRUE;
	}
	return FALSE;
}

static void
interfaces_copy_sockaddr(const struct sockaddr *sa, gint family, guint8 *out, gboolean *has)
{
	if (sa == NULL || sa->sa_family != family)
		return;
	if (family == AF_INET)
		memcpy(out, &((const struct sockaddr_in *)(gconstpointer)sa)->sin_addr, 4);
	else
		memcpy(out, &((const struct sockaddr_in6 *)(gconstpointer)sa)->sin6_addr, 16);
	*has = TRUE;
}

static gboolean
interfaces_addresses_live(GArray *addresses, GError **error)
{
	struct ifaddrs *list = NULL;

	if (getifaddrs(&list) != 0) {
		int saved = errno;
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_FAILED, "getifaddrs: %s",
		            g_strerror(saved));
		return FALSE;
	}
	for (const struct ifaddrs *ifa = list; ifa != NULL; ifa = ifa->ifa_next) {
		OsqdInterfaceAddress entry = { 0 };
		gboolean has_address = FALSE;

		if (ifa->ifa_addr == NULL || ifa->ifa_name == NULL ||
		    (ifa->ifa_addr->sa_family != AF_INET && ifa->ifa_addr->sa_family != AF_INET6))
			continue;
		entry.family = ifa->ifa_addr->sa_family;
		g_strlcpy(entry.name, ifa->ifa_name, sizeof(entry.name));
		g_strlcpy(entry.link, ifa->ifa_name, sizeof(entry.link));
		entry.link_flags = ifa->ifa_flags;
		interfaces_copy_sockaddr(ifa->ifa_addr, entry.family, entry.address, &has_address);
		interfaces_copy_sockaddr(ifa->ifa_netmask, entry.family, entry.mask,
		                         &entry.has_mask);
		interfaces_copy_sockaddr(ifa->ifa_dstaddr, entry.family, entry.destination,
		                         &entry.has_destination);
		g_array_append_val(addresses, entry);
	}
	freeifaddrs(list);
	return TRUE;
}

static gboolean
interfaces_addresses_fixture(OsqdTableContext *ctx, GArray *addresses, GError **error)
{
	static const gchar *const files[] = { INTERFACES_IPV4_FILE, "/proc/net/if_inet6" };
	g_autoptr(GHashTable) flags = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	guint read = 0;

	for (guint i = 0; i < G_N_ELEMENTS(files); i++) {
		g_autofree gchar *path = osqd_table_context_path(ctx, "%s", files[i]);
		g_autofree gchar *text = NULL;
		g_autoptr(GError) error_local = NULL;

		if (!osqd_read_file(path, INTERFACES_FILE_MAX, &text, NULL, &error_local)) {
			g_debug("interface_addresses: %s", error_local->message);
			continue;
		}
		if (i == 0)
			osqd_interfaces_parse_ip_addr(text, addresses);
		else
			osqd_interfaces_parse_if_inet6(text, addresses);
		read++;
	}
	if (read == 0) {
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_FAILED, "cannot read %s or %s", files[0],
		            files[1]);
		return FALSE;
	}
	/* the link flags decide between broadcast and point_to_point */
	for (guint i = 0; i < addresses->len; i++) {
		OsqdInterfaceAddress *entry = &g_array_index(addresses, OsqdInterfaceAddress, i);
		gpointer cached;
		gint64 value = 0;

		if (g_hash_table_lookup_extended(flags, entry->link, NULL, &cached)) {
			entry->link_flags = GPOINTER_TO_UINT(cached);
			continue;
		}
		if (!interfaces_name_ok(entry->link) ||
		    !interfaces_read_sysfs_int(ctx, entry->link, "flags", 16, &value))
			value = 0;
		entry->link_flags = (guint)value;
		g_hash_table_insert(flags, g_strdup(entry->link), GUINT_TO_POINTER((guint)value));
	}
	return TRUE;
}

static void
interfaces_set_text(OsqdRow *row, guint column, const gchar *text)
{
	if (text[0] != '\0')
		osqd_row_set_text(row, column, text);
}

gboolean
osqd_table_interface_addresses_generate(OsqdTableContext *ctx, OsqdRowSink *sink, GError **error)
{
	g_autoptr(GArray) addresses = g_array_new(FALSE, TRUE, sizeof(OsqdInterfaceAddress));
	g_autoptr(GPtrArray) names =
	        osqd_table_context_text_equals(ctx, OSQD_INTERFACE_ADDRESSES_COL_INTERFACE);
	gboolean ok;

	if (g_strcmp0(osqd_table_context_get_root(ctx), "/") == 0)
		ok = interfaces_addresses_live(addresses, error);
	else
		ok = interfaces_addresses_fixture(ctx, addresses, error);
	if (!ok)
		return FALSE;
	for (guint i = 0; i < addresses->len; i++) {
		const OsqdInterfaceAddress *entry =
		        &g_array_index(addresses, OsqdInterfaceAddress, i);
		OsqdInterfaceAddressText text;
		OsqdRow *row;

		if (!interfaces_name_wanted(names, entry->name) ||
		    !osqd_interfaces_address_text(entry, &text))
			continue;
		row = osqd_row_sink_append(sink);
		osqd_row_set_text(row, OSQD_INTERFACE_ADDRESSES_COL_INTERFACE, entry->name);
		osqd_row_set_text(row, OSQD_INTERFACE_ADDRESSES_COL_ADDRESS, text.address);
		interfaces_set_text(row, OSQD_INTERFACE_ADDRESSES_COL_MASK, text.mask);
		interfaces_set_text(row, OSQD_INTERFACE_ADDRESSES_COL_BROADCAST, text.broadcast);
		interfaces_set_text(row, OSQD_INTERFACE_ADDRESSES_COL_POINT_TO_POINT,
		                    text.point_to_point);
		osqd_row_set_text(row, OSQD_INTERFACE_ADDRESSES_COL_TYPE, "unknown");
	}
	return TRUE;
}

/* ---- interface_details ---- */

typedef struct {
	gint64 index;
	gchar *name;
} InterfacesLink;

static void
interfaces_link_clear(gpointer data)
{
	g_free(((InterfacesLink *)data)->name);
}

static gint
interfaces_link_compare(gconstpointer a, gconstpointer b)
{
	const InterfacesLink *x = a, *y = b;

	if (x->index != y->index)
		return x->index < y->index ? -1 : 1;
	return g_strcmp0(x->name, y->name);
}

/* The links to show, in ifindex order (getifaddrs()'s); entries of /sys/class/net without an
 * ifindex (bonding_masters) are not links. */
static GArray *
interfaces_list_links(OsqdTableContext *ctx, GError **error)
{
	g_autoptr(GPtrArray) names =
	        osqd_table_context_text_equals(ctx, OSQD_INTERFACE_DETAILS_COL_INTERFACE);
	g_autoptr(GArray) links = g_array_new(FALSE, TRUE, sizeof(InterfacesLink));

	g_array_set_clear_func(links, interfaces_link_clear);
	if (names == NULL) {
		g_autofree gchar *path = osqd_table_context_path(ctx, "/sys/class/net");
		g_autoptr(GError) error_local = NULL;
		g_autoptr(GDir) dir = g_dir_open(path, 0, &error_local);
		const gchar *entry;

		if (dir == NULL) {
			g_debug("interface_details: %s", error_local->message);
			g_set_error_literal(error, OSQ_ERROR, OSQ_ERROR_FAILED,
			                    "cannot list /sys/class/net");
			return NULL;
		}
		names = g_ptr_array_new_with_free_func(g_free);
		while ((entry = g_dir_read_name(dir)) != NULL)
			g_ptr_array_add(names, g_strdup(entry));
	}
	for (guint i = 0; i < names->len; i++) {
		InterfacesLink link = { 0 };

		if (!interfaces_name_ok(names->pdata[i]) ||
		    !interfaces_read_sysfs_int(ctx, names->pdata[i], "ifindex", 10, &link.index))
			continue;
		link.name = g_strdup(names->pdata[i]);
		g_array_append_val(links, link);
	}
	g_array_sort(links, interfaces_link_compare);
	return g_steal_pointer(&links);
}

static void
interfaces_set_sysfs_int(OsqdTableContext *ctx, OsqdRow *row, guint column, const gchar *name,
                         const gchar *attribute)
{
	gint64 value;

	if (osqd_table_context_column_used(ctx, column) &&
	    interfaces_read_sysfs_int(ctx, name, attribute, 10, &value))
		osqd_row_set_int(row, column, value);
}

static void
interfaces_set_flags(OsqdTableContext *ctx, OsqdRow *row, const gchar *name)
{
	g_autofree gchar *operstate = NULL;
	gint64 flags, carrier = -1, dormant = -1;

	if (!interfaces_read_sysfs_int(ctx, name, "flags", 16, &flags))
		return;
	operstate = interfaces_read_sysfs(ctx, name, "operstate");
	if (!interfaces_read_sysfs_int(ctx, name, "carrier", 10, &carrier))
		carrier = -1;
	if (!interfaces_read_sysfs_int(ctx, name, "dormant", 10, &dormant))
		dormant = -1;
	osqd_row_set_int(
	        row, OSQD_INTERFACE_DETAILS_COL_FLAGS,
	        osqd_interfaces_link_flags((guint)flags, operstate, (gint)carrier, (gint)dormant));
}

/* ETHTOOL_GDRVINFO's bus_info on the live root; under a fixture root the PCI address found in
 * the device link (what PCI and virtio drivers report). "-1" when there is none. */
static void
interfaces_set_pci_slot(OsqdTableContext *ctx, OsqdRow *row, const gchar *name, int *ioctl_fd)
{
	if (g_strcmp0(osqd_table_context_get_root(ctx), "/") == 0) {
		struct ethtool_drvinfo info = { .cmd = ETHTOOL_GDRVINFO };
		struct ifreq request;

		if (*ioctl_fd < 0)
			*ioctl_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		memset(&request, 0, sizeof(request));
		g_strlcpy(request.ifr_name, name, sizeof(request.ifr_name));
		request.ifr_data = (gpointer)&info;
		if (*ioctl_fd >= 0 && ioctl(*ioctl_fd, SIOCETHTOOL, &request) == 0) {
			osqd_row_set_text_len(row, OSQD_INTERFACE_DETAILS_COL_PCI_SLOT,
			                      (const gchar *)info.bus_info,
			                      (gssize)strnlen((const gchar *)info.bus_info,
			                                      sizeof(info.bus_info)));
			return;
		}
	} else {
		g_autofree gchar *path =
		        osqd_table_context_path(ctx, "/sys/class/net/%s/device", name);
		g_autofree gchar *target = realpath(path, NULL);
		g_autofree gchar *slot =
		        target != NULL ? osqd_interfaces_bus_address(target) : NULL;
		if (slot != NULL) {
			osqd_row_set_text(row, OSQD_INTERFACE_DETAILS_COL_PCI_SLOT, slot);
			return;
		}
	}
	osqd_row_set_text(row, OSQD_INTERFACE_DETAILS_COL_PCI_SLOT, "-1");
}

static const struct {
	guint column;
	const gchar *file;
} interfaces_counters[] = {
	{ OSQD_INTERFACE_DETAILS_COL_IPACKETS, "statistics/rx_packets" },
	{ OSQD_INTERFACE_DETAILS_COL_OPACKETS, "statistics/tx_packets" },
	{ OSQD_INTERFACE_DETAILS_COL_IBYTES, "statistics/rx_bytes" },
	{ OSQD_INTERFACE_DETAILS_COL_OBYTES, "statistics/tx_bytes" },
	{ OSQD_INTERFACE_DETAILS_COL_IERRORS, "statistics/rx_errors" },
	{ OSQD_INTERFACE_DETAILS_COL_OERRORS, "statistics/tx_errors" },
	{ OSQD_INTERFACE_DETAILS_COL_IDROPS, "statistics/rx_dropped" },
	{ OSQD_INTERFACE_DETAILS_COL_ODROPS, "statistics/tx_dropped" },
	{ OSQD_INTERFACE_DETAILS_COL_COLLISIONS, "statistics/collisions" },
};

static void
interfaces_add_details_row(OsqdTableContext *ctx, OsqdRowSink *sink, const gchar *name,
                           int *ioctl_fd)
{
	OsqdRow *row = osqd_row_sink_append(sink);
	gint64 speed;

	osqd_row_set_text(row, OSQD_INTERFACE_DETAILS_COL_INTERFACE, name);
	if (osqd_table_context_column_used(ctx, OSQD_INTERFACE_DETAILS_COL_MAC)) {
		g_autofree gchar *address = interfaces_read_sysfs(ctx, name, "address");
		gchar mac[18];
		osqd_interfaces_mac(address, mac);
		osqd_row_set_text(row, OSQD_INTERFACE_DETAILS_COL_MAC, mac);
	}
	interfaces_set_sysfs_int(ctx, row, OSQD_INTERFACE_DETAILS_COL_TYPE, name, "type");
	interfaces_set_sysfs_int(ctx, row, OSQD_INTERFACE_DETAILS_COL_MTU, name, "mtu");
	osqd_row_set_int(row, OSQD_INTERFACE_DETAILS_COL_METRIC, 0); /* Linux has none */
	if (osqd_table_context_column_used(ctx, OSQD_INTERFACE_DETAILS_COL_FLAGS))
		interfaces_set_flags(ctx, row, name);
	for (guint i = 0; i < G_N_ELEMENTS(interfaces_counters); i++)
		interfaces_set_sysfs_int(ctx, row, interfaces_counters[i].column, name,
		                         interfaces_counters[i].file);
	osqd_row_set_int(row, OSQD_INTERFACE_DETAILS_COL_LAST_CHANGE, -1);
	if (osqd_table_context_column_used(ctx, OSQD_INTERFACE_DETAILS_COL_LINK_SPEED)) {
		/* Mb/s; -1 (unknown) and unreadable (link down, no ethtool) show as 0 */
		if (!interfaces_read_sysfs_int(ctx, name, "speed", 10, &speed) || speed < 0)
			speed = 0;
		osqd_row_set_int(row, OSQD_INTERFACE_DETAILS_COL_LINK_SPEED, speed);
	}
	if (osqd_table_context_column_used(ctx, OSQD_INTERFACE_DETAILS_COL_PCI_SLOT))
		interfaces_set_pci_slot(ctx, row, name, ioctl_fd);
}

gboolean
osqd_table_interface_details_generate(OsqdTableContext *ctx, OsqdRowSink *sink, GError **error)
{
	g_autoptr(GArray) links = interfaces_list_links(ctx, error);
	int ioctl_fd = -1;

	if (links == NULL)
		return FALSE;
	for (guint i = 0; i < links->len; i++) {
		const InterfacesLink *link = &g_array_index(links, InterfacesLink, i);
		interfaces_add_details_row(ctx, sink, link->name, &ioctl_fd);
	}
	if (ioctl_fd >= 0)
		(void)close(ioctl_fd);
	return TRUE;
}
