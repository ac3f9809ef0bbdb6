/* SPDX-License-Identifier: Apache-2.0
 *
 * crontab: /etc/crontab plus every regular file in the system and user cron directories, one
 * row per job line. The user spools are root-only on the host, so the command column is marked
 * sensitive. Files are opened non-blocking and must be regular files (a FIFO cannot stall the
 * query); each is read up to a cap; directories are listed in name order so output is stable.
 */
#include "config.h"

#include "crontab.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "osqd-tables-generated.h"

#define CRONTAB_MAX (16 * 1024 * 1024)

static const gchar *const crontab_directories[] = {
	"/etc/cron.d",
	"/var/at/tabs",
	"/var/spool/cron",
	"/var/spool/cron/crontabs",
};

/* ---- parser ---- */

static gboolean
crontab_is_space(gchar c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/* The next word (split on blanks and tabs, trimmed of other white space), NUL-terminated in
 * place; NULL at the end of the line. */
static gchar *
crontab_next_word(gchar **cursor)
{
	gchar *word = *cursor;
	gchar *end;

	while (*word != '\0' && crontab_is_space(*word))
		word++;
	if (*word == '\0') {
		*cursor = word;
		return NULL;
	}
	end = word;
	while (*end != '\0' && *end != ' ' && *end != '\t')
		end++;
	*cursor = *end != '\0' ? end + 1 : end;
	while (end > word && crontab_is_space(end[-1]))
		end--;
	*end = '\0';
	return word;
}

gboolean
osqd_crontab_parse_line(gchar *line, OsqdCrontabEntry *entry)
{
	const gchar **schedule[] = { &entry->minute, &entry->hour, &entry->day_of_month,
		                     &entry->month, &entry->day_of_week };
	gchar *cursor = line, *word, *command, *out;

	entry->event = entry->minute = entry->hour = "";
	entry->day_of_month = entry->month = entry->day_of_week = entry->command = "";
	while (crontab_is_space(*cursor))
		cursor++;
	if (*cursor == '#')
		return FALSE;
	word = crontab_next_word(&cursor);
	if (word == NULL)
		return FALSE;
	if (word[0] == '@') {
		entry->event = word;
	} else {
		*schedule[0] = word;
		for (guint i = 1; i < G_N_ELEMENTS(schedule); i++) {
			word = crontab_next_word(&cursor);
			if (word == NULL)
				return FALSE;
			*schedule[i] = word;
		}
	}
	/* the command: the remaining words, joined by single spaces (moved left in place) */
	command = out = crontab_next_word(&cursor);
	if (command == NULL)
		return FALSE;
	out += strlen(command);
	while ((word = crontab_next_word(&cursor)) != NULL) {
		gsize len = strlen(word);
		*out++ = ' ';
		memmove(out, word, len);
		out += len;
	}
	*out = '\0';
	entry->command = command;
	return TRUE;
}

/* ---- reading ---- */

static gboolean
crontab_read(const gchar *path, gchar **contents, gsize *length, GError **error)
{
	struct stat st;
	gboolean ok;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

	if (fd < 0) {
		int saved = errno;
		g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(saved), "%s",
		            g_strerror(saved));
		return FALSE;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		(void)close(fd);
		g_set_error_literal(error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "not a regular file");
		return FALSE;
	}
	ok = osqd_read_fd(fd, CRONTAB_MAX, contents, length, error);
	(void)close(fd);
	return ok;
}

static void
crontab_add_file(OsqdTableContext *ctx, OsqdRowSink *sink, const gchar *host_path)
{
	g_autofree gchar *path = osqd_table_context_path(ctx, "%s", host_path);
	g_autofree gchar *contents = NULL;
	g_autoptr(GError) error_local = NULL;
	gchar *line, *end;
	gsize length = 0;

	if (!crontab_read(path, &contents, &length, &error_local)) {
		if (!g_error_matches(error_local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
			g_debug("skipping %s: %s", host_path, error_local->message);
		return;
	}
	end = contents + length;
	for (line = contents; line < end;) {
		gchar *newline = memchr(line, '\n', (gsize)(end - line));
		OsqdCrontabEntry entry;
		OsqdRow *row;
		if (newline != NULL)
			*newline = '\0';
		if (osqd_crontab_parse_line(line, &entry)) {
			row = osqd_row_sink_append(sink);
			osqd_row_set_text(row, OSQD_CRONTAB_COL_EVENT, entry.event);
			osqd_row_set_text(row, OSQD_CRONTAB_COL_MINUTE, entry.minute);
			osqd_row_set_text(row, OSQD_CRONTAB_COL_HOUR, entry.hour);
			osqd_row_set_text(row, OSQD_CRONTAB_COL_DAY_OF_MONTH, entry.day_of_month);
			osqd_row_set_text(row, OSQD_CRONTAB_COL_MONTH, entry.month);
			osqd_row_set_text(row, OSQD_CRONTAB_COL_DAY_OF_WEEK, entry.day_of_week);
			osqd_row_set_text(row, OSQD_CRONTAB_COL_COMMAND, entry.command);
			osqd_row_set_text(row, OSQD_CRONTAB_COL_PATH, host_path);
		}
		line = newline != NULL ? newline + 1 : end;
	}
}

static gint
crontab_compare_names(gconstpointer a, gconstpointer b)
{
	return g_strcmp0(*(const gchar *const *)a, *(const gchar *const *)b);
}

/* The regular files (symbolic links to them included) of one directory, in name order. */
static GPtrArray *
crontab_list_directory(OsqdTableContext *ctx, const gchar *host_directory)
{
	g_autofree gchar *path = osqd_table_context_path(ctx, "%s", host_directory);
	GPtrArray *files = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
	const gchar *name;

	while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
		g_autofree gchar *full = g_build_filename(path, name, NULL);
		if (g_file_test(full, G_FILE_TEST_IS_REGULAR))
			g_ptr_array_add(files, g_build_filename(host_directory, name, NULL));
	}
	g_ptr_array_sort(files, crontab_compare_names);
	return files;
}

gboolean
osqd_table_crontab_generate(OsqdTableContext *ctx, OsqdRowSink *sink, GError **error)
{
	crontab_add_file(ctx, sink, "/etc/crontab");
	for (guint i = 0; i < G_N_ELEMENTS(crontab_directories); i++) {
		g_autoptr(GPtrArray) files = crontab_list_directory(ctx, crontab_directories[i]);
		for (guint j = 0; j < files->len; j++) {
			if (!osqd_table_context_check(ctx, error))
				return FALSE;
			crontab_add_file(ctx, sink, files->pdata[j]);
		}
	}
	return TRUE;
}
