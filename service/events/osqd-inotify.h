/* SPDX-License-Identifier: Apache-2.0
 *
 * The inotify publisher and the file_events subscriber (file integrity monitoring). The config's
 * file_paths become watches (osqd-file-paths.h: `%`, `%%`, middle wildcards expanded at
 * configure time); every directory below a `%%` pattern is watched, new ones as they appear.
 * A single-entry pattern watches its directory and filters the name, so the entry is seen when
 * it is created and after an editor replaced it (osquery watches the entry itself and loses
 * it then). Each event is matched against the categories whose patterns cover its path, minus the
 * category's exclude_paths, and becomes one row per category, with stat() data and, for created
 * and updated regular files, their hashes, taken when the event is read. IN_Q_OVERFLOW is
 * counted as a loss (the kernel does not say how many events it dropped).
 */
#pragma once

#include <glib.h>

#include "osqd-events.h"

G_BEGIN_DECLS

/* What configure takes: the config's file paths (file_paths_query results merged in). */
typedef struct {
	GHashTable *file_paths;    /* category -> GPtrArray of patterns */
	GHashTable *exclude_paths; /* category -> GPtrArray of patterns */
	GPtrArray *file_accesses;  /* categories that also report OPENED and ACCESSED */
} OsqdInotifyPaths;

extern const OsqdEventPublisherClass osqd_inotify_class;

/* Adds the inotify publisher and the file_events subscriber. @root prefixes every watched path
 * ("" or "/": the live system); @hash: hash created and updated files. */
OsqdEventPublisher *osqd_inotify_add(OsqdEvents *events, const gchar *root, gboolean hash,
                                     GError **error);

/* The number of inotify watches in place. */
guint osqd_inotify_get_n_watches(OsqdEventPublisher *publisher);

G_END_DECLS
