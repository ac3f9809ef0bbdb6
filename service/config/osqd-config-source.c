/* SPDX-License-Identifier: Apache-2.0
 *
 * Config sources: the filesystem plugin's file list, osquery's comment syntax, and the caps a
 * source must fit before json-glib sees it (1 MiB after stripping, nesting depth 32). Stripping
 * keeps every newline so json-glib's line numbers still point into the original text.
 */
#include "config.h"

#include "osqd-config.h"
#include "osqd-config-private.h"

#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>

#include "osq-error.h"

/* A file read from disk may hold a lot of comments; this bounds the read itself. */
#define OSQD_CONFIG_MAX_FILE_SIZE (16 * 1024 * 1024)

OsqdConfigSource *
osqd_config_source_new(const gchar *name, const gchar *text)
{
	OsqdConfigSource *source = g_new0(OsqdConfigSource, 1);

	source->name = g_strdup(name);
	source->text = g_strdup(text);
	return source;
}

void
osqd_config_source_free(OsqdConfigSource *source)
{
	if (source == NULL)
		return;
	g_free(source->name);
	g_free(source->text);
	g_free(source);
}

gboolean
osqd_config_read_file(const gchar *path, gchar **text, GError **error)
{
	g_autoptr(GError) error_local = NULL;
	GStatBuf info;
	gsize length = 0;

	if (g_stat(path, &info) == 0 && S_ISREG(info.st_mode) &&
	    info.st_size > OSQD_CONFIG_MAX_FILE_SIZE) {
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_LIMIT, "%s: larger than %d bytes", path,
		            OSQD_CONFIG_MAX_FILE_SIZE);
		return FALSE;
	}
	if (!g_file_get_contents(path, text, &length, &error_local)) {
		gint code = g_error_matches(error_local, G_FILE_ERROR, G_FILE_ERROR_NOENT)
		                    ? OSQ_ERROR_NOT_FOUND
		                    : OSQ_ERROR_IO;
		g_set_error(error, OSQ_ERROR, code, "%s", error_local->message);
		return FALSE;
	}
	if (memchr(*text, '\0', length) != NULL) {
		g_clear_pointer(text, g_free);
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_INVALID_ARGUMENT, "%s: contains a NUL byte",
		            path);
		return FALSE;
	}
	return TRUE;
}

static gint
source_compare_names_cb(gconstpointer a, gconstpointer b)
{
	return strcmp(*(const gchar *const *)a, *(const gchar *const *)b);
}

/* Regular files of @directory, sorted by name; an absent directory gives an empty list. */
static gboolean
source_list_directory(const gchar *directory, GPtrArray **paths, GError **error)
{
	g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GError) error_local = NULL;
	g_autoptr(GDir) dir = g_dir_open(directory, 0, &error_local);
	const gchar *name;

	*paths = g_ptr_array_new_with_free_func(g_free);
	if (dir == NULL) {
		if (g_error_matches(error_local, G_FILE_ERROR, G_FILE_ERROR_NOENT) ||
		    g_error_matches(error_local, G_FILE_ERROR, G_FILE_ERROR_NOTDIR))
			return TRUE;
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_IO, "%s", error_local->message);
		g_clear_pointer(paths, g_ptr_array_unref);
		return FALSE;
	}
	while ((name = g_dir_read_name(dir)) != NULL)
		g_ptr_array_add(names, g_strdup(name));
	g_ptr_array_sort(names, source_compare_names_cb);
	for (guint i = 0; i < names->len; i++) {
		g_autofree gchar *path =
		        g_build_filename(directory, (const gchar *)names->pdata[i], NULL);
		if (g_file_test(path, G_FILE_TEST_IS_REGULAR))
			g_ptr_array_add(*paths, g_steal_pointer(&path));
	}
	return TRUE;
}

gboolean
osqd_config_read_filesystem(const gchar *config_path, GPtrArray **sources, GError **error)
{
	g_autoptr(GPtrArray) result =
	        g_ptr_array_new_with_free_func((GDestroyNotify)osqd_config_source_free);
	g_autoptr(GPtrArray) extra = NULL;
	g_autofree gchar *directory = g_strconcat(config_path, ".d", NULL);
	g_autofree gchar *text = NULL;

	if (!osqd_config_read_file(config_path, &text, error))
		return FALSE;
	g_ptr_array_add(result, osqd_config_source_new(config_path, text));
	if (!source_list_directory(directory, &extra, error))
		return FALSE;
	for (guint i = 0; i < extra->len; i++) {
		g_autofree gchar *extra_text = NULL;
		if (!osqd_config_read_file(extra->pdata[i], &extra_text, error))
			return FALSE;
		g_ptr_array_add(result, osqd_config_source_new(extra->pdata[i], extra_text));
	}
	*sources = g_steal_pointer(&result);
	return TRUE;
}

