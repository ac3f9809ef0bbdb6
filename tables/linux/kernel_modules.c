/* SPDX-License-Identifier: Apache-2.0
 *
 * kernel_modules: the loaded modules, one row per line of /proc/modules (one read of one
 * file, so there is nothing to push down). A kernel built without module support has no
 * /proc/modules: the table is then empty rather than an error. The kernel shows real load
 * addresses only to readers allowed by kernel.kptr_restrict, zeros to the others.
 */
#include "config.h"

#include "kernel_modules.h"

#include <string.h>

#include "osqd-tables-generated.h"

#define KERNEL_MODULES_FILE_MAX (8 * 1024 * 1024)

void
osqd_kernel_modules_clear(OsqdKernelModule *module)
{
	g_clear_pointer(&module->name, g_free);
	g_clear_pointer(&module->used_by, g_free);
	g_clear_pointer(&module->status, g_free);
	g_clear_pointer(&module->address, g_free);
}

gboolean
osqd_kernel_modules_parse_line(const gchar *line, OsqdKernelModule *module)
{
	g_auto(GStrv) fields = g_strsplit_set(line, " \t", -1);
	const gchar *found[6];
	gsize used_len;
	guint n = 0;
	gchar *end = NULL;
	guint64 size;

	for (guint i = 0; fields[i] != NULL && n < G_N_ELEMENTS(found); i++) {
		if (fields[i][0] != '\0')
			found[n++] = fields[i];
	}
	if (n < G_N_ELEMENTS(found) || !g_ascii_isdigit(found[1][0]))
		return FALSE;
	size = g_ascii_strtoull(found[1], &end, 10);
	if (*end != '\0' || size > G_MAXINT64)
		return FALSE;
	used_len = strlen(found[3]);
	if (used_len > 1 && found[3][used_len - 1] == ',')
		used_len--;
	module->name = g_strdup(found[0]);
	module->size = (gint64)size;
	module->used_by = g_strndup(found[3], used_len);
	module->status = g_strdup(found[4]);
	module->address = g_strdup(found[5]);
	return TRUE;
}

gboolean
osqd_table_kernel_modules_generate(OsqdTableContext *ctx, OsqdRowSink *sink, GError **error)
{
	g_autofree gchar *path = osqd_table_context_path(ctx, "/proc/modules");
	g_autofree gchar *text = NULL;
	g_autoptr(GError) error_local = NULL;
	g_auto(GStrv) lines = NULL;

	if (!osqd_read_file(path, KERNEL_MODULES_FILE_MAX, &text, NULL, &error_local)) {
		if (g_error_matches(error_local, G_FILE_ERROR, G_FILE_ERROR_NOENT)) {
			g_debug("no /proc/modules: kernel without loadable module support");
			return TRUE;
		}
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_IO, "cannot list the kernel modules: %s",
		            g_str_has_prefix(error_local->message, path)
		                    ? error_local->message + strlen(path) + 2
		                    : error_local->message);
		return FALSE;
	}
	lines = g_strsplit(text, "\n", -1);
	for (guint i = 0; lines[i] != NULL; i++) {
		OsqdKernelModule module = { 0 };
		OsqdRow *row;

		if (!osqd_kernel_modules_parse_line(lines[i], &module)) {
			if (lines[i][0] != '\0')
				g_debug("skipping malformed module line '%s'", lines[i]);
			continue;
		}
		row = osqd_row_sink_append(sink);
		osqd_row_set_text(row, OSQD_KERNEL_MODULES_COL_NAME, module.name);
		osqd_row_set_int(row, OSQD_KERNEL_MODULES_COL_SIZE, module.size);
		osqd_row_set_text(row, OSQD_KERNEL_MODULES_COL_USED_BY, module.used_by);
		osqd_row_set_text(row, OSQD_KERNEL_MODULES_COL_STATUS, module.status);
		osqd_row_set_text(row, OSQD_KERNEL_MODULES_COL_ADDRESS, module.address);
		osqd_kernel_modules_clear(&module);
	}
	return TRUE;
}
