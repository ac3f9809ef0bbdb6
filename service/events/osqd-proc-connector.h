/* SPDX-License-Identifier: Apache-2.0
 *
 * The process_events publisher: the Linux netlink process connector (NETLINK_CONNECTOR,
 * CN_IDX_PROC) tells us the pid of every exec and exit; the rest of an exec row is read from
 * /proc/<pid> as soon as the event is read, by a thread with real-time priority when the system
 * grants it, so even very short-lived programs are usually caught; a process already gone has
 * those columns NULL. The kernel numbers its process events (of every kind) per CPU; a jump in
 * that number is counted as lost events. Listening needs root (CAP_NET_ADMIN) on older kernels, and
 * the initial user and pid namespace on all. The parser, the sequence accounting and the /proc
 * reader are pure (or read only under a root prefix), for tests on hand-built datagrams and fixture
 * trees.
 */
#pragma once

#include <glib.h>

#include "osqd-events.h"
#include "osqd-netlink.h"

G_BEGIN_DECLS

typedef enum {
	OSQD_PROC_EVENT_KIND_OTHER, /* fork, uid, comm...: only its sequence number matters */
	OSQD_PROC_EVENT_KIND_EXEC,
	OSQD_PROC_EVENT_KIND_EXIT,
	OSQD_PROC_EVENT_KIND_FORK, /* pid/tid: the child; parent_tgid: its parent */
	OSQD_PROC_EVENT_KIND_ACK,  /* the answer to a listen/ignore request (numbered too) */
} OsqdProcEventKind;

typedef struct {
	OsqdProcEventKind kind;
	guint32 cpu;
	guint32 seq;          /* cn_msg.seq, per CPU (an ack on older kernels: the request's) */
	guint32 ack;          /* cn_msg.ack (an ack: the request's ack + 1) */
	gint64 pid;           /* process_tgid */
	gint64 tid;           /* process_pid */
	guint32 exit_code;    /* exit: the status as wait() reports it */
	gint64 parent_tgid;   /* exit: -1 when the kernel is too old to say; fork: the parent */
	guint64 timestamp_ns; /* CLOCK_MONOTONIC */
	guint32 ack_error;    /* ack: an errno, 0 for success */
} OsqdProcEvent;

/* Appends to @events (of OsqdProcEvent) every process event in the netlink datagram @data;
 * messages of other connectors, NLMSG_NOOP and zero NLMSG_ERRORs (acks) are skipped. FALSE
 * with @error on a malformed or truncated message or an NLMSG_ERROR with an error; the events
 * before it are still appended. */
gboolean osqd_proc_connector_parse(const guint8 *data, gsize size, GArray *events, GError **error);

/* The unix time (seconds) of an event stamped @timestamp_ns (CLOCK_MONOTONIC), given the
 * clocks now; a stamp from the future counts as now. */
gint64 osqd_proc_connector_event_time(guint64 timestamp_ns, gint64 realtime_now_ns,
                                      gint64 monotonic_now_ns);

/* ---- sequence gaps ---- */

typedef struct _OsqdProcSeq OsqdProcSeq;

OsqdProcSeq *osqd_proc_connector_seq_new(void);
void osqd_proc_connector_seq_free(OsqdProcSeq *seq);
/* Notes event @number of @cpu; returns how many events of that CPU were skipped since the last
 * one. The first of a CPU sets its baseline, a number going backwards (a wrap, a restart) resets
 * it; neither counts as lost, nor does a CPU index past 4095 (not tracked). */
guint64 osqd_proc_connector_seq_check(OsqdProcSeq *seq, guint32 cpu, guint32 number);

/* ---- /proc ---- */

typedef struct {
	gint64 pid;
	gchar *path;       /* readlink exe; NULL: unreadable */
	gchar *cmdline;    /* arguments joined by spaces; NULL: unreadable */
	gchar *cwd;        /* readlink cwd; NULL: unreadable */
	gboolean has_uids; /* the Uid: line was read */
	gint64 uid, euid, suid, fsuid;
	gboolean has_gids; /* the Gid: line was read */
	gint64 gid, egid, sgid, fsgid;
	gint64 parent;     /* PPid:; -1: unreadable */
	gboolean has_stat; /* the executable was stat()ed */
	guint32 mode;      /* permission bits (07777) */
	gint64 owner_uid, owner_gid, atime, mtime, ctime;
	gint64 uptime; /* seconds; -1: unreadable */
} OsqdProcInfo;

/* Reads what /proc says about @pid under @root ("" or "/": the live system). Never fails:
 * what cannot be read (the process is gone, EACCES) is left unset. */
OsqdProcInfo *osqd_proc_connector_read_info(const gchar *root, gint64 pid);
void osqd_proc_connector_info_free(OsqdProcInfo *info);

/* Pure parsers of /proc/<pid>/status (Uid:, Gid:, PPid:) and /proc/uptime, into @info. */
void osqd_proc_connector_parse_status(const gchar *text, OsqdProcInfo *info);
gint64 osqd_proc_connector_parse_uptime(const gchar *text);
/* /proc/<pid>/cmdline (@size bytes, NUL-separated) as one line; NUL bytes become spaces,
 * trailing ones are dropped. */
gchar *osqd_proc_connector_join_cmdline(const gchar *data, gsize size);

/* Whether the open file @fd is an ELF program loader (ld.so: position independent, naming no
 * interpreter); fanotify reports it after the program it loads. */
gboolean osqd_proc_connector_is_elf_loader(gint fd);

/* Fills a process_events row: an exec from @info, an exit from @event. */
void osqd_proc_connector_fill_exec(OsqdEventRow *row, const OsqdProcInfo *info);
void osqd_proc_connector_fill_exit(OsqdEventRow *row, const OsqdProcEvent *event);

/* ---- the socket ---- */

/* A process connector socket (close-on-exec, non-blocking, an 8 MiB receive buffer when
 * allowed), bound to the process events group, with the listen request sent and the kernel's
 * answer awaited (1 s at most). What was read meanwhile, the answer too (its number counts),
 * is appended to @events. -1 with @error when it cannot listen: OSQ_ERROR_PERMISSION_DENIED
 * without root (CAP_NET_ADMIN), OSQ_ERROR_NOT_SUPPORTED without the connector or outside the
 * initial namespaces. */
gint osqd_proc_connector_socket_open(GArray *events, GError **error);
/* Sends the ignore request and closes @fd (-1: nothing). */
void osqd_proc_connector_socket_close(gint fd);

/* Reads one datagram from @fd without waiting and appends its events to @events (DATA: maybe
 * none; a malformed one: those before the fault, and IGNORED). */
OsqdNetlinkReceive osqd_proc_connector_socket_receive(gint fd, GArray *events, GError **error);

/* ---- the publisher ---- */

extern const OsqdEventPublisherClass osqd_proc_connector_class;

/* Adds the "proc_connector" publisher, reading /proc under @root (NULL, "" or "/": the live
 * system), and its subscriber "process_events". Not started: osqd_events_start() does that. */
OsqdEventPublisher *osqd_proc_connector_add(OsqdEvents *events, const gchar *root, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(OsqdProcSeq, osqd_proc_connector_seq_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(OsqdProcInfo, osqd_proc_connector_info_free)

G_END_DECLS
