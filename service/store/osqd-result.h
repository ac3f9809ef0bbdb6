/* SPDX-License-Identifier: Apache-2.0
 *
 * A query's result as the scheduler keeps it: column names and rows of typed cells (NULL,
 * integer, double, text, as SQLite gave them). Differential results compare whole rows as a
 * multiset (osquery's rule): a current row that equals a stored one takes one occurrence of it;
 * what is left on either side is added or removed. Rows of different width never match.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
	OSQD_CELL_NULL,
	OSQD_CELL_INTEGER,
	OSQD_CELL_DOUBLE,
	OSQD_CELL_TEXT,
} OsqdCellKind;

typedef struct {
	OsqdCellKind kind;
	gint64 integer;
	gdouble real;
	gchar *text; /* TEXT (valid UTF-8) */
} OsqdCell;

typedef struct {
	guint n_columns;
	gchar **columns; /* NULL-terminated */
	GPtrArray *rows; /* OsqdCell[n_columns] each */
} OsqdResultSet;

OsqdResultSet *osqd_result_set_new(const gchar *const *columns);
void osqd_result_set_free(OsqdResultSet *set);
/* A new row of NULL cells; valid until the set is freed. */
OsqdCell *osqd_result_set_add_row(OsqdResultSet *set);
void osqd_cell_set_text(OsqdCell *cell, const gchar *text, gssize len);

gboolean osqd_cell_equal(const OsqdCell *a, const OsqdCell *b);

/* Rows of @current not in @previous (*added, indexes into current->rows) and rows of @previous
 * not in @current (*removed, indexes into previous->rows), as multisets. @previous may be NULL
 * (everything is added). Rows are compared cell by cell in column order. */
void osqd_result_set_diff(const OsqdResultSet *previous, const OsqdResultSet *current,
                          GArray **added, GArray **removed);

/* What is stored with a query's rows. */
typedef struct {
	gchar *sql;
	guint64 epoch;
	guint64 counter;
	gint64 updated;      /* unix time of the run that stored the rows */
	gint64 events_since; /* event queries: the last event id already logged */
} OsqdQueryMeta;

void osqd_query_meta_clear(OsqdQueryMeta *meta);

/* The protobuf QueryState's bytes for @set and @meta; and back (@meta may be NULL; its sql is
 * then the caller's: osqd_query_meta_clear()). */
GBytes *osqd_result_set_pack(const OsqdResultSet *set, const OsqdQueryMeta *meta);
OsqdResultSet *osqd_result_set_unpack(GBytes *bytes, OsqdQueryMeta *meta, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(OsqdResultSet, osqd_result_set_free)

G_END_DECLS
