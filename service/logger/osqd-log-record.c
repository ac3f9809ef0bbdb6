/* SPDX-License-Identifier: Apache-2.0
 *
 * Result and status records and their osquery log lines. A line is built as an ordered list of
 * (key, serialized value) members so that key order is explicit and a top-level decoration can
 * replace a standard key exactly as osquery's rapidjson-based helper does (remove the member,
 * which moves the last member into its slot, then append). Rows are written with sorted keys
 * because osquery keeps rows and decorations in std::map.
 */
#include "config.h"

#include "osqd-log-record.h"

#include <math.h>
#include <string.h>
#include <time.h>

#include "osqd-log-json.h"

struct _OsqdLogRow {
	GArray *columns; /* OsqdLogColumn */
};

static void
log_column_clear(gpointer data)
{
	OsqdLogColumn *column = data;

	g_free(column->name);
	g_free(column->type);
	g_free(column->text);
}

OsqdLogRow *
osqd_log_row_new(void)
{
	OsqdLogRow *row = g_new0(OsqdLogRow, 1);

	row->columns = g_array_new(FALSE, TRUE, sizeof(OsqdLogColumn));
	g_array_set_clear_func(row->columns, log_column_clear);
	return row;
}

void
osqd_log_row_free(OsqdLogRow *row)
{
	if (row == NULL)
		return;
	g_array_unref(row->columns);
	g_free(row);
}

static OsqdLogColumn *
log_row_append(OsqdLogRow *row, const gchar *name, const gchar *type, OsqdLogValueKind kind)
{
	OsqdLogColumn column = { g_strdup(name), g_strdup(type), kind, 0, 0.0, NULL };

	g_array_append_val(row->columns, column);
	return &g_array_index(row->columns, OsqdLogColumn, row->columns->len - 1);
}

void
osqd_log_row_add_null(OsqdLogRow *row, const gchar *name, const gchar *type)
{
	(void)log_row_append(row, name, type, OSQD_LOG_VALUE_NULL);
}

void
osqd_log_row_add_int(OsqdLogRow *row, const gchar *name, const gchar *type, gint64 value)
{
	log_row_append(row, name, type, OSQD_LOG_VALUE_INTEGER)->integer = value;
}

void
osqd_log_row_add_double(OsqdLogRow *row, const gchar *name, const gchar *type, gdouble value)
{
	log_row_append(row, name, type, OSQD_LOG_VALUE_DOUBLE)->real = value;
}

void
osqd_log_row_add_text(OsqdLogRow *row, const gchar *name, const gchar *type, const gchar *value)
{
	log_row_append(row, name, type, OSQD_LOG_VALUE_TEXT)->text = g_strdup(value);
}

guint
osqd_log_row_get_n_columns(const OsqdLogRow *row)
{
	return row->columns->len;
}

const OsqdLogColumn *
osqd_log_row_get_column(const OsqdLogRow *row, guint index)
{
	g_return_val_if_fail(index < row->columns->len, NULL);
	return &g_array_index(row->columns, OsqdLogColumn, index);
}

OsqdResultRecord *
osqd_result_record_new(const gchar *name, const gchar *host_identifier, gint64 unix_time)
{
	OsqdResultRecord *record = g_new0(OsqdResultRecord, 1);

	record->name = g_strdup(name);
	record->host_identifier = g_strdup(host_identifier);
	record->unix_time = unix_time;
	record->decorations = g_ptr_array_new_with_free_func(g_free);
	record->added = g_ptr_array_new_with_free_func((GDestroyNotify)osqd_log_row_free);
	record->removed = g_ptr_array_new_with_free_func((GDestroyNotify)osqd_log_row_free);
	record->snapshot = g_ptr_array_new_with_free_func((GDestroyNotify)osqd_log_row_free);
	return record;
}

void
osqd_result_record_free(OsqdResultRecord *record)
{
	if (record == NULL)
		return;
	g_free(record->name);
	g_free(record->host_identifier);
	g_ptr_array_unref(record->decorations);
	g_ptr_array_unref(record->added);
	g_ptr_array_unref(record->removed);
	g_ptr_array_unref(record->snapshot);
	g_free(record);
}

