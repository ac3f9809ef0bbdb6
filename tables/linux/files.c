/* SPDX-License-Identifier: Apache-2.0
 *
 * The file tables: file (lstat/stat of paths), hash (MD5/SHA-1/SHA-256 of regular files) and
 * suid_bin (setuid/setgid files under the usual binary directories). file and hash expand
 * `path`/`directory` LIKE patterns themselves, one component at a time ('%' within a component, a
 * final '%%' recursive, SQL LIKE's '_' and case rules so SQLite's re-check never finds rows we
 * missed), and fail with OSQ_ERROR_LIMIT past 100,000 paths rather than return a truncated
 * answer; hashing streams each file once in 64 KiB chunks through only the digests the query
 * reads. Under a fixture root, symlinks are resolved inside the root (files_real_path()).
 */
#include "config.h"

#include "files.h"

#include "accounts.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "osqd-tables-generated.h"

#define FILES_MAX_PATHS      100000
#define FILES_MAX_VISITED    2000000
#define FILES_MAX_DEPTH      64
#define FILES_MAX_LINK_HOPS  40
#define FILES_HASH_CHUNK     (64 * 1024)
#define FILES_PW_BUFFER_SIZE 16384

/* ---- pure helpers ---- */

/* Reads one character: a valid UTF-8 sequence, or else a single byte. */
static gunichar
files_next_char(const gchar **text)
{
	const gchar *s = *text;
	gunichar c = g_utf8_get_char_validated(s, -1);

	if (c == (gunichar)-1 || c == (gunichar)-2) {
		*text = s + 1;
		return (guchar)*s;
	}
	*text = g_utf8_next_char(s);
	return c;
}

gboolean
osqd_files_like_has_wildcard(const gchar *component, gsize len)
{
	return memchr(component, '%', len) != NULL || memchr(component, '_', len) != NULL;
}

gboolean
osqd_files_like_match(const gchar *pattern, gsize pattern_len, const gchar *name)
{
	const gchar *p = pattern, *end = pattern + pattern_len, *s = name;
	const gchar *star_p = NULL, *star_s = NULL;

	for (;;) {
		if (p < end && *p == '%') {
			while (p < end && *p == '%')
				p++;
			if (p == end)
				return TRUE;
			star_p = p;
			star_s = s;
			continue;
		}
		if (*s == '\0')
			return p == end;
		if (p < end && *p == '_') {
			p++;
			(void)files_next_char(&s);
			continue;
		}
		if (p < end && g_ascii_tolower(*p) == g_ascii_tolower(*s)) {
			p++;
			s++;
			continue;
		}
		if (star_p == NULL)
			return FALSE;
		(void)files_next_char(&star_s);
		p = star_p;
		s = star_s;
	}
}

/* Matches character @c against the set at *@pattern ('[' ... ']'), moving past it. */
static gboolean
files_glob_set(const gchar **pattern, gunichar c)
{
	const gchar *q = *pattern + 1;
	gboolean invert = FALSE, seen = FALSE;
	gunichar prior = 0;

	if (*q == '^') {
		invert = TRUE;
		q++;
	}
	if (*q == ']') {
		seen = c == ']';
		q++;
	}
	while (*q != '\0' && *q != ']') {
		if (*q == '-' && prior != 0 && q[1] != ']' && q[1] != '\0') {
			gunichar high;
			q++;
			high = files_next_char(&q);
			seen |= c >= prior && c <= high;
			prior = 0;
		} else {
			gunichar member = files_next_char(&q);
			seen |= c == member;
			prior = member;
		}
	}
	if (*q == '\0')
		return FALSE; /* an unterminated set matches nothing, as in SQLite */
	*pattern = q + 1;
	return seen != invert;
}

gboolean
osqd_files_glob_match(const gchar *pattern, const gchar *text, gboolean prefix)
{
	const gchar *p = pattern, *s = text;
	const gchar *star_p = NULL, *star_s = NULL;

	for (;;) {
		if (*p == '*') {
			while (*p == '*')
				p++;
			/* a star can swallow whatever follows the prefix */
			if (*p == '\0' || prefix)
				return TRUE;
			star_p = p;
			star_s = s;
			continue;
		}
		if (*s == '\0')
			return *p == '\0' || prefix;
		if (*p != '\0') {
			const gchar *p2 = p, *s2 = s;
			gunichar c = files_next_char(&s2);
			gboolean ok;

			if (*p2 == '?') {
				p2++;
				ok = TRUE;
			} else if (*p2 == '[') {
				ok = files_glob_set(&p2, c);
			} else {
				ok = files_next_char(&p2) == c;
			}
			if (ok) {
				p = p2;
				s = s2;
				continue;
			}
		}
		if (star_p == NULL)
			return FALSE;
		(void)files_next_char(&star_s);
		p = star_p;
		s = star_s;
	}
}

void
osqd_files_mode_string(guint mode, gchar out[8])
{
	g_snprintf(out, 8, "%04o", mode & 07777);
}

const gchar *
osqd_files_type_name(guint mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG:
		return "regular";
	case S_IFDIR:
		return "directory";
	case S_IFLNK:
		return "symlink";
	case S_IFCHR:
		return "character";
	case S_IFBLK:
		return "block";
	case S_IFIFO:
		return "fifo";
	case S_IFSOCK:
		return "socket";
	default:
		return "unknown";
	}
}

const gchar *
osqd_files_suid_permissions(guint mode)
{
	gboolean setuid = (mode & S_ISUID) != 0, setgid = (mode & S_ISGID) != 0;

	if (setuid && setgid)
		return "SG";
	if (setuid)
		return "S";
	if (setgid)
		return "G";
	return "";
}

