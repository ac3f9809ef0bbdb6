/* SPDX-License-Identifier: Apache-2.0
 *
 * The audit publisher (see the header). One netlink socket does everything: it sends the
 * requests, and the kernel sends it both their answers and, once it is the registered audit
 * process, the records; so a request's answer is awaited (1 s) while the records that arrive
 * meanwhile are kept for the publisher's thread. The kernel may send the reply to AUDIT_GET
 * after its ack (from a kernel thread): both are awaited. Setup sets the backlog wait time to 0
 * and checks it took before registering, so there is no moment where a process could wait for
 * us; every step it took is undone by close, on failure too.
 */
#include "config.h"

#include "osqd-audit.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <linux/audit.h>
#include <linux/netlink.h>

#include "osq-error.h"
#include "osqd-proc-connector.h"
#include "osqd-tables-generated.h"

#define AUDIT_RCVBUF          (8 * 1024 * 1024)
#define AUDIT_BUFFER_SIZE     16384 /* a record is 8970 bytes at most */
#define AUDIT_POLL_MS         200
#define AUDIT_ANSWER_MS       1000
#define AUDIT_STATUS_EVERY_US (5 * G_USEC_PER_SEC)
#define AUDIT_DRAIN_MAX       256
#define AUDIT_FIRST_RECORD    1100 /* types below are requests and their answers */

/* errno values as the kernel reports them in an exit= field */
#define AUDIT_EXIT_EAGAIN      (-11)
#define AUDIT_EXIT_EINPROGRESS (-115)

/* x86_64 and i386 system call numbers, and socketcall's call numbers */
#define AUDIT_X86_64_CONNECT  42
#define AUDIT_X86_64_ACCEPT   43
#define AUDIT_X86_64_BIND     49
#define AUDIT_X86_64_ACCEPT4  288
#define AUDIT_I386_SOCKETCALL 102
#define AUDIT_I386_BIND       361
#define AUDIT_I386_CONNECT    362
#define AUDIT_I386_ACCEPT4    364
#define AUDIT_SYS_BIND        2
#define AUDIT_SYS_CONNECT     3
#define AUDIT_SYS_ACCEPT      5
#define AUDIT_SYS_ACCEPT4     18

#define AUDIT_ARCH_X86_64_ID 0xc000003eU
#define AUDIT_ARCH_I386_ID   0x40000003U

G_STATIC_ASSERT(AUDIT_ARCH_X86_64 == AUDIT_ARCH_X86_64_ID);
G_STATIC_ASSERT(AUDIT_ARCH_I386 == AUDIT_ARCH_I386_ID);

/* ---- records ---- */

static gboolean
audit_invalid(GError **error, const gchar *message)
{
	g_set_error_literal(error, OSQ_ERROR, OSQ_ERROR_INVALID_ARGUMENT, message);
	return FALSE;
}

/* The decimal number at *@p (moved past it), at most @max. */
static gboolean
audit_parse_decimal(const gchar **p, guint64 max, guint64 *value)
{
	const gchar *start = *p;
	g_autofree gchar *digits = NULL;

	while (g_ascii_isdigit(**p))
		(*p)++;
	if (*p == start || *p - start > 20)
		return FALSE;
	digits = g_strndup(start, (gsize)(*p - start));
	return g_ascii_string_to_unsigned(digits, 10, 0, max, value, NULL);
}

gboolean
osqd_audit_parse_header(const gchar *text, gint64 *seconds, guint32 *milliseconds, guint64 *serial,
                        const gchar **body, GError **error)
{
	const gchar *p = text;
	guint64 secs = 0;
	guint64 millis = 0;
	guint64 number = 0;

	g_return_val_if_fail(text != NULL, FALSE);

	if (!g_str_has_prefix(p, "audit("))
		return audit_invalid(error, "audit record without its audit( header");
	p += strlen("audit(");
	if (!audit_parse_decimal(&p, G_MAXINT64, &secs) || *p++ != '.' ||
	    !audit_parse_decimal(&p, 999, &millis) || *p++ != ':' ||
	    !audit_parse_decimal(&p, G_MAXUINT64, &number) || *p++ != ')' || *p++ != ':')
		return audit_invalid(error, "audit record header is not audit(SECONDS.MS:SERIAL):");
	while (*p == ' ')
		p++;
	if (seconds != NULL)
		*seconds = (gint64)secs;
	if (milliseconds != NULL)
		*milliseconds = (guint32)millis;
	if (serial != NULL)
		*serial = number;
	if (body != NULL)
		*body = p;
	return TRUE;
}

