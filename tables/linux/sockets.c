/* SPDX-License-Identifier: Apache-2.0
 *
 * process_open_sockets and listening_ports. Sockets are listed once per network namespace:
 * ours, plus those of the processes (their /proc/<pid>/ns/net); each is read from /proc/<pid>/
 * net/{icmp,tcp,udp,udplite,raw}[6], unix and packet of its first process. On the live root our
 * own namespace is read with NETLINK_SOCK_DIAG instead for tcp, udp and unix (no text to format;
 * listening_ports asks the kernel for LISTEN sockets only); the rare kinds stay on text files.
 * The socket inode -> (pid, fd) map costs one readlink per open fd of every process, so it is
 * built only when pid or fd is used or constrained (`pid =` limits it to those processes); then
 * only processes holding sockets are asked for their namespace. Without root, other users' fds
 * and namespaces are unreadable: their sockets show pid -1 (or, in a namespace we cannot name,
 * are missed).
 */
#include "config.h"

#include "sockets.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/inet_diag.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "osqd-tables-generated.h"

#ifndef IPPROTO_UDPLITE
#define IPPROTO_UDPLITE 136
#endif

G_STATIC_ASSERT(OSQD_SOCKETS_ADDRESS_MAX == INET6_ADDRSTRLEN);

#define SOCKETS_FILE_MAX        (64 * 1024 * 1024)
#define SOCKETS_NETLINK_BUFFER  (64 * 1024)
#define SOCKETS_NETLINK_TIMEOUT 5     /* seconds */
#define SOCKETS_TCP_ALL_STATES  0xfff /* 1..11; not TCP_BOUND_INACTIVE, as /proc/net/tcp */

static const gchar *const sockets_tcp_states[] = {
	"UNKNOWN",   "ESTABLISHED", "SYN_SENT",   "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2",
	"TIME_WAIT", "CLOSED",      "CLOSE_WAIT", "LAST_ACK", "LISTEN",    "CLOSING",
};

/* The inet protocols osquery lists, in its order, with their /proc/net file names. */
static const struct {
	gint protocol;
	const gchar *file;
} sockets_inet_protocols[] = {
	{ IPPROTO_ICMP, "icmp" },       { IPPROTO_TCP, "tcp" }, { IPPROTO_UDP, "udp" },
	{ IPPROTO_UDPLITE, "udplite" }, { IPPROTO_RAW, "raw" },
};

/* ---- socket lists ---- */

OsqdSocketList *
osqd_sockets_list_new(void)
{
	OsqdSocketList *list = g_new0(OsqdSocketList, 1);
	list->sockets = g_array_new(FALSE, FALSE, sizeof(OsqdSocket));
	list->strings = g_string_chunk_new(1024);
	return list;
}

void
osqd_sockets_list_free(OsqdSocketList *list)
{
	if (list == NULL)
		return;
	g_array_unref(list->sockets);
	g_string_chunk_free(list->strings);
	g_free(list);
}

void
osqd_sockets_list_clear(OsqdSocketList *list)
{
	g_array_set_size(list->sockets, 0);
	g_string_chunk_clear(list->strings);
}

static OsqdSocket *
sockets_list_append(OsqdSocketList *list)
{
	g_array_set_size(list->sockets, list->sockets->len + 1);
	return &g_array_index(list->sockets, OsqdSocket, list->sockets->len - 1);
}

/* ---- small pure helpers ---- */

const gchar *
osqd_sockets_tcp_state_name(guint state)
{
	if (state == 0 || state >= G_N_ELEMENTS(sockets_tcp_states))
		return sockets_tcp_states[0];
	return sockets_tcp_states[state];
}

static gboolean
sockets_parse_number(const gchar *text, gsize len, guint base, guint64 *value)
{
	guint64 result = 0;

	if (len == 0 || len > (base == 16 ? 16 : 20))
		return FALSE;
	for (gsize i = 0; i < len; i++) {
		gint digit =
		        base == 16 ? g_ascii_xdigit_value(text[i]) : g_ascii_digit_value(text[i]);
		if (digit < 0)
			return FALSE;
		if (base == 10 && result > (G_MAXUINT64 - (guint64)digit) / 10)
			return FALSE;
		result = result * base + (guint64)digit;
	}
	*value = result;
	return TRUE;
}

gboolean
osqd_sockets_parse_link_inode(const gchar *link, gsize len, const gchar *prefix, guint64 *inode)
{
	gsize prefix_len = strlen(prefix);

	if (len < prefix_len + 4 || memcmp(link, prefix, prefix_len) != 0 ||
	    link[prefix_len] != ':' || link[prefix_len + 1] != '[' || link[len - 1] != ']')
		return FALSE;
	return sockets_parse_number(link + prefix_len + 2, len - prefix_len - 3, 10, inode);
}

gchar *
osqd_sockets_unix_name(const guint8 *name, gsize len)
{
	GString *out;

	if (len == 0)
		return NULL;
	if (name[0] != '\0') /* a path: up to its NUL */
		return g_strndup((const gchar *)name, strnlen((const gchar *)name, len));
	out = g_string_sized_new(len + 1);
	g_string_append_c(out, '@');
	for (gsize i = 1; i < len; i++)
		g_string_append_c(out, name[i] != '\0' ? (gchar)name[i] : '@');
	return g_string_free(out, FALSE);
}

