/* SPDX-License-Identifier: Apache-2.0
 *
 * libosq tests without a daemon: requests are compared with osquery's byte-exact frames, and
 * the reply parsers and the resumable scanner get canned replies (success, failing status,
 * exception, truncated at every byte, wrong sequence id or name, huge lengths). A scripted
 * server thread on a temporary socket covers the connection: timeouts, a reply cut short,
 * reconnecting, and falling back to osquery's query + getQueryColumns.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "osq-client-private.h"
#include "osq-error.h"

static const guint8 ping_call[] = {
	0x80, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x04, 'p', 'i', 'n', 'g', 0, 0, 0, 0, 0x00,
};

static const guint8 query_call[] = {
	0x80, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x05, 'q',  'u',  'e',  'r',  'y',
	0x00, 0x00, 0x00, 0x00, 0x0b, 0x00, 0x01, 0x00, 0x00, 0x00, 0x0d, 's',  'e',
	'l',  'e',  'c',  't',  ' ',  '1',  ' ',  'a',  's',  ' ',  'x',  0x00,
};

/* osquery's ping reply: status {0, "pong", 0} */
static const guint8 ping_reply[] = {
	0x80, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x04, 'p',  'i',  'n',  'g',  0x00,
	0x00, 0x00, 0x00, 0x0c, 0x00, 0x00, 0x08, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
	0x0b, 0x00, 0x02, 0x00, 0x00, 0x00, 0x04, 'p',  'o',  'n',  'g',  0x0a, 0x00,
	0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

/* queryTyped reply, seqid 7: status {0, "OK"}, columns [n, s], types [BIGINT, TEXT],
 * rows [["42", "a"], ["", "b"]], null_cells [2] */
static const guint8 typed_reply[] = {
	0x80,
	0x01,
	0x00,
	0x02,
	0x00,
	0x00,
	0x00,
	0x0a,
	'q',
	'u',
	'e',
	'r',
	'y',
	'T',
	'y',
	'p',
	'e',
	'd',
	0x00,
	0x00,
	0x00,
	0x07,
	/* success */ 0x0c,
	0x00,
	0x00,
	/* status */ 0x0c,
	0x00,
	0x01,
	0x08,
	0x00,
	0x01,
	0x00,
	0x00,
	0x00,
	0x00,
	0x0b,
	0x00,
	0x02,
	0x00,
	0x00,
	0x00,
	0x02,
	'O',
	'K',
	0x00,
	/* columns */ 0x0f,
	0x00,
	0x02,
	0x0b,
	0x00,
	0x00,
	0x00,
	0x02,
	0x00,
	0x00,
	0x00,
	0x01,
	'n',
	0x00,
	0x00,
	0x00,
	0x01,
	's',
	/* types */ 0x0f,
	0x00,
	0x03,
	0x0b,
	0x00,
	0x00,
	0x00,
	0x02,
	0x00,
	0x00,
	0x00,
	0x06,
	'B',
	'I',
	'G',
	'I',
	'N',
	'T',
	0x00,
	0x00,
	0x00,
	0x04,
	'T',
	'E',
	'X',
	'T',
	/* rows */ 0x0f,
	0x00,
	0x04,
	0x0f,
	0x00,
	0x00,
	0x00,
	0x02,
	0x0b,
	0x00,
	0x00,
	0x00,
	0x02,
	0x00,
	0x00,
	0x00,
	0x02,
	'4',
	'2',
	0x00,
	0x00,
	0x00,
	0x01,
	'a',
	0x0b,
	0x00,
	0x00,
	0x00,
	0x02,
	0x00,
	0x00,
	0x00,
	0x00,
	0x00,
	0x00,
	0x00,
	0x01,
	'b',
	/* null_cells */ 0x0f,
	0x00,
	0x05,
	0x0a,
	0x00,
	0x00,
	0x00,
	0x01,
	0x00,
	0x00,
	0x00,
	0x00,
	0x00,
	0x00,
	0x00,
	0x02,
	0x00,
	0x00,
};

/* EXCEPTION reply to "queryTyped", seqid 7: TApplicationException {"Internal error", 6} */
static const guint8 exception_reply[] = {
	0x80, 0x01, 0x00, 0x03, 0x00, 0x00, 0x00, 0x0a, 'q',  'u',  'e',  'r',  'y',
	'T',  'y',  'p',  'e',  'd',  0x00, 0x00, 0x00, 0x07, 0x0b, 0x00, 0x01, 0x00,
	0x00, 0x00, 0x0e, 'I',  'n',  't',  'e',  'r',  'n',  'a',  'l',  ' ',  'e',
	'r',  'r',  'o',  'r',  0x08, 0x00, 0x02, 0x00, 0x00, 0x00, 0x06, 0x00,
};

/* ---- reply builders ---- */

static void
write_status(GByteArray *out, gint32 code, const gchar *message)
{
	osq_thrift_write_field_begin(out, OSQ_THRIFT_I32, 1);
	osq_thrift_write_i32(out, code);
	osq_thrift_write_field_begin(out, OSQ_THRIFT_STRING, 2);
	osq_thrift_write_string(out, message);
	osq_thrift_write_field_begin(out, OSQ_THRIFT_I64, 3);
	osq_thrift_write_i64(out, 0);
	osq_thrift_write_field_stop(out);
}

static void
write_string_list(GByteArray *out, gint16 id, const gchar *const *values)
{
	osq_thrift_write_field_begin(out, OSQ_THRIFT_LIST, id);
	osq_thrift_write_list_begin(out, OSQ_THRIFT_STRING,
	                            (gint32)g_strv_length((gchar **)values));
	for (guint i = 0; values[i] != NULL; i++)
		osq_thrift_write_string(out, values[i]);
}

/* A reply of @method with a QueryResult (@done < 0, @cursor < 0), a QueryPage (done = @done)
 * or a FollowPage (cursor = @cursor) of @n_rows rows of @width values (cells[row * width + c]);
 * NULL @columns or @types leave them out. */
static GByteArray *
build_reply_full(const gchar *method, gint done, gint64 cursor, gint32 seqid, gint32 code,
                 const gchar *message, const gchar *const *columns, const gchar *const *types,
                 const gchar *const *cells, guint n_rows, guint width, const gint64 *nulls,
                 guint n_nulls)
{
	GByteArray *out = g_byte_array_new();

	osq_thrift_write_message_begin(out, method, OSQ_THRIFT_REPLY, seqid);
	osq_thrift_write_field_begin(out, OSQ_THRIFT_STRUCT, 0);
	osq_thrift_write_field_begin(out, OSQ_THRIFT_STRUCT, 1);
	write_status(out, code, message);
	if (columns != NULL)
		write_string_list(out, 2, columns);
	if (types != NULL)
		write_string_list(out, 3, types);
	osq_thrift_write_field_begin(out, OSQ_THRIFT_LIST, 4);
	osq_thrift_write_list_begin(out, OSQ_THRIFT_LIST, (gint32)n_rows);
	for (guint r = 0; r < n_rows; r++) {
		osq_thrift_write_list_begin(out, OSQ_THRIFT_STRING, (gint32)width);
		for (guint c = 0; c < width; c++)
			osq_thrift_write_string(out, cells[r * width + c]);
	}
	osq_thrift_write_field_begin(out, OSQ_THRIFT_LIST, 5);
	osq_thrift_write_list_begin(out, OSQ_THRIFT_I64, (gint32)n_nulls);
	for (guint i = 0; i < n_nulls; i++)
		osq_thrift_write_i64(out, nulls[i]);
	if (done >= 0) {
		osq_thrift_write_field_begin(out, OSQ_THRIFT_BOOL, 6);
		osq_thrift_write_byte(out, done ? 1 : 0);
	}
	if (cursor >= 0) {
		osq_thrift_write_field_begin(out, OSQ_THRIFT_I64, 6);
		osq_thrift_write_i64(out, cursor);
	}
	osq_thrift_write_field_stop(out); /* QueryResult */
	osq_thrift_write_field_stop(out); /* result struct */
	return out;
}

static GByteArray *
build_page_reply(const gchar *method, gint done, gint32 seqid, gint32 code, const gchar *message,
                 const gchar *const *columns, const gchar *const *types, const gchar *const *cells,
                 guint n_rows, guint width, const gint64 *nulls, guint n_nulls)
{
	return build_reply_full(method, done, -1, seqid, code, message, columns, types, cells,
	                        n_rows, width, nulls, n_nulls);
}

/* A FollowPage reply; @cursor < 0 leaves field 6 out. */
static GByteArray *
build_follow_reply(const gchar *method, gint64 cursor, gint32 seqid, gint32 code,
                   const gchar *message, const gchar *const *columns, const gchar *const *types,
                   const gchar *const *cells, guint n_rows, guint width, const gint64 *nulls,
                   guint n_nulls)
{
	return build_reply_full(method, -1, cursor, seqid, code, message, columns, types, cells,
	                        n_rows, width, nulls, n_nulls);
}

/* A queryTyped reply with @n_rows rows of @width values (cells[row * width + c]). */
static GByteArray *
build_typed_reply_width(gint32 seqid, gint32 code, const gchar *message,
                        const gchar *const *columns, const gchar *const *types,
                        const gchar *const *cells, guint n_rows, guint width, const gint64 *nulls,
                        guint n_nulls)
{
	return build_page_reply("queryTyped", -1, seqid, code, message, columns, types, cells,
	                        n_rows, width, nulls, n_nulls);
}

/* ... with as many values per row as there are columns */
static GByteArray *
build_typed_reply(gint32 seqid, gint32 code, const gchar *message, const gchar *const *columns,
                  const gchar *const *types, const gchar *const *cells, guint n_rows,
                  const gint64 *nulls, guint n_nulls)
{
	return build_typed_reply_width(seqid, code, message, columns, types, cells, n_rows,
	                               g_strv_length((gchar **)columns), nulls, n_nulls);
}

/* An ExtensionResponse reply (query, getQueryColumns) with string-map rows; @rows holds
 * key, value pairs, a NULL key ending each row and an extra NULL ending the rows. */
static GByteArray *
build_response_reply(const gchar *method, gint32 seqid, gint32 code, const gchar *message,
                     const gchar *const *rows)
{
	GByteArray *out = g_byte_array_new();
	guint n_rows = 0;

	for (guint i = 0; rows[i] != NULL; i++) {
		while (rows[i] != NULL)
			i += 2;
		n_rows++;
	}
	osq_thrift_write_message_begin(out, method, OSQ_THRIFT_REPLY, seqid);
	osq_thrift_write_field_begin(out, OSQ_THRIFT_STRUCT, 0);
	osq_thrift_write_field_begin(out, OSQ_THRIFT_STRUCT, 1);
	write_status(out, code, message);
	osq_thrift_write_field_begin(out, OSQ_THRIFT_LIST, 2);
	osq_thrift_write_list_begin(out, OSQ_THRIFT_MAP, (gint32)n_rows);
	for (guint i = 0; rows[i] != NULL; i++) {
		guint n = 0;
		while (rows[i + 2 * n] != NULL)
			n++;
		osq_thrift_write_map_begin(out, OSQ_THRIFT_STRING, OSQ_THRIFT_STRING, (gint32)n);
		for (; rows[i] != NULL; i += 2) {
			osq_thrift_write_string(out, rows[i]);
			osq_thrift_write_string(out, rows[i + 1]);
		}
	}
	osq_thrift_write_field_stop(out);
	osq_thrift_write_field_stop(out);
	return out;
}

/* ---- requests ---- */

static void
test_write_call(void **state)
{
	g_autoptr(GByteArray) out = g_byte_array_new();

	osq_client_write_call(out, "ping", 0, NULL);
	assert_int_equal(out->len, sizeof(ping_call));
	assert_memory_equal(out->data, ping_call, sizeof(ping_call));
	g_byte_array_set_size(out, 0);
	osq_client_write_call(out, "query", 0, "select 1 as x");
	assert_int_equal(out->len, sizeof(query_call));
	assert_memory_equal(out->data, query_call, sizeof(query_call));
}

/* ---- replies ---- */

static void
test_ping_reply(void **state)
{
	g_autoptr(GError) error = NULL;

	assert_true(osq_client_parse_ping_reply(ping_reply, sizeof(ping_reply), 0, &error));
	assert_null(error);
	assert_false(osq_client_parse_ping_reply(ping_reply, sizeof(ping_reply), 1, &error));
	assert_true(g_error_matches(error, OSQ_CLIENT_ERROR, OSQ_CLIENT_ERROR_PROTOCOL));
}

static void
test_typed_success(void **state)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(OsqResult) result = NULL;
	gint64 number = -1;
	gdouble real = -1;

	result = osq_client_parse_query_typed_reply(typed_reply, sizeof(typed_reply), 7, &error);
	assert_null(error);
	assert_non_null(result);
	assert_int_equal(osq_result_get_n_rows(result), 2);
	assert_int_equal(osq_result_get_n_columns(result), 2);
	assert_string_equal(osq_result_get_column_name(result, 0), "n");
	assert_string_equal(osq_result_get_column_name(result, 1), "s");
	assert_null(osq_result_get_column_name(result, 2));
	assert_string_equal(osq_result_get_column_type_name(result, 0), "BIGINT");
	assert_int_equal(osq_result_get_column_type(result, 0), OSQ_COLUMN_TYPE_BIGINT);
	assert_int_equal(osq_result_get_column_type(result, 1), OSQ_COLUMN_TYPE_TEXT);
	assert_string_equal(osq_result_get_text(result, 0, 0), "42");
	assert_int_equal(osq_result_get_text_length(result, 0, 0), 2);
	assert_string_equal(osq_result_get_text(result, 0, 1), "a");
	assert_string_equal(osq_result_get_text(result, 1, 1), "b");
	assert_false(osq_result_is_null(result, 0, 0));
	assert_true(osq_result_is_null(result, 1, 0));
	assert_null(osq_result_get_text(result, 1, 0));
	assert_true(osq_result_is_null(result, 2, 0)); /* out of range */
	assert_int_equal(osq_result_get_int64(result, 0, 0, &number), OSQ_CLIENT_OK);
	assert_int_equal(number, 42);
	assert_int_equal(osq_result_get_double(result, 0, 0, &real), OSQ_CLIENT_OK);
	assert_true(real == 42.0);
	/* NULL, a TEXT column, out of range */
	assert_int_equal(osq_result_get_int64(result, 1, 0, &number), OSQ_CLIENT_ERROR_TYPE);
	assert_int_equal(number, 0);
	assert_int_equal(osq_result_get_int64(result, 0, 1, &number), OSQ_CLIENT_ERROR_TYPE);
	assert_int_equal(osq_result_get_int64(result, 5, 0, &number),
	                 OSQ_CLIENT_ERROR_INVALID_ARGUMENT);
}