static gboolean
audit_is_blank(gchar c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* The value at @p (quoted or a word); its length, or -1 when a quote does not close. */
static gssize
audit_value_length(const gchar *p)
{
	const gchar *end;

	if (*p == '"' || *p == '\'') {
		end = strchr(p + 1, *p);
		return end != NULL ? end + 1 - p : -1;
	}
	for (end = p; *end != '\0' && !audit_is_blank(*end); end++)
		;
	return end - p;
}

GHashTable *
osqd_audit_parse_fields(const gchar *body, GError **error)
{
	g_autoptr(GHashTable) fields =
	        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	const gchar *p = body;

	g_return_val_if_fail(body != NULL, NULL);

	for (;;) {
		g_autofree gchar *name = NULL;
		const gchar *key;
		gssize length;

		while (audit_is_blank(*p))
			p++;
		if (*p == '\0')
			break;
		key = p;
		while (*p != '\0' && *p != '=' && !audit_is_blank(*p))
			p++;
		if (*p != '=' || p == key) {
			/* a word without a key or a value */
			while (*p != '\0' && !audit_is_blank(*p))
				p++;
			continue;
		}
		length = audit_value_length(p + 1);
		if (length < 0) {
			audit_invalid(error, "audit record has a quote that does not close");
			return NULL;
		}
		if (g_hash_table_size(fields) >= OSQD_AUDIT_MAX_FIELDS) {
			g_set_error(error, OSQ_ERROR, OSQ_ERROR_LIMIT,
			            "audit record has more than %u fields", OSQD_AUDIT_MAX_FIELDS);
			return NULL;
		}
		name = g_strndup(key, (gsize)(p - key));
		if (!g_hash_table_contains(fields, name))
			g_hash_table_insert(fields, g_steal_pointer(&name),
			                    g_strndup(p + 1, (gsize)length));
		p += 1 + length;
	}
	return g_steal_pointer(&fields);
}

static gboolean
audit_is_hex(const gchar *text, gsize length)
{
	if (length == 0 || length % 2 != 0)
		return FALSE;
	for (gsize i = 0; i < length; i++) {
		if (!g_ascii_isxdigit(text[i]))
			return FALSE;
	}
	return TRUE;
}

/* @length hex digits (even) into bytes */
static GByteArray *
audit_hex_decode(const gchar *text, gsize length)
{
	GByteArray *bytes = g_byte_array_sized_new((guint)(length / 2));

	for (gsize i = 0; i + 1 < length; i += 2) {
		guint8 byte = (guint8)(g_ascii_xdigit_value(text[i]) << 4 |
		                       g_ascii_xdigit_value(text[i + 1]));

		g_byte_array_append(bytes, &byte, 1);
	}
	return bytes;
}

gchar *
osqd_audit_decode_string(const gchar *value)
{
	gsize length;

	if (value == NULL || g_strcmp0(value, "(null)") == 0)
		return NULL;
	length = strlen(value);
	if (length >= 2 && value[0] == '"' && value[length - 1] == '"')
		return g_strndup(value + 1, length - 2);
	if (audit_is_hex(value, length)) {
		g_autoptr(GByteArray) bytes = audit_hex_decode(value, length);

		return g_strndup((const gchar *)bytes->data, bytes->len);
	}
	return g_strdup(value);
}

void
osqd_audit_record_free(OsqdAuditRecord *record)
{
	if (record == NULL)
		return;
	if (record->fields != NULL)
		g_hash_table_unref(record->fields);
	g_free(record);
}

OsqdAuditRecord *
osqd_audit_record_parse(guint type, const gchar *text, gsize size, GError **error)
{
	g_autoptr(OsqdAuditRecord) record = g_new0(OsqdAuditRecord, 1);
	g_autofree gchar *copy = g_strndup(text, size);
	const gchar *body = NULL;

	g_return_val_if_fail(text != NULL || size == 0, NULL);

	record->type = type;
	if (!osqd_audit_parse_header(copy, &record->time, &record->milliseconds, &record->serial,
	                             &body, error))
		return NULL;
	record->fields = osqd_audit_parse_fields(body, error);
	if (record->fields == NULL)
		return NULL;
	return g_steal_pointer(&record);
}

const gchar *
osqd_audit_record_get(const OsqdAuditRecord *record, const gchar *key)
{
	return g_hash_table_lookup(record->fields, key);
}

gboolean
osqd_audit_record_get_int(const OsqdAuditRecord *record, const gchar *key, guint base,
                          gint64 *value)
{
	const gchar *text = osqd_audit_record_get(record, key);
	guint64 number = 0;

	if (text == NULL)
		return FALSE;
	if (base == 10)
		return g_ascii_string_to_signed(text, 10, G_MININT64, G_MAXINT64, value, NULL);
	/* arguments are registers: all 64 bits, shown as unsigned */
	if (!g_ascii_string_to_unsigned(text, base, 0, G_MAXUINT64, &number, NULL))
		return FALSE;
	*value = (gint64)number;
	return TRUE;
}

/* ---- socket addresses ---- */

void
osqd_audit_sockaddr_clear(OsqdAuditSockaddr *sockaddr)
{
	g_clear_pointer(&sockaddr->address, g_free);
	g_clear_pointer(&sockaddr->path, g_free);
	sockaddr->family = -1;
	sockaddr->port = 0;
}

static void
audit_sockaddr_inet(const guint8 *data, gsize size, OsqdAuditSockaddr *out)
{
	gchar text[INET6_ADDRSTRLEN] = { 0 };

	if (out->family == AF_INET && size >= 8) {
		out->port = data[2] << 8 | data[3];
		out->address = g_strdup(inet_ntop(AF_INET, data + 4, text, sizeof(text)));
	} else if (out->family == AF_INET6 && size >= 24) {
		out->port = data[2] << 8 | data[3];
		out->address = g_strdup(inet_ntop(AF_INET6, data + 8, text, sizeof(text)));
	}
}

/* sun_path: up to its NUL; abstract (a NUL first): '@' and the name, its NULs as '@' too */
static void
audit_sockaddr_unix(const guint8 *data, gsize size, OsqdAuditSockaddr *out)
{
	const gchar *path = (const gchar *)data + 2;
	gsize length = MIN(size - 2, sizeof(((struct sockaddr_un *)NULL)->sun_path));

	if (length == 0 || path[0] != '\0') {
		out->path = g_strndup(path, length);
		return;
	}
	out->path = g_malloc(length + 1);
	memcpy(out->path, path, length);
	out->path[length] = '\0';
	for (gsize i = 0; i < length; i++) {
		if (out->path[i] == '\0')
			out->path[i] = '@';
	}
}

gboolean
osqd_audit_parse_sockaddr(const gchar *hex, OsqdAuditSockaddr *out, GError **error)
{
	g_autoptr(GByteArray) bytes = NULL;
	guint16 family;
	gsize length;

	g_return_val_if_fail(out != NULL, FALSE);

	out->family = -1;
	out->address = NULL;
	out->path = NULL;
	out->port = 0;
	length = hex != NULL ? strlen(hex) : 0;
	if (!audit_is_hex(hex, length) || length < 4)
		return audit_invalid(error, "saddr is not the hex of a socket address");
	bytes = audit_hex_decode(hex, length);
	memcpy(&family, bytes->data, sizeof(family)); /* host order, as the kernel has it */
	out->family = family;
	if (family == AF_INET || family == AF_INET6)
		audit_sockaddr_inet(bytes->data, bytes->len, out);
	else if (family == AF_UNIX)
		audit_sockaddr_unix(bytes->data, bytes->len, out);
	return TRUE;
}

/* ---- groups ---- */

void
osqd_audit_event_free(OsqdAuditEvent *event)
{
	if (event == NULL)
		return;
	osqd_audit_record_free(event->syscall);
	osqd_audit_record_free(event->sockaddr);
	g_free(event);
}

struct _OsqdAuditGroups {
	guint max_open;
	gint64 max_age_us;
	GHashTable *open; /* serial (guint64 *) -> OsqdAuditEvent, owned by @order */
	GQueue order;     /* of OsqdAuditEvent, oldest first */
};

OsqdAuditGroups *
osqd_audit_groups_new(guint max_open, gint64 max_age_us)
{
	OsqdAuditGroups *groups = g_new0(OsqdAuditGroups, 1);

	groups->max_open = MAX(max_open, 1);
	groups->max_age_us = max_age_us;
	groups->open = g_hash_table_new(g_int64_hash, g_int64_equal);
	g_queue_init(&groups->order);
	return groups;
}

void
osqd_audit_groups_free(OsqdAuditGroups *groups)
{
	if (groups == NULL)
		return;
	g_hash_table_unref(groups->open);
	g_queue_clear_full(&groups->order, (GDestroyNotify)osqd_audit_event_free);
	g_free(groups);
}

guint
osqd_audit_groups_get_open(OsqdAuditGroups *groups)
{
	return g_queue_get_length(&groups->order);
}

static void
audit_groups_remove(OsqdAuditGroups *groups, OsqdAuditEvent *event)
{
	g_hash_table_remove(groups->open, &event->serial);
	g_queue_remove(&groups->order, event);
}

void
osqd_audit_groups_flush(OsqdAuditGroups *groups, gint64 now_us, GPtrArray *done)
{
	for (;;) {
		OsqdAuditEvent *oldest = g_queue_peek_head(&groups->order);

		if (oldest == NULL ||
		    (now_us != G_MAXINT64 && now_us - oldest->arrived_us < groups->max_age_us))
			return;
		audit_groups_remove(groups, oldest);
		g_ptr_array_add(done, oldest);
	}
}

/* A new group for @record's serial: older ones flushed first, the oldest dropped at the cap. */
static OsqdAuditEvent *
audit_groups_open(OsqdAuditGroups *groups, const OsqdAuditRecord *record, gint64 now_us,
                  GPtrArray *done, guint *dropped)
{
	OsqdAuditEvent *event = g_new0(OsqdAuditEvent, 1);

	osqd_audit_groups_flush(groups, now_us, done);
	while (g_queue_get_length(&groups->order) >= groups->max_open) {
		OsqdAuditEvent *oldest = g_queue_peek_head(&groups->order);

		audit_groups_remove(groups, oldest);
		osqd_audit_event_free(oldest);
		(*dropped)++;
	}
	event->serial = record->serial;
	event->time = record->time;
	event->arrived_us = now_us;
	g_queue_push_tail(&groups->order, event);
	g_hash_table_insert(groups->open, &event->serial, event);
	return event;
}

guint
osqd_audit_groups_add(OsqdAuditGroups *groups, OsqdAuditRecord *record, gint64 now_us,
                      GPtrArray *done)
{
	g_autoptr(OsqdAuditRecord) owned = record;
	OsqdAuditEvent *event;
	guint dropped = 0;

	g_return_val_if_fail(groups != NULL && record != NULL, 0);

	event = g_hash_table_lookup(groups->open, &record->serial);
	if (record->type == AUDIT_EOE) {
		if (event == NULL)
			return 0; /* an event of records we do not keep */
		event->ended = TRUE;
		audit_groups_remove(groups, event);
		g_ptr_array_add(done, event);
		return 0;
	}
	if (record->type != AUDIT_SYSCALL && record->type != AUDIT_SOCKADDR)
		return 0;
	if (event == NULL)
		event = audit_groups_open(groups, record, now_us, done, &dropped);
	/* a repeated record keeps the first one */
	if (record->type == AUDIT_SYSCALL && event->syscall == NULL)
		event->syscall = g_steal_pointer(&owned);
	else if (record->type == AUDIT_SOCKADDR && event->sockaddr == NULL)
		event->sockaddr = g_steal_pointer(&owned);
	return dropped;
}

/* ---- rows ---- */

void
osqd_audit_socket_free(OsqdAuditSocket *socket)
{
	if (socket == NULL)
		return;
	g_free(socket->path);
	g_free(socket->fd);
	osqd_audit_sockaddr_clear(&socket->address);
	g_free(socket);
}

/* The action of call @number (@arch); NULL when not ours. *@has_fd: a0 is the socket. */
static const gchar *
audit_socket_action(gint64 arch, gint64 number, gint64 a0, gboolean *has_fd)
{
	*has_fd = TRUE;
	if (arch == AUDIT_ARCH_X86_64_ID) {
		switch (number) {
		case AUDIT_X86_64_BIND:
			return "bind";
		case AUDIT_X86_64_CONNECT:
			return "connect";
		case AUDIT_X86_64_ACCEPT:
		case AUDIT_X86_64_ACCEPT4:
			return "accept";
		default:
			return NULL;
		}
	}
	if (arch != AUDIT_ARCH_I386_ID)
		return NULL;
	switch (number) {
	case AUDIT_I386_BIND:
		return "bind";
	case AUDIT_I386_CONNECT:
		return "connect";
	case AUDIT_I386_ACCEPT4:
		return "accept";
	case AUDIT_I386_SOCKETCALL:
		/* the socket is in the arguments array, in the process's memory */
		*has_fd = FALSE;
		switch (a0) {
		case AUDIT_SYS_BIND:
			return "bind";
		case AUDIT_SYS_CONNECT:
			return "connect";
		case AUDIT_SYS_ACCEPT:
		case AUDIT_SYS_ACCEPT4:
			return "accept";
		default:
			return NULL;
		}
	default:
		return NULL;
	}
}

static const gchar *
audit_socket_status(const gchar *action, gboolean success, gint64 exit_value)
{
	if (success)
		return "succeeded";
	if (g_str_equal(action, "connect") && exit_value == AUDIT_EXIT_EINPROGRESS)
		return "in_progress";
	if (g_str_equal(action, "accept") && exit_value == AUDIT_EXIT_EAGAIN)
		return "no_client";
	return "failed";
}

OsqdAuditSocket *
osqd_audit_socket_new(const OsqdAuditEvent *event, gboolean allow_failed, gboolean allow_unix)
{
	const OsqdAuditRecord *syscall = event->syscall;
	g_autoptr(OsqdAuditSocket) socket = NULL;
	gint64 arch = 0, number = 0, a0 = 0, exit_value = 0, pid = 0;
	gboolean has_fd = FALSE;
	const gchar *action;

	if (syscall == NULL || !osqd_audit_record_get_int(syscall, "arch", 16, &arch) ||
	    !osqd_audit_record_get_int(syscall, "syscall", 10, &number) ||
	    !osqd_audit_record_get_int(syscall, "a0", 16, &a0) ||
	    !osqd_audit_record_get_int(syscall, "pid", 10, &pid))
		return NULL;
	action = audit_socket_action(arch, number, a0, &has_fd);
	if (action == NULL)
		return NULL;
	socket = g_new0(OsqdAuditSocket, 1);
	socket->address.family = -1;
	socket->action = action;
	socket->pid = pid;
	socket->time = event->time;
	socket->success = g_strcmp0(osqd_audit_record_get(syscall, "success"), "yes") == 0;
	(void)osqd_audit_record_get_int(syscall, "exit", 10, &exit_value);
	socket->status = audit_socket_status(action, socket->success, exit_value);
	if (!socket->success && !allow_failed && !g_str_equal(socket->status, "in_progress"))
		return NULL;
	if (!osqd_audit_record_get_int(syscall, "auid", 10, &socket->auid))
		socket->auid = -1;
	socket->path = osqd_audit_decode_string(osqd_audit_record_get(syscall, "exe"));
	if (has_fd)
		socket->fd = g_strdup_printf("%d", (gint)(guint32)a0);
	if (event->sockaddr != NULL) {
		const gchar *saddr = osqd_audit_record_get(event->sockaddr, "saddr");

		if (!osqd_audit_parse_sockaddr(saddr, &socket->address, NULL))
			osqd_audit_sockaddr_clear(&socket->address);
	}
	if (socket->address.family == AF_UNIX && !allow_unix)
		return NULL;
	return g_steal_pointer(&socket);
}

void
osqd_audit_socket_to_row(const OsqdAuditSocket *socket, gint64 uptime, OsqdEventRow *row)
{
	gboolean bind = g_str_equal(socket->action, "bind");
	const gchar *address = socket->address.address != NULL ? socket->address.address : "";

	osqd_event_row_set_text(row, OSQD_SOCKET_EVENTS_COL_ACTION, socket->action);
	osqd_event_row_set_int(row, OSQD_SOCKET_EVENTS_COL_PID, socket->pid);
	osqd_event_row_set_text(row, OSQD_SOCKET_EVENTS_COL_PATH, socket->path);
	osqd_event_row_set_text(row, OSQD_SOCKET_EVENTS_COL_FD, socket->fd);
	if (socket->auid >= 0)
		osqd_event_row_set_int(row, OSQD_SOCKET_EVENTS_COL_AUID, socket->auid);
	if (socket->address.family >= 0)
		osqd_event_row_set_int(row, OSQD_SOCKET_EVENTS_COL_FAMILY, socket->address.family);
	osqd_event_row_set_text(row, OSQD_SOCKET_EVENTS_COL_LOCAL_ADDRESS, bind ? address : "");
	osqd_event_row_set_text(row, OSQD_SOCKET_EVENTS_COL_REMOTE_ADDRESS, bind ? "" : address);
	osqd_event_row_set_int(row, OSQD_SOCKET_EVENTS_COL_LOCAL_PORT,
	                       bind ? socket->address.port : 0);
	osqd_event_row_set_int(row, OSQD_SOCKET_EVENTS_COL_REMOTE_PORT,
	                       bind ? 0 : socket->address.port);
	osqd_event_row_set_text(row, OSQD_SOCKET_EVENTS_COL_SOCKET,
	                        socket->address.path != NULL ? socket->address.path : "");
	osqd_event_row_set_int(row, OSQD_SOCKET_EVENTS_COL_SUCCESS, socket->success ? 1 : 0);
	osqd_event_row_set_text(row, OSQD_SOCKET_EVENTS_COL_STATUS, socket->status);
	if (uptime >= 0)
		osqd_event_row_set_int(row, OSQD_SOCKET_EVENTS_COL_UPTIME, uptime);
	osqd_event_row_set_time(row, socket->time);
}

/* ---- netlink messages ---- */

void
osqd_audit_message_free(OsqdAuditMessage *message)
{
	if (message == NULL)
		return;
	if (message->payload != NULL)
		g_bytes_unref(message->payload);
	g_free(message);
}

/* A record's text: the rest of the datagram, without the NULs that pad it. */
static GBytes *
audit_record_text(const guint8 *data, gsize size)
{
	while (size > 0 && data[size - 1] == '\0')
		size--;
	return g_bytes_new(data, size);
}

gboolean
osqd_audit_parse_netlink(const guint8 *data, gsize size, GPtrArray *messages, GError **error)
{
	gsize offset = 0;

	g_return_val_if_fail(data != NULL || size == 0, FALSE);

	if (size == 0)
		return audit_invalid(error, "empty audit datagram");
	while (offset < size) {
		g_autoptr(OsqdAuditMessage) message = g_new0(OsqdAuditMessage, 1);
		struct nlmsghdr header;
		gsize left = size - offset;
		gsize payload_size;

		if (left < sizeof(header))
			return audit_invalid(error, "audit message cut in its netlink header");
		memcpy(&header, data + offset, sizeof(header));
		message->type = header.nlmsg_type;
		message->seq = header.nlmsg_seq;
		if (header.nlmsg_type >= AUDIT_FIRST_RECORD) {
			message->payload = audit_record_text(data + offset + NLMSG_HDRLEN,
			                                     left - NLMSG_HDRLEN);
			g_ptr_array_add(messages, g_steal_pointer(&message));
			return TRUE;
		}
		if (header.nlmsg_len < NLMSG_HDRLEN || header.nlmsg_len > left)
			return audit_invalid(error, "audit message length out of its datagram");
		payload_size = header.nlmsg_len - NLMSG_HDRLEN;
		if (header.nlmsg_type == NLMSG_ERROR) {
			if (payload_size < sizeof(message->error))
				return audit_invalid(error, "netlink error message cut short");
			memcpy(&message->error, data + offset + NLMSG_HDRLEN,
			       sizeof(message->error));
		}
		message->payload = g_bytes_new(data + offset + NLMSG_HDRLEN, payload_size);
		g_ptr_array_add(messages, g_steal_pointer(&message));
		offset += NLMSG_ALIGN((gsize)header.nlmsg_len);
	}
	return TRUE;
}

/* ---- the socket ---- */

struct _OsqdAuditNetlink {
	gint fd;
	guint32 seq;
	guint32 pid;
	gboolean registered;     /* we are the audit pid (and enabled it) */
	gboolean status_changed; /* we set the backlog limit and wait time */
	gboolean rules_added;
	guint32 previous_enabled;
	guint32 previous_backlog_limit;
	guint32 previous_wait_time;
	guint32 lost; /* the kernel's counter when last read */
};

/* Keeps the records of @messages we handle (SYSCALL, SOCKADDR, EOE) in @records. */
static void
audit_keep_records(GPtrArray *messages, GPtrArray *records)
{
	for (guint i = 0; i < messages->len; i++) {
		const OsqdAuditMessage *message = g_ptr_array_index(messages, i);
		g_autoptr(GError) error_local = NULL;
		OsqdAuditRecord *record;
		gsize size = 0;
		const gchar *text;

		if (message->type != AUDIT_SYSCALL && message->type != AUDIT_SOCKADDR &&
		    message->type != AUDIT_EOE)
			continue;
		text = g_bytes_get_data(message->payload, &size);
		record = osqd_audit_record_parse(message->type, text != NULL ? text : "", size,
		                                 &error_local);
		if (record == NULL) {
			g_debug("audit: record ignored: %s", error_local->message);
			continue;
		}
		g_ptr_array_add(records, record);
	}
}

/* Reads one datagram into @messages, without waiting. */
static OsqdNetlinkReceive
audit_receive_messages(gint fd, GPtrArray *messages, GError **error)
{
	guint8 buffer[AUDIT_BUFFER_SIZE];
	gsize size = 0;
	OsqdNetlinkReceive result =
	        osqd_netlink_receive(fd, buffer, sizeof(buffer), FALSE, "audit", &size, error);

	if (result != OSQD_NETLINK_RECEIVE_DATA)
		return result;
	if (!osqd_audit_parse_netlink(buffer, size, messages, error))
		return OSQD_NETLINK_RECEIVE_IGNORED;
	return OSQD_NETLINK_RECEIVE_DATA;
}

OsqdNetlinkReceive
osqd_audit_netlink_receive(OsqdAuditNetlink *netlink, GPtrArray *records, GError **error)
{
	g_autoptr(GPtrArray) messages =
	        g_ptr_array_new_with_free_func((GDestroyNotify)osqd_audit_message_free);
	OsqdNetlinkReceive result = audit_receive_messages(netlink->fd, messages, error);

	audit_keep_records(messages, records);
	return result;
}

static gboolean
audit_send(OsqdAuditNetlink *self, guint16 type, const void *payload, gsize size, guint32 *seq,
           GError **error)
{
	g_autofree guint8 *message = g_malloc0(NLMSG_SPACE(size));
	struct nlmsghdr header = { 0 };
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	gssize sent;

	header.nlmsg_len = NLMSG_LENGTH(size);
	header.nlmsg_type = type;
	header.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	header.nlmsg_seq = *seq = ++self->seq;
	memcpy(message, &header, sizeof(header));
	if (size > 0)
		memcpy(message + NLMSG_HDRLEN, payload, size);
	do
		sent = sendto(self->fd, message, header.nlmsg_len, 0, (struct sockaddr *)&kernel,
		              sizeof(kernel));
	while (sent < 0 && errno == EINTR);
	if (sent != (gssize)header.nlmsg_len) {
		g_set_error(error, OSQ_ERROR,
		            errno == EPERM ? OSQ_ERROR_PERMISSION_DENIED : OSQ_ERROR_IO,
		            "audit: cannot send a request: %s", g_strerror(errno));
		return FALSE;
	}
	return TRUE;
}

/* Of @messages, the answers to request @seq: the ack's errno (*@answer, -1 until it comes) and
 * the reply of @reply_type into @reply (@reply_size bytes, *@replied). */
static void
audit_match_answers(GPtrArray *messages, guint32 seq, gint *answer, guint16 reply_type, void *reply,
                    gsize reply_size, gboolean *replied)
{
	for (guint i = 0; i < messages->len; i++) {
		const OsqdAuditMessage *message = g_ptr_array_index(messages, i);
		gsize size = 0;
		const guint8 *data;

		if (message->seq != seq)
			continue;
		if (message->type == NLMSG_ERROR) {
			*answer = message->error < 0 ? -message->error : message->error;
		} else if (reply_type != 0 && message->type == reply_type) {
			data = g_bytes_get_data(message->payload, &size);
			memset(reply, 0, reply_size);
			if (size > 0)
				memcpy(reply, data, MIN(size, reply_size));
			*replied = TRUE;
		}
	}
}

/* Sends a request and waits (1 s) for its ack and, with @reply_type, its reply. TRUE with
 * *@answer the kernel's errno (0: done); FALSE when the socket failed or no answer came. */
static gboolean
audit_request(OsqdAuditNetlink *self, guint16 type, const void *payload, gsize size,
              guint16 reply_type, void *reply, gsize reply_size, GPtrArray *records, gint *answer,
              GError **error)
{
	gint64 deadline = g_get_monotonic_time() + AUDIT_ANSWER_MS * 1000;
	gboolean replied = FALSE;
	guint32 seq = 0;

	*answer = -1;
	if (!audit_send(self, type, payload, size, &seq, error))
		return FALSE;
	while (*answer < 0 || (*answer == 0 && reply_type != 0 && !replied)) {
		gint64 left_ms = (deadline - g_get_monotonic_time() + 999) / 1000;
		struct pollfd poll_fd = { .fd = self->fd, .events = POLLIN };
		g_autoptr(GPtrArray) messages =
		        g_ptr_array_new_with_free_func((GDestroyNotify)osqd_audit_message_free);
		g_autoptr(GError) error_local = NULL;

		if (left_ms <= 0) {
			g_set_error(error, OSQ_ERROR, OSQ_ERROR_TIMED_OUT,
			            "audit: the kernel did not answer request %u", (guint)type);
			return FALSE;
		}
		if (poll(&poll_fd, 1, (gint)left_ms) <= 0)
			continue;
		if (audit_receive_messages(self->fd, messages, &error_local) ==
		    OSQD_NETLINK_RECEIVE_FAILED) {
			g_propagate_error(error, g_steal_pointer(&error_local));
			return FALSE;
		}
		audit_match_answers(messages, seq, answer, reply_type, reply, reply_size, &replied);
		if (records != NULL)
			audit_keep_records(messages, records);
	}
	return TRUE;
}

static gboolean
audit_get_status(OsqdAuditNetlink *self, struct audit_status *status, GPtrArray *records,
                 GError **error)
{
	gint answer = 0;

	if (!audit_request(self, AUDIT_GET, NULL, 0, AUDIT_GET, status, sizeof(*status), records,
	                   &answer, error))
		return FALSE;
	if (answer != 0) {
		g_set_error(error, OSQ_ERROR,
		            answer == EPERM || answer == EACCES ? OSQ_ERROR_PERMISSION_DENIED
		                                                : OSQ_ERROR_NOT_SUPPORTED,
		            "audit: cannot read the status: %s%s", g_strerror(answer),
		            answer == EPERM ? " (needs root: CAP_AUDIT_CONTROL)" : "");
		return FALSE;
	}
	return TRUE;
}

/* AUDIT_SET of the fields in @status->mask; the kernel's errno in *@answer. */
static gboolean
audit_set_status(OsqdAuditNetlink *self, const struct audit_status *status, GPtrArray *records,
                 gint *answer, GError **error)
{
	return audit_request(self, AUDIT_SET, status, sizeof(*status), 0, NULL, 0, records, answer,
	                     error);
}

#if defined(__x86_64__)
/* Our rule for @arch and its @syscalls; *@size is its length. */
static guint8 *
audit_rule_new(guint32 arch, const guint32 *syscalls, gsize n_syscalls, gsize *size)
{
	const gsize key_length = strlen(OSQD_AUDIT_RULE_KEY);
	struct audit_rule_data *rule;

	*size = sizeof(*rule) + key_length;
	rule = g_malloc0(*size);
	rule->flags = AUDIT_FILTER_EXIT;
	rule->action = AUDIT_ALWAYS;
	for (gsize i = 0; i < n_syscalls; i++)
		rule->mask[AUDIT_WORD(syscalls[i])] |= AUDIT_BIT(syscalls[i]);
	rule->fields[0] = AUDIT_ARCH;
	rule->values[0] = arch;
	rule->fieldflags[0] = AUDIT_EQUAL;
	rule->fields[1] = AUDIT_FILTERKEY;
	rule->values[1] = (guint32)key_length;
	rule->fieldflags[1] = AUDIT_EQUAL;
	rule->field_count = 2;
	rule->buflen = (guint32)key_length;
	memcpy(rule->buf, OSQD_AUDIT_RULE_KEY, key_length);
	return (guint8 *)rule;
}

/* AUDIT_ADD_RULE or AUDIT_DEL_RULE of both our rules; @tolerated is the errno that is fine
 * (EEXIST when adding: a previous osqd's; ENOENT when deleting). */
static gboolean
audit_rules_apply(OsqdAuditNetlink *self, guint16 type, gint tolerated, GPtrArray *records,
                  GError **error)
{
	static const guint32 x86_64[] = { AUDIT_X86_64_BIND, AUDIT_X86_64_CONNECT,
		                          AUDIT_X86_64_ACCEPT, AUDIT_X86_64_ACCEPT4 };
	static const guint32 i386[] = { AUDIT_I386_SOCKETCALL, AUDIT_I386_BIND, AUDIT_I386_CONNECT,
		                        AUDIT_I386_ACCEPT4 };
	gboolean ok = TRUE;

	for (guint i = 0; i < 2; i++) {
		gsize size = 0;
		g_autofree guint8 *rule =
		        i == 0 ? audit_rule_new(AUDIT_ARCH_X86_64, x86_64, G_N_ELEMENTS(x86_64),
		                                &size)
		               : audit_rule_new(AUDIT_ARCH_I386, i386, G_N_ELEMENTS(i386), &size);
		g_autoptr(GError) error_local = NULL;
		gint answer = 0;

		if (!audit_request(self, type, rule, size, 0, NULL, 0, records, &answer,
		                   &error_local)) {
			ok = FALSE;
		} else if (answer != 0 && answer != tolerated) {
			g_set_error(&error_local, OSQ_ERROR,
			            answer == EPERM ? OSQ_ERROR_PERMISSION_DENIED : OSQ_ERROR_IO,
			            "audit: cannot %s the %s rule: %s",
			            type == AUDIT_ADD_RULE ? "add" : "delete",
			            i == 0 ? "x86_64" : "i386", g_strerror(answer));
			ok = FALSE;
		}
		/* deleting goes on past a failure: leave as little behind as possible */
		if (error_local != NULL && (error == NULL || *error == NULL))
			g_propagate_error(error, g_steal_pointer(&error_local));
		if (!ok && type == AUDIT_ADD_RULE)
			return FALSE;
	}
	return ok;
}
#endif

/* Sets the backlog limit and a wait time of 0, and checks the kernel took it. */
static gboolean
audit_set_backlog(OsqdAuditNetlink *self, GPtrArray *records, GError **error)
{
	struct audit_status status = { 0 };
	gint answer = 0;

	status.mask = AUDIT_STATUS_BACKLOG_LIMIT | AUDIT_STATUS_BACKLOG_WAIT_TIME;
	status.backlog_limit = MAX(self->previous_backlog_limit, OSQD_AUDIT_BACKLOG_MIN);
	status.backlog_wait_time = 0;
	self->status_changed = TRUE; /* the limit may be set when the wait time is refused */
	if (!audit_set_status(self, &status, records, &answer, error))
		return FALSE;
	if (answer != 0) {
		g_set_error(
		        error, OSQ_ERROR, OSQ_ERROR_NOT_SUPPORTED,
		        "audit: the kernel refused a backlog wait time of 0 (%s): socket_events "
		        "does not run when processes could wait for it",
		        g_strerror(answer));
		return FALSE;
	}
	if (!audit_get_status(self, &status, records, error))
		return FALSE;
	if (status.backlog_wait_time != 0) {
		g_set_error(
		        error, OSQ_ERROR, OSQ_ERROR_NOT_SUPPORTED,
		        "audit: the backlog wait time stays %u: socket_events does not run when "
		        "processes could wait for it",
		        (guint)status.backlog_wait_time);
		return FALSE;
	}
	return TRUE;
}

static gboolean
audit_register(OsqdAuditNetlink *self, GPtrArray *records, GError **error)
{
	struct audit_status status = { 0 };
	gint answer = 0;

	status.mask = AUDIT_STATUS_PID | AUDIT_STATUS_ENABLED;
	status.pid = self->pid;
	status.enabled = 1;
	if (!audit_set_status(self, &status, records, &answer, error))
		return FALSE;
	if (answer == EEXIST) {
		struct audit_status now = { 0 };

		if (audit_get_status(self, &now, records, NULL) && now.pid == self->pid)
			self->registered = TRUE; /* it went through after all */
		else
			g_set_error(error, OSQ_ERROR, OSQ_ERROR_PERMISSION_DENIED,
			            "the audit socket belongs to pid %u (auditd?): socket_events "
			            "needs it",
			            (guint)now.pid);
		return self->registered;
	}
	if (answer != 0) {
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_PERMISSION_DENIED,
		            "audit: cannot become the audit process: %s", g_strerror(answer));
		return FALSE;
	}
	self->registered = TRUE;
	return TRUE;
}

