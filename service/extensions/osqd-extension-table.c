/* SPDX-License-Identifier: Apache-2.0
 *
 * Extension tables (see the header). The context JSON has osquery's shape: one entry per column,
 * sorted by name, with the pushed-down constraints (operator codes as SQLite's, the value as
 * text) and the column's type as its affinity, then the used columns and their bitset. Rows come
 * back as string maps: a missing key is NULL, numbers that do not parse are NULL (as osquery
 * reads them), text is made valid UTF-8, unknown keys are ignored. A generate that returns more
 * rows than the cap, or a reply over the byte cap, fails the query with a clear error.
 */
#include "config.h"

#include "osqd-extension-table.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "osqd-extension-client.h"
#include "osqd-registry.h"

#define OSQD_EXTENSION_MAX_NAME    128
#define OSQD_EXTENSION_MAX_COLUMNS 1024

typedef struct {
	OsqdDynamicTable base;
	gchar *item;        /* the plugin name the extension knows */
	gchar *socket_path; /* <manager>.<uuid> */
	gint64 uuid;
	gint64 bind_deadline; /* monotonic: the extension's socket may not exist before */
	OsqdExtensionsConfig config;
	OsqdColumn *columns;
	gint *alias_of;           /* per column: the column it copies, or -1 */
	GHashTable *column_index; /* name -> index + 1 */
} OsqdExtensionTable;

static void
extension_table_free(gpointer data)
{
	OsqdExtensionTable *table = data;

	for (guint i = 0; i < table->base.table.n_columns; i++)
		g_free((gchar *)table->columns[i].name);
	g_free(table->columns);
	g_free(table->alias_of);
	if (table->column_index != NULL)
		g_hash_table_unref(table->column_index);
	g_free((gchar *)table->base.table.name);
	g_free((gchar *)table->base.table.description);
	g_free(table->item);
	g_free(table->socket_path);
	g_free(table);
}

gboolean
osqd_extension_table_name_is_valid(const gchar *name)
{
	gsize len = name != NULL ? strlen(name) : 0;

	if (len == 0 || len > OSQD_EXTENSION_MAX_NAME ||
	    !(g_ascii_isalpha(name[0]) || name[0] == '_'))
		return FALSE;
	for (gsize i = 1; i < len; i++) {
		if (!(g_ascii_isalnum(name[i]) || name[i] == '_'))
			return FALSE;
	}
	return TRUE;
}

/* Column names go into a CREATE TABLE between backticks: no backtick, quote, control byte. */
static gboolean
extension_column_name_is_valid(const gchar *name)
{
	gsize len = name != NULL ? strlen(name) : 0;

	if (len == 0 || len > OSQD_EXTENSION_MAX_NAME || !g_utf8_validate(name, -1, NULL))
		return FALSE;
	for (gsize i = 0; i < len; i++) {
		guchar c = (guchar)name[i];
		if (c < 0x20 || c == 0x7f || c == '`' || c == '"' || c == '\'' || c == '[' ||
		    c == ']')
			return FALSE;
	}
	return TRUE;
}

static OsqdColumnType
extension_column_type(const gchar *name)
{
	static const struct {
		const gchar *name;
		OsqdColumnType type;
	} types[] = {
		{ "TEXT", OSQD_COLUMN_TYPE_TEXT },
		{ "INTEGER", OSQD_COLUMN_TYPE_INTEGER },
		{ "BIGINT", OSQD_COLUMN_TYPE_BIGINT },
		{ "UNSIGNED BIGINT", OSQD_COLUMN_TYPE_UNSIGNED_BIGINT },
		{ "DOUBLE", OSQD_COLUMN_TYPE_DOUBLE },
		{ "BLOB", OSQD_COLUMN_TYPE_BLOB },
	};

	for (gsize i = 0; i < G_N_ELEMENTS(types); i++) {
		if (g_strcmp0(name, types[i].name) == 0)
			return types[i].type;
	}
	/* UNKNOWN and names osquery does not know: text, which keeps the value as sent */
	return OSQD_COLUMN_TYPE_TEXT;
}