/* Length of @path without its trailing slashes (but at least one character). */
static gsize
files_trimmed_length(const gchar *path)
{
	gsize len = strlen(path);

	while (len > 1 && path[len - 1] == '/')
		len--;
	return len;
}

gchar *
osqd_files_basename(const gchar *path)
{
	gsize len = files_trimmed_length(path);
	const gchar *slash;

	if (len == 1 && path[0] == '/')
		return g_strdup("/");
	slash = g_strrstr_len(path, (gssize)len, "/");
	if (slash == NULL)
		return g_strndup(path, len);
	return g_strndup(slash + 1, len - (gsize)(slash + 1 - path));
}

gchar *
osqd_files_dirname(const gchar *path)
{
	gsize len = files_trimmed_length(path);
	const gchar *slash = g_strrstr_len(path, (gssize)len, "/");

	if (slash == NULL)
		return g_strdup(".");
	while (slash > path && slash[-1] == '/')
		slash--;
	if (slash == path)
		return g_strdup("/");
	return g_strndup(path, (gsize)(slash - path));
}

/* ---- directory listing ---- */

typedef struct {
	gchar *name;
	guint8 type; /* DT_* from readdir, DT_UNKNOWN when the filesystem does not say */
} FilesEntry;

static void
files_entry_clear(gpointer data)
{
	g_free(((FilesEntry *)data)->name);
}

static gint
files_entry_compare(gconstpointer a, gconstpointer b)
{
	return strcmp(((const FilesEntry *)a)->name, ((const FilesEntry *)b)->name);
}

/* The entries of the directory open as @fd (which stays open), sorted by name so results do
 * not depend on the filesystem's order; NULL if it cannot be read. */
static GArray *
files_list_fd(int fd)
{
	g_autoptr(GArray) entries = g_array_new(FALSE, FALSE, sizeof(FilesEntry));
	int copy = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	DIR *dir;
	struct dirent *ent;

	g_array_set_clear_func(entries, files_entry_clear);
	if (copy < 0)
		return NULL;
	dir = fdopendir(copy);
	if (dir == NULL) {
		(void)close(copy);
		return NULL;
	}
	rewinddir(dir);
	while ((ent = readdir(dir)) != NULL) {
		FilesEntry entry;
		if (strcmp(ent->d_name, ".") == 0 || strcmp(ent->d_name, "..") == 0)
			continue;
		entry.name = g_strdup(ent->d_name);
		entry.type = ent->d_type;
		g_array_append_val(entries, entry);
	}
	(void)closedir(dir);
	g_array_sort(entries, files_entry_compare);
	return g_steal_pointer(&entries);
}

static GArray *
files_list_path(const gchar *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOCTTY);
	GArray *entries;

	if (fd < 0) {
		g_debug("cannot open directory %s: %s", path, g_strerror(errno));
		return NULL;
	}
	entries = files_list_fd(fd);
	(void)close(fd);
	return entries;
}

/* ---- host paths under a root ---- */

static gboolean
files_root_is_live(OsqdTableContext *ctx)
{
	return g_strcmp0(osqd_table_context_get_root(ctx), "/") == 0;
}

/* Follows @path through symlinks inside the root, as realpath(3) would with the root as "/".
 * NULL when a component is missing or the links loop. */
static gchar *
files_resolve(OsqdTableContext *ctx, const gchar *path)
{
	g_autoptr(GPtrArray) pending = g_ptr_array_new_with_free_func(g_free); /* reversed */
	g_autoptr(GString) done = g_string_new(NULL);
	guint hops = 0;
	g_auto(GStrv) first = g_strsplit(path, "/", -1);

	for (guint i = g_strv_length(first); i > 0; i--)
		g_ptr_array_add(pending, g_strdup(first[i - 1]));
	while (pending->len > 0) {
		g_autofree gchar *component = g_ptr_array_steal_index(pending, pending->len - 1);
		g_autofree gchar *full = NULL;
		g_autofree gchar *target = NULL;
		g_auto(GStrv) parts = NULL;
		gsize len = done->len;
		struct stat info;

		if (component[0] == '\0' || strcmp(component, ".") == 0)
			continue;
		if (strcmp(component, "..") == 0) {
			const gchar *slash = strrchr(done->str, '/');
			g_string_truncate(done, slash != NULL ? (gsize)(slash - done->str) : 0);
			continue;
		}
		g_string_append_c(done, '/');
		g_string_append(done, component);
		full = osqd_table_context_path(ctx, "%s", done->str);
		if (lstat(full, &info) != 0)
			return NULL;
		if (!S_ISLNK(info.st_mode))
			continue;
		if (++hops > FILES_MAX_LINK_HOPS)
			return NULL;
		target = g_file_read_link(full, NULL);
		if (target == NULL)
			return NULL;
		g_string_truncate(done, target[0] == '/' ? 0 : len);
		parts = g_strsplit(target, "/", -1);
		for (guint i = g_strv_length(parts); i > 0; i--)
			g_ptr_array_add(pending, g_strdup(parts[i - 1]));
	}
	if (done->len == 0)
		g_string_append_c(done, '/');
	return g_string_free(g_steal_pointer(&done), FALSE);
}

/* The filesystem path to use for host path @path. On the live system that is @path itself.
 * Under a fixture root every symlink on the way is resolved inside the root, as if it were "/",
 * so a fixture's absolute links stay in the fixture; the last component is followed only with
 * @follow. NULL when the way cannot be resolved. */
