/* SPDX-License-Identifier: Apache-2.0
 *
 * The printers follow osqueryi's formats (pretty boxes sized by UTF-8 character count, sqlite's
 * line/list/csv/column modes) except JSON, where osq keeps each value's type and the SELECT
 * column order; the JSON text itself always comes from json-glib, in the osqi-json.so module
 * (osqi-json.c), so that only JSON output pays for loading json-glib, gobject and gio. Doubles
 * print as SQLite prints them ("%!.15g"), so a value looks the same here as in sqlite3 and in
 * osqueryi; that includes JSON's non-finite doubles, which go to the module as text.
 */
#include "config.h"

#include "osqi-output.h"

#include <math.h>
#include <sqlite3.h>
#include <string.h>

#include "osqi-json.h"

#define OSQI_OUTPUT_NUMBER_SIZE 64

typedef enum {
	OSQI_CELL_NULL,
	OSQI_CELL_INT,
	OSQI_CELL_DOUBLE,
	OSQI_CELL_TEXT,
	OSQI_CELL_BLOB,
} OsqiCellKind;

typedef struct {
	guint32 kind; /* OsqiCellKind */
	guint32 len;  /* bytes of text or blob */
	union {
		gint64 integer;
		gdouble real;
		gsize offset; /* into the arena; the bytes are followed by a NUL */
	};
} OsqiCell;

struct _OsqiResult {
	guint n_columns;
	gchar **names;
	GArray *cells;         /* OsqiCell, row-major */
	GByteArray *arena;     /* text and blob bytes of the buffered rows */
	guint64 n_printed;     /* rows printed by earlier calls for this statement */
	gboolean started;      /* a streaming printer has written its opening */
	GArray *column_widths; /* gint, column mode: fixed by the first row */
	OsqiJsonRow *json_row; /* JSON modes: the reusable row object */
};

/* The text of one cell as the non-JSON printers show it. @buffer holds numbers. */
typedef struct {
	const gchar *text;
	gsize len;
	gboolean is_null;
} OsqiCellText;

static void output_json_row_free(OsqiJsonRow *row);

void
osqi_output_settings_init(OsqiOutputSettings *settings)
{
	settings->mode = OSQI_MODE_PRETTY;
	settings->json = OSQI_JSON_NONE;
	settings->headers = TRUE;
	settings->separator = g_strdup("|");
	settings->nullvalue = g_strdup("");
	settings->widths = g_array_new(FALSE, TRUE, sizeof(gint));
}

void
osqi_output_settings_clear(OsqiOutputSettings *settings)
{
	g_clear_pointer(&settings->separator, g_free);
	g_clear_pointer(&settings->nullvalue, g_free);
	g_clear_pointer(&settings->widths, g_array_unref);
}

const gchar *
osqi_output_mode_to_string(const OsqiOutputSettings *settings)
{
	switch (settings->mode) {
	case OSQI_MODE_LINE:
		return "line";
	case OSQI_MODE_CSV:
		return "csv";
	case OSQI_MODE_LIST:
		return "list";
	case OSQI_MODE_COLUMN:
		return "column";
	case OSQI_MODE_PRETTY:
	default:
		if (settings->json == OSQI_JSON_COMPACT)
			return "json";
		if (settings->json == OSQI_JSON_PRETTY)
			return "json_pretty";
		return "pretty";
	}
}

gboolean
osqi_output_mode_from_string(const gchar *name, OsqiMode *mode)
{
	if (g_strcmp0(name, "line") == 0 || g_strcmp0(name, "lines") == 0)
		*mode = OSQI_MODE_LINE;
	else if (g_strcmp0(name, "column") == 0 || g_strcmp0(name, "columns") == 0)
		*mode = OSQI_MODE_COLUMN;
	else if (g_strcmp0(name, "list") == 0)
		*mode = OSQI_MODE_LIST;
	else if (g_strcmp0(name, "pretty") == 0)
		*mode = OSQI_MODE_PRETTY;
	else if (g_strcmp0(name, "csv") == 0)
		*mode = OSQI_MODE_CSV;
	else
		return FALSE;
	return TRUE;
}

OsqiResult *
osqi_result_new(guint n_columns)
{
	OsqiResult *result = g_new0(OsqiResult, 1);

	result->n_columns = n_columns;
	result->names = g_new0(gchar *, n_columns + 1);
	for (guint i = 0; i < n_columns; i++)
		result->names[i] = g_strdup("");
	result->cells = g_array_new(FALSE, FALSE, sizeof(OsqiCell));
	result->arena = g_byte_array_new();
	result->column_widths = g_array_new(FALSE, TRUE, sizeof(gint));
	return result;
}