/* Refuses a live audit process other than us, a locked configuration, an old kernel. */
static gboolean
audit_check_status(OsqdAuditNetlink *self, const struct audit_status *status, GError **error)
{
	if (status->pid != 0 && status->pid != self->pid) {
		g_autofree gchar *proc = g_strdup_printf("/proc/%u", (guint)status->pid);

		if (g_file_test(proc, G_FILE_TEST_EXISTS)) {
			g_set_error(error, OSQ_ERROR, OSQ_ERROR_PERMISSION_DENIED,
			            "the audit socket belongs to pid %u (auditd?): socket_events "
			            "needs it",
			            (guint)status->pid);
			return FALSE;
		}
		/* a dead one (osqd killed): the kernel lets it go when we register */
	}
	if (status->enabled == 2) {
		g_set_error_literal(error, OSQ_ERROR, OSQ_ERROR_PERMISSION_DENIED,
		                    "audit: the configuration is locked (enabled=2) until reboot");
		return FALSE;
	}
	if ((status->feature_bitmap & AUDIT_FEATURE_BITMAP_BACKLOG_WAIT_TIME) == 0) {
		g_set_error_literal(error, OSQ_ERROR, OSQ_ERROR_NOT_SUPPORTED,
		                    "audit: the kernel cannot set the backlog wait time to 0: "
		                    "socket_events does not run when processes could wait for it");
		return FALSE;
	}
	return TRUE;
}

