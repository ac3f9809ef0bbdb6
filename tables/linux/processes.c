/* SPDX-License-Identifier: Apache-2.0
 *
 * The /proc/<pid> family: processes, process_open_files, process_memory_map and process_envs.
 * <root>/proc is opened once per query and each process's files are read through one O_PATH
 * descriptor of its directory (so a pid reused mid-row cannot mix two processes), each with one
 * read() into a stack buffer, parsed in place by the pure parsers of processes.h. Only the files
 * behind the columns a query uses are read (`SELECT pid, name, uid FROM processes` costs one
 * read of status per process) and a pushed-down `pid = N` / `pid IN (...)` touches only those
 * processes. Processes come and go during a scan: one that vanished or cannot be read is skipped
 * (g_debug), never an error.
 */
#include "config.h"

#include "processes.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "osqd-tables-generated.h"

#define PROCESSES_DELETED_SUFFIX " (deleted)"

/* Caps for the files that have no natural size limit. */
#define PROCESSES_CMDLINE_MAX (4 * 1024 * 1024)
#define PROCESSES_ENVIRON_MAX (16 * 1024 * 1024)
#define PROCESSES_MAPS_MAX    (64 * 1024 * 1024)
#define PROCESSES_STAT_MAX    (4 * 1024 * 1024)

G_DEFINE_AUTOPTR_CLEANUP_FUNC(DIR, closedir)

/* ---- pure parsers ---- */

/* Parses a decimal integer (optional sign) at *p, not past @end, and moves *p after it. */
static gboolean
processes_parse_int(const gchar **p, const gchar *end, gint64 *out)
{
	const gchar *s = *p;
	gboolean negative = FALSE;
	guint64 value = 0;

	if (s < end && (*s == '-' || *s == '+')) {
		negative = *s == '-';
		s++;
	}
	if (s >= end || !g_ascii_isdigit(*s))
		return FALSE;
	for (; s < end && g_ascii_isdigit(*s); s++) {
		if (value > (guint64)G_MAXINT64 / 10)
			return FALSE;
		value = value * 10 + (guint64)(*s - '0');
		if (value > (guint64)G_MAXINT64)
			return FALSE;
	}
	*out = negative ? -(gint64)value : (gint64)value;
	*p = s;
	return TRUE;
}

/* The whole token [p, end) as a decimal integer. */
static gboolean
processes_parse_int_token(const gchar *p, const gchar *end, gint64 *out)
{
	return processes_parse_int(&p, end, out) && p == end;
}

/* The whole token [p, end) as a hexadecimal integer, without a 0x prefix. */
static gboolean
processes_parse_hex_token(const gchar *p, const gchar *end, gint64 *out)
{
	guint64 value = 0;

	if (p >= end)
		return FALSE;
	for (; p < end; p++) {
		gint digit = g_ascii_xdigit_value(*p);
		if (digit < 0 || value > ((guint64)G_MAXINT64 >> 4))
			return FALSE;
		value = (value << 4) | (guint64)digit;
	}
	*out = (gint64)value;
	return TRUE;
}

/* The next run of non-blank bytes at or after *p (blank: space or tab), stopping at a newline. */
static gboolean
processes_next_token(const gchar **p, const gchar *end, const gchar **token,
                     const gchar **token_end)
{
	const gchar *s = *p;

	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	if (s >= end || *s == '\n' || *s == '\0')
		return FALSE;
	*token = s;
	while (s < end && *s != ' ' && *s != '\t' && *s != '\n' && *s != '\0')
		s++;
	*token_end = s;
	*p = s;
	return TRUE;
}

static void
processes_trim(const gchar **start, const gchar **end)
{
	while (*start < *end && g_ascii_isspace(**start))
		(*start)++;
	while (*end > *start && g_ascii_isspace((*end)[-1]))
		(*end)--;
}

gboolean
osqd_processes_parse_stat(const gchar *buf, gsize len, OsqdProcessesStat *stat)
{
	const gchar *end = buf + len;
	const gchar *p = memrchr(buf, ')', len);
	gint64 *fields[20] = { NULL };

	if (p == NULL)
		return FALSE;
	memset(stat, 0, sizeof(*stat));
	/* numbered from the state, the first field after the name */
	fields[1] = &stat->parent;
	fields[2] = &stat->pgroup;
	fields[11] = &stat->utime;
	fields[12] = &stat->stime;
	fields[16] = &stat->nice;
	fields[17] = &stat->threads;
	fields[19] = &stat->starttime;
	p++;
	for (guint i = 0; i < G_N_ELEMENTS(fields); i++) {
		const gchar *token, *token_end;
		if (!processes_next_token(&p, end, &token, &token_end))
			return FALSE;
		if (i == 0)
			stat->state = token[0];
		else if (fields[i] != NULL &&
		         !processes_parse_int_token(token, token_end, fields[i]))
			return FALSE;
	}
	return TRUE;
}

/* Exactly four integers, as the Uid and Gid lines have (real, effective, saved, filesystem). */
static gboolean
processes_parse_ids(const gchar *p, const gchar *end, gint64 ids[3])
{
	gint64 values[4];
	const gchar *token, *token_end;

	for (guint i = 0; i < G_N_ELEMENTS(values); i++) {
		if (!processes_next_token(&p, end, &token, &token_end) ||
		    !processes_parse_int_token(token, token_end, &values[i]))
			return FALSE;
	}
	if (processes_next_token(&p, end, &token, &token_end))
		return FALSE;
	memcpy(ids, values, 3 * sizeof(gint64));
	return TRUE;
}

