/* SPDX-License-Identifier: Apache-2.0
 *
 * Helpers for the unit tests of the event framework and its publishers: the database is made
 * by the store itself, so the tests never carry a copy of its schema.
 */
#include "config.h"

#include "osqd-events-testing.h"

#include <glib/gstdio.h>
#include <sys/stat.h>

#include "osqd-store.h"

gchar *
osqd_events_testing_database(const gchar *name_template, gchar **database, GError **error)
{
	g_autofree gchar *dir = g_dir_make_tmp(name_template, error);
	g_autofree gchar *path = NULL;
	OsqdStore *store;

	if (dir == NULL)
		return NULL;
	path = g_build_filename(dir, "osqd.db", NULL);
	store = osqd_store_open(path, error);
	if (store == NULL) {
		(void)osqd_events_testing_remove_tree(dir);
		return NULL;
	}
	osqd_store_close(store);
	*database = g_steal_pointer(&path);
	return g_steal_pointer(&dir);
}

gboolean
osqd_events_testing_remove_tree(const gchar *path)
{
	gboolean removed = TRUE;
	struct stat st;

	if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
		const gchar *name;

		while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
			g_autofree gchar *child = g_build_filename(path, name, NULL);

			removed = osqd_events_testing_remove_tree(child) && removed;
		}
	}
	return g_remove(path) == 0 && removed;
}