static gboolean
audit_setup(OsqdAuditNetlink *self, GPtrArray *records, GError **error)
{
	struct audit_status status = { 0 };

	if (!audit_get_status(self, &status, records, error))
		return FALSE;
	if (!audit_check_status(self, &status, error))
		return FALSE;
	self->previous_enabled = status.enabled;
	self->previous_backlog_limit = status.backlog_limit;
	self->previous_wait_time = status.backlog_wait_time;
	self->lost = status.lost;
	if (!audit_set_backlog(self, records, error))
		return FALSE;
	if (!audit_register(self, records, error))
		return FALSE;
#if defined(__x86_64__)
	self->rules_added = TRUE; /* a half-added set is deleted */
	return audit_rules_apply(self, AUDIT_ADD_RULE, EEXIST, records, error);
#else
	return TRUE;
#endif
}

OsqdAuditNetlink *
osqd_audit_netlink_open(GPtrArray *records, GError **error)
{
	g_autoptr(OsqdAuditNetlink) self = NULL;
	const gint buffer_size = AUDIT_RCVBUF;
	gint fd;

	g_return_val_if_fail(records != NULL, NULL);

#if !defined(__x86_64__)
	g_set_error_literal(error, OSQ_ERROR, OSQ_ERROR_NOT_SUPPORTED,
	                    "socket_events: not supported on this architecture (x86_64 only)");
	return NULL;
#endif
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_AUDIT);
	if (fd < 0) {
		gint saved = errno;

		g_set_error(error, OSQ_ERROR,
		            saved == EPERM || saved == EACCES ? OSQ_ERROR_PERMISSION_DENIED
		                                              : OSQ_ERROR_NOT_SUPPORTED,
		            "audit: cannot open the audit socket (no audit in this kernel?): %s",
		            g_strerror(saved));
		return NULL;
	}
	/* SO_RCVBUFFORCE needs CAP_NET_ADMIN; SO_RCVBUF is capped by net.core.rmem_max */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buffer_size, sizeof(buffer_size)) != 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buffer_size, sizeof(buffer_size));
	self = g_new0(OsqdAuditNetlink, 1);
	self->fd = fd;
	self->pid = (guint32)getpid();
	if (!audit_setup(self, records, error))
		return NULL; /* close undoes what was done */
	return g_steal_pointer(&self);
}

