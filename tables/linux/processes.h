/* SPDX-License-Identifier: Apache-2.0
 *
 * Pure parsers for the /proc/<pid> files behind the process tables. They work on a buffer the
 * caller has read (NUL-terminated, as a read() into a stack buffer leaves it), never do I/O and
 * never allocate: text results point into the buffer, so callers copy what they keep.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The fields of /proc/<pid>/stat the processes table uses. */
typedef struct {
	gchar state; /* one letter: R, S, D, Z, T, I... */
	gint64 parent;
	gint64 pgroup;
	gint64 utime; /* clock ticks */
	gint64 stime; /* clock ticks */
	gint64 nice;
	gint64 threads;
	gint64 starttime; /* clock ticks after boot */
} OsqdProcessesStat;

/* Parses /proc/<pid>/stat. The command name may hold spaces and parentheses, so the fields start
 * after the LAST ')'. FALSE when the text is not a stat line (no ')', too few or non-numeric
 * fields). */
gboolean osqd_processes_parse_stat(const gchar *buf, gsize len, OsqdProcessesStat *stat);

/* The fields of /proc/<pid>/status the processes table uses; has_* say which lines were found. */
typedef struct {
	const gchar *name; /* into the buffer, not NUL-terminated; NULL if absent */
	gsize name_len;
	gboolean has_uids;
	gint64 uids[3]; /* real, effective, saved */
	gboolean has_gids;
	gint64 gids[3];
	gboolean has_vm_rss;
	gint64 vm_rss; /* bytes, as osquery counts them: kB x 1000 */
	gboolean has_vm_size;
	gint64 vm_size;
} OsqdProcessesStatus;

/* Parses /proc/<pid>/status. Never fails: missing or malformed lines stay unset. */
void osqd_processes_parse_status(const gchar *buf, gsize len, OsqdProcessesStatus *status);

/* The fields of /proc/<pid>/io the processes table uses. */
typedef struct {
	gboolean has_read_bytes;
	gint64 read_bytes;
	gint64 write_bytes;           /* 0 if absent */
	gint64 cancelled_write_bytes; /* 0 if absent */
} OsqdProcessesIo;

void osqd_processes_parse_io(const gchar *buf, gsize len, OsqdProcessesIo *io);

/* /proc/<pid>/cmdline in place: NULs between arguments become spaces and surrounding
 * whitespace is trimmed. Returns the start of the result; *len is updated. */
gchar *osqd_processes_fix_cmdline(gchar *buf, gsize *len);

/* The cgroup path of the first line of /proc/<pid>/cgroup ("hierarchy:controllers:path"), i.e.
 * what follows the second colon. FALSE when the first line has fewer than two colons. */
gboolean osqd_processes_parse_cgroup(const gchar *buf, gsize len, const gchar **path,
                                     gsize *path_len);

/* Btime (boot time, seconds since the epoch) from /proc/stat; -1 if absent. */
gint64 osqd_processes_parse_boot_time(const gchar *buf, gsize len);

/* One line of /proc/<pid>/maps; text fields point into the line. */
typedef struct {
	const gchar *start;
	gsize start_len;
	const gchar *end;
	gsize end_len;
	const gchar *permissions;
	gsize permissions_len;
	gint64 offset; /* -1 when unreadable */
	const gchar *device;
	gsize device_len;
	gboolean has_inode;
	gint64 inode;
	const gchar *path; /* NULL for anonymous memory */
	gsize path_len;
} OsqdProcessesMapsLine;

/* Parses one maps line (without its newline). FALSE when it has fewer than five fields or no
 * "start-end" address range. */
gboolean osqd_processes_parse_maps_line(const gchar *line, gsize len, OsqdProcessesMapsLine *map);

/* Splits one environ entry at its first '='; *value is NULL when there is none. */
void osqd_processes_split_env(const gchar *entry, gsize len, gsize *key_len, const gchar **value,
                              gsize *value_len);

/* TRUE when a /proc/<pid>/fd link target is not a file (socket, pipe, anonymous inode). */
gboolean osqd_processes_fd_is_special(const gchar *target);

G_END_DECLS