/* ---- /proc/net text tables ---- */

typedef struct {
	const gchar *text;
	gsize len;
} SocketsField;

/* Splits one line (up to '\n' or NUL) into at most @max blank-separated fields; returns the
 * number of fields and sets @end to the end of the line. */
static guint
sockets_split_line(const gchar *line, SocketsField *fields, guint max, const gchar **end)
{
	const gchar *p = line;
	guint n = 0;

	while (*p != '\0' && *p != '\n') {
		const gchar *start;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0' || *p == '\n')
			break;
		start = p;
		while (*p != '\0' && *p != '\n' && *p != ' ' && *p != '\t')
			p++;
		if (n < max) {
			fields[n].text = start;
			fields[n].len = (gsize)(p - start);
		}
		n++;
	}
	*end = p;
	return n;
}

static const gchar *
sockets_next_line(const gchar *end)
{
	return *end == '\n' ? end + 1 : end;
}

static gboolean
sockets_check_header(const gchar *text, const gchar *const *words, const gchar **next,
                     GError **error)
{
	const gchar *p = text;

	while (*p == ' ' || *p == '\t')
		p++;
	for (guint i = 0; words[i] != NULL; i++) {
		if (g_str_has_prefix(p, words[i])) {
			const gchar *end = strchr(p, '\n');
			*next = end != NULL ? end + 1 : p + strlen(p);
			return TRUE;
		}
	}
	g_set_error_literal(error, OSQ_ERROR, OSQ_ERROR_FAILED, "unexpected header line");
	return FALSE;
}

/* "0100007F:0016" -> "127.0.0.1" and 22. The kernel prints each 32-bit word of the address in
 * host order, so reading the words back on the same host gives the bytes in network order. */
static gboolean
sockets_decode_endpoint(const SocketsField *field, gint family, gchar *address, guint16 *port)
{
	const gchar *colon = memchr(field->text, ':', field->len);
	gsize address_len, words = family == AF_INET ? 1 : 4;
	guint8 bytes[16];
	guint64 value;

	if (colon == NULL)
		return FALSE;
	address_len = (gsize)(colon - field->text);
	if (address_len != words * 8)
		return FALSE;
	for (gsize i = 0; i < words; i++) {
		guint32 word;
		if (!sockets_parse_number(field->text + i * 8, 8, 16, &value))
			return FALSE;
		word = (guint32)value;
		memcpy(bytes + i * 4, &word, 4);
	}
	if (!sockets_parse_number(colon + 1, field->len - address_len - 1, 16, &value) ||
	    value > G_MAXUINT16)
		return FALSE;
	*port = (guint16)value;
	return inet_ntop(family, bytes, address, OSQD_SOCKETS_ADDRESS_MAX) != NULL;
}

gboolean
osqd_sockets_parse_proc_inet(const gchar *text, gint family, gint protocol, OsqdSocketList *list,
                             GError **error)
{
	static const gchar *const header[] = { "sl", NULL };
	const gchar *line;

	if (!sockets_check_header(text, header, &line, error))
		return FALSE;
	while (*line != '\0') {
		SocketsField f[10];
		const gchar *end;
		guint n = sockets_split_line(line, f, G_N_ELEMENTS(f), &end);
		OsqdSocket s = { 0 };
		guint64 state = 0;

		if (n == 0) {
			line = sockets_next_line(end);
			continue;
		}
		if (n < 10 ||
		    !sockets_decode_endpoint(&f[1], family, s.local_address, &s.local_port) ||
		    !sockets_decode_endpoint(&f[2], family, s.remote_address, &s.remote_port) ||
		    !sockets_parse_number(f[3].text, f[3].len, 16, &state) ||
		    !sockets_parse_number(f[9].text, f[9].len, 10, &s.inode)) {
			g_debug("skipping malformed socket line: %.*s", (int)(end - line), line);
			line = sockets_next_line(end);
			continue;
		}
		s.family = family;
		s.protocol = protocol;
		if (protocol == IPPROTO_TCP)
			s.state = osqd_sockets_tcp_state_name((guint)MIN(state, G_MAXUINT));
		g_array_append_val(list->sockets, s);
		line = sockets_next_line(end);
	}
	return TRUE;
}

gboolean
osqd_sockets_parse_proc_unix(const gchar *text, OsqdSocketList *list, GError **error)
{
	static const gchar *const header[] = { "Num", NULL };
	const gchar *line;

	if (!sockets_check_header(text, header, &line, error))
		return FALSE;
	while (*line != '\0') {
		SocketsField f[7];
		const gchar *end, *path;
		guint n = sockets_split_line(line, f, G_N_ELEMENTS(f), &end);
		OsqdSocket *s;
		guint64 inode;

		if (n == 0) {
			line = sockets_next_line(end);
			continue;
		}
		if (n < 7 || !sockets_parse_number(f[6].text, f[6].len, 10, &inode)) {
			g_debug("skipping malformed unix socket line: %.*s", (int)(end - line),
			        line);
			line = sockets_next_line(end);
			continue;
		}
		s = sockets_list_append(list);
		memset(s, 0, sizeof(*s));
		s->family = AF_UNIX;
		s->inode = inode;
		/* the path is the rest of the line after one blank: it may hold blanks itself */
		path = f[6].text + f[6].len;
		if (path < end)
			path++;
		if (path < end)
			s->path = g_string_chunk_insert_len(list->strings, path, end - path);
		line = sockets_next_line(end);
	}
	return TRUE;
}

