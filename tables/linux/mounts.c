/* SPDX-License-Identifier: Apache-2.0
 *
 * mounts: one row per line of /proc/mounts (the reader's mount namespace), with the block and
 * inode counters of statfs(). statfs() runs only on the live root and only when the query uses
 * one of those columns; it is skipped for autofs (it would trigger the automount) and for
 * network and remote file systems, whose server can make it hang, and those rows report 0 as
 * osquery does when statfs() fails. device_alias resolves symlinked device paths
 * (/dev/mapper/vg-root -> /dev/dm-0) inside the root prefix.
 */
#include "config.h"

#include "mounts.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>

#include "osqd-tables-generated.h"

#define MOUNTS_FILE_MAX (16 * 1024 * 1024)

void
osqd_mounts_entry_clear(OsqdMountsEntry *entry)
{
	g_clear_pointer(&entry->device, g_free);
	g_clear_pointer(&entry->path, g_free);
	g_clear_pointer(&entry->type, g_free);
	g_clear_pointer(&entry->flags, g_free);
}

static gboolean
mounts_is_octal(gchar c)
{
	return c >= '0' && c <= '7';
}

gchar *
osqd_mounts_unescape(const gchar *text, gsize len)
{
	GString *out = g_string_sized_new(len);

	for (gsize i = 0; i < len; i++) {
		if (text[i] == '\\' && i + 3 < len && mounts_is_octal(text[i + 1]) &&
		    mounts_is_octal(text[i + 2]) && mounts_is_octal(text[i + 3])) {
			guint value = (guint)(text[i + 1] - '0') * 64 +
			              (guint)(text[i + 2] - '0') * 8 + (guint)(text[i + 3] - '0');
			if (value > 0 && value < 256) {
				g_string_append_c(out, (gchar)value);
				i += 3;
				continue;
			}
		}
		g_string_append_c(out, text[i]);
	}
	return g_string_free(out, FALSE);
}

gboolean
osqd_mounts_parse_line(const gchar *line, OsqdMountsEntry *entry)
{
	const gchar *starts[4];
	gsize lengths[4];
	const gchar *p = line;
	guint n = 0;

	while (n < 4) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0' || *p == '\n')
			break;
		starts[n] = p;
		while (*p != '\0' && *p != '\n' && *p != ' ' && *p != '\t')
			p++;
		lengths[n] = (gsize)(p - starts[n]);
		n++;
	}
	if (n < 4)
		return FALSE;
	entry->device = osqd_mounts_unescape(starts[0], lengths[0]);
	entry->path = osqd_mounts_unescape(starts[1], lengths[1]);
	entry->type = osqd_mounts_unescape(starts[2], lengths[2]);
	entry->flags = osqd_mounts_unescape(starts[3], lengths[3]);
	return TRUE;
}

gboolean
osqd_mounts_type_is_remote(const gchar *type)
{
	static const gchar *const remote[] = {
		"autofs",       "nfs",          "nfs4",
		"cifs",         "smb3",         "smbfs",
		"ncpfs",        "afs",          "ceph",
		"glusterfs",    "lustre",       "davfs",
		"coda",         "gfs2",         "ocfs2",
		"fuse.sshfs",   "fuse.ceph",    "fuse.glusterfs",
		"fuse.s3fs",    "fuse.rclone",  "fuse.davfs2",
		"fuse.gcsfuse", "fuse.juicefs", "fuse.cephfs",
		"sshfs",
	};

	for (guint i = 0; i < G_N_ELEMENTS(remote); i++) {
		if (g_strcmp0(type, remote[i]) == 0)
			return TRUE;
	}
	return FALSE;
}

/* The device with its symlinks resolved inside the root prefix; the device itself when it is
 * not an absolute path or does not resolve. */
static gchar *
mounts_device_alias(OsqdTableContext *ctx, const gchar *real_root, const gchar *device)
{
	g_autofree gchar *path = NULL;
	g_autofree gchar *resolved = NULL;
	gsize root_len;

	if (device[0] != '/')
		return g_strdup(device);
	path = osqd_table_context_path(ctx, "%s", device);
	resolved = realpath(path, NULL);
	if (resolved == NULL)
		return g_strdup(device);
	if (g_strcmp0(osqd_table_context_get_root(ctx), "/") == 0)
		return g_steal_pointer(&resolved);
	if (real_root == NULL)
		return g_strdup(device);
	root_len = strlen(real_root);
	if (strncmp(resolved, real_root, root_len) != 0 || resolved[root_len] != '/')
		return g_strdup(device); /* the link leaves the fixture tree */
	return g_strdup(resolved + root_len);
}

