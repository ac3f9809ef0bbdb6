/* SPDX-License-Identifier: Apache-2.0
 *
 * The socket_events publisher: the Linux audit subsystem (NETLINK_AUDIT) reports every bind,
 * connect, accept and accept4 (and the i386 socketcall that multiplexes them) through rules
 * osqd installs (filter key "osq-sockets") while it runs. The kernel sends audit records to
 * one registered process only, so setup refuses when another live process (auditd) holds it;
 * it sets the backlog wait time to 0 (a full backlog drops records, counted by the kernel as
 * `lost`, and never makes a process wait for us) and restores the previous settings when it
 * stops. Processes forked before audit was first enabled since boot have no audit context and
 * are never reported (boot with audit=1 to close that gap).
 *
 * One call yields several records (SYSCALL, SOCKADDR, PROCTITLE..., then EOE) sharing a serial;
 * they are grouped by serial and a group is complete at its EOE, or after a second without one.
 * Serials are shared by every audit event, so a gap in them is no loss; the kernel's `lost`
 * counter, read every 5 s, is. The record parsers, the grouping and the row decision are pure,
 * for tests on hand-written records; the netlink helpers need no framework.
 */
#pragma once

#include <glib.h>

#include "osqd-events.h"
#include "osqd-netlink.h"

G_BEGIN_DECLS

#define OSQD_AUDIT_RULE_KEY    "osq-sockets"
#define OSQD_AUDIT_MAX_FIELDS  256  /* key=value pairs kept per record */
#define OSQD_AUDIT_MAX_OPEN    1024 /* groups waiting for their EOE */
#define OSQD_AUDIT_MAX_AGE_US  G_USEC_PER_SEC
#define OSQD_AUDIT_BACKLOG_MIN 8192

/* ---- records ---- */

/* Parses the "audit(SECONDS.MILLIS:SERIAL): " that starts a record's text; *@body points past
 * it (may be NULL). FALSE (OSQ_ERROR_INVALID_ARGUMENT) when it is not there. */
gboolean osqd_audit_parse_header(const gchar *text, gint64 *seconds, guint32 *milliseconds,
                                 guint64 *serial, const gchar **body, GError **error);

/* The key=value pairs of @body, values as written (quotes kept: see osqd_audit_decode_string).
 * A word without '=' is skipped, a repeated key keeps its first value. FALSE on a quote that
 * does not close or more than OSQD_AUDIT_MAX_FIELDS pairs. */
GHashTable *osqd_audit_parse_fields(const gchar *body, GError **error);

/* An untrusted string as the kernel writes it: "quoted", hex-encoded (when it has spaces,
 * quotes or control characters; cut at a NUL) or (null) (NULL). Anything else is kept. */
gchar *osqd_audit_decode_string(const gchar *value);

typedef struct {
	guint type; /* AUDIT_SYSCALL, AUDIT_SOCKADDR, AUDIT_EOE */
	gint64 time;
	guint32 milliseconds;
	guint64 serial;
	GHashTable *fields; /* key -> value as written */
} OsqdAuditRecord;

/* The record of @type with text @text (@size bytes, need not end with a NUL; one does end it). */
OsqdAuditRecord *osqd_audit_record_parse(guint type, const gchar *text, gsize size, GError **error);
void osqd_audit_record_free(OsqdAuditRecord *record);
const gchar *osqd_audit_record_get(const OsqdAuditRecord *record, const gchar *key);
/* The field @key as a number in @base (16 or 10; a leading '-' allowed in base 10). */
gboolean osqd_audit_record_get_int(const OsqdAuditRecord *record, const gchar *key, guint base,
                                   gint64 *value);

/* ---- socket addresses ---- */

typedef struct {
	gint family;    /* -1: no address */
	gchar *address; /* IPv4 or IPv6 text; NULL otherwise or when too short */
	gint port;      /* IPv4 and IPv6; 0 otherwise */
	gchar *path;    /* Unix: the path ("" unnamed, '@' first: abstract); NULL otherwise */
} OsqdAuditSockaddr;

/* Parses a SOCKADDR record's saddr= (the hex of the sockaddr the call used). An address too
 * short for its family gives the family only. FALSE on odd or non-hex text, or fewer than the
 * two bytes of a family. @out is cleared first; clear it with osqd_audit_sockaddr_clear. */
gboolean osqd_audit_parse_sockaddr(const gchar *hex, OsqdAuditSockaddr *out, GError **error);
void osqd_audit_sockaddr_clear(OsqdAuditSockaddr *sockaddr);

/* ---- groups ---- */

typedef struct {
	guint64 serial;
	gint64 time;               /* the first record's, unix seconds */
	OsqdAuditRecord *syscall;  /* NULL: none seen */
	OsqdAuditRecord *sockaddr; /* NULL: none (accept without an address, say) */
	gint64 arrived_us;         /* monotonic time of the first record */
	gboolean ended;            /* its EOE arrived */
} OsqdAuditEvent;

void osqd_audit_event_free(OsqdAuditEvent *event);

typedef struct _OsqdAuditGroups OsqdAuditGroups;

/* Groups records by serial: at most @max_open open groups, each complete at its EOE or once
 * older than @max_age_us. */
