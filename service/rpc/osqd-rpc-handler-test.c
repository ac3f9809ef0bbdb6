/* SPDX-License-Identifier: Apache-2.0
 *
 * Handler tests without sockets: osquery's byte-exact frames in, the exact replies out; then
 * every method's reply decoded and checked (value rendering, several statements, errors, caps,
 * timeouts, access to shutdown, queryTyped's NULL positions), and queryStart/queryNext paging
 * with read-ahead driven by hand.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <string.h>

#include "osq-error.h"
#include "osq-thrift.h"
#include "osqd-rpc-handler.h"

/* from osquery-wire-examples.txt */
#define PING_CALL "800100010000000470696e670000000000"
#define PING_REPLY                                                                                 \
	"800100020000000470696e67000000000c0000080001000000000b000200000004706f6e670a0003000000"   \
	"00000000000000"
#define QUERY_CALL "80010001000000057175657279000000000b00010000000d73656c6563742031206173207800"
#define QUERY_REPLY                                                                                \
	"80010002000000057175657279000000000c00000c0001080001000000000b0002000000024f4b0a000300"   \
	"00000000000000000f00020d000000010b0b00000001000000017800000001310000"
#define SHUTDOWN_CALL  "800100010000000873687574646f776e0000000000"
#define SHUTDOWN_REPLY "800100020000000873687574646f776e0000000000"
#define FOO_CALL       "8001000100000003666f6f0000000000"
#define FOO_REPLY                                                                                  \
	"8001000300000003666f6f000000000b000100000014556e6b6e6f776e2066756e6374696f6e20666f6f08"   \
	"00020000000100"
#define REGISTER_CALL                                                                              \
	"80010001000000117265676973746572457874656e73696f6e000000000c00010b000100000003657874"     \
	"0b000200000003312e300b000300000005302e302e300b000400000005302e302e30000d00020b0d0000"     \
	"0001000000057461626c650b0f0000000100000001740d000000010b0b0000000400000002696400000006"   \
	"636f6c756d6e000000046e616d65000000016100000004747970650000000454455854000000026f7000"     \
	"0000013000"
#define CALL_CALL                                                                                  \
	"800100010000000463616c6c000000000b0001000000057461626c650b000200000001740d00030b0b0000"   \
	"000100000006616374696f6e00000007636f6c756d6e7300"

/* as Thrift's Python library writes them */
#define EXTENSIONS_REPLY "800100020000000a657874656e73696f6e73000000000d00000a0c0000000000"
#define OPTIONS_REPLY                                                                              \
	"80010002000000076f7074696f6e73000000000d00000b0c0000000100000007766572626f73650b000100"   \
	"000004747275650b00020000000566616c73650b000300000004626f6f6c0000"

typedef struct {
	OsqdRegistry *registry;
	OsqdRpcHandler *handler;
	OsqdRpcSession *session;
	OsqdRpcLimits limits;
} Fixture;

static GByteArray *
hex_bytes(const gchar *hex)
{
	GByteArray *out = g_byte_array_new();

	for (gsize i = 0; hex[i] != '\0' && hex[i + 1] != '\0'; i += 2) {
		guint8 byte = (guint8)(g_ascii_xdigit_value(hex[i]) * 16 +
		                       g_ascii_xdigit_value(hex[i + 1]));
		g_byte_array_append(out, &byte, 1);
	}
	return out;
}

static int
setup_with(void **state, const OsqdRpcLimits *limits, uid_t uid)
{
	Fixture *fixture = g_new0(Fixture, 1);
	g_autoptr(OsqdPeer) peer = osqd_peer_new(uid, uid, 42);

	fixture->limits = *limits;
	fixture->registry = osqd_registry_new_builtin();
	fixture->handler = osqd_rpc_handler_new(fixture->registry, &fixture->limits);
	fixture->session = osqd_rpc_session_new(fixture->handler, peer);
	*state = fixture;
	return 0;
}

static int
setup(void **state)
{
	OsqdRpcLimits limits = { 60000, 1000, 1024 * 1024 };

	return setup_with(state, &limits, 0);
}

/* room for results large enough to go through the encoder thread */
static int
setup_large(void **state)
{
	OsqdRpcLimits limits = { 60000, 100000, 64 * 1024 * 1024 };

	return setup_with(state, &limits, 0);
}

static int
teardown(void **state)
{
	Fixture *fixture = *state;

	osqd_rpc_session_free(fixture->session);
	osqd_rpc_handler_free(fixture->handler);
	osqd_registry_unref(fixture->registry);
	g_free(fixture);
	return 0;
}

/* Sends @call (hex) and returns the reply. */
static GByteArray *
roundtrip_hex(Fixture *fixture, const gchar *call)
{
	g_autoptr(GByteArray) in = hex_bytes(call);
	g_autoptr(GError) error = NULL;
	GByteArray *reply = g_byte_array_new();

	if (!osqd_rpc_session_handle(fixture->session, in->data, in->len, reply, &error))
		fail_msg("%s", error->message);
	return reply;
}

static void
assert_reply_hex(GByteArray *reply, const gchar *expected)
{
	g_autoptr(GByteArray) want = hex_bytes(expected);

	assert_int_equal(reply->len, want->len);
	assert_memory_equal(reply->data, want->data, want->len);
}

static GByteArray *
call_sql(Fixture *fixture, const gchar *method, const gchar *sql)
{
	g_autoptr(GByteArray) in = g_byte_array_new();
	g_autoptr(GError) error = NULL;
	GByteArray *reply = g_byte_array_new();

	osq_thrift_write_message_begin(in, method, OSQ_THRIFT_CALL, 7);
	osq_thrift_write_field_begin(in, OSQ_THRIFT_STRING, 1);
	osq_thrift_write_string(in, sql);
	osq_thrift_write_field_stop(in);
	if (!osqd_rpc_session_handle(fixture->session, in->data, in->len, reply, &error))
		fail_msg("%s", error->message);
	return reply;
}

/* ---- decoding replies ---- */

static void
read_header(OsqThriftReader *reader, const gchar *method)
{
	g_autofree gchar *name = NULL;
	OsqThriftMessageType type;
	gint32 seqid;

	assert_true(osq_thrift_read_message_begin(reader, &name, &type, &seqid, NULL));
	assert_string_equal(name, method);
	assert_int_equal(type, OSQ_THRIFT_REPLY);
}

static void
read_status(OsqThriftReader *reader, gint32 *code, gchar **message)
{
	for (;;) {
		OsqThriftType type;
		gint16 id;
		assert_true(osq_thrift_read_field_begin(reader, &type, &id, NULL));
		if (type == OSQ_THRIFT_STOP)
			return;
		if (id == 1)
			assert_true(osq_thrift_read_i32(reader, code, NULL));
		else if (id == 2)
			assert_true(osq_thrift_read_string(reader, message, NULL));
		else
			assert_true(osq_thrift_skip(reader, type, NULL));
	}
}

