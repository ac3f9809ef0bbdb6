/* SPDX-License-Identifier: Apache-2.0
 *
 * A small, bounded JSON reader internal to libosq (not installed). libosq must stay GLib-only
 * (no json-glib, no gobject), and the extension SDK only needs to read osquery's table
 * "context" objects, so this builds a plain tree: nesting is capped (OSQ_JSON_MAX_DEPTH), the
 * input is never read past @len, and every node costs memory proportional to the bytes that
 * produced it, so hostile input cannot make it allocate more than a small multiple of its size.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define OSQ_JSON_MAX_DEPTH 64

typedef enum {
	OSQ_JSON_NULL,
	OSQ_JSON_FALSE,
	OSQ_JSON_TRUE,
	OSQ_JSON_NUMBER,
	OSQ_JSON_STRING,
	OSQ_JSON_ARRAY,
	OSQ_JSON_OBJECT,
} OsqJsonKind;

typedef struct OsqJsonNode OsqJsonNode;

/* Parses one JSON value (surrounded by optional whitespace) from @text; NULL with an
 * OSQ_ERROR_INVALID_ARGUMENT error on malformed input. */
OsqJsonNode *osq_json_parse(const gchar *text, gsize len, GError **error);
void osq_json_node_free(OsqJsonNode *node);

OsqJsonKind osq_json_node_get_kind(const OsqJsonNode *node);
/* A string's value (UTF-8, escapes decoded), or a number's text as written; NULL otherwise. */
const gchar *osq_json_node_get_text(const OsqJsonNode *node);
/* A number's value as an integer; FALSE for other kinds or a number that is not an integer
 * within 64 bits. */
gboolean osq_json_node_get_int64(const OsqJsonNode *node, gint64 *value);
/* Arrays' and objects' member count (0 for other kinds). */
guint osq_json_node_get_length(const OsqJsonNode *node);
/* An array's or object's member @index; NULL when out of range. */
const OsqJsonNode *osq_json_node_get_member(const OsqJsonNode *node, guint index);
/* An object member's key; NULL for other kinds or out of range. */
const gchar *osq_json_node_get_member_name(const OsqJsonNode *node, guint index);
/* An object's first member named @key; NULL when absent or @node is not an object. */
const OsqJsonNode *osq_json_object_get(const OsqJsonNode *node, const gchar *key);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(OsqJsonNode, osq_json_node_free)

G_END_DECLS