/* "  1234 kB" -> 1234000: osquery turns the kB figure into bytes by appending three zeros. */
static gboolean
processes_parse_kb(const gchar *p, const gchar *end, gint64 *out)
{
	const gchar *token, *token_end;
	gint64 kb;

	if (!processes_next_token(&p, end, &token, &token_end) ||
	    !processes_parse_int_token(token, token_end, &kb) || kb > G_MAXINT64 / 1000)
		return FALSE;
	*out = kb * 1000;
	return TRUE;
}

static gboolean
processes_key_is(const gchar *key, gsize key_len, const gchar *name)
{
	return strlen(name) == key_len && memcmp(key, name, key_len) == 0;
}

void
osqd_processes_parse_status(const gchar *buf, gsize len, OsqdProcessesStatus *status)
{
	const gchar *p = buf, *end = buf + len;

	memset(status, 0, sizeof(*status));
	while (p < end) {
		const gchar *eol = memchr(p, '\n', (gsize)(end - p));
		const gchar *line_end = eol != NULL ? eol : end;
		const gchar *colon = memchr(p, ':', (gsize)(line_end - p));

		if (colon != NULL) {
			const gchar *value = colon + 1, *value_end = line_end;
			gsize key_len = (gsize)(colon - p);

			if (processes_key_is(p, key_len, "Name")) {
				processes_trim(&value, &value_end);
				status->name = value;
				status->name_len = (gsize)(value_end - value);
			} else if (processes_key_is(p, key_len, "Uid")) {
				status->has_uids =
				        processes_parse_ids(value, line_end, status->uids);
			} else if (processes_key_is(p, key_len, "Gid")) {
				status->has_gids =
				        processes_parse_ids(value, line_end, status->gids);
			} else if (processes_key_is(p, key_len, "VmSize")) {
				status->has_vm_size =
				        processes_parse_kb(value, line_end, &status->vm_size);
			} else if (processes_key_is(p, key_len, "VmRSS")) {
				status->has_vm_rss =
				        processes_parse_kb(value, line_end, &status->vm_rss);
				/* the last line we need; the rest is signals, capabilities... */
				if (status->name != NULL && status->has_uids)
					return;
			}
		}
		p = line_end + 1;
	}
}

void
osqd_processes_parse_io(const gchar *buf, gsize len, OsqdProcessesIo *io)
{
	const gchar *p = buf, *end = buf + len;

	memset(io, 0, sizeof(*io));
	while (p < end) {
		const gchar *eol = memchr(p, '\n', (gsize)(end - p));
		const gchar *line_end = eol != NULL ? eol : end;
		const gchar *colon = memchr(p, ':', (gsize)(line_end - p));

		if (colon != NULL) {
			const gchar *token, *token_end, *value = colon + 1;
			gsize key_len = (gsize)(colon - p);
			gint64 number;

			if (processes_next_token(&value, line_end, &token, &token_end) &&
			    processes_parse_int_token(token, token_end, &number)) {
				if (processes_key_is(p, key_len, "read_bytes")) {
					io->read_bytes = number;
					io->has_read_bytes = TRUE;
				} else if (processes_key_is(p, key_len, "write_bytes")) {
					io->write_bytes = number;
				} else if (processes_key_is(p, key_len, "cancelled_write_bytes")) {
					io->cancelled_write_bytes = number;
				}
			}
		}
		p = line_end + 1;
	}
}

gchar *
osqd_processes_fix_cmdline(gchar *buf, gsize *len)
{
	const gchar *start = buf, *end = buf + *len;

	for (gsize i = 0; i < *len; i++) {
		if (buf[i] == '\0')
			buf[i] = ' ';
	}
	processes_trim(&start, &end);
	*len = (gsize)(end - start);
	return (gchar *)start;
}

gboolean
osqd_processes_parse_cgroup(const gchar *buf, gsize len, const gchar **path, gsize *path_len)
{
	const gchar *eol = memchr(buf, '\n', len);
	const gchar *line_end = eol != NULL ? eol : buf + len;
	const gchar *first = memchr(buf, ':', (gsize)(line_end - buf));
	const gchar *second;

	if (first == NULL)
		return FALSE;
	second = memchr(first + 1, ':', (gsize)(line_end - first - 1));
	if (second == NULL)
		return FALSE;
	*path = second + 1;
	*path_len = (gsize)(line_end - second - 1);
	return TRUE;
}

gint64
osqd_processes_parse_boot_time(const gchar *buf, gsize len)
{
	const gchar *p = buf, *end = buf + len;

	while (p < end) {
		const gchar *eol = memchr(p, '\n', (gsize)(end - p));
		const gchar *line_end = eol != NULL ? eol : end;
		const gchar *token, *token_end;
		gint64 value;

		if (line_end - p > 6 && memcmp(p, "btime ", 6) == 0) {
			const gchar *q = p + 6;
			if (processes_next_token(&q, line_end, &token, &token_end) &&
			    processes_parse_int_token(token, token_end, &value) && value > 0)
				return value;
			return -1;
		}
		p = line_end + 1;
	}
	return -1;
}

