/* SPDX-License-Identifier: Apache-2.0
 *
 * The table API: everything a table generator sees. A generator gets a context (the host root
 * prefix, the constraints SQLite pushed down, the columns the query uses, a deadline) and a row
 * sink to fill with typed values. It never sees SQLite. Column ids are the generated
 * OSQD_<TABLE>_COL_<COLUMN> enums, which are the column's position in its spec.
 */
#pragma once

#include <glib.h>

#include "osq-error.h"

G_BEGIN_DECLS

typedef enum {
	OSQD_COLUMN_TYPE_TEXT,
	OSQD_COLUMN_TYPE_INTEGER,
	OSQD_COLUMN_TYPE_BIGINT,
	OSQD_COLUMN_TYPE_UNSIGNED_BIGINT,
	OSQD_COLUMN_TYPE_DOUBLE,
	OSQD_COLUMN_TYPE_BLOB,
} OsqdColumnType;

/* The first five bits have osquery's ColumnOptions values, so they can go on the wire as-is. */
typedef enum {
	OSQD_COLUMN_FLAG_NONE = 0,
	OSQD_COLUMN_FLAG_INDEX = 1 << 0,
	OSQD_COLUMN_FLAG_REQUIRED = 1 << 1,
	OSQD_COLUMN_FLAG_ADDITIONAL = 1 << 2,
	OSQD_COLUMN_FLAG_OPTIMIZED = 1 << 3,
	OSQD_COLUMN_FLAG_HIDDEN = 1 << 4,
	OSQD_COLUMN_FLAG_SENSITIVE = 1 << 16, /* osq: only privileged peers may read it */
} OsqdColumnFlags;

/* osquery's TableAttributes bits, plus osq's own above them. */
typedef enum {
	OSQD_TABLE_FLAG_NONE = 0,
	OSQD_TABLE_FLAG_UTILITY = 1 << 0,
	OSQD_TABLE_FLAG_CACHEABLE = 1 << 1,
	OSQD_TABLE_FLAG_EVENT = 1 << 2,
	OSQD_TABLE_FLAG_USER_DATA = 1 << 3,
	OSQD_TABLE_FLAG_SENSITIVE = 1 << 16,
	OSQD_TABLE_FLAG_DYNAMIC = 1 << 17, /* added at run time: an OsqdDynamicTable */
} OsqdTableFlags;

typedef struct {
	const gchar *name;
	OsqdColumnType type;
	guint flags; /* OsqdColumnFlags */
	const gchar *description;
} OsqdColumn;

typedef struct _OsqdTableContext OsqdTableContext;
typedef struct _OsqdRowSink OsqdRowSink;
typedef struct _OsqdRow OsqdRow;

/* Fills @sink with the table's rows. Returns FALSE with @error set only when the table cannot
 * work at all; one unreadable row is skipped (g_debug) instead. Rows may be a superset of what
 * the constraints ask for: SQLite checks every constraint again. */
typedef gboolean (*OsqdTableGenerateFunc)(OsqdTableContext *ctx, OsqdRowSink *sink, GError **error);

typedef struct {
	const gchar *name;
	const gchar *description;
	const OsqdColumn *columns;
	guint n_columns;
	guint flags; /* OsqdTableFlags */
	OsqdTableGenerateFunc generate;
	gpointer user_data; /* for tables that are not built in (extensions) */
} OsqdTable;

/* A table added at run time (by an extension). Reference-counted, so that a connection that
 * still has it attached, or a scan in progress, keeps it alive after it left the registry;
 * @free_func frees the whole struct (names, columns, user data) when the last reference goes.
 * Its OsqdTable has OSQD_TABLE_FLAG_DYNAMIC set. */
typedef struct {
	OsqdTable table; /* first: a pointer to it is a pointer to the table */
	gint ref_count;
	GDestroyNotify free_func;
} OsqdDynamicTable;

/* A reference for dynamic tables; built-in tables live for the whole process and are returned
 * as they are. NULL-safe. */
const OsqdTable *osqd_table_ref(const OsqdTable *table);
void osqd_table_unref(const OsqdTable *table);

/* Constraint operators, numerically SQLite's SQLITE_INDEX_CONSTRAINT_* (as osquery's are). */
typedef enum {
	OSQD_OP_EQ = 2,
	OSQD_OP_GT = 4,
	OSQD_OP_LE = 8,
	OSQD_OP_LT = 16,
	OSQD_OP_GE = 32,
	OSQD_OP_LIKE = 65,
	OSQD_OP_GLOB = 66,
} OsqdOp;

typedef enum {
	OSQD_VALUE_NULL,
	OSQD_VALUE_INTEGER,
	OSQD_VALUE_DOUBLE,
	OSQD_VALUE_TEXT,
	OSQD_VALUE_BLOB,
} OsqdValueKind;

typedef struct {
	OsqdValueKind kind;
	union {
		gint64 integer;
		gdouble real;
		struct {
			gchar *data; /* NUL-terminated for TEXT (and for BLOB, for convenience) */
			gsize len;
		} bytes;
	};
} OsqdValue;