void
osqd_result_record_add_decoration(OsqdResultRecord *record, const gchar *name, const gchar *value)
{
	g_ptr_array_add(record->decorations, g_strdup(name));
	g_ptr_array_add(record->decorations, g_strdup(value != NULL ? value : ""));
}

void
osqd_log_options_init(OsqdLogOptions *options)
{
	options->event_type = TRUE;
	options->snapshot_event_type = FALSE;
	options->numerics = FALSE;
	options->decorations_top_level = FALSE;
}

gchar *
osqd_log_format_calendar_time(gint64 unix_time)
{
	static const gchar *const days[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const gchar *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
		                               "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t t = (time_t)unix_time;
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL)
		memset(&tm, 0, sizeof(tm)); /* out of range: Jan 0 1900, like nothing better */
	return g_strdup_printf("%s %s%3d %02d:%02d:%02d %d UTC", days[tm.tm_wday % 7],
	                       months[tm.tm_mon % 12], tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
	                       tm.tm_year + 1900);
}

/* An ordered JSON object under construction: members are (key, serialized value). */
typedef struct {
	gchar *key;
	gchar *json;
} LogMember;

static void
log_member_free(gpointer data)
{
	LogMember *member = data;

	g_free(member->key);
	g_free(member->json);
	g_free(member);
}

static GPtrArray *
log_object_new(void)
{
	return g_ptr_array_new_with_free_func(log_member_free);
}

/* Adds @key with the serialized value @json (taken). An existing @key is removed first, the
 * last member moving into its slot (rapidjson's RemoveMember), then @key is appended. */
static void
log_object_take(GPtrArray *object, const gchar *key, gchar *json)
{
	LogMember *member = g_new0(LogMember, 1);

	for (guint i = 0; i < object->len; i++) {
		LogMember *old = object->pdata[i];
		if (strcmp(old->key, key) == 0) {
			g_ptr_array_remove_index_fast(object, i);
			break;
		}
	}
	member->key = g_strdup(key);
	member->json = json;
	g_ptr_array_add(object, member);
}

static void
log_object_set_string(GPtrArray *object, const gchar *key, const gchar *value)
{
	GString *json = g_string_new(NULL);

	osqd_log_json_append_string(json, value != NULL ? value : "");
	log_object_take(object, key, g_string_free(json, FALSE));
}

static void
log_object_set_int(GPtrArray *object, const gchar *key, gint64 value)
{
	log_object_take(object, key, g_strdup_printf("%" G_GINT64_FORMAT, value));
}

static void
log_object_append_to(GPtrArray *object, GString *out)
{
	g_string_append_c(out, '{');
	for (guint i = 0; i < object->len; i++) {
		LogMember *member = object->pdata[i];
		if (i > 0)
			g_string_append_c(out, ',');
		osqd_log_json_append_string(out, member->key);
		g_string_append_c(out, ':');
		g_string_append(out, member->json);
	}
	g_string_append_c(out, '}');
}

static gchar *
log_object_free_to_json(GPtrArray *object)
{
	GString *out = g_string_new(NULL);

	log_object_append_to(object, out);
	g_ptr_array_unref(object);
	return g_string_free(out, FALSE);
}

static gboolean
log_type_is(const gchar *type, const gchar *name)
{
	return type != NULL && g_ascii_strcasecmp(type, name) == 0;
}

static gboolean
log_type_is_unsigned(const gchar *type)
{
	return log_type_is(type, "UNSIGNED BIGINT") || log_type_is(type, "UNSIGNED_BIGINT");
}

/* Whether --logger_numerics writes this column as a JSON number. Columns of unknown type
 * (expressions) follow the value's own type. */
static gboolean
log_type_is_numeric(const gchar *type, OsqdLogValueKind kind)
{
	if (type == NULL || *type == '\0')
		return kind == OSQD_LOG_VALUE_INTEGER || kind == OSQD_LOG_VALUE_DOUBLE;
	return log_type_is(type, "INTEGER") || log_type_is(type, "BIGINT") ||
	       log_type_is_unsigned(type) || log_type_is(type, "DOUBLE");
}