GPtrArray *
osqd_extension_table_aliases(GPtrArray *routes)
{
	GPtrArray *aliases = g_ptr_array_new();

	for (guint i = 0; routes != NULL && i < routes->len; i++) {
		GHashTable *route = routes->pdata[i];
		const gchar *alias = g_hash_table_lookup(route, "alias");
		if (g_strcmp0(g_hash_table_lookup(route, "id"), "alias") == 0 && alias != NULL)
			g_ptr_array_add(aliases, (gpointer)alias);
	}
	return aliases;
}

/* ---- generate ---- */

typedef struct {
	OsqdExtensionTable *table;
	OsqdTableContext *ctx;
	OsqdRowSink *sink;
	OsqdRow *row;
	guint64 rows;
} OsqdExtensionScan;

static gboolean
scan_check_cb(gpointer user_data, GError **error)
{
	OsqdExtensionScan *scan = user_data;

	return osqd_table_context_check(scan->ctx, error);
}

static gboolean
scan_row_begin_cb(gpointer user_data, GError **error)
{
	OsqdExtensionScan *scan = user_data;

	if (scan->table->config.max_rows > 0 && scan->rows >= scan->table->config.max_rows) {
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_LIMIT,
		            "extension table %s returned more than %" G_GUINT64_FORMAT " rows",
		            scan->table->base.table.name, scan->table->config.max_rows);
		return FALSE;
	}
	/* a long reply is being typed: a cancel or deadline still ends it */
	if ((scan->rows & 4095) == 4095 && !osqd_table_context_check(scan->ctx, error))
		return FALSE;
	scan->rows++;
	scan->row = osqd_row_sink_append(scan->sink);
	return TRUE;
}

/* Sets column @column of the current row from the text @value, by the column's type. */
static void
scan_set(OsqdExtensionScan *scan, guint column, const gchar *value, gsize len)
{
	const OsqdColumn *def = &scan->table->columns[column];
	gchar number[64];
	gchar *end = NULL;

	switch (def->type) {
	case OSQD_COLUMN_TYPE_INTEGER:
	case OSQD_COLUMN_TYPE_BIGINT:
	case OSQD_COLUMN_TYPE_UNSIGNED_BIGINT:
	case OSQD_COLUMN_TYPE_DOUBLE:
		/* empty, too long or unparsable: NULL, as osquery reads it */
		if (len == 0 || len >= sizeof(number))
			return;
		memcpy(number, value, len);
		number[len] = '\0';
		errno = 0;
		if (def->type == OSQD_COLUMN_TYPE_DOUBLE) {
			gdouble real = g_ascii_strtod(number, &end);
			if (end != number && *end == '\0')
				osqd_row_set_double(scan->row, column, real);
		} else if (def->type == OSQD_COLUMN_TYPE_UNSIGNED_BIGINT && number[0] != '-') {
			guint64 unsigned_value = g_ascii_strtoull(number, &end, 10);
			if (end != number && *end == '\0' && errno == 0)
				osqd_row_set_int(scan->row, column, (gint64)unsigned_value);
		} else {
			gint64 integer = g_ascii_strtoll(number, &end, 10);
			if (end != number && *end == '\0' && errno == 0)
				osqd_row_set_int(scan->row, column, integer);
		}
		return;
	case OSQD_COLUMN_TYPE_TEXT:
	case OSQD_COLUMN_TYPE_BLOB:
	default:
		osqd_row_set_text_len(scan->row, column, value, (gssize)len);
		return;
	}
}