gboolean
osqd_processes_parse_maps_line(const gchar *line, gsize len, OsqdProcessesMapsLine *map)
{
	const gchar *p = line, *end = line + len;
	const gchar *tokens[5], *token_ends[5], *dash, *path, *path_end;

	memset(map, 0, sizeof(*map));
	for (guint i = 0; i < G_N_ELEMENTS(tokens); i++) {
		if (!processes_next_token(&p, end, &tokens[i], &token_ends[i]))
			return FALSE;
	}
	dash = memchr(tokens[0], '-', (gsize)(token_ends[0] - tokens[0]));
	if (dash == NULL || dash == tokens[0] || dash + 1 == token_ends[0])
		return FALSE;
	map->start = tokens[0];
	map->start_len = (gsize)(dash - tokens[0]);
	map->end = dash + 1;
	map->end_len = (gsize)(token_ends[0] - dash - 1);
	map->permissions = tokens[1];
	map->permissions_len = (gsize)(token_ends[1] - tokens[1]);
	if (!processes_parse_hex_token(tokens[2], token_ends[2], &map->offset))
		map->offset = -1;
	map->device = tokens[3];
	map->device_len = (gsize)(token_ends[3] - tokens[3]);
	map->has_inode = processes_parse_int_token(tokens[4], token_ends[4], &map->inode);
	path = p;
	path_end = end;
	processes_trim(&path, &path_end);
	if (path < path_end) {
		map->path = path;
		map->path_len = (gsize)(path_end - path);
	}
	return TRUE;
}

void
osqd_processes_split_env(const gchar *entry, gsize len, gsize *key_len, const gchar **value,
                         gsize *value_len)
{
	const gchar *equals = memchr(entry, '=', len);

	if (equals == NULL) {
		*key_len = len;
		*value = NULL;
		*value_len = 0;
		return;
	}
	*key_len = (gsize)(equals - entry);
	*value = equals + 1;
	*value_len = len - *key_len - 1;
}

gboolean
osqd_processes_fd_is_special(const gchar *target)
{
	return g_str_has_prefix(target, "socket:") || g_str_has_prefix(target, "pipe:") ||
	       g_str_has_prefix(target, "anon_inode:");
}

/* ---- reading /proc ---- */

/* What every generator of the family shares for one query. */
typedef struct {
	const gchar *table;
	OsqdTableContext *ctx;
	OsqdRowSink *sink;
	int proc_fd;              /* <root>/proc */
	gboolean host_root;       /* the root prefix is "/" */
	gboolean pids_from_query; /* pids came from a constraint, so may not exist */
} ProcessesScan;

static void
processes_scan_clear(ProcessesScan *scan)
{
	if (scan->proc_fd >= 0)
		(void)close(scan->proc_fd);
	scan->proc_fd = -1;
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(ProcessesScan, processes_scan_clear)

static gboolean
processes_scan_init(ProcessesScan *scan, OsqdTableContext *ctx, OsqdRowSink *sink, GError **error)
{
	g_autofree gchar *path = osqd_table_context_path(ctx, "/proc");

	scan->table = osqd_table_context_get_table(ctx)->name;
	scan->ctx = ctx;
	scan->sink = sink;
	scan->host_root = g_strcmp0(osqd_table_context_get_root(ctx), "/") == 0;
	scan->proc_fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (scan->proc_fd < 0) {
		int saved = errno;
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_NOT_SUPPORTED, "cannot open %s: %s", path,
		            g_strerror(saved));
		return FALSE;
	}
	return TRUE;
}

static gboolean
processes_set_errno(GError **error, gint64 pid, const gchar *name, int saved)
{
	OsqError code = OSQ_ERROR_IO;

	if (saved == ENOENT || saved == ESRCH)
		code = OSQ_ERROR_NOT_FOUND; /* the process exited */
	else if (saved == EACCES || saved == EPERM)
		code = OSQ_ERROR_PERMISSION_DENIED;
	g_set_error(error, OSQ_ERROR, code, "/proc/%" G_GINT64_FORMAT "/%s: %s", pid, name,
	            g_strerror(saved));
	return FALSE;
}

/* One read() of @name under @dir_fd into @buf, NUL-terminated; for files that fit @size (the
 * end of a longer file is cut off). Returns the length, or -1 with errno set. */
static gssize
processes_read_small(int dir_fd, const gchar *name, gchar *buf, gsize size)
{
	ssize_t n;
	int saved, fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0)
		return -1;
	do
		n = read(fd, buf, size - 1);
	while (n < 0 && errno == EINTR);
	saved = errno;
	(void)close(fd);
	if (n < 0) {
		errno = saved;
		return -1;
	}
	buf[n] = '\0';
	return n;
}

/* Reads all of @name under @dir_fd (at most @max bytes): into @stack when it fits, else into a
 * heap buffer left in *@heap for the caller to free. Returns the data, NUL-terminated, or NULL
 * with errno set. With @short_read_ends, a read that returns less than asked is taken as the
 * end, saving the final empty read: true of cmdline and environ, which fill the whole buffer,
 * but not of seq_file files such as maps, which may stop early at a record boundary. */
static gchar *
processes_read_whole(int dir_fd, const gchar *name, gchar *stack, gsize stack_size, gsize max,
                     gboolean short_read_ends, gchar **heap, gsize *len)
{
	gchar *buf = stack;
	gsize size = stack_size, used = 0;
	int fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0)
		return NULL;
	for (;;) {
		ssize_t n;
		if (used + 1 == size) {
			if (size >= max)
				break;
			size = MIN(size * 2, max);
			if (buf == stack) {
				*heap = g_malloc(size);
				memcpy(*heap, stack, used);
			} else {
				*heap = g_realloc(*heap, size);
			}
			buf = *heap;
		}
		n = read(fd, buf + used, size - 1 - used);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int saved = errno;
			(void)close(fd);
			errno = saved;
			return NULL;
		}
		if (n == 0)
			break;
		used += (gsize)n;
		if (short_read_ends && used + 1 < size)
			break;
	}
	(void)close(fd);
	buf[used] = '\0';
	*len = used;
	return buf;
}