static void
test_typed_values(void **state)
{
	const gchar *const columns[] = { "i", "d", "t", "u", NULL };
	const gchar *const types[] = { "INTEGER", "DOUBLE", "TEXT", "whatever", NULL };
	const gchar *const cells[] = {
		"-9223372036854775808",
		"1.5",
		"",
		"x",
		"9223372036854775808",
		"1e3",
		"é",
		"",
		"12abc",
		"abc",
		"z",
		"",
	};
	const gint64 nulls[] = { 7, 11 };
	g_autoptr(GByteArray) reply =
	        build_typed_reply(3, 0, "OK", columns, types, cells, 3, nulls, G_N_ELEMENTS(nulls));
	g_autoptr(GError) error = NULL;
	g_autoptr(OsqResult) result = NULL;
	gint64 number;
	gdouble real;

	result = osq_client_parse_query_typed_reply(reply->data, reply->len, 3, &error);
	assert_null(error);
	assert_int_equal(osq_result_get_column_type(result, 3), OSQ_COLUMN_TYPE_UNKNOWN);
	assert_string_equal(osq_result_get_column_type_name(result, 3), "whatever");
	assert_int_equal(osq_result_get_int64(result, 0, 0, &number), OSQ_CLIENT_OK);
	assert_true(number == G_MININT64);
	/* out of int64 range, and not a number */
	assert_int_equal(osq_result_get_int64(result, 1, 0, &number), OSQ_CLIENT_ERROR_TYPE);
	assert_int_equal(osq_result_get_int64(result, 2, 0, &number), OSQ_CLIENT_ERROR_TYPE);
	assert_int_equal(osq_result_get_double(result, 0, 1, &real), OSQ_CLIENT_OK);
	assert_true(real == 1.5);
	assert_int_equal(osq_result_get_double(result, 1, 1, &real), OSQ_CLIENT_OK);
	assert_true(real == 1000.0);
	assert_int_equal(osq_result_get_double(result, 2, 1, &real), OSQ_CLIENT_ERROR_TYPE);
	assert_int_equal(osq_result_get_double(result, 0, 2, &real), OSQ_CLIENT_ERROR_TYPE);
	/* an empty TEXT value is not NULL */
	assert_false(osq_result_is_null(result, 0, 2));
	assert_string_equal(osq_result_get_text(result, 0, 2), "");
	assert_string_equal(osq_result_get_text(result, 1, 2), "é");
	assert_int_equal(osq_result_get_text_length(result, 1, 2), 2);
	assert_true(osq_result_is_null(result, 1, 3));
	assert_true(osq_result_is_null(result, 2, 3));
	assert_false(osq_result_is_null(result, 2, 2));
}

static void
test_typed_empty(void **state)
{
	const gchar *const columns[] = { "a", NULL };
	const gchar *const types[] = { "TEXT", NULL };
	g_autoptr(GByteArray) reply =
	        build_typed_reply(1, 0, "OK", columns, types, NULL, 0, NULL, 0);
	g_autoptr(GError) error = NULL;
	g_autoptr(OsqResult) result = NULL;

	result = osq_client_parse_query_typed_reply(reply->data, reply->len, 1, &error);
	assert_null(error);
	assert_int_equal(osq_result_get_n_rows(result), 0);
	assert_int_equal(osq_result_get_n_columns(result), 1);
	assert_null(osq_result_get_text(result, 0, 0));
}

static void
test_typed_failed_status(void **state)
{
	const gchar *const none[] = { NULL };
	g_autoptr(GByteArray) reply = build_typed_reply(9, 1, "near \"selec\": syntax error", none,
	                                                none, NULL, 0, NULL, 0);
	g_autoptr(GByteArray) denied = build_typed_reply(9, OSQ_ERROR_PERMISSION_DENIED, "no", none,
	                                                 none, NULL, 0, NULL, 0);
	g_autoptr(GByteArray) strange = build_typed_reply(9, 77, "", none, none, NULL, 0, NULL, 0);
	g_autoptr(GError) error = NULL;
	OsqResult *result;

	result = osq_client_parse_query_typed_reply(reply->data, reply->len, 9, &error);
	assert_null(result);
	assert_true(g_error_matches(error, OSQ_CLIENT_ERROR, OSQ_CLIENT_ERROR_FAILED));
	assert_string_equal(error->message, "near \"selec\": syntax error");
	g_clear_error(&error);
	result = osq_client_parse_query_typed_reply(denied->data, denied->len, 9, &error);
	assert_null(result);
	assert_true(g_error_matches(error, OSQ_CLIENT_ERROR, OSQ_CLIENT_ERROR_PERMISSION_DENIED));
	g_clear_error(&error);
	result = osq_client_parse_query_typed_reply(strange->data, strange->len, 9, &error);
	assert_null(result);
	assert_true(g_error_matches(error, OSQ_CLIENT_ERROR, OSQ_CLIENT_ERROR_FAILED));
	assert_string_equal(error->message, "the query failed");
}

