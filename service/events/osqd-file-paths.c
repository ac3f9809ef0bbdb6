/* SPDX-License-Identifier: Apache-2.0
 *
 * File paths (see the header). A pattern is split into components; `%` inside a middle
 * component is expanded now, against what exists (osquery does the same at configure time: a
 * directory that appears later needs a reconfigure); the last component decides the watch: a
 * plain name with no trailing slash watches that entry, a trailing slash or `%` watches the
 * directory and counts the names the leaf glob matches, `%%` watches the directory and every
 * directory below it. Matching turns `%%` into "anything, slashes too" and `%` into "anything
 * but a slash".
 */
#include "config.h"

#include "osqd-file-paths.h"

#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>

#include "osq-error.h"

#define OSQD_FILE_PATHS_MAX_EXPANSION 4096

void
osqd_file_path_free(OsqdFilePath *path)
{
	if (path == NULL)
		return;
	g_free(path->pattern);
	g_free(path->watch);
	g_free(path->leaf);
	g_free(path);
}

/* osquery's `%` as a glob `*` (one level); @text has no `%%` */
static gchar *
file_path_glob(const gchar *text)
{
	GString *out = g_string_new(NULL);

	for (const gchar *p = text; *p != '\0'; p++)
		g_string_append_c(out, *p == '%' ? '*' : *p);
	return g_string_free(out, FALSE);
}

/* Glob match where '*' does not cross '/' (fnmatch with FNM_PATHNAME, by hand). */
static gboolean
file_path_glob_match(const gchar *glob, const gchar *text)
{
	if (*glob == '\0')
		return *text == '\0';
	if (*glob == '*') {
		for (const gchar *t = text;; t++) {
			if (file_path_glob_match(glob + 1, t))
				return TRUE;
			if (*t == '\0' || *t == '/')
				return FALSE;
		}
	}
	if (*text == '\0' || *glob != *text)
		return FALSE;
	return file_path_glob_match(glob + 1, text + 1);
}

static gboolean
file_path_is_dir(const gchar *root, const gchar *path)
{
	g_autofree gchar *full = g_strconcat(root, path, NULL);
	struct stat st;

	return stat(full, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Expands the wildcard middle components of @components[0..n) into directories under @root. */
static GPtrArray *
file_path_expand(const gchar *root, gchar **components, guint n)
{
	GPtrArray *dirs = g_ptr_array_new_with_free_func(g_free);

	g_ptr_array_add(dirs, g_strdup(""));
	for (guint i = 0; i < n; i++) {
		const gchar *part = components[i];
		GPtrArray *next;
		if (part[0] == '\0')
			continue;
		next = g_ptr_array_new_with_free_func(g_free);
		for (guint d = 0; d < dirs->len; d++) {
			const gchar *dir = dirs->pdata[d];
			if (strchr(part, '%') == NULL) {
				g_ptr_array_add(next, g_strconcat(dir, "/", part, NULL));
				continue;
			} else {
				g_autofree gchar *glob = file_path_glob(part);
				g_autofree gchar *full =
				        g_strconcat(root, dir[0] != '\0' ? dir : "/", NULL);
				g_autoptr(GDir) handle = g_dir_open(full, 0, NULL);
				const gchar *name;
				while (handle != NULL && (name = g_dir_read_name(handle)) != NULL &&
				       next->len < OSQD_FILE_PATHS_MAX_EXPANSION) {
					g_autofree gchar *candidate =
					        g_strconcat(dir, "/", name, NULL);
					if (file_path_glob_match(glob, name) &&
					    file_path_is_dir(root, candidate))
						g_ptr_array_add(next, g_steal_pointer(&candidate));
				}
			}
		}
		g_ptr_array_unref(dirs);
		dirs = next;
	}
	return dirs;
}

GPtrArray *
osqd_file_path_plan(const gchar *pattern, const gchar *root, GError **error)
{
	g_autoptr(GPtrArray) plans =
	        g_ptr_array_new_with_free_func((GDestroyNotify)osqd_file_path_free);
	g_auto(GStrv) components = NULL;
	g_autoptr(GPtrArray) dirs = NULL;
	const gchar *double_wild = pattern != NULL ? strstr(pattern, "%%") : NULL;
	gboolean recursive = FALSE, trailing;
	g_autofree gchar *body = NULL;
	guint n;
	const gchar *last;

	if (pattern == NULL || pattern[0] != '/') {
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_INVALID_ARGUMENT,
		            "file path %s: an absolute path is needed (no ~, no relative paths)",
		            pattern != NULL ? pattern : "(null)");
		return NULL;
	}
	if (double_wild != NULL && strcmp(double_wild, "%%") != 0) {
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_INVALID_ARGUMENT,
		            "file path %s: %%%% is only allowed at the end", pattern);
		return NULL;
	}
	body = g_strdup(pattern);
	if (double_wild != NULL) {
		recursive = TRUE;
		body[strlen(body) - 2] = '\0';
	}
	trailing = g_str_has_suffix(body, "/");
	components = g_strsplit(body, "/", -1);
	n = g_strv_length(components);
	/* the last non-empty component is the leaf, unless the pattern ends in a slash */
	last = trailing || recursive ? "" : components[n - 1];
	dirs = file_path_expand(root != NULL ? root : "", components,
	                        trailing || recursive ? n : n - 1);
	for (guint d = 0; d < dirs->len; d++) {
		const gchar *dir = dirs->pdata[d];
		OsqdFilePath *plan = g_new0(OsqdFilePath, 1);
		plan->pattern = g_strdup(pattern);
		plan->recursive = recursive;
		if (last[0] == '\0') {
			/* "/dir/" and "/dir/%%": the directory, every name */
			plan->watch = g_strdup(dir[0] != '\0' ? dir : "/");
		} else if (strchr(last, '%') != NULL) {
			/* "/dir/%.conf": the directory, names matching the leaf */
			plan->watch = g_strdup(dir[0] != '\0' ? dir : "/");
			plan->leaf = file_path_glob(last);
		} else {
			/* "/dir/file" (or "/dir"): that entry */
			plan->watch = g_strconcat(dir, "/", last, NULL);
			plan->file = TRUE;
		}
		g_ptr_array_add(plans, plan);
	}
	return g_steal_pointer(&plans);
}

