/* SPDX-License-Identifier: Apache-2.0
 *
 * shell_history: the history files in every local user's home directory (or only the users of
 * a `uid = N` constraint). The daemon runs as root and users control their home directories,
 * so each file (and ~/.bash_sessions) is opened relative to the home directory without following
 * a final symbolic link, non-blocking (a FIFO cannot stall the query), and read only if it is a
 * regular file; a symbolic link is followed only when its target belongs to the user, so nobody
 * can point ~/.bash_history at /etc/shadow. Files are read up to a cap, from their end, where
 * the newest commands are.
 */
#include "config.h"

#include "shell_history.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "accounts.h"
#include "osqd-tables-generated.h"

#define SHELL_HISTORY_MAX (16 * 1024 * 1024)

static const gchar *const shell_history_files[] = {
	".bash_history", ".zsh_history", ".zhistory", ".history", ".sh_history",
};

/* ---- parser ---- */

void
osqd_shell_history_parser_init(OsqdShellHistoryParser *parser, const gchar *data, gsize len)
{
	memset(parser, 0, sizeof(*parser));
	parser->cursor = data;
	parser->end = data + len;
}

/* Decimal digits to a number; FALSE if it does not fit in 63 bits. */
static gboolean
shell_history_parse_digits(const gchar *digits, gsize len, gint64 *value)
{
	gint64 v = 0;

	for (gsize i = 0; i < len; i++) {
		gint d = digits[i] - '0';
		if (v > (G_MAXINT64 - d) / 10)
			return FALSE;
		v = v * 10 + d;
	}
	*value = v;
	return TRUE;
}

static gsize
shell_history_count_digits(const gchar *text, gsize len)
{
	gsize n = 0;

	while (n < len && g_ascii_isdigit(text[n]))
		n++;
	return n;
}

/* "#<digits>" and nothing else */
static gboolean
shell_history_is_bash_time(const gchar *line, gsize len)
{
	return len >= 2 && line[0] == '#' &&
	       shell_history_count_digits(line + 1, len - 1) == len - 1;
}

/* ": {0,10}<1-11 digits>:<digits>;<command without CR>", osquery's zsh pattern */
static gboolean
shell_history_parse_zsh(const gchar *line, gsize len, OsqdShellHistoryEntry *entry)
{
	gsize pos = 1, digits, spaces = 0;

	if (len == 0 || line[0] != ':')
		return FALSE;
	while (pos < len && line[pos] == ' ' && spaces < 10) {
		pos++;
		spaces++;
	}
	digits = shell_history_count_digits(line + pos, len - pos);
	if (digits == 0 || digits > 11 || pos + digits >= len || line[pos + digits] != ':')
		return FALSE;
	(void)shell_history_parse_digits(line + pos, digits, &entry->time);
	pos += digits + 1;
	digits = shell_history_count_digits(line + pos, len - pos);
	if (digits == 0 || pos + digits >= len || line[pos + digits] != ';')
		return FALSE;
	pos += digits + 1;
	if (memchr(line + pos, '\r', len - pos) != NULL)
		return FALSE;
	entry->command = line + pos;
	entry->command_len = len - pos;
	entry->has_time = TRUE;
	return TRUE;
}

gboolean
osqd_shell_history_parser_next(OsqdShellHistoryParser *parser, OsqdShellHistoryEntry *entry)
{
	while (parser->cursor < parser->end) {
		const gchar *line = parser->cursor;
		const gchar *newline = memchr(line, '\n', (gsize)(parser->end - line));
		gsize len = (gsize)((newline != NULL ? newline : parser->end) - line);

		parser->cursor = newline != NULL ? newline + 1 : parser->end;
		if (!parser->pending && shell_history_is_bash_time(line, len)) {
			parser->pending = TRUE;
			parser->pending_valid = shell_history_parse_digits(line + 1, len - 1,
			                                                   &parser->pending_time);
			continue;
		}
		if (parser->pending) {
			parser->pending = FALSE;
			entry->command = line;
			entry->command_len = len;
			entry->time = parser->pending_valid ? parser->pending_time : 0;
			entry->has_time = parser->pending_valid;
			return TRUE;
		}
		if (shell_history_parse_zsh(line, len, entry))
			return TRUE;
		entry->command = line;
		entry->command_len = len;
		entry->time = 0;
		entry->has_time = TRUE;
		return TRUE;
	}
	return FALSE;
}