void
osqi_result_free(OsqiResult *result)
{
	if (result == NULL)
		return;
	g_strfreev(result->names);
	g_array_unref(result->cells);
	g_byte_array_unref(result->arena);
	g_array_unref(result->column_widths);
	output_json_row_free(result->json_row);
	g_free(result);
}

guint
osqi_result_get_n_columns(OsqiResult *result)
{
	return result->n_columns;
}

void
osqi_result_set_column_name(OsqiResult *result, guint column, const gchar *name)
{
	g_return_if_fail(column < result->n_columns);
	g_free(result->names[column]);
	result->names[column] = g_strdup(name != NULL ? name : "");
}

void
osqi_result_add_null(OsqiResult *result)
{
	OsqiCell cell = { .kind = OSQI_CELL_NULL };

	g_array_append_val(result->cells, cell);
}

void
osqi_result_add_int(OsqiResult *result, gint64 value)
{
	OsqiCell cell = { .kind = OSQI_CELL_INT, .integer = value };

	g_array_append_val(result->cells, cell);
}

void
osqi_result_add_double(OsqiResult *result, gdouble value)
{
	OsqiCell cell = { .kind = OSQI_CELL_DOUBLE, .real = value };

	g_array_append_val(result->cells, cell);
}

static void
result_add_bytes(OsqiResult *result, OsqiCellKind kind, gconstpointer data, gsize len)
{
	OsqiCell cell = { .kind = kind, .len = (guint32)len, .offset = result->arena->len };
	const guint8 nul = 0;

	g_return_if_fail(len <= G_MAXUINT32);
	if (len > 0)
		g_byte_array_append(result->arena, data, (guint)len);
	g_byte_array_append(result->arena, &nul, 1);
	g_array_append_val(result->cells, cell);
}

void
osqi_result_add_text(OsqiResult *result, const gchar *text, gsize len)
{
	result_add_bytes(result, OSQI_CELL_TEXT, text, len);
}

void
osqi_result_add_blob(OsqiResult *result, gconstpointer data, gsize len)
{
	result_add_bytes(result, OSQI_CELL_BLOB, data, len);
}

guint
osqi_result_get_n_rows(OsqiResult *result)
{
	if (result->n_columns == 0)
		return 0;
	return result->cells->len / result->n_columns;
}

static const OsqiCell *
result_cell(OsqiResult *result, guint row, guint column)
{
	return &g_array_index(result->cells, OsqiCell, (gsize)row * result->n_columns + column);
}

static OsqiCellText
result_cell_text(OsqiResult *result, const OsqiCell *cell, const gchar *nullvalue,
                 gchar buffer[OSQI_OUTPUT_NUMBER_SIZE])
{
	OsqiCellText text = { .text = buffer };

	switch (cell->kind) {
	case OSQI_CELL_INT:
		text.len = (gsize)g_snprintf(buffer, OSQI_OUTPUT_NUMBER_SIZE, "%" G_GINT64_FORMAT,
		                             cell->integer);
		break;
	case OSQI_CELL_DOUBLE:
		(void)sqlite3_snprintf(OSQI_OUTPUT_NUMBER_SIZE, buffer, "%!.15g", cell->real);
		text.len = strlen(buffer);
		break;
	case OSQI_CELL_TEXT:
	case OSQI_CELL_BLOB:
		text.text = (const gchar *)result->arena->data + cell->offset;
		text.len = cell->len;
		break;
	case OSQI_CELL_NULL:
	default:
		text.text = nullvalue;
		text.len = strlen(nullvalue);
		text.is_null = TRUE;
		break;
	}
	return text;
}

gsize
osqi_output_utf8_width(const gchar *text, gsize len)
{
	gsize width = 0;

	for (gsize i = 0; i < len; i++) {
		if (((guchar)text[i] & 0xc0) != 0x80)
			width++;
	}
	return width;
}

static void
output_append_spaces(GString *out, gsize count)
{
	for (gsize i = 0; i < count; i++)
		g_string_append_c(out, ' ');
}

static void
output_append_repeated(GString *out, gchar c, gsize count)
{
	for (gsize i = 0; i < count; i++)
		g_string_append_c(out, c);
}

