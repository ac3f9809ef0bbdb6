/* SPDX-License-Identifier: Apache-2.0
 *
 * The "filesystem" logger: osquery's results/snapshots files and glog's INFO/WARNING/ERROR
 * files under --logger_path. Each file keeps an O_APPEND descriptor, opened on first use and
 * again after a failure or reopen(), so logrotate can move files away and send SIGHUP. A line
 * and its newline go out in one write(2); should a write fail part way, the file is cut back
 * to where the line began so a retry does not leave half a line behind. Rotation is by size
 * and keeps plain .1 ... .N files (osquery compresses the older ones; osqd does not).
 */
#include "config.h"

#include "osqd-logger.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "osq-error.h"

enum { FILE_RESULTS, FILE_SNAPSHOTS, FILE_INFO, FILE_WARNING, FILE_ERROR, FILE_COUNT };

static const gchar *const logger_filesystem_names[FILE_COUNT] = {
	"osqd.results.log", "osqd.snapshots.log", "osqd.INFO", "osqd.WARNING", "osqd.ERROR",
};

typedef struct {
	gchar *path;
	gint fd;
	guint64 size;
} LogFile;

typedef struct {
	OsqdLogger parent;
	LogFile files[FILE_COUNT];
	mode_t mode;
	gboolean rotate;
	guint64 rotate_size;
	guint rotate_max_files;
	GTimeZone *time_zone;
} LoggerFilesystem;

static gboolean
logger_filesystem_parse_mode(const gchar *text, mode_t *mode, GError **error)
{
	guint64 value = 0;

	if (text == NULL || *text == '\0' || strspn(text, "01234567") != strlen(text) ||
	    strlen(text) > 5 || (value = g_ascii_strtoull(text, NULL, 8)) > 07777) {
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_INVALID_ARGUMENT,
		            "--logger_mode: '%s' is not an octal file mode",
		            text != NULL ? text : "");
		return FALSE;
	}
	*mode = (mode_t)value;
	return TRUE;
}

static void
log_file_close(LogFile *file)
{
	if (file->fd >= 0)
		(void)close(file->fd);
	file->fd = -1;
	file->size = 0;
}

static gboolean
log_file_set_errno_error(const LogFile *file, const gchar *what, int saved, GError **error)
{
	g_set_error(error, OSQ_ERROR, OSQ_ERROR_IO, "cannot %s %s: %s", what, file->path,
	            g_strerror(saved));
	return FALSE;
}

/* Opens @file for appending; a file this call creates gets exactly @mode. */
static gboolean
log_file_open(LogFile *file, mode_t mode, GError **error)
{
	struct stat st;
	gint fd = -1;

	for (guint attempt = 0; fd < 0 && attempt < 3; attempt++) {
		fd = open(file->path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY,
		          mode);
		if (fd >= 0) {
			if (fchmod(fd, mode) < 0) { /* the umask took bits away */
				int saved = errno;
				(void)close(fd);
				return log_file_set_errno_error(file, "set the mode of", saved,
				                                error);
			}
			break;
		}
		if (errno != EEXIST)
			return log_file_set_errno_error(file, "create", errno, error);
		fd = open(file->path, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOCTTY);
		if (fd < 0 && errno != ENOENT) /* ENOENT: removed meanwhile, create it again */
			return log_file_set_errno_error(file, "open", errno, error);
	}
	if (fd < 0)
		return log_file_set_errno_error(file, "open", ENOENT, error);
	file->fd = fd;
	file->size = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? (guint64)st.st_size : 0;
	return TRUE;
}

/* path.1 -> path.2 ... path.(N-1) -> path.N, then path -> path.1. */
static gboolean
log_file_rotate(LoggerFilesystem *self, LogFile *file, GError **error)
{
	log_file_close(file);
	if (self->rotate_max_files == 0) {
		if (unlink(file->path) < 0 && errno != ENOENT)
			return log_file_set_errno_error(file, "remove", errno, error);
		return TRUE;
	}
	for (guint i = self->rotate_max_files - 1; i >= 1; i--) {
		g_autofree gchar *from = g_strdup_printf("%s.%u", file->path, i);
		g_autofree gchar *to = g_strdup_printf("%s.%u", file->path, i + 1);
		if (rename(from, to) < 0 && errno != ENOENT)
			return log_file_set_errno_error(file, "rotate", errno, error);
	}
	{
		g_autofree gchar *first = g_strdup_printf("%s.1", file->path);
		if (rename(file->path, first) < 0 && errno != ENOENT)
			return log_file_set_errno_error(file, "rotate", errno, error);
	}
	return TRUE;
}