static void
mounts_set_counters(OsqdRow *row, const struct statfs *st)
{
	osqd_row_set_int(row, OSQD_MOUNTS_COL_BLOCKS_SIZE, st != NULL ? (gint64)st->f_bsize : 0);
	osqd_row_set_int(row, OSQD_MOUNTS_COL_BLOCKS, st != NULL ? (gint64)st->f_blocks : 0);
	osqd_row_set_int(row, OSQD_MOUNTS_COL_BLOCKS_FREE, st != NULL ? (gint64)st->f_bfree : 0);
	osqd_row_set_int(row, OSQD_MOUNTS_COL_BLOCKS_AVAILABLE,
	                 st != NULL ? (gint64)st->f_bavail : 0);
	osqd_row_set_int(row, OSQD_MOUNTS_COL_INODES, st != NULL ? (gint64)st->f_files : 0);
	osqd_row_set_int(row, OSQD_MOUNTS_COL_INODES_FREE, st != NULL ? (gint64)st->f_ffree : 0);
}

static gboolean
mounts_counters_used(OsqdTableContext *ctx)
{
	for (guint c = OSQD_MOUNTS_COL_BLOCKS_SIZE; c <= OSQD_MOUNTS_COL_INODES_FREE; c++) {
		if (osqd_table_context_column_used(ctx, c))
			return TRUE;
	}
	return FALSE;
}

static void
mounts_add_row(OsqdTableContext *ctx, OsqdRowSink *sink, const OsqdMountsEntry *entry,
               gboolean do_statfs, const gchar *real_root)
{
	OsqdRow *row = osqd_row_sink_append(sink);

	osqd_row_set_text(row, OSQD_MOUNTS_COL_DEVICE, entry->device);
	if (osqd_table_context_column_used(ctx, OSQD_MOUNTS_COL_DEVICE_ALIAS))
		osqd_row_take_text(row, OSQD_MOUNTS_COL_DEVICE_ALIAS,
		                   mounts_device_alias(ctx, real_root, entry->device));
	osqd_row_set_text(row, OSQD_MOUNTS_COL_PATH, entry->path);
	osqd_row_set_text(row, OSQD_MOUNTS_COL_TYPE, entry->type);
	osqd_row_set_text(row, OSQD_MOUNTS_COL_FLAGS, entry->flags);
	if (do_statfs && !osqd_mounts_type_is_remote(entry->type)) {
		struct statfs st;
		if (statfs(entry->path, &st) == 0) {
			mounts_set_counters(row, &st);
			return;
		}
		g_debug("statfs %s: %s", entry->path, g_strerror(errno));
	}
	mounts_set_counters(row, NULL);
}

gboolean
osqd_table_mounts_generate(OsqdTableContext *ctx, OsqdRowSink *sink, GError **error)
{
	g_autofree gchar *path = osqd_table_context_path(ctx, "/proc/mounts");
	g_autofree gchar *text = NULL;
	g_autofree gchar *real_root = NULL;
	g_autoptr(GError) error_local = NULL;
	gboolean live = g_strcmp0(osqd_table_context_get_root(ctx), "/") == 0;
	gboolean do_statfs = live && mounts_counters_used(ctx);
	gchar *line, *next;

	if (!osqd_read_file(path, MOUNTS_FILE_MAX, &text, NULL, &error_local)) {
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_IO, "cannot list the mounts: %s",
		            g_str_has_prefix(error_local->message, path)
		                    ? error_local->message + strlen(path) + 2
		                    : error_local->message);
		return FALSE;
	}
	if (!live)
		real_root = realpath(osqd_table_context_get_root(ctx), NULL);
	for (line = text; line != NULL && *line != '\0'; line = next) {
		OsqdMountsEntry entry = { 0 };

		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		if (!osqd_mounts_parse_line(line, &entry)) {
			if (*line != '\0')
				g_debug("skipping malformed mount line '%s'", line);
			continue;
		}
		if (!osqd_table_context_check(ctx, error)) {
			osqd_mounts_entry_clear(&entry);
			return FALSE;
		}
		mounts_add_row(ctx, sink, &entry, do_statfs, real_root);
		osqd_mounts_entry_clear(&entry);
	}
	return TRUE;
}