/* ---- pretty ---- */

static void
output_print_pretty(const OsqiOutputSettings *settings, OsqiResult *result, GString *out)
{
	guint n_rows = osqi_result_get_n_rows(result);
	guint n_columns = result->n_columns;
	g_autofree gsize *widths = g_new0(gsize, n_columns);
	g_autofree gsize *name_widths = g_new0(gsize, n_columns);
	g_autoptr(GString) line = g_string_new("+");
	gchar buffer[OSQI_OUTPUT_NUMBER_SIZE];

	if (n_rows == 0)
		return;
	for (guint c = 0; c < n_columns; c++) {
		name_widths[c] = osqi_output_utf8_width(result->names[c], strlen(result->names[c]));
		widths[c] = name_widths[c];
	}
	for (guint r = 0; r < n_rows; r++) {
		for (guint c = 0; c < n_columns; c++) {
			OsqiCellText t = result_cell_text(result, result_cell(result, r, c),
			                                  settings->nullvalue, buffer);
			widths[c] = MAX(widths[c], osqi_output_utf8_width(t.text, t.len));
		}
	}

	for (guint c = 0; c < n_columns; c++) {
		output_append_repeated(line, '-', widths[c] + 2);
		g_string_append_c(line, '+');
	}
	g_string_append_c(line, '\n');

	g_string_append_len(out, line->str, (gssize)line->len);
	g_string_append_c(out, '|');
	for (guint c = 0; c < n_columns; c++) {
		g_string_append_c(out, ' ');
		g_string_append(out, result->names[c]);
		output_append_spaces(out, widths[c] - name_widths[c] + 1);
		g_string_append_c(out, '|');
	}
	g_string_append_c(out, '\n');
	g_string_append_len(out, line->str, (gssize)line->len);

	for (guint r = 0; r < n_rows; r++) {
		for (guint c = 0; c < n_columns; c++) {
			OsqiCellText t = result_cell_text(result, result_cell(result, r, c),
			                                  settings->nullvalue, buffer);
			g_string_append(out, "| ");
			g_string_append_len(out, t.text, (gssize)t.len);
			output_append_spaces(out,
			                     widths[c] - osqi_output_utf8_width(t.text, t.len) + 1);
		}
		g_string_append(out, "|\n");
	}
	g_string_append_len(out, line->str, (gssize)line->len);
}

/* ---- line ---- */

static void
output_print_line(const OsqiOutputSettings *settings, OsqiResult *result, GString *out)
{
	guint n_rows = osqi_result_get_n_rows(result);
	g_autofree gsize *name_widths = g_new0(gsize, result->n_columns);
	gsize width = 5;
	gchar buffer[OSQI_OUTPUT_NUMBER_SIZE];

	for (guint c = 0; c < result->n_columns; c++) {
		name_widths[c] = osqi_output_utf8_width(result->names[c], strlen(result->names[c]));
		width = MAX(width, name_widths[c]);
	}
	for (guint r = 0; r < n_rows; r++) {
		if (result->n_printed + r > 0)
			g_string_append_c(out, '\n');
		for (guint c = 0; c < result->n_columns; c++) {
			OsqiCellText t = result_cell_text(result, result_cell(result, r, c),
			                                  settings->nullvalue, buffer);
			output_append_spaces(out, width - name_widths[c]);
			g_string_append(out, result->names[c]);
			g_string_append(out, " = ");
			g_string_append_len(out, t.text, (gssize)t.len);
			g_string_append_c(out, '\n');
		}
	}
}

/* ---- list and csv ---- */

/* sqlite's rule: quote a field holding a control character, a space, a quote of either kind,
 * a byte >= 0x7f, or the separator; an empty string is quoted too (it is not NULL). */
static gboolean
output_csv_needs_quotes(const gchar *text, gsize len, const gchar *separator)
{
	gsize separator_len = strlen(separator);

	if (len == 0)
		return TRUE;
	for (gsize i = 0; i < len; i++) {
		guchar c = (guchar)text[i];
		if (c < 0x20 || c == ' ' || c == '"' || c == '\'' || c >= 0x7f)
			return TRUE;
		if (separator_len > 0 && i + separator_len <= len &&
		    memcmp(text + i, separator, separator_len) == 0)
			return TRUE;
	}
	return FALSE;
}

