/* SPDX-License-Identifier: Apache-2.0
 *
 * Column types of a statement that has not run, as osquery's getQueryColumns reports them.
 * A table column has a declared type. For an expression, the statement's EXPLAIN program is
 * read once, in order, following which register each typed opcode writes: integer literals
 * give INTEGER, 64-bit ones BIGINT, strings and concatenation TEXT, arithmetic and aggregate
 * steps BIGINT, comparisons and AND/OR INTEGER, a CAST its target's type; Copy and SCopy move a
 * register's type. At each ResultRow the registers it returns give the columns their types.
 * Beyond osquery, a REAL literal gives DOUBLE (osquery leaves it UNKNOWN) and a NULL forgets
 * what a register held (so NULL AS x is UNKNOWN, not the type of an earlier value).
 */
#include "config.h"

#include "osqd-engine.h"

#include <string.h>

#include "osq-error.h"

typedef enum {
	OSQD_TYPE_UNKNOWN,
	OSQD_TYPE_TEXT,
	OSQD_TYPE_INTEGER,
	OSQD_TYPE_BIGINT,
	OSQD_TYPE_DOUBLE,
	OSQD_TYPE_BLOB,
} OsqdInferredType;

static const gchar *const osqd_type_names[] = {
	[OSQD_TYPE_UNKNOWN] = "UNKNOWN", [OSQD_TYPE_TEXT] = "TEXT",
	[OSQD_TYPE_INTEGER] = "INTEGER", [OSQD_TYPE_BIGINT] = "BIGINT",
	[OSQD_TYPE_DOUBLE] = "DOUBLE",   [OSQD_TYPE_BLOB] = "BLOB",
};

/* An opcode that leaves a value of a known type in one of its operands. */
typedef struct {
	const gchar *name;
	guint operand; /* 1, 2 or 3: which of p1, p2, p3 is the output register */
	OsqdInferredType type;
} OsqdTypedOpcode;

static const OsqdTypedOpcode osqd_typed_opcodes[] = {
	{ "Integer", 2, OSQD_TYPE_INTEGER },  { "Int64", 2, OSQD_TYPE_BIGINT },
	{ "Real", 2, OSQD_TYPE_DOUBLE },      { "String", 2, OSQD_TYPE_TEXT },
	{ "String8", 2, OSQD_TYPE_TEXT },     { "Concat", 3, OSQD_TYPE_TEXT },
	{ "AggStep", 3, OSQD_TYPE_BIGINT },   { "AggStep0", 3, OSQD_TYPE_BIGINT },
	{ "Or", 3, OSQD_TYPE_INTEGER },       { "And", 3, OSQD_TYPE_INTEGER },
	{ "BitAnd", 3, OSQD_TYPE_BIGINT },    { "BitOr", 3, OSQD_TYPE_BIGINT },
	{ "ShiftLeft", 3, OSQD_TYPE_BIGINT }, { "ShiftRight", 3, OSQD_TYPE_BIGINT },
	{ "Add", 3, OSQD_TYPE_BIGINT },       { "Subtract", 3, OSQD_TYPE_BIGINT },
	{ "Multiply", 3, OSQD_TYPE_BIGINT },  { "Divide", 3, OSQD_TYPE_BIGINT },
	{ "Remainder", 3, OSQD_TYPE_BIGINT }, { "Eq", 2, OSQD_TYPE_INTEGER },
	{ "Ne", 2, OSQD_TYPE_INTEGER },       { "Lt", 2, OSQD_TYPE_INTEGER },
	{ "Le", 2, OSQD_TYPE_INTEGER },       { "Gt", 2, OSQD_TYPE_INTEGER },
	{ "Ge", 2, OSQD_TYPE_INTEGER },
};

static OsqdInferredType
types_from_affinity(gint64 affinity)
{
	switch (affinity) {
	case 'A':
		return OSQD_TYPE_BLOB;
	case 'B':
		return OSQD_TYPE_TEXT;
	case 'D':
		return OSQD_TYPE_BIGINT;
	case 'E':
		return OSQD_TYPE_DOUBLE;
	default: /* NUMERIC and anything else */
		return OSQD_TYPE_UNKNOWN;
	}
}