/* Skips a string starting at text[i] == '"'; returns the index after its closing quote (or the
 * end of the text: json-glib reports the unterminated string). */
static gsize
source_skip_string(const gchar *text, gsize i, GString *out)
{
	gsize start = i++;

	while (text[i] != '\0' && text[i] != '"') {
		if (text[i] == '\\' && text[i + 1] != '\0')
			i++;
		i++;
	}
	if (text[i] == '"')
		i++;
	if (out != NULL)
		g_string_append_len(out, text + start, (gssize)(i - start));
	return i;
}

gchar *
osqd_config_strip_comments(const gchar *text, GError **error)
{
	g_autoptr(GString) out = g_string_sized_new(strlen(text));
	guint line = 1;
	gsize i = 0;

	while (text[i] != '\0') {
		gchar c = text[i];
		if (c == '"') {
			gsize next = source_skip_string(text, i, out);
			for (gsize k = i; k < next; k++)
				line += text[k] == '\n';
			i = next;
		} else if (c == '#' || (c == '/' && text[i + 1] == '/')) {
			while (text[i] != '\0' && text[i] != '\n')
				i++;
		} else if (c == '/' && text[i + 1] == '*') {
			guint start_line = line;
			i += 2;
			while (text[i] != '\0' && !(text[i] == '*' && text[i + 1] == '/')) {
				if (text[i] == '\n') {
					g_string_append_c(out, '\n');
					line++;
				}
				i++;
			}
			if (text[i] == '\0') {
				g_set_error(error, OSQ_ERROR, OSQ_ERROR_INVALID_ARGUMENT,
				            "line %u: unterminated comment", start_line);
				return NULL;
			}
			i += 2;
			g_string_append_c(out, ' ');
		} else {
			line += c == '\n';
			g_string_append_c(out, c);
			i++;
		}
	}
	return g_string_free(g_steal_pointer(&out), FALSE);
}

/* The nesting of objects and arrays outside strings must stay within @limit, and nothing but
 * blanks may follow the document (json-glib 1.6 quietly accepts "{}{}"). */
static gboolean
source_check_depth(const gchar *text, guint limit, GError **error)
{
	gboolean closed = FALSE;
	guint depth = 0;
	guint line = 1;

	for (gsize i = 0; text[i] != '\0';) {
		gchar c = text[i];
		if (closed && !g_ascii_isspace(c)) {
			g_set_error(error, OSQ_ERROR, OSQ_ERROR_INVALID_ARGUMENT,
			            "line %u: unexpected text after the end of the document", line);
			return FALSE;
		}
		if (c == '"') {
			gsize next = source_skip_string(text, i, NULL);
			for (gsize k = i; k < next; k++)
				line += text[k] == '\n';
			i = next;
			continue;
		}
		if (c == '{' || c == '[') {
			if (++depth > limit) {
				g_set_error(error, OSQ_ERROR, OSQ_ERROR_LIMIT,
				            "line %u: JSON nested deeper than %u levels", line,
				            limit);
				return FALSE;
			}
		} else if ((c == '}' || c == ']') && depth > 0) {
			closed = --depth == 0;
		}
		line += c == '\n';
		i++;
	}
	return TRUE;
}

gchar *
osqd_config_source_prepare(const gchar *name, const gchar *text, GError **error)
{
	g_autoptr(GError) error_local = NULL;
	g_autofree gchar *stripped = osqd_config_strip_comments(text, &error_local);

	if (stripped == NULL) {
		g_set_error(error, OSQ_ERROR, error_local->code, "%s: %s", name,
		            error_local->message);
		return NULL;
	}
	if (strlen(stripped) > OSQD_CONFIG_MAX_SOURCE_SIZE) {
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_LIMIT,
		            "%s: larger than %d bytes after comments are removed", name,
		            OSQD_CONFIG_MAX_SOURCE_SIZE);
		return NULL;
	}
	if (!source_check_depth(stripped, OSQD_CONFIG_MAX_DEPTH, &error_local)) {
		g_set_error(error, OSQ_ERROR, error_local->code, "%s: %s", name,
		            error_local->message);
		return NULL;
	}
	return g_steal_pointer(&stripped);
}