static gchar *
files_real_path(OsqdTableContext *ctx, const gchar *path, gboolean follow)
{
	g_autofree gchar *parent = NULL;
	g_autofree gchar *base = NULL;
	g_autofree gchar *resolved = NULL;

	if (files_root_is_live(ctx))
		return g_strdup(path);
	if (follow) {
		resolved = files_resolve(ctx, path);
		return resolved != NULL ? osqd_table_context_path(ctx, "%s", resolved) : NULL;
	}
	base = osqd_files_basename(path);
	if (strcmp(base, "/") == 0)
		return osqd_table_context_path(ctx, "/");
	parent = osqd_files_dirname(path);
	resolved = files_resolve(ctx, parent);
	if (resolved == NULL)
		return NULL;
	return osqd_table_context_path(ctx, "%s/%s", strcmp(resolved, "/") == 0 ? "" : resolved,
	                               base);
}

static gboolean
files_is_directory(OsqdTableContext *ctx, const gchar *path, gboolean follow)
{
	g_autofree gchar *real = files_real_path(ctx, path, follow);
	struct stat info;

	if (real == NULL || (follow ? stat(real, &info) : lstat(real, &info)) != 0)
		return FALSE;
	return S_ISDIR(info.st_mode);
}

/* The sorted entries of the directory at host path @path (links followed), NULL if unreadable. */
static GArray *
files_list_host(OsqdTableContext *ctx, const gchar *path)
{
	g_autofree gchar *real = files_real_path(ctx, path, TRUE);

	return real != NULL ? files_list_path(real) : NULL;
}

/* ---- path expansion ---- */

typedef struct {
	OsqdTableContext *ctx;
	GString *path;     /* the host path being built */
	GHashTable *found; /* host paths found so far (owned keys) */
	gboolean dirs_only;
	const gchar *pattern;
	guint visited;
} FilesExpand;

/* Cancellation, plus the cap on how many entries one expansion may look at. */
static gboolean
files_expand_check(FilesExpand *st, guint more, GError **error)
{
	const OsqdTable *table = osqd_table_context_get_table(st->ctx);

	st->visited += more;
	if (st->visited > FILES_MAX_VISITED) {
		g_set_error(
		        error, OSQ_ERROR, OSQ_ERROR_LIMIT,
		        "%s: the pattern '%s' walks more than %u entries; use a narrower pattern",
		        table->name, st->pattern, (guint)FILES_MAX_VISITED);
		return FALSE;
	}
	return osqd_table_context_check(st->ctx, error);
}

/* Lists the directory at the current path (the root itself when the path is still empty). */
static GArray *
files_expand_list(FilesExpand *st)
{
	return files_list_host(st->ctx, st->path->len > 0 ? st->path->str : "/");
}

/* TRUE if the entry just appended to the path is a real directory (not a symlink to one). */
static gboolean
files_expand_entry_is_directory(FilesExpand *st, const FilesEntry *entry)
{
	if (entry->type != DT_UNKNOWN)
		return entry->type == DT_DIR;
	return files_is_directory(st->ctx, st->path->str, FALSE);
}

/* Records the current path (plus a '/' with @add_slash, which only a directory may have).
 * @type is the entry's DT_* type when known, to spare a stat. */
static gboolean
files_expand_emit(FilesExpand *st, gboolean add_slash, guint8 type, GError **error)
{
	const OsqdTable *table = osqd_table_context_get_table(st->ctx);
	gsize len = st->path->len;
	gboolean keep = TRUE;

	if (add_slash)
		g_string_append_c(st->path, '/');
	if ((add_slash || st->dirs_only) && type != DT_DIR) {
		if (type != DT_UNKNOWN && type != DT_LNK)
			keep = FALSE;
		else
			keep = files_is_directory(st->ctx, st->path->str, TRUE);
	}
	if (keep && !g_hash_table_contains(st->found, st->path->str)) {
		g_hash_table_add(st->found, g_strdup(st->path->str));
		if (g_hash_table_size(st->found) > FILES_MAX_PATHS) {
			g_string_truncate(st->path, len);
			g_set_error(
			        error, OSQ_ERROR, OSQ_ERROR_LIMIT,
			        "%s: the pattern '%s' matches more than %u paths; use a narrower "
			        "pattern",
			        table->name, st->pattern, (guint)FILES_MAX_PATHS);
			return FALSE;
		}
	}
	g_string_truncate(st->path, len);
	return TRUE;
}

/* '%%': every entry below the current directory, at any depth. */
static gboolean
files_expand_walk(FilesExpand *st, guint depth, GError **error)
{
	g_autoptr(GArray) entries = files_expand_list(st);
	gsize len = st->path->len;

	if (entries == NULL)
		return TRUE;
	if (!files_expand_check(st, entries->len, error))
		return FALSE;
	for (guint i = 0; i < entries->len; i++) {
		const FilesEntry *entry = &g_array_index(entries, FilesEntry, i);
		gboolean ok;

		g_string_append_c(st->path, '/');
		g_string_append(st->path, entry->name);
		ok = files_expand_emit(st, FALSE, entry->type, error);
		if (ok && depth + 1 < FILES_MAX_DEPTH && files_expand_entry_is_directory(st, entry))
			ok = files_expand_walk(st, depth + 1, error);
		g_string_truncate(st->path, len);
		if (!ok)
			return FALSE;
	}
	return TRUE;
}

/* The entries of the current directory, or, when it cannot be listed (a search-only
 * directory), just @component if it is a literal name that exists: osquery's glob can still
 * cross such a directory by exact name. */
static GArray *
files_expand_candidates(FilesExpand *st, const gchar *component)
{
	GArray *entries = files_expand_list(st);
	gsize len = st->path->len;
	FilesEntry entry = { NULL, DT_UNKNOWN };
	g_autofree gchar *real = NULL;
	struct stat info;

	if (entries != NULL || osqd_files_like_has_wildcard(component, strlen(component)))
		return entries;
	g_string_append_c(st->path, '/');
	g_string_append(st->path, component);
	real = files_real_path(st->ctx, st->path->str, FALSE);
	g_string_truncate(st->path, len);
	entries = g_array_new(FALSE, FALSE, sizeof(FilesEntry));
	g_array_set_clear_func(entries, files_entry_clear);
	if (real != NULL && lstat(real, &info) == 0) {
		entry.name = g_strdup(component);
		g_array_append_val(entries, entry);
	}
	return entries;
}

