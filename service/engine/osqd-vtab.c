/* SPDX-License-Identifier: Apache-2.0
 *
 * The one virtual-table module behind every table. Each table is an eponymous virtual table
 * (module name = table name), so `SELECT * FROM processes` works without CREATE VIRTUAL TABLE.
 *
 * xBestIndex pushes constraints on index/required/additional/optimized columns down to the
 * generator: =, IN (all values at once, via sqlite3_vtab_in), ranges on non-TEXT columns, LIKE
 * and GLOB. It never sets `omit`, so SQLite re-checks every row and a generator may return a
 * superset. A table with required columns needs a usable constraint on one of them: a plan
 * without it is refused with SQLITE_CONSTRAINT (so SQLite tries another join order), and a query
 * that cannot supply it at all fails with a message naming the columns.
 *
 * The plan travels to xFilter in idxStr: "<colUsed hex>" then ";<column>,<op>,<in>" per argv.
 */
#include "config.h"

#include "osqd-engine-private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
	OsqdEngine *engine;
	const OsqdTable *table;
} OsqdVtabModule;

typedef struct {
	sqlite3_vtab base;
	OsqdEngine *engine;
	const OsqdTable *table;
} OsqdVtab;

typedef struct {
	sqlite3_vtab_cursor base;
	OsqdRowSink *sink;
	gboolean *used;
	guint position;
} OsqdVtabCursor;

static int
vtab_connect(sqlite3 *db, void *aux, int argc, const char *const *argv, sqlite3_vtab **out,
             char **error_message)
{
	OsqdVtabModule *module = aux;
	g_autofree gchar *columns = osqd_table_column_definition(module->table);
	g_autofree gchar *sql =
	        g_strdup_printf("CREATE TABLE `%s`(%s", module->table->name, columns);
	OsqdVtab *vtab;
	int rc;

	(void)argc;
	(void)argv;
	/* the authorizer lets our own declaration through, and nothing else */
	module->engine->declaring = TRUE;
	rc = sqlite3_declare_vtab(db, sql);
	module->engine->declaring = FALSE;
	if (rc != SQLITE_OK) {
		*error_message = sqlite3_mprintf("%s: bad declaration: %s", module->table->name,
		                                 sqlite3_errmsg(db));
		return rc;
	}
	vtab = sqlite3_malloc(sizeof(OsqdVtab));
	if (vtab == NULL)
		return SQLITE_NOMEM;
	memset(vtab, 0, sizeof(*vtab));
	vtab->engine = module->engine;
	vtab->table = module->table;
	*out = &vtab->base;
	return SQLITE_OK;
}

static int
vtab_disconnect(sqlite3_vtab *base)
{
	sqlite3_free(base);
	return SQLITE_OK;
}

static gboolean
op_is_pushed(int op)
{
	switch (op) {
	case SQLITE_INDEX_CONSTRAINT_EQ:
	case SQLITE_INDEX_CONSTRAINT_GT:
	case SQLITE_INDEX_CONSTRAINT_LE:
	case SQLITE_INDEX_CONSTRAINT_LT:
	case SQLITE_INDEX_CONSTRAINT_GE:
	case SQLITE_INDEX_CONSTRAINT_LIKE:
	case SQLITE_INDEX_CONSTRAINT_GLOB:
		return TRUE;
	default:
		return FALSE;
	}
}

static gboolean
op_is_range(int op)
{
	return op == SQLITE_INDEX_CONSTRAINT_GT || op == SQLITE_INDEX_CONSTRAINT_LE ||
	       op == SQLITE_INDEX_CONSTRAINT_LT || op == SQLITE_INDEX_CONSTRAINT_GE;
}

static gchar *
required_columns_message(const OsqdTable *table)
{
	g_autoptr(GString) names = g_string_new(NULL);
	guint count = 0, seen = 0;

	for (guint i = 0; i < table->n_columns; i++)
		count += (table->columns[i].flags & OSQD_COLUMN_FLAG_REQUIRED) != 0;
	for (guint i = 0; i < table->n_columns; i++) {
		if ((table->columns[i].flags & OSQD_COLUMN_FLAG_REQUIRED) == 0)
			continue;
		seen++;
		if (seen > 1)
			g_string_append(names, seen == count ? " or " : ", ");
		g_string_append(names, table->columns[i].name);
	}
	return g_strdup_printf("%s requires a constraint on %s", table->name, names->str);
}