/* The JSON number for a text value in a numeric column, or NULL when it does not parse. */
static gchar *
log_text_as_number(const gchar *type, const gchar *text)
{
	gchar *end = NULL;

	if (text == NULL || *text == '\0' || g_ascii_isspace(*text))
		return NULL;
	if (log_type_is(type, "DOUBLE")) {
		gdouble value = 0.0;
		/* decimal only: strtod would also take "nan", "inf" and hex, which are no JSON */
		if (strspn(text, "0123456789+-.eE") != strlen(text))
			return NULL;
		value = g_ascii_strtod(text, &end);
		if (*end != '\0' || !isfinite(value))
			return NULL;
		return osqd_log_json_format_double(value);
	}
	if (log_type_is_unsigned(type) && *text != '-') {
		guint64 value = g_ascii_strtoull(text, &end, 10);
		return *end == '\0' ? g_strdup_printf("%" G_GUINT64_FORMAT, value) : NULL;
	}
	{
		gint64 value = g_ascii_strtoll(text, &end, 10);
		return *end == '\0' ? g_strdup_printf("%" G_GINT64_FORMAT, value) : NULL;
	}
}

/* A column's value as text, as osquery's string rows have it: NULL is "". */
static gchar *
log_column_to_text(const OsqdLogColumn *column)
{
	switch (column->kind) {
	case OSQD_LOG_VALUE_INTEGER:
		if (log_type_is_unsigned(column->type))
			return g_strdup_printf("%" G_GUINT64_FORMAT, (guint64)column->integer);
		return g_strdup_printf("%" G_GINT64_FORMAT, column->integer);
	case OSQD_LOG_VALUE_DOUBLE:
		return osqd_log_json_format_double(column->real);
	case OSQD_LOG_VALUE_TEXT:
		return g_strdup(column->text != NULL ? column->text : "");
	case OSQD_LOG_VALUE_NULL:
	default:
		return g_strdup("");
	}
}

static gchar *
log_column_to_json(const OsqdLogColumn *column, gboolean numerics)
{
	g_autofree gchar *text = NULL;
	GString *out = NULL;

	if (numerics && column->kind != OSQD_LOG_VALUE_NULL &&
	    log_type_is_numeric(column->type, column->kind)) {
		gchar *number = NULL;
		switch (column->kind) {
		case OSQD_LOG_VALUE_INTEGER:
			if (log_type_is(column->type, "DOUBLE"))
				number = osqd_log_json_format_double((gdouble)column->integer);
			else
				number = log_column_to_text(column);
			break;
		case OSQD_LOG_VALUE_DOUBLE:
			out = g_string_new(NULL);
			osqd_log_json_append_double(out, column->real);
			return g_string_free(out, FALSE);
		default:
			number = log_text_as_number(column->type, column->text);
		}
		if (number != NULL)
			return number;
	}
	text = log_column_to_text(column);
	out = g_string_new(NULL);
	osqd_log_json_append_string(out, text);
	return g_string_free(out, FALSE);
}

static gint
log_column_compare(gconstpointer a, gconstpointer b)
{
	const OsqdLogColumn *const *x = a;
	const OsqdLogColumn *const *y = b;

	return strcmp((*x)->name, (*y)->name);
}

/* {"a":..,"b":..}: keys sorted, the last of equal names kept. */
static void
log_row_append_json(const OsqdLogRow *row, gboolean numerics, GString *out)
{
	g_autoptr(GPtrArray) sorted = g_ptr_array_sized_new(row->columns->len);
	gboolean first = TRUE;

	for (guint i = 0; i < row->columns->len; i++)
		g_ptr_array_add(sorted, &g_array_index(row->columns, OsqdLogColumn, i));
	g_ptr_array_sort(sorted, log_column_compare); /* stable: equal names keep their order */
	g_string_append_c(out, '{');
	for (guint i = 0; i < sorted->len; i++) {
		const OsqdLogColumn *column = sorted->pdata[i];
		g_autofree gchar *value = NULL;
		if (i + 1 < sorted->len &&
		    strcmp(column->name, ((OsqdLogColumn *)sorted->pdata[i + 1])->name) == 0)
			continue;
		value = log_column_to_json(column, numerics);
		if (!first)
			g_string_append_c(out, ',');
		first = FALSE;
		osqd_log_json_append_string(out, column->name);
		g_string_append_c(out, ':');
		g_string_append(out, value);
	}
	g_string_append_c(out, '}');
}

static gchar *
log_row_to_json(const OsqdLogRow *row, gboolean numerics)
{
	GString *out = g_string_new(NULL);

	log_row_append_json(row, numerics, out);
	return g_string_free(out, FALSE);
}

