/* SPDX-License-Identifier: Apache-2.0
 *
 * Thrift binary protocol codec. Big-endian integers, i32-length-prefixed strings, structs as
 * (type, id, value) fields ended by STOP. Every read checks the bytes left first; sizes of
 * containers are checked against the smallest encoding of their elements, so no count read from
 * the wire can request more memory than the message itself occupies.
 */
#include "osq-thrift.h"

#include <string.h>

#include "osq-error.h"

#define OSQ_THRIFT_VERSION_1    0x80010000u
#define OSQ_THRIFT_VERSION_MASK 0xffff0000u

/* ---- writing ---- */

static void
write_be(GByteArray *out, guint64 value, guint size)
{
	guint8 bytes[8];

	for (guint i = 0; i < size; i++)
		bytes[i] = (guint8)(value >> (8 * (size - 1 - i)));
	g_byte_array_append(out, bytes, size);
}

void
osq_thrift_write_byte(GByteArray *out, guint8 value)
{
	g_byte_array_append(out, &value, 1);
}

void
osq_thrift_write_i16(GByteArray *out, gint16 value)
{
	write_be(out, (guint16)value, 2);
}

void
osq_thrift_write_i32(GByteArray *out, gint32 value)
{
	write_be(out, (guint32)value, 4);
}

void
osq_thrift_write_i64(GByteArray *out, gint64 value)
{
	write_be(out, (guint64)value, 8);
}

void
osq_thrift_write_binary(GByteArray *out, const void *data, gsize len)
{
	guint start = out->len;
	guint8 *p;

	/* one growth for the length and the bytes: this is the hot path of every result */
	g_byte_array_set_size(out, start + 4 + (guint)len);
	p = out->data + start;
	p[0] = (guint8)(len >> 24);
	p[1] = (guint8)(len >> 16);
	p[2] = (guint8)(len >> 8);
	p[3] = (guint8)len;
	if (len > 0)
		memcpy(p + 4, data, len);
}

void
osq_thrift_write_string(GByteArray *out, const gchar *value)
{
	osq_thrift_write_binary(out, value != NULL ? value : "", value != NULL ? strlen(value) : 0);
}

void
osq_thrift_write_message_begin(GByteArray *out, const gchar *name, OsqThriftMessageType type,
                               gint32 seqid)
{
	osq_thrift_write_i32(out, (gint32)(OSQ_THRIFT_VERSION_1 | (guint32)type));
	osq_thrift_write_string(out, name);
	osq_thrift_write_i32(out, seqid);
}

void
osq_thrift_write_field_begin(GByteArray *out, OsqThriftType type, gint16 id)
{
	osq_thrift_write_byte(out, (guint8)type);
	osq_thrift_write_i16(out, id);
}

void
osq_thrift_write_field_stop(GByteArray *out)
{
	osq_thrift_write_byte(out, OSQ_THRIFT_STOP);
}

void
osq_thrift_write_map_begin(GByteArray *out, OsqThriftType key, OsqThriftType value, gint32 size)
{
	osq_thrift_write_byte(out, (guint8)key);
	osq_thrift_write_byte(out, (guint8)value);
	osq_thrift_write_i32(out, size);
}

void
osq_thrift_write_list_begin(GByteArray *out, OsqThriftType element, gint32 size)
{
	osq_thrift_write_byte(out, (guint8)element);
	osq_thrift_write_i32(out, size);
}

gsize
osq_thrift_write_list_begin_deferred(GByteArray *out, OsqThriftType element)
{
	gsize offset;

	osq_thrift_write_byte(out, (guint8)element);
	offset = out->len;
	osq_thrift_write_i32(out, 0);
	return offset;
}

void
osq_thrift_patch_i32(GByteArray *out, gsize offset, gint32 value)
{
	guint32 v = (guint32)value;

	g_return_if_fail(offset + 4 <= out->len);
	out->data[offset] = (guint8)(v >> 24);
	out->data[offset + 1] = (guint8)(v >> 16);
	out->data[offset + 2] = (guint8)(v >> 8);
	out->data[offset + 3] = (guint8)v;
}

void
osq_thrift_write_application_exception(GByteArray *out, const gchar *name, gint32 seqid,
                                       OsqThriftAppError type, const gchar *message)
{
	osq_thrift_write_message_begin(out, name, OSQ_THRIFT_EXCEPTION, seqid);
	osq_thrift_write_field_begin(out, OSQ_THRIFT_STRING, 1);
	osq_thrift_write_string(out, message);
	osq_thrift_write_field_begin(out, OSQ_THRIFT_I32, 2);
	osq_thrift_write_i32(out, (gint32)type);
	osq_thrift_write_field_stop(out);
}

/* ---- reading ---- */

