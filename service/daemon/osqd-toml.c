/* SPDX-License-Identifier: Apache-2.0
 *
 * The TOML subset parser: one pass over the bytes, line by line, building a flat document
 * (sections of key/value entries). The whole input is checked to be UTF-8 without NUL bytes
 * first, so later code only meets text. Arrays hold scalars only and are parsed by a loop, not
 * by recursion; sizes are capped (document, array length, total values), and duplicate keys or
 * headers are found through hash tables, so hostile input costs linear time at most.
 */
#include "config.h"

#include "osqd-toml.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "osq-error.h"
#include "osqd-table.h"

typedef struct {
	const gchar *p;
	const gchar *end;
	guint line;
	guint n_values;
	OsqdTomlDocument *document;
	OsqdTomlSection *section;    /* where keys go now */
	GHashTable *section_keys;    /* key -> OsqdTomlEntry* of the current section */
	GHashTable *headers;         /* name -> first OsqdTomlSection* with that name */
	GPtrArray *all_section_keys; /* owns the per-section key indexes */
} TomlParser;

static void
toml_value_free(OsqdTomlValue *value)
{
	if (value == NULL)
		return;
	if (value->kind == OSQD_TOML_VALUE_STRING)
		g_free(value->string);
	else if (value->kind == OSQD_TOML_VALUE_ARRAY && value->array != NULL)
		g_ptr_array_unref(value->array);
	g_free(value);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(OsqdTomlValue, toml_value_free)

static void
toml_entry_free(OsqdTomlEntry *entry)
{
	g_free(entry->key);
	toml_value_free(entry->value);
	g_free(entry);
}

static void
toml_section_free(OsqdTomlSection *section)
{
	g_free(section->name);
	g_ptr_array_unref(section->entries);
	g_free(section);
}

void
osqd_toml_document_free(OsqdTomlDocument *document)
{
	if (document == NULL)
		return;
	g_ptr_array_unref(document->sections);
	g_free(document);
}

const gchar *
osqd_toml_value_kind_to_string(OsqdTomlValueKind kind)
{
	switch (kind) {
	case OSQD_TOML_VALUE_STRING:
		return "a string";
	case OSQD_TOML_VALUE_INTEGER:
		return "an integer";
	case OSQD_TOML_VALUE_BOOLEAN:
		return "a boolean";
	case OSQD_TOML_VALUE_ARRAY:
		return "an array";
	default:
		return "a value";
	}
}

const OsqdTomlEntry *
osqd_toml_section_lookup(const OsqdTomlSection *section, const gchar *key)
{
	for (guint i = 0; i < section->entries->len; i++) {
		const OsqdTomlEntry *entry = section->entries->pdata[i];
		if (g_strcmp0(entry->key, key) == 0)
			return entry;
	}
	return NULL;
}

/* ---- errors ---- */

static gboolean toml_fail(TomlParser *parser, GError **error, const gchar *format, ...)
        G_GNUC_PRINTF(3, 4);

static gboolean
toml_fail(TomlParser *parser, GError **error, const gchar *format, ...)
{
	g_autofree gchar *message = NULL;
	va_list args;

	va_start(args, format);
	message = g_strdup_vprintf(format, args);
	va_end(args);
	g_set_error(error, OSQ_ERROR, OSQ_ERROR_INVALID_ARGUMENT, "line %u: %s", parser->line,
	            message);
	return FALSE;
}

/* Names the byte at the cursor for a message: 'x', "end of line" or "end of file". */
static gchar *
toml_describe_here(TomlParser *parser)
{
	guchar c;

	if (parser->p >= parser->end)
		return g_strdup("end of file");
	c = (guchar)*parser->p;
	if (c == '\n')
		return g_strdup("end of line");
	if (c == '\r')
		return g_strdup("a carriage return without a line feed");
	if (c >= 0x20 && c < 0x7f)
		return g_strdup_printf("'%c'", c);
	return g_strdup_printf("byte 0x%02x", c);
}

/* Adds " (value of \"key\")" to a value's error message. */
static void
toml_error_name_key(GError **error, const gchar *key)
{
	gchar *message;

	if (error == NULL || *error == NULL)
		return;
	message = g_strdup_printf("%s (value of \"%s\")", (*error)->message, key);
	g_free((*error)->message);
	(*error)->message = message;
}

/* ---- lexical helpers ---- */

static gboolean
toml_at_end(TomlParser *parser)
{
	return parser->p >= parser->end;
}

static gboolean
toml_is_bare_key_char(gchar c)
{
	return g_ascii_isalnum(c) || c == '_' || c == '-';
}

static void
toml_skip_blanks(TomlParser *parser)
{
	while (!toml_at_end(parser) && (*parser->p == ' ' || *parser->p == '\t'))
		parser->p++;
}

static void
toml_skip_comment(TomlParser *parser)
{
	if (toml_at_end(parser) || *parser->p != '#')
		return;
	while (!toml_at_end(parser) && *parser->p != '\n')
		parser->p++;
}

/* Consumes one line break ("\n" or "\r\n"); FALSE if there is none at the cursor. */
static gboolean
toml_take_newline(TomlParser *parser)
{
	if (toml_at_end(parser))
		return FALSE;
	if (*parser->p == '\n') {
		parser->p++;
		parser->line++;
		return TRUE;
	}
	if (*parser->p == '\r' && parser->p + 1 < parser->end && parser->p[1] == '\n') {
		parser->p += 2;
		parser->line++;
		return TRUE;
	}
	return FALSE;
}

/* After a header or a value: blanks, an optional comment, then a line break or the end. */
static gboolean
toml_finish_line(TomlParser *parser, const gchar *after, GError **error)
{
	toml_skip_blanks(parser);
	toml_skip_comment(parser);
	if (toml_at_end(parser) || toml_take_newline(parser))
		return TRUE;
	g_autofree gchar *here = toml_describe_here(parser);
	return toml_fail(parser, error, "unexpected %s after %s", here, after);
}

/* Blanks, comments and line breaks, as allowed between array items. */
static void
toml_skip_space(TomlParser *parser)
{
	for (;;) {
		toml_skip_blanks(parser);
		toml_skip_comment(parser);
		if (!toml_take_newline(parser))
			return;
	}
}

static gchar *
toml_take_bare_key(TomlParser *parser)
{
	const gchar *start = parser->p;

	while (!toml_at_end(parser) && toml_is_bare_key_char(*parser->p))
		parser->p++;
	if (parser->p == start)
		return NULL;
	return g_strndup(start, (gsize)(parser->p - start));
}

/* ---- values ---- */

static gboolean
toml_count_value(TomlParser *parser, GError **error)
{
	if (++parser->n_values <= OSQD_TOML_MAX_VALUES)
		return TRUE;
	g_set_error(error, OSQ_ERROR, OSQ_ERROR_LIMIT, "line %u: more than %d values in one file",
	            parser->line, OSQD_TOML_MAX_VALUES);
	return FALSE;
}

static OsqdTomlValue *
toml_value_new(TomlParser *parser, OsqdTomlValueKind kind)
{
	OsqdTomlValue *value = g_new0(OsqdTomlValue, 1);

	value->kind = kind;
	value->line = parser->line;
	return value;
}

static gboolean
toml_take_escape(TomlParser *parser, GString *out, GError **error)
{
	gchar c;

	if (toml_at_end(parser) || *parser->p == '\n' || *parser->p == '\r')
		return toml_fail(parser, error, "unterminated string");
	c = *parser->p++;
	switch (c) {
	case '"':
	case '\\':
		g_string_append_c(out, c);
		return TRUE;
	case 'n':
		g_string_append_c(out, '\n');
		return TRUE;
	case 't':
		g_string_append_c(out, '\t');
		return TRUE;
	case 'r':
		g_string_append_c(out, '\r');
		return TRUE;
	default:
		if (g_ascii_isprint(c))
			return toml_fail(
			        parser, error,
			        "unsupported escape \\%c in a string (known: \\\" \\\\ \\n "
			        "\\t \\r)",
			        c);
		return toml_fail(parser, error, "unsupported escape in a string");
	}
}

/* A one-line string; @quote is '"' (basic: escapes) or '\'' (literal: none). The cursor is on
 * the opening quote. */
static OsqdTomlValue *
toml_take_string(TomlParser *parser, gchar quote, GError **error)
{
	g_autoptr(GString) out = g_string_new(NULL);
	g_autoptr(OsqdTomlValue) value = toml_value_new(parser, OSQD_TOML_VALUE_STRING);

	if (parser->end - parser->p >= 3 && parser->p[1] == quote && parser->p[2] == quote) {
		toml_fail(parser, error, "multi-line strings are not supported");
		return NULL;
	}
	parser->p++;
	for (;;) {
		guchar c;
		if (toml_at_end(parser) || *parser->p == '\n' || *parser->p == '\r') {
			toml_fail(parser, error, "unterminated string (strings end on their line)");
			return NULL;
		}
		c = (guchar)*parser->p++;
		if (c == (guchar)quote)
			break;
		if (c == '\\' && quote == '"') {
			if (!toml_take_escape(parser, out, error))
				return NULL;
			continue;
		}
		if ((c < 0x20 && c != '\t') || c == 0x7f) {
			toml_fail(parser, error, "control character 0x%02x in a string", c);
			return NULL;
		}
		g_string_append_c(out, (gchar)c);
	}
	value->string = g_string_free(g_steal_pointer(&out), FALSE);
	return g_steal_pointer(&value);
}

/* Decimal integers with an optional sign and single underscores between digits. */
static OsqdTomlValue *
toml_take_integer(TomlParser *parser, GError **error)
{
	g_autoptr(OsqdTomlValue) value = toml_value_new(parser, OSQD_TOML_VALUE_INTEGER);
	gboolean negative = FALSE;
	guint64 magnitude = 0, limit;
	guint n_digits = 0;
	gchar first = 0;

	if (*parser->p == '+' || *parser->p == '-')
		negative = *parser->p++ == '-';
	limit = negative ? (guint64)G_MAXINT64 + 1 : (guint64)G_MAXINT64;
	while (!toml_at_end(parser)) {
		gchar c = *parser->p;
		if (c == '_' && n_digits > 0 && parser->p + 1 < parser->end &&
		    g_ascii_isdigit(parser->p[1])) {
			parser->p++;
			continue;
		}
		if (!g_ascii_isdigit(c))
			break;
		if (n_digits == 0)
			first = c;
		else if (first == '0') {
			toml_fail(parser, error, "integers may not have leading zeros");
			return NULL;
		}
		if (magnitude > (limit - (guint64)(c - '0')) / 10) {
			toml_fail(parser, error, "integer out of range");
			return NULL;
		}
		magnitude = magnitude * 10 + (guint64)(c - '0');
		n_digits++;
		parser->p++;
	}
	if (n_digits == 0) {
		toml_fail(parser, error, "expected digits after the sign");
		return NULL;
	}
	if (!toml_at_end(parser) && (*parser->p == '.' || *parser->p == 'e' || *parser->p == 'E')) {
		toml_fail(parser, error, "floating-point numbers are not supported");
		return NULL;
	}
	if (!toml_at_end(parser) && (g_ascii_isalpha(*parser->p) || *parser->p == '_')) {
		toml_fail(parser, error, "only decimal integers are supported");
		return NULL;
	}
	value->integer = negative ? (gint64)(0 - magnitude) : (gint64)magnitude;
	return g_steal_pointer(&value);
}

static gboolean
toml_take_word(TomlParser *parser, const gchar *word)
{
	gsize len = strlen(word);

	if ((gsize)(parser->end - parser->p) < len || memcmp(parser->p, word, len) != 0)
		return FALSE;
	if (parser->p + len < parser->end && toml_is_bare_key_char(parser->p[len]))
		return FALSE;
	parser->p += len;
	return TRUE;
}

/* A string, integer or boolean (arrays are handled by the caller). */
static OsqdTomlValue *
toml_take_scalar(TomlParser *parser, GError **error)
{
	gchar c;

	if (!toml_count_value(parser, error))
		return NULL;
	if (toml_at_end(parser) || *parser->p == '\n' || *parser->p == '\r' || *parser->p == '#') {
		toml_fail(parser, error, "expected a value");
		return NULL;
	}
	c = *parser->p;
	if (c == '"' || c == '\'')
		return toml_take_string(parser, c, error);
	if (c == '+' || c == '-' || g_ascii_isdigit(c))
		return toml_take_integer(parser, error);
	if (toml_take_word(parser, "true") || toml_take_word(parser, "false")) {
		OsqdTomlValue *value = toml_value_new(parser, OSQD_TOML_VALUE_BOOLEAN);
		value->boolean = c == 't';
		return value;
	}
	if (c == '[') {
		toml_fail(parser, error, "nested arrays are not supported");
		return NULL;
	}
	if (c == '{') {
		toml_fail(parser, error, "inline tables are not supported");
		return NULL;
	}
	g_autofree gchar *here = toml_describe_here(parser);
	toml_fail(parser, error,
	          "expected a value (a \"string\", an integer, true, false or an "
	          "[array]), not %s",
	          here);
	return NULL;
}

/* An array of scalars, possibly over several lines. The cursor is on '['. */
static OsqdTomlValue *
toml_take_array(TomlParser *parser, GError **error)
{
	g_autoptr(OsqdTomlValue) value = toml_value_new(parser, OSQD_TOML_VALUE_ARRAY);
	guint opened = parser->line;

	if (!toml_count_value(parser, error))
		return NULL;
	value->array = g_ptr_array_new_with_free_func((GDestroyNotify)toml_value_free);
	parser->p++;
	for (;;) {
		OsqdTomlValue *item;
		guint line = parser->line;
		toml_skip_space(parser);
		if (toml_at_end(parser))
			break;
		if (*parser->p == ']') {
			parser->p++;
			return g_steal_pointer(&value);
		}
		/* most likely the next [header] after a forgotten ']' */
		if (*parser->p == '[' && parser->line != line) {
			toml_fail(parser, error,
			          "unterminated array (opened on line %u): is a ']' missing before "
			          "this line?",
			          opened);
			return NULL;
		}
		if (value->array->len >= OSQD_TOML_MAX_ARRAY) {
			g_set_error(error, OSQ_ERROR, OSQ_ERROR_LIMIT,
			            "line %u: more than %d values in one array", parser->line,
			            OSQD_TOML_MAX_ARRAY);
			return NULL;
		}
		item = toml_take_scalar(parser, error);
		if (item == NULL)
			return NULL;
		g_ptr_array_add(value->array, item);
		toml_skip_space(parser);
		if (toml_at_end(parser))
			break;
		if (*parser->p == ',') {
			parser->p++;
			continue;
		}
		if (*parser->p != ']') {
			g_autofree gchar *here = toml_describe_here(parser);
			toml_fail(parser, error,
			          "expected ',' or ']' in the array opened on line %u, "
			          "not %s",
			          opened, here);
			return NULL;
		}
	}
	toml_fail(parser, error, "unterminated array (opened on line %u)", opened);
	return NULL;
}

/* ---- lines ---- */

static void
toml_open_section(TomlParser *parser, gchar *name, gboolean is_array, guint line)
{
	OsqdTomlSection *section = g_new0(OsqdTomlSection, 1);

	section->name = name;
	section->is_array = is_array;
	section->line = line;
	section->entries = g_ptr_array_new_with_free_func((GDestroyNotify)toml_entry_free);
	g_ptr_array_add(parser->document->sections, section);
	parser->section = section;
	parser->section_keys = g_hash_table_new(g_str_hash, g_str_equal);
	g_ptr_array_add(parser->all_section_keys, parser->section_keys);
	if (name != NULL && !g_hash_table_contains(parser->headers, name))
		g_hash_table_insert(parser->headers, name, section);
}

/* "[name]" or "[[name]]"; the cursor is on the first '['. */
static gboolean
toml_take_header(TomlParser *parser, GError **error)
{
	g_autofree gchar *name = NULL;
	gboolean is_array = FALSE;
	OsqdTomlSection *previous;

	parser->p++;
	if (!toml_at_end(parser) && *parser->p == '[') {
		is_array = TRUE;
		parser->p++;
	}
	toml_skip_blanks(parser);
	if (!toml_at_end(parser) && (*parser->p == '"' || *parser->p == '\''))
		return toml_fail(parser, error, "quoted table names are not supported");
	name = toml_take_bare_key(parser);
	if (name == NULL) {
		g_autofree gchar *here = toml_describe_here(parser);
		return toml_fail(parser, error,
		                 "expected a table name (letters, digits, '_', '-') "
		                 "in the header, not %s",
		                 here);
	}
	toml_skip_blanks(parser);
	if (!toml_at_end(parser) && *parser->p == '.')
		return toml_fail(parser, error, "dotted table names are not supported");
	if (toml_at_end(parser) || *parser->p != ']' ||
	    (is_array && (parser->p + 1 >= parser->end || parser->p[1] != ']')))
		return toml_fail(parser, error, "header [%s%s is not closed with %s",
		                 is_array ? "[" : "", name, is_array ? "]]" : "]");
	parser->p += is_array ? 2 : 1;
	previous = g_hash_table_lookup(parser->headers, name);
	if (previous != NULL && (!is_array || !previous->is_array)) {
		if (previous->is_array != is_array)
			return toml_fail(parser, error, "%s was declared as %s on line %u", name,
			                 previous->is_array ? "[[...]]" : "[...]", previous->line);
		return toml_fail(parser, error, "[%s] is already defined on line %u", name,
		                 previous->line);
	}
	toml_open_section(parser, g_steal_pointer(&name), is_array, parser->line);
	return toml_finish_line(parser, "the header", error);
}

/* "key = value". The cursor is on the key. */
static gboolean
toml_take_entry(TomlParser *parser, GError **error)
{
	g_autofree gchar *key = NULL;
	g_autofree gchar *after = NULL;
	OsqdTomlEntry *previous;
	OsqdTomlEntry *entry;
	OsqdTomlValue *value;
	guint line = parser->line;

	if (*parser->p == '"' || *parser->p == '\'')
		return toml_fail(parser, error, "quoted keys are not supported");
	key = toml_take_bare_key(parser);
	if (key == NULL) {
		g_autofree gchar *here = toml_describe_here(parser);
		return toml_fail(parser, error, "expected a key, a [header] or a comment, not %s",
		                 here);
	}
	toml_skip_blanks(parser);
	if (!toml_at_end(parser) && *parser->p == '.')
		return toml_fail(parser, error, "dotted keys are not supported (\"%s.\")", key);
	if (toml_at_end(parser) || *parser->p != '=')
		return toml_fail(parser, error, "expected '=' after the key \"%s\"", key);
	parser->p++;
	toml_skip_blanks(parser);
	previous = g_hash_table_lookup(parser->section_keys, key);
	if (previous != NULL)
		return toml_fail(parser, error, "the key \"%s\" is already set on line %u", key,
		                 previous->line);
	if (!toml_at_end(parser) && *parser->p == '[')
		value = toml_take_array(parser, error);
	else
		value = toml_take_scalar(parser, error);
	if (value == NULL) {
		toml_error_name_key(error, key);
		return FALSE;
	}
	entry = g_new0(OsqdTomlEntry, 1);
	entry->key = g_steal_pointer(&key);
	entry->line = line;
	entry->value = value;
	g_ptr_array_add(parser->section->entries, entry);
	g_hash_table_insert(parser->section_keys, entry->key, entry);
	after = g_strdup_printf("the value of \"%s\"", entry->key);
	return toml_finish_line(parser, after, error);
}

/* Checks the whole input is UTF-8 without NUL bytes; the error names the line of the first bad
 * byte. */
static gboolean
toml_check_text(TomlParser *parser, GError **error)
{
	const gchar *bad = NULL;

	if (g_utf8_validate_len(parser->p, (gsize)(parser->end - parser->p), &bad))
		return TRUE;
	for (const gchar *c = parser->p; c < bad; c++)
		parser->line += *c == '\n';
	if (*bad == '\0')
		return toml_fail(parser, error, "NUL byte (is this a binary file?)");
	return toml_fail(parser, error, "not valid UTF-8 (is this a binary file?)");
}

static gboolean
toml_parse_lines(TomlParser *parser, GError **error)
{
	while (!toml_at_end(parser)) {
		toml_skip_blanks(parser);
		if (toml_at_end(parser))
			break;
		if (*parser->p == '#' || *parser->p == '\n' || *parser->p == '\r') {
			if (!toml_finish_line(parser, "a blank", error))
				return FALSE;
			continue;
		}
		if (*parser->p == '[') {
			if (!toml_take_header(parser, error))
				return FALSE;
			continue;
		}
		if (!toml_take_entry(parser, error))
			return FALSE;
	}
	return TRUE;
}

OsqdTomlDocument *
osqd_toml_parse(const gchar *text, gsize len, GError **error)
{
	g_autoptr(OsqdTomlDocument) document = g_new0(OsqdTomlDocument, 1);
	g_autoptr(GHashTable) headers = g_hash_table_new(g_str_hash, g_str_equal);
	g_autoptr(GPtrArray) all_section_keys =
	        g_ptr_array_new_with_free_func((GDestroyNotify)g_hash_table_unref);
	TomlParser parser = {
		.p = text,
		.end = text + len,
		.line = 1,
		.document = document,
		.headers = headers,
		.all_section_keys = all_section_keys,
	};

	document->sections = g_ptr_array_new_with_free_func((GDestroyNotify)toml_section_free);
	toml_open_section(&parser, NULL, FALSE, 0);
	if (len > OSQD_TOML_MAX_SIZE) {
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_LIMIT, "the file is larger than %d bytes",
		            OSQD_TOML_MAX_SIZE);
		return NULL;
	}
	if (len > 0 && !toml_check_text(&parser, error))
		return NULL;
	/* a UTF-8 byte order mark is allowed at the start */
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
		parser.p += 3;
	if (!toml_parse_lines(&parser, error))
		return NULL;
	return g_steal_pointer(&document);
}

OsqdTomlDocument *
osqd_toml_load(const gchar *path, GError **error)
{
	g_autofree gchar *contents = NULL;
	g_autoptr(GError) error_local = NULL;
	gsize len = 0;
	gboolean ok;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0) {
		int saved = errno;
		g_set_error_literal(error, OSQ_ERROR,
		                    saved == ENOENT ? OSQ_ERROR_NOT_FOUND : OSQ_ERROR_IO,
		                    g_strerror(saved));
		return NULL;
	}
	/* one byte more than allowed, so that a file over the cap is refused, not cut */
	ok = osqd_read_fd(fd, OSQD_TOML_MAX_SIZE + 1, &contents, &len, &error_local);
	(void)close(fd);
	if (!ok) {
		g_set_error_literal(error, OSQ_ERROR, OSQ_ERROR_IO, error_local->message);
		return NULL;
	}
	return osqd_toml_parse(contents, len, error);
}