gint
osqd_audit_netlink_get_fd(OsqdAuditNetlink *netlink)
{
	return netlink->fd;
}

/* Gives the audit pid back, restores the previous settings (when nobody else took it). */
static void
audit_restore_status(OsqdAuditNetlink *self)
{
	g_autoptr(GError) error = NULL;
	struct audit_status status = { 0 };
	struct audit_status restore = { 0 };
	gint answer = 0;

	if (!audit_get_status(self, &status, NULL, &error)) {
		g_warning("audit: cannot restore the audit settings: %s", error->message);
		return;
	}
	if (status.pid != self->pid && status.pid != 0) {
		g_warning("audit: pid %u took the audit socket: its settings stay",
		          (guint)status.pid);
		return;
	}
	if (self->registered && status.pid == self->pid) {
		restore.mask = AUDIT_STATUS_PID;
		restore.pid = 0;
		if (!audit_set_status(self, &restore, NULL, &answer, &error) || answer != 0)
			g_warning("audit: cannot give the audit socket back: %s",
			          error != NULL ? error->message : g_strerror(answer));
		g_clear_error(&error);
	}
	restore.mask = 0;
	if (self->registered && self->previous_enabled != 1) {
		restore.mask |= AUDIT_STATUS_ENABLED;
		restore.enabled = self->previous_enabled;
	}
	if (self->status_changed) {
		restore.mask |= AUDIT_STATUS_BACKLOG_LIMIT | AUDIT_STATUS_BACKLOG_WAIT_TIME;
		restore.backlog_limit = self->previous_backlog_limit;
		restore.backlog_wait_time = self->previous_wait_time;
	}
	if (restore.mask == 0)
		return;
	if (!audit_set_status(self, &restore, NULL, &answer, &error) || answer != 0)
		g_warning("audit: cannot restore the audit settings: %s",
		          error != NULL ? error->message : g_strerror(answer));
}