static int
vtab_set_error(OsqdVtab *vtab, GError *error)
{
	OsqdEngine *engine = vtab->engine;
	int rc = SQLITE_ERROR;

	sqlite3_free(vtab->base.zErrMsg);
	vtab->base.zErrMsg = sqlite3_mprintf("%s", error->message);
	if (g_error_matches(error, OSQ_ERROR, OSQ_ERROR_CANCELLED) ||
	    g_error_matches(error, OSQ_ERROR, OSQ_ERROR_TIMED_OUT))
		rc = SQLITE_INTERRUPT;
	g_clear_error(&engine->generator_error);
	engine->generator_error = error;
	return rc;
}

static int
vtab_best_index(sqlite3_vtab *base, sqlite3_index_info *info)
{
	OsqdVtab *vtab = (OsqdVtab *)base;
	const OsqdTable *table = vtab->table;
	const guint pushable = OSQD_COLUMN_FLAG_INDEX | OSQD_COLUMN_FLAG_REQUIRED |
	                       OSQD_COLUMN_FLAG_ADDITIONAL | OSQD_COLUMN_FLAG_OPTIMIZED;
	g_autoptr(GString) plan = g_string_new(NULL);
	gboolean has_required = FALSE, required_seen = FALSE, required_usable = FALSE;
	gboolean has_equality = FALSE;
	int argv_index = 0;

	for (guint i = 0; i < table->n_columns; i++)
		has_required |= (table->columns[i].flags & OSQD_COLUMN_FLAG_REQUIRED) != 0;
	g_string_printf(plan, "%" G_GINT64_MODIFIER "x", (guint64)info->colUsed);
	for (int i = 0; i < info->nConstraint; i++) {
		const struct sqlite3_index_constraint *c = &info->aConstraint[i];
		const OsqdColumn *column;
		gboolean in_list = FALSE;

		if (c->iColumn < 0 || (guint)c->iColumn >= table->n_columns || !op_is_pushed(c->op))
			continue;
		column = &table->columns[c->iColumn];
		/* an event table's time is answered from the store's index */
		if ((column->flags & pushable) == 0 &&
		    !((table->flags & OSQD_TABLE_FLAG_EVENT) != 0 &&
		      g_str_equal(column->name, "time")))
			continue;
		if (column->type == OSQD_COLUMN_TYPE_TEXT && op_is_range(c->op))
			continue;
		if (column->flags & OSQD_COLUMN_FLAG_REQUIRED)
			required_seen = TRUE;
		if (!c->usable)
			continue;
		if (column->flags & OSQD_COLUMN_FLAG_REQUIRED)
			required_usable = TRUE;
		if (c->op == SQLITE_INDEX_CONSTRAINT_EQ) {
			has_equality = TRUE;
			in_list = sqlite3_vtab_in(info, i, -1) != 0;
			if (in_list)
				(void)sqlite3_vtab_in(info, i, 1);
		}
		info->aConstraintUsage[i].argvIndex = ++argv_index;
		g_string_append_printf(plan, ";%d,%d,%d", c->iColumn, c->op, in_list);
	}
	if (has_required && !required_usable) {
		if (required_seen)
			return SQLITE_CONSTRAINT;
		g_autofree gchar *message = required_columns_message(table);
		return vtab_set_error(
		        vtab, g_error_new_literal(OSQ_ERROR, OSQ_ERROR_CONSTRAINT, message));
	}
	/* A pushed equality makes a lookup, anything else pushed narrows the scan a little. */
	if (has_equality) {
		info->estimatedCost = 10;
		info->estimatedRows = 10;
	} else if (argv_index > 0) {
		info->estimatedCost = 1000;
		info->estimatedRows = 1000;
	} else {
		info->estimatedCost = 100000;
		info->estimatedRows = 100000;
	}
	info->idxStr = sqlite3_mprintf("%s", plan->str);
	if (info->idxStr == NULL)
		return SQLITE_NOMEM;
	info->needToFreeIdxStr = 1;
	return SQLITE_OK;
}

static int
vtab_open(sqlite3_vtab *base, sqlite3_vtab_cursor **out)
{
	OsqdVtabCursor *cursor = g_new0(OsqdVtabCursor, 1);

	(void)base;
	*out = &cursor->base;
	return SQLITE_OK;
}