static gchar *
log_rows_to_json(const GPtrArray *rows, gboolean numerics)
{
	GString *out = g_string_new("[");

	for (guint i = 0; i < rows->len; i++) {
		if (i > 0)
			g_string_append_c(out, ',');
		log_row_append_json(rows->pdata[i], numerics, out);
	}
	g_string_append_c(out, ']');
	return g_string_free(out, FALSE);
}

static gint
log_decoration_compare(gconstpointer a, gconstpointer b)
{
	const gchar *const *x = a;
	const gchar *const *y = b;

	return strcmp(x[0], y[0]);
}

/* The decorations as (name, value) pointer pairs sorted by name, the last of equal names kept:
 * osquery collects them in a std::map, later decorator columns overwriting earlier ones. */
static GArray *
log_sorted_decorations(const OsqdResultRecord *record)
{
	GArray *pairs = g_array_new(FALSE, FALSE, sizeof(const gchar *) * 2);
	GArray *unique = g_array_new(FALSE, FALSE, sizeof(const gchar *) * 2);

	for (guint i = 0; i + 1 < record->decorations->len; i += 2)
		g_array_append_vals(pairs, &record->decorations->pdata[i], 1);
	g_array_sort(pairs, log_decoration_compare); /* g_array_sort is stable */
	for (guint i = 0; i < pairs->len; i++) {
		const gchar **pair = &g_array_index(pairs, const gchar *, 2 * i);
		if (i + 1 < pairs->len && strcmp(pair[0], pair[2]) == 0)
			continue;
		g_array_append_vals(unique, pair, 1);
	}
	g_array_unref(pairs);
	return unique;
}

/* name, hostIdentifier, calendarTime, unixTime, epoch, counter, numerics, then decorations. */
static void
log_object_add_common(GPtrArray *object, const OsqdResultRecord *record,
                      const OsqdLogOptions *options)
{
	g_autofree gchar *calendar = osqd_log_format_calendar_time(record->unix_time);
	g_autoptr(GArray) decorations = log_sorted_decorations(record);

	log_object_set_string(object, "name", record->name);
	log_object_set_string(object, "hostIdentifier", record->host_identifier);
	log_object_set_string(object, "calendarTime", calendar);
	log_object_set_int(object, "unixTime", record->unix_time);
	log_object_set_int(object, "epoch", record->epoch);
	log_object_set_int(object, "counter", record->counter);
	log_object_take(object, "numerics", g_strdup(options->numerics ? "true" : "false"));
	if (decorations->len == 0)
		return;
	if (options->decorations_top_level) {
		for (guint i = 0; i < decorations->len; i++) {
			const gchar **pair = &g_array_index(decorations, const gchar *, 2 * i);
			log_object_set_string(object, pair[0], pair[1]);
		}
	} else {
		GPtrArray *nested = log_object_new();
		for (guint i = 0; i < decorations->len; i++) {
			const gchar **pair = &g_array_index(decorations, const gchar *, 2 * i);
			log_object_set_string(nested, pair[0], pair[1]);
		}
		log_object_take(object, "decorations", log_object_free_to_json(nested));
	}
}

static void
log_add_event_lines(GPtrArray *lines, const OsqdResultRecord *record, const GPtrArray *rows,
                    const gchar *action, const OsqdLogOptions *options)
{
	for (guint i = 0; i < rows->len; i++) {
		GPtrArray *object = log_object_new();
		log_object_add_common(object, record, options);
		log_object_take(object, "columns",
		                log_row_to_json(rows->pdata[i], options->numerics));
		log_object_set_string(object, "action", action);
		g_ptr_array_add(lines, log_object_free_to_json(object));
	}
}

static gchar *
log_batch_line(const OsqdResultRecord *record, const OsqdLogOptions *options)
{
	GPtrArray *object = log_object_new();
	GPtrArray *diff = log_object_new();

	log_object_take(diff, "removed", log_rows_to_json(record->removed, options->numerics));
	log_object_take(diff, "added", log_rows_to_json(record->added, options->numerics));
	log_object_take(object, "diffResults", log_object_free_to_json(diff));
	log_object_add_common(object, record, options);
	return log_object_free_to_json(object);
}