static gboolean
files_expand_like_at(FilesExpand *st, gchar **components, guint index, GError **error)
{
	const gchar *component = components[index];
	gsize component_len = strlen(component), len = st->path->len;
	gboolean last = components[index + 1] == NULL;
	gboolean recursive = last && g_str_has_suffix(component, "%%");
	g_autoptr(GArray) entries = NULL;

	if (component_len == 0) {
		gboolean ok;
		/* a trailing '/' asks for directories, spelled with the slash */
		if (last)
			return files_expand_emit(st, TRUE, DT_UNKNOWN, error);
		g_string_append_c(st->path, '/');
		ok = files_expand_like_at(st, components, index + 1, error);
		g_string_truncate(st->path, len);
		return ok;
	}
	entries = files_expand_candidates(st, component);
	if (entries == NULL)
		return TRUE;
	if (!files_expand_check(st, entries->len, error))
		return FALSE;
	for (guint i = 0; i < entries->len; i++) {
		const FilesEntry *entry = &g_array_index(entries, FilesEntry, i);
		gboolean ok = TRUE;

		if (!osqd_files_like_match(component, component_len, entry->name))
			continue;
		/* only a directory (or a link to one) can hold the rest of the pattern */
		if (!last && entry->type != DT_DIR && entry->type != DT_LNK &&
		    entry->type != DT_UNKNOWN)
			continue;
		g_string_append_c(st->path, '/');
		g_string_append(st->path, entry->name);
		if (!last) {
			ok = files_expand_like_at(st, components, index + 1, error);
		} else {
			ok = files_expand_emit(st, FALSE, entry->type, error);
			if (ok && recursive && files_expand_entry_is_directory(st, entry))
				ok = files_expand_walk(st, 1, error);
		}
		g_string_truncate(st->path, len);
		if (!ok)
			return FALSE;
	}
	return TRUE;
}

static gboolean
files_expand_like(FilesExpand *st, const gchar *pattern, GError **error)
{
	g_auto(GStrv) components = NULL;

	if (pattern[0] != '/') {
		g_debug("skipping relative path pattern '%s'", pattern);
		return TRUE;
	}
	components = g_strsplit(pattern, "/", -1);
	return files_expand_like_at(st, components, 1, error);
}

static gboolean
files_expand_glob_walk(FilesExpand *st, const gchar *pattern, guint depth, GError **error)
{
	g_autoptr(GArray) entries = files_expand_list(st);
	gsize len = st->path->len;

	if (entries == NULL)
		return TRUE;
	if (!files_expand_check(st, entries->len, error))
		return FALSE;
	for (guint i = 0; i < entries->len; i++) {
		const FilesEntry *entry = &g_array_index(entries, FilesEntry, i);
		gboolean ok = TRUE, descend = FALSE;

		g_string_append_c(st->path, '/');
		g_string_append(st->path, entry->name);
		if (osqd_files_glob_match(pattern, st->path->str, FALSE))
			ok = files_expand_emit(st, FALSE, entry->type, error);
		if (ok && files_expand_entry_is_directory(st, entry)) {
			g_string_append_c(st->path, '/');
			if (osqd_files_glob_match(pattern, st->path->str, FALSE))
				ok = files_expand_emit(st, FALSE, DT_DIR, error);
			descend = osqd_files_glob_match(pattern, st->path->str, TRUE);
			g_string_truncate(st->path, st->path->len - 1);
		}
		if (ok && descend && depth < FILES_MAX_DEPTH)
			ok = files_expand_glob_walk(st, pattern, depth + 1, error);
		g_string_truncate(st->path, len);
		if (!ok)
			return FALSE;
	}
	return TRUE;
}

static gboolean
files_expand_glob(FilesExpand *st, const gchar *pattern, GError **error)
{
	const gchar *meta = strpbrk(pattern, "*?[");
	const gchar *base_end;
	gboolean ok = TRUE;

	if (pattern[0] != '/') {
		g_debug("skipping relative path pattern '%s'", pattern);
		return TRUE;
	}
	if (meta == NULL) {
		g_autofree gchar *real = files_real_path(st->ctx, pattern, FALSE);
		struct stat info;

		g_string_assign(st->path, pattern);
		if (real != NULL && lstat(real, &info) == 0)
			ok = files_expand_emit(st, FALSE, DT_UNKNOWN, error);
		g_string_truncate(st->path, 0);
		return ok;
	}
	/* walk from the last directory named literally before the first wildcard */
	base_end = g_strrstr_len(pattern, meta - pattern, "/");
	g_string_append_len(st->path, pattern, base_end - pattern);
	ok = files_expand_glob_walk(st, pattern, 1, error);
	g_string_truncate(st->path, 0);
	return ok;
}

static gint
files_compare_strings(gconstpointer a, gconstpointer b)
{
	return strcmp(*(const gchar *const *)a, *(const gchar *const *)b);
}

/* The host paths named by the constraints on @column: `=` values as given, LIKE and GLOB
 * patterns expanded (to directories only with @dirs_only). Sorted and unique. */
