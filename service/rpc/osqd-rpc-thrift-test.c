/* SPDX-License-Identifier: Apache-2.0
 *
 * Wire conformance with Thrift's own C library: requests are written by code that Thrift's
 * c_glib generator made from the IDL files, handled by osqd's handler, and the replies are read
 * back by the same generated code. If osqd's hand-written codec and Thrift ever disagreed on a
 * byte, these tests would see a decode error or a wrong value.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <string.h>

#include <thrift/c_glib/protocol/thrift_binary_protocol.h>
#include <thrift/c_glib/transport/thrift_memory_buffer.h>

#include "osq_wire_osq_types.h"
#include "osquery_osquery_types.h"
#include "osqd-rpc-handler.h"

#define BUFFER_SIZE (16 * 1024 * 1024)

/* Thrift 0.17's c_glib objects leak a little when they are finalized (inside the library), so
 * the Thrift objects of these tests are kept alive to the end, where they are still reachable:
 * valgrind and LeakSanitizer then report nothing that is ours or theirs. */
static GPtrArray *kept;

static gpointer
keep(gpointer object)
{
	if (kept == NULL)
		kept = g_ptr_array_new();
	g_ptr_array_add(kept, object);
	return object;
}

typedef struct {
	OsqdRegistry *registry;
	OsqdRpcHandler *handler;
	OsqdRpcSession *session;
} Fixture;

static int
setup(void **state)
{
	Fixture *fixture = g_new0(Fixture, 1);
	g_autoptr(OsqdPeer) peer = osqd_peer_new(0, 0, 1);
	OsqdRpcLimits limits = { 0 };

	fixture->registry = osqd_registry_new_builtin();
	fixture->handler = osqd_rpc_handler_new(fixture->registry, &limits);
	fixture->session = osqd_rpc_session_new(fixture->handler, peer);
	*state = fixture;
	return 0;
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

static ThriftProtocol *
protocol_new(ThriftMemoryBuffer **buffer)
{
	*buffer = keep(g_object_new(THRIFT_TYPE_MEMORY_BUFFER, "buf_size", BUFFER_SIZE, NULL));
	return keep(g_object_new(THRIFT_TYPE_BINARY_PROTOCOL, "transport", *buffer, NULL));
}

/* A CALL of @method with @args, as Thrift's generated client writes it. */
static GByteArray *
call_frame(const gchar *method, ThriftStruct *args)
{
	g_autoptr(GError) error = NULL;
	ThriftMemoryBuffer *buffer = NULL;
	ThriftProtocol *protocol = protocol_new(&buffer);
	GByteArray *frame = g_byte_array_new();

	assert_true(thrift_protocol_write_message_begin(protocol, method, T_CALL, 7, &error) > 0);
	assert_true(thrift_struct_write(args, protocol, &error) > 0);
	assert_true(thrift_protocol_write_message_end(protocol, &error) >= 0);
	g_byte_array_append(frame, buffer->buf->data, buffer->buf->len);
	return frame;
}

/* Hands @frame to the handler and reads the reply's result struct with Thrift's reader. */
static void
call(Fixture *fixture, const gchar *method, ThriftStruct *args, ThriftStruct *result)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GByteArray) frame = call_frame(method, args);
	g_autoptr(GByteArray) reply = g_byte_array_new();
	ThriftMemoryBuffer *buffer = NULL;
	ThriftProtocol *protocol = protocol_new(&buffer);
	g_autofree gchar *name = NULL;
	ThriftMessageType type;
	gint32 seqid = 0;

	assert_true(
	        osqd_rpc_session_handle(fixture->session, frame->data, frame->len, reply, &error));
	assert_true(
	        thrift_transport_write(THRIFT_TRANSPORT(buffer), reply->data, reply->len, &error));
	assert_true(thrift_protocol_read_message_begin(protocol, &name, &type, &seqid, &error) > 0);
	assert_string_equal(name, method);
	assert_int_equal(type, T_REPLY);
	assert_int_equal(seqid, 7);
	assert_true(thrift_struct_read(result, protocol, &error) > 0);
	assert_true(thrift_protocol_read_message_end(protocol, &error) >= 0);
	/* the whole reply was one message: nothing left over */
	assert_int_equal(buffer->buf->len, 0);
}

static void
test_ping(void **state)
{
	OsqueryExtensionPingArgs *args = keep(g_object_new(OSQUERY_TYPE_EXTENSION_PING_ARGS, NULL));
	OsqueryExtensionPingResult *result =
	        keep(g_object_new(OSQUERY_TYPE_EXTENSION_PING_RESULT, NULL));

	call(*state, "ping", THRIFT_STRUCT(args), THRIFT_STRUCT(result));
	assert_true(result->__isset_success);
	assert_int_equal(result->success->code, 0);
	assert_string_equal(result->success->message, "pong");
}

