/* SPDX-License-Identifier: Apache-2.0
 *
 * The context handed to generators: root prefix, pushed-down constraints, used columns and
 * the cancellation/deadline check. The constraint helpers turn SQLite's loosely typed values
 * into what a generator wants (sorted unique integers, strings) so each table does not repeat it.
 */
#include "config.h"

#include <sys/resource.h>

#include "osqd-table-private.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <unistd.h>

const OsqdTable *
osqd_table_context_get_table(OsqdTableContext *ctx)
{
	return ctx->table;
}

const gchar *
osqd_table_context_get_root(OsqdTableContext *ctx)
{
	return ctx->root;
}

gchar *
osqd_table_context_path(OsqdTableContext *ctx, const gchar *format, ...)
{
	va_list args;
	g_autofree gchar *path = NULL;

	va_start(args, format);
	path = g_strdup_vprintf(format, args);
	va_end(args);
	if (g_strcmp0(ctx->root, "/") == 0 || ctx->root == NULL)
		return g_steal_pointer(&path);
	return g_strconcat(ctx->root, path[0] == '/' ? "" : "/", path, NULL);
}

gboolean
osqd_table_context_column_used(OsqdTableContext *ctx, guint column)
{
	if (column >= ctx->table->n_columns)
		return FALSE;
	return ctx->used == NULL || ctx->used[column];
}

const OsqdConstraint *
osqd_table_context_get_constraints(OsqdTableContext *ctx, guint *n_constraints)
{
	*n_constraints = ctx->constraints != NULL ? ctx->constraints->len : 0;
	return ctx->constraints != NULL ? (const OsqdConstraint *)ctx->constraints->data : NULL;
}

gboolean
osqd_table_context_has_constraint(OsqdTableContext *ctx, guint column, OsqdOp op)
{
	guint n = 0;
	const OsqdConstraint *c = osqd_table_context_get_constraints(ctx, &n);

	for (guint i = 0; i < n; i++) {
		if (c[i].column == column && c[i].op == op)
			return TRUE;
	}
	return FALSE;
}

static gboolean
value_to_int(const OsqdValue *value, gint64 *out)
{
	gchar *end = NULL;

	switch (value->kind) {
	case OSQD_VALUE_INTEGER:
		*out = value->integer;
		return TRUE;
	case OSQD_VALUE_DOUBLE:
		if (value->real != (gdouble)(gint64)value->real)
			return FALSE;
		*out = (gint64)value->real;
		return TRUE;
	case OSQD_VALUE_TEXT:
		errno = 0;
		*out = g_ascii_strtoll(value->bytes.data, &end, 10);
		return errno == 0 && end != value->bytes.data && *end == '\0';
	default:
		return FALSE;
	}
}

static gint
compare_int64(gconstpointer a, gconstpointer b)
{
	gint64 x = *(const gint64 *)a, y = *(const gint64 *)b;
	return x < y ? -1 : x > y;
}

GArray *
osqd_table_context_int_equals(OsqdTableContext *ctx, guint column)
{
	guint n = 0;
	const OsqdConstraint *c = osqd_table_context_get_constraints(ctx, &n);
	g_autoptr(GArray) values = NULL;
	guint kept = 0;

	for (guint i = 0; i < n; i++) {
		gint64 v;
		if (c[i].column != column || c[i].op != OSQD_OP_EQ)
			continue;
		if (values == NULL)
			values = g_array_new(FALSE, FALSE, sizeof(gint64));
		if (value_to_int(&c[i].value, &v))
			g_array_append_val(values, v);
	}
	if (values == NULL)
		return NULL;
	g_array_sort(values, compare_int64);
	for (guint i = 0; i < values->len; i++) {
		gint64 v = g_array_index(values, gint64, i);
		if (kept > 0 && g_array_index(values, gint64, kept - 1) == v)
			continue;
		g_array_index(values, gint64, kept++) = v;
	}
	g_array_set_size(values, kept);
	return g_steal_pointer(&values);
}

static gchar *
value_to_text(const OsqdValue *value)
{
	switch (value->kind) {
	case OSQD_VALUE_INTEGER:
		return g_strdup_printf("%" G_GINT64_FORMAT, value->integer);
	case OSQD_VALUE_DOUBLE: {
		gchar buf[G_ASCII_DTOSTR_BUF_SIZE];
		return g_strdup(g_ascii_dtostr(buf, sizeof(buf), value->real));
	}
	case OSQD_VALUE_TEXT:
	case OSQD_VALUE_BLOB:
		return g_strndup(value->bytes.data, value->bytes.len);
	default:
		return NULL;
	}
}