static void
cursor_reset(OsqdVtabCursor *cursor)
{
	g_clear_pointer(&cursor->sink, osqd_row_sink_free);
	g_clear_pointer(&cursor->used, g_free);
	cursor->position = 0;
}

static int
vtab_close(sqlite3_vtab_cursor *base)
{
	OsqdVtabCursor *cursor = (OsqdVtabCursor *)base;

	cursor_reset(cursor);
	g_free(cursor);
	return SQLITE_OK;
}

static void
value_from_sqlite(OsqdValue *value, sqlite3_value *v)
{
	memset(value, 0, sizeof(*value));
	switch (sqlite3_value_type(v)) {
	case SQLITE_INTEGER:
		value->kind = OSQD_VALUE_INTEGER;
		value->integer = sqlite3_value_int64(v);
		break;
	case SQLITE_FLOAT:
		value->kind = OSQD_VALUE_DOUBLE;
		value->real = sqlite3_value_double(v);
		break;
	case SQLITE_TEXT:
	case SQLITE_BLOB: {
		const void *data = sqlite3_value_type(v) == SQLITE_TEXT
		                           ? (const void *)sqlite3_value_text(v)
		                           : sqlite3_value_blob(v);
		gsize len = (gsize)sqlite3_value_bytes(v);
		value->kind =
		        sqlite3_value_type(v) == SQLITE_TEXT ? OSQD_VALUE_TEXT : OSQD_VALUE_BLOB;
		value->bytes.data = g_malloc(len + 1);
		if (len > 0)
			memcpy(value->bytes.data, data, len);
		value->bytes.data[len] = '\0';
		value->bytes.len = len;
		break;
	}
	default:
		value->kind = OSQD_VALUE_NULL;
		break;
	}
}

static void
constraint_clear(gpointer data)
{
	osqd_value_clear(&((OsqdConstraint *)data)->value);
}

static void
constraints_add(GArray *constraints, guint column, int op, sqlite3_value *v)
{
	OsqdConstraint c = { .column = column, .op = (OsqdOp)op };

	/* A comparison with NULL matches nothing; SQLite drops those rows itself. */
	if (sqlite3_value_type(v) == SQLITE_NULL)
		return;
	value_from_sqlite(&c.value, v);
	g_array_append_val(constraints, c);
}

/* Parses idxStr into the used-columns mask and the constraint list. */
static gboolean
plan_parse(const OsqdTable *table, const char *plan, int argc, sqlite3_value **argv, gboolean *used,
           GArray *constraints)
{
	gchar *end = NULL;
	guint64 mask = g_ascii_strtoull(plan, &end, 16);

	for (guint i = 0; i < table->n_columns; i++)
		used[i] = i < 63 ? (mask >> i) & 1 : (mask >> 63) & 1;
	for (int arg = 0; arg < argc; arg++) {
		guint column;
		int op, in_list;
		sqlite3_value *item = NULL;

		if (end == NULL || *end != ';' ||
		    sscanf(end + 1, "%u,%d,%d", &column, &op, &in_list) != 3)
			return FALSE;
		end = strchr(end + 1, ';');
		if (column >= table->n_columns)
			return FALSE;
		if (in_list && sqlite3_vtab_in_first(argv[arg], &item) == SQLITE_OK) {
			while (item != NULL) {
				constraints_add(constraints, column, op, item);
				if (sqlite3_vtab_in_next(argv[arg], &item) != SQLITE_OK)
					item = NULL;
			}
			continue;
		}
		constraints_add(constraints, column, op, argv[arg]);
	}
	return TRUE;
}

