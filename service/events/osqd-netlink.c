/* SPDX-License-Identifier: Apache-2.0
 *
 * One datagram from a kernel netlink socket, checked to come from the kernel.
 */
#include "config.h"

#include "osqd-netlink.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/netlink.h>

#include "osq-error.h"

/* The sender's uid from SCM_CREDENTIALS; FALSE when there is none. */
static gboolean
netlink_sender_uid(struct msghdr *message, uid_t *uid)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(message); c != NULL; c = CMSG_NXTHDR(message, c)) {
		struct ucred credentials;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_CREDENTIALS ||
		    c->cmsg_len < CMSG_LEN(sizeof(credentials)))
			continue;
		memcpy(&credentials, CMSG_DATA(c), sizeof(credentials));
		*uid = credentials.uid;
		return TRUE;
	}
	return FALSE;
}

OsqdNetlinkReceive
osqd_netlink_receive(gint fd, guint8 *buffer, gsize capacity, gboolean want_root_credentials,
                     const gchar *what, gsize *size, GError **error)
{
	union {
		struct cmsghdr header;
		guint8 space[CMSG_SPACE(sizeof(struct ucred))];
	} control;
	struct sockaddr_nl sender = { 0 };
	struct iovec vector = { .iov_base = buffer, .iov_len = capacity };
	struct msghdr message = {
		.msg_name = &sender,
		.msg_namelen = sizeof(sender),
		.msg_iov = &vector,
		.msg_iovlen = 1,
		.msg_control = want_root_credentials ? &control : NULL,
		.msg_controllen = want_root_credentials ? sizeof(control) : 0,
	};
	gssize n = recvmsg(fd, &message, MSG_DONTWAIT);
	uid_t uid = (uid_t)-1;

	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return OSQD_NETLINK_RECEIVE_NONE;
		if (errno == ENOBUFS)
			return OSQD_NETLINK_RECEIVE_OVERFLOW;
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_IO, "%s: cannot read the socket: %s", what,
		            g_strerror(errno));
		return OSQD_NETLINK_RECEIVE_FAILED;
	}
	if (message.msg_namelen < sizeof(sender) || sender.nl_family != AF_NETLINK ||
	    sender.nl_pid != 0) {
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_PERMISSION_DENIED,
		            "%s: a message not from the kernel (port %u)", what,
		            (guint)sender.nl_pid);
		return OSQD_NETLINK_RECEIVE_IGNORED;
	}
	if (want_root_credentials && (!netlink_sender_uid(&message, &uid) || uid != 0)) {
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_PERMISSION_DENIED,
		            "%s: a message without root credentials (uid %d)", what, (gint)uid);
		return OSQD_NETLINK_RECEIVE_IGNORED;
	}
	if ((message.msg_flags & MSG_TRUNC) != 0) {
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_LIMIT, "%s: a message was truncated", what);
		return OSQD_NETLINK_RECEIVE_IGNORED;
	}
	*size = (gsize)n;
	return OSQD_NETLINK_RECEIVE_DATA;
}