static GPtrArray *
text_values(OsqdTableContext *ctx, guint column, OsqdOp op)
{
	guint n = 0;
	const OsqdConstraint *c = osqd_table_context_get_constraints(ctx, &n);
	g_autoptr(GPtrArray) values = NULL;

	for (guint i = 0; i < n; i++) {
		gchar *text;
		gboolean seen = FALSE;
		if (c[i].column != column || c[i].op != op)
			continue;
		if (values == NULL)
			values = g_ptr_array_new_with_free_func(g_free);
		text = value_to_text(&c[i].value);
		if (text == NULL)
			continue;
		for (guint j = 0; j < values->len && !seen; j++)
			seen = g_strcmp0(values->pdata[j], text) == 0;
		if (seen)
			g_free(text);
		else
			g_ptr_array_add(values, text);
	}
	return g_steal_pointer(&values);
}

static gint
compare_strings(gconstpointer a, gconstpointer b)
{
	return g_strcmp0(*(const gchar *const *)a, *(const gchar *const *)b);
}

GPtrArray *
osqd_table_context_text_equals(OsqdTableContext *ctx, guint column)
{
	GPtrArray *values = text_values(ctx, column, OSQD_OP_EQ);

	if (values != NULL)
		g_ptr_array_sort(values, compare_strings);
	return values;
}

GPtrArray *
osqd_table_context_text_likes(OsqdTableContext *ctx, guint column)
{
	return text_values(ctx, column, OSQD_OP_LIKE);
}

gboolean
osqd_query_control_check(OsqdQueryControl *control, GError **error)
{
	if (control == NULL)
		return TRUE;
	if (g_atomic_int_get(&control->cancelled)) {
		g_set_error_literal(error, OSQ_ERROR, OSQ_ERROR_CANCELLED, "query cancelled");
		return FALSE;
	}
	if (control->deadline != 0 && g_get_monotonic_time() > control->deadline) {
		g_set_error_literal(error, OSQ_ERROR, OSQ_ERROR_TIMED_OUT, "query timed out");
		return FALSE;
	}
	if (control->cpu_limit_us > 0 && (++control->cpu_checks & 15) == 0 &&
	    osqd_query_control_thread_cpu_us() - control->cpu_start_us > control->cpu_limit_us) {
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_LIMIT,
		            "query used more than %" G_GINT64_FORMAT " ms of CPU time",
		            control->cpu_limit_us / 1000);
		return FALSE;
	}
	return TRUE;
}

gint64
osqd_query_control_thread_cpu_us(void)
{
	struct rusage usage;

	if (getrusage(RUSAGE_THREAD, &usage) != 0)
		return 0;
	return ((gint64)usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * G_USEC_PER_SEC +
	       usage.ru_utime.tv_usec + usage.ru_stime.tv_usec;
}

gint64
osqd_table_context_get_events_since(OsqdTableContext *ctx)
{
	return ctx->control != NULL ? ctx->control->events_since : 0;
}

gboolean
osqd_table_context_is_privileged(OsqdTableContext *ctx)
{
	return ctx->control == NULL || !ctx->control->unprivileged;
}

gint64
osqd_table_context_get_events_limit(OsqdTableContext *ctx)
{
	return ctx->control != NULL ? ctx->control->events_limit : 0;
}

void
osqd_table_context_note_event(OsqdTableContext *ctx, gint64 event_id)
{
	if (ctx->control != NULL && event_id > ctx->control->events_max)
		ctx->control->events_max = event_id;
}

gboolean
osqd_table_context_check(OsqdTableContext *ctx, GError **error)
{
	return osqd_query_control_check(ctx->control, error);
}

gboolean
osqd_read_fd(int fd, gsize max, gchar **contents, gsize *length, GError **error)
{
	g_autofree gchar *buf = NULL;
	gsize size = 0, allocated = 4096;

	if (max == 0)
		max = G_MAXSIZE - 1;
	allocated = MIN(allocated, max);
	buf = g_malloc(allocated + 1);
	while (size < max) {
		ssize_t n;
		if (size == allocated) {
			allocated = allocated > max / 2 ? max : allocated * 2;
			buf = g_realloc(buf, allocated + 1);
		}
		n = read(fd, buf + size, allocated - size);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int saved = errno;
			g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(saved), "%s",
			            g_strerror(saved));
			return FALSE;
		}
		if (n == 0)
			break;
		size += (gsize)n;
	}
	buf[size] = '\0';
	if (length != NULL)
		*length = size;
	*contents = g_steal_pointer(&buf);
	return TRUE;
}

gboolean
osqd_read_file(const gchar *path, gsize max, gchar **contents, gsize *length, GError **error)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	gboolean ok;

	if (fd < 0) {
		int saved = errno;
		g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(saved), "%s: %s", path,
		            g_strerror(saved));
		return FALSE;
	}
	ok = osqd_read_fd(fd, max, contents, length, error);
	(void)close(fd);
	if (!ok)
		g_prefix_error(error, "%s: ", path);
	return ok;
}

gchar *
osqd_utf8_make_valid(const gchar *text, gssize len)
{
	if (len < 0)
		len = (gssize)strlen(text);
	if (g_utf8_validate(text, len, NULL) && memchr(text, '\0', (gsize)len) == NULL)
		return g_strndup(text, (gsize)len);
	return g_utf8_make_valid(text, len);
}
