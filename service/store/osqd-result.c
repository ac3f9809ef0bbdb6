/* SPDX-License-Identifier: Apache-2.0
 *
 * Result sets, their multiset diff and their stored form (see the header). The diff hashes each
 * row (all its cells) into a table of row -> count for the previous result, then walks the
 * current rows taking one occurrence each: O(n) expected. Integers and doubles are different
 * kinds and never equal each other (SQLite gave them different types); doubles compare by value
 * bits, so NaN equals NaN here and a run that returns the same NaN is "unchanged".
 */
#include "config.h"

#include "osqd-result.h"

#include <string.h>

#include "osq-error.h"
#include "osq-store.pb-c.h"

typedef struct {
	const OsqdResultSet *set;
	guint index;
} OsqdRowRef;

static void
row_free(gpointer data, gpointer user_data)
{
	OsqdCell *cells = data;
	guint n = GPOINTER_TO_UINT(user_data);

	for (guint i = 0; i < n; i++)
		g_free(cells[i].text);
	g_free(cells);
}

OsqdResultSet *
osqd_result_set_new(const gchar *const *columns)
{
	OsqdResultSet *set = g_new0(OsqdResultSet, 1);

	set->columns = g_strdupv((gchar **)columns);
	set->n_columns = g_strv_length(set->columns);
	set->rows = g_ptr_array_new();
	return set;
}

void
osqd_result_set_free(OsqdResultSet *set)
{
	if (set == NULL)
		return;
	g_ptr_array_foreach(set->rows, row_free, GUINT_TO_POINTER(set->n_columns));
	g_ptr_array_unref(set->rows);
	g_strfreev(set->columns);
	g_free(set);
}

OsqdCell *
osqd_result_set_add_row(OsqdResultSet *set)
{
	OsqdCell *cells = g_new0(OsqdCell, MAX(set->n_columns, 1));

	g_ptr_array_add(set->rows, cells);
	return cells;
}

void
osqd_cell_set_text(OsqdCell *cell, const gchar *text, gssize len)
{
	g_free(cell->text);
	cell->kind = OSQD_CELL_TEXT;
	cell->text = g_utf8_make_valid(text, len);
}

gboolean
osqd_cell_equal(const OsqdCell *a, const OsqdCell *b)
{
	if (a->kind != b->kind)
		return FALSE;
	switch (a->kind) {
	case OSQD_CELL_INTEGER:
		return a->integer == b->integer;
	case OSQD_CELL_DOUBLE:
		return memcmp(&a->real, &b->real, sizeof(a->real)) == 0;
	case OSQD_CELL_TEXT:
		return g_strcmp0(a->text, b->text) == 0;
	case OSQD_CELL_NULL:
	default:
		return TRUE;
	}
}

static guint
row_hash(gconstpointer key)
{
	const OsqdRowRef *ref = key;
	const OsqdCell *cells = ref->set->rows->pdata[ref->index];
	guint hash = 5381;

	for (guint i = 0; i < ref->set->n_columns; i++) {
		const OsqdCell *cell = &cells[i];
		hash = hash * 33 + (guint)cell->kind;
		switch (cell->kind) {
		case OSQD_CELL_INTEGER:
			hash = hash * 33 + g_int64_hash(&cell->integer);
			break;
		case OSQD_CELL_DOUBLE:
			hash = hash * 33 + g_double_hash(&cell->real);
			break;
		case OSQD_CELL_TEXT:
			hash = hash * 33 + g_str_hash(cell->text);
			break;
		case OSQD_CELL_NULL:
		default:
			break;
		}
	}
	return hash;
}

static gboolean
row_equal(gconstpointer a, gconstpointer b)
{
	const OsqdRowRef *x = a, *y = b;
	const OsqdCell *cx = x->set->rows->pdata[x->index];
	const OsqdCell *cy = y->set->rows->pdata[y->index];

	if (x->set->n_columns != y->set->n_columns)
		return FALSE;
	for (guint i = 0; i < x->set->n_columns; i++) {
		if (!osqd_cell_equal(&cx[i], &cy[i]))
			return FALSE;
	}
	return TRUE;
}

void
osqd_result_set_diff(const OsqdResultSet *previous, const OsqdResultSet *current, GArray **added,
                     GArray **removed)
{
	/* previous row -> GQueue of its indexes not yet matched */
	g_autoptr(GHashTable) left =
	        g_hash_table_new_full(row_hash, row_equal, g_free, (GDestroyNotify)g_queue_free);
	g_autofree gboolean *matched = NULL;

	*added = g_array_new(FALSE, FALSE, sizeof(guint));
	*removed = g_array_new(FALSE, FALSE, sizeof(guint));
	if (previous != NULL) {
		matched = g_new0(gboolean, previous->rows->len + 1);
		for (guint i = 0; i < previous->rows->len; i++) {
			OsqdRowRef key = { previous, i };
			GQueue *queue = g_hash_table_lookup(left, &key);
			if (queue == NULL) {
				queue = g_queue_new();
				g_hash_table_insert(left, g_memdup2(&key, sizeof(key)), queue);
			}
			g_queue_push_tail(queue, GUINT_TO_POINTER(i));
		}
	}
	for (guint i = 0; i < current->rows->len; i++) {
		OsqdRowRef key = { current, i };
		GQueue *queue = previous != NULL && previous->n_columns == current->n_columns
		                        ? g_hash_table_lookup(left, &key)
		                        : NULL;
		if (queue != NULL && !g_queue_is_empty(queue)) {
			matched[GPOINTER_TO_UINT(g_queue_pop_head(queue))] = TRUE;
			continue;
		}
		g_array_append_val(*added, i);
	}
	for (guint i = 0; previous != NULL && i < previous->rows->len; i++) {
		if (!matched[i])
			g_array_append_val(*removed, i);
	}
}