typedef struct {
	guint column;
	OsqdOp op;
	OsqdValue value;
} OsqdConstraint;

/* ---- context ---- */

const OsqdTable *osqd_table_context_get_table(OsqdTableContext *ctx);

/* The host root prefix ("/" on a live system, a fixture tree in tests); no trailing slash
 * except for "/" itself. */
const gchar *osqd_table_context_get_root(OsqdTableContext *ctx);

/* Formats an absolute host path and puts the root prefix in front of it:
 * osqd_table_context_path(ctx, "/proc/%d/stat", pid) -> "<root>/proc/<pid>/stat". */
gchar *osqd_table_context_path(OsqdTableContext *ctx, const gchar *format, ...) G_GNUC_PRINTF(2, 3);

/* TRUE when the query reads @column (SELECT list, WHERE, ORDER BY...). Generators skip the
 * work behind unused columns; setting an unused column on a row is a cheap no-op. */
gboolean osqd_table_context_column_used(OsqdTableContext *ctx, guint column);

/* All pushed-down constraints, IN lists expanded into one OSQD_OP_EQ entry per value. */
const OsqdConstraint *osqd_table_context_get_constraints(OsqdTableContext *ctx,
                                                         guint *n_constraints);

gboolean osqd_table_context_has_constraint(OsqdTableContext *ctx, guint column, OsqdOp op);

/* The values of every `column = x` and `column IN (...)` constraint, deduplicated and sorted;
 * NULL when there is none (the generator must then scan everything). Values that cannot be an
 * integer are dropped, so an empty array means "no row can match". */
GArray *osqd_table_context_int_equals(OsqdTableContext *ctx, guint column);

/* The same for text: a GPtrArray of gchar*, deduplicated and sorted (byte order), NULL when
 * there is no equality constraint. */
GPtrArray *osqd_table_context_text_equals(OsqdTableContext *ctx, guint column);

/* The patterns of every `column LIKE x` constraint (GPtrArray of gchar*), NULL if none. */
GPtrArray *osqd_table_context_text_likes(OsqdTableContext *ctx, guint column);

/* Event tables: the id of the last event the scheduled query running this scan has already
 * been given (0: all, e.g. for an ad hoc query); the generator returns only later events and
 * notes the id of each one it returns, so that query's next run starts after them. */
gint64 osqd_table_context_get_events_since(OsqdTableContext *ctx);
void osqd_table_context_note_event(OsqdTableContext *ctx, gint64 event_id);
/* The most events a scan should return, oldest first (0: no limit). */
gint64 osqd_table_context_get_events_limit(OsqdTableContext *ctx);

/* FALSE for queries of an osqd client that may not read sensitive data: a table must not read
 * other files on its behalf (deb_packages refuses another admindir). */
gboolean osqd_table_context_is_privileged(OsqdTableContext *ctx);

/* FALSE (with OSQ_ERROR_CANCELLED or OSQ_ERROR_TIMED_OUT) once the query was interrupted or
 * passed its deadline. Generators call it between files, processes, packages... */
gboolean osqd_table_context_check(OsqdTableContext *ctx, GError **error);

/* ---- rows ---- */

/* Appends a row whose values are all NULL. The pointer is valid until the next append. */
OsqdRow *osqd_row_sink_append(OsqdRowSink *sink);

guint osqd_row_sink_get_count(OsqdRowSink *sink);

void osqd_row_set_int(OsqdRow *row, guint column, gint64 value);
void osqd_row_set_double(OsqdRow *row, guint column, gdouble value);
/* Copies @text (NULL sets NULL); invalid UTF-8 is replaced so clients always get valid text. */
void osqd_row_set_text(OsqdRow *row, guint column, const gchar *text);
void osqd_row_set_text_len(OsqdRow *row, guint column, const gchar *text, gssize len);
/* Takes ownership of @text (g_malloc'd, or NULL). */
void osqd_row_take_text(OsqdRow *row, guint column, gchar *text);
void osqd_row_set_printf(OsqdRow *row, guint column, const gchar *format, ...) G_GNUC_PRINTF(3, 4);
void osqd_row_set_blob(OsqdRow *row, guint column, gconstpointer data, gsize len);
void osqd_row_set_null(OsqdRow *row, guint column);

/* ---- helpers shared by generators ---- */

/* Reads a whole (small, pseudo) file such as /proc/<pid>/stat; sets errno-style GIOErrorEnum
 * codes (G_FILE_ERROR, g_file_error_from_errno) so callers can tell ENOENT from EACCES. @max caps
 * the size read. */
gboolean osqd_read_file(const gchar *path, gsize max, gchar **contents, gsize *length,
                        GError **error);

/* Reads from @fd's current offset to its end, at most @max bytes (0: no cap); the result is
 * NUL-terminated. Does not close @fd. */
gboolean osqd_read_fd(int fd, gsize max, gchar **contents, gsize *length, GError **error);

/* Returns a copy of @text with invalid UTF-8 sequences replaced by U+FFFD. */
gchar *osqd_utf8_make_valid(const gchar *text, gssize len);

G_END_DECLS