/* An ExtensionStatus reply (registerExtension...): code, message and uuid. */
static gint32
decode_status(GByteArray *reply, const gchar *method, gchar **message, gint64 *uuid)
{
	OsqThriftReader reader;
	OsqThriftType type;
	gint32 code = -1;
	gint16 id;

	osq_thrift_reader_init(&reader, reply->data, reply->len);
	read_header(&reader, method);
	assert_true(osq_thrift_read_field_begin(&reader, &type, &id, NULL));
	assert_int_equal(type, OSQ_THRIFT_STRUCT);
	assert_int_equal(id, 0);
	for (;;) {
		assert_true(osq_thrift_read_field_begin(&reader, &type, &id, NULL));
		if (type == OSQ_THRIFT_STOP)
			break;
		if (id == 1)
			assert_true(osq_thrift_read_i32(&reader, &code, NULL));
		else if (id == 2)
			assert_true(osq_thrift_read_string(&reader, message, NULL));
		else if (id == 3 && uuid != NULL)
			assert_true(osq_thrift_read_i64(&reader, uuid, NULL));
		else
			assert_true(osq_thrift_skip(&reader, type, NULL));
	}
	return code;
}

/* An ExtensionResponse reply: status and rows (GHashTable each); keys in wire order too. */
static GPtrArray *
decode_response(GByteArray *reply, const gchar *method, gint32 *code, gchar **message,
                GPtrArray *key_order)
{
	OsqThriftReader reader;
	GPtrArray *rows = g_ptr_array_new_with_free_func((GDestroyNotify)g_hash_table_unref);
	OsqThriftType type;
	gint16 id;

	osq_thrift_reader_init(&reader, reply->data, reply->len);
	read_header(&reader, method);
	assert_true(osq_thrift_read_field_begin(&reader, &type, &id, NULL));
	assert_int_equal(type, OSQ_THRIFT_STRUCT);
	assert_int_equal(id, 0);
	for (;;) {
		assert_true(osq_thrift_read_field_begin(&reader, &type, &id, NULL));
		if (type == OSQ_THRIFT_STOP)
			break;
		if (id == 1) {
			read_status(&reader, code, message);
		} else if (id == 2) {
			OsqThriftType element;
			guint32 n;
			assert_true(osq_thrift_read_list_begin(&reader, &element, &n, NULL));
			for (guint32 i = 0; i < n; i++) {
				GHashTable *row = g_hash_table_new_full(g_str_hash, g_str_equal,
				                                        g_free, g_free);
				OsqThriftType k, v;
				guint32 size;
				assert_true(
				        osq_thrift_read_map_begin(&reader, &k, &v, &size, NULL));
				for (guint32 j = 0; j < size; j++) {
					gchar *key = NULL, *value = NULL;
					assert_true(osq_thrift_read_string(&reader, &key, NULL));
					assert_true(osq_thrift_read_string(&reader, &value, NULL));
					if (key_order != NULL)
						g_ptr_array_add(key_order, g_strdup(key));
					g_hash_table_replace(row, key, value);
				}
				g_ptr_array_add(rows, row);
			}
		} else {
			assert_true(osq_thrift_skip(&reader, type, NULL));
		}
	}
	assert_true(osq_thrift_read_field_begin(&reader, &type, &id, NULL));
	assert_int_equal(type, OSQ_THRIFT_STOP);
	assert_int_equal(reader.pos, reply->len);
	return rows;
}

static const gchar *
row_value(GPtrArray *rows, guint index, const gchar *key)
{
	assert_true(index < rows->len);
	return g_hash_table_lookup(rows->pdata[index], key);
}

/* ---- tests ---- */

static void
test_wire_examples(void **state)
{
	Fixture *fixture = *state;
	g_autoptr(GByteArray) ping = roundtrip_hex(fixture, PING_CALL);
	g_autoptr(GByteArray) query = roundtrip_hex(fixture, QUERY_CALL);
	g_autoptr(GByteArray) foo = roundtrip_hex(fixture, FOO_CALL);
	g_autoptr(GByteArray) shutdown = roundtrip_hex(fixture, SHUTDOWN_CALL);

	assert_reply_hex(ping, PING_REPLY);
	assert_reply_hex(query, QUERY_REPLY);
	assert_reply_hex(foo, FOO_REPLY);
	assert_reply_hex(shutdown, SHUTDOWN_REPLY);
	assert_true(osqd_rpc_session_shutdown_requested(fixture->session));
}

static void
test_shutdown_refused(void **state)
{
	Fixture *fixture = *state;
	g_autoptr(GByteArray) reply = roundtrip_hex(fixture, SHUTDOWN_CALL);
	OsqThriftReader reader;
	g_autofree gchar *name = NULL;
	g_autofree gchar *message = NULL;
	OsqThriftMessageType type;
	OsqThriftType field;
	gint32 seqid, kind = 0;
	gint16 id;

	assert_false(osqd_rpc_session_shutdown_requested(fixture->session));
	osq_thrift_reader_init(&reader, reply->data, reply->len);
	assert_true(osq_thrift_read_message_begin(&reader, &name, &type, &seqid, NULL));
	assert_int_equal(type, OSQ_THRIFT_EXCEPTION);
	assert_string_equal(name, "shutdown");
	assert_true(osq_thrift_read_field_begin(&reader, &field, &id, NULL));
	assert_true(osq_thrift_read_string(&reader, &message, NULL));
	assert_true(osq_thrift_read_field_begin(&reader, &field, &id, NULL));
	assert_true(osq_thrift_read_i32(&reader, &kind, NULL));
	assert_int_equal(kind, OSQ_THRIFT_APP_INTERNAL_ERROR);
	assert_string_equal(message, "permission denied: shutdown requires root");
}

static void
test_values(void **state)
{
	Fixture *fixture = *state;
	g_autoptr(GByteArray) reply = call_sql(
	        fixture, "query",
	        "SELECT 1.0 AS d, 0.5 AS h, -7 AS i, 9223372036854775807 AS big, NULL AS n, "
	        "'caf\xc3\xa9' AS t, x'ff41' AS b, CAST(x'80' AS TEXT) AS bad, '' AS e");
	g_autofree gchar *message = NULL;
	g_autoptr(GPtrArray) rows = NULL;
	gint32 code = -1;

	rows = decode_response(reply, "query", &code, &message, NULL);
	assert_int_equal(code, 0);
	assert_string_equal(message, "OK");
	assert_int_equal(rows->len, 1);
	assert_string_equal(row_value(rows, 0, "d"), "1.0");
	assert_string_equal(row_value(rows, 0, "h"), "0.5");
	assert_string_equal(row_value(rows, 0, "i"), "-7");
	assert_string_equal(row_value(rows, 0, "big"), "9223372036854775807");
	assert_string_equal(row_value(rows, 0, "n"), "");
	assert_string_equal(row_value(rows, 0, "t"), "caf\xc3\xa9");
	assert_string_equal(row_value(rows, 0, "b"), "\xef\xbf\xbd"
	                                             "A");
	assert_string_equal(row_value(rows, 0, "bad"), "\xef\xbf\xbd");
	assert_string_equal(row_value(rows, 0, "e"), "");
}

