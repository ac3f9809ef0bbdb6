/* SPDX-License-Identifier: Apache-2.0
 *
 * Typed row buffer filled by a generator. Setters for columns the query does not use are
 * no-ops, so a generator that fills every column still costs only what the query reads.
 */
#include "config.h"

#include "osqd-table-private.h"

#include <stdarg.h>
#include <string.h>

void
osqd_value_clear(OsqdValue *value)
{
	if (value->kind == OSQD_VALUE_TEXT || value->kind == OSQD_VALUE_BLOB)
		g_free(value->bytes.data);
	value->kind = OSQD_VALUE_NULL;
}

void
osqd_value_copy(OsqdValue *dest, const OsqdValue *src)
{
	*dest = *src;
	if (src->kind == OSQD_VALUE_TEXT || src->kind == OSQD_VALUE_BLOB) {
		dest->bytes.data = g_malloc(src->bytes.len + 1);
		memcpy(dest->bytes.data, src->bytes.data, src->bytes.len);
		dest->bytes.data[src->bytes.len] = '\0';
	}
}

static void
row_free(gpointer data)
{
	OsqdRow *row = data;

	for (guint i = 0; i < row->sink->table->n_columns; i++)
		osqd_value_clear(&row->values[i]);
	g_free(row);
}

OsqdRowSink *
osqd_row_sink_new(const OsqdTable *table, const gboolean *used)
{
	OsqdRowSink *sink = g_new0(OsqdRowSink, 1);

	sink->table = table;
	sink->used = used;
	sink->rows = g_ptr_array_new_with_free_func(row_free);
	return sink;
}

void
osqd_row_sink_free(OsqdRowSink *sink)
{
	if (sink == NULL)
		return;
	g_ptr_array_unref(sink->rows);
	g_free(sink);
}

OsqdRow *
osqd_row_sink_append(OsqdRowSink *sink)
{
	OsqdRow *row = g_malloc0(sizeof(OsqdRow) + sink->table->n_columns * sizeof(OsqdValue));

	row->sink = sink;
	g_ptr_array_add(sink->rows, row);
	return row;
}

guint
osqd_row_sink_get_count(OsqdRowSink *sink)
{
	return sink->rows->len;
}

OsqdRow *
osqd_row_sink_get_row(OsqdRowSink *sink, guint index)
{
	return index < sink->rows->len ? sink->rows->pdata[index] : NULL;
}

/* The slot for @column, cleared; NULL when the query does not read the column. */
static OsqdValue *
row_slot(OsqdRow *row, guint column)
{
	OsqdValue *value;

	g_return_val_if_fail(column < row->sink->table->n_columns, NULL);
	if (row->sink->used != NULL && !row->sink->used[column])
		return NULL;
	value = &row->values[column];
	osqd_value_clear(value);
	return value;
}

void
osqd_row_set_int(OsqdRow *row, guint column, gint64 v)
{
	OsqdValue *value = row_slot(row, column);

	if (value == NULL)
		return;
	value->kind = OSQD_VALUE_INTEGER;
	value->integer = v;
}

void
osqd_row_set_double(OsqdRow *row, guint column, gdouble v)
{
	OsqdValue *value = row_slot(row, column);

	if (value == NULL)
		return;
	value->kind = OSQD_VALUE_DOUBLE;
	value->real = v;
}

void
osqd_row_take_text(OsqdRow *row, guint column, gchar *text)
{
	OsqdValue *value = row_slot(row, column);
	gsize len;

	if (value == NULL || text == NULL) {
		g_free(text);
		return;
	}
	len = strlen(text);
	if (!g_utf8_validate(text, (gssize)len, NULL)) {
		gchar *valid = g_utf8_make_valid(text, (gssize)len);
		g_free(text);
		text = valid;
		len = strlen(text);
	}
	value->kind = OSQD_VALUE_TEXT;
	value->bytes.data = text;
	value->bytes.len = len;
}

void
osqd_row_set_text_len(OsqdRow *row, guint column, const gchar *text, gssize len)
{
	if (row->sink->used != NULL && column < row->sink->table->n_columns &&
	    !row->sink->used[column])
		return;
	if (text == NULL) {
		osqd_row_set_null(row, column);
		return;
	}
	osqd_row_take_text(row, column, osqd_utf8_make_valid(text, len));
}

void
osqd_row_set_text(OsqdRow *row, guint column, const gchar *text)
{
	osqd_row_set_text_len(row, column, text, -1);
}

void
osqd_row_set_printf(OsqdRow *row, guint column, const gchar *format, ...)
{
	va_list args;
	gchar *text;

	if (row->sink->used != NULL && column < row->sink->table->n_columns &&
	    !row->sink->used[column])
		return;
	va_start(args, format);
	text = g_strdup_vprintf(format, args);
	va_end(args);
	osqd_row_take_text(row, column, text);
}

void
osqd_row_set_blob(OsqdRow *row, guint column, gconstpointer data, gsize len)
{
	OsqdValue *value = row_slot(row, column);

	if (value == NULL)
		return;
	value->kind = OSQD_VALUE_BLOB;
	value->bytes.data = g_malloc(len + 1);
	memcpy(value->bytes.data, data, len);
	value->bytes.data[len] = '\0';
	value->bytes.len = len;
}

void
osqd_row_set_null(OsqdRow *row, guint column)
{
	(void)row_slot(row, column);
}
