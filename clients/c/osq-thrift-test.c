/* SPDX-License-Identifier: Apache-2.0
 *
 * Codec tests: the byte-exact frames of osquery's protocol (as Thrift's own Python library
 * writes them) are produced by the writer and taken apart by the reader; hostile input (huge
 * counts and lengths, deep nesting, random bytes, every truncation) fails cleanly.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <string.h>

#include "osq-error.h"
#include "osq-thrift.h"

static const guint8 ping_call[] = {
	0x80, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x04, 'p', 'i', 'n', 'g', 0, 0, 0, 0, 0x00,
};

static const guint8 ping_reply[] = {
	0x80, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x04, 'p',  'i',  'n',  'g',  0x00,
	0x00, 0x00, 0x00, 0x0c, 0x00, 0x00, 0x08, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
	0x0b, 0x00, 0x02, 0x00, 0x00, 0x00, 0x04, 'p',  'o',  'n',  'g',  0x0a, 0x00,
	0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

static const guint8 query_call[] = {
	0x80, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x05, 'q',  'u',  'e',  'r',  'y',
	0x00, 0x00, 0x00, 0x00, 0x0b, 0x00, 0x01, 0x00, 0x00, 0x00, 0x0d, 's',  'e',
	'l',  'e',  'c',  't',  ' ',  '1',  ' ',  'a',  's',  ' ',  'x',  0x00,
};

static const guint8 query_reply[] = {
	0x80, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x05, 'q',  'u',  'e',  'r',  'y',
	0x00, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x00, 0x0c, 0x00, 0x01, 0x08, 0x00, 0x01,
	0x00, 0x00, 0x00, 0x00, 0x0b, 0x00, 0x02, 0x00, 0x00, 0x00, 0x02, 'O',  'K',
	0x0a, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0f,
	0x00, 0x02, 0x0d, 0x00, 0x00, 0x00, 0x01, 0x0b, 0x0b, 0x00, 0x00, 0x00, 0x01,
	0x00, 0x00, 0x00, 0x01, 'x',  0x00, 0x00, 0x00, 0x01, '1',  0x00, 0x00,
};

static const guint8 exception_reply[] = {
	0x80, 0x01, 0x00, 0x03, 0x00, 0x00, 0x00, 0x03, 'f',  'o',  'o',  0x00, 0x00,
	0x00, 0x00, 0x0b, 0x00, 0x01, 0x00, 0x00, 0x00, 0x14, 'U',  'n',  'k',  'n',
	'o',  'w',  'n',  ' ',  'f',  'u',  'n',  'c',  't',  'i',  'o',  'n',  ' ',
	'f',  'o',  'o',  0x08, 0x00, 0x02, 0x00, 0x00, 0x00, 0x01, 0x00,
};

static void
assert_bytes(GByteArray *out, const guint8 *expected, gsize len)
{
	assert_int_equal(out->len, len);
	assert_memory_equal(out->data, expected, len);
}

static void
write_status(GByteArray *out, gint32 code, const gchar *message, gint64 uuid)
{
	osq_thrift_write_field_begin(out, OSQ_THRIFT_I32, 1);
	osq_thrift_write_i32(out, code);
	osq_thrift_write_field_begin(out, OSQ_THRIFT_STRING, 2);
	osq_thrift_write_string(out, message);
	osq_thrift_write_field_begin(out, OSQ_THRIFT_I64, 3);
	osq_thrift_write_i64(out, uuid);
	osq_thrift_write_field_stop(out);
}

static void
test_write_examples(void **state)
{
	g_autoptr(GByteArray) out = g_byte_array_new();
	gsize offset;

	osq_thrift_write_message_begin(out, "ping", OSQ_THRIFT_CALL, 0);
	osq_thrift_write_field_stop(out);
	assert_bytes(out, ping_call, sizeof(ping_call));

	g_byte_array_set_size(out, 0);
	osq_thrift_write_message_begin(out, "ping", OSQ_THRIFT_REPLY, 0);
	osq_thrift_write_field_begin(out, OSQ_THRIFT_STRUCT, 0);
	write_status(out, 0, "pong", 0);
	osq_thrift_write_field_stop(out);
	assert_bytes(out, ping_reply, sizeof(ping_reply));

	g_byte_array_set_size(out, 0);
	osq_thrift_write_message_begin(out, "query", OSQ_THRIFT_CALL, 0);
	osq_thrift_write_field_begin(out, OSQ_THRIFT_STRING, 1);
	osq_thrift_write_string(out, "select 1 as x");
	osq_thrift_write_field_stop(out);
	assert_bytes(out, query_call, sizeof(query_call));

	/* the reply as a server streams it: the row count patched in afterwards */
	g_byte_array_set_size(out, 0);
	osq_thrift_write_message_begin(out, "query", OSQ_THRIFT_REPLY, 0);
	osq_thrift_write_field_begin(out, OSQ_THRIFT_STRUCT, 0);
	osq_thrift_write_field_begin(out, OSQ_THRIFT_STRUCT, 1);
	write_status(out, 0, "OK", 0);
	osq_thrift_write_field_begin(out, OSQ_THRIFT_LIST, 2);
	offset = osq_thrift_write_list_begin_deferred(out, OSQ_THRIFT_MAP);
	osq_thrift_write_map_begin(out, OSQ_THRIFT_STRING, OSQ_THRIFT_STRING, 1);
	osq_thrift_write_string(out, "x");
	osq_thrift_write_string(out, "1");
	osq_thrift_patch_i32(out, offset, 1);
	osq_thrift_write_field_stop(out);
	osq_thrift_write_field_stop(out);
	assert_bytes(out, query_reply, sizeof(query_reply));

	g_byte_array_set_size(out, 0);
	osq_thrift_write_application_exception(out, "foo", 0, OSQ_THRIFT_APP_UNKNOWN_METHOD,
	                                       "Unknown function foo");
	assert_bytes(out, exception_reply, sizeof(exception_reply));
}

