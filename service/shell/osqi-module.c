/* SPDX-License-Identifier: Apache-2.0
 *
 * Plain dlopen(RTLD_NOW | RTLD_LOCAL): a module's own libraries stay out of the executable's
 * namespace and every symbol is resolved (or the load fails) before anything runs. The first
 * directory holding the file wins; a module found there that does not load is an error rather
 * than a reason to try the next directory, so a stale copy never hides silently. Handles are
 * never closed: json-glib registers GTypes that cannot be unloaded.
 */
#include "config.h"

#include "osqi-module.h"

#include <dlfcn.h>

#include "osq-error.h"

#ifndef OSQI_MODULE_INSTALL_DIR
#error "OSQI_MODULE_INSTALL_DIR must be defined by the build"
#endif

static void
module_search_path_add(GPtrArray *dirs, const gchar *dir)
{
	if (dir == NULL || dir[0] == '\0')
		return;
	for (guint i = 0; i < dirs->len; i++) {
		if (g_strcmp0(dirs->pdata[i], dir) == 0)
			return;
	}
	g_ptr_array_add(dirs, g_strdup(dir));
}

GPtrArray *
osqi_module_search_path(void)
{
	GPtrArray *dirs = g_ptr_array_new_with_free_func(g_free);
	g_autofree gchar *exe = g_file_read_link("/proc/self/exe", NULL);

	module_search_path_add(dirs, g_getenv("OSQI_MODULE_DIR"));
	if (exe != NULL) {
		g_autofree gchar *exe_dir = g_path_get_dirname(exe);
		module_search_path_add(dirs, exe_dir);
	}
	module_search_path_add(dirs, OSQI_MODULE_INSTALL_DIR);
	return dirs;
}

/* The table of the module at @path, or NULL with the reason in @error. */
static gconstpointer
module_open(const gchar *path, const gchar *name, guint32 abi_version, gsize size, GError **error)
{
	g_autofree gchar *symbol = g_strdup_printf("osqi_%s_module", name);
	const OsqiModuleHeader *header;
	void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);

	if (handle == NULL) {
		g_set_error_literal(error, OSQ_ERROR, OSQ_ERROR_NOT_SUPPORTED, dlerror());
		return NULL;
	}
	header = dlsym(handle, symbol);
	if (header == NULL) {
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_NOT_SUPPORTED, "%s: no symbol %s", path,
		            symbol);
		(void)dlclose(handle);
		return NULL;
	}
	if (header->abi_version != abi_version || header->size < size) {
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_NOT_SUPPORTED,
		            "%s: module ABI version %u (%u bytes), this osqi needs version %u "
		            "(%" G_GSIZE_FORMAT " bytes)",
		            path, header->abi_version, header->size, abi_version, size);
		(void)dlclose(handle);
		return NULL;
	}
	return header;
}

gconstpointer
osqi_module_load(const gchar *name, const gchar *needed_for, guint32 abi_version, gsize size,
                 GError **error)
{
	g_autofree gchar *file = g_strdup_printf("osqi-%s.so", name);
	g_autoptr(GPtrArray) dirs = osqi_module_search_path();
	g_autoptr(GError) error_local = NULL;
	g_autofree gchar *searched = NULL;
	gconstpointer table;

	for (guint i = 0; i < dirs->len; i++) {
		g_autofree gchar *path = g_build_filename(dirs->pdata[i], file, NULL);
		if (!g_file_test(path, G_FILE_TEST_EXISTS))
			continue;
		table = module_open(path, name, abi_version, size, &error_local);
		if (table == NULL) {
			g_set_error(error, OSQ_ERROR, OSQ_ERROR_NOT_SUPPORTED,
			            "cannot load %s (needed for %s): %s", file, needed_for,
			            error_local->message);
			return NULL;
		}
		return table;
	}
	g_ptr_array_add(dirs, NULL);
	searched = g_strjoinv(", ", (gchar **)dirs->pdata);
	g_set_error(error, OSQ_ERROR, OSQ_ERROR_NOT_SUPPORTED,
	            "cannot load %s (needed for %s): not found in %s (set OSQI_MODULE_DIR)", file,
	            needed_for, searched);
	return NULL;
}