static void
test_exception(void **state)
{
	g_autoptr(GByteArray) unknown = g_byte_array_new();
	g_autoptr(GError) error = NULL;
	OsqResult *result;

	result = osq_client_parse_query_typed_reply(exception_reply, sizeof(exception_reply), 7,
	                                            &error);
	assert_null(result);
	assert_true(g_error_matches(error, OSQ_CLIENT_ERROR, OSQ_CLIENT_ERROR_EXCEPTION));
	assert_string_equal(error->message, "Internal error");
	g_clear_error(&error);
	osq_thrift_write_application_exception(unknown, "queryTyped", 7,
	                                       OSQ_THRIFT_APP_UNKNOWN_METHOD,
	                                       "Unknown function queryTyped");
	result = osq_client_parse_query_typed_reply(unknown->data, unknown->len, 7, &error);
	assert_null(result);
	assert_true(g_error_matches(error, OSQ_CLIENT_ERROR, OSQ_CLIENT_ERROR_UNKNOWN_METHOD));
	assert_string_equal(error->message, "Unknown function queryTyped");
}

static void
test_wrong_seqid_and_name(void **state)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GByteArray) other = g_byte_array_new();

	assert_null(
	        osq_client_parse_query_typed_reply(typed_reply, sizeof(typed_reply), 8, &error));
	assert_true(g_error_matches(error, OSQ_CLIENT_ERROR, OSQ_CLIENT_ERROR_PROTOCOL));
	assert_non_null(strstr(error->message, "sequence"));
	g_clear_error(&error);
	/* the reply to another method, and an exception for another sequence id */
	assert_null(osq_client_parse_columns_reply(typed_reply, sizeof(typed_reply), 7, &error));
	assert_true(g_error_matches(error, OSQ_CLIENT_ERROR, OSQ_CLIENT_ERROR_PROTOCOL));
	g_clear_error(&error);
	assert_null(osq_client_parse_query_typed_reply(exception_reply, sizeof(exception_reply), 1,
	                                               &error));
	assert_true(g_error_matches(error, OSQ_CLIENT_ERROR, OSQ_CLIENT_ERROR_PROTOCOL));
	g_clear_error(&error);
	/* a CALL where a REPLY belongs */
	osq_client_write_call(other, "queryTyped", 7, "SELECT 1");
	assert_null(osq_client_parse_query_typed_reply(other->data, other->len, 7, &error));
	assert_true(g_error_matches(error, OSQ_CLIENT_ERROR, OSQ_CLIENT_ERROR_PROTOCOL));
}

static void
test_truncated(void **state)
{
	/* every prefix fails cleanly, as a protocol error */
	for (gsize len = 0; len < sizeof(typed_reply); len++) {
		g_autoptr(GError) error = NULL;
		g_autofree guint8 *copy = g_memdup2(typed_reply, len);
		OsqResult *result = osq_client_parse_query_typed_reply(copy, len, 7, &error);
		assert_null(result);
		assert_true(g_error_matches(error, OSQ_CLIENT_ERROR, OSQ_CLIENT_ERROR_PROTOCOL));
	}
}

static void
test_inconsistent(void **state)
{
	const gchar *const columns[] = { "a", "b", NULL };
	const gchar *const one[] = { "a", NULL };
	const gchar *const types[] = { "TEXT", "TEXT", NULL };
	const gchar *const cells[] = { "1", "2" };
	const gint64 bad_null[] = { 2 };
	g_autoptr(GByteArray) width =
	        build_typed_reply_width(1, 0, "OK", one, types, cells, 1, 2, NULL, 0);
	g_autoptr(GByteArray) nulls =
	        build_typed_reply(1, 0, "OK", columns, types, cells, 1, bad_null, 1);
	g_autoptr(GError) error = NULL;

	/* two values in a row of one column, and a NULL cell past the end */
	assert_null(osq_client_parse_query_typed_reply(width->data, width->len, 1, &error));
	assert_true(g_error_matches(error, OSQ_CLIENT_ERROR, OSQ_CLIENT_ERROR_PROTOCOL));
	g_clear_error(&error);
	assert_null(osq_client_parse_query_typed_reply(nulls->data, nulls->len, 1, &error));
	assert_true(g_error_matches(error, OSQ_CLIENT_ERROR, OSQ_CLIENT_ERROR_PROTOCOL));
}

/* ---- scanner ---- */

static void
test_scanner_split(void **state)
{
	/* fed one byte at a time, resuming each time: complete exactly at the end */
	OsqClientScanner scanner;
	gsize length = 0;

	osq_client_scanner_init(&scanner, 1024);
	for (gsize len = 1; len <= sizeof(typed_reply); len++) {
		g_autoptr(GError) error = NULL;
		OsqThriftScan scan =
		        osq_client_scanner_run(&scanner, typed_reply, len, &length, &error);
		assert_null(error);
		if (len < sizeof(typed_reply))
			assert_int_equal(scan, OSQ_THRIFT_SCAN_INCOMPLETE);
		else
			assert_int_equal(scan, OSQ_THRIFT_SCAN_COMPLETE);
	}
	assert_int_equal(length, sizeof(typed_reply));
	/* all at once, with the next message's bytes after it */
	{
		g_autoptr(GByteArray) two = g_byte_array_new();
		g_autoptr(GError) error = NULL;
		g_byte_array_append(two, exception_reply, sizeof(exception_reply));
		g_byte_array_append(two, ping_reply, sizeof(ping_reply));
		osq_client_scanner_init(&scanner, 1024);
		assert_int_equal(
		        osq_client_scanner_run(&scanner, two->data, two->len, &length, &error),
		        OSQ_THRIFT_SCAN_COMPLETE);
		assert_int_equal(length, sizeof(exception_reply));
	}
}

static void
test_scanner_huge(void **state)
{
	/* a 2 GiB string length is refused as soon as it is seen */
	static const guint8 huge_string[] = {
		0x80, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x01, 'x',  0x00, 0x00,
		0x00, 0x01, 0x0b, 0x00, 0x00, 0x7f, 0xff, 0xff, 0xff, 'a',
	};
	/* a name length past the maximum */
	static const guint8 huge_name[] = { 0x80, 0x01, 0x00, 0x02, 0x7f, 0xff, 0xff, 0xf0, 'x' };
	/* a list announcing 2^31-1 elements */
	static const guint8 huge_list[] = {
		0x80, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x01, 'x',  0x00, 0x00, 0x00,
		0x01, 0x0f, 0x00, 0x00, 0x08, 0x7f, 0xff, 0xff, 0xff, 0x00, 0x00,
	};
	static const guint8 negative[] = {
		0x80, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x01, 'x',  0x00, 0x00,
		0x00, 0x01, 0x0b, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 'a',
	};
	OsqClientScanner scanner;
	gsize length;
	g_autoptr(GError) error = NULL;

	osq_client_scanner_init(&scanner, OSQ_CLIENT_DEFAULT_MAX_REPLY_SIZE);
	assert_int_equal(
	        osq_client_scanner_run(&scanner, huge_string, sizeof(huge_string), &length, &error),
	        OSQ_THRIFT_SCAN_INVALID);
	assert_true(g_error_matches(error, OSQ_CLIENT_ERROR, OSQ_CLIENT_ERROR_LIMIT));
	g_clear_error(&error);
	osq_client_scanner_init(&scanner, OSQ_CLIENT_DEFAULT_MAX_REPLY_SIZE);
	assert_int_equal(
	        osq_client_scanner_run(&scanner, huge_name, sizeof(huge_name), &length, &error),
	        OSQ_THRIFT_SCAN_INVALID);
	assert_true(g_error_matches(error, OSQ_CLIENT_ERROR, OSQ_CLIENT_ERROR_LIMIT));
	g_clear_error(&error);
	/* the scanner waits for the elements (each takes 4 bytes: more than the maximum soon) */
	osq_client_scanner_init(&scanner, 64);
	assert_int_equal(
	        osq_client_scanner_run(&scanner, huge_list, sizeof(huge_list), &length, &error),
	        OSQ_THRIFT_SCAN_INVALID);
	assert_true(g_error_matches(error, OSQ_CLIENT_ERROR, OSQ_CLIENT_ERROR_LIMIT));
	g_clear_error(&error);
	/* ... and the parser refuses the count at once */
	assert_null(osq_client_parse_query_typed_reply(huge_list, sizeof(huge_list), 1, &error));
	assert_true(g_error_matches(error, OSQ_CLIENT_ERROR, OSQ_CLIENT_ERROR_PROTOCOL));
	g_clear_error(&error);
	osq_client_scanner_init(&scanner, 1024);
	assert_int_equal(
	        osq_client_scanner_run(&scanner, negative, sizeof(negative), &length, &error),
	        OSQ_THRIFT_SCAN_INVALID);
	assert_true(g_error_matches(error, OSQ_CLIENT_ERROR, OSQ_CLIENT_ERROR_PROTOCOL));
	g_clear_error(&error);
	/* a whole reply one byte over the maximum */
	osq_client_scanner_init(&scanner, sizeof(typed_reply) - 1);
	assert_int_equal(
	        osq_client_scanner_run(&scanner, typed_reply, sizeof(typed_reply), &length, &error),
	        OSQ_THRIFT_SCAN_INVALID);
	assert_true(g_error_matches(error, OSQ_CLIENT_ERROR, OSQ_CLIENT_ERROR_LIMIT));
}