static GPtrArray *
files_collect(OsqdTableContext *ctx, guint column, gboolean dirs_only, GError **error)
{
	g_autoptr(GHashTable) found = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_autoptr(GString) path = g_string_new(NULL);
	GPtrArray *sorted;
	GHashTableIter iter;
	gpointer key;
	guint n = 0;
	const OsqdConstraint *c = osqd_table_context_get_constraints(ctx, &n);

	for (guint i = 0; i < n; i++) {
		FilesExpand st = { ctx, path, found, dirs_only, NULL, 0 };
		const gchar *value;

		if (c[i].column != column || c[i].value.kind != OSQD_VALUE_TEXT)
			continue;
		value = c[i].value.bytes.data;
		st.pattern = value;
		if (c[i].op == OSQD_OP_EQ) {
			if (value[0] == '/')
				g_hash_table_add(found, g_strdup(value));
			else
				g_debug("skipping relative path '%s'", value);
		} else if (c[i].op == OSQD_OP_LIKE) {
			if (!files_expand_like(&st, value, error))
				return NULL;
		} else if (c[i].op == OSQD_OP_GLOB) {
			if (!files_expand_glob(&st, value, error))
				return NULL;
		}
	}
	sorted = g_ptr_array_new_full(g_hash_table_size(found), g_free);
	g_hash_table_iter_init(&iter, found);
	while (g_hash_table_iter_next(&iter, &key, NULL))
		g_ptr_array_add(sorted, key);
	g_hash_table_steal_all(found); /* the keys now belong to the array */
	g_ptr_array_sort(sorted, files_compare_strings);
	return sorted;
}

/* ---- file ---- */

/* Birth time from statx(2), 0 when the filesystem does not record it. */
static gint64
files_btime(const gchar *full, gboolean follow)
{
	struct statx info;

	if (statx(AT_FDCWD, full, AT_STATX_SYNC_AS_STAT | (follow ? 0 : AT_SYMLINK_NOFOLLOW),
	          STATX_BTIME, &info) != 0 ||
	    (info.stx_mask & STATX_BTIME) == 0)
		return 0;
	return info.stx_btime.tv_sec;
}

/* One row for @path (a host path); @directory is the directory column (NULL: the parent). A
 * path that does not exist or cannot be reached is skipped. */
static void
file_add_row(OsqdTableContext *ctx, OsqdRowSink *sink, const gchar *path, const gchar *directory)
{
	g_autofree gchar *link_full = files_real_path(ctx, path, FALSE);
	g_autofree gchar *full = NULL;
	struct stat link_info, info;
	gboolean is_link, followed = FALSE;
	gchar mode[8];
	OsqdRow *row;

	if (link_full == NULL || lstat(link_full, &link_info) != 0) {
		g_debug("file: skipping %s: %s", path, g_strerror(errno));
		return;
	}
	is_link = S_ISLNK(link_info.st_mode);
	if (is_link) {
		full = files_real_path(ctx, path, TRUE);
		followed = full != NULL && stat(full, &info) == 0;
	}
	if (!followed)
		info = link_info; /* not a link, or a dangling one: describe the link itself */
	osqd_files_mode_string(info.st_mode, mode);

	row = osqd_row_sink_append(sink);
	osqd_row_set_text(row, OSQD_FILE_COL_PATH, path);
	if (directory != NULL)
		osqd_row_set_text(row, OSQD_FILE_COL_DIRECTORY, directory);
	else
		osqd_row_take_text(row, OSQD_FILE_COL_DIRECTORY, osqd_files_dirname(path));
	if (osqd_table_context_column_used(ctx, OSQD_FILE_COL_FILENAME))
		osqd_row_take_text(row, OSQD_FILE_COL_FILENAME, osqd_files_basename(path));
	osqd_row_set_int(row, OSQD_FILE_COL_INODE, (gint64)info.st_ino);
	osqd_row_set_int(row, OSQD_FILE_COL_UID, info.st_uid);
	osqd_row_set_int(row, OSQD_FILE_COL_GID, info.st_gid);
	osqd_row_set_text(row, OSQD_FILE_COL_MODE, mode);
	osqd_row_set_int(row, OSQD_FILE_COL_DEVICE, (gint64)info.st_rdev);
	osqd_row_set_int(row, OSQD_FILE_COL_SIZE, info.st_size);
	osqd_row_set_int(row, OSQD_FILE_COL_BLOCK_SIZE, info.st_blksize);
	osqd_row_set_int(row, OSQD_FILE_COL_ATIME, info.st_atime);
	osqd_row_set_int(row, OSQD_FILE_COL_MTIME, info.st_mtime);
	osqd_row_set_int(row, OSQD_FILE_COL_CTIME, info.st_ctime);
	if (osqd_table_context_column_used(ctx, OSQD_FILE_COL_BTIME))
		osqd_row_set_int(row, OSQD_FILE_COL_BTIME,
		                 files_btime(followed ? full : link_full, followed));
	osqd_row_set_int(row, OSQD_FILE_COL_HARD_LINKS, (gint64)info.st_nlink);
	osqd_row_set_int(row, OSQD_FILE_COL_SYMLINK, is_link ? 1 : 0);
	osqd_row_set_text(row, OSQD_FILE_COL_TYPE, osqd_files_type_name(info.st_mode));
	if (osqd_table_context_column_used(ctx, OSQD_FILE_COL_SYMLINK_TARGET_PATH)) {
		gchar *target = NULL;
		if (is_link) {
			target = files_resolve(ctx, path);
			if (target == NULL)
				target = g_file_read_link(link_full, NULL);
		}
		osqd_row_take_text(row, OSQD_FILE_COL_SYMLINK_TARGET_PATH,
		                   target != NULL ? target : g_strdup(""));
	}
}

/* Joins a directory as the query spelled it and an entry name, without doubling the '/'. */
static gchar *
files_join(const gchar *directory, const gchar *name)
{
	if (g_str_has_suffix(directory, "/"))
		return g_strconcat(directory, name, NULL);
	return g_strconcat(directory, "/", name, NULL);
}

