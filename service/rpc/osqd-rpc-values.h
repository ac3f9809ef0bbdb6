/* SPDX-License-Identifier: Apache-2.0
 *
 * Values on the wire, as osquery renders them (decimal integers, doubles with a decimal point,
 * NULL as "", text and blobs as valid UTF-8), written straight into a reply buffer. This is the
 * hot path of every large result, so a cell costs no call into GLib: an OsqdRpcOut grows its
 * GByteArray ahead (at least doubling) and remembers how far it is allocated; GArray never
 * shrinks an allocation, so that bound stays true whatever else appends to the array.
 */
#pragma once

#include <sqlite3.h>
#include <string.h>

#include <glib.h>

#include "osq-thrift.h"

G_BEGIN_DECLS

/* Longest rendering of a number: "-9223372036854775808", or a double's "%!.15g". */
#define OSQD_RPC_NUMBER_SIZE 40

typedef struct {
	GByteArray *buf;
	gsize capacity; /* bytes known to be allocated in buf */
} OsqdRpcOut;

guint8 *osqd_rpc_out_grow(OsqdRpcOut *out, gsize size);

/* Room for @size more bytes at the end of the buffer; write them and then commit. */
static inline guint8 *
osqd_rpc_out_reserve(OsqdRpcOut *out, gsize size)
{
	if (G_UNLIKELY(out->capacity < (gsize)out->buf->len + size))
		return osqd_rpc_out_grow(out, size);
	return out->buf->data + out->buf->len;
}

/* out->buf->len is GByteArray's public length: raising it within the capacity keeps the bytes */
static inline void
osqd_rpc_out_commit(OsqdRpcOut *out, gsize size)
{
	out->buf->len += (guint)size;
}

static inline void
osqd_rpc_put_be32(guint8 *p, guint32 value)
{
	p[0] = (guint8)(value >> 24);
	p[1] = (guint8)(value >> 16);
	p[2] = (guint8)(value >> 8);
	p[3] = (guint8)value;
}

/* A Thrift string: length, then the bytes. */
static inline void
osqd_rpc_put_binary(OsqdRpcOut *out, const void *data, gsize len)
{
	guint8 *p = osqd_rpc_out_reserve(out, 4 + len);

	osqd_rpc_put_be32(p, (guint32)len);
	if (len > 0)
		memcpy(p + 4, data, len);
	osqd_rpc_out_commit(out, 4 + len);
}

/* A list header: element type and count. */
static inline void
osqd_rpc_put_list_begin(OsqdRpcOut *out, OsqThriftType element, gint32 size)
{
	guint8 *p = osqd_rpc_out_reserve(out, 5);

	p[0] = (guint8)element;
	osqd_rpc_put_be32(p + 1, (guint32)size);
	osqd_rpc_out_commit(out, 5);
}

gsize osqd_rpc_format_int64(gchar *buf, gint64 value);
void osqd_rpc_put_int64(OsqdRpcOut *out, gint64 value);
void osqd_rpc_put_double(OsqdRpcOut *out, gdouble value);
void osqd_rpc_put_utf8(OsqdRpcOut *out, const gchar *data, gsize len);
gboolean osqd_rpc_put_cell(OsqdRpcOut *out, sqlite3_stmt *stmt, gint column);

G_END_DECLS
