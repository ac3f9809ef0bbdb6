/* SPDX-License-Identifier: Apache-2.0
 *
 * Who is on the other end of a Unix socket: uid, gid and pid from SO_PEERCRED and the
 * supplementary groups from SO_PEERGROUPS, all as they were at connect() time. The server
 * takes one per connection; the access policy decides on it.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Who is on the other end of a connection. */
typedef struct {
	guint32 uid;
	guint32 gid;
	gint32 pid;
	GArray *groups; /* guint32 supplementary gids, may be NULL (unknown) */
} OsqdPeer;

/* A peer with no supplementary groups (add them to ->groups if needed). */
OsqdPeer *osqd_peer_new(guint32 uid, guint32 gid, gint32 pid);
/* The credentials of the process on the other end of the Unix socket @fd, as they were when it
 * called connect() (SO_PEERCRED). Supplementary groups come from SO_PEERGROUPS (same moment);
 * on kernels without it (< 4.13) they are read from /proc/<pid>/status, which is racy (the
 * process may have changed its groups, or exited and its pid been reused): best effort, only
 * kept when that process still has the peer's effective uid and gid. */
OsqdPeer *osqd_peer_new_from_fd(int fd, GError **error);
void osqd_peer_free(OsqdPeer *peer);
/* TRUE when @gid is the peer's primary group or one of its supplementary groups. */
gboolean osqd_peer_in_group(const OsqdPeer *peer, guint32 gid);
/* Pure parser of /proc/<pid>/status: the effective uid and gid (from "Uid:"/"Gid:") and the
 * supplementary groups ("Groups:"). */
gboolean osqd_peer_parse_status(const gchar *status, guint32 *euid, guint32 *egid, GArray **groups,
                                GError **error);
/* A deep copy. */
OsqdPeer *osqd_peer_copy(const OsqdPeer *peer);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(OsqdPeer, osqd_peer_free)

G_END_DECLS