/* TRUE if the `path` constraints already produced the row that listing @directory would make
 * for @path (same path, and @directory is how that row spells the parent). */
static gboolean
files_already_listed(GPtrArray *paths, const gchar *path, const gchar *directory)
{
	g_autofree gchar *parent = NULL;

	if (paths->len == 0 || bsearch(&path, paths->pdata, paths->len, sizeof(gpointer),
	                               files_compare_strings) == NULL)
		return FALSE;
	parent = osqd_files_dirname(path);
	return strcmp(parent, directory) == 0;
}

gboolean
osqd_table_file_generate(OsqdTableContext *ctx, OsqdRowSink *sink, GError **error)
{
	g_autoptr(GPtrArray) paths = files_collect(ctx, OSQD_FILE_COL_PATH, FALSE, error);
	g_autoptr(GPtrArray) directories = NULL;

	if (paths == NULL)
		return FALSE;
	for (guint i = 0; i < paths->len; i++) {
		if (!osqd_table_context_check(ctx, error))
			return FALSE;
		file_add_row(ctx, sink, paths->pdata[i], NULL);
	}
	directories = files_collect(ctx, OSQD_FILE_COL_DIRECTORY, TRUE, error);
	if (directories == NULL)
		return FALSE;
	for (guint i = 0; i < directories->len; i++) {
		const gchar *directory = directories->pdata[i];
		g_autoptr(GArray) entries = files_list_host(ctx, directory);

		for (guint j = 0; entries != NULL && j < entries->len; j++) {
			const FilesEntry *entry = &g_array_index(entries, FilesEntry, j);
			g_autofree gchar *path = files_join(directory, entry->name);

			if (j % 256 == 0 && !osqd_table_context_check(ctx, error))
				return FALSE;
			if (!files_already_listed(paths, path, directory))
				file_add_row(ctx, sink, path, directory);
		}
	}
	return TRUE;
}

/* ---- hash ---- */

typedef struct {
	GChecksum *md5; /* NULL when the query does not read the column */
	GChecksum *sha1;
	GChecksum *sha256;
	guchar *buffer;
} HashState;

