/* SPDX-License-Identifier: Apache-2.0
 *
 * osqi's optional parts (JSON output, the line editor) are shared modules loaded on first use,
 * so a one-shot `osqi "SQL"` never pays the dynamic loader for json-glib, gio or libedit. A
 * module exports one table of function pointers, `osqi_<name>_module`, that starts with an
 * OsqiModuleHeader; the loader refuses a table built for another ABI version.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define OSQI_MODULE_EXPORT __attribute__((visibility("default")))

typedef struct {
	guint32 abi_version; /* the OSQI_<NAME>_MODULE_ABI the module was built with */
	guint32 size;        /* sizeof the whole table */
} OsqiModuleHeader;

/* The directories searched for modules, in order: $OSQI_MODULE_DIR if set, the directory of
 * the running executable (the build tree keeps osqi and its modules together), then the
 * install directory. */
GPtrArray *osqi_module_search_path(void);

/* Loads osqi-<name>.so from the first directory of the search path that has it and returns
 * its table, once its header matches @abi_version and is at least @size bytes. The module
 * stays loaded. NULL with @error "cannot load osqi-<name>.so (needed for <needed_for>):
 * <reason>" otherwise. */
gconstpointer osqi_module_load(const gchar *name, const gchar *needed_for, guint32 abi_version,
                               gsize size, GError **error);

G_END_DECLS