static void
test_read_query_call(void **state)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *name = NULL, *sql = NULL;
	OsqThriftReader reader;
	OsqThriftMessageType type;
	OsqThriftType field;
	gint32 seqid;
	gint16 id;
	gsize length = 0;

	osq_thrift_reader_init(&reader, query_call, sizeof(query_call));
	assert_true(osq_thrift_read_message_begin(&reader, &name, &type, &seqid, &error));
	assert_string_equal(name, "query");
	assert_int_equal(type, OSQ_THRIFT_CALL);
	assert_int_equal(seqid, 0);
	assert_true(osq_thrift_read_field_begin(&reader, &field, &id, &error));
	assert_int_equal(field, OSQ_THRIFT_STRING);
	assert_int_equal(id, 1);
	assert_true(osq_thrift_read_string(&reader, &sql, &error));
	assert_string_equal(sql, "select 1 as x");
	assert_true(osq_thrift_read_field_begin(&reader, &field, &id, &error));
	assert_int_equal(field, OSQ_THRIFT_STOP);
	assert_int_equal(reader.pos, sizeof(query_call));

	assert_int_equal(
	        osq_thrift_message_scan(query_reply, sizeof(query_reply), 1024, &length, &error),
	        OSQ_THRIFT_SCAN_COMPLETE);
	assert_int_equal(length, sizeof(query_reply));
}

static void
test_read_unversioned(void **state)
{
	static const guint8 old[] = { 0, 0, 0, 4, 'p', 'i', 'n', 'g', 1, 0, 0, 0, 7, 0 };
	g_autoptr(GError) error = NULL;
	g_autofree gchar *name = NULL;
	OsqThriftReader reader;
	OsqThriftMessageType type;
	gint32 seqid;
	gsize length = 0;

	osq_thrift_reader_init(&reader, old, sizeof(old));
	assert_true(osq_thrift_read_message_begin(&reader, &name, &type, &seqid, &error));
	assert_string_equal(name, "ping");
	assert_int_equal(type, OSQ_THRIFT_CALL);
	assert_int_equal(seqid, 7);
	assert_int_equal(osq_thrift_message_scan(old, sizeof(old), 1024, &length, &error),
	                 OSQ_THRIFT_SCAN_COMPLETE);
	assert_int_equal(length, sizeof(old));
}

static void
test_scan_truncations(void **state)
{
	/* every prefix of a valid message asks for more, never claims completeness */
	for (gsize n = 0; n < sizeof(query_reply); n++) {
		g_autoptr(GError) error = NULL;
		gsize length = 0;
		assert_int_equal(osq_thrift_message_scan(query_reply, n, 1024, &length, &error),
		                 OSQ_THRIFT_SCAN_INCOMPLETE);
	}
}