static void
test_key_order_and_duplicates(void **state)
{
	Fixture *fixture = *state;
	g_autoptr(GByteArray) reply = call_sql(fixture, "query", "SELECT 1 AS b, 2 AS a, 3 AS b");
	g_autoptr(GPtrArray) keys = g_ptr_array_new_with_free_func(g_free);
	g_autofree gchar *message = NULL;
	g_autoptr(GPtrArray) rows = NULL;
	gint32 code = -1;

	rows = decode_response(reply, "query", &code, &message, keys);
	assert_int_equal(code, 0);
	assert_int_equal(keys->len, 2);
	assert_string_equal(keys->pdata[0], "a");
	assert_string_equal(keys->pdata[1], "b");
	assert_string_equal(row_value(rows, 0, "b"), "3");
}

static void
test_statements(void **state)
{
	Fixture *fixture = *state;
	g_autoptr(GByteArray) reply = call_sql(
	        fixture, "query",
	        "  ; CREATE TEMP TABLE t(x); INSERT INTO t VALUES (5), (6); SELECT x FROM t; "
	        "SELECT 'z' AS y; -- trailing comment\n");
	g_autofree gchar *message = NULL;
	g_autoptr(GPtrArray) rows = NULL;
	gint32 code = -1;

	rows = decode_response(reply, "query", &code, &message, NULL);
	assert_int_equal(code, 0);
	assert_int_equal(rows->len, 3);
	assert_string_equal(row_value(rows, 0, "x"), "5");
	assert_string_equal(row_value(rows, 1, "x"), "6");
	assert_string_equal(row_value(rows, 2, "y"), "z");
}

static void
test_errors(void **state)
{
	Fixture *fixture = *state;
	const gchar *cases[][2] = {
		{ "selec 1", "syntax error" },
		{ "SELECT * FROM no_such_table", "no such table" },
		{ "CREATE TABLE main.t(x)", "not authorized" },
		{ "ATTACH DATABASE '/tmp/osqd-test.db' AS other", "not authorized" },
		{ "SELECT 1; selec 2", "syntax error" },
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GByteArray) reply = call_sql(fixture, "query", cases[i][0]);
		g_autofree gchar *message = NULL;
		g_autoptr(GPtrArray) rows = NULL;
		gint32 code = -1;
		rows = decode_response(reply, "query", &code, &message, NULL);
		assert_int_equal(code, 1);
		assert_int_equal(rows->len, 0);
		if (strstr(message, cases[i][1]) == NULL)
			fail_msg("%s: '%s' lacks '%s'", cases[i][0], message, cases[i][1]);
	}
}

static void
test_row_cap(void **state)
{
	Fixture *fixture = *state;
	g_autoptr(GByteArray) reply = call_sql(
	        fixture, "query",
	        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 1001) "
	        "SELECT x FROM c");
	g_autoptr(GByteArray) ok = call_sql(
	        fixture, "query",
	        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 1000) "
	        "SELECT x FROM c");
	g_autofree gchar *message = NULL;
	g_autofree gchar *message_ok = NULL;
	g_autoptr(GPtrArray) rows = NULL;
	g_autoptr(GPtrArray) rows_ok = NULL;
	gint32 code = -1;

	rows = decode_response(reply, "query", &code, &message, NULL);
	assert_int_equal(code, 1);
	assert_int_equal(rows->len, 0);
	assert_non_null(strstr(message, "more than 1000 rows"));
	assert_non_null(strstr(message, "--query_max_rows"));
	rows_ok = decode_response(ok, "query", &code, &message_ok, NULL);
	assert_int_equal(code, 0);
	assert_int_equal(rows_ok->len, 1000);
	assert_string_equal(row_value(rows_ok, 999, "x"), "1000");
}

static void
test_byte_cap(void **state)
{
	Fixture *fixture = *state;
	g_autoptr(GByteArray) reply =
	        call_sql(fixture, "query", "SELECT zeroblob(2 * 1024 * 1024) AS big");
	g_autofree gchar *message = NULL;
	g_autoptr(GPtrArray) rows = NULL;
	gint32 code = -1;

	rows = decode_response(reply, "query", &code, &message, NULL);
	assert_int_equal(code, 1);
	assert_non_null(strstr(message, "--query_max_bytes"));
	assert_true(reply->len < 1024);
}

static void
test_timeout(void **state)
{
	Fixture *fixture = *state;
	g_autoptr(GByteArray) reply = NULL;
	g_autofree gchar *message = NULL;
	g_autoptr(GPtrArray) rows = NULL;
	gint64 start = g_get_monotonic_time();
	gint32 code = -1;

	reply = call_sql(fixture, "query",
	                 "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
	                 "SELECT count(*) AS n FROM c");
	rows = decode_response(reply, "query", &code, &message, NULL);
	assert_int_equal(code, 1);
	assert_string_equal(message,
	                    "query timed out after 100 ms (the limit set by --query_timeout)");
	assert_true(g_get_monotonic_time() - start < 2 * G_USEC_PER_SEC);
}

static void
test_get_query_columns(void **state)
{
	Fixture *fixture = *state;
	g_autoptr(GByteArray) reply =
	        call_sql(fixture, "getQueryColumns", "SELECT pid, name, 1 AS one FROM processes");
	g_autoptr(GByteArray) bad =
	        call_sql(fixture, "getQueryColumns", "SELECT nope FROM nowhere");
	g_autoptr(GPtrArray) keys = g_ptr_array_new_with_free_func(g_free);
	g_autofree gchar *message = NULL;
	g_autofree gchar *message_bad = NULL;
	g_autoptr(GPtrArray) rows = NULL;
	g_autoptr(GPtrArray) rows_bad = NULL;
	gint32 code = -1;

	rows = decode_response(reply, "getQueryColumns", &code, &message, keys);
	assert_int_equal(code, 0);
	assert_int_equal(rows->len, 3);
	assert_string_equal(keys->pdata[0], "pid");
	assert_string_equal(keys->pdata[1], "name");
	assert_string_equal(keys->pdata[2], "one");
	assert_string_equal(row_value(rows, 0, "pid"), "BIGINT");
	assert_string_equal(row_value(rows, 1, "name"), "TEXT");
	/* expressions: typed from the statement's program, as osquery does */
	assert_string_equal(row_value(rows, 2, "one"), "INTEGER");
	rows_bad = decode_response(bad, "getQueryColumns", &code, &message_bad, NULL);
	assert_int_equal(code, 1);
	assert_non_null(strstr(message_bad, "no such table"));
}