void
osq_thrift_reader_init(OsqThriftReader *reader, const guint8 *data, gsize len)
{
	reader->data = data;
	reader->len = len;
	reader->pos = 0;
	reader->depth = 0;
	reader->limit = 0;
}

static gboolean
reader_need(OsqThriftReader *reader, gsize size, GError **error)
{
	if (reader->len - reader->pos >= size)
		return TRUE;
	if (reader->limit > 0 && size > reader->limit - MIN(reader->pos, reader->limit)) {
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_LIMIT,
		            "a Thrift value of %" G_GSIZE_FORMAT
		            " bytes goes past the %" G_GSIZE_FORMAT "-byte message limit",
		            size, reader->limit);
		return FALSE;
	}
	g_set_error_literal(error, OSQ_ERROR, OSQ_ERROR_IO, "truncated Thrift message");
	return FALSE;
}

static gboolean
reader_invalid(GError **error, const gchar *what)
{
	g_set_error(error, OSQ_ERROR, OSQ_ERROR_INVALID_ARGUMENT, "malformed Thrift message: %s",
	            what);
	return FALSE;
}

static guint64
reader_take_be(OsqThriftReader *reader, guint size)
{
	guint64 value = 0;

	for (guint i = 0; i < size; i++)
		value = (value << 8) | reader->data[reader->pos + i];
	reader->pos += size;
	return value;
}

gboolean
osq_thrift_read_byte(OsqThriftReader *reader, guint8 *value, GError **error)
{
	if (!reader_need(reader, 1, error))
		return FALSE;
	*value = reader->data[reader->pos++];
	return TRUE;
}

gboolean
osq_thrift_read_i16(OsqThriftReader *reader, gint16 *value, GError **error)
{
	if (!reader_need(reader, 2, error))
		return FALSE;
	*value = (gint16)(guint16)reader_take_be(reader, 2);
	return TRUE;
}

gboolean
osq_thrift_read_i32(OsqThriftReader *reader, gint32 *value, GError **error)
{
	if (!reader_need(reader, 4, error))
		return FALSE;
	*value = (gint32)(guint32)reader_take_be(reader, 4);
	return TRUE;
}

gboolean
osq_thrift_read_i64(OsqThriftReader *reader, gint64 *value, GError **error)
{
	if (!reader_need(reader, 8, error))
		return FALSE;
	*value = (gint64)reader_take_be(reader, 8);
	return TRUE;
}

gboolean
osq_thrift_read_double(OsqThriftReader *reader, gdouble *value, GError **error)
{
	guint64 bits;

	if (!reader_need(reader, 8, error))
		return FALSE;
	bits = reader_take_be(reader, 8);
	memcpy(value, &bits, sizeof(*value));
	return TRUE;
}

gboolean
osq_thrift_read_binary(OsqThriftReader *reader, const gchar **data, gsize *len, GError **error)
{
	gint32 size;

	if (!osq_thrift_read_i32(reader, &size, error))
		return FALSE;
	if (size < 0)
		return reader_invalid(error, "negative string length");
	if (!reader_need(reader, (gsize)size, error))
		return FALSE;
	*data = (const gchar *)reader->data + reader->pos;
	*len = (gsize)size;
	reader->pos += (gsize)size;
	return TRUE;
}

gboolean
osq_thrift_read_string(OsqThriftReader *reader, gchar **value, GError **error)
{
	const gchar *data;
	gsize len;

	if (!osq_thrift_read_binary(reader, &data, &len, error))
		return FALSE;
	*value = g_strndup(data, len);
	return TRUE;
}

gboolean
osq_thrift_read_message_begin(OsqThriftReader *reader, gchar **name, OsqThriftMessageType *type,
                              gint32 *seqid, GError **error)
{
	gint32 first;

	if (!osq_thrift_read_i32(reader, &first, error))
		return FALSE;
	if (first < 0) {
		/* strict: version | type, name, seqid */
		if (((guint32)first & OSQ_THRIFT_VERSION_MASK) != OSQ_THRIFT_VERSION_1)
			return reader_invalid(error, "bad protocol version");
		*type = (OsqThriftMessageType)((guint32)first & 0xff);
		if (!osq_thrift_read_string(reader, name, error))
			return FALSE;
	} else {
		/* unversioned: the first i32 was the name's length, then a type byte */
		guint8 byte;
		if (!reader_need(reader, (gsize)first, error))
			return FALSE;
		*name = g_strndup((const gchar *)reader->data + reader->pos, (gsize)first);
		reader->pos += (gsize)first;
		if (!osq_thrift_read_byte(reader, &byte, error)) {
			g_clear_pointer(name, g_free);
			return FALSE;
		}
		*type = (OsqThriftMessageType)byte;
	}
	if (!osq_thrift_read_i32(reader, seqid, error)) {
		g_clear_pointer(name, g_free);
		return FALSE;
	}
	if (*type < OSQ_THRIFT_CALL || *type > OSQ_THRIFT_ONEWAY) {
		g_clear_pointer(name, g_free);
		return reader_invalid(error, "unknown message type");
	}
	return TRUE;
}

