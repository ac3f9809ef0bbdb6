/* SPDX-License-Identifier: Apache-2.0
 *
 * The bounded JSON reader: a recursive-descent parser over a (pointer, length) buffer that
 * builds a small tree. Recursion stops at OSQ_JSON_MAX_DEPTH, so deep input cannot exhaust the
 * stack of a server thread; strings must be valid UTF-8 after unescaping (\u escapes included,
 * surrogate pairs joined; a lone surrogate is refused).
 */
#include "osq-json.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "osq-error.h"

struct OsqJsonNode {
	OsqJsonKind kind;
	gchar *text;        /* string value or number text */
	GPtrArray *members; /* OsqJsonNode, for arrays and objects */
	GPtrArray *names;   /* gchar*, for objects */
};

typedef struct {
	const gchar *data;
	gsize len;
	gsize pos;
	guint depth;
} JsonParser;

static OsqJsonNode *json_parse_value(JsonParser *parser, GError **error);

static OsqJsonNode *
json_node_new(OsqJsonKind kind)
{
	OsqJsonNode *node = g_new0(OsqJsonNode, 1);

	node->kind = kind;
	if (kind == OSQ_JSON_ARRAY || kind == OSQ_JSON_OBJECT)
		node->members = g_ptr_array_new_with_free_func((GDestroyNotify)osq_json_node_free);
	if (kind == OSQ_JSON_OBJECT)
		node->names = g_ptr_array_new_with_free_func(g_free);
	return node;
}

void
osq_json_node_free(OsqJsonNode *node)
{
	if (node == NULL)
		return;
	g_free(node->text);
	if (node->members != NULL)
		g_ptr_array_unref(node->members);
	if (node->names != NULL)
		g_ptr_array_unref(node->names);
	g_free(node);
}

static gpointer
json_fail(JsonParser *parser, GError **error, const gchar *what)
{
	g_set_error(error, OSQ_ERROR, OSQ_ERROR_INVALID_ARGUMENT,
	            "invalid JSON at byte %" G_GSIZE_FORMAT ": %s", parser->pos, what);
	return NULL;
}

static void
json_skip_space(JsonParser *parser)
{
	while (parser->pos < parser->len) {
		gchar c = parser->data[parser->pos];
		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			break;
		parser->pos++;
	}
}

static gboolean
json_peek(JsonParser *parser, gchar *c)
{
	json_skip_space(parser);
	if (parser->pos >= parser->len)
		return FALSE;
	*c = parser->data[parser->pos];
	return TRUE;
}

static gint
json_hex4(const gchar *p)
{
	gint value = 0;

	for (guint i = 0; i < 4; i++) {
		gint digit = g_ascii_xdigit_value(p[i]);
		if (digit < 0)
			return -1;
		value = value * 16 + digit;
	}
	return value;
}

/* Reads a \uXXXX escape (and its low surrogate) after the backslash-u; appends UTF-8. */
static gboolean
json_unicode_escape(JsonParser *parser, GString *out)
{
	gint high, low;
	gunichar code;

	if (parser->len - parser->pos < 4 || (high = json_hex4(parser->data + parser->pos)) < 0)
		return FALSE;
	parser->pos += 4;
	code = (gunichar)high;
	if (high >= 0xdc00 && high <= 0xdfff)
		return FALSE;
	if (high >= 0xd800 && high <= 0xdbff) {
		if (parser->len - parser->pos < 6 || parser->data[parser->pos] != '\\' ||
		    parser->data[parser->pos + 1] != 'u')
			return FALSE;
		low = json_hex4(parser->data + parser->pos + 2);
		if (low < 0xdc00 || low > 0xdfff)
			return FALSE;
		parser->pos += 6;
		code = 0x10000 + (((gunichar)high - 0xd800) << 10) + ((gunichar)low - 0xdc00);
	}
	g_string_append_unichar(out, code);
	return TRUE;
}

