/* SPDX-License-Identifier: Apache-2.0
 *
 * Pure parsers for the mounts table: one /proc/mounts line into its fields, with the kernel's
 * octal escapes (\040 for a space...) decoded, and the test for file systems whose statfs()
 * could block on a network or a user-space daemon.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
	gchar *device;
	gchar *path;
	gchar *type;
	gchar *flags;
} OsqdMountsEntry;

void osqd_mounts_entry_clear(OsqdMountsEntry *entry);

/* Decodes the \NNN octal escapes the kernel writes for blanks and backslashes. */
gchar *osqd_mounts_unescape(const gchar *text, gsize len);

/* Splits one line of /proc/mounts (device path type options dump pass); FALSE (and @entry
 * untouched) when it has fewer than four fields. */
gboolean osqd_mounts_parse_line(const gchar *line, OsqdMountsEntry *entry);

/* TRUE for autofs and the network / remote file systems osq does not statfs(). */
gboolean osqd_mounts_type_is_remote(const gchar *type);

G_END_DECLS
