/* SPDX-License-Identifier: Apache-2.0
 *
 * libosq's insides, shared with its unit tests only (not installed): the result and extension
 * list layouts, the pure request writers and reply parsers that work on byte buffers, and the
 * resumable scanner that finds where a reply ends while its bytes arrive.
 */
#pragma once

#include <glib.h>

#include "osq-thrift.h"
#include "osq.h"

G_BEGIN_DECLS

/* Internal errors carry the public codes (OsqClientErrorCode) in their own domain. */
#define OSQ_CLIENT_ERROR osq_client_error_quark()
GQuark osq_client_error_quark(void);
/* The daemon does not know the method (osquery and queryTyped); exported as
 * OSQ_CLIENT_ERROR_NOT_SUPPORTED. */
#define OSQ_CLIENT_ERROR_UNKNOWN_METHOD 100

struct OsqResult {
	gsize n_rows;
	gsize n_columns;
	gchar **names;      /* n_columns */
	gchar **type_names; /* n_columns */
	OsqColumnType *types;
	gchar *arena;   /* every cell's bytes, each followed by a NUL */
	gsize *offsets; /* n_rows * n_columns + 1 offsets into arena */
	guint8 *nulls;  /* a bit per cell; NULL when no cell is NULL */
};

struct OsqExtensionList {
	GArray *items; /* OsqExtensionInfo; the strings are owned here */
};

OsqColumnType osq_client_column_type_from_string(const gchar *name);

/* ---- requests ---- */

/* A CALL of @method with no arguments (@sql NULL) or with field 1 = @sql. */
void osq_client_write_call(GByteArray *out, const gchar *method, gint32 seqid, const gchar *sql);

/* A queryStart CALL: field 1 = @sql, field 2 = @page_rows. */
void osq_client_write_query_start(GByteArray *out, gint32 seqid, const gchar *sql,
                                  gint32 page_rows);

/* A followStart CALL: field 1 = @sql, field 2 = @from_start. */
void osq_client_write_follow_start(GByteArray *out, gint32 seqid, const gchar *sql,
                                   gboolean from_start);
/* A followPoll CALL: fields 1-4 = @sql, @cursor, @max_rows, @timeout_ms. */
void osq_client_write_follow_poll(GByteArray *out, gint32 seqid, const gchar *sql, gint64 cursor,
                                  gint32 max_rows, gint32 timeout_ms);

/* ---- replies: each parses one whole message of @len bytes ---- */

/* The reply of "ping": fails unless its status code is 0. */
gboolean osq_client_parse_ping_reply(const guint8 *data, gsize len, gint32 seqid, GError **error);
/* The reply of "queryTyped". */
OsqResult *osq_client_parse_query_typed_reply(const guint8 *data, gsize len, gint32 seqid,
                                              GError **error);
/* One result gathered from QueryPage replies (queryStart, then queryNext until done): the
 * cells go into one growing arena, NULL positions are moved to the whole result's rows. */
typedef struct OsqClientPages OsqClientPages;
OsqClientPages *osq_client_pages_new(void);
void osq_client_pages_free(OsqClientPages *pages);
/* Adds the reply of @method (a QueryPage, or with @done NULL a queryTyped QueryResult); a
 * status other than 0 is an error. *@done tells whether it was the last page. */
gboolean osq_client_pages_add_reply(OsqClientPages *pages, const guint8 *data, gsize len,
                                    gint32 seqid, const gchar *method, gboolean *done,
                                    GError **error);
/* The result of every page added; @pages is left empty. */
OsqResult *osq_client_pages_finish(OsqClientPages *pages, GError **error);
/* The reply of followStart or followPoll (@method), a FollowPage: queryTyped's QueryResult
 * plus field 6, the cursor, which goes to *@cursor (left as it was when the reply has none; a
 * failing status leaves it too). A reply without columns gets those of @columns (the follow's,
 * from followStart; may be NULL). */
OsqResult *osq_client_parse_follow_reply(const guint8 *data, gsize len, gint32 seqid,
                                         const gchar *method, const OsqResult *columns,
                                         gint64 *cursor, GError **error);
/* The reply of "getQueryColumns": a result with no rows. */
OsqResult *osq_client_parse_columns_reply(const guint8 *data, gsize len, gint32 seqid,
                                          GError **error);
/* The reply of osquery's "query": rows (maps) laid out in the order of @columns, a result of
 * osq_client_parse_columns_reply(), which it takes over. */
OsqResult *osq_client_parse_query_reply(const guint8 *data, gsize len, gint32 seqid,
                                        OsqResult *columns, GError **error);
/* The reply of "extensions", sorted by uuid. */
OsqExtensionList *osq_client_parse_extensions_reply(const guint8 *data, gsize len, gint32 seqid,
                                                    GError **error);

/* ---- finding a reply's end ---- */

typedef struct {
	guint8 kind; /* OSQ_THRIFT_STRUCT, _LIST (sets too) or _MAP */
	guint8 key_type;
	guint8 value_type;
	guint64 remaining; /* list elements, or map keys + values, still to come */
} OsqClientScanFrame;

/* Walks a message as its bytes arrive, resuming where the previous call stopped, so a reply
 * of N bytes costs O(N) however it is split. */
typedef struct {
	gsize max;
	gsize pos;
	gboolean started;
	guint depth;
	OsqClientScanFrame stack[OSQ_THRIFT_MAX_DEPTH + 1];
} OsqClientScanner;

void osq_client_scanner_init(OsqClientScanner *scanner, gsize max);
/* @data holds every byte received so far (the same start each call). COMPLETE sets @length;
 * INVALID means garbage or a message longer than the maximum (an OSQ_CLIENT_ERROR_LIMIT or
 * _PROTOCOL error). */
OsqThriftScan osq_client_scanner_run(OsqClientScanner *scanner, const guint8 *data, gsize len,
                                     gsize *length, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(OsqResult, osq_result_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(OsqExtensionList, osq_extension_list_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(OsqFollow, osq_follow_free)

G_END_DECLS