/* The target of the link @name under @dir_fd, in @buf (PATH_MAX + 1 bytes); -1 with errno. */
static gssize
processes_readlink(int dir_fd, const gchar *name, gchar *buf)
{
	ssize_t n = readlinkat(dir_fd, name, buf, PATH_MAX);

	if (n < 0)
		return -1;
	buf[n] = '\0';
	return n;
}

/* stat() of <root>/<path>, following links; TRUE when it exists. */
static gboolean
processes_host_stat(ProcessesScan *scan, const gchar *path, struct stat *st)
{
	g_autofree gchar *prefixed = NULL;

	if (scan->host_root)
		return stat(path, st) == 0;
	prefixed = osqd_table_context_path(scan->ctx, "%s", path);
	return stat(prefixed, st) == 0;
}

static gint
processes_compare_int64(gconstpointer a, gconstpointer b)
{
	gint64 x = *(const gint64 *)a, y = *(const gint64 *)b;
	return x < y ? -1 : x > y;
}

/* Whether @pid passes the range constraints (pid > N, pid <= N...) pushed down on @column. */
static gboolean
processes_pid_in_range(OsqdTableContext *ctx, guint column, gint64 pid)
{
	guint n = 0;
	const OsqdConstraint *c = osqd_table_context_get_constraints(ctx, &n);

	for (guint i = 0; i < n; i++) {
		gint64 v;
		if (c[i].column != column || c[i].value.kind != OSQD_VALUE_INTEGER)
			continue;
		v = c[i].value.integer;
		if ((c[i].op == OSQD_OP_GT && !(pid > v)) ||
		    (c[i].op == OSQD_OP_GE && !(pid >= v)) ||
		    (c[i].op == OSQD_OP_LT && !(pid < v)) || (c[i].op == OSQD_OP_LE && !(pid <= v)))
			return FALSE;
	}
	return TRUE;
}

/* Opens the directory @name under @dir_fd for reading; NULL with errno set. */
static DIR *
processes_open_dir(int dir_fd, const gchar *name)
{
	DIR *dir;
	int fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	dir = fdopendir(fd);
	if (dir == NULL) {
		int saved = errno;
		(void)close(fd);
		errno = saved;
	}
	return dir;
}

/* The numeric entries of @dir (/proc itself, or /proc/<pid>/fd), sorted; with @ctx, only those
 * that pass the range constraints on @pid_column. */
static GArray *
processes_read_numbers(DIR *dir, OsqdTableContext *ctx, guint pid_column)
{
	GArray *numbers = g_array_sized_new(FALSE, FALSE, sizeof(gint64), ctx != NULL ? 512 : 16);
	struct dirent *entry;

	/* this DIR is ours alone, so readdir is safe on any thread */
	while ((entry = readdir(dir)) != NULL) {
		const gchar *text = entry->d_name;
		gint64 number;
		if (!g_ascii_isdigit(text[0]) ||
		    !processes_parse_int_token(text, text + strlen(text), &number) ||
		    (ctx != NULL && !processes_pid_in_range(ctx, pid_column, number)))
			continue;
		g_array_append_val(numbers, number);
	}
	g_array_sort(numbers, processes_compare_int64);
	return numbers;
}

/* The pids to report, sorted: those of the `pid =` / `pid IN` constraints when there are any,
 * else every numeric entry of /proc (thread-group leaders only, as /proc lists them). */
static GArray *
processes_list_pids(ProcessesScan *scan, guint pid_column, GError **error)
{
	GArray *pids = osqd_table_context_int_equals(scan->ctx, pid_column);
	g_autoptr(DIR) dir = NULL;

	scan->pids_from_query = pids != NULL;
	if (pids != NULL)
		return pids;
	dir = processes_open_dir(scan->proc_fd, ".");
	if (dir == NULL) {
		int saved = errno;
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_IO, "cannot list /proc: %s",
		            g_strerror(saved));
		return NULL;
	}
	return processes_read_numbers(dir, scan->ctx, pid_column);
}

/* Adds the rows of one process, reading its files under @pid_fd (an O_PATH descriptor of
 * /proc/<pid>, or -1 when the query needs no file); FALSE when the process is skipped. */
typedef gboolean (*ProcessesPidFunc)(ProcessesScan *scan, gint64 pid, int pid_fd,
                                     gpointer user_data, GError **error);

/* Calls @func for every pid the query asks for (see processes_list_pids), skipping the
 * processes it fails on; FALSE only when /proc cannot be listed or the query was cancelled.
 * Every file of a process is read through one descriptor of its /proc/<pid> directory, so a
 * pid reused in the middle of a row cannot mix two processes: the old directory just fails.
 * With @needs_files FALSE that directory is opened only to check the pids a query named. */
static gboolean
processes_scan_run(ProcessesScan *scan, guint pid_column, gboolean needs_files,
                   ProcessesPidFunc func, gpointer user_data, GError **error)
{
	g_autoptr(GArray) pids = processes_list_pids(scan, pid_column, error);

	if (pids == NULL)
		return FALSE;
	for (guint i = 0; i < pids->len; i++) {
		g_autoptr(GError) error_local = NULL;
		gint64 pid = g_array_index(pids, gint64, i);
		int pid_fd = -1;
		gboolean ok;

		if (!osqd_table_context_check(scan->ctx, error))
			return FALSE;
		if (needs_files || scan->pids_from_query) {
			gchar name[32];
			g_snprintf(name, sizeof(name), "%" G_GINT64_FORMAT, pid);
			pid_fd = pid > 0 ? openat(scan->proc_fd, name,
			                          O_PATH | O_DIRECTORY | O_CLOEXEC)
			                 : -1;
			if (pid_fd < 0) {
				g_debug("%s: skipping pid %" G_GINT64_FORMAT ": %s", scan->table,
				        pid, g_strerror(pid > 0 ? errno : ENOENT));
				continue;
			}
		}
		ok = func(scan, pid, pid_fd, user_data, &error_local);
		if (pid_fd >= 0)
			(void)close(pid_fd);
		if (!ok)
			g_debug("%s: skipping a process: %s", scan->table, error_local->message);
	}
	return TRUE;
}