/* ---- reading ---- */

/* Opens @name (relative to @dirfd) without following a final symbolic link; a link is followed
 * only when what it points to belongs to @owner. The result must be of type @type (S_IFREG or
 * S_IFDIR). Returns the fd, or -1 with @error set. */
static int
shell_history_open(int dirfd, const gchar *name, int flags, mode_t type, guint32 owner,
                   struct stat *st, GError **error)
{
	gboolean followed = FALSE;
	int fd = openat(dirfd, name, flags | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW);

	if (fd < 0 && errno == ELOOP) {
		followed = TRUE;
		fd = openat(dirfd, name, flags | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	}
	if (fd < 0) {
		int saved = errno;
		g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(saved), "%s",
		            g_strerror(saved));
		return -1;
	}
	if (fstat(fd, st) != 0 || (st->st_mode & S_IFMT) != type) {
		(void)close(fd);
		g_set_error_literal(error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
		                    "not of the expected type");
		return -1;
	}
	if (followed && st->st_uid != owner) {
		(void)close(fd);
		g_set_error_literal(error, G_FILE_ERROR, G_FILE_ERROR_PERM,
		                    "symbolic link to something the user does not own");
		return -1;
	}
	return fd;
}

/* The last SHELL_HISTORY_MAX bytes of a history file, from its first whole line. */
static gboolean
shell_history_read(int dirfd, const gchar *name, guint32 owner, gchar **contents, gsize *length,
                   GError **error)
{
	g_autofree gchar *buffer = NULL;
	gsize size = 0, want;
	gboolean ok;
	struct stat st;
	int fd = shell_history_open(dirfd, name, O_RDONLY, S_IFREG, owner, &st, error);

	if (fd < 0)
		return FALSE;
	want = (gsize)MIN((guint64)st.st_size, (guint64)SHELL_HISTORY_MAX);
	if ((guint64)st.st_size > want && lseek(fd, st.st_size - (off_t)want, SEEK_SET) < 0)
		want = 0;
	/* an empty file (or one that cannot seek) reads as empty: max 0 would mean no cap */
	if (want == 0) {
		buffer = g_strdup("");
		ok = TRUE;
	} else {
		ok = osqd_read_fd(fd, want, &buffer, &size, error);
	}
	(void)close(fd);
	if (!ok)
		return FALSE;
	if ((guint64)st.st_size > want) {
		/* started mid-file: drop the partial first line */
		gchar *newline = memchr(buffer, '\n', size);
		gsize skip = newline != NULL ? (gsize)(newline + 1 - buffer) : size;
		memmove(buffer, buffer + skip, size - skip + 1);
		size -= skip;
	}
	*contents = g_steal_pointer(&buffer);
	*length = size;
	return TRUE;
}

