/* SPDX-License-Identifier: Apache-2.0
 *
 * A parser for the small subset of TOML that osqd's own files need (the access policy): comments,
 * [table] and [[array-of-tables]] headers with bare names, bare keys, basic and literal one-line
 * strings, decimal integers, booleans, and arrays of those on one or several lines. Everything
 * else (floats, dates, inline tables, nested arrays, dotted or quoted keys, multi-line strings) is
 * refused with an error naming the line. The parser is a pure function over bytes with caps on
 * size and array length; it never recurses, so no input can make it crash or run long.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define OSQD_TOML_MAX_SIZE   (1024 * 1024) /* bytes in one document */
#define OSQD_TOML_MAX_ARRAY  4096          /* values in one array */
#define OSQD_TOML_MAX_VALUES 65536         /* values in one document, array items included */

typedef enum {
	OSQD_TOML_VALUE_STRING,
	OSQD_TOML_VALUE_INTEGER,
	OSQD_TOML_VALUE_BOOLEAN,
	OSQD_TOML_VALUE_ARRAY,
} OsqdTomlValueKind;

typedef struct _OsqdTomlValue OsqdTomlValue;

struct _OsqdTomlValue {
	OsqdTomlValueKind kind;
	guint line; /* where the value starts */
	union {
		gchar *string; /* valid UTF-8, may hold no NUL */
		gint64 integer;
		gboolean boolean;
		GPtrArray *array; /* OsqdTomlValue*, never arrays themselves */
	};
};

typedef struct {
	gchar *key;
	guint line;
	OsqdTomlValue *value;
} OsqdTomlEntry;

typedef struct {
	gchar *name;        /* NULL for the keys before the first header */
	gboolean is_array;  /* written [[name]] */
	guint line;         /* of the header; 0 for the top-level section */
	GPtrArray *entries; /* OsqdTomlEntry*, in file order, keys unique */
} OsqdTomlSection;

typedef struct {
	GPtrArray *sections; /* OsqdTomlSection*, in file order; [0] is the top level */
} OsqdTomlDocument;

/* Parses @len bytes of @text (which need not be NUL-terminated). Errors are
 * OSQ_ERROR_INVALID_ARGUMENT (OSQ_ERROR_LIMIT for the caps) with a message that starts "line N: ".
 */
OsqdTomlDocument *osqd_toml_parse(const gchar *text, gsize len, GError **error);
/* Reads @path (at most OSQD_TOML_MAX_SIZE bytes) and parses it; errors do not name the path. */
OsqdTomlDocument *osqd_toml_load(const gchar *path, GError **error);
void osqd_toml_document_free(OsqdTomlDocument *document);

/* The entry for @key in @section, or NULL. */
const OsqdTomlEntry *osqd_toml_section_lookup(const OsqdTomlSection *section, const gchar *key);
/* "a string", "an integer", "a boolean", "an array": for messages. */
const gchar *osqd_toml_value_kind_to_string(OsqdTomlValueKind kind);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(OsqdTomlDocument, osqd_toml_document_free)

G_END_DECLS