static void
output_append_csv_field(GString *out, const gchar *text, gsize len, gboolean is_null,
                        const gchar *separator)
{
	if (is_null || !output_csv_needs_quotes(text, len, separator)) {
		g_string_append_len(out, text, (gssize)len);
		return;
	}
	g_string_append_c(out, '"');
	for (gsize i = 0; i < len; i++) {
		if (text[i] == '"')
			g_string_append_c(out, '"');
		g_string_append_c(out, text[i]);
	}
	g_string_append_c(out, '"');
}

static void
output_print_list(const OsqiOutputSettings *settings, OsqiResult *result, gboolean csv,
                  GString *out)
{
	guint n_rows = osqi_result_get_n_rows(result);
	gchar buffer[OSQI_OUTPUT_NUMBER_SIZE];

	if (n_rows > 0 && result->n_printed == 0 && settings->headers) {
		for (guint c = 0; c < result->n_columns; c++) {
			const gchar *name = result->names[c];
			if (c > 0)
				g_string_append(out, settings->separator);
			if (csv)
				output_append_csv_field(out, name, strlen(name), FALSE,
				                        settings->separator);
			else
				g_string_append(out, name);
		}
		g_string_append_c(out, '\n');
	}
	for (guint r = 0; r < n_rows; r++) {
		for (guint c = 0; c < result->n_columns; c++) {
			OsqiCellText t = result_cell_text(result, result_cell(result, r, c),
			                                  settings->nullvalue, buffer);
			if (c > 0)
				g_string_append(out, settings->separator);
			if (csv)
				output_append_csv_field(out, t.text, t.len, t.is_null,
				                        settings->separator);
			else
				g_string_append_len(out, t.text, (gssize)t.len);
		}
		g_string_append_c(out, '\n');
	}
}

/* ---- column ---- */

/* Appends @text cut or padded to exactly |width| characters, right-aligned if width < 0. */
static void
output_append_fitted(GString *out, const gchar *text, gsize len, gint width)
{
	gsize want = (gsize)ABS(width);
	gsize chars = 0;
	gsize end = 0;

	while (end < len) {
		if (((guchar)text[end] & 0xc0) != 0x80) {
			if (chars == want)
				break;
			chars++;
		}
		end++;
	}
	if (width < 0)
		output_append_spaces(out, want - chars);
	g_string_append_len(out, text, (gssize)end);
	if (width >= 0)
		output_append_spaces(out, want - chars);
}

static void
output_column_widths(const OsqiOutputSettings *settings, OsqiResult *result)
{
	gchar buffer[OSQI_OUTPUT_NUMBER_SIZE];

	g_array_set_size(result->column_widths, result->n_columns);
	for (guint c = 0; c < result->n_columns; c++) {
		gint width =
		        c < settings->widths->len ? g_array_index(settings->widths, gint, c) : 0;
		if (width == 0) {
			OsqiCellText t = result_cell_text(result, result_cell(result, 0, c),
			                                  settings->nullvalue, buffer);
			gsize w =
			        osqi_output_utf8_width(result->names[c], strlen(result->names[c]));
			w = MAX(w, osqi_output_utf8_width(t.text, t.len));
			width = (gint)MIN(MAX(w, 10), (gsize)G_MAXINT);
		}
		g_array_index(result->column_widths, gint, c) = width;
	}
}

static void
output_print_column(const OsqiOutputSettings *settings, OsqiResult *result, GString *out)
{
	guint n_rows = osqi_result_get_n_rows(result);
	gchar buffer[OSQI_OUTPUT_NUMBER_SIZE];

	if (n_rows == 0)
		return;
	if (result->n_printed == 0) {
		output_column_widths(settings, result);
		for (guint c = 0; settings->headers && c < result->n_columns; c++) {
			gint width = g_array_index(result->column_widths, gint, c);
			output_append_fitted(out, result->names[c], strlen(result->names[c]),
			                     width);
			g_string_append(out, c + 1 < result->n_columns ? "  " : "\n");
		}
		for (guint c = 0; settings->headers && c < result->n_columns; c++) {
			gint width = g_array_index(result->column_widths, gint, c);
			output_append_repeated(out, '-', (gsize)ABS(width));
			g_string_append(out, c + 1 < result->n_columns ? "  " : "\n");
		}
	}
	for (guint r = 0; r < n_rows; r++) {
		for (guint c = 0; c < result->n_columns; c++) {
			OsqiCellText t = result_cell_text(result, result_cell(result, r, c),
			                                  settings->nullvalue, buffer);
			output_append_fitted(out, t.text, t.len,
			                     g_array_index(result->column_widths, gint, c));
			g_string_append(out, c + 1 < result->n_columns ? "  " : "\n");
		}
	}
}

