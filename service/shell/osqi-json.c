/* SPDX-License-Identifier: Apache-2.0
 *
 * One JsonNode per column, created once per statement and updated in place for every row, so a
 * row costs hardly any allocation besides the generated text. Only a change between NULL and a
 * value swaps a node: json_node_init_*() cannot be reused on a live node in json-glib 1.6 (it
 * leaves a freed value behind). Built as osqi-json.so; everything but the table is static.
 */
#include "config.h"

#include "osqi-json.h"

#include <json-glib/json-glib.h>

struct _OsqiJsonRow {
	JsonNode *root;
	JsonObject *object; /* the root's */
	gchar **names;
	JsonNode **values; /* per column; NULL for a column a later duplicate replaced */
	JsonGenerator *generator;
	GString *scratch; /* pretty mode: one generated row before indenting it */
};

static void
osqi_json_row_free(OsqiJsonRow *row)
{
	if (row == NULL)
		return;
	json_node_unref(row->root);
	g_strfreev(row->names);
	g_free(row->values);
	g_object_unref(row->generator);
	g_string_free(row->scratch, TRUE);
	g_free(row);
}

static OsqiJsonRow *
osqi_json_row_new(const gchar *const *names, guint n_columns, gboolean pretty)
{
	OsqiJsonRow *row = g_new0(OsqiJsonRow, 1);
	JsonObject *object = json_object_new();

	row->names = g_new0(gchar *, n_columns + 1);
	row->values = g_new0(JsonNode *, n_columns);
	for (guint c = 0; c < n_columns; c++) {
		JsonNode *node = json_node_new(JSON_NODE_NULL);
		row->names[c] = g_strdup(names[c]);
		for (guint earlier = 0; earlier < c; earlier++) {
			if (g_strcmp0(names[earlier], names[c]) == 0)
				row->values[earlier] = NULL;
		}
		row->values[c] = node;
		json_object_set_member(object, names[c], node);
	}
	row->root = json_node_init_object(json_node_alloc(), object);
	row->object = object;
	json_object_unref(object);
	row->generator = json_generator_new();
	json_generator_set_pretty(row->generator, pretty);
	json_generator_set_indent(row->generator, 4);
	json_generator_set_root(row->generator, row->root);
	row->scratch = g_string_new(NULL);
	return row;
}

/* The node holding @column's value, of the right kind (NULL or a value); NULL if the column is
 * hidden by a later duplicate. */
static JsonNode *
osqi_json_row_node(OsqiJsonRow *row, guint column, gboolean is_null)
{
	JsonNode *node = row->values[column];

	if (node == NULL || JSON_NODE_HOLDS_NULL(node) == is_null)
		return node;
	node = json_node_new(is_null ? JSON_NODE_NULL : JSON_NODE_VALUE);
	row->values[column] = node;
	json_object_set_member(row->object, row->names[column], node);
	return node;
}

static void
osqi_json_row_set_null(OsqiJsonRow *row, guint column)
{
	(void)osqi_json_row_node(row, column, TRUE);
}

static void
osqi_json_row_set_int(OsqiJsonRow *row, guint column, gint64 value)
{
	JsonNode *node = osqi_json_row_node(row, column, FALSE);

	if (node != NULL)
		json_node_set_int(node, value);
}

static void
osqi_json_row_set_double(OsqiJsonRow *row, guint column, gdouble value)
{
	JsonNode *node = osqi_json_row_node(row, column, FALSE);

	if (node != NULL)
		json_node_set_double(node, value);
}

static void
osqi_json_row_set_text(OsqiJsonRow *row, guint column, const gchar *text, gsize len)
{
	JsonNode *node = osqi_json_row_node(row, column, FALSE);
	g_autofree gchar *valid = NULL;

	if (node == NULL)
		return;
	if (!g_utf8_validate_len(text, len, NULL))
		valid = g_utf8_make_valid(text, (gssize)len);
	json_node_set_string(node, valid != NULL ? valid : text);
}

/* In pretty mode every line is indented one level more, because the row sits inside the array
 * (JSON strings hold no raw newline, so lines are safe to indent). */
static void
osqi_json_row_append(OsqiJsonRow *row, GString *out)
{
	if (!json_generator_get_pretty(row->generator)) {
		(void)json_generator_to_gstring(row->generator, out);
		return;
	}
	g_string_truncate(row->scratch, 0);
	(void)json_generator_to_gstring(row->generator, row->scratch);
	g_string_append(out, "    ");
	for (gsize i = 0; i < row->scratch->len; i++) {
		g_string_append_c(out, row->scratch->str[i]);
		if (row->scratch->str[i] == '\n')
			g_string_append(out, "    ");
	}
}

const OsqiJsonModule osqi_json_module = {
	.header = { .abi_version = OSQI_JSON_MODULE_ABI, .size = sizeof(OsqiJsonModule) },
	.row_new = osqi_json_row_new,
	.row_free = osqi_json_row_free,
	.row_set_null = osqi_json_row_set_null,
	.row_set_int = osqi_json_row_set_int,
	.row_set_double = osqi_json_row_set_double,
	.row_set_text = osqi_json_row_set_text,
	.row_append = osqi_json_row_append,
};