gboolean
osqd_sockets_parse_proc_packet(const gchar *text, OsqdSocketList *list, GError **error)
{
	static const gchar *const header[] = { "sk", NULL };
	const gchar *line;

	if (!sockets_check_header(text, header, &line, error))
		return FALSE;
	while (*line != '\0') {
		SocketsField f[9];
		const gchar *end;
		guint n = sockets_split_line(line, f, G_N_ELEMENTS(f), &end);
		OsqdSocket s = { 0 };
		guint64 protocol = 0;

		if (n == 0) {
			line = sockets_next_line(end);
			continue;
		}
		if (n < 9 || !sockets_parse_number(f[3].text, f[3].len, 16, &protocol) ||
		    protocol > G_MAXUINT16 ||
		    !sockets_parse_number(f[8].text, f[8].len, 10, &s.inode)) {
			g_debug("skipping malformed packet socket line: %.*s", (int)(end - line),
			        line);
			line = sockets_next_line(end);
			continue;
		}
		s.family = AF_PACKET;
		s.protocol = (gint)protocol;
		s.state = "NONE";
		g_array_append_val(list->sockets, s);
		line = sockets_next_line(end);
	}
	return TRUE;
}

/* ---- netlink ---- */

gboolean
osqd_sockets_netlink_walk(const guint8 *buf, gsize len, guint32 seq, OsqdSocketsNetlinkFunc func,
                          gpointer user_data, gboolean *done, GError **error)
{
	gsize offset = 0;

	while (offset < len) {
		const struct nlmsghdr *msg = (const struct nlmsghdr *)(buf + offset);
		gsize aligned;

		if (len - offset < sizeof(*msg) || msg->nlmsg_len < sizeof(*msg) ||
		    msg->nlmsg_len > len - offset) {
			g_set_error_literal(error, OSQ_ERROR, OSQ_ERROR_FAILED,
			                    "truncated netlink message");
			return FALSE;
		}
		if (msg->nlmsg_seq == seq) {
			if (msg->nlmsg_type == NLMSG_DONE) {
				*done = TRUE;
				return TRUE;
			}
			if (msg->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *answer = NLMSG_DATA(msg);
				if (msg->nlmsg_len < NLMSG_LENGTH(sizeof(*answer))) {
					g_set_error_literal(error, OSQ_ERROR, OSQ_ERROR_FAILED,
					                    "truncated netlink error");
					return FALSE;
				}
				if (answer->error != 0) {
					g_set_error(error, OSQ_ERROR, OSQ_ERROR_FAILED,
					            "netlink: %s", g_strerror(-answer->error));
					return FALSE;
				}
			} else if (msg->nlmsg_type >= NLMSG_MIN_TYPE) {
				if (!func(msg, user_data, error))
					return FALSE;
			}
		}
		aligned = NLMSG_ALIGN(msg->nlmsg_len);
		if (aligned >= len - offset)
			break;
		offset += aligned;
	}
	return TRUE;
}

gboolean
osqd_sockets_netlink_dump(gint netlink_protocol, struct nlmsghdr *request,
                          OsqdSocketsNetlinkFunc func, gpointer user_data, GError **error)
{
	static gint sequence = 0;
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	struct timeval timeout = { .tv_sec = SOCKETS_NETLINK_TIMEOUT };
	g_autofree guint8 *buf = NULL;
	gboolean done = FALSE, ok = TRUE;
	int fd;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, netlink_protocol);
	if (fd < 0) {
		int saved = errno;
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_FAILED, "netlink socket: %s",
		            g_strerror(saved));
		return FALSE;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
	request->nlmsg_seq = (guint32)g_atomic_int_add(&sequence, 1) + 1;
	request->nlmsg_pid = 0;
	if (sendto(fd, request, request->nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof(kernel)) <
	    0) {
		int saved = errno;
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_FAILED, "netlink send: %s",
		            g_strerror(saved));
		(void)close(fd);
		return FALSE;
	}
	buf = g_malloc(SOCKETS_NETLINK_BUFFER);
	while (ok && !done) {
		ssize_t n = recv(fd, buf, SOCKETS_NETLINK_BUFFER, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int saved = n < 0 ? errno : ECONNRESET;
			g_set_error(error, OSQ_ERROR, OSQ_ERROR_FAILED, "netlink receive: %s",
			            g_strerror(saved));
			ok = FALSE;
			break;
		}
		ok = osqd_sockets_netlink_walk(buf, (gsize)n, request->nlmsg_seq, func, user_data,
		                               &done, error);
	}
	(void)close(fd);
	return ok;
}