/* A string starting at the opening quote. */
static gchar *
json_parse_string(JsonParser *parser, GError **error)
{
	g_autoptr(GString) out = g_string_new(NULL);

	parser->pos++; /* the quote */
	for (;;) {
		gchar c;
		if (parser->pos >= parser->len)
			return json_fail(parser, error, "unterminated string");
		c = parser->data[parser->pos++];
		if (c == '"')
			break;
		if ((guchar)c < 0x20)
			return json_fail(parser, error, "control character in a string");
		if (c != '\\') {
			g_string_append_c(out, c);
			continue;
		}
		if (parser->pos >= parser->len)
			return json_fail(parser, error, "unterminated escape");
		c = parser->data[parser->pos++];
		switch (c) {
		case '"':
		case '\\':
		case '/':
			g_string_append_c(out, c);
			break;
		case 'b':
			g_string_append_c(out, '\b');
			break;
		case 'f':
			g_string_append_c(out, '\f');
			break;
		case 'n':
			g_string_append_c(out, '\n');
			break;
		case 'r':
			g_string_append_c(out, '\r');
			break;
		case 't':
			g_string_append_c(out, '\t');
			break;
		case 'u':
			if (!json_unicode_escape(parser, out))
				return json_fail(parser, error, "bad \\u escape");
			break;
		default:
			return json_fail(parser, error, "unknown escape");
		}
	}
	if (!g_utf8_validate_len(out->str, out->len, NULL))
		return json_fail(parser, error, "string is not UTF-8");
	return g_string_free(g_steal_pointer(&out), FALSE);
}

static gsize
json_skip_digits(JsonParser *parser)
{
	gsize start = parser->pos;

	while (parser->pos < parser->len && g_ascii_isdigit(parser->data[parser->pos]))
		parser->pos++;
	return parser->pos - start;
}

static OsqJsonNode *
json_parse_number(JsonParser *parser, GError **error)
{
	gsize start = parser->pos;
	OsqJsonNode *node;

	if (parser->data[parser->pos] == '-')
		parser->pos++;
	if (json_skip_digits(parser) == 0)
		return json_fail(parser, error, "bad number");
	if (parser->pos < parser->len && parser->data[parser->pos] == '.') {
		parser->pos++;
		if (json_skip_digits(parser) == 0)
			return json_fail(parser, error, "bad fraction");
	}
	if (parser->pos < parser->len &&
	    (parser->data[parser->pos] == 'e' || parser->data[parser->pos] == 'E')) {
		parser->pos++;
		if (parser->pos < parser->len &&
		    (parser->data[parser->pos] == '+' || parser->data[parser->pos] == '-'))
			parser->pos++;
		if (json_skip_digits(parser) == 0)
			return json_fail(parser, error, "bad exponent");
	}
	node = json_node_new(OSQ_JSON_NUMBER);
	node->text = g_strndup(parser->data + start, parser->pos - start);
	return node;
}

static OsqJsonNode *
json_parse_word(JsonParser *parser, const gchar *word, OsqJsonKind kind, GError **error)
{
	gsize len = strlen(word);

	if (parser->len - parser->pos < len || memcmp(parser->data + parser->pos, word, len) != 0)
		return json_fail(parser, error, "unexpected character");
	parser->pos += len;
	return json_node_new(kind);
}

/* An array or object starting at its opening bracket. */
static OsqJsonNode *
json_parse_container(JsonParser *parser, gboolean object, GError **error)
{
	g_autoptr(OsqJsonNode) node = json_node_new(object ? OSQ_JSON_OBJECT : OSQ_JSON_ARRAY);
	gchar close = object ? '}' : ']';
	gchar c;

	if (parser->depth >= OSQ_JSON_MAX_DEPTH)
		return json_fail(parser, error, "nested too deeply");
	parser->depth++;
	parser->pos++;
	if (json_peek(parser, &c) && c == close) {
		parser->pos++;
		parser->depth--;
		return g_steal_pointer(&node);
	}
	for (;;) {
		OsqJsonNode *member;
		if (object) {
			gchar *name;
			if (!json_peek(parser, &c) || c != '"')
				return json_fail(parser, error, "expected a member name");
			if ((name = json_parse_string(parser, error)) == NULL)
				return NULL;
			g_ptr_array_add(node->names, name);
			if (!json_peek(parser, &c) || c != ':')
				return json_fail(parser, error, "expected ':'");
			parser->pos++;
		}
		if ((member = json_parse_value(parser, error)) == NULL)
			return NULL;
		g_ptr_array_add(node->members, member);
		if (!json_peek(parser, &c))
			return json_fail(parser, error, "unterminated container");
		parser->pos++;
		if (c == close)
			break;
		if (c != ',')
			return json_fail(parser, error, "expected ',' or the end of the container");
	}
	parser->depth--;
	return g_steal_pointer(&node);
}