static gboolean
type_is_valid(guint8 type)
{
	switch (type) {
	case OSQ_THRIFT_BOOL:
	case OSQ_THRIFT_BYTE:
	case OSQ_THRIFT_DOUBLE:
	case OSQ_THRIFT_I16:
	case OSQ_THRIFT_I32:
	case OSQ_THRIFT_I64:
	case OSQ_THRIFT_STRING:
	case OSQ_THRIFT_STRUCT:
	case OSQ_THRIFT_MAP:
	case OSQ_THRIFT_SET:
	case OSQ_THRIFT_LIST:
		return TRUE;
	default:
		return FALSE;
	}
}

/* The fewest bytes one value of @type takes on the wire. */
static gsize
type_min_size(OsqThriftType type)
{
	switch (type) {
	case OSQ_THRIFT_BOOL:
	case OSQ_THRIFT_BYTE:
	case OSQ_THRIFT_STRUCT: /* a lone STOP */
		return 1;
	case OSQ_THRIFT_I16:
		return 2;
	case OSQ_THRIFT_I32:
	case OSQ_THRIFT_STRING:
		return 4;
	case OSQ_THRIFT_DOUBLE:
	case OSQ_THRIFT_I64:
		return 8;
	case OSQ_THRIFT_MAP:
		return 6;
	case OSQ_THRIFT_SET:
	case OSQ_THRIFT_LIST:
		return 5;
	default:
		return 1;
	}
}

gboolean
osq_thrift_read_field_begin(OsqThriftReader *reader, OsqThriftType *type, gint16 *id,
                            GError **error)
{
	guint8 byte;

	if (!osq_thrift_read_byte(reader, &byte, error))
		return FALSE;
	if (byte == OSQ_THRIFT_STOP) {
		*type = OSQ_THRIFT_STOP;
		*id = 0;
		return TRUE;
	}
	if (!type_is_valid(byte))
		return reader_invalid(error, "unknown field type");
	*type = (OsqThriftType)byte;
	return osq_thrift_read_i16(reader, id, error);
}

static gboolean
check_count(OsqThriftReader *reader, gint32 count, gsize element_size, GError **error)
{
	if (count < 0)
		return reader_invalid(error, "negative container size");
	if ((guint64)count * element_size > reader->len - reader->pos)
		return reader_need(reader,
		                   (gsize)MIN((guint64)count * element_size, (guint64)G_MAXSIZE),
		                   error);
	return TRUE;
}

gboolean
osq_thrift_read_map_begin(OsqThriftReader *reader, OsqThriftType *key, OsqThriftType *value,
                          guint32 *size, GError **error)
{
	guint8 k, v;
	gint32 count;

	if (!osq_thrift_read_byte(reader, &k, error) || !osq_thrift_read_byte(reader, &v, error) ||
	    !osq_thrift_read_i32(reader, &count, error))
		return FALSE;
	if (count > 0 && (!type_is_valid(k) || !type_is_valid(v)))
		return reader_invalid(error, "unknown map element type");
	if (!check_count(reader, count, type_min_size(k) + type_min_size(v), error))
		return FALSE;
	*key = (OsqThriftType)k;
	*value = (OsqThriftType)v;
	*size = (guint32)count;
	return TRUE;
}

gboolean
osq_thrift_read_list_begin(OsqThriftReader *reader, OsqThriftType *element, guint32 *size,
                           GError **error)
{
	guint8 e;
	gint32 count;

	if (!osq_thrift_read_byte(reader, &e, error) || !osq_thrift_read_i32(reader, &count, error))
		return FALSE;
	if (count > 0 && !type_is_valid(e))
		return reader_invalid(error, "unknown list element type");
	if (!check_count(reader, count, type_min_size(e), error))
		return FALSE;
	*element = (OsqThriftType)e;
	*size = (guint32)count;
	return TRUE;
}

static gboolean
skip_container(OsqThriftReader *reader, OsqThriftType type, GError **error)
{
	OsqThriftType key = OSQ_THRIFT_STOP, value = OSQ_THRIFT_STOP;
	guint32 size = 0;

	if (type == OSQ_THRIFT_MAP) {
		if (!osq_thrift_read_map_begin(reader, &key, &value, &size, error))
			return FALSE;
		for (guint32 i = 0; i < size; i++) {
			if (!osq_thrift_skip(reader, key, error) ||
			    !osq_thrift_skip(reader, value, error))
				return FALSE;
		}
		return TRUE;
	}
	if (!osq_thrift_read_list_begin(reader, &value, &size, error))
		return FALSE;
	for (guint32 i = 0; i < size; i++) {
		if (!osq_thrift_skip(reader, value, error))
			return FALSE;
	}
	return TRUE;
}