static int
vtab_filter(sqlite3_vtab_cursor *base, int idx_num, const char *idx_str, int argc,
            sqlite3_value **argv)
{
	OsqdVtabCursor *cursor = (OsqdVtabCursor *)base;
	OsqdVtab *vtab = (OsqdVtab *)base->pVtab;
	OsqdEngine *engine = vtab->engine;
	const OsqdTable *table = vtab->table;
	g_autoptr(GArray) constraints = g_array_new(FALSE, TRUE, sizeof(OsqdConstraint));
	OsqdTableContext ctx = { 0 };
	GError *error = NULL;

	(void)idx_num;
	cursor_reset(cursor);
	g_array_set_clear_func(constraints, constraint_clear);
	cursor->used = g_new0(gboolean, table->n_columns);
	if (idx_str == NULL || !plan_parse(table, idx_str, argc, argv, cursor->used, constraints)) {
		g_set_error(&error, OSQ_ERROR, OSQ_ERROR_FAILED, "%s: bad query plan", table->name);
		return vtab_set_error(vtab, error);
	}
	ctx.table = table;
	ctx.root = engine->root;
	ctx.constraints = constraints;
	ctx.used = cursor->used;
	ctx.control = &engine->control;
	cursor->sink = osqd_row_sink_new(table, cursor->used);
	if (!osqd_query_control_check(&engine->control, &error))
		return vtab_set_error(vtab, error);
	if ((table->flags & OSQD_TABLE_FLAG_EVENT) != 0)
		engine->control.event_scans++;
	if (!table->generate(&ctx, cursor->sink, &error)) {
		if (error == NULL)
			g_set_error(&error, OSQ_ERROR, OSQ_ERROR_FAILED, "%s failed", table->name);
		return vtab_set_error(vtab, error);
	}
	if (engine->trace_func != NULL)
		engine->trace_func(&ctx, osqd_row_sink_get_count(cursor->sink), engine->trace_data);
	return SQLITE_OK;
}

static int
vtab_next(sqlite3_vtab_cursor *base)
{
	((OsqdVtabCursor *)base)->position++;
	return SQLITE_OK;
}

static int
vtab_eof(sqlite3_vtab_cursor *base)
{
	OsqdVtabCursor *cursor = (OsqdVtabCursor *)base;

	return cursor->sink == NULL || cursor->position >= osqd_row_sink_get_count(cursor->sink);
}

static int
vtab_column(sqlite3_vtab_cursor *base, sqlite3_context *context, int column)
{
	OsqdVtabCursor *cursor = (OsqdVtabCursor *)base;
	OsqdRow *row = osqd_row_sink_get_row(cursor->sink, cursor->position);
	const OsqdValue *value;

	if (row == NULL || column < 0 || (guint)column >= cursor->sink->table->n_columns) {
		sqlite3_result_null(context);
		return SQLITE_OK;
	}
	value = &row->values[column];
	switch (value->kind) {
	case OSQD_VALUE_INTEGER:
		sqlite3_result_int64(context, value->integer);
		break;
	case OSQD_VALUE_DOUBLE:
		sqlite3_result_double(context, value->real);
		break;
	case OSQD_VALUE_TEXT:
		sqlite3_result_text64(context, value->bytes.data, value->bytes.len,
		                      SQLITE_TRANSIENT, SQLITE_UTF8);
		break;
	case OSQD_VALUE_BLOB:
		sqlite3_result_blob64(context, value->bytes.data, value->bytes.len,
		                      SQLITE_TRANSIENT);
		break;
	default:
		sqlite3_result_null(context);
		break;
	}
	return SQLITE_OK;
}

static int
vtab_rowid(sqlite3_vtab_cursor *base, sqlite3_int64 *rowid)
{
	*rowid = ((OsqdVtabCursor *)base)->position;
	return SQLITE_OK;
}

/* SQLite calls this when the module goes (connection closed, or the table detached), also when
 * creating it failed. */
static void
vtab_module_free(void *data)
{
	OsqdVtabModule *module = data;

	osqd_table_unref(module->table);
	g_free(module);
}

static const sqlite3_module osqd_vtab_module = {
	.iVersion = 0,
	.xCreate = NULL, /* eponymous-only */
	.xConnect = vtab_connect,
	.xBestIndex = vtab_best_index,
	.xDisconnect = vtab_disconnect,
	.xDestroy = vtab_disconnect,
	.xOpen = vtab_open,
	.xClose = vtab_close,
	.xFilter = vtab_filter,
	.xNext = vtab_next,
	.xEof = vtab_eof,
	.xColumn = vtab_column,
	.xRowid = vtab_rowid,
};

gboolean
osqd_vtab_register(OsqdEngine *engine, const OsqdTable *table, GError **error)
{
	OsqdVtabModule *module = g_new0(OsqdVtabModule, 1);
	int rc;

	module->engine = engine;
	module->table = osqd_table_ref(table);
	rc = sqlite3_create_module_v2(engine->db, table->name, &osqd_vtab_module, module,
	                              vtab_module_free);
	if (rc != SQLITE_OK) {
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_FAILED, "cannot register table %s: %s",
		            table->name, sqlite3_errmsg(engine->db));
		return FALSE;
	}
	return TRUE;
}
