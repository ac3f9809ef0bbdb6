/* SPDX-License-Identifier: Apache-2.0
 *
 * Golden tests of the result log lines. Every tests/golden-logs/cases/<name>.json holds logger
 * options and one or more records (the runs of a scheduled query as the scheduler would hand
 * them over); the lines osqd_result_record_format() makes for them, in order, must equal
 * <name>.out byte for byte. Each line is also checked to be one valid UTF-8 JSON object with no
 * trailing blank. OSQ_GOLDEN_UPDATE=1 rewrites the .out files (review the diff!).
 *
 * A case: {"options": {"event_type": true, "snapshot_event_type": false, "numerics": false,
 *          "decorations_top_level": false},
 *          "columns": [["pid", "BIGINT"], ["name", "TEXT"], ["expr", null]],
 *          "records": [{"name": "q", "host_identifier": "h", "unix_time": 1462227452,
 *                       "epoch": 0, "counter": 0, "decorations": [["k", "v"]],
 *                       "added": [[1, "a", null]], "removed": [], "snapshot": [],
 *                       "is_snapshot": false}]}
 * Row values are positional against "columns": JSON integers, reals (1.0 stays a double),
 * strings and null map to the typed values.
 *
 * Usage: osqd-golden-logs CASES_DIR [NAME...]
 */
#include "config.h"

#include <json-glib/json-glib.h>
#include <stdio.h>
#include <string.h>

#include "osqd-log-record.h"

static gboolean
member_bool(JsonObject *object, const gchar *name, gboolean fallback)
{
	if (object == NULL || !json_object_has_member(object, name))
		return fallback;
	return json_object_get_boolean_member(object, name);
}

static gint64
member_int(JsonObject *object, const gchar *name)
{
	if (!json_object_has_member(object, name))
		return 0;
	return json_object_get_int_member(object, name);
}

static void
add_value(OsqdLogRow *row, JsonArray *column, JsonNode *value)
{
	const gchar *name = json_array_get_string_element(column, 0);
	const gchar *type = json_array_get_null_element(column, 1)
	                            ? NULL
	                            : json_array_get_string_element(column, 1);

	if (JSON_NODE_HOLDS_NULL(value)) {
		osqd_log_row_add_null(row, name, type);
		return;
	}
	switch (json_node_get_value_type(value) == G_TYPE_INT64    ? 'i'
	        : json_node_get_value_type(value) == G_TYPE_DOUBLE ? 'd'
	                                                           : 's') {
	case 'i':
		osqd_log_row_add_int(row, name, type, json_node_get_int(value));
		break;
	case 'd':
		osqd_log_row_add_double(row, name, type, json_node_get_double(value));
		break;
	default:
		osqd_log_row_add_text(row, name, type, json_node_get_string(value));
	}
}

static void
add_rows(GPtrArray *rows, JsonArray *columns, JsonObject *record, const gchar *key)
{
	JsonArray *values = NULL;

	if (!json_object_has_member(record, key) || json_object_get_null_member(record, key))
		return;
	values = json_object_get_array_member(record, key);
	for (guint i = 0; i < json_array_get_length(values); i++) {
		JsonArray *cells = json_array_get_array_element(values, i);
		OsqdLogRow *row = osqd_log_row_new();
		for (guint c = 0; c < json_array_get_length(cells); c++)
			add_value(row, json_array_get_array_element(columns, c),
			          json_array_get_element(cells, c));
		g_ptr_array_add(rows, row);
	}
}

static OsqdResultRecord *
parse_record(JsonObject *object, JsonArray *columns)
{
	OsqdResultRecord *record =
	        osqd_result_record_new(json_object_get_string_member(object, "name"),
	                               json_object_get_string_member(object, "host_identifier"),
	                               member_int(object, "unix_time"));

	record->epoch = member_int(object, "epoch");
	record->counter = member_int(object, "counter");
	record->is_snapshot = member_bool(object, "is_snapshot", FALSE);
	if (json_object_has_member(object, "decorations")) {
		JsonArray *pairs = json_object_get_array_member(object, "decorations");
		for (guint i = 0; i < json_array_get_length(pairs); i++) {
			JsonArray *pair = json_array_get_array_element(pairs, i);
			osqd_result_record_add_decoration(record,
			                                  json_array_get_string_element(pair, 0),
			                                  json_array_get_string_element(pair, 1));
		}
	}
	add_rows(record->added, columns, object, "added");
	add_rows(record->removed, columns, object, "removed");
	add_rows(record->snapshot, columns, object, "snapshot");
	return record;
}