/* ---- json ---- */

static const OsqiJsonModule *output_json_module;

/* osqi-json.so, loaded by the first JSON print of the process. */
static const OsqiJsonModule *
output_json_module_get(gboolean pretty, GError **error)
{
	if (output_json_module == NULL) {
		output_json_module =
		        osqi_module_load("json", pretty ? "--json_pretty" : "--json",
		                         OSQI_JSON_MODULE_ABI, sizeof(OsqiJsonModule), error);
	}
	return output_json_module;
}

static void
output_json_row_free(OsqiJsonRow *row)
{
	if (row != NULL)
		output_json_module->row_free(row);
}

static void
output_json_set_value(OsqiResult *result, guint column, const OsqiCell *cell)
{
	const OsqiJsonModule *json = output_json_module;
	gchar buffer[OSQI_OUTPUT_NUMBER_SIZE];
	OsqiCellText t;

	switch (cell->kind) {
	case OSQI_CELL_NULL:
		json->row_set_null(result->json_row, column);
		break;
	case OSQI_CELL_INT:
		json->row_set_int(result->json_row, column, cell->integer);
		break;
	case OSQI_CELL_DOUBLE:
		if (isfinite(cell->real)) {
			json->row_set_double(result->json_row, column, cell->real);
			break;
		}
		/* JSON has no infinity: keep SQLite's text for it */
		t = result_cell_text(result, cell, "", buffer);
		json->row_set_text(result->json_row, column, t.text, t.len);
		break;
	default:
		t = result_cell_text(result, cell, "", buffer);
		json->row_set_text(result->json_row, column, t.text, t.len);
		break;
	}
}

/* osqueryi's framing: "[", rows separated by ",\n" ("  " before each compact row), "]". */
static gboolean
output_print_json(OsqiResult *result, gboolean pretty, gboolean last, GString *out, GError **error)
{
	const OsqiJsonModule *json = output_json_module_get(pretty, error);
	guint n_rows = osqi_result_get_n_rows(result);

	if (json == NULL)
		return FALSE;
	if (result->json_row == NULL) {
		result->json_row = json->row_new((const gchar *const *)result->names,
		                                 result->n_columns, pretty);
	}
	if (!result->started && (n_rows > 0 || !pretty)) {
		g_string_append(out, "[\n");
		result->started = TRUE;
	}
	for (guint r = 0; r < n_rows; r++) {
		if (result->n_printed + r > 0)
			g_string_append(out, ",\n");
		if (!pretty)
			g_string_append(out, "  ");
		for (guint c = 0; c < result->n_columns; c++)
			output_json_set_value(result, c, result_cell(result, r, c));
		json->row_append(result->json_row, out);
	}
	if (last)
		g_string_append(out, result->started ? "\n]\n" : "[]\n");
	return TRUE;
}

/* ---- dispatch ---- */

gboolean
osqi_output_streams(const OsqiOutputSettings *settings)
{
	return settings->mode != OSQI_MODE_PRETTY || settings->json != OSQI_JSON_NONE;
}

gboolean
osqi_output_print(const OsqiOutputSettings *settings, OsqiResult *result, gboolean last,
                  GString *out, GError **error)
{
	guint n_rows = osqi_result_get_n_rows(result);

	if (result->n_columns == 0)
		return TRUE;
	if (!last && !osqi_output_streams(settings))
		return TRUE;
	switch (settings->mode) {
	case OSQI_MODE_LINE:
		output_print_line(settings, result, out);
		break;
	case OSQI_MODE_CSV:
		output_print_list(settings, result, TRUE, out);
		break;
	case OSQI_MODE_LIST:
		output_print_list(settings, result, FALSE, out);
		break;
	case OSQI_MODE_COLUMN:
		output_print_column(settings, result, out);
		break;
	case OSQI_MODE_PRETTY:
	default:
		if (settings->json == OSQI_JSON_NONE)
			output_print_pretty(settings, result, out);
		else if (!output_print_json(result, settings->json == OSQI_JSON_PRETTY, last, out,
		                            error))
			return FALSE;
		break;
	}
	result->n_printed += n_rows;
	g_array_set_size(result->cells, 0);
	g_byte_array_set_size(result->arena, 0);
	return TRUE;
}
