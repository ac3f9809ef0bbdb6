/* SPDX-License-Identifier: Apache-2.0
 *
 * Pure helpers of the file tables (file, hash, suid_bin), exposed for unit tests: the LIKE and
 * GLOB matchers that drive path expansion, the mode/type/permission formatters and the
 * passwd/group parser. None of them touch the filesystem.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* SQLite LIKE on one path component: '%' any run of characters, '_' exactly one (UTF-8)
 * character, ASCII letters compared without case. @pattern is @pattern_len bytes long (it need
 * not be NUL-terminated); @name is NUL-terminated. */
gboolean osqd_files_like_match(const gchar *pattern, gsize pattern_len, const gchar *name);

/* SQLite GLOB on a whole path: '*' any run (including '/'), '?' one character, '[...]' a set
 * ('^' inverts, 'a-z' ranges). Case-sensitive. With @prefix, TRUE when some string that starts
 * with @text could match (used to prune a directory walk). */
gboolean osqd_files_glob_match(const gchar *pattern, const gchar *text, gboolean prefix);

/* TRUE if @component holds a LIKE wildcard ('%' or '_'). */
gboolean osqd_files_like_has_wildcard(const gchar *component, gsize len);

/* The permission bits of @mode as four octal digits ("0644", "4755"), like osquery's lsperms. */
void osqd_files_mode_string(guint mode, gchar out[8]);

/* osquery's name for the file type in @mode: "regular", "directory", "symlink", "character",
 * "block", "fifo", "socket" or "unknown". */
const gchar *osqd_files_type_name(guint mode);

/* suid_bin's permissions column: "S" for setuid, "G" for setgid, "SG" for both, "" for none. */
const gchar *osqd_files_suid_permissions(guint mode);

/* The last component of @path, ignoring trailing slashes ("/etc/" -> "etc", "/" -> "/"). */
gchar *osqd_files_basename(const gchar *path);

/* The parent of @path, ignoring trailing slashes ("/etc/passwd" -> "/etc", "/etc" -> "/"). */
gchar *osqd_files_dirname(const gchar *path);

G_END_DECLS
