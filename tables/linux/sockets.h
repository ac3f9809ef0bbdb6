/* SPDX-License-Identifier: Apache-2.0
 *
 * Pure parsers behind process_open_sockets and listening_ports (the /proc/net text tables and
 * NETLINK_SOCK_DIAG answers), and the small netlink dump helper that routes.c shares. Nothing
 * here reads files: the generators in sockets.c do the I/O and hand the bytes over.
 */
#pragma once

#include <glib.h>
#include <linux/netlink.h>

G_BEGIN_DECLS

#define OSQD_SOCKETS_ADDRESS_MAX 46 /* INET6_ADDRSTRLEN */

typedef struct {
	guint64 inode;
	gint family;
	gint protocol;
	guint16 local_port;
	guint16 remote_port;
	const gchar *state; /* static string; NULL when the protocol has no state */
	const gchar *path;  /* AF_UNIX path (in the list's string chunk) or NULL */
	gchar local_address[OSQD_SOCKETS_ADDRESS_MAX];  /* "" when there is none */
	gchar remote_address[OSQD_SOCKETS_ADDRESS_MAX]; /* "" when there is none */
} OsqdSocket;

typedef struct {
	GArray *sockets; /* of OsqdSocket */
	GStringChunk *strings;
} OsqdSocketList;

OsqdSocketList *osqd_sockets_list_new(void);
void osqd_sockets_list_free(OsqdSocketList *list);
void osqd_sockets_list_clear(OsqdSocketList *list);

/* osquery's name for a TCP state number: ESTABLISHED, LISTEN, ...; UNKNOWN when out of range. */
const gchar *osqd_sockets_tcp_state_name(guint state);

/* Parses a link target such as "socket:[123]" or "net:[4026531840]" (@prefix is "socket" or
 * "net"; @len is the readlink() length, the text need not be NUL-terminated). */
gboolean osqd_sockets_parse_link_inode(const gchar *link, gsize len, const gchar *prefix,
                                       guint64 *inode);

/* /proc/net/{tcp,udp,raw,icmp,udplite}[6]: @protocol is what the file is for (osquery reports
 * IPPROTO_RAW for every raw socket). Malformed lines are skipped; FALSE only for a bad header. */
gboolean osqd_sockets_parse_proc_inet(const gchar *text, gint family, gint protocol,
                                      OsqdSocketList *list, GError **error);
gboolean osqd_sockets_parse_proc_unix(const gchar *text, OsqdSocketList *list, GError **error);
gboolean osqd_sockets_parse_proc_packet(const gchar *text, OsqdSocketList *list, GError **error);

/* Turns the raw bytes of a unix socket address (sun_path, @len bytes) into /proc/net/unix's
 * spelling: a path as is, an abstract name as "@name" with inner NULs shown as '@'. Returns
 * NULL for an unnamed socket. */
gchar *osqd_sockets_unix_name(const guint8 *name, gsize len);

/* One netlink message of a dump. Return FALSE (with @error set) to stop the dump. */
typedef gboolean (*OsqdSocketsNetlinkFunc)(const struct nlmsghdr *msg, gpointer user_data,
                                           GError **error);

/* Walks the netlink messages in one received datagram: calls @func for each data message whose
 * sequence number is @seq, sets @done on NLMSG_DONE, fails on NLMSG_ERROR or a message that
 * overruns the buffer. */
gboolean osqd_sockets_netlink_walk(const guint8 *buf, gsize len, guint32 seq,
                                   OsqdSocketsNetlinkFunc func, gpointer user_data, gboolean *done,
                                   GError **error);

/* Opens a netlink socket of @netlink_protocol, sends @request (a complete message: header and
 * payload; its nlmsg_seq is set here) and feeds every answer to @func until NLMSG_DONE. */
gboolean osqd_sockets_netlink_dump(gint netlink_protocol, struct nlmsghdr *request,
                                   OsqdSocketsNetlinkFunc func, gpointer user_data, GError **error);

/* SOCK_DIAG_BY_FAMILY answers of inet_diag (@protocol: what was asked for) and unix_diag.
 * A message that is too short is ignored. */
void osqd_sockets_parse_inet_diag(const struct nlmsghdr *msg, gint protocol, OsqdSocketList *list);
void osqd_sockets_parse_unix_diag(const struct nlmsghdr *msg, OsqdSocketList *list);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(OsqdSocketList, osqd_sockets_list_free)

G_END_DECLS
