/* SPDX-License-Identifier: Apache-2.0
 *
 * Pure parser for one line of /proc/modules, so the unit tests can feed it malformed lines.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
	gchar *name;
	gint64 size;
	gchar *used_by; /* "-" when nothing uses the module; no trailing comma */
	gchar *status;  /* Live, Loading or Unloading */
	gchar *address; /* 0x0000000000000000 unless the reader may see kernel addresses */
} OsqdKernelModule;

void osqd_kernel_modules_clear(OsqdKernelModule *module);

/* "name size refcount used_by status address [taints]": FALSE (and @module untouched) for a
 * line with fewer than six fields or a size that is not a number. */
gboolean osqd_kernel_modules_parse_line(const gchar *line, OsqdKernelModule *module);

G_END_DECLS
