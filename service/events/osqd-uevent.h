/* SPDX-License-Identifier: Apache-2.0
 *
 * The uevent publisher: the kernel's device events (NETLINK_KOBJECT_UEVENT, multicast group 1),
 * one hardware_events row each. A datagram is "ACTION@DEVPATH\0KEY=VALUE\0..."; the row adds
 * what the device's sysfs directory says about it (USB and PCI ids, names, serial) when it is
 * still there. Only datagrams sent by the kernel (sender port 0, credentials uid 0) count: any
 * process may send on this protocol, so a forged "add" is otherwise easy.
 *
 * Losses: the kernel numbers every uevent with one global counter (SEQNUM), so a gap in it is
 * counted as lost events (OSQD_EVENT_LOSS_SEQUENCE_GAP), as is a receive queue overflow
 * (ENOBUFS, inexact). A gap is not always a loss of ours, though, so the gap count is an upper
 * bound:
 *  - the counter is shared by every network namespace, but a uevent of a device that belongs to
 *    another network namespace (a container's `lo`, a veth end moved into it) is only sent to
 *    that namespace's sockets: each such event is a gap here, so starting a container makes
 *    some. Uevents that a privileged process injects into another namespace (writing to its
 *    uevent socket) take a number too.
 *  - in a network namespace not owned by the initial user namespace (a rootless container) the
 *    kernel sends no uevents of other devices at all, only gaps.
 *  - recent kernels ("kobject: reduce uevent_sock_mutex scope", 2024) take the number before
 *    the broadcast lock, so two CPUs may deliver N+1 before N. The sequence helper therefore
 *    keeps the 64 numbers below the highest one seen open: a late arrival fills its hole and is
 *    not counted; a hole is counted when it falls out of that window, when the caller flushes
 *    (the publisher does after 200 ms without datagrams) or when the numbers jump backwards
 *    past the window (a reset: the new number is the new baseline).
 *
 * The parser, the sequence helper and the device description are pure (the description reads
 * files under a root prefix), for tests on fixture trees; the socket helpers need no framework.
 */
#pragma once

#include <glib.h>

#include "osqd-events.h"
#include "osqd-netlink.h"

G_BEGIN_DECLS

#define OSQD_UEVENT_MAX_SIZE           16384 /* a datagram; the kernel's are under 2.5 KiB */
#define OSQD_UEVENT_MAX_PROPERTIES     256
#define OSQD_UEVENT_ATTRIBUTE_MAX_SIZE 4096
#define OSQD_UEVENT_SEQUENCE_WINDOW    64

/* ---- one datagram ---- */

typedef struct {
	gchar *action;          /* "add", "remove", "change", "move", "bind", ... */
	gchar *devpath;         /* under /sys, starts with '/' */
	gchar *subsystem;       /* SUBSYSTEM, NULL when absent */
	gchar *devtype;         /* DEVTYPE, NULL when absent */
	gchar *driver;          /* DRIVER, NULL when absent */
	guint64 seqnum;         /* SEQNUM, when @has_seqnum */
	gboolean has_seqnum;    /* FALSE when absent or not a number */
	GHashTable *properties; /* every KEY=VALUE (strings; a repeated key: the last one) */
} OsqdUevent;

void osqd_uevent_free(OsqdUevent *uevent);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(OsqdUevent, osqd_uevent_free)

/* Parses one kernel uevent datagram of @size bytes (the last field need not end with a NUL).
 * Fails (OSQ_ERROR_INVALID_ARGUMENT) on udev's "libudev" messages, an empty or oversized
 * datagram, a header without '@', a DEVPATH that is not absolute or has a ".." part, a field
 * without '=', more than OSQD_UEVENT_MAX_PROPERTIES fields, and a missing or mismatched ACTION=
 * (or a mismatched DEVPATH=). */
OsqdUevent *osqd_uevent_parse(const guint8 *buffer, gsize size, GError **error);

/* ---- sequence numbers ---- */

typedef struct {
	gboolean started;
	guint64 highest; /* the highest SEQNUM seen */
	guint64 holes;   /* bit i: highest - 1 - i not seen yet */
} OsqdUeventSequence;

void osqd_uevent_sequence_init(OsqdUeventSequence *sequence);
/* Notes @seqnum; returns how many events are now known lost (holes that left the window). The
 * first number is the baseline; a repeat is ignored. */
guint64 osqd_uevent_sequence_next(OsqdUeventSequence *sequence, guint64 seqnum);
/* Closes every open hole; returns how many that was. */
guint64 osqd_uevent_sequence_flush(OsqdUeventSequence *sequence);

/* ---- the row ---- */

/* hardware_events' text columns; "" when unknown, never NULL. */
typedef struct {
	gchar *action;
	gchar *path; /* "/sys" + DEVPATH, as on the host */
	gchar *type;
	gchar *driver;
	gchar *vendor;
	gchar *vendor_id;
	gchar *model;
	gchar *model_id;
	gchar *serial;
	gchar *revision;
} OsqdUeventDevice;

void osqd_uevent_device_free(OsqdUeventDevice *device);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(OsqdUeventDevice, osqd_uevent_device_free)

/* Describes @uevent, reading the device's sysfs attributes under @root ("" or "/": the live
 * system) unless it is a "remove". Unreadable attributes are left empty. */
OsqdUeventDevice *osqd_uevent_device_new(const OsqdUevent *uevent, const gchar *root);
/* Copies @device into a hardware_events row. */
void osqd_uevent_device_to_row(const OsqdUeventDevice *device, OsqdEventRow *row);

/* ---- the socket ---- */

/* A uevent socket bound to the kernel's group (close-on-exec, non-blocking, credentials on, an
 * 8 MiB receive buffer when allowed). -1 with @error when it cannot be opened. */
gint osqd_uevent_socket_open(GError **error);

/* Reads one datagram from @fd, without waiting; on DATA *@uevent is set. */
OsqdNetlinkReceive osqd_uevent_socket_receive(gint fd, OsqdUevent **uevent, GError **error);

/* ---- the publisher ---- */

extern const OsqdEventPublisherClass osqd_uevent_class;

/* Adds the "uevent" publisher (reading sysfs under @root) and its hardware_events subscriber. */
OsqdEventPublisher *osqd_uevent_add(OsqdEvents *events, const gchar *root, GError **error);

G_END_DECLS