static void
test_query(void **state)
{
	OsqueryExtensionManagerQueryArgs *args =
	        keep(g_object_new(OSQUERY_TYPE_EXTENSION_MANAGER_QUERY_ARGS, NULL));
	OsqueryExtensionManagerQueryResult *result =
	        keep(g_object_new(OSQUERY_TYPE_EXTENSION_MANAGER_QUERY_RESULT, NULL));
	GPtrArray *rows;
	GHashTable *row;

	args->sql = g_strdup("SELECT 1 AS x, 'a' AS y, 2.5 AS z UNION ALL SELECT 2, NULL, 1.0");
	args->__isset_sql = TRUE;
	call(*state, "query", THRIFT_STRUCT(args), THRIFT_STRUCT(result));
	assert_int_equal(result->success->status->code, 0);
	assert_string_equal(result->success->status->message, "OK");
	rows = result->success->response;
	assert_int_equal(rows->len, 2);
	row = g_ptr_array_index(rows, 0);
	assert_string_equal(g_hash_table_lookup(row, "x"), "1");
	assert_string_equal(g_hash_table_lookup(row, "y"), "a");
	assert_string_equal(g_hash_table_lookup(row, "z"), "2.5");
	row = g_ptr_array_index(rows, 1);
	assert_string_equal(g_hash_table_lookup(row, "y"), ""); /* NULL, as osquery sends it */
	assert_string_equal(g_hash_table_lookup(row, "z"), "1.0");
}

static void
test_query_doubles(void **state)
{
	OsqueryExtensionManagerQueryArgs *args =
	        keep(g_object_new(OSQUERY_TYPE_EXTENSION_MANAGER_QUERY_ARGS, NULL));
	OsqueryExtensionManagerQueryResult *result =
	        keep(g_object_new(OSQUERY_TYPE_EXTENSION_MANAGER_QUERY_RESULT, NULL));
	static const gchar *const expected[][2] = {
		{ "a", "2.0" },
		{ "b", "-3.0" },
		{ "c", "0.0" },
		{ "d", "999999999999999.0" },
		{ "e", "1.0e+15" },
		{ "f", "0.1" },
		{ "g", "0.142857142857143" },
		{ "h", "-1.0e+15" },
		{ "i", "0.0" },
	};
	GHashTable *row;

	args->sql = g_strdup("SELECT 2.0 AS a, -3.0 AS b, 0.0 AS c, 999999999999999.0 AS d, "
	                     "1e15 AS e, 0.1 AS f, 1 / 7.0 AS g, -1e15 AS h, -0.0 AS i");
	args->__isset_sql = TRUE;
	call(*state, "query", THRIFT_STRUCT(args), THRIFT_STRUCT(result));
	assert_int_equal(result->success->status->code, 0);
	row = g_ptr_array_index(result->success->response, 0);
	for (guint i = 0; i < G_N_ELEMENTS(expected); i++)
		assert_string_equal(g_hash_table_lookup(row, expected[i][0]), expected[i][1]);
}

static void
test_query_error(void **state)
{
	OsqueryExtensionManagerQueryArgs *args =
	        keep(g_object_new(OSQUERY_TYPE_EXTENSION_MANAGER_QUERY_ARGS, NULL));
	OsqueryExtensionManagerQueryResult *result =
	        keep(g_object_new(OSQUERY_TYPE_EXTENSION_MANAGER_QUERY_RESULT, NULL));

	args->sql = g_strdup("SELEC 1");
	args->__isset_sql = TRUE;
	call(*state, "query", THRIFT_STRUCT(args), THRIFT_STRUCT(result));
	assert_int_equal(result->success->status->code, 1);
	assert_non_null(strstr(result->success->status->message, "syntax error"));
	assert_int_equal(result->success->response->len, 0);
}

static void
test_query_typed(void **state)
{
	OsqWireOsqManagerQueryTypedArgs *args =
	        keep(g_object_new(OSQ_WIRE_TYPE_OSQ_MANAGER_QUERY_TYPED_ARGS, NULL));
	OsqWireOsqManagerQueryTypedResult *result =
	        keep(g_object_new(OSQ_WIRE_TYPE_OSQ_MANAGER_QUERY_TYPED_RESULT, NULL));
	OsqWireQueryResult *typed;
	GPtrArray *row;

	args->sql = g_strdup("SELECT pid, NULL AS n, 'é' AS t FROM processes WHERE pid = 1 "
	                     "UNION ALL SELECT 2, 3, 'x'");
	args->__isset_sql = TRUE;
	call(*state, "queryTyped", THRIFT_STRUCT(args), THRIFT_STRUCT(result));
	typed = result->success;
	assert_int_equal(typed->status->code, 0);
	assert_int_equal(typed->columns->len, 3);
	assert_string_equal(g_ptr_array_index(typed->columns, 0), "pid");
	assert_string_equal(g_ptr_array_index(typed->types, 0), "BIGINT");
	/* an expression takes the type of its first non-NULL value */
	assert_string_equal(g_ptr_array_index(typed->types, 1), "BIGINT");
	assert_string_equal(g_ptr_array_index(typed->types, 2), "TEXT");
	assert_true(typed->rows->len >= 1);
	row = g_ptr_array_index(typed->rows, typed->rows->len - 1);
	assert_string_equal(g_ptr_array_index(row, 1), "3");
	assert_string_equal(g_ptr_array_index(row, 2), "x");
	if (typed->rows->len == 2) {
		row = g_ptr_array_index(typed->rows, 0);
		assert_string_equal(g_ptr_array_index(row, 0), "1");
		assert_string_equal(g_ptr_array_index(row, 2), "é");
		assert_int_equal(typed->null_cells->len, 1);
		assert_int_equal(g_array_index(typed->null_cells, gint64, 0), 1);
	}
}