/* ---- stored form ---- */

void
osqd_query_meta_clear(OsqdQueryMeta *meta)
{
	g_clear_pointer(&meta->sql, g_free);
}

GBytes *
osqd_result_set_pack(const OsqdResultSet *set, const OsqdQueryMeta *meta)
{
	Osq__Store__QueryState state = OSQ__STORE__QUERY_STATE__INIT;
	g_autofree Osq__Store__Row *rows = g_new0(Osq__Store__Row, set->rows->len + 1);
	g_autofree Osq__Store__Row **row_ptrs = g_new0(Osq__Store__Row *, set->rows->len + 1);
	g_autofree Osq__Store__Value *values =
	        g_new0(Osq__Store__Value, (gsize)set->rows->len * set->n_columns + 1);
	g_autofree Osq__Store__Value **value_ptrs =
	        g_new0(Osq__Store__Value *, (gsize)set->rows->len * set->n_columns + 1);
	gsize size;
	guint8 *data;

	state.sql = (gchar *)(meta->sql != NULL ? meta->sql : "");
	state.epoch = meta->epoch;
	state.counter = meta->counter;
	state.updated = meta->updated;
	state.events_since = meta->events_since;
	state.n_columns = set->n_columns;
	state.columns = set->columns;
	state.n_rows = set->rows->len;
	state.rows = row_ptrs;
	for (guint r = 0; r < set->rows->len; r++) {
		const OsqdCell *cells = set->rows->pdata[r];
		Osq__Store__Row *row = &rows[r];
		osq__store__row__init(row);
		row->n_values = set->n_columns;
		row->values = &value_ptrs[(gsize)r * set->n_columns];
		row_ptrs[r] = row;
		for (guint c = 0; c < set->n_columns; c++) {
			Osq__Store__Value *value = &values[(gsize)r * set->n_columns + c];
			osq__store__value__init(value);
			switch (cells[c].kind) {
			case OSQD_CELL_INTEGER:
				value->kind_case = OSQ__STORE__VALUE__KIND_INTEGER;
				value->integer = cells[c].integer;
				break;
			case OSQD_CELL_DOUBLE:
				value->kind_case = OSQ__STORE__VALUE__KIND_REAL;
				value->real = cells[c].real;
				break;
			case OSQD_CELL_TEXT:
				value->kind_case = OSQ__STORE__VALUE__KIND_TEXT;
				value->text = cells[c].text;
				break;
			case OSQD_CELL_NULL:
			default:
				value->kind_case = OSQ__STORE__VALUE__KIND_NULL;
				value->null = TRUE;
				break;
			}
			row->values[c] = value;
		}
	}
	size = osq__store__query_state__get_packed_size(&state);
	data = g_malloc(MAX(size, 1));
	(void)osq__store__query_state__pack(&state, data);
	return g_bytes_new_take(data, size);
}

OsqdResultSet *
osqd_result_set_unpack(GBytes *bytes, OsqdQueryMeta *meta, GError **error)
{
	gsize len = 0;
	const guint8 *data = g_bytes_get_data(bytes, &len);
	Osq__Store__QueryState *state = osq__store__query_state__unpack(NULL, len, data);
	g_autoptr(GPtrArray) columns = g_ptr_array_new();
	OsqdResultSet *set;

	if (state == NULL) {
		g_set_error_literal(error, OSQ_ERROR, OSQ_ERROR_FAILED,
		                    "a stored query result does not decode");
		return NULL;
	}
	for (gsize i = 0; i < state->n_columns; i++)
		g_ptr_array_add(columns, state->columns[i]);
	g_ptr_array_add(columns, NULL);
	set = osqd_result_set_new((const gchar *const *)columns->pdata);
	for (gsize r = 0; r < state->n_rows; r++) {
		const Osq__Store__Row *row = state->rows[r];
		OsqdCell *cells = osqd_result_set_add_row(set);
		for (gsize c = 0; c < set->n_columns && c < row->n_values; c++) {
			const Osq__Store__Value *value = row->values[c];
			switch (value->kind_case) {
			case OSQ__STORE__VALUE__KIND_INTEGER:
				cells[c].kind = OSQD_CELL_INTEGER;
				cells[c].integer = value->integer;
				break;
			case OSQ__STORE__VALUE__KIND_REAL:
				cells[c].kind = OSQD_CELL_DOUBLE;
				cells[c].real = value->real;
				break;
			case OSQ__STORE__VALUE__KIND_TEXT:
				osqd_cell_set_text(&cells[c], value->text, -1);
				break;
			default:
				cells[c].kind = OSQD_CELL_NULL;
				break;
			}
		}
	}
	if (meta != NULL) {
		meta->sql = g_strdup(state->sql);
		meta->epoch = state->epoch;
		meta->counter = state->counter;
		meta->updated = state->updated;
		meta->events_since = state->events_since;
	}
	osq__store__query_state__free_unpacked(state, NULL);
	return set;
}