void
osqd_sockets_parse_inet_diag(const struct nlmsghdr *msg, gint protocol, OsqdSocketList *list)
{
	const struct inet_diag_msg *diag = NLMSG_DATA(msg);
	OsqdSocket s = { 0 };

	if (msg->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
	    msg->nlmsg_len < NLMSG_LENGTH(sizeof(*diag)) ||
	    (diag->idiag_family != AF_INET && diag->idiag_family != AF_INET6))
		return;
	s.family = diag->idiag_family;
	s.protocol = protocol;
	s.inode = diag->idiag_inode;
	s.local_port = ntohs(diag->id.idiag_sport);
	s.remote_port = ntohs(diag->id.idiag_dport);
	if (inet_ntop(s.family, diag->id.idiag_src, s.local_address, sizeof(s.local_address)) ==
	            NULL ||
	    inet_ntop(s.family, diag->id.idiag_dst, s.remote_address, sizeof(s.remote_address)) ==
	            NULL)
		return;
	if (protocol == IPPROTO_TCP)
		s.state = osqd_sockets_tcp_state_name(diag->idiag_state);
	g_array_append_val(list->sockets, s);
}

void
osqd_sockets_parse_unix_diag(const struct nlmsghdr *msg, OsqdSocketList *list)
{
	const struct unix_diag_msg *diag = NLMSG_DATA(msg);
	gsize offset = NLMSG_LENGTH(NLMSG_ALIGN(sizeof(*diag)));
	OsqdSocket *s;

	if (msg->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
	    msg->nlmsg_len < NLMSG_LENGTH(sizeof(*diag)) || diag->udiag_family != AF_UNIX)
		return;
	s = sockets_list_append(list);
	memset(s, 0, sizeof(*s));
	s->family = AF_UNIX;
	s->inode = diag->udiag_ino;
	while (offset + NLA_HDRLEN <= msg->nlmsg_len) {
		const struct nlattr *attr = (const struct nlattr *)((const guint8 *)msg + offset);
		if (attr->nla_len < NLA_HDRLEN || attr->nla_len > msg->nlmsg_len - offset)
			break;
		if (attr->nla_type == UNIX_DIAG_NAME) {
			g_autofree gchar *name = osqd_sockets_unix_name(
			        (const guint8 *)attr + NLA_HDRLEN, attr->nla_len - NLA_HDRLEN);
			if (name != NULL)
				s->path = g_string_chunk_insert(list->strings, name);
		}
		offset += NLA_ALIGN(attr->nla_len);
	}
}

/* ---- inode -> (pid, fd) ---- */

typedef struct {
	guint64 inode; /* 0: empty slot */
	gint32 pid;
	gint32 fd;
} SocketsOwner;

/* Open addressing, linear probing. A socket shared by several processes is shown once, with the
 * first owner seen: the lowest pid (usually the parent of forked workers) and its lowest fd. */
typedef struct {
	SocketsOwner *slots;
	gsize size; /* a power of two, or 0 */
	gsize count;
} SocketsOwners;

static gsize
sockets_owners_slot(const SocketsOwners *owners, guint64 inode)
{
	guint64 hash = inode * G_GUINT64_CONSTANT(0x9e3779b97f4a7c15);
	return (gsize)(hash >> 17) & (owners->size - 1);
}

static void sockets_owners_add(SocketsOwners *owners, guint64 inode, gint32 pid, gint32 fd);

static void
sockets_owners_grow(SocketsOwners *owners)
{
	SocketsOwner *old = owners->slots;
	gsize old_size = owners->size;

	owners->size = old_size == 0 ? 256 : old_size * 2;
	owners->slots = g_new0(SocketsOwner, owners->size);
	owners->count = 0;
	for (gsize i = 0; i < old_size; i++) {
		if (old[i].inode != 0)
			sockets_owners_add(owners, old[i].inode, old[i].pid, old[i].fd);
	}
	g_free(old);
}

static void
sockets_owners_add(SocketsOwners *owners, guint64 inode, gint32 pid, gint32 fd)
{
	gsize i;

	if (inode == 0)
		return;
	if ((owners->count + 1) * 2 > owners->size)
		sockets_owners_grow(owners);
	for (i = sockets_owners_slot(owners, inode); owners->slots[i].inode != 0;
	     i = (i + 1) & (owners->size - 1)) {
		if (owners->slots[i].inode == inode) {
			/* a socket dup'ed within one process: its lowest fd */
			if (owners->slots[i].pid == pid && fd < owners->slots[i].fd)
				owners->slots[i].fd = fd;
			return;
		}
	}
	owners->slots[i].inode = inode;
	owners->slots[i].pid = pid;
	owners->slots[i].fd = fd;
	owners->count++;
}

static const SocketsOwner *
sockets_owners_find(const SocketsOwners *owners, guint64 inode)
{
	if (owners->size == 0 || inode == 0)
		return NULL;
	for (gsize i = sockets_owners_slot(owners, inode); owners->slots[i].inode != 0;
	     i = (i + 1) & (owners->size - 1)) {
		if (owners->slots[i].inode == inode)
			return &owners->slots[i];
	}
	return NULL;
}

/* ---- the scan shared by both tables ---- */

typedef struct {
	guint64 inode;
	gint64 pid; /* the first process seen in it; 0: read /proc/net */
	gchar name[24];
} SocketsNamespace;

typedef struct _SocketsScan SocketsScan;
typedef void (*SocketsEmitFunc)(SocketsScan *scan, const SocketsNamespace *ns,
                                const OsqdSocket *socket, const SocketsOwner *owner);