static void
test_scanner_random(void **state)
{
	/* random bytes never crash it, and the answer never claims more than was given */
	g_autoptr(GRand) rand = g_rand_new_with_seed(42);

	for (guint i = 0; i < 20000; i++) {
		guint8 data[96];
		gsize len = (gsize)g_rand_int_range(rand, 0, sizeof(data));
		OsqClientScanner scanner;
		gsize length = 0;
		g_autoptr(GError) error = NULL;
		for (gsize j = 0; j < len; j++)
			data[j] = (guint8)g_rand_int(rand);
		if (len > 4 && g_rand_boolean(rand)) {
			data[0] = 0x80;
			data[1] = 0x01;
			data[2] = 0x00;
			data[4] = data[5] = data[6] = 0;
		}
		osq_client_scanner_init(&scanner, 4096);
		if (osq_client_scanner_run(&scanner, data, len, &length, &error) ==
		    OSQ_THRIFT_SCAN_COMPLETE)
			assert_true(length <= len);
	}
}

/* ---- osquery's replies ---- */

static void
test_pages(void **state)
{
	const gchar *const columns[] = { "a", "b", NULL };
	const gchar *const types[] = { "BIGINT", "TEXT", NULL };
	const gchar *const cells1[] = { "1", "", "2", "two" };
	const gchar *const cells2[] = { "3", "three", "", "" };
	const gchar *const cells3[] = { "5", "five" };
	const gint64 nulls1[] = { 1 };
	const gint64 nulls2[] = { 2, 3 };
	g_autoptr(GByteArray) first = build_page_reply("queryStart", 0, 7, 0, "OK", columns, types,
	                                               cells1, 2, 2, nulls1, 1);
	g_autoptr(GByteArray) second =
	        build_page_reply("queryNext", 0, 8, 0, "OK", NULL, NULL, cells2, 2, 2, nulls2, 2);
	g_autoptr(GByteArray) third =
	        build_page_reply("queryNext", 1, 9, 0, "OK", NULL, NULL, cells3, 1, 2, NULL, 0);
	OsqClientPages *pages = osq_client_pages_new();
	g_autoptr(OsqResult) result = NULL;
	gboolean done = TRUE;
	gint64 number = 0;

	assert_true(osq_client_pages_add_reply(pages, first->data, first->len, 7, "queryStart",
	                                       &done, NULL));
	assert_false(done);
	assert_true(osq_client_pages_add_reply(pages, second->data, second->len, 8, "queryNext",
	                                       &done, NULL));
	assert_false(done);
	assert_true(osq_client_pages_add_reply(pages, third->data, third->len, 9, "queryNext",
	                                       &done, NULL));
	assert_true(done);
	result = osq_client_pages_finish(pages, NULL);
	osq_client_pages_free(pages);
	assert_non_null(result);
	assert_int_equal(osq_result_get_n_rows(result), 5);
	assert_int_equal(osq_result_get_n_columns(result), 2);
	assert_string_equal(osq_result_get_column_type_name(result, 1), "TEXT");
	assert_int_equal(osq_result_get_int64(result, 2, 0, &number), OSQ_CLIENT_OK);
	assert_int_equal(number, 3);
	assert_string_equal(osq_result_get_text(result, 2, 1), "three");
	assert_string_equal(osq_result_get_text(result, 4, 1), "five");
	/* NULL positions count from each page's first row */
	assert_true(osq_result_is_null(result, 0, 1));
	assert_false(osq_result_is_null(result, 1, 1));
	assert_false(osq_result_is_null(result, 2, 1));
	assert_true(osq_result_is_null(result, 3, 0));
	assert_true(osq_result_is_null(result, 3, 1));
	assert_false(osq_result_is_null(result, 4, 0));
}

static void
test_pages_errors(void **state)
{
	const gchar *const columns[] = { "a", NULL };
	const gchar *const cells[] = { "1", "2" };
	const gint64 bad_null[] = { 2 };
	g_autoptr(GByteArray) first = build_page_reply("queryStart", 0, 7, 0, "OK", columns,
	                                               columns, cells, 2, 1, NULL, 0);
	/* a position past this page (it would be row 3 of the whole result) */
	g_autoptr(GByteArray) out_of_page =
	        build_page_reply("queryNext", 0, 8, 0, "OK", NULL, NULL, cells, 2, 1, bad_null, 1);
	g_autoptr(GByteArray) wide =
	        build_page_reply("queryNext", 0, 8, 0, "OK", NULL, NULL, cells, 1, 2, NULL, 0);
	g_autoptr(GByteArray) failed = build_page_reply("queryNext", 1, 8, 1, "query timed out",
	                                                NULL, NULL, NULL, 0, 0, NULL, 0);
	g_autoptr(GByteArray) no_done = build_page_reply("queryStart", -1, 7, 0, "OK", columns,
	                                                 columns, cells, 2, 1, NULL, 0);
	GByteArray *bad[] = { out_of_page, wide, failed };
	gint codes[] = { OSQ_CLIENT_ERROR_PROTOCOL, OSQ_CLIENT_ERROR_PROTOCOL,
		         OSQ_CLIENT_ERROR_FAILED };
	gboolean done = FALSE;

	for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autoptr(GError) error = NULL;
		OsqClientPages *pages = osq_client_pages_new();
		assert_true(osq_client_pages_add_reply(pages, first->data, first->len, 7,
		                                       "queryStart", &done, NULL));
		assert_false(osq_client_pages_add_reply(pages, bad[i]->data, bad[i]->len, 8,
		                                        "queryNext", &done, &error));
		assert_non_null(error);
		assert_int_equal(error->code, codes[i]);
		osq_client_pages_free(pages);
	}
	/* a page without done ends the query */
	{
		OsqClientPages *pages = osq_client_pages_new();
		g_autoptr(OsqResult) result = NULL;
		assert_true(osq_client_pages_add_reply(pages, no_done->data, no_done->len, 7,
		                                       "queryStart", &done, NULL));
		assert_true(done);
		result = osq_client_pages_finish(pages, NULL);
		assert_int_equal(osq_result_get_n_rows(result), 2);
		osq_client_pages_free(pages);
	}
}

static void
test_untyped(void **state)
{
	const gchar *const column_rows[] = { "pid",  "BIGINT", NULL,     "name", "TEXT",
		                             NULL,   "ok",     "DOUBLE", NULL,   "empty",
		                             "TEXT", NULL,     NULL };
	/* the second row lacks "ok"; "" is NULL for a BIGINT, text for TEXT */
	const gchar *const rows[] = { "name",  "init",  "pid", "1",    "ok", "0.5",
		                      "empty", "",      NULL,  "name", "x",  "pid",
		                      "",      "empty", "",    NULL,   NULL };
	g_autoptr(GByteArray) columns_reply =
	        build_response_reply("getQueryColumns", 4, 0, "OK", column_rows);
	g_autoptr(GByteArray) query_reply = build_response_reply("query", 5, 0, "OK", rows);
	g_autoptr(GByteArray) failed = build_response_reply("query", 5, 1, "no such table: x",
	                                                    (const gchar *const[]){ NULL });
	g_autoptr(GError) error = NULL;
	g_autoptr(OsqResult) result = NULL;
	OsqResult *columns;
	gint64 number;
	gdouble real;

	columns =
	        osq_client_parse_columns_reply(columns_reply->data, columns_reply->len, 4, &error);
	assert_null(error);
	assert_int_equal(osq_result_get_n_rows(columns), 0);
	assert_int_equal(osq_result_get_n_columns(columns), 4);
	assert_string_equal(osq_result_get_column_name(columns, 2), "ok");
	assert_int_equal(osq_result_get_column_type(columns, 2), OSQ_COLUMN_TYPE_DOUBLE);
	result = osq_client_parse_query_reply(query_reply->data, query_reply->len, 5, columns,
	                                      &error);
	assert_null(error);
	assert_int_equal(osq_result_get_n_rows(result), 2);
	assert_int_equal(osq_result_get_int64(result, 0, 0, &number), OSQ_CLIENT_OK);
	assert_int_equal(number, 1);
	assert_string_equal(osq_result_get_text(result, 0, 1), "init");
	assert_int_equal(osq_result_get_double(result, 0, 2, &real), OSQ_CLIENT_OK);
	assert_true(real == 0.5);
	assert_false(osq_result_is_null(result, 0, 3));
	assert_true(osq_result_is_null(result, 1, 0));
	assert_true(osq_result_is_null(result, 1, 2));
	assert_string_equal(osq_result_get_text(result, 1, 3), "");

	columns =
	        osq_client_parse_columns_reply(columns_reply->data, columns_reply->len, 4, &error);
	assert_null(osq_client_parse_query_reply(failed->data, failed->len, 5, columns, &error));
	assert_true(g_error_matches(error, OSQ_CLIENT_ERROR, OSQ_CLIENT_ERROR_FAILED));
	assert_string_equal(error->message, "no such table: x");
}