static void
test_scan_hostile(void **state)
{
	/* a 2 GiB name length, as when an HTTP request hits the socket */
	static const guint8 huge[] = { 0x7f, 0xff, 0xff, 0xff, 'P', 'O', 'S', 'T' };
	static const guint8 http[] = "POST / HTTP/1.1\r\n";
	/* strict header, a call with a list claiming 2^31-1 elements */
	static const guint8 big_list[] = { 0x80, 0x01, 0x00, 0x01, 0,    0,    0,
		                           1,    'q',  0,    0,    0,    0,    0x0f,
		                           0x00, 0x01, 0x0b, 0x7f, 0xff, 0xff, 0xff };
	static const guint8 bad_version[] = {
		0x80, 0x02, 0x00, 0x01, 0, 0, 0, 1, 'q', 0, 0, 0, 0, 0
	};
	static const guint8 bad_type[] = { 0x80, 0x01, 0x00, 0x01, 0,    0,    0,    1,   'q',
		                           0,    0,    0,    0,    0x99, 0x00, 0x01, 0x00 };
	g_autoptr(GByteArray) deep = g_byte_array_new();
	gsize length = 0;

	assert_int_equal(osq_thrift_message_scan(huge, sizeof(huge), 1 << 20, &length, NULL),
	                 OSQ_THRIFT_SCAN_INVALID);
	assert_int_equal(osq_thrift_message_scan(http, sizeof(http) - 1, 1 << 20, &length, NULL),
	                 OSQ_THRIFT_SCAN_INVALID);
	/* 2^31 elements cannot fit in 1 MiB: refused as soon as the count is seen */
	assert_int_equal(
	        osq_thrift_message_scan(big_list, sizeof(big_list), 1 << 20, &length, NULL),
	        OSQ_THRIFT_SCAN_INVALID);
	/* ...while 16 elements might still come */
	{
		guint8 small_list[sizeof(big_list)];
		memcpy(small_list, big_list, sizeof(big_list));
		small_list[sizeof(small_list) - 4] = 0;
		small_list[sizeof(small_list) - 3] = 0;
		small_list[sizeof(small_list) - 2] = 0;
		small_list[sizeof(small_list) - 1] = 16;
		assert_int_equal(osq_thrift_message_scan(small_list, sizeof(small_list), 1 << 20,
		                                         &length, NULL),
		                 OSQ_THRIFT_SCAN_INCOMPLETE);
	}
	/* a string in the body announcing 1 GiB: refused at once, not waited for */
	{
		static const guint8 huge_string[] = { 0x80, 0x01, 0x00, 0x02, 0,   0,    0,    1,
			                              'q',  0,    0,    0,    0,   0x0b, 0x00, 0x01,
			                              0x40, 0x00, 0x00, 0x00, 'x', 'x' };
		g_autoptr(GError) error = NULL;
		assert_int_equal(osq_thrift_message_scan(huge_string, sizeof(huge_string), 1 << 20,
		                                         &length, &error),
		                 OSQ_THRIFT_SCAN_INVALID);
		assert_true(g_error_matches(error, OSQ_ERROR, OSQ_ERROR_LIMIT));
	}
	assert_int_equal(osq_thrift_message_scan(big_list, sizeof(big_list), sizeof(big_list),
	                                         &length, NULL),
	                 OSQ_THRIFT_SCAN_INVALID);
	assert_int_equal(
	        osq_thrift_message_scan(bad_version, sizeof(bad_version), 1024, &length, NULL),
	        OSQ_THRIFT_SCAN_INVALID);
	assert_int_equal(osq_thrift_message_scan(bad_type, sizeof(bad_type), 1024, &length, NULL),
	                 OSQ_THRIFT_SCAN_INVALID);

	/* nesting deeper than the limit */
	osq_thrift_write_message_begin(deep, "q", OSQ_THRIFT_CALL, 0);
	for (guint i = 0; i < OSQ_THRIFT_MAX_DEPTH + 5; i++)
		osq_thrift_write_field_begin(deep, OSQ_THRIFT_STRUCT, 1);
	for (guint i = 0; i < OSQ_THRIFT_MAX_DEPTH + 6; i++)
		osq_thrift_write_field_stop(deep);
	assert_int_equal(osq_thrift_message_scan(deep->data, deep->len, 1 << 20, &length, NULL),
	                 OSQ_THRIFT_SCAN_INVALID);
}

static void
test_random_input(void **state)
{
	g_autoptr(GRand) rand = g_rand_new_with_seed(42);
	guint8 buffer[256];

	for (guint round = 0; round < 20000; round++) {
		gsize len = g_rand_int_range(rand, 0, sizeof(buffer));
		gsize length = 0;
		OsqThriftScan scan;
		for (gsize i = 0; i < len; i++)
			buffer[i] = (guint8)g_rand_int(rand);
		if (round % 2 == 0 && len >= 4) /* make many of them look strict */
			memcpy(buffer, "\x80\x01\x00\x01", 4);
		scan = osq_thrift_message_scan(buffer, len, 4096, &length, NULL);
		if (scan == OSQ_THRIFT_SCAN_COMPLETE)
			assert_true(length <= len);
	}
}

static void
test_string_map(void **state)
{
	g_autoptr(GByteArray) out = g_byte_array_new();
	g_autoptr(GHashTable) map = NULL;
	g_autoptr(GError) error = NULL;
	OsqThriftReader reader;

	osq_thrift_write_map_begin(out, OSQ_THRIFT_STRING, OSQ_THRIFT_STRING, 2);
	osq_thrift_write_string(out, "action");
	osq_thrift_write_string(out, "columns");
	osq_thrift_write_string(out, "empty");
	osq_thrift_write_string(out, "");
	osq_thrift_reader_init(&reader, out->data, out->len);
	assert_true(osq_thrift_read_string_map(&reader, &map, &error));
	assert_int_equal(g_hash_table_size(map), 2);
	assert_string_equal(g_hash_table_lookup(map, "action"), "columns");
	assert_string_equal(g_hash_table_lookup(map, "empty"), "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_write_examples),   cmocka_unit_test(test_read_query_call),
		cmocka_unit_test(test_read_unversioned), cmocka_unit_test(test_scan_truncations),
		cmocka_unit_test(test_scan_hostile),     cmocka_unit_test(test_random_input),
		cmocka_unit_test(test_string_map),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
