/* SPDX-License-Identifier: Apache-2.0
 *
 * time: one row with the current time broken down in UTC, as osquery reports it.
 */
#include "config.h"

#include <time.h>

#include "osqd-tables-generated.h"

gboolean
osqd_table_time_generate(OsqdTableContext *ctx, OsqdRowSink *sink, GError **error)
{
	time_t now = time(NULL);
	struct tm utc, local;
	gchar weekday[32], iso[32], zone[64], stamp[64];
	OsqdRow *row;

	(void)ctx;
	if (gmtime_r(&now, &utc) == NULL) {
		g_set_error_literal(error, OSQ_ERROR, OSQ_ERROR_FAILED, "cannot read the clock");
		return FALSE;
	}
	if (localtime_r(&now, &local) == NULL || strftime(zone, sizeof(zone), "%Z", &local) == 0)
		g_strlcpy(zone, "UTC", sizeof(zone));
	(void)strftime(weekday, sizeof(weekday), "%A", &utc);
	(void)strftime(iso, sizeof(iso), "%Y-%m-%dT%H:%M:%SZ", &utc);
	(void)strftime(stamp, sizeof(stamp), "%a %b %e %H:%M:%S %Y UTC", &utc);

	row = osqd_row_sink_append(sink);
	osqd_row_set_text(row, OSQD_TIME_COL_WEEKDAY, weekday);
	osqd_row_set_int(row, OSQD_TIME_COL_YEAR, utc.tm_year + 1900);
	osqd_row_set_int(row, OSQD_TIME_COL_MONTH, utc.tm_mon + 1);
	osqd_row_set_int(row, OSQD_TIME_COL_DAY, utc.tm_mday);
	osqd_row_set_int(row, OSQD_TIME_COL_HOUR, utc.tm_hour);
	osqd_row_set_int(row, OSQD_TIME_COL_MINUTES, utc.tm_min);
	osqd_row_set_int(row, OSQD_TIME_COL_SECONDS, utc.tm_sec);
	osqd_row_set_text(row, OSQD_TIME_COL_TIMEZONE, "UTC");
	osqd_row_set_text(row, OSQD_TIME_COL_LOCAL_TIMEZONE, zone);
	osqd_row_set_int(row, OSQD_TIME_COL_UNIX_TIME, (gint64)now);
	osqd_row_set_text(row, OSQD_TIME_COL_TIMESTAMP, stamp);
	osqd_row_set_text(row, OSQD_TIME_COL_DATETIME, iso);
	osqd_row_set_text(row, OSQD_TIME_COL_ISO_8601, iso);
	return TRUE;
}