static void
test_extensions(void **state)
{
	g_autoptr(GByteArray) out = g_byte_array_new();
	g_autoptr(GError) error = NULL;
	g_autoptr(OsqExtensionList) list = NULL;
	const OsqExtensionInfo *info;

	osq_thrift_write_message_begin(out, "extensions", OSQ_THRIFT_REPLY, 2);
	osq_thrift_write_field_begin(out, OSQ_THRIFT_MAP, 0);
	osq_thrift_write_map_begin(out, OSQ_THRIFT_I64, OSQ_THRIFT_STRUCT, 2);
	osq_thrift_write_i64(out, 300);
	osq_thrift_write_field_begin(out, OSQ_THRIFT_STRING, 1);
	osq_thrift_write_string(out, "b");
	osq_thrift_write_field_stop(out);
	osq_thrift_write_i64(out, 12);
	osq_thrift_write_field_begin(out, OSQ_THRIFT_STRING, 1);
	osq_thrift_write_string(out, "a");
	osq_thrift_write_field_begin(out, OSQ_THRIFT_STRING, 2);
	osq_thrift_write_string(out, "1.0");
	osq_thrift_write_field_begin(out, OSQ_THRIFT_I32, 3); /* mistyped: skipped */
	osq_thrift_write_i32(out, 5);
	osq_thrift_write_field_begin(out, OSQ_THRIFT_STRING, 4);
	osq_thrift_write_string(out, "0.0.0");
	osq_thrift_write_field_stop(out);
	osq_thrift_write_field_stop(out);
	list = osq_client_parse_extensions_reply(out->data, out->len, 2, &error);
	assert_null(error);
	assert_int_equal(osq_extension_list_get_length(list), 2);
	info = osq_extension_list_get(list, 0);
	assert_int_equal(info->uuid, 12);
	assert_string_equal(info->name, "a");
	assert_string_equal(info->version, "1.0");
	assert_string_equal(info->sdk_version, "");
	assert_string_equal(info->min_sdk_version, "0.0.0");
	info = osq_extension_list_get(list, 1);
	assert_int_equal(info->uuid, 300);
	assert_string_equal(info->version, "");
	assert_null(osq_extension_list_get(list, 2));
	/* truncated inside the second entry */
	g_clear_pointer(&list, osq_extension_list_free);
	assert_null(osq_client_parse_extensions_reply(out->data, out->len - 12, 2, &error));
	assert_true(g_error_matches(error, OSQ_CLIENT_ERROR, OSQ_CLIENT_ERROR_PROTOCOL));
}

/* ---- a scripted server ---- */

typedef enum {
	SERVER_REPLY,          /* answer with the step's reply builder */
	SERVER_SILENT,         /* read the call, never answer (until the client hangs up) */
	SERVER_HALF,           /* answer half of the reply and hang up */
	SERVER_HANG_UP,        /* read the call and hang up */
	SERVER_NEW_CONNECTION, /* accept a new connection (the first step does that too) */
	SERVER_LATE,           /* answer after SERVER_LATE_MS */
} ServerAction;

/* longer than the 300 ms timeout of the tests' clients */
#define SERVER_LATE_MS 800

typedef GByteArray *(*ServerReplyFunc)(const gchar *method, gint32 seqid);

typedef struct {
	ServerAction action;
	const gchar *method; /* expected */
	ServerReplyFunc reply;
} ServerStep;

typedef struct {
	gchar *dir;
	gchar *path;
	gint listen_fd;
	const ServerStep *steps;
	guint n_steps;
	guint done;         /* steps carried out (atomic) */
	GAsyncQueue *calls; /* GByteArray: each call received, in order */
	GThread *thread;
} Server;

static gboolean
server_read_call(gint fd, GAsyncQueue *calls, gchar **method, gint32 *seqid)
{
	g_autoptr(GByteArray) in = g_byte_array_new();
	OsqThriftMessageType type;
	OsqThriftReader reader;

	for (;;) {
		guint8 buffer[4096];
		gsize length;
		ssize_t n = recv(fd, buffer, sizeof(buffer), 0);
		if (n <= 0)
			return FALSE;
		g_byte_array_append(in, buffer, (guint)n);
		if (osq_thrift_message_scan(in->data, in->len, 1 << 20, &length, NULL) ==
		    OSQ_THRIFT_SCAN_COMPLETE)
			break;
	}
	g_async_queue_push(calls, g_byte_array_ref(in));
	osq_thrift_reader_init(&reader, in->data, in->len);
	return osq_thrift_read_message_begin(&reader, method, &type, seqid, NULL);
}

static gpointer
server_thread(gpointer data)
{
	Server *server = data;
	gint fd = -1;

	for (guint i = 0; i < server->n_steps; i++) {
		const ServerStep *step = &server->steps[i];
		g_autofree gchar *method = NULL;
		g_autoptr(GByteArray) reply = NULL;
		gint32 seqid = 0;
		if (fd < 0 || step->action == SERVER_NEW_CONNECTION) {
			if (fd >= 0)
				(void)close(fd);
			fd = accept(server->listen_fd, NULL, NULL);
			g_assert(fd >= 0);
			if (step->action == SERVER_NEW_CONNECTION) {
				g_atomic_int_inc(&server->done);
				continue;
			}
		}
		g_assert(server_read_call(fd, server->calls, &method, &seqid));
		g_assert_cmpstr(method, ==, step->method);
		switch (step->action) {
		case SERVER_LATE:
			g_usleep(SERVER_LATE_MS * 1000);
			G_GNUC_FALLTHROUGH;
		case SERVER_REPLY:
			reply = step->reply(method, seqid);
			g_assert(send(fd, reply->data, reply->len, MSG_NOSIGNAL) ==
			         (ssize_t)reply->len);
			break;
		case SERVER_HALF:
			reply = step->reply(method, seqid);
			g_assert(send(fd, reply->data, reply->len / 2, MSG_NOSIGNAL) > 0);
			(void)close(fd);
			fd = -1;
			break;
		case SERVER_HANG_UP:
			(void)close(fd);
			fd = -1;
			break;
		case SERVER_SILENT: {
			guint8 byte;
			/* until the client gives up and closes */
			(void)recv(fd, &byte, 1, 0);
			(void)close(fd);
			fd = -1;
			break;
		}
		case SERVER_NEW_CONNECTION:
		default:
			break;
		}
		g_atomic_int_inc(&server->done);
	}
	if (fd >= 0) {
		guint8 byte;
		/* wait for the client to close, so its last reply is not cut */
		(void)recv(fd, &byte, 1, 0);
		(void)close(fd);
	}
	return NULL;
}

static Server *
server_start(const ServerStep *steps, guint n_steps)
{
	Server *server = g_new0(Server, 1);
	struct sockaddr_un address = { .sun_family = AF_UNIX };

	server->dir = g_dir_make_tmp("osq-client-test-XXXXXX", NULL);
	g_assert(server->dir != NULL);
	server->path = g_build_filename(server->dir, "osqd.sock", NULL);
	g_strlcpy(address.sun_path, server->path, sizeof(address.sun_path));
	server->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	g_assert(bind(server->listen_fd, (struct sockaddr *)&address, sizeof(address)) == 0);
	g_assert(listen(server->listen_fd, 8) == 0);
	server->steps = steps;
	server->n_steps = n_steps;
	server->calls = g_async_queue_new_full((GDestroyNotify)g_byte_array_unref);
	server->thread = g_thread_new("server", server_thread, server);
	return server;
}

static void
server_stop(Server *server)
{
	g_thread_join(server->thread);
	assert_int_equal(g_atomic_int_get(&server->done), server->n_steps);
	g_async_queue_unref(server->calls);
	(void)close(server->listen_fd);
	(void)g_unlink(server->path);
	(void)g_rmdir(server->dir);
	g_free(server->path);
	g_free(server->dir);
	g_free(server);
}

static GByteArray *
reply_ping(const gchar *method, gint32 seqid)
{
	GByteArray *out = g_byte_array_new();

	osq_thrift_write_message_begin(out, method, OSQ_THRIFT_REPLY, seqid);
	osq_thrift_write_field_begin(out, OSQ_THRIFT_STRUCT, 0);
	write_status(out, 0, "pong");
	osq_thrift_write_field_stop(out);
	return out;
}

static GByteArray *
reply_ping_wrong_seqid(const gchar *method, gint32 seqid)
{
	return reply_ping(method, seqid + 1);
}

static GByteArray *
reply_unknown_method(const gchar *method, gint32 seqid)
{
	GByteArray *out = g_byte_array_new();
	g_autofree gchar *message = g_strdup_printf("Unknown function %s", method);

	osq_thrift_write_application_exception(out, method, seqid, OSQ_THRIFT_APP_UNKNOWN_METHOD,
	                                       message);
	return out;
}

static GByteArray *
reply_columns(const gchar *method, gint32 seqid)
{
	const gchar *const rows[] = { "x", "INTEGER", NULL, "y", "TEXT", NULL, NULL };

	return build_response_reply(method, seqid, 0, "OK", rows);
}

static GByteArray *
reply_query(const gchar *method, gint32 seqid)
{
	const gchar *const rows[] = { "x", "1", "y", "one", NULL, "x", "", "y", "", NULL, NULL };

	return build_response_reply(method, seqid, 0, "OK", rows);
}

static GByteArray *
reply_typed(const gchar *method, gint32 seqid)
{
	const gchar *const columns[] = { "one", NULL };
	const gchar *const types[] = { "INTEGER", NULL };
	const gchar *const cells[] = { "1" };

	return build_typed_reply(seqid, 0, "OK", columns, types, cells, 1, NULL, 0);
}

