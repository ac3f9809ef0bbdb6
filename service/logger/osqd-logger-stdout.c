/* SPDX-License-Identifier: Apache-2.0
 *
 * The "stdout" logger: result and snapshot lines to standard output, status lines in glog's text
 * form to standard error, each line one write(2) so lines of concurrent writers do not mix.
 */
#include "config.h"

#include "osqd-logger.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "osq-error.h"

typedef struct {
	OsqdLogger parent;
	gint out_fd;
	gint err_fd;
	GTimeZone *time_zone;
} LoggerStdout;

/* Writes @line and a newline with one write(2) (more only if the kernel takes part of it). */
static gboolean
logger_stdout_write_line(gint fd, const gchar *line, GError **error)
{
	g_autofree gchar *buffer = g_strconcat(line, "\n", NULL);
	gsize len = strlen(buffer), done = 0;

	while (done < len) {
		gssize n = write(fd, buffer + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int saved = errno;
			g_set_error(error, OSQ_ERROR, OSQ_ERROR_IO, "cannot write to fd %d: %s", fd,
			            g_strerror(saved));
			return FALSE;
		}
		done += (gsize)n;
	}
	return TRUE;
}

static gboolean
logger_stdout_log_result(OsqdLogger *logger, const gchar *line, GError **error)
{
	LoggerStdout *self = (LoggerStdout *)logger;

	return logger_stdout_write_line(self->out_fd, line, error);
}

static gboolean
logger_stdout_log_status(OsqdLogger *logger, const OsqdStatusRecord *record, GError **error)
{
	LoggerStdout *self = (LoggerStdout *)logger;
	g_autofree gchar *text =
	        osqd_status_record_format_text(record, (gint64)getpid(), self->time_zone);

	return logger_stdout_write_line(self->err_fd, text, error);
}

static void
logger_stdout_free(OsqdLogger *logger)
{
	LoggerStdout *self = (LoggerStdout *)logger;

	if (self->time_zone != NULL)
		g_time_zone_unref(self->time_zone);
	g_free(self);
}

static const OsqdLoggerVTable logger_stdout_vtable = {
	.name = "stdout",
	.log_result = logger_stdout_log_result,
	.log_snapshot = logger_stdout_log_result,
	.log_status = logger_stdout_log_status,
	.free = logger_stdout_free,
};

OsqdLogger *
osqd_logger_stdout_new(const OsqdLoggerOptions *options)
{
	LoggerStdout *self = g_new0(LoggerStdout, 1);

	self->parent.vtable = &logger_stdout_vtable;
	self->out_fd = options->stdout_fd;
	self->err_fd = options->stderr_fd;
	if (options->time_zone != NULL)
		self->time_zone = g_time_zone_ref(options->time_zone);
	return &self->parent;
}