/* ---- processes ---- */

/* Which files the columns of the query need, and the clock facts shared by every row. */
typedef struct {
	gboolean need_stat;
	gboolean need_status;
	gboolean need_exe;
	gboolean need_cmdline;
	gboolean need_cwd;
	gboolean need_root;
	gboolean need_io;
	gboolean need_cgroup;
	gint64 clock_ticks;
	gint64 ms_per_tick;
	gint64 boot_time; /* seconds since the epoch; -1 unknown */
} ProcessesQuery;

static gboolean
processes_any_used(OsqdTableContext *ctx, const guint *columns, gsize n_columns)
{
	for (gsize i = 0; i < n_columns; i++) {
		if (osqd_table_context_column_used(ctx, columns[i]))
			return TRUE;
	}
	return FALSE;
}

static void
processes_query_plan(ProcessesQuery *query, OsqdTableContext *ctx)
{
	static const guint stat_columns[] = {
		OSQD_PROCESSES_COL_STATE,       OSQD_PROCESSES_COL_PARENT,
		OSQD_PROCESSES_COL_PGROUP,      OSQD_PROCESSES_COL_USER_TIME,
		OSQD_PROCESSES_COL_SYSTEM_TIME, OSQD_PROCESSES_COL_NICE,
		OSQD_PROCESSES_COL_THREADS,     OSQD_PROCESSES_COL_START_TIME,
	};
	static const guint status_columns[] = {
		OSQD_PROCESSES_COL_NAME,       OSQD_PROCESSES_COL_UID,
		OSQD_PROCESSES_COL_GID,        OSQD_PROCESSES_COL_EUID,
		OSQD_PROCESSES_COL_EGID,       OSQD_PROCESSES_COL_SUID,
		OSQD_PROCESSES_COL_SGID,       OSQD_PROCESSES_COL_RESIDENT_SIZE,
		OSQD_PROCESSES_COL_TOTAL_SIZE,
	};
	static const guint exe_columns[] = { OSQD_PROCESSES_COL_PATH, OSQD_PROCESSES_COL_ON_DISK };
	static const guint io_columns[] = { OSQD_PROCESSES_COL_DISK_BYTES_READ,
		                            OSQD_PROCESSES_COL_DISK_BYTES_WRITTEN };

	query->need_stat = processes_any_used(ctx, stat_columns, G_N_ELEMENTS(stat_columns));
	query->need_status = processes_any_used(ctx, status_columns, G_N_ELEMENTS(status_columns));
	query->need_exe = processes_any_used(ctx, exe_columns, G_N_ELEMENTS(exe_columns));
	query->need_io = processes_any_used(ctx, io_columns, G_N_ELEMENTS(io_columns));
	query->need_cmdline = osqd_table_context_column_used(ctx, OSQD_PROCESSES_COL_CMDLINE);
	query->need_cwd = osqd_table_context_column_used(ctx, OSQD_PROCESSES_COL_CWD);
	query->need_root = osqd_table_context_column_used(ctx, OSQD_PROCESSES_COL_ROOT);
	query->need_cgroup = osqd_table_context_column_used(ctx, OSQD_PROCESSES_COL_CGROUP_PATH);
	query->clock_ticks = sysconf(_SC_CLK_TCK);
	if (query->clock_ticks <= 0)
		query->clock_ticks = 100;
	query->ms_per_tick = 1000 / query->clock_ticks;
	query->boot_time = -1;
}

static gboolean
processes_query_needs_files(const ProcessesQuery *query)
{
	return query->need_stat || query->need_status || query->need_exe || query->need_cmdline ||
	       query->need_cwd || query->need_root || query->need_io || query->need_cgroup;
}

/* Boot time from the btime line of <root>/proc/stat (read once per query); -1 if unknown. */
static gint64
processes_read_boot_time(ProcessesScan *scan)
{
	gchar stack[8192];
	g_autofree gchar *heap = NULL;
	gsize len = 0;
	const gchar *buf = processes_read_whole(scan->proc_fd, "stat", stack, sizeof(stack),
	                                        PROCESSES_STAT_MAX, FALSE, &heap, &len);

	if (buf == NULL) {
		g_debug("processes: cannot read /proc/stat: %s", g_strerror(errno));
		return -1;
	}
	return osqd_processes_parse_boot_time(buf, len);
}

/* For an exe link ending in " (deleted)" while a file of that very name exists: whether the
 * process runs that file (its inode is the one mapped in /proc/<pid>/maps). 1 yes, 0 no, -1 when
 * the maps do not say. */
static gint
processes_deleted_inode_matches(int pid_fd, const gchar *path, ino_t inode)
{
	gchar stack[16384];
	g_autofree gchar *heap = NULL;
	gsize len = 0, path_len = strlen(path);
	const gchar *p = processes_read_whole(pid_fd, "maps", stack, sizeof(stack),
	                                      PROCESSES_MAPS_MAX, FALSE, &heap, &len);
	const gchar *end;

	if (p == NULL)
		return -1;
	for (end = p + len; p < end;) {
		const gchar *eol = memchr(p, '\n', (gsize)(end - p));
		const gchar *line_end = eol != NULL ? eol : end;
		OsqdProcessesMapsLine map;

		if (osqd_processes_parse_maps_line(p, (gsize)(line_end - p), &map) &&
		    map.has_inode && map.path_len >= path_len &&
		    memcmp(map.path, path, path_len) == 0)
			return (ino_t)map.inode == inode ? 1 : 0;
		p = line_end + 1;
	}
	return -1;
}