void
osqd_audit_netlink_close(OsqdAuditNetlink *netlink)
{
	if (netlink == NULL)
		return;
#if defined(__x86_64__)
	if (netlink->rules_added) {
		g_autoptr(GError) error = NULL;

		if (!audit_rules_apply(netlink, AUDIT_DEL_RULE, ENOENT, NULL, &error))
			g_warning("audit: %s", error->message);
	}
#endif
	if (netlink->registered || netlink->status_changed)
		audit_restore_status(netlink);
	if (netlink->fd >= 0)
		(void)close(netlink->fd);
	g_free(netlink);
}

gboolean
osqd_audit_netlink_check_status(OsqdAuditNetlink *netlink, GPtrArray *records, guint64 *lost,
                                GError **error)
{
	struct audit_status status = { 0 };

	*lost = 0;
	if (!audit_get_status(netlink, &status, records, error))
		return FALSE;
	/* a counter reset (AUDIT_STATUS_LOST) starts again from 0 */
	*lost = status.lost >= netlink->lost ? status.lost - netlink->lost : status.lost;
	netlink->lost = status.lost;
	if (status.backlog_wait_time != 0 && status.pid == netlink->pid) {
		struct audit_status reset = { .mask = AUDIT_STATUS_BACKLOG_WAIT_TIME };
		gint answer = 0;

		g_warning("audit: someone set a backlog wait time of %u: setting it back to 0",
		          (guint)status.backlog_wait_time);
		if (!audit_set_status(netlink, &reset, records, &answer, error))
			return FALSE;
		if (answer != 0) {
			g_set_error(error, OSQ_ERROR, OSQ_ERROR_IO,
			            "audit: cannot set the backlog wait time back to 0: %s",
			            g_strerror(answer));
			return FALSE;
		}
	}
	return TRUE;
}