/* Each line: valid UTF-8, no trailing blank, one JSON object. */
static gboolean
check_line(const gchar *name, const gchar *line)
{
	g_autoptr(JsonParser) parser = json_parser_new();
	g_autoptr(GError) error = NULL;
	gsize len = strlen(line);

	if (!g_utf8_validate(line, -1, NULL) || len == 0 || g_ascii_isspace(line[len - 1]) ||
	    strchr(line, '\n') != NULL) {
		g_printerr("%s: bad line: %s\n", name, line);
		return FALSE;
	}
	if (!json_parser_load_from_data(parser, line, -1, &error) ||
	    !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser))) {
		g_printerr("%s: not a JSON object (%s): %s\n", name,
		           error != NULL ? error->message : "not an object", line);
		return FALSE;
	}
	return TRUE;
}

static gboolean
run_case(const gchar *name, const gchar *text, GString *out, GError **error)
{
	g_autoptr(JsonParser) parser = json_parser_new();
	JsonObject *root = NULL, *options_object = NULL;
	JsonArray *columns = NULL, *records = NULL;
	OsqdLogOptions options;
	gboolean ok = TRUE;

	if (!json_parser_load_from_data(parser, text, -1, error))
		return FALSE;
	root = json_node_get_object(json_parser_get_root(parser));
	if (json_object_has_member(root, "options"))
		options_object = json_object_get_object_member(root, "options");
	osqd_log_options_init(&options);
	options.event_type = member_bool(options_object, "event_type", options.event_type);
	options.snapshot_event_type =
	        member_bool(options_object, "snapshot_event_type", options.snapshot_event_type);
	options.numerics = member_bool(options_object, "numerics", options.numerics);
	options.decorations_top_level =
	        member_bool(options_object, "decorations_top_level", options.decorations_top_level);
	columns = json_object_get_array_member(root, "columns");
	records = json_object_get_array_member(root, "records");
	for (guint i = 0; i < json_array_get_length(records); i++) {
		g_autoptr(OsqdResultRecord) record =
		        parse_record(json_array_get_object_element(records, i), columns);
		g_autoptr(GPtrArray) lines = osqd_result_record_format(record, &options);
		for (guint l = 0; l < lines->len; l++) {
			ok &= check_line(name, lines->pdata[l]);
			g_string_append_printf(out, "%s\n", (const gchar *)lines->pdata[l]);
		}
	}
	if (!ok)
		g_set_error_literal(error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "invalid line");
	return ok;
}

static gboolean
check_case(const gchar *dir, const gchar *name, gboolean update)
{
	g_autofree gchar *in_path = g_strdup_printf("%s/%s.json", dir, name);
	g_autofree gchar *out_path = g_strdup_printf("%s/%s.out", dir, name);
	g_autofree gchar *text = NULL, *expected = NULL;
	g_autoptr(GString) out = g_string_new(NULL);
	g_autoptr(GError) error = NULL;

	if (!g_file_get_contents(in_path, &text, NULL, &error) ||
	    !run_case(name, text, out, &error)) {
		g_printerr("%s: %s\n", name, error->message);
		return FALSE;
	}
	if (update) {
		if (!g_file_set_contents(out_path, out->str, (gssize)out->len, &error)) {
			g_printerr("%s: %s\n", name, error->message);
			return FALSE;
		}
		return TRUE;
	}
	if (!g_file_get_contents(out_path, &expected, NULL, &error)) {
		g_printerr("%s: %s\n", name, error->message);
		return FALSE;
	}
	if (strcmp(expected, out->str) != 0) {
		g_printerr("%s: output differs\n--- expected\n%s--- got\n%s", name, expected,
		           out->str);
		return FALSE;
	}
	return TRUE;
}

static gint
compare_names(gconstpointer a, gconstpointer b)
{
	return strcmp(*(const gchar *const *)a, *(const gchar *const *)b);
}

int
main(int argc, char **argv)
{
	gboolean update = g_strcmp0(g_getenv("OSQ_GOLDEN_UPDATE"), "1") == 0;
	g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
	guint failed = 0;

	if (argc < 2) {
		g_printerr("usage: %s CASES_DIR [NAME...]\n", argv[0]);
		return 2;
	}
	if (argc > 2) {
		for (int i = 2; i < argc; i++)
			g_ptr_array_add(names, g_strdup(argv[i]));
	} else {
		g_autoptr(GDir) dir = g_dir_open(argv[1], 0, NULL);
		const gchar *entry = NULL;
		while (dir != NULL && (entry = g_dir_read_name(dir)) != NULL) {
			if (g_str_has_suffix(entry, ".json"))
				g_ptr_array_add(names, g_strndup(entry, strlen(entry) - 5));
		}
		g_ptr_array_sort(names, compare_names);
	}
	if (names->len == 0) {
		g_printerr("no cases in %s\n", argv[1]);
		return 1;
	}
	for (guint i = 0; i < names->len; i++) {
		if (check_case(argv[1], names->pdata[i], update))
			printf("ok %s\n", (const gchar *)names->pdata[i]);
		else
			failed++;
	}
	printf("%u of %u cases failed\n", failed, names->len);
	return failed > 0 ? 1 : 0;
}