/* osquery's on_disk: 1 when the executable exists, 0 when it is gone (and then the kernel's
 * " (deleted)" suffix is cut from @path), -1 when unknown. */
static gint
processes_on_disk(ProcessesScan *scan, int pid_fd, gchar *path, gsize *len)
{
	const gsize suffix_len = strlen(PROCESSES_DELETED_SUFFIX);
	struct stat st;
	gint matches;

	if (!g_str_has_suffix(path, PROCESSES_DELETED_SUFFIX))
		return processes_host_stat(scan, path, &st) ? 1 : 0;
	if (!processes_host_stat(scan, path, &st)) {
		*len -= suffix_len;
		path[*len] = '\0';
		return 0;
	}
	/* a file named "... (deleted)" exists: is it the one the process runs? */
	matches = processes_deleted_inode_matches(pid_fd, path, st.st_ino);
	if (matches == 0) {
		*len -= suffix_len;
		path[*len] = '\0';
	}
	return matches;
}

static void
processes_set_link(OsqdRow *row, guint column, int pid_fd, const gchar *name)
{
	gchar buf[PATH_MAX + 1];
	gssize n = processes_readlink(pid_fd, name, buf);

	if (n > 0)
		osqd_row_set_text_len(row, column, buf, n);
}

static void
processes_set_exe(ProcessesScan *scan, OsqdRow *row, int pid_fd)
{
	gchar buf[PATH_MAX + 1];
	gssize n = processes_readlink(pid_fd, "exe", buf);
	gsize len;

	if (n <= 0) {
		osqd_row_set_int(row, OSQD_PROCESSES_COL_ON_DISK, -1);
		return;
	}
	len = (gsize)n;
	osqd_row_set_int(row, OSQD_PROCESSES_COL_ON_DISK,
	                 processes_on_disk(scan, pid_fd, buf, &len));
	osqd_row_set_text_len(row, OSQD_PROCESSES_COL_PATH, buf, (gssize)len);
}

static void
processes_set_cmdline(OsqdRow *row, int pid_fd)
{
	gchar stack[4096];
	g_autofree gchar *heap = NULL;
	gsize len = 0;
	gchar *buf = processes_read_whole(pid_fd, "cmdline", stack, sizeof(stack),
	                                  PROCESSES_CMDLINE_MAX, TRUE, &heap, &len);

	if (buf == NULL)
		return;
	buf = osqd_processes_fix_cmdline(buf, &len);
	osqd_row_set_text_len(row, OSQD_PROCESSES_COL_CMDLINE, buf, (gssize)len);
}

static void
processes_set_io(OsqdRow *row, int pid_fd)
{
	gchar buf[512];
	gssize n = processes_read_small(pid_fd, "io", buf, sizeof(buf));
	OsqdProcessesIo io;

	if (n < 0)
		return; /* other users' io needs root */
	osqd_processes_parse_io(buf, (gsize)n, &io);
	if (io.has_read_bytes)
		osqd_row_set_int(row, OSQD_PROCESSES_COL_DISK_BYTES_READ, io.read_bytes);
	osqd_row_set_int(row, OSQD_PROCESSES_COL_DISK_BYTES_WRITTEN,
	                 io.write_bytes - io.cancelled_write_bytes);
}

static void
processes_set_cgroup(OsqdRow *row, int pid_fd)
{
	gchar buf[PATH_MAX + 64];
	gssize n = processes_read_small(pid_fd, "cgroup", buf, sizeof(buf));
	const gchar *path;
	gsize path_len;

	if (n > 0 && osqd_processes_parse_cgroup(buf, (gsize)n, &path, &path_len))
		osqd_row_set_text_len(row, OSQD_PROCESSES_COL_CGROUP_PATH, path, (gssize)path_len);
}

static void
processes_set_stat(const ProcessesQuery *query, OsqdRow *row, const OsqdProcessesStat *stat)
{
	gint64 start_time = -1;

	if (query->boot_time > 0 && stat->starttime >= 0)
		start_time = query->boot_time + stat->starttime / query->clock_ticks;
	osqd_row_set_text_len(row, OSQD_PROCESSES_COL_STATE, &stat->state, 1);
	osqd_row_set_int(row, OSQD_PROCESSES_COL_PARENT, stat->parent);
	osqd_row_set_int(row, OSQD_PROCESSES_COL_PGROUP, stat->pgroup);
	osqd_row_set_int(row, OSQD_PROCESSES_COL_USER_TIME, stat->utime * query->ms_per_tick);
	osqd_row_set_int(row, OSQD_PROCESSES_COL_SYSTEM_TIME, stat->stime * query->ms_per_tick);
	osqd_row_set_int(row, OSQD_PROCESSES_COL_NICE, stat->nice);
	osqd_row_set_int(row, OSQD_PROCESSES_COL_THREADS, stat->threads);
	osqd_row_set_int(row, OSQD_PROCESSES_COL_START_TIME, start_time);
}