static GByteArray *
reply_page(const gchar *method, gint32 seqid)
{
	const gchar *const columns[] = { "one", NULL };
	const gchar *const types[] = { "INTEGER", NULL };
	const gchar *const cells[] = { "1" };

	return build_page_reply(method, 1, seqid, 0, "OK", columns, types, cells, 1, 1, NULL, 0);
}

static GByteArray *
reply_page_first(const gchar *method, gint32 seqid)
{
	const gchar *const columns[] = { "n", NULL };
	const gchar *const types[] = { "BIGINT", NULL };
	const gchar *const cells[] = { "1", "" };
	const gint64 nulls[] = { 1 };

	return build_page_reply(method, 0, seqid, 0, "OK", columns, types, cells, 2, 1, nulls, 1);
}

static GByteArray *
reply_page_more(const gchar *method, gint32 seqid)
{
	const gchar *const cells[] = { "3", "" };
	const gint64 nulls[] = { 1 };

	return build_page_reply(method, 0, seqid, 0, "OK", NULL, NULL, cells, 2, 1, nulls, 1);
}

static GByteArray *
reply_page_last(const gchar *method, gint32 seqid)
{
	const gchar *const cells[] = { "5" };

	return build_page_reply(method, 1, seqid, 0, "OK", NULL, NULL, cells, 1, 1, NULL, 0);
}

static void
test_io_paging(void **state)
{
	const ServerStep steps[] = {
		{ SERVER_REPLY, "queryStart", reply_page_first },
		{ SERVER_REPLY, "queryNext", reply_page_more },
		{ SERVER_REPLY, "queryNext", reply_page_last },
		{ SERVER_REPLY, "queryStart", reply_page },
	};
	Server *server = server_start(steps, G_N_ELEMENTS(steps));
	OsqClientError *error = NULL;
	OsqClient *client = osq_client_new(server->path, 5000, &error);
	OsqResult *result = NULL;
	gint64 number = 0;

	assert_int_equal(osq_client_query(client, "SELECT n FROM t", &result, &error),
	                 OSQ_CLIENT_OK);
	assert_null(error);
	assert_int_equal(osq_result_get_n_rows(result), 5);
	assert_int_equal(osq_result_get_int64(result, 2, 0, &number), OSQ_CLIENT_OK);
	assert_int_equal(number, 3);
	assert_true(osq_result_is_null(result, 1, 0));
	assert_true(osq_result_is_null(result, 3, 0));
	assert_false(osq_result_is_null(result, 4, 0));
	assert_string_equal(osq_result_get_text(result, 4, 0), "5");
	osq_result_free(result);
	assert_int_equal(osq_client_query(client, "SELECT 1", &result, &error), OSQ_CLIENT_OK);
	assert_int_equal(osq_result_get_n_rows(result), 1);
	osq_result_free(result);
	osq_client_free(client);
	server_stop(server);
}

static void
test_io_paging_fallback(void **state)
{
	const ServerStep steps[] = {
		{ SERVER_REPLY, "queryStart", reply_unknown_method },
		{ SERVER_REPLY, "queryTyped", reply_typed },
		/* known now: queryTyped straight away */
		{ SERVER_REPLY, "queryTyped", reply_typed },
	};
	Server *server = server_start(steps, G_N_ELEMENTS(steps));
	OsqClientError *error = NULL;
	OsqClient *client = osq_client_new(server->path, 5000, &error);
	OsqResult *result = NULL;

	for (guint i = 0; i < 2; i++) {
		assert_int_equal(osq_client_query(client, "SELECT 1", &result, &error),
		                 OSQ_CLIENT_OK);
		assert_null(error);
		assert_true(osq_client_is_typed(client));
		assert_string_equal(osq_result_get_text(result, 0, 0), "1");
		osq_result_free(result);
	}
	osq_client_free(client);
	server_stop(server);
}

static void
test_io_timeout_reconnect(void **state)
{
	const ServerStep steps[] = {
		{ SERVER_SILENT, "ping", NULL },
		{ SERVER_NEW_CONNECTION, NULL, NULL },
		{ SERVER_REPLY, "ping", reply_ping },
		{ SERVER_HALF, "queryStart", reply_page },
		{ SERVER_NEW_CONNECTION, NULL, NULL },
		{ SERVER_REPLY, "ping", reply_ping_wrong_seqid },
		{ SERVER_NEW_CONNECTION, NULL, NULL },
		{ SERVER_HANG_UP, "queryStart", NULL },
		{ SERVER_NEW_CONNECTION, NULL, NULL },
		{ SERVER_REPLY, "queryStart", reply_page },
	};
	Server *server = server_start(steps, G_N_ELEMENTS(steps));
	OsqClientError *error = NULL;
	OsqClient *client = osq_client_new(server->path, 300, &error);
	OsqResult *result = NULL;
	gint64 start;

	assert_null(error);
	assert_true(osq_client_is_connected(client));
	/* no answer: a timeout, and the connection is dropped */
	start = g_get_monotonic_time();
	assert_int_equal(osq_client_ping(client, &error), OSQ_CLIENT_ERROR_TIMED_OUT);
	assert_true(g_get_monotonic_time() - start >= 250000);
	assert_int_equal(error->code, OSQ_CLIENT_ERROR_TIMED_OUT);
	g_clear_pointer(&error, osq_client_error_free);
	assert_false(osq_client_is_connected(client));
	/* the next call connects again */
	assert_int_equal(osq_client_ping(client, &error), OSQ_CLIENT_OK);
	assert_null(error);
	/* half a reply, then the daemon goes away */
	assert_int_equal(osq_client_query(client, "SELECT 1", &result, &error),
	                 OSQ_CLIENT_ERROR_IO);
	assert_null(result);
	assert_non_null(strstr(error->message, "closed the connection"));
	g_clear_pointer(&error, osq_client_error_free);
	assert_false(osq_client_is_connected(client));
	/* a reply out of sequence closes the connection too */
	assert_int_equal(osq_client_ping(client, &error), OSQ_CLIENT_ERROR_PROTOCOL);
	g_clear_pointer(&error, osq_client_error_free);
	assert_false(osq_client_is_connected(client));
	/* closed without a reply */
	assert_int_equal(osq_client_query(client, "SELECT 1", &result, NULL), OSQ_CLIENT_ERROR_IO);
	assert_int_equal(osq_client_query(client, "SELECT 1", &result, &error), OSQ_CLIENT_OK);
	assert_null(error);
	assert_string_equal(osq_result_get_text(result, 0, 0), "1");
	osq_result_free(result);
	osq_client_free(client);
	server_stop(server);
}

static void
test_io_fallback(void **state)
{
	const ServerStep steps[] = {
		{ SERVER_REPLY, "queryStart", reply_unknown_method },
		{ SERVER_REPLY, "queryTyped", reply_unknown_method },
		{ SERVER_REPLY, "getQueryColumns", reply_columns },
		{ SERVER_REPLY, "query", reply_query },
		/* known now: no queryStart or queryTyped any more */
		{ SERVER_REPLY, "getQueryColumns", reply_columns },
		{ SERVER_REPLY, "query", reply_query },
	};
	Server *server = server_start(steps, G_N_ELEMENTS(steps));
	OsqClientError *error = NULL;
	OsqClient *client = osq_client_new(server->path, 5000, &error);
	OsqResult *result = NULL;
	gint64 number = 0;

	assert_true(osq_client_is_typed(client));
	for (guint i = 0; i < 2; i++) {
		assert_int_equal(osq_client_query(client, "SELECT x, y FROM t", &result, &error),
		                 OSQ_CLIENT_OK);
		assert_null(error);
		assert_false(osq_client_is_typed(client));
		assert_int_equal(osq_result_get_n_rows(result), 2);
		assert_string_equal(osq_result_get_column_name(result, 1), "y");
		assert_int_equal(osq_result_get_int64(result, 0, 0, &number), OSQ_CLIENT_OK);
		assert_int_equal(number, 1);
		assert_true(osq_result_is_null(result, 1, 0));
		assert_string_equal(osq_result_get_text(result, 1, 1), "");
		osq_result_free(result);
	}
	osq_client_free(client);
	server_stop(server);
}

static gpointer
cancel_later_thread(gpointer data)
{
	g_usleep(100000);
	osq_client_cancel(data);
	return NULL;
}

static void
test_io_cancel(void **state)
{
	const ServerStep steps[] = {
		{ SERVER_SILENT, "queryStart", NULL },
		{ SERVER_NEW_CONNECTION, NULL, NULL },
		{ SERVER_REPLY, "queryStart", reply_page },
	};
	Server *server = server_start(steps, G_N_ELEMENTS(steps));
	OsqClientError *error = NULL;
	OsqClient *client = osq_client_new(server->path, 0, &error);
	OsqResult *result = NULL;
	GThread *thread = g_thread_new("cancel", cancel_later_thread, client);

	/* no timeout: only the cancel from the other thread ends the call */
	assert_int_equal(osq_client_query(client, "SELECT 1", &result, &error),
	                 OSQ_CLIENT_ERROR_CANCELLED);
	assert_string_equal(error->message, "the 'queryStart' call was cancelled");
	g_clear_pointer(&error, osq_client_error_free);
	g_thread_join(thread);
	assert_false(osq_client_is_connected(client));
	/* the cancel is over: the next call works */
	assert_int_equal(osq_client_query(client, "SELECT 1", &result, &error), OSQ_CLIENT_OK);
	osq_result_free(result);
	osq_client_free(client);
	server_stop(server);
}