static OsqJsonNode *
json_parse_value(JsonParser *parser, GError **error)
{
	OsqJsonNode *node;
	gchar c;

	if (!json_peek(parser, &c))
		return json_fail(parser, error, "expected a value");
	switch (c) {
	case '{':
		return json_parse_container(parser, TRUE, error);
	case '[':
		return json_parse_container(parser, FALSE, error);
	case '"': {
		gchar *text = json_parse_string(parser, error);
		if (text == NULL)
			return NULL;
		node = json_node_new(OSQ_JSON_STRING);
		node->text = text;
		return node;
	}
	case 't':
		return json_parse_word(parser, "true", OSQ_JSON_TRUE, error);
	case 'f':
		return json_parse_word(parser, "false", OSQ_JSON_FALSE, error);
	case 'n':
		return json_parse_word(parser, "null", OSQ_JSON_NULL, error);
	default:
		if (c == '-' || g_ascii_isdigit(c))
			return json_parse_number(parser, error);
		return json_fail(parser, error, "unexpected character");
	}
}

OsqJsonNode *
osq_json_parse(const gchar *text, gsize len, GError **error)
{
	JsonParser parser = { .data = text, .len = len };
	g_autoptr(OsqJsonNode) node = NULL;

	g_return_val_if_fail(text != NULL || len == 0, NULL);
	node = json_parse_value(&parser, error);
	if (node == NULL)
		return NULL;
	json_skip_space(&parser);
	if (parser.pos != parser.len)
		return json_fail(&parser, error, "trailing characters");
	return g_steal_pointer(&node);
}

OsqJsonKind
osq_json_node_get_kind(const OsqJsonNode *node)
{
	return node != NULL ? node->kind : OSQ_JSON_NULL;
}

const gchar *
osq_json_node_get_text(const OsqJsonNode *node)
{
	return node != NULL ? node->text : NULL;
}

gboolean
osq_json_node_get_int64(const OsqJsonNode *node, gint64 *value)
{
	gchar *end = NULL;
	gint64 parsed;

	if (node == NULL || node->kind != OSQ_JSON_NUMBER)
		return FALSE;
	errno = 0;
	parsed = g_ascii_strtoll(node->text, &end, 10);
	if (errno != 0 || end == node->text || *end != '\0')
		return FALSE;
	*value = parsed;
	return TRUE;
}

guint
osq_json_node_get_length(const OsqJsonNode *node)
{
	return node != NULL && node->members != NULL ? node->members->len : 0;
}

const OsqJsonNode *
osq_json_node_get_member(const OsqJsonNode *node, guint index)
{
	if (index >= osq_json_node_get_length(node))
		return NULL;
	return g_ptr_array_index(node->members, index);
}

const gchar *
osq_json_node_get_member_name(const OsqJsonNode *node, guint index)
{
	if (node == NULL || node->names == NULL || index >= node->names->len)
		return NULL;
	return g_ptr_array_index(node->names, index);
}

const OsqJsonNode *
osq_json_object_get(const OsqJsonNode *node, const gchar *key)
{
	if (node == NULL || node->kind != OSQ_JSON_OBJECT)
		return NULL;
	for (guint i = 0; i < node->names->len; i++) {
		if (g_strcmp0(g_ptr_array_index(node->names, i), key) == 0)
			return g_ptr_array_index(node->members, i);
	}
	return NULL;
}