static void
test_get_query_columns_expressions(void **state)
{
	Fixture *fixture = *state;
	static const gchar *const expected[][2] = {
		{ "a", "INTEGER" }, { "b", "TEXT" },    { "c", "DOUBLE" },  { "d", "BIGINT" },
		{ "e", "TEXT" },    { "f", "INTEGER" }, { "g", "BIGINT" },  { "h", "DOUBLE" },
		{ "i", "TEXT" },    { "j", "BIGINT" },  { "k", "UNKNOWN" }, { "l", "UNKNOWN" },
		{ "m", "BIGINT" },  { "n", "TEXT" },
	};
	g_autoptr(GByteArray) reply = call_sql(
	        fixture, "getQueryColumns",
	        "SELECT 1 AS a, 'x' AS b, 1.5 AS c, 1 + 2 AS d, 'a' || 'b' AS e, 1 = 2 AS f, "
	        "5000000000 AS g, CAST('1' AS REAL) AS h, CAST(1 AS TEXT) AS i, count(*) AS j, "
	        "NULL AS k, upper('x') AS l, pid * 2 AS m, name AS n FROM processes");
	g_autoptr(GPtrArray) keys = g_ptr_array_new_with_free_func(g_free);
	g_autofree gchar *message = NULL;
	g_autoptr(GPtrArray) rows = NULL;
	gint32 code = -1;

	rows = decode_response(reply, "getQueryColumns", &code, &message, keys);
	assert_int_equal(code, 0);
	assert_int_equal(rows->len, G_N_ELEMENTS(expected));
	for (guint i = 0; i < G_N_ELEMENTS(expected); i++) {
		assert_string_equal(keys->pdata[i], expected[i][0]);
		if (g_strcmp0(row_value(rows, i, expected[i][0]), expected[i][1]) != 0)
			fail_msg("%s: %s, expected %s", expected[i][0],
			         row_value(rows, i, expected[i][0]), expected[i][1]);
	}
}

static void
test_query_typed(void **state)
{
	Fixture *fixture = *state;
	g_autoptr(GByteArray) reply =
	        call_sql(fixture, "queryTyped",
	                 "SELECT 'ignored' AS z; SELECT 1 AS a, NULL AS b, 2.5 AS c UNION ALL "
	                 "SELECT NULL, 'x', NULL");
	g_autoptr(GPtrArray) columns = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GPtrArray) types = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GPtrArray) cells = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GArray) nulls = g_array_new(FALSE, FALSE, sizeof(gint64));
	g_autofree gchar *message = NULL;
	OsqThriftReader reader;
	OsqThriftType type, element;
	gint32 code = -1;
	guint32 n, m;
	gint16 id;

	osq_thrift_reader_init(&reader, reply->data, reply->len);
	read_header(&reader, "queryTyped");
	assert_true(osq_thrift_read_field_begin(&reader, &type, &id, NULL));
	assert_int_equal(id, 0);
	for (;;) {
		assert_true(osq_thrift_read_field_begin(&reader, &type, &id, NULL));
		if (type == OSQ_THRIFT_STOP)
			break;
		if (id == 1) {
			read_status(&reader, &code, &message);
			continue;
		}
		assert_true(osq_thrift_read_list_begin(&reader, &element, &n, NULL));
		for (guint32 i = 0; i < n; i++) {
			gchar *text = NULL;
			gint64 cell;
			switch (id) {
			case 2:
			case 3:
				assert_true(osq_thrift_read_string(&reader, &text, NULL));
				g_ptr_array_add(id == 2 ? columns : types, text);
				break;
			case 4:
				assert_true(
				        osq_thrift_read_list_begin(&reader, &element, &m, NULL));
				for (guint32 j = 0; j < m; j++) {
					assert_true(osq_thrift_read_string(&reader, &text, NULL));
					g_ptr_array_add(cells, text);
				}
				break;
			default:
				assert_true(osq_thrift_read_i64(&reader, &cell, NULL));
				g_array_append_val(nulls, cell);
			}
		}
	}
	assert_int_equal(code, 0);
	assert_int_equal(columns->len, 3);
	assert_string_equal(columns->pdata[0], "a");
	assert_string_equal(types->pdata[0], "BIGINT");
	assert_string_equal(types->pdata[2], "DOUBLE");
	assert_int_equal(cells->len, 6);
	assert_string_equal(cells->pdata[0], "1");
	assert_string_equal(cells->pdata[1], "");
	assert_string_equal(cells->pdata[2], "2.5");
	assert_string_equal(cells->pdata[4], "x");
	assert_int_equal(nulls->len, 3);
	assert_int_equal(g_array_index(nulls, gint64, 0), 1);
	assert_int_equal(g_array_index(nulls, gint64, 1), 3);
	assert_int_equal(g_array_index(nulls, gint64, 2), 5);
}

/* ---- paging ---- */

typedef struct {
	gint32 code;
	gchar *message;
	GPtrArray *columns;
	GPtrArray *types;
	GPtrArray *cells; /* all cells, row by row */
	GArray *nulls;    /* gint64 */
	guint n_rows;
	gboolean done;
	gboolean have_done;
} Page;