/* Rows for one history file: @name relative to @dirfd, reported as @history_file. */
static void
shell_history_add_file(OsqdTableContext *ctx, OsqdRowSink *sink, guint32 uid, int dirfd,
                       const gchar *name, const gchar *history_file)
{
	g_autofree gchar *contents = NULL;
	g_autoptr(GError) error_local = NULL;
	OsqdShellHistoryParser parser;
	OsqdShellHistoryEntry entry;
	gboolean want_command = osqd_table_context_column_used(ctx, OSQD_SHELL_HISTORY_COL_COMMAND);
	gsize length = 0;

	if (!shell_history_read(dirfd, name, uid, &contents, &length, &error_local)) {
		if (!g_error_matches(error_local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
			g_debug("skipping %s: %s", history_file, error_local->message);
		return;
	}
	osqd_shell_history_parser_init(&parser, contents, length);
	while (osqd_shell_history_parser_next(&parser, &entry)) {
		OsqdRow *row = osqd_row_sink_append(sink);
		osqd_row_set_int(row, OSQD_SHELL_HISTORY_COL_UID, uid);
		if (entry.has_time)
			osqd_row_set_int(row, OSQD_SHELL_HISTORY_COL_TIME, entry.time);
		if (want_command)
			osqd_row_set_text_len(row, OSQD_SHELL_HISTORY_COL_COMMAND, entry.command,
			                      (gssize)entry.command_len);
		osqd_row_set_text(row, OSQD_SHELL_HISTORY_COL_HISTORY_FILE, history_file);
	}
}

static gint
shell_history_compare_names(gconstpointer a, gconstpointer b)
{
	return g_strcmp0(*(const gchar *const *)a, *(const gchar *const *)b);
}

/* The *.history files of ~/.bash_sessions (per-window histories), in name order. The directory
 * is opened with the same symbolic-link rule as the files, and the files relative to it. */
static void
shell_history_add_sessions(OsqdTableContext *ctx, OsqdRowSink *sink, guint32 uid, int home_fd,
                           const gchar *home)
{
	g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GError) error_local = NULL;
	struct dirent *dirent;
	struct stat st;
	DIR *dir;
	int fd = shell_history_open(home_fd, ".bash_sessions", O_RDONLY | O_DIRECTORY, S_IFDIR, uid,
	                            &st, &error_local);

	if (fd < 0)
		return;
	dir = fdopendir(fd); /* our own DIR, read by this thread only */
	if (dir == NULL) {
		(void)close(fd);
		return;
	}
	while ((dirent = readdir(dir)) != NULL) {
		if (dirent->d_name[0] != '.' && g_str_has_suffix(dirent->d_name, ".history"))
			g_ptr_array_add(names, g_strdup(dirent->d_name));
	}
	g_ptr_array_sort(names, shell_history_compare_names);
	for (guint i = 0; i < names->len; i++) {
		g_autofree gchar *history_file =
		        g_build_filename(home, ".bash_sessions", names->pdata[i], NULL);
		shell_history_add_file(ctx, sink, uid, dirfd(dir), names->pdata[i], history_file);
	}
	(void)closedir(dir);
}

/* Every history file of one user. */
static void
shell_history_add_user(OsqdTableContext *ctx, OsqdRowSink *sink, const OsqdAccountsPasswd *user)
{
	g_autofree gchar *path = osqd_table_context_path(ctx, "%s", user->directory);
	int home_fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (home_fd < 0) {
		if (errno != ENOENT)
			g_debug("%s: cannot open %s: %s", user->name, user->directory,
			        g_strerror(errno));
		return;
	}
	for (guint j = 0; j < G_N_ELEMENTS(shell_history_files); j++) {
		g_autofree gchar *history_file =
		        g_build_filename(user->directory, shell_history_files[j], NULL);
		shell_history_add_file(ctx, sink, user->uid, home_fd, shell_history_files[j],
		                       history_file);
	}
	shell_history_add_sessions(ctx, sink, user->uid, home_fd, user->directory);
	(void)close(home_fd);
}

gboolean
osqd_table_shell_history_generate(OsqdTableContext *ctx, OsqdRowSink *sink, GError **error)
{
	g_autoptr(GArray) uids = osqd_table_context_int_equals(ctx, OSQD_SHELL_HISTORY_COL_UID);
	g_autofree gchar *contents = NULL;
	g_autoptr(GArray) users = NULL;

	if (uids != NULL && uids->len == 0)
		return TRUE;
	if (!osqd_accounts_load_passwd(ctx, &contents, &users, error))
		return FALSE;
	for (guint i = 0; i < users->len; i++) {
		const OsqdAccountsPasswd *user = &g_array_index(users, OsqdAccountsPasswd, i);
		if (uids != NULL && !osqd_accounts_int_in(uids, user->uid))
			continue;
		if (!g_path_is_absolute(user->directory)) {
			g_debug("%s: no absolute home directory", user->name);
			continue;
		}
		if (!osqd_table_context_check(ctx, error))
			return FALSE;
		shell_history_add_user(ctx, sink, user);
	}
	return TRUE;
}