static void
hash_state_clear(HashState *state)
{
	g_clear_pointer(&state->md5, g_checksum_free);
	g_clear_pointer(&state->sha1, g_checksum_free);
	g_clear_pointer(&state->sha256, g_checksum_free);
	g_clear_pointer(&state->buffer, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(HashState, hash_state_clear)

static void
hash_state_update(HashState *state, const guchar *data, gsize len)
{
	if (state->md5 != NULL)
		g_checksum_update(state->md5, data, (gssize)len);
	if (state->sha1 != NULL)
		g_checksum_update(state->sha1, data, (gssize)len);
	if (state->sha256 != NULL)
		g_checksum_update(state->sha256, data, (gssize)len);
}

/* Streams the open file @fd through every digest in @state. */
static gboolean
hash_fd(OsqdTableContext *ctx, HashState *state, int fd, const gchar *path, GError **error)
{
	struct stat info;

	if (fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_IO, "%s: not a regular file", path);
		return FALSE;
	}
	for (;;) {
		ssize_t n = read(fd, state->buffer, FILES_HASH_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int saved = errno;
			g_set_error(error, OSQ_ERROR, OSQ_ERROR_IO, "%s: %s", path,
			            g_strerror(saved));
			return FALSE;
		}
		if (n == 0)
			return TRUE;
		hash_state_update(state, state->buffer, (gsize)n);
		if (!osqd_table_context_check(ctx, error))
			return FALSE;
	}
}

static gboolean
hash_file(OsqdTableContext *ctx, HashState *state, const gchar *full, GError **error)
{
	/* O_NONBLOCK: a FIFO swapped in after the stat, or /proc/kmsg, must not hang the query */
	int fd = open(full, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	gboolean ok;

	if (fd < 0) {
		int saved = errno;
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_IO, "%s: %s", full, g_strerror(saved));
		return FALSE;
	}
	ok = hash_fd(ctx, state, fd, full, error);
	(void)close(fd);
	return ok;
}

static void
hash_set_digest(OsqdRow *row, guint column, GChecksum *checksum)
{
	if (checksum != NULL)
		osqd_row_set_text(row, column, g_checksum_get_string(checksum));
}

/* One row for the regular file @path (symlinks followed); anything else is skipped. A file
 * that cannot be read keeps NULL digests. Fails only when the query was cancelled. */
static gboolean
hash_add_row(OsqdTableContext *ctx, OsqdRowSink *sink, HashState *state, const gchar *path,
             const gchar *directory, GError **error)
{
	g_autofree gchar *full = files_real_path(ctx, path, TRUE);
	g_autoptr(GError) error_local = NULL;
	struct stat info;
	OsqdRow *row;

	if (full == NULL || stat(full, &info) != 0 || !S_ISREG(info.st_mode))
		return TRUE;
	row = osqd_row_sink_append(sink);
	osqd_row_set_text(row, OSQD_HASH_COL_PATH, path);
	if (directory != NULL)
		osqd_row_set_text(row, OSQD_HASH_COL_DIRECTORY, directory);
	else
		osqd_row_take_text(row, OSQD_HASH_COL_DIRECTORY, osqd_files_dirname(path));
	if (state->md5 == NULL && state->sha1 == NULL && state->sha256 == NULL)
		return TRUE;
	if (state->md5 != NULL)
		g_checksum_reset(state->md5);
	if (state->sha1 != NULL)
		g_checksum_reset(state->sha1);
	if (state->sha256 != NULL)
		g_checksum_reset(state->sha256);
	if (!hash_file(ctx, state, full, &error_local)) {
		if (error_local->domain == OSQ_ERROR &&
		    (error_local->code == OSQ_ERROR_CANCELLED ||
		     error_local->code == OSQ_ERROR_TIMED_OUT)) {
			g_propagate_error(error, g_steal_pointer(&error_local));
			return FALSE;
		}
		g_debug("hash: %s", error_local->message);
		return TRUE;
	}
	hash_set_digest(row, OSQD_HASH_COL_MD5, state->md5);
	hash_set_digest(row, OSQD_HASH_COL_SHA1, state->sha1);
	hash_set_digest(row, OSQD_HASH_COL_SHA256, state->sha256);
	return TRUE;
}

gboolean
osqd_table_hash_generate(OsqdTableContext *ctx, OsqdRowSink *sink, GError **error)
{
	g_auto(HashState) state = { NULL };
	g_autoptr(GPtrArray) paths = files_collect(ctx, OSQD_HASH_COL_PATH, FALSE, error);
	g_autoptr(GPtrArray) directories = NULL;

	if (paths == NULL)
		return FALSE;
	if (osqd_table_context_column_used(ctx, OSQD_HASH_COL_MD5))
		state.md5 = g_checksum_new(G_CHECKSUM_MD5);
	if (osqd_table_context_column_used(ctx, OSQD_HASH_COL_SHA1))
		state.sha1 = g_checksum_new(G_CHECKSUM_SHA1);
	if (osqd_table_context_column_used(ctx, OSQD_HASH_COL_SHA256))
		state.sha256 = g_checksum_new(G_CHECKSUM_SHA256);
	state.buffer = g_malloc(FILES_HASH_CHUNK);
	for (guint i = 0; i < paths->len; i++) {
		if (!osqd_table_context_check(ctx, error) ||
		    !hash_add_row(ctx, sink, &state, paths->pdata[i], NULL, error))
			return FALSE;
	}
	directories = files_collect(ctx, OSQD_HASH_COL_DIRECTORY, TRUE, error);
	if (directories == NULL)
		return FALSE;
	for (guint i = 0; i < directories->len; i++) {
		const gchar *directory = directories->pdata[i];
		g_autoptr(GArray) entries = files_list_host(ctx, directory);

		for (guint j = 0; entries != NULL && j < entries->len; j++) {
			const FilesEntry *entry = &g_array_index(entries, FilesEntry, j);
			g_autofree gchar *path = NULL;

			/* only regular files, or links that may lead to one */
			if (entry->type != DT_REG && entry->type != DT_LNK &&
			    entry->type != DT_UNKNOWN)
				continue;
			path = files_join(directory, entry->name);
			if (files_already_listed(paths, path, directory))
				continue;
			if (!osqd_table_context_check(ctx, error) ||
			    !hash_add_row(ctx, sink, &state, path, directory, error))
				return FALSE;
		}
	}
	return TRUE;
}

/* ---- suid_bin ---- */

static const gchar *const suid_bin_directories[] = {
	"/bin", "/sbin", "/usr/bin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin", "/tmp",
};

typedef struct {
	OsqdTableContext *ctx;
	OsqdRowSink *sink;
	GHashTable *users;  /* uid -> name, from <root>/etc/passwd; NULL if unused */
	GHashTable *groups; /* gid -> name, from <root>/etc/group; NULL if unused */
	GString *path;      /* host path of the entry being looked at */
	gchar *buffer;      /* for getpwuid_r/getgrgid_r; NULL unless the root is "/" */
} SuidBinWalk;

/* The name of user (@user) or group @id: the root's passwd/group files first, then NSS on a
 * live system (the root is "/"), else the number itself. */
static gchar *
suid_bin_id_name(SuidBinWalk *walk, guint id, gboolean user)
{
	const gchar *name =
	        g_hash_table_lookup(user ? walk->users : walk->groups, GUINT_TO_POINTER(id));

	if (name != NULL)
		return g_strdup(name);
	if (walk->buffer != NULL) {
		if (user) {
			struct passwd pw, *result = NULL;
			if (getpwuid_r(id, &pw, walk->buffer, FILES_PW_BUFFER_SIZE, &result) == 0 &&
			    result != NULL)
				return g_strdup(result->pw_name);
		} else {
			struct group gr, *result = NULL;
			if (getgrgid_r(id, &gr, walk->buffer, FILES_PW_BUFFER_SIZE, &result) == 0 &&
			    result != NULL)
				return g_strdup(result->gr_name);
		}
	}
	return g_strdup_printf("%u", id);
}

static void
suid_bin_add_row(SuidBinWalk *walk, const struct stat *info)
{
	OsqdRow *row = osqd_row_sink_append(walk->sink);

	osqd_row_set_text(row, OSQD_SUID_BIN_COL_PATH, walk->path->str);
	if (walk->users != NULL)
		osqd_row_take_text(row, OSQD_SUID_BIN_COL_USERNAME,
		                   suid_bin_id_name(walk, info->st_uid, TRUE));
	if (walk->groups != NULL)
		osqd_row_take_text(row, OSQD_SUID_BIN_COL_GROUPNAME,
		                   suid_bin_id_name(walk, info->st_gid, FALSE));
	osqd_row_set_text(row, OSQD_SUID_BIN_COL_PERMISSIONS,
	                  osqd_files_suid_permissions(info->st_mode));
}

static gboolean
suid_bin_is_match(const struct stat *info)
{
	return S_ISREG(info->st_mode) && (info->st_mode & (S_ISUID | S_ISGID)) != 0;
}

/* stat(2) of the entry at the walk's path (links followed, inside the root). */
static gboolean
suid_bin_stat(SuidBinWalk *walk, int fd, const FilesEntry *entry, struct stat *info)
{
	g_autofree gchar *real = NULL;

	if (entry->type == DT_REG || files_root_is_live(walk->ctx))
		return fstatat(fd, entry->name, info, 0) == 0;
	real = files_real_path(walk->ctx, walk->path->str, TRUE);
	return real != NULL && stat(real, info) == 0;
}

/* Walks the directory open as @fd: every regular file (symlinks followed) with a setuid or
 * setgid bit is a row; sub-directories are entered, symlinked ones are not. */
static gboolean
suid_bin_walk(SuidBinWalk *walk, int fd, guint depth, GError **error)
{
	g_autoptr(GArray) entries = files_list_fd(fd);
	gsize len = walk->path->len;

	if (entries == NULL)
		return TRUE;
	if (!osqd_table_context_check(walk->ctx, error))
		return FALSE;
	for (guint i = 0; i < entries->len; i++) {
		const FilesEntry *entry = &g_array_index(entries, FilesEntry, i);
		gboolean is_directory = entry->type == DT_DIR;
		struct stat info;

		g_string_append_c(walk->path, '/');
		g_string_append(walk->path, entry->name);
		if (entry->type == DT_UNKNOWN &&
		    fstatat(fd, entry->name, &info, AT_SYMLINK_NOFOLLOW) == 0)
			is_directory = S_ISDIR(info.st_mode);
		if (!is_directory && suid_bin_stat(walk, fd, entry, &info) &&
		    suid_bin_is_match(&info))
			suid_bin_add_row(walk, &info);
		if (is_directory && depth < FILES_MAX_DEPTH) {
			int child =
			        openat(fd, entry->name,
			               O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
			if (child >= 0) {
				gboolean ok = suid_bin_walk(walk, child, depth + 1, error);
				(void)close(child);
				if (!ok)
					return FALSE;
			}
		}
		g_string_truncate(walk->path, len);
	}
	return TRUE;
}

/* `path = X`: X is a row if the walk would reach it (under a searched directory, through real
 * directories only) and it is a setuid/setgid regular file. */
static void
suid_bin_check_path(SuidBinWalk *walk, const gchar *path)
{
	for (guint i = 0; i < G_N_ELEMENTS(suid_bin_directories); i++) {
		const gchar *top = suid_bin_directories[i];
		gsize top_len = strlen(top);
		g_auto(GStrv) parts = NULL;
		g_autoptr(GString) host = NULL;
		g_autofree gchar *full = NULL;
		guint n_parts;
		struct stat info;
		gboolean reachable = TRUE;

		if (strncmp(path, top, top_len) != 0 || path[top_len] != '/')
			continue;
		parts = g_strsplit(path + top_len + 1, "/", -1);
		n_parts = g_strv_length(parts);
		if (n_parts > FILES_MAX_DEPTH)
			return;
		host = g_string_new(top);
		for (guint j = 0; j < n_parts && reachable; j++) {
			reachable = parts[j][0] != '\0' && strcmp(parts[j], ".") != 0 &&
			            strcmp(parts[j], "..") != 0;
			if (!reachable)
				break;
			g_string_append_c(host, '/');
			g_string_append(host, parts[j]);
			if (j + 1 < n_parts)
				reachable = files_is_directory(walk->ctx, host->str, FALSE);
		}
		if (!reachable)
			return;
		full = files_real_path(walk->ctx, path, TRUE);
		if (full != NULL && stat(full, &info) == 0 && suid_bin_is_match(&info)) {
			g_string_assign(walk->path, path);
			suid_bin_add_row(walk, &info);
		}
		return;
	}
}

gboolean
osqd_table_suid_bin_generate(OsqdTableContext *ctx, OsqdRowSink *sink, GError **error)
{
	g_autoptr(GHashTable) users = NULL;
	g_autoptr(GHashTable) groups = NULL;
	g_autoptr(GString) path = g_string_new(NULL);
	g_autoptr(GPtrArray) wanted = osqd_table_context_text_equals(ctx, OSQD_SUID_BIN_COL_PATH);
	g_autofree gchar *buffer = NULL;
	SuidBinWalk walk = { ctx, sink, NULL, NULL, path, NULL };
	gboolean ok = TRUE;

	if (osqd_table_context_column_used(ctx, OSQD_SUID_BIN_COL_USERNAME))
		walk.users = users = osqd_accounts_load_id_names(ctx, FALSE);
	if (osqd_table_context_column_used(ctx, OSQD_SUID_BIN_COL_GROUPNAME))
		walk.groups = groups = osqd_accounts_load_id_names(ctx, TRUE);
	if (g_strcmp0(osqd_table_context_get_root(ctx), "/") == 0)
		walk.buffer = buffer = g_malloc(FILES_PW_BUFFER_SIZE);
	if (wanted != NULL) {
		for (guint i = 0; i < wanted->len; i++)
			suid_bin_check_path(&walk, wanted->pdata[i]);
		return TRUE;
	}
	for (guint i = 0; i < G_N_ELEMENTS(suid_bin_directories) && ok; i++) {
		const gchar *top = suid_bin_directories[i];
		g_autofree gchar *resolved = files_resolve(ctx, top);
		g_autofree gchar *full = NULL;
		int fd;

		if (resolved == NULL)
			continue; /* missing on this host */
		full = osqd_table_context_path(ctx, "%s", resolved);
		fd = open(full, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOCTTY);
		if (fd < 0) {
			g_debug("suid_bin: cannot open %s: %s", full, g_strerror(errno));
			continue;
		}
		g_string_assign(path, top);
		ok = suid_bin_walk(&walk, fd, 1, error);
		(void)close(fd);
	}
	return ok;
}