gboolean
osq_thrift_skip(OsqThriftReader *reader, OsqThriftType type, GError **error)
{
	const gchar *data;
	gsize len;
	gboolean ok = TRUE;

	switch (type) {
	case OSQ_THRIFT_BOOL:
	case OSQ_THRIFT_BYTE:
	case OSQ_THRIFT_I16:
	case OSQ_THRIFT_I32:
	case OSQ_THRIFT_I64:
	case OSQ_THRIFT_DOUBLE:
		if (!reader_need(reader, type_min_size(type), error))
			return FALSE;
		reader->pos += type_min_size(type);
		return TRUE;
	case OSQ_THRIFT_STRING:
		return osq_thrift_read_binary(reader, &data, &len, error);
	case OSQ_THRIFT_STRUCT:
	case OSQ_THRIFT_MAP:
	case OSQ_THRIFT_SET:
	case OSQ_THRIFT_LIST:
		break;
	default:
		return reader_invalid(error, "unknown type");
	}
	if (reader->depth >= OSQ_THRIFT_MAX_DEPTH)
		return reader_invalid(error, "nested too deeply");
	reader->depth++;
	if (type == OSQ_THRIFT_STRUCT) {
		for (;;) {
			OsqThriftType field;
			gint16 id;
			if (!osq_thrift_read_field_begin(reader, &field, &id, error)) {
				ok = FALSE;
				break;
			}
			if (field == OSQ_THRIFT_STOP)
				break;
			if (!osq_thrift_skip(reader, field, error)) {
				ok = FALSE;
				break;
			}
		}
	} else {
		ok = skip_container(reader, type, error);
	}
	reader->depth--;
	return ok;
}

gboolean
osq_thrift_read_string_map(OsqThriftReader *reader, GHashTable **map, GError **error)
{
	g_autoptr(GHashTable) result =
	        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	OsqThriftType key, value;
	guint32 size;

	if (!osq_thrift_read_map_begin(reader, &key, &value, &size, error))
		return FALSE;
	for (guint32 i = 0; i < size; i++) {
		gchar *k = NULL, *v = NULL;
		if (key != OSQ_THRIFT_STRING || value != OSQ_THRIFT_STRING) {
			if (!osq_thrift_skip(reader, key, error) ||
			    !osq_thrift_skip(reader, value, error))
				return FALSE;
			continue;
		}
		if (!osq_thrift_read_string(reader, &k, error))
			return FALSE;
		if (!osq_thrift_read_string(reader, &v, error)) {
			g_free(k);
			return FALSE;
		}
		g_hash_table_replace(result, k, v);
	}
	*map = g_steal_pointer(&result);
	return TRUE;
}

OsqThriftScan
osq_thrift_message_scan(const guint8 *data, gsize len, gsize max, gsize *length, GError **error)
{
	g_autoptr(GError) error_local = NULL;
	OsqThriftReader reader;
	g_autofree gchar *name = NULL;
	OsqThriftMessageType type;
	gint32 seqid, first = 0;

	/* a strict header's length prefix, or an unversioned name length, says early whether
	 * the message can fit at all */
	if (len >= 8) {
		OsqThriftReader peek;
		osq_thrift_reader_init(&peek, data, len);
		(void)osq_thrift_read_i32(&peek, &first, NULL);
		if (first < 0)
			(void)osq_thrift_read_i32(&peek, &first, NULL);
		if (first < 0 || (gsize)first > max) {
			g_set_error(
			        error, OSQ_ERROR, OSQ_ERROR_LIMIT,
			        "Thrift message header announces %d bytes (limit %" G_GSIZE_FORMAT
			        ")",
			        first, max);
			return OSQ_THRIFT_SCAN_INVALID;
		}
	}
	osq_thrift_reader_init(&reader, data, MIN(len, max));
	reader.limit = max;
	if (osq_thrift_read_message_begin(&reader, &name, &type, &seqid, &error_local) &&
	    osq_thrift_skip(&reader, OSQ_THRIFT_STRUCT, &error_local)) {
		*length = reader.pos;
		return OSQ_THRIFT_SCAN_COMPLETE;
	}
	if (g_error_matches(error_local, OSQ_ERROR, OSQ_ERROR_IO)) {
		if (len < max)
			return OSQ_THRIFT_SCAN_INCOMPLETE;
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_LIMIT,
		            "Thrift message larger than %" G_GSIZE_FORMAT " bytes", max);
		return OSQ_THRIFT_SCAN_INVALID;
	}
	g_propagate_error(error, g_steal_pointer(&error_local));
	return OSQ_THRIFT_SCAN_INVALID;
}
