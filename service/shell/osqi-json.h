/* SPDX-License-Identifier: Apache-2.0
 *
 * The JSON row writer, a shared module (osqi-json.so) so that only JSON output loads json-glib
 * and, with it, gobject and gio. osqi-output.c reaches it through the table below, loaded by
 * osqi_module_load() the first time a JSON mode prints; the JSON text comes from json-glib.
 */
#pragma once

#include "osqi-module.h"

G_BEGIN_DECLS

/* Bump on any change to OsqiJsonModule or to what its functions mean. */
#define OSQI_JSON_MODULE_ABI 1

/* One JSON object reused for every row of a statement: values are replaced in place. */
typedef struct _OsqiJsonRow OsqiJsonRow;

typedef struct {
	OsqiModuleHeader header;
	/* An object with one member per column, in column order; with duplicate names the last
	 * column wins, in the first one's place (as json-glib's builder does). @pretty: indented
	 * text, each line one level deeper than the object itself (it sits inside an array). */
	OsqiJsonRow *(*row_new)(const gchar *const *names, guint n_columns, gboolean pretty);
	void (*row_free)(OsqiJsonRow *row);
	/* Setters of one column's value; a column hidden by a later duplicate ignores them. */
	void (*row_set_null)(OsqiJsonRow *row, guint column);
	void (*row_set_int)(OsqiJsonRow *row, guint column, gint64 value);
	void (*row_set_double)(OsqiJsonRow *row, guint column, gdouble value); /* finite only */
	/* @text holds a NUL at @len; invalid UTF-8 is repaired (U+FFFD). */
	void (*row_set_text)(OsqiJsonRow *row, guint column, const gchar *text, gsize len);
	/* Appends the row's current values as JSON text. */
	void (*row_append)(OsqiJsonRow *row, GString *out);
} OsqiJsonModule;

OSQI_MODULE_EXPORT extern const OsqiJsonModule osqi_json_module;

G_END_DECLS