OsqdAuditGroups *osqd_audit_groups_new(guint max_open, gint64 max_age_us);
void osqd_audit_groups_free(OsqdAuditGroups *groups);
/* Takes @record (arrived at @now_us). Appends the groups it completes to @done (of
 * OsqdAuditEvent, taken by the array's free function): its own at an EOE, and, when it opens a
 * new group, those older than the age limit. Returns how many groups it dropped, the oldest, to
 * stay under the cap. An EOE of no open group is ignored. */
guint osqd_audit_groups_add(OsqdAuditGroups *groups, OsqdAuditRecord *record, gint64 now_us,
                            GPtrArray *done);
/* Completes the groups older than the age limit at @now_us (G_MAXINT64: all). */
void osqd_audit_groups_flush(OsqdAuditGroups *groups, gint64 now_us, GPtrArray *done);
guint osqd_audit_groups_get_open(OsqdAuditGroups *groups);

/* ---- rows ---- */

typedef struct {
	const gchar *action; /* "bind", "connect", "accept" */
	gint64 pid;
	gchar *path; /* exe; NULL when absent */
	gchar *fd;   /* decimal; NULL for socketcall (the arguments are in memory) */
	gint64 auid; /* -1: absent */
	OsqdAuditSockaddr address;
	gboolean success;
	const gchar *status; /* succeeded, failed, in_progress, no_client */
	gint64 time;
} OsqdAuditSocket;

/* The socket_events row of @event, or NULL when there is none: not one of our calls (syscall
 * number and arch), no SYSCALL record, a failed call (in_progress aside) without
 * @allow_failed, a Unix socket without @allow_unix. */
OsqdAuditSocket *osqd_audit_socket_new(const OsqdAuditEvent *event, gboolean allow_failed,
                                       gboolean allow_unix);
void osqd_audit_socket_free(OsqdAuditSocket *socket);
/* Fills a socket_events row (@uptime < 0: left NULL). */
void osqd_audit_socket_to_row(const OsqdAuditSocket *socket, gint64 uptime, OsqdEventRow *row);

/* ---- netlink ---- */

typedef struct {
	guint16 type;
	guint32 seq;     /* nlmsg_seq: a reply's request */
	gint32 error;    /* NLMSG_ERROR: 0 (an ack) or a negative errno */
	GBytes *payload; /* after the netlink header; a record's text (padding NULs dropped) */
} OsqdAuditMessage;

void osqd_audit_message_free(OsqdAuditMessage *message);

/* Appends the messages of a datagram from the audit socket to @messages (of
 * OsqdAuditMessage). Records (type 1100 and above) are sent one per datagram with an
 * nlmsg_len that leaves out the header (an old quirk of the kernel's): their text is the rest
 * of the datagram. FALSE on a malformed or truncated message; those before it are kept. */
gboolean osqd_audit_parse_netlink(const guint8 *data, gsize size, GPtrArray *messages,
                                  GError **error);

typedef struct _OsqdAuditNetlink OsqdAuditNetlink;

/* Opens the audit socket and takes it: fails (OSQ_ERROR_PERMISSION_DENIED) when another live
 * process holds it or the configuration is locked, (OSQ_ERROR_NOT_SUPPORTED) off x86_64, without
 * audit in the kernel or when the backlog wait time cannot be set to 0. Sets pid, enabled,
 * backlog limit (OSQD_AUDIT_BACKLOG_MIN at least) and wait time 0, installs the rules. Records
 * read while waiting for the kernel's answers are appended to @records (of OsqdAuditRecord).
 * On failure whatever was changed is undone. */
OsqdAuditNetlink *osqd_audit_netlink_open(GPtrArray *records, GError **error);
/* Removes the rules, gives the socket back (pid 0, when it is still ours), restores the
 * previous enabled, backlog limit and wait time, closes. NULL: nothing. */
void osqd_audit_netlink_close(OsqdAuditNetlink *netlink);
gint osqd_audit_netlink_get_fd(OsqdAuditNetlink *netlink);

/* Reads one datagram without waiting; its SYSCALL, SOCKADDR and EOE records go to @records
 * (DATA: maybe none). */
OsqdNetlinkReceive osqd_audit_netlink_receive(OsqdAuditNetlink *netlink, GPtrArray *records,
                                              GError **error);
/* Asks the kernel for its status (waiting 1 s at most, records read meanwhile appended to
 * @records); *@lost is how many records it lost since the last call (or open). When someone set
 * a backlog wait time, sets it back to 0. */
gboolean osqd_audit_netlink_check_status(OsqdAuditNetlink *netlink, GPtrArray *records,
                                         guint64 *lost, GError **error);

/* ---- the publisher ---- */

extern const OsqdEventPublisherClass osqd_audit_class;

/* Adds the "audit" publisher and its "socket_events" subscriber; @allow_failed keeps failed
 * calls, @allow_unix Unix sockets. Not started: osqd_events_start() does that. */
OsqdEventPublisher *osqd_audit_add(OsqdEvents *events, gboolean allow_failed, gboolean allow_unix,
                                   GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(OsqdAuditRecord, osqd_audit_record_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(OsqdAuditEvent, osqd_audit_event_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(OsqdAuditGroups, osqd_audit_groups_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(OsqdAuditSocket, osqd_audit_socket_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(OsqdAuditMessage, osqd_audit_message_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(OsqdAuditNetlink, osqd_audit_netlink_close)

G_END_DECLS
