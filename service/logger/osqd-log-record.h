/* SPDX-License-Identifier: Apache-2.0
 *
 * What the scheduler hands to the loggers, and the exact text osquery writes for it: result
 * records (a scheduled query's added/removed rows or its snapshot) become JSON lines in the event,
 * batch or snapshot format; status records become glog's text line or osquery's relay JSON.
 * Everything here is pure: no I/O, no clock (times are in the records).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
	OSQD_LOG_VALUE_NULL,
	OSQD_LOG_VALUE_INTEGER,
	OSQD_LOG_VALUE_DOUBLE,
	OSQD_LOG_VALUE_TEXT,
} OsqdLogValueKind;

/* One column of a row: its name, its declared type name as in a table spec or SQLite's decltype
 * ("BIGINT", "UNSIGNED BIGINT", "TEXT"...; NULL when unknown, e.g. an expression) and its value.
 * An UNSIGNED BIGINT column keeps its 64 bits in @integer and is written unsigned. */
typedef struct {
	gchar *name;
	gchar *type;
	OsqdLogValueKind kind;
	gint64 integer;
	gdouble real;
	gchar *text;
} OsqdLogColumn;

/* An ordered list of columns. */
typedef struct _OsqdLogRow OsqdLogRow;

OsqdLogRow *osqd_log_row_new(void);
void osqd_log_row_free(OsqdLogRow *row);
void osqd_log_row_add_null(OsqdLogRow *row, const gchar *name, const gchar *type);
void osqd_log_row_add_int(OsqdLogRow *row, const gchar *name, const gchar *type, gint64 value);
void osqd_log_row_add_double(OsqdLogRow *row, const gchar *name, const gchar *type, gdouble value);
void osqd_log_row_add_text(OsqdLogRow *row, const gchar *name, const gchar *type,
                           const gchar *value);
guint osqd_log_row_get_n_columns(const OsqdLogRow *row);
const OsqdLogColumn *osqd_log_row_get_column(const OsqdLogRow *row, guint index);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(OsqdLogRow, osqd_log_row_free)

/* One run of a scheduled query, as the scheduler has it after the diff. The arrays own their
 * OsqdLogRow elements; decorations is a list of name, value, name, value... strings. A caller
 * that honours "removed": false simply leaves @removed empty. Snapshot records use @snapshot
 * and, as in osquery, a counter of 0. */
typedef struct {
	gchar *name;
	gchar *host_identifier;
	gint64 unix_time;
	gint64 epoch;
	gint64 counter;
	GPtrArray *decorations;
	GPtrArray *added;
	GPtrArray *removed;
	GPtrArray *snapshot;
	gboolean is_snapshot;
} OsqdResultRecord;

OsqdResultRecord *osqd_result_record_new(const gchar *name, const gchar *host_identifier,
                                         gint64 unix_time);
void osqd_result_record_free(OsqdResultRecord *record);
void osqd_result_record_add_decoration(OsqdResultRecord *record, const gchar *name,
                                       const gchar *value);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(OsqdResultRecord, osqd_result_record_free)

/* osquery's logger flags that change the result lines. */
typedef struct {
	gboolean event_type;            /* --logger_event_type (default TRUE): one line per row */
	gboolean snapshot_event_type;   /* --logger_snapshot_event_type (FALSE) */
	gboolean numerics;              /* --logger_numerics (FALSE) */
	gboolean decorations_top_level; /* --decorations_top_level (FALSE) */
} OsqdLogOptions;

/* Sets osquery's defaults. */
void osqd_log_options_init(OsqdLogOptions *options);

/* The lines (no newline) for @record, in the order they are to be written:
 * - event format: one line per row, every "removed" line before the "added" ones; none when
 *   nothing changed;
 * - batch format (!event_type): one {"diffResults":...} line, or none when nothing changed;
 * - snapshot: one {"snapshot":[...]} line (even for no rows), or with snapshot_event_type one
 *   line per row with "action":"snapshot".
 * Column keys are sorted (bytewise; the last of duplicate names wins) as osquery's maps sort
 * them; decorations likewise. A top-level decoration named like a standard key replaces it the
 * way osquery's JSON helper does: the key is removed (the last member takes its place) and the
 * decoration appended. */
GPtrArray *osqd_result_record_format(const OsqdResultRecord *record, const OsqdLogOptions *options);

/* asctime() of @unix_time in UTC plus " UTC": "Mon May  2 22:27:32 2016 UTC". */
gchar *osqd_log_format_calendar_time(gint64 unix_time);

typedef enum {
	OSQD_LOG_SEVERITY_INFO = 0,
	OSQD_LOG_SEVERITY_WARNING = 1,
	OSQD_LOG_SEVERITY_ERROR = 2,
	OSQD_LOG_SEVERITY_FATAL = 3,
} OsqdLogSeverity;

/* A status (glog) message. */
typedef struct {
	OsqdLogSeverity severity;
	gchar *file;
	guint line;
	gchar *message;
	gint64 time_us; /* microseconds since the UNIX epoch */
	gchar *host_identifier;
} OsqdStatusRecord;

OsqdStatusRecord *osqd_status_record_new(OsqdLogSeverity severity, const gchar *file, guint line,
                                         const gchar *message, gint64 time_us,
                                         const gchar *host_identifier);
void osqd_status_record_free(OsqdStatusRecord *record);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(OsqdStatusRecord, osqd_status_record_free)

/* glog's line without the year, no newline: "I0502 22:27:32.000123 12345 file.c:42] message",
 * the time in @time_zone (NULL: local time, as glog), @pid right-aligned in 5 columns. */
gchar *osqd_status_record_format_text(const OsqdStatusRecord *record, gint64 pid,
                                      GTimeZone *time_zone);

/* osquery's relay form for logger plugins:
 * {"s":1,"f":"file.c","i":42,"m":"message","h":"host","c":"<calendar time>","u":1462227452}. */
gchar *osqd_status_record_format_json(const OsqdStatusRecord *record);

G_END_DECLS