struct _SocketsScan {
	OsqdTableContext *ctx;
	OsqdRowSink *sink;
	SocketsEmitFunc emit;
	gboolean listening; /* only what listening_ports can show */
	gboolean live;      /* the root is "/": netlink may be used for our own namespace */
	guint64 self_namespace;
	GArray *pids; /* the `pid =` filter, or NULL */
	gboolean want_owners;
	SocketsOwners owners;
	GArray *namespaces;          /* of SocketsNamespace, in discovery order */
	GHashTable *seen_namespaces; /* the inodes in @namespaces (gint64 keys) */
	int proc_fd;
};

static void
sockets_scan_clear(SocketsScan *scan)
{
	g_free(scan->owners.slots);
	g_clear_pointer(&scan->pids, g_array_unref);
	g_clear_pointer(&scan->namespaces, g_array_unref);
	g_clear_pointer(&scan->seen_namespaces, g_hash_table_unref);
	if (scan->proc_fd >= 0)
		(void)close(scan->proc_fd);
}

static void
sockets_add_namespace(SocketsScan *scan, guint64 inode, gint64 pid)
{
	SocketsNamespace ns = { .inode = inode, .pid = pid };

	if (g_hash_table_contains(scan->seen_namespaces, &ns.inode))
		return;
	g_snprintf(ns.name, sizeof(ns.name), "%" G_GUINT64_FORMAT, inode);
	g_array_append_val(scan->namespaces, ns);
	g_hash_table_add(scan->seen_namespaces, g_memdup2(&inode, sizeof(inode)));
}

static gboolean
sockets_read_link_inode(int dir_fd, const gchar *name, const gchar *prefix, guint64 *inode)
{
	gchar link[64];
	ssize_t n = readlinkat(dir_fd, name, link, sizeof(link));

	return n > 0 && (gsize)n < sizeof(link) &&
	       osqd_sockets_parse_link_inode(link, (gsize)n, prefix, inode);
}

/* Records the socket fds of @pid; returns how many there were (0 when unreadable). */
static guint
sockets_scan_fds(SocketsScan *scan, gint64 pid)
{
	gchar name[32];
	guint64 buf[1024]; /* 8 KiB of dirents, 8-byte aligned */
	guint found = 0;
	int dir_fd;

	g_snprintf(name, sizeof(name), "%" G_GINT64_FORMAT "/fd", pid);
	dir_fd = openat(scan->proc_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir_fd < 0) {
		g_debug("process_open_sockets: cannot list fds of %" G_GINT64_FORMAT ": %s", pid,
		        g_strerror(errno));
		return 0;
	}
	for (;;) {
		ssize_t n = getdents64(dir_fd, buf, sizeof(buf));
		if (n <= 0)
			break;
		for (ssize_t offset = 0; offset < n;) {
			const struct dirent64 *entry =
			        (const struct dirent64 *)((guint8 *)buf + offset);
			gchar link[32];
			ssize_t len;
			guint64 inode, fd;

			offset += entry->d_reclen;
			if (entry->d_name[0] == '.')
				continue;
			/* a socket's link is short: longer targets are truncated and ignored */
			len = readlinkat(dir_fd, entry->d_name, link, sizeof(link));
			if (len < 10 || memcmp(link, "socket:[", 8) != 0 ||
			    !osqd_sockets_parse_link_inode(link, (gsize)len, "socket", &inode) ||
			    !sockets_parse_number(entry->d_name, strlen(entry->d_name), 10, &fd) ||
			    fd > G_MAXINT32)
				continue;
			sockets_owners_add(&scan->owners, inode, (gint32)pid, (gint32)fd);
			found++;
		}
		/* procfs fills the buffer while entries remain, so room left for a few more
		 * entries means the listing is complete: saves one getdents64 per process */
		if ((gsize)n + 1024 <= sizeof(buf))
			break;
	}
	(void)close(dir_fd);
	return found;
}

static void
sockets_scan_pid(SocketsScan *scan, gint64 pid)
{
	gchar name[32];
	guint64 ns;

	/* when fds are scanned, only processes holding sockets can lead to a namespace with
	 * sockets in it: skip the namespace link of the others */
	if (scan->want_owners && sockets_scan_fds(scan, pid) == 0)
		return;
	g_snprintf(name, sizeof(name), "%" G_GINT64_FORMAT "/ns/net", pid);
	if (sockets_read_link_inode(scan->proc_fd, name, "net", &ns))
		sockets_add_namespace(scan, ns, pid);
	else
		g_debug("process_open_sockets: no network namespace for %" G_GINT64_FORMAT, pid);
}

static gint
sockets_compare_pid(gconstpointer a, gconstpointer b)
{
	gint64 x = *(const gint64 *)a, y = *(const gint64 *)b;
	return x < y ? -1 : x > y;
}