gboolean
osqd_file_path_matches(const OsqdFilePath *plan, const gchar *path)
{
	gsize len = strlen(plan->watch);
	const gchar *rest;

	if (plan->file)
		return g_strcmp0(plan->watch, path) == 0;
	if (strncmp(path, plan->watch, len) != 0)
		return FALSE;
	rest = path + len;
	if (len > 1 || plan->watch[0] != '/') {
		if (*rest != '/')
			return FALSE;
		rest++;
	}
	if (*rest == '\0')
		return FALSE;
	if (plan->recursive)
		return TRUE;
	/* directly inside: one component, matching the leaf if there is one */
	if (strchr(rest, '/') != NULL)
		return FALSE;
	return plan->leaf == NULL || file_path_glob_match(plan->leaf, rest);
}

/* Whether @path matches the exclude @pattern (the same syntax, matched as a whole). */
static gboolean
file_path_pattern_matches(const gchar *pattern, const gchar *path)
{
	g_autoptr(GPtrArray) plans = osqd_file_path_plan(pattern, NULL, NULL);

	if (plans == NULL)
		return FALSE;
	/* excludes are matched by text, not by what exists: no expansion of middle wildcards */
	if (strchr(pattern, '%') != NULL && !g_str_has_suffix(pattern, "%%")) {
		g_autofree gchar *glob = file_path_glob(pattern);
		return file_path_glob_match(glob, path);
	}
	for (guint i = 0; i < plans->len; i++) {
		const OsqdFilePath *plan = plans->pdata[i];
		if (osqd_file_path_matches(plan, path) || g_strcmp0(plan->watch, path) == 0)
			return TRUE;
	}
	return FALSE;
}

gboolean
osqd_file_path_excluded(GPtrArray *excludes, const gchar *path)
{
	g_autofree gchar *parent = g_path_get_dirname(path);

	for (guint i = 0; excludes != NULL && i < excludes->len; i++) {
		if (file_path_pattern_matches(excludes->pdata[i], path) ||
		    file_path_pattern_matches(excludes->pdata[i], parent))
			return TRUE;
	}
	return FALSE;
}

const gchar *
osqd_file_action(guint32 mask)
{
	static const struct {
		guint32 bit;
		const gchar *name;
	} actions[] = {
		{ IN_ACCESS, "ACCESSED" },
		{ IN_MODIFY, "UPDATED" },
		{ IN_ATTRIB, "ATTRIBUTES_MODIFIED" },
		{ IN_CLOSE_WRITE, "UPDATED" },
		{ IN_OPEN, "OPENED" },
		{ IN_MOVED_FROM, "MOVED_FROM" },
		{ IN_MOVED_TO, "MOVED_TO" },
		{ IN_CREATE, "CREATED" },
		{ IN_DELETE, "DELETED" },
	};

	for (gsize i = 0; i < G_N_ELEMENTS(actions); i++) {
		if ((mask & actions[i].bit) != 0)
			return actions[i].name;
	}
	return NULL;
}