static void
page_free(Page *page)
{
	g_free(page->message);
	g_ptr_array_unref(page->columns);
	g_ptr_array_unref(page->types);
	g_ptr_array_unref(page->cells);
	g_array_unref(page->nulls);
	g_free(page);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(Page, page_free)

static Page *
decode_page(GByteArray *reply, const gchar *method)
{
	Page *page = g_new0(Page, 1);
	OsqThriftReader reader;
	OsqThriftType type, element;
	guint32 n, m;
	gint16 id;

	page->code = -1;
	page->columns = g_ptr_array_new_with_free_func(g_free);
	page->types = g_ptr_array_new_with_free_func(g_free);
	page->cells = g_ptr_array_new_with_free_func(g_free);
	page->nulls = g_array_new(FALSE, FALSE, sizeof(gint64));
	osq_thrift_reader_init(&reader, reply->data, reply->len);
	read_header(&reader, method);
	assert_true(osq_thrift_read_field_begin(&reader, &type, &id, NULL));
	assert_int_equal(id, 0);
	for (;;) {
		assert_true(osq_thrift_read_field_begin(&reader, &type, &id, NULL));
		if (type == OSQ_THRIFT_STOP)
			break;
		if (id == 1) {
			read_status(&reader, &page->code, &page->message);
			continue;
		}
		if (id == 6) {
			guint8 done;
			assert_int_equal(type, OSQ_THRIFT_BOOL);
			assert_true(osq_thrift_read_byte(&reader, &done, NULL));
			page->done = done != 0;
			page->have_done = TRUE;
			continue;
		}
		assert_true(osq_thrift_read_list_begin(&reader, &element, &n, NULL));
		if (id == 4)
			page->n_rows = n;
		for (guint32 i = 0; i < n; i++) {
			gchar *text = NULL;
			gint64 cell;
			switch (id) {
			case 2:
			case 3:
				assert_true(osq_thrift_read_string(&reader, &text, NULL));
				g_ptr_array_add(id == 2 ? page->columns : page->types, text);
				break;
			case 4:
				assert_true(
				        osq_thrift_read_list_begin(&reader, &element, &m, NULL));
				for (guint32 j = 0; j < m; j++) {
					assert_true(osq_thrift_read_string(&reader, &text, NULL));
					g_ptr_array_add(page->cells, text);
				}
				break;
			default:
				assert_true(osq_thrift_read_i64(&reader, &cell, NULL));
				g_array_append_val(page->nulls, cell);
			}
		}
	}
	assert_true(osq_thrift_read_field_begin(&reader, &type, &id, NULL));
	assert_int_equal(type, OSQ_THRIFT_STOP);
	assert_int_equal(reader.pos, reply->len);
	assert_true(page->have_done);
	return page;
}

static Page *
query_start(Fixture *fixture, const gchar *sql, gint32 page_rows)
{
	g_autoptr(GByteArray) in = g_byte_array_new();
	g_autoptr(GByteArray) reply = g_byte_array_new();
	g_autoptr(GError) error = NULL;

	osq_thrift_write_message_begin(in, "queryStart", OSQ_THRIFT_CALL, 9);
	osq_thrift_write_field_begin(in, OSQ_THRIFT_STRING, 1);
	osq_thrift_write_string(in, sql);
	osq_thrift_write_field_begin(in, OSQ_THRIFT_I32, 2);
	osq_thrift_write_i32(in, page_rows);
	osq_thrift_write_field_stop(in);
	if (!osqd_rpc_session_handle(fixture->session, in->data, in->len, reply, &error))
		fail_msg("%s", error->message);
	return decode_page(reply, "queryStart");
}

static Page *
query_next(Fixture *fixture)
{
	g_autoptr(GByteArray) in = g_byte_array_new();
	g_autoptr(GByteArray) reply = g_byte_array_new();
	g_autoptr(GError) error = NULL;

	osq_thrift_write_message_begin(in, "queryNext", OSQ_THRIFT_CALL, 10);
	osq_thrift_write_field_stop(in);
	if (!osqd_rpc_session_handle(fixture->session, in->data, in->len, reply, &error))
		fail_msg("%s", error->message);
	return decode_page(reply, "queryNext");
}

#define SERIES(n) "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT " n ") "

static void
test_paging_boundaries(void **state)
{
	Fixture *fixture = *state;
	g_autoptr(Page) empty = query_start(fixture, "SELECT 1 AS a WHERE 0", 3);
	g_autoptr(Page) exact = NULL;
	g_autoptr(Page) after = NULL;
	g_autoptr(Page) blank = NULL;

	assert_int_equal(empty->code, 0);
	assert_true(empty->done);
	assert_int_equal(empty->n_rows, 0);
	assert_int_equal(empty->columns->len, 1);
	assert_string_equal(empty->types->pdata[0], "TEXT");
	assert_false(osqd_rpc_session_has_work(fixture->session));

	/* exactly one page: done without an empty page after it */
	exact = query_start(fixture, SERIES("3") "SELECT x FROM c", 3);
	assert_int_equal(exact->code, 0);
	assert_int_equal(exact->n_rows, 3);
	assert_true(exact->done);
	assert_string_equal(exact->types->pdata[0], "BIGINT");
	assert_false(osqd_rpc_session_has_work(fixture->session));
	after = query_next(fixture);
	assert_int_equal(after->code, 1);
	assert_true(after->done);
	assert_string_equal(after->message, "no query in progress");

	/* only blanks and comments: an empty last page */
	blank = query_start(fixture, " ; -- nothing\n", 0);
	assert_int_equal(blank->code, 0);
	assert_true(blank->done);
	assert_int_equal(blank->columns->len, 0);
}

static void
test_paging_pages(void **state)
{
	Fixture *fixture = *state;
	g_autoptr(Page) first = query_start(
	        fixture,
	        SERIES("7") "SELECT x, CASE x % 2 WHEN 0 THEN NULL ELSE 'odd' END AS o FROM c", 3);
	g_autoptr(Page) second = NULL;
	g_autoptr(Page) third = NULL;

	assert_int_equal(first->code, 0);
	assert_false(first->done);
	assert_int_equal(first->n_rows, 3);
	assert_int_equal(first->columns->len, 2);
	assert_string_equal(first->columns->pdata[1], "o");
	assert_string_equal(first->types->pdata[1], "TEXT");
	/* row 1 (x = 2) is NULL in column o */
	assert_int_equal(first->nulls->len, 1);
	assert_int_equal(g_array_index(first->nulls, gint64, 0), 3);

	/* read-ahead: the next page is computed before it is asked for */
	assert_true(osqd_rpc_session_has_work(fixture->session));
	osqd_rpc_session_work(fixture->session);
	assert_false(osqd_rpc_session_has_work(fixture->session));
	second = query_next(fixture);
	assert_int_equal(second->code, 0);
	assert_false(second->done);
	assert_int_equal(second->n_rows, 3);
	assert_int_equal(second->columns->len, 0);
	assert_int_equal(second->types->len, 0);
	assert_string_equal(second->cells->pdata[0], "4");
	/* x = 4 and x = 6: rows 0 and 2 of this page */
	assert_int_equal(second->nulls->len, 2);
	assert_int_equal(g_array_index(second->nulls, gint64, 0), 1);
	assert_int_equal(g_array_index(second->nulls, gint64, 1), 5);

	/* without read-ahead the page is computed on request */
	third = query_next(fixture);
	assert_int_equal(third->code, 0);
	assert_true(third->done);
	assert_int_equal(third->n_rows, 1);
	assert_string_equal(third->cells->pdata[0], "7");
	assert_int_equal(third->nulls->len, 0);
	assert_false(osqd_rpc_session_has_work(fixture->session));
}

/* The cell x of the encoder test's query, as osquery renders it. */
static gchar *
encoder_expected_cell(gint64 x, guint column)
{
	static const gchar *const quarters[] = { ".0", ".25", ".5", ".75" };

	switch (column) {
	case 0:
		return g_strdup_printf("%" G_GINT64_FORMAT, x);
	case 1:
		return g_strdup_printf("%" G_GINT64_FORMAT "%s", x / 4, quarters[x % 4]);
	case 2:
		return x % 7 == 0 ? g_strdup("") : g_strdup_printf("name-%" G_GINT64_FORMAT, x);
	default:
		/* a blob with an invalid UTF-8 byte: replaced, as every value on the wire is UTF-8
		 */
		return x % 5 == 0 ? g_strdup("a\xef\xbf\xbd"
		                             "b")
		                  : g_strdup_printf("%0300" G_GINT64_FORMAT, x);
	}
}

static void
encoder_check_page(const Page *page, gint64 first_x, guint n_rows)
{
	guint expected_nulls = 0;

	assert_int_equal(page->code, 0);
	assert_int_equal(page->n_rows, n_rows);
	assert_int_equal(page->cells->len, n_rows * 4);
	for (guint r = 0; r < n_rows; r++) {
		gint64 x = first_x + r;
		for (guint c = 0; c < 4; c++) {
			g_autofree gchar *want = encoder_expected_cell(x, c);
			if (g_strcmp0(page->cells->pdata[r * 4 + c], want) != 0)
				fail_msg("row %u column %u: '%s', expected '%s'", r, c,
				         (const gchar *)page->cells->pdata[r * 4 + c], want);
		}
		if (x % 7 == 0) {
			assert_true(expected_nulls < page->nulls->len);
			assert_int_equal(g_array_index(page->nulls, gint64, expected_nulls),
			                 (gint64)r * 4 + 2);
			expected_nulls++;
		}
	}
	assert_int_equal(page->nulls->len, expected_nulls);
}

static void
test_paging_encoder(void **state)
{
	Fixture *fixture = *state;
	const gchar *sql =
	        SERIES("3000") "SELECT x, x / 4.0 AS q, "
	                       "CASE WHEN x % 7 = 0 THEN NULL ELSE 'name-' || x END AS n, "
	                       "CASE WHEN x % 5 = 0 THEN x'61ff62' "
	                       "ELSE printf('%0300d', x) END AS b FROM c";
	g_autoptr(Page) first = query_start(fixture, sql, 2500);
	g_autoptr(Page) second = NULL;
	g_autoptr(Page) again = NULL;

	/* 2,500 rows: many chunks, rendered by the encoder thread while the statement steps */
	encoder_check_page(first, 1, 2500);
	assert_false(first->done);
	assert_string_equal(first->types->pdata[0], "BIGINT");
	assert_string_equal(first->types->pdata[1], "DOUBLE");
	assert_string_equal(first->types->pdata[2], "TEXT");
	assert_string_equal(first->types->pdata[3], "TEXT");
	/* the cursor's encoder renders the next page too, from its first chunk */
	osqd_rpc_session_work(fixture->session);
	second = query_next(fixture);
	encoder_check_page(second, 2501, 500);
	assert_true(second->done);

	/* a new cursor on the same session, closed before its last page */
	again = query_start(fixture, sql, 1000);
	encoder_check_page(again, 1, 1000);
	osqd_rpc_session_work(fixture->session);
	assert_false(osqd_rpc_session_has_work(fixture->session));
}

static void
test_paging_encoder_caps(void **state)
{
	Fixture *fixture = *state;
	/* the fixture's caps: 1,000 rows and 1 MiB, reached inside one page of many chunks */
	g_autoptr(Page) rows = query_start(fixture, SERIES("1500") "SELECT x FROM c", 2000);
	g_autoptr(Page) bytes = query_start(
	        fixture, SERIES("900") "SELECT printf('%02000d', x) AS wide FROM c", 1000);
	g_autoptr(Page) after = query_start(fixture, SERIES("600") "SELECT x FROM c", 1000);

	assert_int_equal(rows->code, 1);
	assert_true(rows->done);
	assert_non_null(strstr(rows->message, "--query_max_rows"));
	assert_int_equal(bytes->code, 1);
	assert_true(bytes->done);
	assert_non_null(strstr(bytes->message, "--query_max_bytes"));
	/* the session goes on */
	assert_int_equal(after->code, 0);
	assert_int_equal(after->n_rows, 600);
	assert_true(after->done);
}

static void
test_paging_statements(void **state)
{
	Fixture *fixture = *state;
	g_autoptr(Page) multi =
	        query_start(fixture, "SELECT 1 AS a; SELECT 2 AS b UNION ALL SELECT NULL", 1);
	g_autoptr(Page) bad = query_start(fixture, "SELECT 1; SELEC 2", 1);
	g_autoptr(Page) error = query_start(fixture, "SELECT nope FROM nowhere", 1);
	g_autoptr(Page) write = query_start(fixture, "CREATE TEMP TABLE t(x)", 1);
	g_autoptr(Page) denied = query_start(fixture, "CREATE TABLE main.t(x)", 1);

	/* several statements: queryTyped's answer, all rows in one last page */
	assert_int_equal(multi->code, 0);
	assert_true(multi->done);
	assert_int_equal(multi->n_rows, 2);
	assert_string_equal(multi->columns->pdata[0], "b");
	assert_string_equal(multi->types->pdata[0], "BIGINT");
	assert_int_equal(multi->nulls->len, 1);
	assert_int_equal(g_array_index(multi->nulls, gint64, 0), 1);
	assert_false(osqd_rpc_session_has_work(fixture->session));
	assert_int_equal(bad->code, 1);
	assert_true(bad->done);
	assert_int_equal(error->code, 1);
	assert_true(error->done);
	assert_non_null(strstr(error->message, "no such table"));
	/* a statement without result columns runs to its end: one empty page */
	assert_int_equal(write->code, 0);
	assert_true(write->done);
	assert_int_equal(write->columns->len, 0);
	assert_int_equal(denied->code, 1);
	assert_true(denied->done);
}

static void
test_paging_caps(void **state)
{
	Fixture *fixture = *state;
	g_autoptr(Page) first = query_start(fixture, SERIES("1001") "SELECT x FROM c", 400);
	g_autoptr(Page) second = NULL;
	g_autoptr(Page) third = NULL;
	g_autoptr(Page) big = NULL;
	g_autoptr(Page) big_next = NULL;
	g_autoptr(Page) big_last = NULL;

	/* --query_max_rows (1000) counts all pages */
	assert_int_equal(first->code, 0);
	osqd_rpc_session_work(fixture->session);
	second = query_next(fixture);
	assert_int_equal(second->code, 0);
	assert_false(second->done);
	osqd_rpc_session_work(fixture->session);
	third = query_next(fixture);
	assert_int_equal(third->code, 1);
	assert_true(third->done);
	assert_non_null(strstr(third->message, "--query_max_rows"));
	assert_false(osqd_rpc_session_has_work(fixture->session));

	/* --query_max_bytes (1 MiB) too: 3 pages of 400 KB cannot all pass */
	big = query_start(fixture, SERIES("5") "SELECT hex(zeroblob(200 * 1024)) AS z FROM c", 1);
	if (big->code != 0)
		fail_msg("%s", big->message);
	big_next = query_next(fixture);
	assert_int_equal(big_next->code, 0);
	big_last = query_next(fixture);
	assert_int_equal(big_last->code, 1);
	assert_true(big_last->done);
	assert_non_null(strstr(big_last->message, "--query_max_bytes"));
}

static void
test_paging_timeout(void **state)
{
	Fixture *fixture = *state;
	g_autoptr(Page) first = query_start(fixture, SERIES("100") "SELECT x FROM c", 10);
	g_autoptr(Page) next = NULL;

	assert_int_equal(first->code, 0);
	assert_false(first->done);
	/* the deadline (100 ms) is the whole cursor's */
	g_usleep(150 * 1000);
	next = query_next(fixture);
	assert_int_equal(next->code, 1);
	assert_true(next->done);
	assert_string_equal(next->message,
	                    "query timed out after 100 ms (the limit set by --query_timeout)");
}

static void
test_paging_closed_by_other_calls(void **state)
{
	Fixture *fixture = *state;
	g_autoptr(Page) first = query_start(fixture, SERIES("10") "SELECT x FROM c", 2);
	g_autoptr(GByteArray) ping = NULL;
	g_autoptr(Page) none = NULL;
	g_autoptr(Page) again = NULL;
	g_autoptr(Page) restart = NULL;
	g_autoptr(Page) next = NULL;

	assert_false(first->done);
	osqd_rpc_session_work(fixture->session);
	ping = roundtrip_hex(fixture, PING_CALL);
	assert_reply_hex(ping, PING_REPLY);
	assert_false(osqd_rpc_session_has_work(fixture->session));
	none = query_next(fixture);
	assert_int_equal(none->code, 1);
	assert_string_equal(none->message, "no query in progress");

	/* queryStart again replaces the open cursor */
	again = query_start(fixture, SERIES("10") "SELECT x FROM c", 2);
	assert_false(again->done);
	restart = query_start(fixture, SERIES("10") "SELECT x * 10 AS y FROM c", 8);
	assert_false(restart->done);
	next = query_next(fixture);
	assert_int_equal(next->code, 0);
	assert_true(next->done);
	assert_int_equal(next->n_rows, 2);
	assert_string_equal(next->cells->pdata[0], "90");
}

static void
test_paging_no_cursor(void **state)
{
	Fixture *fixture = *state;
	g_autoptr(Page) none = query_next(fixture);

	assert_int_equal(none->code, 1);
	assert_true(none->done);
	assert_string_equal(none->message, "no query in progress");
	assert_int_equal(none->n_rows, 0);
}

static GPtrArray *
options_cb(gpointer user_data)
{
	GPtrArray *options = g_ptr_array_new_with_free_func((GDestroyNotify)osqd_rpc_option_free);

	g_ptr_array_add(options, osqd_rpc_option_new("verbose", "true", "false", "bool"));
	return options;
}

static void
test_other_methods(void **state)
{
	Fixture *fixture = *state;
	g_autoptr(GByteArray) extensions = NULL;
	g_autoptr(GByteArray) options = NULL;
	g_autoptr(GByteArray) reg = NULL;
	g_autoptr(GByteArray) call = NULL;
	g_autofree gchar *message = NULL;
	g_autoptr(GPtrArray) rows = NULL;
	gint32 code = -1;

	extensions = roundtrip_hex(fixture, "800100010000000a657874656e73696f6e730000000000");
	assert_reply_hex(extensions, EXTENSIONS_REPLY);
	osqd_rpc_handler_set_options_func(fixture->handler, options_cb, NULL);
	options = roundtrip_hex(fixture, "80010001000000076f7074696f6e730000000000");
	assert_reply_hex(options, OPTIONS_REPLY);
	/* without an extension manager (--disable_extensions) registration is refused */
	reg = roundtrip_hex(fixture, REGISTER_CALL);
	assert_int_equal(decode_status(reg, "registerExtension", &message, NULL), 1);
	assert_string_equal(message, "extensions are disabled (--disable_extensions)");
	g_clear_pointer(&message, g_free);
	call = roundtrip_hex(fixture, CALL_CALL);
	rows = decode_response(call, "call", &code, &message, NULL);
	assert_int_equal(code, 1);
	assert_string_equal(message, "Cannot call registry item: t");
}

/* registerExtension(info{name, version, sdk}, {"table": {table: [column routes]}}) */
static GByteArray *
register_call(const gchar *name, const gchar *sdk, const gchar *registry, const gchar *table,
              const gchar *const *columns)
{
	GByteArray *in = g_byte_array_new();
	guint n = columns != NULL ? g_strv_length((gchar **)columns) : 0;

	osq_thrift_write_message_begin(in, "registerExtension", OSQ_THRIFT_CALL, 7);
	osq_thrift_write_field_begin(in, OSQ_THRIFT_STRUCT, 1);
	osq_thrift_write_field_begin(in, OSQ_THRIFT_STRING, 1);
	osq_thrift_write_string(in, name);
	osq_thrift_write_field_begin(in, OSQ_THRIFT_STRING, 2);
	osq_thrift_write_string(in, "1.0");
	osq_thrift_write_field_begin(in, OSQ_THRIFT_STRING, 3);
	osq_thrift_write_string(in, sdk);
	osq_thrift_write_field_stop(in);
	osq_thrift_write_field_begin(in, OSQ_THRIFT_MAP, 2);
	osq_thrift_write_map_begin(in, OSQ_THRIFT_STRING, OSQ_THRIFT_MAP, 1);
	osq_thrift_write_string(in, registry);
	osq_thrift_write_map_begin(in, OSQ_THRIFT_STRING, OSQ_THRIFT_LIST, 1);
	osq_thrift_write_string(in, table);
	osq_thrift_write_list_begin(in, OSQ_THRIFT_MAP, (gint32)n);
	for (guint i = 0; i < n; i++) {
		osq_thrift_write_map_begin(in, OSQ_THRIFT_STRING, OSQ_THRIFT_STRING, 4);
		osq_thrift_write_string(in, "id");
		osq_thrift_write_string(in, "column");
		osq_thrift_write_string(in, "name");
		osq_thrift_write_string(in, columns[i]);
		osq_thrift_write_string(in, "type");
		osq_thrift_write_string(in, "BIGINT");
		osq_thrift_write_string(in, "op");
		osq_thrift_write_string(in, "0");
	}
	osq_thrift_write_field_stop(in);
	return in;
}

static gint32
register_status(Fixture *fixture, GByteArray *in, gchar **message, gint64 *uuid)
{
	g_autoptr(GByteArray) reply = g_byte_array_new();
	g_autoptr(GError) error = NULL;
	g_autoptr(GByteArray) owned = in;

	if (!osqd_rpc_session_handle(fixture->session, in->data, in->len, reply, &error))
		fail_msg("%s", error->message);
	return decode_status(reply, "registerExtension", message, uuid);
}

static void
test_extension_methods(void **state)
{
	Fixture *fixture = *state;
	OsqdExtensionsConfig config = { 1000, 1000, 1000, 1024 * 1024, 1000, TRUE };
	g_autoptr(OsqdExtensions) extensions =
	        osqd_extensions_new(fixture->registry, "/nonexistent/osq.em", &config);
	const gchar *const columns[] = { "a", "b", NULL };
	g_autoptr(GByteArray) list = NULL;
	g_autoptr(GByteArray) call = NULL;
	g_autoptr(GByteArray) scan = NULL;
	g_autoptr(GPtrArray) rows = NULL;
	g_autoptr(GPtrArray) scan_rows = NULL;
	g_autofree gchar *message = NULL;
	gint64 uuid = 0, other = 0;
	gint32 code = -1;

	osqd_rpc_handler_set_extensions(fixture->handler, extensions);
	assert_int_equal(register_status(fixture,
	                                 register_call("ext", "1.8.0", "table", "ext_t", columns),
	                                 &message, &uuid),
	                 0);
	assert_string_equal(message, "OK");
	assert_true(uuid >= 1 && uuid <= 65535);
	g_clear_pointer(&message, g_free);

	/* osquery's refusals, with its messages */
	assert_int_equal(register_status(fixture,
	                                 register_call("ext", "0.0.0", "table", "x1", columns),
	                                 &message, &other),
	                 1);
	assert_string_equal(message, "Duplicate extension registered");
	assert_int_equal(other, 0);
	g_clear_pointer(&message, g_free);
	assert_int_equal(register_status(fixture,
	                                 register_call("e2", "1.7.6", "table", "x2", columns),
	                                 &message, NULL),
	                 1);
	assert_string_equal(message, "Incompatible extension SDK version");
	g_clear_pointer(&message, g_free);
	assert_int_equal(register_status(fixture,
	                                 register_call("e3", "", "table", "processes", columns),
	                                 &message, NULL),
	                 1);
	assert_string_equal(message, "Failed adding registry: Duplicate registry item: processes");
	g_clear_pointer(&message, g_free);
	assert_int_equal(register_status(fixture,
	                                 register_call("e4", "", "table", "ext_t", columns),
	                                 &message, NULL),
	                 1);
	assert_string_equal(message, "Failed adding registry: Duplicate registry item: ext_t");
	g_clear_pointer(&message, g_free);
	assert_int_equal(register_status(fixture, register_call("e5", "", "nope", "x5", columns),
	                                 &message, NULL),
	                 1);
	assert_string_equal(message, "Failed adding registry: Unknown registry: nope");
	g_clear_pointer(&message, g_free);
	assert_int_equal(register_status(fixture, register_call("e6", "", "table", "x6", NULL),
	                                 &message, NULL),
	                 1);
	assert_non_null(strstr(message, "Invalid route info"));
	g_clear_pointer(&message, g_free);
	assert_int_equal(register_status(fixture, register_call("e7", "", "table", "x;y", columns),
	                                 &message, NULL),
	                 1);
	assert_non_null(strstr(message, "not a valid table name"));
	g_clear_pointer(&message, g_free);

	/* extensions() lists it; call(table, columns) answers from the routes */
	list = roundtrip_hex(fixture, "800100010000000a657874656e73696f6e730000000000");
	assert_true(list->len > strlen(EXTENSIONS_REPLY) / 2);
	call = roundtrip_hex(fixture, CALL_CALL);
	rows = decode_response(call, "call", &code, &message, NULL);
	assert_int_equal(code, 1); /* the fixture has no table t */
	g_clear_pointer(&message, g_free);

	/* the table is in every engine; a scan that cannot reach the extension fails clearly */
	scan = call_sql(fixture, "query", "SELECT a FROM ext_t");
	scan_rows = decode_response(scan, "query", &code, &message, NULL);
	assert_int_equal(code, 1);
	assert_non_null(strstr(message, "extension table ext_t"));
	g_clear_pointer(&message, g_free);

	/* deregistered: gone, and its uuid is unknown */
	assert_true(osqd_extensions_deregister(extensions, uuid, NULL));
	assert_false(osqd_extensions_deregister(extensions, uuid, NULL));
	assert_null(osqd_registry_lookup(fixture->registry, "ext_t"));
	osqd_rpc_handler_set_extensions(fixture->handler, NULL);
}

static void
test_bad_messages(void **state)
{
	Fixture *fixture = *state;
	const gchar *bad[] = {
		"800100020000000470696e670000000000", /* a REPLY sent to the server */
		"800100010000000470696e67000000",     /* truncated */
		"ff0100010000000470696e670000000000", /* bad version */
		"800100010000000470696e6700000000ee", /* unknown field type */
	};
	g_autoptr(GByteArray) oneway = NULL;

	for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autoptr(GByteArray) in = hex_bytes(bad[i]);
		g_autoptr(GByteArray) reply = g_byte_array_new();
		g_autoptr(GError) error = NULL;
		assert_false(osqd_rpc_session_handle(fixture->session, in->data, in->len, reply,
		                                     &error));
		assert_non_null(error);
		assert_int_equal(reply->len, 0);
	}
	/* a one-way call is handled without a reply */
	oneway = roundtrip_hex(fixture, "800100040000000470696e670000000000");
	assert_int_equal(oneway->len, 0);
}