static gboolean
scan_cell_cb(const gchar *key, gsize key_len, const gchar *value, gsize value_len,
             gpointer user_data, GError **error)
{
	OsqdExtensionScan *scan = user_data;
	OsqdExtensionTable *table = scan->table;
	gchar name[OSQD_EXTENSION_MAX_NAME + 1];
	guint column;

	if (key_len > OSQD_EXTENSION_MAX_NAME)
		return TRUE; /* no column has such a name */
	memcpy(name, key, key_len);
	name[key_len] = '\0';
	column = GPOINTER_TO_UINT(g_hash_table_lookup(table->column_index, name));
	if (column == 0)
		return TRUE; /* keys that are not columns (rowid...) are ignored */
	column--;
	scan_set(scan, column, value, value_len);
	/* hidden alias columns copy their target */
	for (guint i = 0; i < table->base.table.n_columns; i++) {
		if (table->alias_of[i] == (gint)column)
			scan_set(scan, i, value, value_len);
	}
	return TRUE;
}

static void
json_append_string(GString *out, const gchar *text, gssize len)
{
	const gchar *end = text + (len < 0 ? (gssize)strlen(text) : len);

	g_string_append_c(out, '"');
	for (const gchar *p = text; p < end; p++) {
		guchar c = (guchar)*p;
		if (c == '"' || c == '\\') {
			g_string_append_c(out, '\\');
			g_string_append_c(out, (gchar)c);
		} else if (c < 0x20) {
			g_string_append_printf(out, "\\u%04x", c);
		} else {
			g_string_append_c(out, (gchar)c);
		}
	}
	g_string_append_c(out, '"');
}

static gint
compare_column_names(gconstpointer a, gconstpointer b, gpointer user_data)
{
	const OsqdTable *table = user_data;

	return strcmp(table->columns[*(const guint *)a].name,
	              table->columns[*(const guint *)b].name);
}

gchar *
osqd_extension_table_context_json(OsqdTableContext *ctx)
{
	const OsqdTable *table = osqd_table_context_get_table(ctx);
	g_autoptr(GArray) order = g_array_sized_new(FALSE, FALSE, sizeof(guint), table->n_columns);
	GString *out = g_string_new("{\"constraints\":[");
	guint n_constraints = 0;
	const OsqdConstraint *constraints = osqd_table_context_get_constraints(ctx, &n_constraints);
	guint64 bitset = 0;
	gboolean first_used = TRUE;

	for (guint i = 0; i < table->n_columns; i++)
		g_array_append_val(order, i);
	g_array_sort_with_data(order, compare_column_names, (gpointer)table);
	for (guint k = 0; k < order->len; k++) {
		guint column = g_array_index(order, guint, k);
		gboolean first = TRUE;
		if (k > 0)
			g_string_append_c(out, ',');
		g_string_append(out, "{\"name\":");
		json_append_string(out, table->columns[column].name, -1);
		g_string_append(out, ",\"list\":[");
		for (guint c = 0; c < n_constraints; c++) {
			const OsqdConstraint *constraint = &constraints[c];
			g_autofree gchar *expr = NULL;
			if (constraint->column != column)
				continue;
			switch (constraint->value.kind) {
			case OSQD_VALUE_INTEGER:
				expr = g_strdup_printf("%" G_GINT64_FORMAT,
				                       constraint->value.integer);
				break;
			case OSQD_VALUE_DOUBLE: {
				gchar buf[G_ASCII_DTOSTR_BUF_SIZE];
				expr = g_strdup(
				        g_ascii_dtostr(buf, sizeof(buf), constraint->value.real));
				break;
			}
			case OSQD_VALUE_TEXT:
			case OSQD_VALUE_BLOB:
				expr = g_strndup(constraint->value.bytes.data,
				                 constraint->value.bytes.len);
				break;
			case OSQD_VALUE_NULL:
			default:
				break;
			}
			/* osquery skips what it cannot show as text: NULL and empty values */
			if (expr == NULL || expr[0] == '\0')
				continue;
			if (!first)
				g_string_append_c(out, ',');
			first = FALSE;
			g_string_append_printf(out, "{\"op\":%d,\"expr\":", (gint)constraint->op);
			json_append_string(out, expr, -1);
			g_string_append_c(out, '}');
		}
		g_string_append(out, "],\"affinity\":");
		json_append_string(out, osqd_column_type_to_string(table->columns[column].type),
		                   -1);
		g_string_append_c(out, '}');
	}
	g_string_append(out, "],\"colsUsed\":[");
	for (guint i = 0; i < table->n_columns; i++) {
		if (!osqd_table_context_column_used(ctx, i))
			continue;
		if (!first_used)
			g_string_append_c(out, ',');
		first_used = FALSE;
		json_append_string(out, table->columns[i].name, -1);
		bitset |= i < 63 ? (G_GUINT64_CONSTANT(1) << i) : (G_GUINT64_CONSTANT(1) << 63);
	}
	g_string_append_printf(out, "],\"colsUsedBitset\":%" G_GUINT64_FORMAT "}", bitset);
	return g_string_free(out, FALSE);
}