static void
types_set(GHashTable *registers, gint64 reg, OsqdInferredType type)
{
	g_hash_table_insert(registers, g_memdup2(&reg, sizeof(reg)), GINT_TO_POINTER(type + 1));
}

/* Moves the type of register @from (if known) to @to. */
static void
types_move(GHashTable *registers, gint64 from, gint64 to)
{
	gpointer type = g_hash_table_lookup(registers, &from);

	if (type == NULL)
		return;
	g_hash_table_remove(registers, &from);
	types_set(registers, to, (OsqdInferredType)(GPOINTER_TO_INT(type) - 1));
}

/* One EXPLAIN row: follows the registers, fills @types at a ResultRow. */
static void
types_follow(GHashTable *registers, sqlite3_stmt *program, OsqdInferredType *types,
             const gboolean *declared, gint n_columns)
{
	const gchar *opcode = (const gchar *)sqlite3_column_text(program, 1);
	gint64 p[4] = { 0, sqlite3_column_int64(program, 2), sqlite3_column_int64(program, 3),
		        sqlite3_column_int64(program, 4) };

	if (opcode == NULL)
		return;
	if (strcmp(opcode, "ResultRow") == 0) {
		for (gint i = 0; i < n_columns; i++) {
			gint64 reg = p[1] + i;
			gpointer type = g_hash_table_lookup(registers, &reg);
			if (!declared[i] && type != NULL)
				types[i] = (OsqdInferredType)(GPOINTER_TO_INT(type) - 1);
		}
		return;
	}
	if (strcmp(opcode, "Copy") == 0) {
		/* registers p1..p1+p3 into p2..p2+p3 */
		for (gint64 i = 0; i <= p[3] && i < 1024; i++)
			types_move(registers, p[1] + i, p[2] + i);
		return;
	}
	if (strcmp(opcode, "SCopy") == 0) {
		types_move(registers, p[1], p[2]);
		return;
	}
	if (strcmp(opcode, "Null") == 0) {
		/* registers p2..p3 become NULL: whatever was known of them is gone */
		for (gint64 reg = p[2]; reg <= MAX(p[2], p[3]) && reg - p[2] < 1024; reg++)
			g_hash_table_remove(registers, &reg);
		return;
	}
	if (strcmp(opcode, "Cast") == 0) {
		types_set(registers, p[1], types_from_affinity(p[2]));
		return;
	}
	for (gsize i = 0; i < G_N_ELEMENTS(osqd_typed_opcodes); i++) {
		if (strcmp(opcode, osqd_typed_opcodes[i].name) == 0) {
			types_set(registers, p[osqd_typed_opcodes[i].operand],
			          osqd_typed_opcodes[i].type);
			return;
		}
	}
}

const gchar **
osqd_engine_infer_column_types(OsqdEngine *engine, sqlite3_stmt *stmt, GError **error)
{
	gint n = sqlite3_column_count(stmt);
	g_autofree OsqdInferredType *types = g_new0(OsqdInferredType, n + 1);
	g_autofree gboolean *declared = g_new0(gboolean, n + 1);
	g_autofree const gchar **names = g_new0(const gchar *, n + 1);
	gboolean all_declared = TRUE;

	for (gint i = 0; i < n; i++) {
		const gchar *decl = sqlite3_column_decltype(stmt, i);
		declared[i] = decl != NULL && decl[0] != '\0';
		all_declared = all_declared && declared[i];
	}
	if (!all_declared) {
		g_autoptr(GHashTable) registers =
		        g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
		g_autofree gchar *sql = g_strconcat("EXPLAIN ", sqlite3_sql(stmt), NULL);
		sqlite3_stmt *program = osqd_engine_prepare(engine, sql, NULL, error);
		gint rc;
		if (program == NULL)
			return NULL;
		while ((rc = osqd_engine_step(engine, program, error)) == SQLITE_ROW)
			types_follow(registers, program, types, declared, n);
		(void)sqlite3_finalize(program);
		if (rc < 0)
			return NULL;
	}
	for (gint i = 0; i < n; i++) {
		/* the declared type's text lives as long as the statement */
		names[i] =
		        declared[i] ? sqlite3_column_decltype(stmt, i) : osqd_type_names[types[i]];
	}
	return g_steal_pointer(&names);
}