/* ---- the publisher ---- */

typedef struct {
	gboolean allow_failed;
	gboolean allow_unix;
	OsqdEventSubscriber *subscriber;
	OsqdAuditNetlink *netlink;
	OsqdAuditGroups *groups;
	GPtrArray *records; /* of OsqdAuditRecord: read, not grouped yet */
	GPtrArray *done;    /* of OsqdAuditEvent: complete, not published yet */
	gint64 status_checked_us;
} AuditState;

static gint64
audit_uptime(void)
{
	g_autofree gchar *text = NULL;

	if (!g_file_get_contents("/proc/uptime", &text, NULL, NULL))
		return -1;
	return osqd_proc_connector_parse_uptime(text);
}

static void
audit_publish_done(AuditState *state)
{
	gint64 uptime = -2; /* read once per batch, when needed */

	for (guint i = 0; i < state->done->len; i++) {
		g_autoptr(OsqdAuditSocket) socket = NULL;
		OsqdEventRow *row;

		if (state->subscriber == NULL ||
		    !osqd_event_subscriber_is_enabled(state->subscriber))
			break;
		socket = osqd_audit_socket_new(g_ptr_array_index(state->done, i),
		                               state->allow_failed, state->allow_unix);
		if (socket == NULL)
			continue;
		if (uptime == -2)
			uptime = audit_uptime();
		row = osqd_event_row_new(state->subscriber);
		osqd_audit_socket_to_row(socket, uptime, row);
		osqd_event_subscriber_add(state->subscriber, row);
	}
	g_ptr_array_set_size(state->done, 0);
}

