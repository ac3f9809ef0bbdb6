/* SPDX-License-Identifier: Apache-2.0
 *
 * The logger interface's dispatch and the list of built-in loggers by name. A logger that does
 * not implement an optional method (snapshot, status, reopen, flush) succeeds at it: a
 * snapshot line then goes where result lines go.
 */
#include "config.h"

#include "osqd-logger.h"

#include <string.h>

#include "osq-error.h"

void
osqd_logger_options_init(OsqdLoggerOptions *options)
{
	memset(options, 0, sizeof(*options));
	options->path = "/var/log/osquery";
	options->mode = "0640";
	options->rotate = FALSE;
	options->rotate_size = 25 * 1024 * 1024;
	options->rotate_max_files = 25;
	options->time_zone = NULL;
	options->stdout_fd = 1;
	options->stderr_fd = 2;
}

const gchar *
osqd_logger_get_name(OsqdLogger *logger)
{
	return logger->vtable->name;
}

gboolean
osqd_logger_log_result(OsqdLogger *logger, const gchar *line, GError **error)
{
	return logger->vtable->log_result(logger, line, error);
}

gboolean
osqd_logger_log_snapshot(OsqdLogger *logger, const gchar *line, GError **error)
{
	if (logger->vtable->log_snapshot == NULL)
		return logger->vtable->log_result(logger, line, error);
	return logger->vtable->log_snapshot(logger, line, error);
}

gboolean
osqd_logger_log_lines(OsqdLogger *logger, gboolean snapshot, const GPtrArray *lines,
                      guint *n_written, GError **error)
{
	guint done = 0;
	gboolean ok = TRUE;

	for (; done < lines->len && ok; done++) {
		const gchar *line = lines->pdata[done];
		ok = snapshot ? osqd_logger_log_snapshot(logger, line, error)
		              : osqd_logger_log_result(logger, line, error);
		if (!ok)
			break;
	}
	if (n_written != NULL)
		*n_written = done;
	return ok;
}

gboolean
osqd_logger_log_status(OsqdLogger *logger, const OsqdStatusRecord *record, GError **error)
{
	if (logger->vtable->log_status == NULL)
		return TRUE;
	return logger->vtable->log_status(logger, record, error);
}

gboolean
osqd_logger_reopen(OsqdLogger *logger, GError **error)
{
	if (logger->vtable->reopen == NULL)
		return TRUE;
	return logger->vtable->reopen(logger, error);
}

gboolean
osqd_logger_flush(OsqdLogger *logger, GError **error)
{
	if (logger->vtable->flush == NULL)
		return TRUE;
	return logger->vtable->flush(logger, error);
}

void
osqd_logger_free(OsqdLogger *logger)
{
	if (logger == NULL)
		return;
	logger->vtable->free(logger);
}

static OsqdLogger *
logger_new_by_name(const gchar *name, const OsqdLoggerOptions *options, GError **error)
{
	if (strcmp(name, "filesystem") == 0)
		return osqd_logger_filesystem_new(options, error);
	if (strcmp(name, "stdout") == 0)
		return osqd_logger_stdout_new(options);
	if (strcmp(name, "syslog") == 0)
		return osqd_logger_syslog_new(options);
	g_set_error(error, OSQ_ERROR, OSQ_ERROR_INVALID_ARGUMENT, "unknown logger plugin '%s'",
	            name);
	return NULL;
}

GPtrArray *
osqd_logger_new_from_names(const gchar *names, const OsqdLoggerOptions *options, GError **error)
{
	g_autoptr(GPtrArray) loggers =
	        g_ptr_array_new_with_free_func((GDestroyNotify)osqd_logger_free);
	g_auto(GStrv) parts = g_strsplit(names != NULL ? names : "", ",", -1);

	for (guint i = 0; parts[i] != NULL; i++) {
		const gchar *name = g_strstrip(parts[i]);
		gboolean seen = FALSE;
		OsqdLogger *logger = NULL;

		if (*name == '\0')
			continue;
		for (guint j = 0; j < loggers->len; j++)
			seen |= strcmp(osqd_logger_get_name(loggers->pdata[j]), name) == 0;
		if (seen)
			continue;
		logger = logger_new_by_name(name, options, error);
		if (logger == NULL) {
			g_prefix_error(error, "--logger_plugin: ");
			return NULL;
		}
		g_ptr_array_add(loggers, logger);
	}
	return g_steal_pointer(&loggers);
}