static int
setup_user(void **state)
{
	OsqdRpcLimits limits = { 60000, 1000, 1024 * 1024 };

	return setup_with(state, &limits, 1000);
}

static int
setup_fast_timeout(void **state)
{
	OsqdRpcLimits limits = { 100, 0, 0 };

	return setup_with(state, &limits, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_wire_examples, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shutdown_refused, setup_user, teardown),
		cmocka_unit_test_setup_teardown(test_values, setup, teardown),
		cmocka_unit_test_setup_teardown(test_key_order_and_duplicates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_statements, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_row_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_byte_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeout, setup_fast_timeout, teardown),
		cmocka_unit_test_setup_teardown(test_get_query_columns, setup, teardown),
		cmocka_unit_test_setup_teardown(test_get_query_columns_expressions, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(test_query_typed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_paging_boundaries, setup, teardown),
		cmocka_unit_test_setup_teardown(test_paging_pages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_paging_encoder, setup_large, teardown),
		cmocka_unit_test_setup_teardown(test_paging_encoder_caps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_paging_statements, setup, teardown),
		cmocka_unit_test_setup_teardown(test_paging_caps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_paging_timeout, setup_fast_timeout, teardown),
		cmocka_unit_test_setup_teardown(test_paging_closed_by_other_calls, setup, teardown),
		cmocka_unit_test_setup_teardown(test_paging_no_cursor, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_methods, setup, teardown),
		cmocka_unit_test_setup_teardown(test_extension_methods, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_messages, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