static void
audit_group_records(OsqdEventPublisher *publisher, AuditState *state)
{
	gint64 now = g_get_monotonic_time();
	guint dropped = 0;

	for (guint i = 0; i < state->records->len; i++) {
		OsqdAuditRecord *record = g_ptr_array_index(state->records, i);

		state->records->pdata[i] = NULL; /* taken */
		dropped += osqd_audit_groups_add(state->groups, record, now, state->done);
	}
	g_ptr_array_set_size(state->records, 0);
	if (dropped > 0)
		osqd_event_publisher_count_loss(publisher, OSQD_EVENT_LOSS_QUEUE_FULL, dropped,
		                                TRUE);
	audit_publish_done(state);
}

/* Reads what is queued, a batch at most; FALSE when the socket is unusable. */
static gboolean
audit_drain(OsqdEventPublisher *publisher, AuditState *state)
{
	for (guint i = 0; i < AUDIT_DRAIN_MAX; i++) {
		g_autoptr(GError) error = NULL;

		switch (osqd_audit_netlink_receive(state->netlink, state->records, &error)) {
		case OSQD_NETLINK_RECEIVE_DATA:
			break;
		case OSQD_NETLINK_RECEIVE_NONE:
			return TRUE;
		case OSQD_NETLINK_RECEIVE_IGNORED:
			g_debug("%s", error->message);
			break;
		case OSQD_NETLINK_RECEIVE_OVERFLOW:
			/* our socket's queue, not the kernel's backlog: how many is unknown */
			osqd_event_publisher_count_loss(publisher, OSQD_EVENT_LOSS_KERNEL_OVERFLOW,
			                                1, FALSE);
			break;
		case OSQD_NETLINK_RECEIVE_FAILED:
		default:
			g_warning("%s", error != NULL ? error->message : "audit: failed");
			return FALSE;
		}
		audit_group_records(publisher, state);
	}
	return TRUE;
}

static void
audit_check_losses(OsqdEventPublisher *publisher, AuditState *state)
{
	g_autoptr(GError) error = NULL;
	guint64 lost = 0;

	if (!osqd_audit_netlink_check_status(state->netlink, state->records, &lost, &error))
		g_warning("%s", error->message);
	if (lost > 0)
		osqd_event_publisher_count_loss(publisher, OSQD_EVENT_LOSS_KERNEL_OVERFLOW, lost,
		                                TRUE);
	audit_group_records(publisher, state);
}

static gboolean
audit_publisher_setup(OsqdEventPublisher *publisher, GError **error)
{
	AuditState *state = osqd_event_publisher_get_data(publisher);

	g_return_val_if_fail(state->netlink == NULL, FALSE);

	state->netlink = osqd_audit_netlink_open(state->records, error);
	if (state->netlink == NULL)
		return FALSE;
	state->status_checked_us = g_get_monotonic_time();
	osqd_event_publisher_set_subscriptions(publisher, 1);
	return TRUE;
}

static void
audit_publisher_run(OsqdEventPublisher *publisher)
{
	AuditState *state = osqd_event_publisher_get_data(publisher);
	gint fd = osqd_audit_netlink_get_fd(state->netlink);

	audit_group_records(publisher, state); /* read by setup */
	while (!osqd_event_publisher_stopping(publisher)) {
		struct pollfd poll_fd = { .fd = fd, .events = POLLIN };
		gint ready = poll(&poll_fd, 1, AUDIT_POLL_MS);
		gint64 now;

		if (ready < 0 && errno != EINTR) {
			g_warning("audit: cannot poll the socket: %s", g_strerror(errno));
			break;
		}
		if (ready > 0 && (poll_fd.revents & POLLNVAL) != 0) {
			g_warning("audit: the socket is closed");
			break;
		}
		if (ready > 0 && !audit_drain(publisher, state))
			break;
		now = g_get_monotonic_time();
		osqd_audit_groups_flush(state->groups, now, state->done);
		audit_publish_done(state);
		if (now - state->status_checked_us >= AUDIT_STATUS_EVERY_US) {
			state->status_checked_us = now;
			audit_check_losses(publisher, state);
		}
	}
	osqd_audit_groups_flush(state->groups, G_MAXINT64, state->done);
	audit_publish_done(state);
}

static void
audit_publisher_teardown(OsqdEventPublisher *publisher)
{
	AuditState *state = osqd_event_publisher_get_data(publisher);

	g_clear_pointer(&state->netlink, osqd_audit_netlink_close);
	g_ptr_array_set_size(state->records, 0);
	g_ptr_array_set_size(state->done, 0);
	osqd_event_publisher_set_subscriptions(publisher, 0);
}

static void
audit_state_free(gpointer data)
{
	AuditState *state = data;

	if (state == NULL)
		return;
	osqd_audit_netlink_close(state->netlink);
	osqd_audit_groups_free(state->groups);
	g_ptr_array_unref(state->records);
	g_ptr_array_unref(state->done);
	g_free(state);
}

const OsqdEventPublisherClass osqd_audit_class = {
	.name = "audit",
	.setup = audit_publisher_setup,
	.configure = NULL,
	.run = audit_publisher_run,
	.teardown = audit_publisher_teardown,
	.free_data = audit_state_free,
};

OsqdEventPublisher *
osqd_audit_add(OsqdEvents *events, gboolean allow_failed, gboolean allow_unix, GError **error)
{
	AuditState *state = g_new0(AuditState, 1);
	OsqdEventPublisher *publisher;

	state->allow_failed = allow_failed;
	state->allow_unix = allow_unix;
	state->groups = osqd_audit_groups_new(OSQD_AUDIT_MAX_OPEN, OSQD_AUDIT_MAX_AGE_US);
	state->records = g_ptr_array_new_with_free_func((GDestroyNotify)osqd_audit_record_free);
	state->done = g_ptr_array_new_with_free_func((GDestroyNotify)osqd_audit_event_free);
	/* the framework owns @state from here (free_data) */
	publisher = osqd_events_add_publisher(events, &osqd_audit_class, state);
	state->subscriber = osqd_events_add_subscriber(events, publisher, "socket_events", error);
	if (state->subscriber == NULL)
		return NULL;
	return publisher;
}