static void
processes_set_status(OsqdRow *row, const OsqdProcessesStatus *status)
{
	if (status->name != NULL)
		osqd_row_set_text_len(row, OSQD_PROCESSES_COL_NAME, status->name,
		                      (gssize)status->name_len);
	if (status->has_uids) {
		osqd_row_set_int(row, OSQD_PROCESSES_COL_UID, status->uids[0]);
		osqd_row_set_int(row, OSQD_PROCESSES_COL_EUID, status->uids[1]);
		osqd_row_set_int(row, OSQD_PROCESSES_COL_SUID, status->uids[2]);
	}
	if (status->has_gids) {
		osqd_row_set_int(row, OSQD_PROCESSES_COL_GID, status->gids[0]);
		osqd_row_set_int(row, OSQD_PROCESSES_COL_EGID, status->gids[1]);
		osqd_row_set_int(row, OSQD_PROCESSES_COL_SGID, status->gids[2]);
	}
	if (status->has_vm_rss)
		osqd_row_set_int(row, OSQD_PROCESSES_COL_RESIDENT_SIZE, status->vm_rss);
	if (status->has_vm_size)
		osqd_row_set_int(row, OSQD_PROCESSES_COL_TOTAL_SIZE, status->vm_size);
}

/* One row for @pid; FALSE (the process is skipped) when its stat or status, when needed,
 * cannot be read or parsed. */
static gboolean
processes_add_row(ProcessesScan *scan, gint64 pid, int pid_fd, gpointer user_data, GError **error)
{
	const ProcessesQuery *query = user_data;
	gchar stat_buf[1024], status_buf[4096];
	OsqdProcessesStat stat;
	OsqdProcessesStatus status;
	OsqdRow *row;

	if (query->need_stat) {
		gssize n = processes_read_small(pid_fd, "stat", stat_buf, sizeof(stat_buf));
		if (n < 0)
			return processes_set_errno(error, pid, "stat", errno);
		if (!osqd_processes_parse_stat(stat_buf, (gsize)n, &stat)) {
			g_set_error(error, OSQ_ERROR, OSQ_ERROR_IO,
			            "/proc/%" G_GINT64_FORMAT "/stat: malformed", pid);
			return FALSE;
		}
	}
	if (query->need_status) {
		gssize n = processes_read_small(pid_fd, "status", status_buf, sizeof(status_buf));
		if (n < 0)
			return processes_set_errno(error, pid, "status", errno);
		osqd_processes_parse_status(status_buf, (gsize)n, &status);
	}

	row = osqd_row_sink_append(scan->sink);
	osqd_row_set_int(row, OSQD_PROCESSES_COL_PID, pid);
	osqd_row_set_int(row, OSQD_PROCESSES_COL_WIRED_SIZE, 0);
	if (query->need_stat)
		processes_set_stat(query, row, &stat);
	if (query->need_status)
		processes_set_status(row, &status);
	if (query->need_exe)
		processes_set_exe(scan, row, pid_fd);
	if (query->need_cmdline)
		processes_set_cmdline(row, pid_fd);
	if (query->need_cwd)
		processes_set_link(row, OSQD_PROCESSES_COL_CWD, pid_fd, "cwd");
	if (query->need_root)
		processes_set_link(row, OSQD_PROCESSES_COL_ROOT, pid_fd, "root");
	if (query->need_io)
		processes_set_io(row, pid_fd);
	if (query->need_cgroup)
		processes_set_cgroup(row, pid_fd);
	return TRUE;
}

gboolean
osqd_table_processes_generate(OsqdTableContext *ctx, OsqdRowSink *sink, GError **error)
{
	g_auto(ProcessesScan) scan = { .proc_fd = -1 };
	ProcessesQuery query = { 0 };

	if (!processes_scan_init(&scan, ctx, sink, error))
		return FALSE;
	processes_query_plan(&query, ctx);
	if (osqd_table_context_column_used(ctx, OSQD_PROCESSES_COL_START_TIME))
		query.boot_time = processes_read_boot_time(&scan);
	return processes_scan_run(&scan, OSQD_PROCESSES_COL_PID,
	                          processes_query_needs_files(&query), processes_add_row, &query,
	                          error);
}

/* ---- process_open_files ---- */

static gboolean
processes_add_open_files(ProcessesScan *scan, gint64 pid, int pid_fd, gpointer user_data,
                         GError **error)
{
	g_autoptr(DIR) dir = processes_open_dir(pid_fd, "fd");
	g_autoptr(GArray) fds = NULL;

	if (dir == NULL)
		return processes_set_errno(error, pid, "fd", errno);
	fds = processes_read_numbers(dir, NULL, 0);
	for (guint i = 0; i < fds->len; i++) {
		gint64 number = g_array_index(fds, gint64, i);
		gchar name[32], target[PATH_MAX + 1];
		OsqdRow *row;

		g_snprintf(name, sizeof(name), "%" G_GINT64_FORMAT, number);
		if (processes_readlink(dirfd(dir), name, target) <= 0 ||
		    osqd_processes_fd_is_special(target))
			continue; /* closed meanwhile, or not a file */
		row = osqd_row_sink_append(scan->sink);
		osqd_row_set_int(row, OSQD_PROCESS_OPEN_FILES_COL_PID, pid);
		osqd_row_set_int(row, OSQD_PROCESS_OPEN_FILES_COL_FD, number);
		osqd_row_set_text(row, OSQD_PROCESS_OPEN_FILES_COL_PATH, target);
	}
	return TRUE;
}

gboolean
osqd_table_process_open_files_generate(OsqdTableContext *ctx, OsqdRowSink *sink, GError **error)
{
	g_auto(ProcessesScan) scan = { .proc_fd = -1 };

	if (!processes_scan_init(&scan, ctx, sink, error))
		return FALSE;
	return processes_scan_run(&scan, OSQD_PROCESS_OPEN_FILES_COL_PID, TRUE,
	                          processes_add_open_files, NULL, error);
}