static void
test_query_pages(void **state)
{
	OsqWireOsqManagerQueryStartArgs *args =
	        keep(g_object_new(OSQ_WIRE_TYPE_OSQ_MANAGER_QUERY_START_ARGS, NULL));
	OsqWireOsqManagerQueryStartResult *result =
	        keep(g_object_new(OSQ_WIRE_TYPE_OSQ_MANAGER_QUERY_START_RESULT, NULL));
	OsqWireOsqManagerQueryNextArgs *next_args =
	        keep(g_object_new(OSQ_WIRE_TYPE_OSQ_MANAGER_QUERY_NEXT_ARGS, NULL));
	OsqWireOsqManagerQueryNextResult *next =
	        keep(g_object_new(OSQ_WIRE_TYPE_OSQ_MANAGER_QUERY_NEXT_RESULT, NULL));
	OsqWireOsqManagerQueryNextResult *none =
	        keep(g_object_new(OSQ_WIRE_TYPE_OSQ_MANAGER_QUERY_NEXT_RESULT, NULL));
	OsqWireQueryPage *page;
	GPtrArray *row;

	args->sql = g_strdup("SELECT 1 AS a, NULL AS b UNION ALL SELECT 2, 'x' UNION ALL "
	                     "SELECT NULL, 'y'");
	args->__isset_sql = TRUE;
	args->page_rows = 2;
	args->__isset_page_rows = TRUE;
	call(*state, "queryStart", THRIFT_STRUCT(args), THRIFT_STRUCT(result));
	page = result->success;
	assert_int_equal(page->status->code, 0);
	assert_false(page->done);
	assert_int_equal(page->columns->len, 2);
	assert_string_equal(g_ptr_array_index(page->columns, 1), "b");
	assert_string_equal(g_ptr_array_index(page->types, 0), "BIGINT");
	assert_string_equal(g_ptr_array_index(page->types, 1), "TEXT");
	assert_int_equal(page->rows->len, 2);
	assert_int_equal(page->null_cells->len, 1);
	assert_int_equal(g_array_index(page->null_cells, gint64, 0), 1);

	/* the read-ahead the server does after each reply */
	osqd_rpc_session_work(((Fixture *)*state)->session);
	call(*state, "queryNext", THRIFT_STRUCT(next_args), THRIFT_STRUCT(next));
	page = next->success;
	assert_int_equal(page->status->code, 0);
	assert_true(page->done);
	assert_int_equal(page->rows->len, 1);
	row = g_ptr_array_index(page->rows, 0);
	assert_string_equal(g_ptr_array_index(row, 1), "y");
	assert_int_equal(page->null_cells->len, 1);
	assert_int_equal(g_array_index(page->null_cells, gint64, 0), 0);

	call(*state, "queryNext", THRIFT_STRUCT(next_args), THRIFT_STRUCT(none));
	assert_int_equal(none->success->status->code, 1);
	assert_string_equal(none->success->status->message, "no query in progress");
	assert_true(none->success->done);
}

static void
test_options_and_extensions(void **state)
{
	OsqueryExtensionManagerExtensionsArgs *args =
	        keep(g_object_new(OSQUERY_TYPE_EXTENSION_MANAGER_EXTENSIONS_ARGS, NULL));
	OsqueryExtensionManagerExtensionsResult *result =
	        keep(g_object_new(OSQUERY_TYPE_EXTENSION_MANAGER_EXTENSIONS_RESULT, NULL));

	call(*state, "extensions", THRIFT_STRUCT(args), THRIFT_STRUCT(result));
	assert_true(result->__isset_success);
	assert_int_equal(g_hash_table_size(result->success), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ping, setup, teardown),
		cmocka_unit_test_setup_teardown(test_query, setup, teardown),
		cmocka_unit_test_setup_teardown(test_query_doubles, setup, teardown),
		cmocka_unit_test_setup_teardown(test_query_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_query_typed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_query_pages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_options_and_extensions, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