/* Every pid under /proc, in increasing order (procfs lists them so; a fixture tree may not). */
static GArray *
sockets_list_pids(SocketsScan *scan, GError **error)
{
	g_autofree guint64 *buf = g_new(guint64, 4096); /* 32 KiB of dirents */
	g_autoptr(GArray) pids = g_array_sized_new(FALSE, FALSE, sizeof(gint64), 1024);
	gboolean sorted = TRUE;

	for (;;) {
		ssize_t n = getdents64(scan->proc_fd, buf, 4096 * sizeof(guint64));
		if (n < 0) {
			int saved = errno;
			g_set_error(error, OSQ_ERROR, OSQ_ERROR_FAILED, "cannot list /proc: %s",
			            g_strerror(saved));
			return NULL;
		}
		if (n == 0)
			break;
		for (ssize_t offset = 0; offset < n;) {
			const struct dirent64 *entry =
			        (const struct dirent64 *)((guint8 *)buf + offset);
			guint64 value;
			gint64 pid;

			offset += entry->d_reclen;
			if (!g_ascii_isdigit(entry->d_name[0]) ||
			    !sockets_parse_number(entry->d_name, strlen(entry->d_name), 10,
			                          &value) ||
			    value == 0 || value > G_MAXINT32)
				continue;
			pid = (gint64)value;
			if (pids->len > 0 && g_array_index(pids, gint64, pids->len - 1) > pid)
				sorted = FALSE;
			g_array_append_val(pids, pid);
		}
	}
	if (!sorted)
		g_array_sort(pids, sockets_compare_pid);
	return g_steal_pointer(&pids);
}

static gboolean
sockets_scan_processes(SocketsScan *scan, GError **error)
{
	g_autoptr(GArray) all = NULL;
	GArray *pids = scan->pids;

	if (pids == NULL) {
		all = sockets_list_pids(scan, error);
		if (all == NULL)
			return FALSE;
		pids = all;
	}
	for (guint i = 0; i < pids->len; i++) {
		gint64 pid = g_array_index(pids, gint64, i);
		if (pid <= 0 || pid > G_MAXINT32)
			continue;
		if (!osqd_table_context_check(scan->ctx, error))
			return FALSE;
		sockets_scan_pid(scan, pid);
	}
	return TRUE;
}

/* ---- reading one namespace's sockets ---- */

static gboolean
sockets_read_text(SocketsScan *scan, const SocketsNamespace *ns, const gchar *file, gint family,
                  gint protocol, OsqdSocketList *list)
{
	g_autoptr(GError) error_local = NULL;
	g_autofree gchar *path =
	        ns->pid > 0 ? osqd_table_context_path(
	                              scan->ctx, "/proc/%" G_GINT64_FORMAT "/net/%s", ns->pid, file)
	                    : osqd_table_context_path(scan->ctx, "/proc/net/%s", file);
	g_autofree gchar *text = NULL;
	gboolean ok;

	if (!osqd_read_file(path, SOCKETS_FILE_MAX, &text, NULL, &error_local)) {
		g_debug("process_open_sockets: %s", error_local->message);
		return FALSE;
	}
	if (family == AF_UNIX)
		ok = osqd_sockets_parse_proc_unix(text, list, &error_local);
	else if (family == AF_PACKET)
		ok = osqd_sockets_parse_proc_packet(text, list, &error_local);
	else
		ok = osqd_sockets_parse_proc_inet(text, family, protocol, list, &error_local);
	if (!ok)
		g_debug("process_open_sockets: %s: %s", path, error_local->message);
	return ok;
}

typedef struct {
	gint protocol;
	OsqdSocketList *list;
} SocketsDiagData;

static gboolean
sockets_inet_diag_cb(const struct nlmsghdr *msg, gpointer user_data, GError **error)
{
	SocketsDiagData *data = user_data;
	osqd_sockets_parse_inet_diag(msg, data->protocol, data->list);
	return TRUE;
}

static gboolean
sockets_unix_diag_cb(const struct nlmsghdr *msg, gpointer user_data, GError **error)
{
	SocketsDiagData *data = user_data;
	osqd_sockets_parse_unix_diag(msg, data->list);
	return TRUE;
}

static gboolean
sockets_read_inet_diag(gint family, gint protocol, guint32 states, OsqdSocketList *list,
                       GError **error)
{
	struct {
		struct nlmsghdr header;
		struct inet_diag_req_v2 body;
	} request;
	SocketsDiagData data = { .protocol = protocol, .list = list };

	memset(&request, 0, sizeof(request));
	request.header.nlmsg_len = sizeof(request);
	request.header.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	request.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	request.body.sdiag_family = (guint8)family;
	request.body.sdiag_protocol = (guint8)protocol;
	request.body.idiag_states = states;
	return osqd_sockets_netlink_dump(NETLINK_SOCK_DIAG, &request.header, sockets_inet_diag_cb,
	                                 &data, error);
}

static gboolean
sockets_read_unix_diag(OsqdSocketList *list, GError **error)
{
	struct {
		struct nlmsghdr header;
		struct unix_diag_req body;
	} request;
	SocketsDiagData data = { .list = list };

	memset(&request, 0, sizeof(request));
	request.header.nlmsg_len = sizeof(request);
	request.header.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	request.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	request.body.sdiag_family = AF_UNIX;
	request.body.udiag_states = G_MAXUINT32;
	request.body.udiag_show = UDIAG_SHOW_NAME;
	return osqd_sockets_netlink_dump(NETLINK_SOCK_DIAG, &request.header, sockets_unix_diag_cb,
	                                 &data, error);
}

/* Reads one kind of socket over netlink; on failure drops what was half read and returns
 * FALSE so the caller falls back to the text table. */