static gboolean
extension_table_generate(OsqdTableContext *ctx, OsqdRowSink *sink, GError **error)
{
	OsqdExtensionTable *table =
	        (OsqdExtensionTable *)(gpointer)osqd_table_context_get_table(ctx);
	g_autoptr(GHashTable) request =
	        g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
	g_autofree gchar *message = NULL;
	OsqdExtensionScan scan = { .table = table, .ctx = ctx, .sink = sink };
	OsqdExtensionCallOptions options = {
		.deadline = g_get_monotonic_time() + (gint64)table->config.call_timeout_ms * 1000,
		.max_reply = table->config.max_reply,
		.bind_deadline = table->bind_deadline,
		.check = scan_check_cb,
		.check_data = &scan,
	};
	OsqdExtensionRowVisitor visitor = {
		.row_begin = scan_row_begin_cb,
		.cell = scan_cell_cb,
		.user_data = &scan,
	};
	gint32 code = 1;

	g_hash_table_insert(request, "action", g_strdup("generate"));
	g_hash_table_insert(request, "context", osqd_extension_table_context_json(ctx));
	if (!osqd_extension_call(table->socket_path, "table", table->item, request, &options,
	                         &visitor, &code, &message, error)) {
		g_prefix_error(error, "extension table %s: ", table->base.table.name);
		return FALSE;
	}
	if (code != 0) {
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_FAILED, "extension table %s: %s",
		            table->base.table.name,
		            message != NULL && message[0] != '\0' ? message : "generate failed");
		return FALSE;
	}
	return TRUE;
}

/* ---- construction ---- */

