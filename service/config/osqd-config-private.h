/* SPDX-License-Identifier: Apache-2.0
 *
 * Helpers shared by the config module's files; not for users of the library.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Reads a file whole (bounded); OSQ_ERROR_NOT_FOUND, OSQ_ERROR_IO or OSQ_ERROR_LIMIT. */
gboolean osqd_config_read_file(const gchar *path, gchar **text, GError **error);
/* Strips comments and checks the size and depth caps; errors start with "@name: ". */
gchar *osqd_config_source_prepare(const gchar *name, const gchar *text, GError **error);

G_END_DECLS
