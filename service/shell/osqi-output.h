/* SPDX-License-Identifier: Apache-2.0
 *
 * osqi's result buffer and printers. A result holds the rows of one statement as typed cells
 * (integers, doubles, NULL, and text/blob bytes in one shared arena), so buffering a large
 * result for the pretty printer costs a few words per cell rather than a heap string each. The
 * printers are pure: settings + result in, text appended to a GString out. JSON rows are
 * written by the osqi-json.so module, loaded the first time a JSON mode prints.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
	OSQI_MODE_PRETTY,
	OSQI_MODE_LINE,
	OSQI_MODE_CSV,
	OSQI_MODE_LIST,
	OSQI_MODE_COLUMN,
} OsqiMode;

typedef enum {
	OSQI_JSON_NONE,
	OSQI_JSON_COMPACT,
	OSQI_JSON_PRETTY,
} OsqiJson;

typedef struct {
	OsqiMode mode;
	OsqiJson json; /* replaces the pretty printer (only) when set, as osqueryi's --json does */
	gboolean headers;
	gchar *separator;
	gchar *nullvalue;
	GArray *widths; /* gint, from .width; 0 means automatic */
} OsqiOutputSettings;

typedef struct _OsqiResult OsqiResult;

void osqi_output_settings_init(OsqiOutputSettings *settings);
void osqi_output_settings_clear(OsqiOutputSettings *settings);
/* The name osqueryi's .mode and .show use ("pretty", "line", ...); "json" when JSON replaces
 * the pretty printer. */
const gchar *osqi_output_mode_to_string(const OsqiOutputSettings *settings);
/* Parses a .mode argument; FALSE for an unknown name. */
gboolean osqi_output_mode_from_string(const gchar *name, OsqiMode *mode);

OsqiResult *osqi_result_new(guint n_columns);
void osqi_result_free(OsqiResult *result);
guint osqi_result_get_n_columns(OsqiResult *result);
void osqi_result_set_column_name(OsqiResult *result, guint column, const gchar *name);
/* Values are appended row by row, column by column; a row is complete after n_columns. */
void osqi_result_add_null(OsqiResult *result);
void osqi_result_add_int(OsqiResult *result, gint64 value);
void osqi_result_add_double(OsqiResult *result, gdouble value);
void osqi_result_add_text(OsqiResult *result, const gchar *text, gsize len);
void osqi_result_add_blob(OsqiResult *result, gconstpointer data, gsize len);
/* Complete rows buffered and not yet printed. */
guint osqi_result_get_n_rows(OsqiResult *result);

/* TRUE when the printer for @settings can print rows as they come (everything but pretty and
 * pretty JSON, which need every row first). */
gboolean osqi_output_streams(const OsqiOutputSettings *settings);
/* Appends the buffered rows to @out and drops them from @result. Streaming printers may be
 * called several times per statement; @last marks the final call (it prints the buffered
 * printers' output and closes a JSON array). A result without columns prints nothing. Fails
 * only in a JSON mode, when osqi-json.so cannot be loaded (@result is left as it was). */
gboolean osqi_output_print(const OsqiOutputSettings *settings, OsqiResult *result, gboolean last,
                           GString *out, GError **error);

/* The number of UTF-8 characters in @text (bytes that do not continue a sequence). */
gsize osqi_output_utf8_width(const gchar *text, gsize len);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(OsqiResult, osqi_result_free)

G_END_DECLS