static gboolean
sockets_read_diag(gint family, gint protocol, guint32 states, OsqdSocketList *list)
{
	g_autoptr(GError) error_local = NULL;
	guint before = list->sockets->len;
	gboolean ok = family == AF_UNIX ? sockets_read_unix_diag(list, &error_local)
	                                : sockets_read_inet_diag(family, protocol, states, list,
	                                                         &error_local);

	if (!ok) {
		g_debug("process_open_sockets: sock_diag failed, using /proc: %s",
		        error_local->message);
		g_array_set_size(list->sockets, before);
	}
	return ok;
}

static void
sockets_read_namespace(SocketsScan *scan, const SocketsNamespace *ns, OsqdSocketList *list)
{
	gboolean netlink = scan->live && ns->inode == scan->self_namespace;

	for (guint i = 0; i < G_N_ELEMENTS(sockets_inet_protocols); i++) {
		gint protocol = sockets_inet_protocols[i].protocol;
		gboolean diag = netlink && (protocol == IPPROTO_TCP || protocol == IPPROTO_UDP);
		/* listening_ports only shows TCP sockets without a peer: LISTEN ones */
		guint32 states = protocol == IPPROTO_TCP && scan->listening
		                         ? (1U << 10)
		                         : SOCKETS_TCP_ALL_STATES;
		g_autofree gchar *file6 = g_strconcat(sockets_inet_protocols[i].file, "6", NULL);

		if (!diag || !sockets_read_diag(AF_INET, protocol, states, list))
			(void)sockets_read_text(scan, ns, sockets_inet_protocols[i].file, AF_INET,
			                        protocol, list);
		if (!diag || !sockets_read_diag(AF_INET6, protocol, states, list))
			(void)sockets_read_text(scan, ns, file6, AF_INET6, protocol, list);
	}
	if (!netlink || !sockets_read_diag(AF_UNIX, 0, 0, list))
		(void)sockets_read_text(scan, ns, "unix", AF_UNIX, 0, list);
	(void)sockets_read_text(scan, ns, "packet", AF_PACKET, 0, list);
}

static gboolean
sockets_run(SocketsScan *scan, GError **error)
{
	g_autofree gchar *proc = osqd_table_context_path(scan->ctx, "/proc");
	g_autoptr(OsqdSocketList) list = osqd_sockets_list_new();

	scan->proc_fd = open(proc, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (scan->proc_fd < 0) {
		int saved = errno;
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_FAILED, "cannot open /proc: %s",
		            g_strerror(saved));
		return FALSE;
	}
	scan->live = g_strcmp0(osqd_table_context_get_root(scan->ctx), "/") == 0;
	scan->namespaces = g_array_new(FALSE, FALSE, sizeof(SocketsNamespace));
	scan->seen_namespaces = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
	if (!sockets_read_link_inode(scan->proc_fd, "self/ns/net", "net", &scan->self_namespace))
		scan->self_namespace = 0;
	/* Our own namespace is always listed: its sockets may all belong to processes we cannot
	 * see (another pid namespace) or that hold no socket fd any more (TIME_WAIT). */
	if (scan->pids == NULL && scan->self_namespace != 0)
		sockets_add_namespace(scan, scan->self_namespace, 0);
	if (!sockets_scan_processes(scan, error))
		return FALSE;
	/* no readable namespace at all (and no pid filter): the root's own tables */
	if (scan->namespaces->len == 0 && scan->pids == NULL)
		sockets_add_namespace(scan, 0, 0);

	for (guint i = 0; i < scan->namespaces->len; i++) {
		const SocketsNamespace *ns = &g_array_index(scan->namespaces, SocketsNamespace, i);

		if (!osqd_table_context_check(scan->ctx, error))
			return FALSE;
		osqd_sockets_list_clear(list);
		sockets_read_namespace(scan, ns, list);
		for (guint j = 0; j < list->sockets->len; j++) {
			const OsqdSocket *s = &g_array_index(list->sockets, OsqdSocket, j);
			const SocketsOwner *owner = sockets_owners_find(&scan->owners, s->inode);
			if (owner == NULL && scan->pids != NULL)
				continue; /* filtering by pid: only sockets of those processes */
			scan->emit(scan, ns, s, owner);
		}
	}
	return TRUE;
}

/* The `pid =` values; NULL for no filter (osquery reads `pid = -1` as no filter too). */
static GArray *
sockets_pid_filter(OsqdTableContext *ctx, guint column)
{
	g_autoptr(GArray) pids = osqd_table_context_int_equals(ctx, column);

	if (pids == NULL)
		return NULL;
	for (guint i = 0; i < pids->len; i++) {
		if (g_array_index(pids, gint64, i) == -1)
			return NULL;
	}
	return g_steal_pointer(&pids);
}

static void
sockets_set_address(OsqdRow *row, guint column, const gchar *address)
{
	if (address[0] != '\0')
		osqd_row_set_text(row, column, address);
}

