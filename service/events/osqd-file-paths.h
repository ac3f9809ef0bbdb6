/* SPDX-License-Identifier: Apache-2.0
 *
 * File integrity monitoring paths, as osquery's config writes them (file_paths, exclude_paths):
 * `%` matches any text within one path component, `%%` (only at the end) anything below a
 * directory, `/dir` the entry itself, `/dir/` or `/dir/%` the entries directly inside. A pattern
 * becomes a watch plan (where inotify watches go, whether new sub-directories get watches, which
 * names of a watched directory count) and a matcher for event paths; exclude patterns use the
 * same syntax. Also the names osquery gives inotify actions. Pure functions, for the inotify
 * publisher and its tests.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
	gchar *pattern;     /* as configured */
	gchar *watch;       /* the directory (or file) that gets the watch, without wildcards */
	gboolean recursive; /* a %% pattern: every directory below @watch, new ones too */
	gboolean file;      /* the pattern names one entry (no trailing / and no wildcard) */
	gchar *leaf;        /* names inside @watch that count (a glob; NULL: all) */
	/* the pattern's wildcard components above the leaf are expanded into several plans */
} OsqdFilePath;

void osqd_file_path_free(OsqdFilePath *path);

/* Plans for @pattern: one, or several when a middle component has a wildcard (expanded
 * against the file system under @root, "" for the live system). An error names what is wrong:
 * relative, `%%` not at the end, `~`. */
GPtrArray *osqd_file_path_plan(const gchar *pattern, const gchar *root, GError **error);

/* Whether an event on @path (absolute) belongs to @path_plan. */
gboolean osqd_file_path_matches(const OsqdFilePath *plan, const gchar *path);

/* Whether @path is excluded by any of @excludes (patterns, the same syntax): the path itself or
 * its parent directory matching one (osquery's rule). */
gboolean osqd_file_path_excluded(GPtrArray *excludes, const gchar *path);

/* osquery's action name for an inotify event mask (the first matching bit in ascending order),
 * or NULL for masks that are not reported. */
const gchar *osqd_file_action(guint32 mask);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(OsqdFilePath, osqd_file_path_free)

G_END_DECLS