static gboolean
log_file_write_line(LoggerFilesystem *self, LogFile *file, const gchar *line, GError **error)
{
	g_autofree gchar *buffer = g_strconcat(line, "\n", NULL);
	gsize len = strlen(buffer), done = 0;

	if (file->fd < 0 && !log_file_open(file, self->mode, error))
		return FALSE;
	if (self->rotate && file->size > 0 && file->size + len > self->rotate_size &&
	    (!log_file_rotate(self, file, error) || !log_file_open(file, self->mode, error)))
		return FALSE;
	while (done < len) {
		gssize n = write(file->fd, buffer + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int saved = errno;
			if (done > 0 && ftruncate(file->fd, (off_t)file->size) < 0) {
				/* the half line stays; nothing more can be done */
			}
			log_file_close(file);
			return log_file_set_errno_error(file, "write to", saved, error);
		}
		done += (gsize)n;
	}
	file->size += len;
	return TRUE;
}

static gboolean
logger_filesystem_log_result(OsqdLogger *logger, const gchar *line, GError **error)
{
	LoggerFilesystem *self = (LoggerFilesystem *)logger;

	return log_file_write_line(self, &self->files[FILE_RESULTS], line, error);
}

static gboolean
logger_filesystem_log_snapshot(OsqdLogger *logger, const gchar *line, GError **error)
{
	LoggerFilesystem *self = (LoggerFilesystem *)logger;

	return log_file_write_line(self, &self->files[FILE_SNAPSHOTS], line, error);
}

/* Like glog: a line goes to the file of its severity and of every lower one. */
static gboolean
logger_filesystem_log_status(OsqdLogger *logger, const OsqdStatusRecord *record, GError **error)
{
	LoggerFilesystem *self = (LoggerFilesystem *)logger;
	g_autofree gchar *text =
	        osqd_status_record_format_text(record, (gint64)getpid(), self->time_zone);
	guint last = FILE_INFO + MIN((guint)record->severity, (guint)OSQD_LOG_SEVERITY_ERROR);

	for (guint i = FILE_INFO; i <= last; i++) {
		if (!log_file_write_line(self, &self->files[i], text, error))
			return FALSE;
	}
	return TRUE;
}

/* Files that were open are closed and opened again by name; the others stay closed until
 * their next line. The first failure is reported; the rest are still reopened. */
static gboolean
logger_filesystem_reopen(OsqdLogger *logger, GError **error)
{
	LoggerFilesystem *self = (LoggerFilesystem *)logger;
	gboolean ok = TRUE;

	for (guint i = 0; i < FILE_COUNT; i++) {
		g_autoptr(GError) error_local = NULL;
		if (self->files[i].fd < 0)
			continue;
		log_file_close(&self->files[i]);
		if (!log_file_open(&self->files[i], self->mode, &error_local) && ok) {
			g_propagate_error(error, g_steal_pointer(&error_local));
			ok = FALSE;
		}
	}
	return ok;
}

static gboolean
logger_filesystem_flush(OsqdLogger *logger, GError **error)
{
	LoggerFilesystem *self = (LoggerFilesystem *)logger;

	for (guint i = 0; i < FILE_COUNT; i++) {
		LogFile *file = &self->files[i];
		if (file->fd >= 0 && fdatasync(file->fd) < 0 && errno != EINVAL)
			return log_file_set_errno_error(file, "sync", errno, error);
	}
	return TRUE;
}

static void
logger_filesystem_free(OsqdLogger *logger)
{
	LoggerFilesystem *self = (LoggerFilesystem *)logger;

	for (guint i = 0; i < FILE_COUNT; i++) {
		log_file_close(&self->files[i]);
		g_free(self->files[i].path);
	}
	if (self->time_zone != NULL)
		g_time_zone_unref(self->time_zone);
	g_free(self);
}

static const OsqdLoggerVTable logger_filesystem_vtable = {
	.name = "filesystem",
	.log_result = logger_filesystem_log_result,
	.log_snapshot = logger_filesystem_log_snapshot,
	.log_status = logger_filesystem_log_status,
	.reopen = logger_filesystem_reopen,
	.flush = logger_filesystem_flush,
	.free = logger_filesystem_free,
};

OsqdLogger *
osqd_logger_filesystem_new(const OsqdLoggerOptions *options, GError **error)
{
	LoggerFilesystem *self = NULL;
	mode_t mode = 0;

	if (!logger_filesystem_parse_mode(options->mode, &mode, error))
		return NULL;
	self = g_new0(LoggerFilesystem, 1);
	self->parent.vtable = &logger_filesystem_vtable;
	self->mode = mode;
	self->rotate = options->rotate;
	self->rotate_size = options->rotate_size;
	self->rotate_max_files = options->rotate_max_files;
	if (options->time_zone != NULL)
		self->time_zone = g_time_zone_ref(options->time_zone);
	for (guint i = 0; i < FILE_COUNT; i++) {
		self->files[i].path =
		        g_build_filename(options->path, logger_filesystem_names[i], NULL);
		self->files[i].fd = -1;
	}
	return &self->parent;
}
