/* SPDX-License-Identifier: Apache-2.0
 *
 * Peer credentials of a Unix socket connection. SO_PEERCRED and SO_PEERGROUPS describe the
 * client as it was when it connected, so nothing here races with the client changing its
 * identity later; only the fallback for old kernels reads /proc and is best effort.
 */
#include "config.h"

#include "osqd-peer.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "osq-error.h"
#include "osqd-table.h"

#define PEER_STATUS_MAX (64 * 1024)

OsqdPeer *
osqd_peer_new(guint32 uid, guint32 gid, gint32 pid)
{
	OsqdPeer *peer = g_new0(OsqdPeer, 1);

	peer->uid = uid;
	peer->gid = gid;
	peer->pid = pid;
	return peer;
}

void
osqd_peer_free(OsqdPeer *peer)
{
	if (peer == NULL)
		return;
	if (peer->groups != NULL)
		g_array_unref(peer->groups);
	g_free(peer);
}

gboolean
osqd_peer_in_group(const OsqdPeer *peer, guint32 gid)
{
	if (peer->gid == gid)
		return TRUE;
	for (guint i = 0; peer->groups != NULL && i < peer->groups->len; i++) {
		if (g_array_index(peer->groups, guint32, i) == gid)
			return TRUE;
	}
	return FALSE;
}

static gboolean
peer_parse_id(const gchar *text, guint32 *id)
{
	guint64 value = 0;

	if (!g_ascii_string_to_unsigned(text, 10, 0, G_MAXUINT32, &value, NULL))
		return FALSE;
	*id = (guint32)value;
	return TRUE;
}

/* The words of a "Name:\tw1\tw2..." line after its name, or NULL. */
static gchar **
peer_status_words(gchar **lines, const gchar *name)
{
	for (guint i = 0; lines[i] != NULL; i++) {
		g_auto(GStrv) words = NULL;
		g_autoptr(GPtrArray) kept = NULL;
		if (!g_str_has_prefix(lines[i], name))
			continue;
		words = g_strsplit_set(lines[i] + strlen(name), " \t", -1);
		kept = g_ptr_array_new_with_free_func(g_free);
		for (guint j = 0; words[j] != NULL; j++) {
			if (words[j][0] != '\0')
				g_ptr_array_add(kept, g_strdup(words[j]));
		}
		g_ptr_array_add(kept, NULL);
		return (gchar **)g_ptr_array_free(g_steal_pointer(&kept), FALSE);
	}
	return NULL;
}

gboolean
osqd_peer_parse_status(const gchar *status, guint32 *euid, guint32 *egid, GArray **groups,
                       GError **error)
{
	g_auto(GStrv) lines = g_strsplit(status, "\n", -1);
	g_auto(GStrv) uids = peer_status_words(lines, "Uid:");
	g_auto(GStrv) gids = peer_status_words(lines, "Gid:");
	g_auto(GStrv) words = peer_status_words(lines, "Groups:");
	g_autoptr(GArray) result = g_array_new(FALSE, FALSE, sizeof(guint32));

	if (uids == NULL || g_strv_length(uids) < 2 || !peer_parse_id(uids[1], euid) ||
	    gids == NULL || g_strv_length(gids) < 2 || !peer_parse_id(gids[1], egid)) {
		g_set_error_literal(error, OSQ_ERROR, OSQ_ERROR_INVALID_ARGUMENT,
		                    "no valid Uid:/Gid: lines in the process status");
		return FALSE;
	}
	if (words == NULL) {
		g_set_error_literal(error, OSQ_ERROR, OSQ_ERROR_INVALID_ARGUMENT,
		                    "no Groups: line in the process status");
		return FALSE;
	}
	for (guint i = 0; words[i] != NULL; i++) {
		guint32 gid;
		if (!peer_parse_id(words[i], &gid)) {
			g_set_error(error, OSQ_ERROR, OSQ_ERROR_INVALID_ARGUMENT,
			            "bad group id '%s' in the process status", words[i]);
			return FALSE;
		}
		g_array_append_val(result, gid);
	}
	*groups = g_steal_pointer(&result);
	return TRUE;
}

/* SO_PEERGROUPS (Linux >= 4.13): the groups at connect() time; NULL when not available. */
static GArray *
peer_groups_from_socket(int fd)
{
#ifdef SO_PEERGROUPS
	socklen_t size = 64 * sizeof(gid_t);

	for (guint attempt = 0; attempt < 2; attempt++) {
		g_autofree gid_t *buffer = g_malloc(size);
		socklen_t got = size;
		GArray *groups;

		if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, buffer, &got) != 0) {
			/* the kernel says how much it needs */
			if (errno != ERANGE || got <= size || got > NGROUPS_MAX * sizeof(gid_t))
				return NULL;
			size = got;
			continue;
		}
		groups = g_array_sized_new(FALSE, FALSE, sizeof(guint32), got / sizeof(gid_t));
		for (guint i = 0; i < got / sizeof(gid_t); i++) {
			guint32 gid = buffer[i];
			g_array_append_val(groups, gid);
		}
		return groups;
	}
#endif
	return NULL;
}

/* The racy fallback: /proc/<pid>/status, kept only if that process still has the peer's ids. */
static GArray *
peer_groups_from_proc(const OsqdPeer *peer)
{
	g_autofree gchar *path = g_strdup_printf("/proc/%d/status", (gint)peer->pid);
	g_autofree gchar *status = NULL;
	g_autoptr(GArray) groups = NULL;
	guint32 euid = 0, egid = 0;

	if (peer->pid <= 0 || !osqd_read_file(path, PEER_STATUS_MAX, &status, NULL, NULL))
		return NULL;
	if (!osqd_peer_parse_status(status, &euid, &egid, &groups, NULL))
		return NULL;
	if (euid != peer->uid || egid != peer->gid)
		return NULL;
	return g_steal_pointer(&groups);
}

OsqdPeer *
osqd_peer_new_from_fd(int fd, GError **error)
{
	struct ucred credentials = { 0 };
	socklen_t len = sizeof(credentials);
	OsqdPeer *peer;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &len) != 0) {
		int saved = errno;
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_FAILED,
		            "cannot read the peer's credentials (SO_PEERCRED): %s",
		            g_strerror(saved));
		return NULL;
	}
	if (len != sizeof(credentials)) {
		g_set_error_literal(
		        error, OSQ_ERROR, OSQ_ERROR_FAILED,
		        "cannot read the peer's credentials (SO_PEERCRED): short answer");
		return NULL;
	}
	peer = osqd_peer_new(credentials.uid, credentials.gid, credentials.pid);
	peer->groups = peer_groups_from_socket(fd);
	if (peer->groups == NULL)
		peer->groups = peer_groups_from_proc(peer);
	return peer;
}

OsqdPeer *
osqd_peer_copy(const OsqdPeer *peer)
{
	OsqdPeer *copy = osqd_peer_new(peer->uid, peer->gid, peer->pid);

	if (peer->groups != NULL) {
		copy->groups = g_array_sized_new(FALSE, FALSE, sizeof(guint32), peer->groups->len);
		g_array_append_vals(copy->groups, peer->groups->data, peer->groups->len);
	}
	return copy;
}
