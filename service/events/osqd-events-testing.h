/* SPDX-License-Identifier: Apache-2.0
 *
 * Helpers for the unit tests of the event framework and its publishers (linked into tests
 * only): a database with the store's own schema, and removing a temporary tree.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Makes a temporary directory from @name_template (g_dir_make_tmp) holding "osqd.db" with the
 * schema osqd's store creates; returns the directory and sets *@database to the database's
 * path. NULL with @error set when either cannot be made. */
gchar *osqd_events_testing_database(const gchar *name_template, gchar **database, GError **error);

/* Removes @path and everything below it (symbolic links are removed, never followed); FALSE
 * when something could not be removed. */
gboolean osqd_events_testing_remove_tree(const gchar *path);

G_END_DECLS
