/* SPDX-License-Identifier: Apache-2.0
 *
 * Reading the kernel's netlink sockets, shared by the publishers that use one (the process
 * connector, uevents, audit): one datagram at a time, never waiting, and only what the kernel
 * itself sent, since any process may send to a netlink port.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
	OSQD_NETLINK_RECEIVE_DATA,     /* a datagram from the kernel (the caller parses it) */
	OSQD_NETLINK_RECEIVE_NONE,     /* nothing queued (EAGAIN, EINTR) */
	OSQD_NETLINK_RECEIVE_IGNORED,  /* not from the kernel, truncated or malformed (@error) */
	OSQD_NETLINK_RECEIVE_OVERFLOW, /* ENOBUFS: datagrams were dropped */
	OSQD_NETLINK_RECEIVE_FAILED,   /* the socket is unusable (@error) */
} OsqdNetlinkReceive;

/* Reads one datagram from the netlink socket @fd into @buffer (@capacity bytes) without
 * waiting; on DATA *@size is its length. A datagram is kept only when it comes from port 0 and,
 * with @want_root_credentials (the socket has SO_PASSCRED), carries uid 0. @what names the
 * socket in error messages ("uevent", "audit"...). */
OsqdNetlinkReceive osqd_netlink_receive(gint fd, guint8 *buffer, gsize capacity,
                                        gboolean want_root_credentials, const gchar *what,
                                        gsize *size, GError **error);

G_END_DECLS
