/* SPDX-License-Identifier: Apache-2.0
 *
 * Rendering of SQLite values as osquery's strings, appended to a reply buffer (see the header
 * for why the buffer is handled by hand). Integers use a two-digits-at-a-time table; doubles
 * that are whole print as "2.0" without SQLite's printf, the rest as "%!.15g"; text is checked
 * eight bytes at a time for ASCII before the full UTF-8 validation, and invalid bytes are
 * replaced, so every value on the wire is valid UTF-8.
 */
#include "config.h"

#include "osqd-rpc-values.h"

guint8 *
osqd_rpc_out_grow(OsqdRpcOut *out, gsize size)
{
	guint len = out->buf->len;
	gsize want = MAX((gsize)len + size, MAX((gsize)len * 2, (gsize)64 * 1024));

	want = MIN(want, (gsize)G_MAXUINT);
	g_byte_array_set_size(out->buf, (guint)want);
	out->buf->len = len;
	out->capacity = want;
	return out->buf->data + len;
}

static const gchar osqd_rpc_digit_pairs[] = "00010203040506070809"
                                            "10111213141516171819"
                                            "20212223242526272829"
                                            "30313233343536373839"
                                            "40414243444546474849"
                                            "50515253545556575859"
                                            "60616263646566676869"
                                            "70717273747576777879"
                                            "80818283848586878889"
                                            "90919293949596979899";

static guint
osqd_rpc_count_digits(guint64 value)
{
	guint n = 1;

	while (value >= 10000) {
		value /= 10000;
		n += 4;
	}
	return n + (value >= 10) + (value >= 100) + (value >= 1000);
}

/* @value in decimal into @buf (at least 21 bytes); returns the length. */
gsize
osqd_rpc_format_int64(gchar *buf, gint64 value)
{
	guint64 magnitude = value < 0 ? (guint64)0 - (guint64)value : (guint64)value;
	gsize sign = value < 0 ? 1 : 0;
	gsize len = sign + osqd_rpc_count_digits(magnitude);
	gchar *p = buf + len;

	while (magnitude >= 100) {
		guint pair = (guint)(magnitude % 100) * 2;
		magnitude /= 100;
		*--p = osqd_rpc_digit_pairs[pair + 1];
		*--p = osqd_rpc_digit_pairs[pair];
	}
	if (magnitude >= 10) {
		*--p = osqd_rpc_digit_pairs[magnitude * 2 + 1];
		*--p = osqd_rpc_digit_pairs[magnitude * 2];
	} else {
		*--p = (gchar)('0' + magnitude);
	}
	if (sign)
		buf[0] = '-';
	return len;
}

void
osqd_rpc_put_int64(OsqdRpcOut *out, gint64 value)
{
	guint8 *p = osqd_rpc_out_reserve(out, 4 + OSQD_RPC_NUMBER_SIZE);
	gsize len = osqd_rpc_format_int64((gchar *)p + 4, value);

	osqd_rpc_put_be32(p, (guint32)len);
	osqd_rpc_out_commit(out, 4 + len);
}

void
osqd_rpc_put_double(OsqdRpcOut *out, gdouble value)
{
	guint8 *p = osqd_rpc_out_reserve(out, 4 + OSQD_RPC_NUMBER_SIZE);
	gchar *text = (gchar *)p + 4;
	gsize len;

	if (value > -1e15 && value < 1e15 && value == (gdouble)(gint64)value) {
		len = osqd_rpc_format_int64(text, (gint64)value);
		text[len++] = '.';
		text[len++] = '0';
	} else {
		(void)sqlite3_snprintf(OSQD_RPC_NUMBER_SIZE, text, "%!.15g", value);
		len = strlen(text);
	}
	osqd_rpc_put_be32(p, (guint32)len);
	osqd_rpc_out_commit(out, 4 + len);
}

static gboolean
osqd_rpc_is_ascii(const gchar *data, gsize len)
{
	const guint64 high = 0x8080808080808080ull;
	gsize i = 0;

	for (; i + 8 <= len; i += 8) {
		guint64 word;
		memcpy(&word, data + i, 8);
		if ((word & high) != 0)
			return FALSE;
	}
	for (; i < len; i++) {
		if ((guchar)data[i] >= 0x80)
			return FALSE;
	}
	return TRUE;
}

void
osqd_rpc_put_utf8(OsqdRpcOut *out, const gchar *data, gsize len)
{
	g_autofree gchar *fixed = NULL;

	if (len == 0 || osqd_rpc_is_ascii(data, len) || g_utf8_validate_len(data, len, NULL)) {
		osqd_rpc_put_binary(out, data, len);
		return;
	}
	fixed = g_utf8_make_valid(data, (gssize)len);
	osqd_rpc_put_binary(out, fixed, strlen(fixed));
}

/* Column @column of @stmt's current row as a Thrift string; TRUE when it was NULL. Read
 * through sqlite3_column_value() as osqd_rpc_chunk_add_cell() does (one thread per statement). */
gboolean
osqd_rpc_put_cell(OsqdRpcOut *out, sqlite3_stmt *stmt, gint column)
{
	sqlite3_value *value = sqlite3_column_value(stmt, column);

	switch (sqlite3_value_type(value)) {
	case SQLITE_INTEGER:
		osqd_rpc_put_int64(out, sqlite3_value_int64(value));
		return FALSE;
	case SQLITE_FLOAT:
		osqd_rpc_put_double(out, sqlite3_value_double(value));
		return FALSE;
	case SQLITE_TEXT: {
		const gchar *text = (const gchar *)sqlite3_value_text(value);
		osqd_rpc_put_utf8(out, text, (gsize)sqlite3_value_bytes(value));
		return FALSE;
	}
	case SQLITE_BLOB: {
		const gchar *blob = sqlite3_value_blob(value);
		osqd_rpc_put_utf8(out, blob, (gsize)sqlite3_value_bytes(value));
		return FALSE;
	}
	case SQLITE_NULL:
	default:
		osqd_rpc_put_binary(out, NULL, 0);
		return TRUE;
	}
}