static void
sockets_emit_open_socket(SocketsScan *scan, const SocketsNamespace *ns, const OsqdSocket *s,
                         const SocketsOwner *owner)
{
	OsqdRow *row = osqd_row_sink_append(scan->sink);

	osqd_row_set_int(row, OSQD_PROCESS_OPEN_SOCKETS_COL_PID, owner != NULL ? owner->pid : -1);
	osqd_row_set_int(row, OSQD_PROCESS_OPEN_SOCKETS_COL_FD, owner != NULL ? owner->fd : -1);
	osqd_row_set_int(row, OSQD_PROCESS_OPEN_SOCKETS_COL_SOCKET, (gint64)s->inode);
	osqd_row_set_int(row, OSQD_PROCESS_OPEN_SOCKETS_COL_FAMILY, s->family);
	osqd_row_set_int(row, OSQD_PROCESS_OPEN_SOCKETS_COL_PROTOCOL, s->protocol);
	sockets_set_address(row, OSQD_PROCESS_OPEN_SOCKETS_COL_LOCAL_ADDRESS, s->local_address);
	sockets_set_address(row, OSQD_PROCESS_OPEN_SOCKETS_COL_REMOTE_ADDRESS, s->remote_address);
	osqd_row_set_int(row, OSQD_PROCESS_OPEN_SOCKETS_COL_LOCAL_PORT, s->local_port);
	osqd_row_set_int(row, OSQD_PROCESS_OPEN_SOCKETS_COL_REMOTE_PORT, s->remote_port);
	osqd_row_set_text(row, OSQD_PROCESS_OPEN_SOCKETS_COL_PATH, s->path);
	osqd_row_set_text(row, OSQD_PROCESS_OPEN_SOCKETS_COL_STATE, s->state);
	osqd_row_set_text(row, OSQD_PROCESS_OPEN_SOCKETS_COL_NET_NAMESPACE, ns->name);
}

gboolean
osqd_table_process_open_sockets_generate(OsqdTableContext *ctx, OsqdRowSink *sink, GError **error)
{
	SocketsScan scan = {
		.ctx = ctx, .sink = sink, .emit = sockets_emit_open_socket, .proc_fd = -1
	};
	gboolean ok;

	scan.pids = sockets_pid_filter(ctx, OSQD_PROCESS_OPEN_SOCKETS_COL_PID);
	if (scan.pids != NULL && scan.pids->len == 0) {
		sockets_scan_clear(&scan);
		return TRUE; /* no pid can match */
	}
	scan.want_owners = scan.pids != NULL ||
	                   osqd_table_context_column_used(ctx, OSQD_PROCESS_OPEN_SOCKETS_COL_PID) ||
	                   osqd_table_context_column_used(ctx, OSQD_PROCESS_OPEN_SOCKETS_COL_FD);
	ok = sockets_run(&scan, error);
	sockets_scan_clear(&scan);
	return ok;
}

/* osquery's rule: named unix sockets, and inet sockets without a peer (TCP LISTEN, unconnected
 * UDP, raw...); packet sockets have no peer either, so they are listed too. */
static void
sockets_emit_listening_port(SocketsScan *scan, const SocketsNamespace *ns, const OsqdSocket *s,
                            const SocketsOwner *owner)
{
	OsqdRow *row;

	if (s->family == AF_UNIX && s->path == NULL)
		return;
	if ((s->family == AF_INET || s->family == AF_INET6) && s->remote_port != 0)
		return;
	row = osqd_row_sink_append(scan->sink);
	osqd_row_set_int(row, OSQD_LISTENING_PORTS_COL_PID, owner != NULL ? owner->pid : -1);
	osqd_row_set_int(row, OSQD_LISTENING_PORTS_COL_PROTOCOL, s->protocol);
	osqd_row_set_int(row, OSQD_LISTENING_PORTS_COL_FAMILY, s->family);
	osqd_row_set_int(row, OSQD_LISTENING_PORTS_COL_FD, owner != NULL ? owner->fd : -1);
	if (s->family == AF_UNIX) {
		osqd_row_set_int(row, OSQD_LISTENING_PORTS_COL_PORT, 0);
		osqd_row_set_int(row, OSQD_LISTENING_PORTS_COL_SOCKET, 0);
		osqd_row_set_text(row, OSQD_LISTENING_PORTS_COL_PATH, s->path);
	} else {
		osqd_row_set_int(row, OSQD_LISTENING_PORTS_COL_PORT, s->local_port);
		osqd_row_set_int(row, OSQD_LISTENING_PORTS_COL_SOCKET, (gint64)s->inode);
		sockets_set_address(row, OSQD_LISTENING_PORTS_COL_ADDRESS, s->local_address);
	}
	osqd_row_set_text(row, OSQD_LISTENING_PORTS_COL_NET_NAMESPACE, ns->name);
}

gboolean
osqd_table_listening_ports_generate(OsqdTableContext *ctx, OsqdRowSink *sink, GError **error)
{
	SocketsScan scan = { .ctx = ctx,
		             .sink = sink,
		             .emit = sockets_emit_listening_port,
		             .listening = TRUE,
		             .proc_fd = -1 };
	gboolean ok;

	scan.pids = sockets_pid_filter(ctx, OSQD_LISTENING_PORTS_COL_PID);
	if (scan.pids != NULL && scan.pids->len == 0) {
		sockets_scan_clear(&scan);
		return TRUE;
	}
	scan.want_owners = scan.pids != NULL ||
	                   osqd_table_context_column_used(ctx, OSQD_LISTENING_PORTS_COL_PID) ||
	                   osqd_table_context_column_used(ctx, OSQD_LISTENING_PORTS_COL_FD);
	ok = sockets_run(&scan, error);
	sockets_scan_clear(&scan);
	return ok;
}