/* ---- process_memory_map ---- */

static void
processes_set_address(OsqdRow *row, guint column, const gchar *hex, gsize len)
{
	gchar buf[64];

	if (len > sizeof(buf) - 3)
		return;
	buf[0] = '0';
	buf[1] = 'x';
	memcpy(buf + 2, hex, len);
	osqd_row_set_text_len(row, column, buf, (gssize)(len + 2));
}

static void
processes_add_map_row(OsqdRowSink *sink, gint64 pid, const OsqdProcessesMapsLine *map)
{
	OsqdRow *row = osqd_row_sink_append(sink);

	osqd_row_set_int(row, OSQD_PROCESS_MEMORY_MAP_COL_PID, pid);
	processes_set_address(row, OSQD_PROCESS_MEMORY_MAP_COL_START, map->start, map->start_len);
	processes_set_address(row, OSQD_PROCESS_MEMORY_MAP_COL_END, map->end, map->end_len);
	osqd_row_set_text_len(row, OSQD_PROCESS_MEMORY_MAP_COL_PERMISSIONS, map->permissions,
	                      (gssize)map->permissions_len);
	osqd_row_set_int(row, OSQD_PROCESS_MEMORY_MAP_COL_OFFSET, map->offset);
	osqd_row_set_text_len(row, OSQD_PROCESS_MEMORY_MAP_COL_DEVICE, map->device,
	                      (gssize)map->device_len);
	if (map->has_inode)
		osqd_row_set_int(row, OSQD_PROCESS_MEMORY_MAP_COL_INODE, map->inode);
	if (map->path != NULL)
		osqd_row_set_text_len(row, OSQD_PROCESS_MEMORY_MAP_COL_PATH, map->path,
		                      (gssize)map->path_len);
	osqd_row_set_int(row, OSQD_PROCESS_MEMORY_MAP_COL_PSEUDO,
	                 map->has_inode && map->inode == 0 && map->path != NULL);
}

static gboolean
processes_add_memory_map(ProcessesScan *scan, gint64 pid, int pid_fd, gpointer user_data,
                         GError **error)
{
	gchar stack[16384];
	g_autofree gchar *heap = NULL;
	gsize len = 0;
	const gchar *p = processes_read_whole(pid_fd, "maps", stack, sizeof(stack),
	                                      PROCESSES_MAPS_MAX, FALSE, &heap, &len);
	const gchar *end;

	if (p == NULL)
		return processes_set_errno(error, pid, "maps", errno);
	for (end = p + len; p < end;) {
		const gchar *eol = memchr(p, '\n', (gsize)(end - p));
		const gchar *line_end = eol != NULL ? eol : end;
		OsqdProcessesMapsLine map;

		if (osqd_processes_parse_maps_line(p, (gsize)(line_end - p), &map))
			processes_add_map_row(scan->sink, pid, &map);
		else if (line_end > p)
			g_debug("process_memory_map: pid %" G_GINT64_FORMAT ": bad maps line", pid);
		p = line_end + 1;
	}
	return TRUE;
}

gboolean
osqd_table_process_memory_map_generate(OsqdTableContext *ctx, OsqdRowSink *sink, GError **error)
{
	g_auto(ProcessesScan) scan = { .proc_fd = -1 };

	if (!processes_scan_init(&scan, ctx, sink, error))
		return FALSE;
	return processes_scan_run(&scan, OSQD_PROCESS_MEMORY_MAP_COL_PID, TRUE,
	                          processes_add_memory_map, NULL, error);
}

/* ---- process_envs ---- */

static gboolean
processes_add_envs(ProcessesScan *scan, gint64 pid, int pid_fd, gpointer user_data, GError **error)
{
	gchar stack[8192];
	g_autofree gchar *heap = NULL;
	gsize len = 0;
	const gchar *p = processes_read_whole(pid_fd, "environ", stack, sizeof(stack),
	                                      PROCESSES_ENVIRON_MAX, TRUE, &heap, &len);
	const gchar *end;

	if (p == NULL)
		return processes_set_errno(error, pid, "environ", errno);
	/* NUL-separated KEY=VALUE entries; an empty entry ends the list (what follows is usually
	 * padding left by a process that rewrote its argument area) */
	for (end = p + len; p < end && *p != '\0';) {
		const gchar *nul = memchr(p, '\0', (gsize)(end - p));
		gsize entry_len = nul != NULL ? (gsize)(nul - p) : (gsize)(end - p);
		const gchar *value;
		gsize key_len, value_len;
		OsqdRow *row;

		osqd_processes_split_env(p, entry_len, &key_len, &value, &value_len);
		row = osqd_row_sink_append(scan->sink);
		osqd_row_set_int(row, OSQD_PROCESS_ENVS_COL_PID, pid);
		osqd_row_set_text_len(row, OSQD_PROCESS_ENVS_COL_KEY, p, (gssize)key_len);
		if (value != NULL)
			osqd_row_set_text_len(row, OSQD_PROCESS_ENVS_COL_VALUE, value,
			                      (gssize)value_len);
		p += entry_len + 1;
	}
	return TRUE;
}

gboolean
osqd_table_process_envs_generate(OsqdTableContext *ctx, OsqdRowSink *sink, GError **error)
{
	g_auto(ProcessesScan) scan = { .proc_fd = -1 };

	if (!processes_scan_init(&scan, ctx, sink, error))
		return FALSE;
	return processes_scan_run(&scan, OSQD_PROCESS_ENVS_COL_PID, TRUE, processes_add_envs, NULL,
	                          error);
}
