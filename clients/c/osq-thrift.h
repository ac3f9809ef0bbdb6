/* SPDX-License-Identifier: Apache-2.0
 *
 * Thrift binary protocol codec (internal to libosq and osqd; not an installed header). The
 * writer appends to a GByteArray; the reader walks a memory buffer with bounds checks, so a
 * hostile length prefix can never make it allocate or read past what arrived. Messages on a
 * Unix stream socket are not framed: osq_thrift_message_scan() finds where one ends (or says
 * that more bytes are needed) by walking its structure.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
	OSQ_THRIFT_STOP = 0,
	OSQ_THRIFT_BOOL = 2,
	OSQ_THRIFT_BYTE = 3,
	OSQ_THRIFT_DOUBLE = 4,
	OSQ_THRIFT_I16 = 6,
	OSQ_THRIFT_I32 = 8,
	OSQ_THRIFT_I64 = 10,
	OSQ_THRIFT_STRING = 11,
	OSQ_THRIFT_STRUCT = 12,
	OSQ_THRIFT_MAP = 13,
	OSQ_THRIFT_SET = 14,
	OSQ_THRIFT_LIST = 15,
} OsqThriftType;

typedef enum {
	OSQ_THRIFT_CALL = 1,
	OSQ_THRIFT_REPLY = 2,
	OSQ_THRIFT_EXCEPTION = 3,
	OSQ_THRIFT_ONEWAY = 4,
} OsqThriftMessageType;

/* TApplicationException types */
typedef enum {
	OSQ_THRIFT_APP_UNKNOWN = 0,
	OSQ_THRIFT_APP_UNKNOWN_METHOD = 1,
	OSQ_THRIFT_APP_INVALID_MESSAGE_TYPE = 2,
	OSQ_THRIFT_APP_WRONG_METHOD_NAME = 3,
	OSQ_THRIFT_APP_BAD_SEQUENCE_ID = 4,
	OSQ_THRIFT_APP_MISSING_RESULT = 5,
	OSQ_THRIFT_APP_INTERNAL_ERROR = 6,
	OSQ_THRIFT_APP_PROTOCOL_ERROR = 7,
} OsqThriftAppError;

/* Nesting deeper than this is refused (Thrift's own default recursion limit). */
#define OSQ_THRIFT_MAX_DEPTH 64

/* ---- writing ---- */

void osq_thrift_write_message_begin(GByteArray *out, const gchar *name, OsqThriftMessageType type,
                                    gint32 seqid);
void osq_thrift_write_field_begin(GByteArray *out, OsqThriftType type, gint16 id);
void osq_thrift_write_field_stop(GByteArray *out);
void osq_thrift_write_byte(GByteArray *out, guint8 value);
void osq_thrift_write_i16(GByteArray *out, gint16 value);
void osq_thrift_write_i32(GByteArray *out, gint32 value);
void osq_thrift_write_i64(GByteArray *out, gint64 value);
void osq_thrift_write_string(GByteArray *out, const gchar *value);
void osq_thrift_write_binary(GByteArray *out, const void *data, gsize len);
void osq_thrift_write_map_begin(GByteArray *out, OsqThriftType key, OsqThriftType value,
                                gint32 size);
void osq_thrift_write_list_begin(GByteArray *out, OsqThriftType element, gint32 size);
/* A list whose size is not known yet: returns the offset to patch with the count. */
gsize osq_thrift_write_list_begin_deferred(GByteArray *out, OsqThriftType element);
void osq_thrift_patch_i32(GByteArray *out, gsize offset, gint32 value);

/* A whole EXCEPTION message carrying a TApplicationException. */
void osq_thrift_write_application_exception(GByteArray *out, const gchar *name, gint32 seqid,
                                            OsqThriftAppError type, const gchar *message);

/* ---- reading ---- */

typedef struct {
	const guint8 *data;
	gsize len;
	gsize pos;
	guint depth;
	gsize limit; /* 0, or the most bytes the message may have: a value announced past it is an
	              * OSQ_ERROR_LIMIT error at once, not a truncation to wait out */
} OsqThriftReader;

void osq_thrift_reader_init(OsqThriftReader *reader, const guint8 *data, gsize len);

/* Each reader call fails with OSQ_ERROR_INVALID_ARGUMENT on malformed input (a negative size,
 * an unknown type, nesting past OSQ_THRIFT_MAX_DEPTH) and with OSQ_ERROR_IO / "truncated" when
 * the buffer ends early. Reads strict (versioned) and old unversioned message headers. */
gboolean osq_thrift_read_message_begin(OsqThriftReader *reader, gchar **name,
                                       OsqThriftMessageType *type, gint32 *seqid, GError **error);
/* *type is OSQ_THRIFT_STOP at the end of a struct (then *id is 0). */
gboolean osq_thrift_read_field_begin(OsqThriftReader *reader, OsqThriftType *type, gint16 *id,
                                     GError **error);
gboolean osq_thrift_read_byte(OsqThriftReader *reader, guint8 *value, GError **error);
gboolean osq_thrift_read_i16(OsqThriftReader *reader, gint16 *value, GError **error);
gboolean osq_thrift_read_i32(OsqThriftReader *reader, gint32 *value, GError **error);
gboolean osq_thrift_read_i64(OsqThriftReader *reader, gint64 *value, GError **error);
gboolean osq_thrift_read_double(OsqThriftReader *reader, gdouble *value, GError **error);
/* Points into the buffer (no copy, not NUL-terminated). */
gboolean osq_thrift_read_binary(OsqThriftReader *reader, const gchar **data, gsize *len,
                                GError **error);
/* A NUL-terminated copy. */
gboolean osq_thrift_read_string(OsqThriftReader *reader, gchar **value, GError **error);
/* Sizes are checked against the bytes left, so a hostile count cannot drive an allocation. */
gboolean osq_thrift_read_map_begin(OsqThriftReader *reader, OsqThriftType *key,
                                   OsqThriftType *value, guint32 *size, GError **error);
gboolean osq_thrift_read_list_begin(OsqThriftReader *reader, OsqThriftType *element, guint32 *size,
                                    GError **error);
/* Skips one value of @type (a whole struct, map or list included). */
gboolean osq_thrift_skip(OsqThriftReader *reader, OsqThriftType type, GError **error);
/* Reads a map<string,string> into a new GHashTable (owned keys and values). */
gboolean osq_thrift_read_string_map(OsqThriftReader *reader, GHashTable **map, GError **error);

typedef enum {
	OSQ_THRIFT_SCAN_COMPLETE,   /* *length is the message's size */
	OSQ_THRIFT_SCAN_INCOMPLETE, /* read more bytes and scan again */
	OSQ_THRIFT_SCAN_INVALID,    /* garbage or over @max: drop the connection */
} OsqThriftScan;

/* Finds the end of the first message in @data; a message longer than @max is INVALID (so a
 * 2 GiB length prefix is refused as soon as it is seen, not after 2 GiB arrived). */
OsqThriftScan osq_thrift_message_scan(const guint8 *data, gsize len, gsize max, gsize *length,
                                      GError **error);

G_END_DECLS