/* ---- live follows ---- */

/* The arguments of a call as the server read them (followStart's field 2 is a bool,
 * followPoll's an i64). */
typedef struct {
	gchar *method;
	gchar *sql;
	gboolean from_start;
	gint64 cursor;
	gint32 max_rows;
	gint32 timeout_ms;
} CallArgs;

static void
call_args_clear(CallArgs *args)
{
	g_free(args->method);
	g_free(args->sql);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(CallArgs, call_args_clear)

static void
call_args_parse(const GByteArray *call, CallArgs *args)
{
	OsqThriftReader reader;
	OsqThriftMessageType type;
	gint32 seqid;

	osq_thrift_reader_init(&reader, call->data, call->len);
	assert_true(osq_thrift_read_message_begin(&reader, &args->method, &type, &seqid, NULL));
	assert_int_equal(type, OSQ_THRIFT_CALL);
	for (;;) {
		OsqThriftType field;
		gint16 id;
		guint8 byte;
		assert_true(osq_thrift_read_field_begin(&reader, &field, &id, NULL));
		if (field == OSQ_THRIFT_STOP)
			break;
		if (id == 1 && field == OSQ_THRIFT_STRING) {
			assert_true(osq_thrift_read_string(&reader, &args->sql, NULL));
		} else if (id == 2 && field == OSQ_THRIFT_BOOL) {
			assert_true(osq_thrift_read_byte(&reader, &byte, NULL));
			args->from_start = byte != 0;
		} else if (id == 2 && field == OSQ_THRIFT_I64) {
			assert_true(osq_thrift_read_i64(&reader, &args->cursor, NULL));
		} else if (id == 3 && field == OSQ_THRIFT_I32) {
			assert_true(osq_thrift_read_i32(&reader, &args->max_rows, NULL));
		} else if (id == 4 && field == OSQ_THRIFT_I32) {
			assert_true(osq_thrift_read_i32(&reader, &args->timeout_ms, NULL));
		} else {
			fail_msg("unexpected field %d of type %d", id, field);
		}
	}
	assert_int_equal(reader.pos, call->len);
}

/* The next call the server received, parsed. */
static void
server_pop_call(Server *server, CallArgs *args)
{
	g_autoptr(GByteArray) call = g_async_queue_timeout_pop(server->calls, 5 * G_USEC_PER_SEC);

	assert_non_null(call);
	call_args_parse(call, args);
}

static const gchar *const follow_columns[] = { "target_path", "action", NULL };
static const gchar *const follow_types[] = { "TEXT", "TEXT", NULL };

static void
test_follow_requests(void **state)
{
	g_autoptr(GByteArray) out = g_byte_array_new();
	g_auto(CallArgs) start = { 0 };
	g_auto(CallArgs) poll = { 0 };

	osq_client_write_follow_start(out, 3, "SELECT 1 FROM file_events", TRUE);
	call_args_parse(out, &start);
	assert_string_equal(start.method, "followStart");
	assert_string_equal(start.sql, "SELECT 1 FROM file_events");
	assert_true(start.from_start);
	g_byte_array_set_size(out, 0);
	osq_client_write_follow_poll(out, 4, "SELECT 2 FROM file_events",
	                             G_GINT64_CONSTANT(1) << 40, 17, 60000);
	call_args_parse(out, &poll);
	assert_string_equal(poll.method, "followPoll");
	assert_string_equal(poll.sql, "SELECT 2 FROM file_events");
	assert_true(poll.cursor == G_GINT64_CONSTANT(1) << 40);
	assert_int_equal(poll.max_rows, 17);
	assert_int_equal(poll.timeout_ms, 60000);
}

static void
test_follow_reply(void **state)
{
	const gchar *const cells[] = { "/a", "CREATED", "/b", "" };
	const gint64 nulls[] = { 3 };
	g_autoptr(GByteArray) rows = build_follow_reply("followPoll", 9, 5, 0, "OK", follow_columns,
	                                                follow_types, cells, 2, 2, nulls, 1);
	g_autoptr(GByteArray) bare =
	        build_follow_reply("followPoll", -1, 6, 0, "OK", NULL, NULL, cells, 1, 2, NULL, 0);
	g_autoptr(GByteArray) failed = build_follow_reply("followPoll", -1, 7, 1, "no such table",
	                                                  NULL, NULL, NULL, 0, 0, NULL, 0);
	g_autoptr(GByteArray) start = build_follow_reply(
	        "followStart", 4, 8, 0, "OK", follow_columns, follow_types, NULL, 0, 2, NULL, 0);
	g_autoptr(GByteArray) page = build_page_reply("followPoll", 1, 8, 0, "OK", follow_columns,
	                                              follow_types, cells, 1, 2, NULL, 0);
	g_autoptr(OsqResult) columns = NULL;
	g_autoptr(OsqResult) result = NULL;
	g_autoptr(OsqResult) bare_result = NULL;
	g_autoptr(GError) error = NULL;
	gint64 cursor = 0;

	columns = osq_client_parse_follow_reply(start->data, start->len, 8, "followStart", NULL,
	                                        &cursor, &error);
	assert_non_null(columns);
	assert_int_equal(cursor, 4);
	assert_int_equal(osq_result_get_n_rows(columns), 0);
	assert_int_equal(osq_result_get_n_columns(columns), 2);
	result = osq_client_parse_follow_reply(rows->data, rows->len, 5, "followPoll", columns,
	                                       &cursor, &error);
	assert_non_null(result);
	assert_int_equal(cursor, 9);
	assert_int_equal(osq_result_get_n_rows(result), 2);
	assert_string_equal(osq_result_get_text(result, 0, 0), "/a");
	assert_false(osq_result_is_null(result, 0, 1));
	assert_true(osq_result_is_null(result, 1, 1));
	/* no columns: the follow's; no cursor: the old one */
	bare_result = osq_client_parse_follow_reply(bare->data, bare->len, 6, "followPoll", columns,
	                                            &cursor, &error);
	assert_non_null(bare_result);
	assert_int_equal(cursor, 9);
	assert_string_equal(osq_result_get_column_name(bare_result, 0), "target_path");
	assert_string_equal(osq_result_get_column_type_name(bare_result, 1), "TEXT");
	assert_string_equal(osq_result_get_text(bare_result, 0, 1), "CREATED");
	/* a failing status: an error, the cursor stays */
	assert_null(osq_client_parse_follow_reply(failed->data, failed->len, 7, "followPoll",
	                                          columns, &cursor, &error));
	assert_true(g_error_matches(error, OSQ_CLIENT_ERROR, OSQ_CLIENT_ERROR_FAILED));
	assert_int_equal(cursor, 9);
	g_clear_error(&error);
	/* a bool field 6 (a QueryPage's done) is no cursor */
	g_clear_pointer(&bare_result, osq_result_free);
	bare_result = osq_client_parse_follow_reply(page->data, page->len, 8, "followPoll", columns,
	                                            &cursor, &error);
	assert_non_null(bare_result);
	assert_int_equal(cursor, 9);
	/* the reply to another call */
	assert_null(osq_client_parse_follow_reply(rows->data, rows->len, 5, "followStart", columns,
	                                          &cursor, &error));
	assert_true(g_error_matches(error, OSQ_CLIENT_ERROR, OSQ_CLIENT_ERROR_PROTOCOL));
	assert_int_equal(cursor, 9);
}

static GByteArray *
reply_follow_start(const gchar *method, gint32 seqid)
{
	return build_follow_reply(method, 41, seqid, 0, "OK", follow_columns, follow_types, NULL, 0,
	                          2, NULL, 0);
}

static GByteArray *
reply_follow_rows(const gchar *method, gint32 seqid)
{
	const gchar *const cells[] = { "/w/a", "CREATED", "/w/b", "" };
	const gint64 nulls[] = { 3 };

	return build_follow_reply(method, 43, seqid, 0, "OK", follow_columns, follow_types, cells,
	                          2, 2, nulls, 1);
}

static GByteArray *
reply_follow_empty(const gchar *method, gint32 seqid)
{
	return build_follow_reply(method, 43, seqid, 0, "OK", follow_columns, follow_types, NULL, 0,
	                          2, NULL, 0);
}

static GByteArray *
reply_follow_no_cursor(const gchar *method, gint32 seqid)
{
	const gchar *const cells[] = { "/w/c", "UPDATED" };

	return build_follow_reply(method, -1, seqid, 0, "OK", follow_columns, follow_types, cells,
	                          1, 2, NULL, 0);
}

static GByteArray *
reply_follow_failed(const gchar *method, gint32 seqid)
{
	return build_follow_reply(method, -1, seqid, 1,
	                          "a follow needs a query on an event table (file_events, "
	                          "process_events, hardware_events)",
	                          NULL, NULL, NULL, 0, 0, NULL, 0);
}

static void
test_io_follow(void **state)
{
	const ServerStep steps[] = {
		{ SERVER_REPLY, "followStart", reply_follow_start },
		{ SERVER_REPLY, "followPoll", reply_follow_rows },
		{ SERVER_REPLY, "ping", reply_ping },
		{ SERVER_REPLY, "followPoll", reply_follow_empty },
		{ SERVER_REPLY, "followPoll", reply_follow_no_cursor },
		{ SERVER_REPLY, "followPoll", reply_follow_failed },
		{ SERVER_REPLY, "followPoll", reply_follow_empty },
	};
	const gchar *sql = "SELECT target_path, action FROM file_events";
	Server *server = server_start(steps, G_N_ELEMENTS(steps));
	OsqClientError *error = NULL;
	OsqClient *client = osq_client_new(server->path, 5000, &error);
	OsqFollow *follow = NULL;
	OsqResult *rows = NULL;
	g_auto(CallArgs) start = { 0 };
	g_auto(CallArgs) poll1 = { 0 };
	g_auto(CallArgs) ping = { 0 };
	g_auto(CallArgs) poll2 = { 0 };
	g_auto(CallArgs) poll3 = { 0 };
	g_auto(CallArgs) poll4 = { 0 };
	g_auto(CallArgs) poll5 = { 0 };

	assert_int_equal(osq_client_follow(client, sql, true, &follow, &error), OSQ_CLIENT_OK);
	assert_null(error);
	assert_int_equal(osq_follow_get_cursor(follow), 41);
	server_pop_call(server, &start);
	assert_string_equal(start.method, "followStart");
	assert_string_equal(start.sql, sql);
	assert_true(start.from_start);

	/* rows, one with a NULL; the cursor moves */
	assert_int_equal(osq_follow_next(follow, 500, 10, &rows, &error), OSQ_CLIENT_OK);
	server_pop_call(server, &poll1);
	assert_string_equal(poll1.method, "followPoll");
	assert_string_equal(poll1.sql, sql);
	assert_int_equal(poll1.cursor, 41);
	assert_int_equal(poll1.max_rows, 10);
	assert_int_equal(poll1.timeout_ms, 500);
	assert_int_equal(osq_result_get_n_rows(rows), 2);
	assert_string_equal(osq_result_get_column_name(rows, 1), "action");
	assert_string_equal(osq_result_get_text(rows, 1, 0), "/w/b");
	assert_true(osq_result_is_null(rows, 1, 1));
	assert_false(osq_result_is_null(rows, 0, 1));
	assert_int_equal(osq_follow_get_cursor(follow), 43);
	g_clear_pointer(&rows, osq_result_free);

	/* another call on the client in between */
	assert_int_equal(osq_client_ping(client, &error), OSQ_CLIENT_OK);
	server_pop_call(server, &ping);
	assert_string_equal(ping.method, "ping");

	/* nothing new: no rows, the same cursor; the wait is capped at the daemon's 60 s */
	assert_int_equal(osq_follow_next(follow, 90000, 0, &rows, &error), OSQ_CLIENT_OK);
	server_pop_call(server, &poll2);
	assert_int_equal(poll2.cursor, 43);
	assert_int_equal(poll2.max_rows, 0);
	assert_int_equal(poll2.timeout_ms, 60000);
	assert_int_equal(osq_result_get_n_rows(rows), 0);
	assert_int_equal(osq_result_get_n_columns(rows), 2);
	assert_int_equal(osq_follow_get_cursor(follow), 43);
	g_clear_pointer(&rows, osq_result_free);

	/* a reply without a cursor keeps the old one */
	assert_int_equal(osq_follow_next(follow, 0, 1, &rows, &error), OSQ_CLIENT_OK);
	server_pop_call(server, &poll3);
	assert_int_equal(poll3.cursor, 43);
	assert_int_equal(osq_result_get_n_rows(rows), 1);
	assert_string_equal(osq_result_get_text(rows, 0, 1), "UPDATED");
	assert_int_equal(osq_follow_get_cursor(follow), 43);
	g_clear_pointer(&rows, osq_result_free);

	/* a failing poll: its error, no rows, the cursor stays */
	assert_int_equal(osq_follow_next(follow, 0, 0, &rows, &error), OSQ_CLIENT_ERROR_FAILED);
	assert_null(rows);
	assert_int_equal(error->code, OSQ_CLIENT_ERROR_FAILED);
	assert_non_null(strstr(error->message, "event table"));
	g_clear_pointer(&error, osq_client_error_free);
	server_pop_call(server, &poll4);
	assert_int_equal(poll4.cursor, 43);
	assert_int_equal(osq_follow_get_cursor(follow), 43);

	/* and the follow goes on from there */
	assert_int_equal(osq_follow_next(follow, 0, 0, &rows, NULL), OSQ_CLIENT_OK);
	server_pop_call(server, &poll5);
	assert_int_equal(poll5.cursor, 43);
	g_clear_pointer(&rows, osq_result_free);

	osq_follow_free(follow);
	osq_follow_free(NULL);
	osq_client_free(client);
	server_stop(server);
}

static void
test_io_follow_errors(void **state)
{
	const ServerStep steps[] = {
		{ SERVER_REPLY, "followStart", reply_follow_failed },
		{ SERVER_REPLY, "followStart", reply_unknown_method },
	};
	Server *server = server_start(steps, G_N_ELEMENTS(steps));
	OsqClientError *error = NULL;
	OsqClient *client = osq_client_new(server->path, 5000, &error);
	OsqFollow *follow = NULL;

	/* the daemon refuses the SQL */
	assert_int_equal(osq_client_follow(client, "SELECT 1", false, &follow, &error),
	                 OSQ_CLIENT_ERROR_FAILED);
	assert_null(follow);
	assert_int_equal(error->code, OSQ_CLIENT_ERROR_FAILED);
	assert_non_null(strstr(error->message, "event table"));
	g_clear_pointer(&error, osq_client_error_free);
	/* osquery has no follows */
	assert_int_equal(osq_client_follow(client, "SELECT 1", false, &follow, NULL),
	                 OSQ_CLIENT_ERROR_NOT_SUPPORTED);
	assert_null(follow);
	assert_true(osq_client_is_connected(client));
	/* no SQL */
	assert_int_equal(osq_client_follow(client, NULL, false, &follow, &error),
	                 OSQ_CLIENT_ERROR_INVALID_ARGUMENT);
	assert_null(follow);
	g_clear_pointer(&error, osq_client_error_free);
	osq_client_free(client);
	server_stop(server);
}

static void
test_io_follow_long_poll(void **state)
{
	const ServerStep steps[] = {
		{ SERVER_REPLY, "followStart", reply_follow_start },
		{ SERVER_LATE, "followPoll", reply_follow_rows },
		{ SERVER_SILENT, "ping", NULL },
	};
	Server *server = server_start(steps, G_N_ELEMENTS(steps));
	OsqClientError *error = NULL;
	OsqClient *client = osq_client_new(server->path, 300, &error);
	OsqFollow *follow = NULL;
	OsqResult *rows = NULL;
	gint64 start;

	assert_int_equal(
	        osq_client_follow(client, "SELECT * FROM file_events", false, &follow, &error),
	        OSQ_CLIENT_OK);
	/* the reply comes after the client's 300 ms, within the poll's wait */
	start = g_get_monotonic_time();
	assert_int_equal(osq_follow_next(follow, SERVER_LATE_MS, 0, &rows, &error), OSQ_CLIENT_OK);
	assert_null(error);
	assert_true(g_get_monotonic_time() - start >= (SERVER_LATE_MS - 50) * 1000);
	assert_int_equal(osq_result_get_n_rows(rows), 2);
	assert_int_equal(osq_follow_get_cursor(follow), 43);
	osq_result_free(rows);
	/* other calls keep the client's timeout */
	assert_int_equal(osq_client_ping(client, &error), OSQ_CLIENT_ERROR_TIMED_OUT);
	g_clear_pointer(&error, osq_client_error_free);
	osq_follow_free(follow);
	osq_client_free(client);
	server_stop(server);
}

static void
test_connect_errors(void **state)
{
	OsqClientError *error = NULL;
	g_autofree gchar *dir = g_dir_make_tmp("osq-client-test-XXXXXX", NULL);
	g_autofree gchar *path = g_build_filename(dir, "none.sock", NULL);
	g_autofree gchar *long_path = g_strnfill(200, 'x');

	assert_null(osq_client_new(path, 100, &error));
	assert_int_equal(error->code, OSQ_CLIENT_ERROR_NOT_FOUND);
	assert_non_null(strstr(error->message, path));
	g_clear_pointer(&error, osq_client_error_free);
	assert_null(osq_client_new(long_path, 100, &error));
	assert_int_equal(error->code, OSQ_CLIENT_ERROR_INVALID_ARGUMENT);
	g_clear_pointer(&error, osq_client_error_free);
	assert_null(osq_client_new(NULL, 100, NULL));
	(void)g_rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_write_call),
		cmocka_unit_test(test_ping_reply),
		cmocka_unit_test(test_typed_success),
		cmocka_unit_test(test_typed_values),
		cmocka_unit_test(test_typed_empty),
		cmocka_unit_test(test_typed_failed_status),
		cmocka_unit_test(test_exception),
		cmocka_unit_test(test_wrong_seqid_and_name),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_inconsistent),
		cmocka_unit_test(test_scanner_split),
		cmocka_unit_test(test_scanner_huge),
		cmocka_unit_test(test_scanner_random),
		cmocka_unit_test(test_untyped),
		cmocka_unit_test(test_extensions),
		cmocka_unit_test(test_io_timeout_reconnect),
		cmocka_unit_test(test_io_fallback),
		cmocka_unit_test(test_io_cancel),
		cmocka_unit_test(test_pages),
		cmocka_unit_test(test_pages_errors),
		cmocka_unit_test(test_io_paging),
		cmocka_unit_test(test_io_paging_fallback),
		cmocka_unit_test(test_connect_errors),
		cmocka_unit_test(test_follow_requests),
		cmocka_unit_test(test_follow_reply),
		cmocka_unit_test(test_io_follow),
		cmocka_unit_test(test_io_follow_errors),
		cmocka_unit_test(test_io_follow_long_poll),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
