/* SPDX-License-Identifier: Apache-2.0
 *
 * Where osqd's log lines go: one interface, OsqdLogger, and the built-in loggers "filesystem",
 * "stdout" and "syslog". Every call returns FALSE with an OSQ_ERROR when the line was not
 * written, so the caller keeps its pending records and retries; a logger never drops a line
 * silently and never logs by itself. The daemon implements extension loggers on the same
 * interface (embed OsqdLogger first, point it at a static OsqdLoggerVTable).
 */
#pragma once

#include <glib.h>

#include "osqd-log-record.h"

G_BEGIN_DECLS

typedef struct _OsqdLogger OsqdLogger;

typedef struct {
	const gchar *name;
	/* one result line (no newline): a line of the event or batch format */
	gboolean (*log_result)(OsqdLogger *logger, const gchar *line, GError **error);
	/* one snapshot line */
	gboolean (*log_snapshot)(OsqdLogger *logger, const gchar *line, GError **error);
	gboolean (*log_status)(OsqdLogger *logger, const OsqdStatusRecord *record, GError **error);
	/* closes and reopens what the logger writes to (logrotate, after SIGHUP) */
	gboolean (*reopen)(OsqdLogger *logger, GError **error);
	/* makes what was written durable (or delivered) */
	gboolean (*flush)(OsqdLogger *logger, GError **error);
	void (*free)(OsqdLogger *logger);
} OsqdLoggerVTable;

struct _OsqdLogger {
	const OsqdLoggerVTable *vtable;
};

/* The flags the built-in loggers read. Strings are borrowed. */
typedef struct {
	const gchar *path;      /* --logger_path, default "/var/log/osquery" */
	const gchar *mode;      /* --logger_mode, octal, default "0640"; applied on create */
	gboolean rotate;        /* --logger_rotate, default FALSE */
	guint64 rotate_size;    /* --logger_rotate_size, default 25 MiB */
	guint rotate_max_files; /* --logger_rotate_max_files, default 25: .1 ... .N are kept */
	GTimeZone *time_zone;   /* of status lines' text form; NULL: local time, as glog */
	gint stdout_fd;         /* the stdout logger's result sink, default 1 */
	gint stderr_fd;         /* the stdout logger's status sink, default 2 */
} OsqdLoggerOptions;

void osqd_logger_options_init(OsqdLoggerOptions *options);

/* Results to <path>/osqd.results.log, snapshots to <path>/osqd.snapshots.log, status lines in
 * glog's text form to <path>/osqd.INFO and, from WARNING and from ERROR up, also to osqd.WARNING
 * and osqd.ERROR. Files are opened on first use with O_APPEND (a missing file is created with
 * @options->mode exactly, whatever the umask) and each line is one write(2). A failed open or
 * write is reported and the file is opened again on the next call. With rotate, a file that a
 * line would take past rotate_size is renamed to .1 (.1 to .2 and so on, the oldest beyond
 * rotate_max_files dropped) and a new file is started. Fails only on an invalid mode. */
OsqdLogger *osqd_logger_filesystem_new(const OsqdLoggerOptions *options, GError **error);

/* Results and snapshots to options->stdout_fd, status lines (glog text) to options->stderr_fd. */
OsqdLogger *osqd_logger_stdout_new(const OsqdLoggerOptions *options);

/* openlog("osqd", LOG_PID, LOG_DAEMON); results and snapshots at LOG_INFO; status lines at the
 * priority of their severity as "severity=N location=file:line message=...". */
OsqdLogger *osqd_logger_syslog_new(const OsqdLoggerOptions *options);

/* The loggers named in a comma-separated list ("filesystem,syslog"; blanks around names and
 * empty names are ignored, a repeated name is built once). An unknown name fails with
 * OSQ_ERROR_INVALID_ARGUMENT. Returns an array owning the OsqdLogger elements. */
GPtrArray *osqd_logger_new_from_names(const gchar *names, const OsqdLoggerOptions *options,
                                      GError **error);

const gchar *osqd_logger_get_name(OsqdLogger *logger);
gboolean osqd_logger_log_result(OsqdLogger *logger, const gchar *line, GError **error);
gboolean osqd_logger_log_snapshot(OsqdLogger *logger, const gchar *line, GError **error);
/* Writes @lines (from osqd_result_record_format()) as snapshot or result lines, in order,
 * stopping at the first failure. *@n_written (optional) tells how many went out, so a caller
 * that retries can resume after them instead of writing them twice. */
gboolean osqd_logger_log_lines(OsqdLogger *logger, gboolean snapshot, const GPtrArray *lines,
                               guint *n_written, GError **error);
gboolean osqd_logger_log_status(OsqdLogger *logger, const OsqdStatusRecord *record, GError **error);
gboolean osqd_logger_reopen(OsqdLogger *logger, GError **error);
gboolean osqd_logger_flush(OsqdLogger *logger, GError **error);
void osqd_logger_free(OsqdLogger *logger);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(OsqdLogger, osqd_logger_free)

G_END_DECLS
