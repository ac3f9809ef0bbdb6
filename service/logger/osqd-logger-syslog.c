/* SPDX-License-Identifier: Apache-2.0
 *
 * The "syslog" logger: result and snapshot lines at LOG_INFO, status lines at their severity's
 * priority, all under the ident "osqd" in the daemon facility. syslog(3) reports no failure, so
 * this logger cannot either: a missing syslog daemon loses lines without an error.
 */
#include "config.h"

#include "osqd-logger.h"

#include <syslog.h>

static gboolean
logger_syslog_log_result(OsqdLogger *logger, const gchar *line, GError **error)
{
	syslog(LOG_INFO, "%s", line);
	return TRUE;
}

static int
logger_syslog_priority(OsqdLogSeverity severity)
{
	switch (severity) {
	case OSQD_LOG_SEVERITY_INFO:
		return LOG_INFO;
	case OSQD_LOG_SEVERITY_WARNING:
		return LOG_WARNING;
	case OSQD_LOG_SEVERITY_ERROR:
		return LOG_ERR;
	case OSQD_LOG_SEVERITY_FATAL:
	default:
		return LOG_CRIT;
	}
}

static gboolean
logger_syslog_log_status(OsqdLogger *logger, const OsqdStatusRecord *record, GError **error)
{
	syslog(logger_syslog_priority(record->severity), "severity=%d location=%s:%u message=%s",
	       (int)record->severity, record->file, record->line, record->message);
	return TRUE;
}

static void
logger_syslog_free(OsqdLogger *logger)
{
	g_free(logger);
}

static const OsqdLoggerVTable logger_syslog_vtable = {
	.name = "syslog",
	.log_result = logger_syslog_log_result,
	.log_snapshot = logger_syslog_log_result,
	.log_status = logger_syslog_log_status,
	.free = logger_syslog_free,
};

OsqdLogger *
osqd_logger_syslog_new(const OsqdLoggerOptions *options)
{
	OsqdLogger *self = g_new0(OsqdLogger, 1);

	openlog("osqd", LOG_PID, LOG_DAEMON);
	self->vtable = &logger_syslog_vtable;
	return self;
}