static gchar *
log_snapshot_line(const OsqdResultRecord *record, const OsqdLogOptions *options)
{
	GPtrArray *object = log_object_new();

	log_object_take(object, "snapshot", log_rows_to_json(record->snapshot, options->numerics));
	log_object_set_string(object, "action", "snapshot");
	log_object_add_common(object, record, options);
	return log_object_free_to_json(object);
}

GPtrArray *
osqd_result_record_format(const OsqdResultRecord *record, const OsqdLogOptions *options)
{
	GPtrArray *lines = g_ptr_array_new_with_free_func(g_free);

	if (record->is_snapshot) {
		if (options->snapshot_event_type)
			log_add_event_lines(lines, record, record->snapshot, "snapshot", options);
		else
			g_ptr_array_add(lines, log_snapshot_line(record, options));
	} else if (options->event_type) {
		log_add_event_lines(lines, record, record->removed, "removed", options);
		log_add_event_lines(lines, record, record->added, "added", options);
	} else if (record->removed->len > 0 || record->added->len > 0) {
		g_ptr_array_add(lines, log_batch_line(record, options));
	}
	return lines;
}

OsqdStatusRecord *
osqd_status_record_new(OsqdLogSeverity severity, const gchar *file, guint line,
                       const gchar *message, gint64 time_us, const gchar *host_identifier)
{
	OsqdStatusRecord *record = g_new0(OsqdStatusRecord, 1);

	record->severity = severity;
	record->file = g_strdup(file != NULL ? file : "");
	record->line = line;
	record->message = g_strdup(message != NULL ? message : "");
	record->time_us = time_us;
	record->host_identifier = g_strdup(host_identifier != NULL ? host_identifier : "");
	return record;
}

void
osqd_status_record_free(OsqdStatusRecord *record)
{
	if (record == NULL)
		return;
	g_free(record->file);
	g_free(record->message);
	g_free(record->host_identifier);
	g_free(record);
}

gchar *
osqd_status_record_format_text(const OsqdStatusRecord *record, gint64 pid, GTimeZone *time_zone)
{
	static const gchar letters[] = "IWEF";
	g_autoptr(GTimeZone) local = time_zone == NULL ? g_time_zone_new_local() : NULL;
	gint64 seconds = record->time_us / G_USEC_PER_SEC;
	gint64 micros = record->time_us % G_USEC_PER_SEC;
	g_autoptr(GDateTime) utc = NULL;
	g_autoptr(GDateTime) when = NULL;

	if (micros < 0) {
		micros += G_USEC_PER_SEC;
		seconds--;
	}
	utc = g_date_time_new_from_unix_utc(seconds);
	if (utc != NULL)
		when = g_date_time_to_timezone(utc, time_zone != NULL ? time_zone : local);
	if (when == NULL)
		return g_strdup_printf("%c0000 00:00:00.%06" G_GINT64_FORMAT " %5" G_GINT64_FORMAT
		                       " %s:%u] %s",
		                       letters[record->severity & 3], micros, pid, record->file,
		                       record->line, record->message);
	return g_strdup_printf("%c%02d%02d %02d:%02d:%02d.%06" G_GINT64_FORMAT " %5" G_GINT64_FORMAT
	                       " %s:%u] %s",
	                       letters[record->severity & 3], g_date_time_get_month(when),
	                       g_date_time_get_day_of_month(when), g_date_time_get_hour(when),
	                       g_date_time_get_minute(when), g_date_time_get_second(when), micros,
	                       pid, record->file, record->line, record->message);
}

gchar *
osqd_status_record_format_json(const OsqdStatusRecord *record)
{
	GPtrArray *object = log_object_new();
	gint64 seconds = record->time_us / G_USEC_PER_SEC;
	g_autofree gchar *calendar = NULL;

	if (record->time_us < 0 && record->time_us % G_USEC_PER_SEC != 0)
		seconds--;
	calendar = osqd_log_format_calendar_time(seconds);
	log_object_set_int(object, "s", record->severity);
	log_object_set_string(object, "f", record->file);
	log_object_set_int(object, "i", record->line);
	log_object_set_string(object, "m", record->message);
	log_object_set_string(object, "h", record->host_identifier);
	log_object_set_string(object, "c", calendar);
	log_object_set_int(object, "u", seconds);
	return log_object_free_to_json(object);
}
