/* SPDX-License-Identifier: Apache-2.0
 *
 * Pure helpers behind interface_addresses and interface_details: the fixture sources of
 * addresses (/proc/net/if_inet6, and `ip -o -4 addr` lines for IPv4), the row strings osquery
 * shows for an address, and the sysfs values of a link.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define OSQD_INTERFACES_NAME_MAX    16 /* IF_NAMESIZE */
#define OSQD_INTERFACES_ADDRESS_MAX 64 /* INET6_ADDRSTRLEN + '%' + interface name */

typedef struct {
	gchar name[OSQD_INTERFACES_NAME_MAX]; /* as getifaddrs() names it: the label for IPv4 */
	gchar link[OSQD_INTERFACES_NAME_MAX]; /* the link it is on */
	gint family;                          /* AF_INET or AF_INET6 */
	guint link_flags;                     /* IFF_* of the link (IFF_BROADCAST matters) */
	gboolean has_mask;
	gboolean has_destination; /* broadcast or peer address */
	guint8 address[16];
	guint8 mask[16];
	guint8 destination[16];
} OsqdInterfaceAddress;

typedef struct {
	gchar address[OSQD_INTERFACES_ADDRESS_MAX];
	gchar mask[OSQD_INTERFACES_ADDRESS_MAX];
	gchar broadcast[OSQD_INTERFACES_ADDRESS_MAX];      /* "" when none */
	gchar point_to_point[OSQD_INTERFACES_ADDRESS_MAX]; /* "" when none */
} OsqdInterfaceAddressText;

/* The strings osquery prints: IPv6 link-local addresses get "%<link>"; the destination goes to
 * broadcast on a broadcast link, else to point_to_point. FALSE if the address is unprintable. */
gboolean osqd_interfaces_address_text(const OsqdInterfaceAddress *address,
                                      OsqdInterfaceAddressText *text);

/* Sets @mask (4 or 16 bytes) to a prefix of @prefix_len bits. */
void osqd_interfaces_mask_from_prefix(gint family, guint prefix_len, guint8 *mask);

/* /proc/net/if_inet6 lines into OsqdInterfaceAddress entries (link_flags left 0). */
void osqd_interfaces_parse_if_inet6(const gchar *text, GArray *addresses);

/* `ip -o -4 addr show` lines (the fixture stand-in for the IPv4 addresses, which the kernel
 * does not list in any file) into entries with getifaddrs()'s destination rule: the
 * broadcast address, else the peer, else the local address again. */
void osqd_interfaces_parse_ip_addr(const gchar *text, GArray *addresses);

/* /sys/class/net/<if>/address into osquery's six-octet form (zeros when shorter or empty). */
void osqd_interfaces_mac(const gchar *sysfs_address, gchar mac[18]);

/* The bus address in the resolved path of /sys/class/net/<if>/device: its last PCI address
 * component (dddd:bb:dd.f), else its last component; NULL when empty. */
gchar *osqd_interfaces_bus_address(const gchar *device_link);

/* The IFF_* flags a netlink link dump reports, rebuilt from sysfs: the configured flags plus
 * IFF_RUNNING / IFF_LOWER_UP / IFF_DORMANT from operstate, carrier and dormant. */
guint osqd_interfaces_link_flags(guint sysfs_flags, const gchar *operstate, gint carrier,
                                 gint dormant);

G_END_DECLS