OsqdDynamicTable *
osqd_extension_table_new(const gchar *name, const gchar *item, GPtrArray *routes,
                         const gchar *socket_path, gint64 uuid, const OsqdExtensionsConfig *config,
                         GError **error)
{
	OsqdExtensionTable *table;
	g_autoptr(GArray) columns = g_array_new(FALSE, TRUE, sizeof(OsqdColumn));
	g_autoptr(GArray) targets = g_array_new(FALSE, FALSE, sizeof(gchar *));
	guint flags = OSQD_TABLE_FLAG_DYNAMIC;

	if (!osqd_extension_table_name_is_valid(name)) {
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_INVALID_ARGUMENT,
		            "Invalid route info: %s is not a valid table name", name);
		return NULL;
	}
	for (guint i = 0; routes != NULL && i < routes->len; i++) {
		GHashTable *route = routes->pdata[i];
		const gchar *id = g_hash_table_lookup(route, "id");
		const gchar *column_name = g_hash_table_lookup(route, "name");
		if (g_strcmp0(id, "column") == 0 || g_strcmp0(id, "columnAlias") == 0) {
			const gchar *type = g_hash_table_lookup(route, "type");
			const gchar *op = g_hash_table_lookup(route, "op");
			const gchar *target = g_hash_table_lookup(route, "target");
			OsqdColumn column = { 0 };
			gboolean alias = g_strcmp0(id, "columnAlias") == 0;
			guint64 options = op != NULL ? g_ascii_strtoull(op, NULL, 10) : 0;
			/* osquery ignores column entries without a name or type */
			if (column_name == NULL || (!alias && type == NULL) ||
			    (alias && target == NULL))
				continue;
			if (!extension_column_name_is_valid(column_name)) {
				g_set_error(error, OSQ_ERROR, OSQ_ERROR_INVALID_ARGUMENT,
				            "Invalid route info: bad column name in table %s",
				            name);
				return NULL;
			}
			if (columns->len >= OSQD_EXTENSION_MAX_COLUMNS) {
				g_set_error(error, OSQ_ERROR, OSQ_ERROR_LIMIT,
				            "Invalid route info: table %s has more than %d columns",
				            name, OSQD_EXTENSION_MAX_COLUMNS);
				return NULL;
			}
			column.name = column_name;
			column.type = extension_column_type(type);
			column.flags = (guint)(options & 0x1f);
			if (alias)
				column.flags = OSQD_COLUMN_FLAG_HIDDEN;
			else if (column.flags == 0 && config->default_index)
				column.flags = OSQD_COLUMN_FLAG_INDEX;
			column.description = alias ? "Alias of another column." : "";
			g_array_append_val(columns, column);
			{
				const gchar *copy_of = alias ? target : NULL;
				g_array_append_val(targets, copy_of);
			}
		} else if (g_strcmp0(id, "attributes") == 0) {
			const gchar *bits = g_hash_table_lookup(route, "attributes");
			guint64 value = bits != NULL ? g_ascii_strtoull(bits, NULL, 10) : 0;
			flags |= (guint)(value &
			                 (OSQD_TABLE_FLAG_UTILITY | OSQD_TABLE_FLAG_CACHEABLE |
			                  OSQD_TABLE_FLAG_EVENT | OSQD_TABLE_FLAG_USER_DATA));
		}
	}
	if (columns->len == 0) {
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_INVALID_ARGUMENT,
		            "Invalid route info: table %s has no columns", name);
		return NULL;
	}
	table = g_new0(OsqdExtensionTable, 1);
	table->base.ref_count = 1;
	table->base.free_func = extension_table_free;
	table->base.table.name = g_strdup(name);
	table->base.table.description =
	        g_strdup_printf("Served by extension %" G_GINT64_FORMAT ".", uuid);
	table->base.table.flags = flags;
	table->base.table.generate = extension_table_generate;
	table->item = g_strdup(item);
	table->socket_path = g_strdup(socket_path);
	table->uuid = uuid;
	table->config = *config;
	table->bind_deadline = g_get_monotonic_time() + (gint64)config->timeout_ms * 1000;
	table->columns = g_new0(OsqdColumn, columns->len);
	table->alias_of = g_new0(gint, columns->len);
	table->column_index = g_hash_table_new(g_str_hash, g_str_equal);
	table->base.table.columns = table->columns;
	for (guint i = 0; i < columns->len; i++) {
		table->columns[i] = g_array_index(columns, OsqdColumn, i);
		table->columns[i].name = g_strdup(table->columns[i].name);
		table->alias_of[i] = -1;
		table->base.table.n_columns = i + 1;
		/* a name given twice: the first column keeps it */
		if (!g_hash_table_contains(table->column_index, table->columns[i].name))
			g_hash_table_insert(table->column_index, (gpointer)table->columns[i].name,
			                    GUINT_TO_POINTER(i + 1));
	}
	for (guint i = 0; i < columns->len; i++) {
		const gchar *target = g_array_index(targets, const gchar *, i);
		guint index;
		if (target == NULL)
			continue;
		index = GPOINTER_TO_UINT(g_hash_table_lookup(table->column_index, target));
		if (index == 0 || table->alias_of[index - 1] >= 0) {
			g_set_error(
			        error, OSQ_ERROR, OSQ_ERROR_INVALID_ARGUMENT,
			        "Invalid route info: column alias %s of table %s names no column",
			        table->columns[i].name, name);
			osqd_table_unref(&table->base.table);
			return NULL;
		}
		table->alias_of[i] = (gint)index - 1;
		table->columns[i].type = table->columns[index - 1].type;
	}
	return &table->base;
}
