/* SPDX-License-Identifier: Apache-2.0
 *
 * Access policy tests: the TOML subset parser (valid input, every error with its line, hostile
 * input: oversized, binary, unterminated, deeply nested, randomly mutated), policy files and
 * their errors, decisions for root, the default, rules by uid, gid and supplementary group, and
 * the engine hook: SQL a non-root peer may and may not run, also through TEMP views.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <glib/gstdio.h>

#include "osqd-engine-testing.h"
#include "osqd-policy.h"
#include "osqd-tables-generated.h"
#include "osqd-toml.h"

/* ---- TOML ---- */

static OsqdTomlDocument *
toml_parse_string(const gchar *text, GError **error)
{
	return osqd_toml_parse(text, strlen(text), error);
}

static const OsqdTomlValue *
toml_get(const OsqdTomlDocument *document, guint section, const gchar *key)
{
	const OsqdTomlEntry *entry;

	assert_true(section < document->sections->len);
	entry = osqd_toml_section_lookup(document->sections->pdata[section], key);
	if (entry == NULL)
		fail_msg("no key %s in section %u", key, section);
	return entry->value;
}

static void
test_toml_valid(void **state)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(OsqdTomlDocument) document = NULL;
	const OsqdTomlValue *value;
	const OsqdTomlSection *section;
	const gchar *text = "\xef\xbb\xbf# a comment\n"
	                    "top = \"level\"   # trailing comment\r\n"
	                    "\n"
	                    "[default]\n"
	                    "escaped = \"a \\\"quoted\\\" \\\\ word\\n\\ttab\"\n"
	                    "literal = 'C:\\path [x]'\n"
	                    "empty = \"\"\n"
	                    "unicode = \"gr\xc3\xbc\xc3\x9f\"\n"
	                    "big = 9_223_372_036_854_775_807\n"
	                    "small = -9223372036854775808\n"
	                    "plus = +12\n"
	                    "zero = 0\n"
	                    "yes = true\n"
	                    "no=false\n"
	                    "\t [[rule]]  # first\n"
	                    "list = [ \"a\", 'b' ,\n"
	                    "  # a comment inside\n"
	                    "  \"c\", # after an item\n"
	                    "  1, true,\n"
	                    "]\n"
	                    "none = []\n"
	                    "[[rule]]\n"
	                    "[ other ]\n"
	                    "x-y_z = 1";

	document = toml_parse_string(text, &error);
	assert_null(error);
	assert_non_null(document);
	assert_int_equal(document->sections->len, 5);
	assert_string_equal(toml_get(document, 0, "top")->string, "level");

	section = document->sections->pdata[1];
	assert_string_equal(section->name, "default");
	assert_false(section->is_array);
	assert_int_equal(section->line, 4);
	assert_string_equal(toml_get(document, 1, "escaped")->string,
	                    "a \"quoted\" \\ word\n\ttab");
	assert_string_equal(toml_get(document, 1, "literal")->string, "C:\\path [x]");
	assert_string_equal(toml_get(document, 1, "empty")->string, "");
	assert_string_equal(toml_get(document, 1, "unicode")->string, "gr\xc3\xbc\xc3\x9f");
	assert_true(toml_get(document, 1, "big")->integer == G_MAXINT64);
	assert_true(toml_get(document, 1, "small")->integer == G_MININT64);
	assert_int_equal(toml_get(document, 1, "plus")->integer, 12);
	assert_int_equal(toml_get(document, 1, "zero")->integer, 0);
	assert_true(toml_get(document, 1, "yes")->boolean);
	assert_false(toml_get(document, 1, "no")->boolean);
	assert_int_equal(toml_get(document, 1, "no")->line, 14);

	section = document->sections->pdata[2];
	assert_string_equal(section->name, "rule");
	assert_true(section->is_array);
	assert_int_equal(section->line, 15);
	value = toml_get(document, 2, "list");
	assert_int_equal(value->kind, OSQD_TOML_VALUE_ARRAY);
	assert_int_equal(value->array->len, 5);
	assert_string_equal(((OsqdTomlValue *)value->array->pdata[1])->string, "b");
	assert_int_equal(((OsqdTomlValue *)value->array->pdata[2])->line, 18);
	assert_int_equal(((OsqdTomlValue *)value->array->pdata[3])->integer, 1);
	assert_int_equal(toml_get(document, 2, "none")->array->len, 0);
	assert_int_equal(((OsqdTomlSection *)document->sections->pdata[3])->entries->len, 0);
	assert_string_equal(((OsqdTomlSection *)document->sections->pdata[4])->name, "other");
	assert_int_equal(toml_get(document, 4, "x-y_z")->integer, 1);
}

static void
test_toml_empty(void **state)
{
	const gchar *texts[] = { "", "\n\n", "# only a comment", "  \t\n# x\r\n" };

	for (guint i = 0; i < G_N_ELEMENTS(texts); i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(OsqdTomlDocument) document = toml_parse_string(texts[i], &error);
		assert_non_null(document);
		assert_int_equal(document->sections->len, 1);
	}
	{
		g_autoptr(GError) error = NULL;
		g_autoptr(OsqdTomlDocument) document = osqd_toml_parse(NULL, 0, &error);
		assert_non_null(document);
	}
}

typedef struct {
	const gchar *text;
	const gchar *message; /* the whole message must contain this */
} ErrorCase;

static const ErrorCase toml_errors[] = {
	{ "a = \"abc", "line 1: unterminated string (strings end on their line) (value of \"a\")" },
	{ "a = \"abc\nb = 1\"", "line 1: unterminated string" },
	{ "a = 'abc", "line 1: unterminated string" },
	{ "\n\nx = [1,\n2", "line 4: unterminated array (opened on line 3)" },
	{ "x = [1,\n2,\n# ]\n", "line 4: unterminated array (opened on line 1)" },
	{ "x = [1,\n2,\n[[rule]]\n", "line 3: unterminated array (opened on line 1): is a ']' "
	                             "missing before this line? (value of \"x\")" },
	{ "x = [1,\n[2]]", "line 2: unterminated array (opened on line 1): is a ']'" },
	{ "x = 1\nx = 2", "line 2: the key \"x\" is already set on line 1" },
	{ "[a]\nx = 1\n[b]\nx = 2\n[a]", "line 5: [a] is already defined on line 1" },
	{ "[[a]]\n[a]", "line 2: a was declared as [[...]] on line 1" },
	{ "[a]\n[[a]]", "line 2: a was declared as [...] on line 1" },
	{ "[[a]]\nx = 1\n[[a]]\nx = 1", NULL }, /* fine: one table per [[a]] */
	{ "[a", "line 1: header [a is not closed with ]" },
	{ "[[a]", "line 1: header [[a is not closed with ]]" },
	{ "[]", "line 1: expected a table name" },
	{ "[[[a]]]", "line 1: expected a table name (letters, digits, '_', '-') in the header, "
	             "not '['" },
	{ "[a.b]", "line 1: dotted table names are not supported" },
	{ "[\"a\"]", "line 1: quoted table names are not supported" },
	{ "[a] x", "line 1: unexpected 'x' after the header" },
	{ "a.b = 1", "line 1: dotted keys are not supported" },
	{ "\"a\" = 1", "line 1: quoted keys are not supported" },
	{ "a 1", "line 1: expected '=' after the key \"a\"" },
	{ "a", "line 1: expected '=' after the key \"a\"" },
	{ "= 1", "line 1: expected a key, a [header] or a comment, not '='" },
	{ "\n\na =", "line 3: expected a value (value of \"a\")" },
	{ "a = # nothing", "line 1: expected a value" },
	{ "a = 1.5", "line 1: floating-point numbers are not supported" },
	{ "a = 1e3", "line 1: floating-point numbers are not supported" },
	{ "a = 0x10", "line 1: only decimal integers are supported" },
	{ "a = 1_", "line 1: only decimal integers are supported" },
	{ "a = 01", "line 1: integers may not have leading zeros" },
	{ "a = 9223372036854775808", "line 1: integer out of range" },
	{ "a = -9223372036854775809", "line 1: integer out of range" },
	{ "a = 99999999999999999999999", "line 1: integer out of range" },
	{ "a = -", "line 1: expected digits after the sign" },
	{ "a = tru", "line 1: expected a value (a \"string\", an integer, true, false or an "
	             "[array]), not 't'" },
	{ "a = truex", "line 1: expected a value" },
	{ "a = 1979-05-27", "line 1: unexpected '-' after the value of \"a\"" },
	{ "a = {x = 1}", "line 1: inline tables are not supported" },
	{ "a = [[1]]", "line 1: nested arrays are not supported (value of \"a\")" },
	{ "a = [1 2]", "line 1: expected ',' or ']' in the array opened on line 1, not '2'" },
	{ "a = [,]", "line 1: expected a value" },
	{ "a = [1,,2]", "line 1: expected a value" },
	{ "a = \"\\q\"", "line 1: unsupported escape \\q in a string" },
	{ "a = \"\\u00e9\"", "line 1: unsupported escape \\u" },
	{ "a = \"\\", "line 1: unterminated string" },
	{ "a = \"\"\"x\"\"\"", "line 1: multi-line strings are not supported" },
	{ "a = '''x'''", "line 1: multi-line strings are not supported" },
	{ "a = 1 b = 2", "line 1: unexpected 'b' after the value of \"a\"" },
	{ "a = \"x\" \"y\"", "line 1: unexpected '\"' after the value of \"a\"" },
	{ "a = \"x\x01y\"", "line 1: control character 0x01 in a string" },
	{ "a = 1\rb = 2", "line 1: unexpected a carriage return without a line feed after the "
	                  "value of \"a\"" },
	{ "\n\n\xff", "line 3: not valid UTF-8 (is this a binary file?)" },
	{ "a = \"\xc3\x28\"", "line 1: not valid UTF-8" },
	{ "\x7f"
	  "ELF\x02\x01\x01",
	  "line 1: expected a key" },
};

static void
test_toml_errors(void **state)
{
	for (guint i = 0; i < G_N_ELEMENTS(toml_errors); i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(OsqdTomlDocument) document =
		        toml_parse_string(toml_errors[i].text, &error);
		if (toml_errors[i].message == NULL) {
			if (document == NULL)
				fail_msg("case %u: %s", i, error->message);
			continue;
		}
		if (document != NULL)
			fail_msg("case %u (%s): parsed, expected an error", i, toml_errors[i].text);
		assert_true(g_error_matches(error, OSQ_ERROR, OSQ_ERROR_INVALID_ARGUMENT));
		if (strstr(error->message, toml_errors[i].message) == NULL)
			fail_msg("case %u: '%s' does not contain '%s'", i, error->message,
			         toml_errors[i].message);
	}
}

static void
test_toml_nul_byte(void **state)
{
	g_autoptr(GError) error = NULL;
	const gchar text[] = "a = 1\nb = \"x\0y\"\n";
	g_autoptr(OsqdTomlDocument) document = osqd_toml_parse(text, sizeof(text) - 1, &error);

	assert_null(document);
	assert_string_equal(error->message, "line 2: NUL byte (is this a binary file?)");
}

static void
test_toml_limits(void **state)
{
	g_autoptr(GString) text = g_string_new(NULL);

	/* exactly the cap is fine, one byte more is not */
	while (text->len < OSQD_TOML_MAX_SIZE)
		g_string_append(text, "# padding padding padding padding padding padding\n");
	g_string_truncate(text, OSQD_TOML_MAX_SIZE - 1);
	g_string_append_c(text, '\n');
	{
		g_autoptr(GError) error = NULL;
		g_autoptr(OsqdTomlDocument) document =
		        osqd_toml_parse(text->str, text->len, &error);
		assert_non_null(document);
	}
	g_string_append_c(text, '\n');
	{
		g_autoptr(GError) error = NULL;
		g_autoptr(OsqdTomlDocument) document =
		        osqd_toml_parse(text->str, text->len, &error);
		assert_null(document);
		assert_true(g_error_matches(error, OSQ_ERROR, OSQ_ERROR_LIMIT));
	}

	/* array length */
	g_string_assign(text, "a = [");
	for (guint i = 0; i < OSQD_TOML_MAX_ARRAY; i++)
		g_string_append(text, "1,");
	g_string_append(text, "]");
	{
		g_autoptr(GError) error = NULL;
		g_autoptr(OsqdTomlDocument) document = toml_parse_string(text->str, &error);
		assert_non_null(document);
	}
	g_string_truncate(text, text->len - 1);
	g_string_append(text, "1]");
	{
		g_autoptr(GError) error = NULL;
		g_autoptr(OsqdTomlDocument) document = toml_parse_string(text->str, &error);
		assert_null(document);
		assert_true(g_error_matches(error, OSQ_ERROR, OSQ_ERROR_LIMIT));
		assert_non_null(strstr(error->message, "more than 4096 values in one array"));
	}

	/* values in a document */
	g_string_truncate(text, 0);
	for (guint i = 0; i <= OSQD_TOML_MAX_VALUES; i++)
		g_string_append_printf(text, "k%u=1\n", i);
	{
		g_autoptr(GError) error = NULL;
		g_autoptr(OsqdTomlDocument) document = toml_parse_string(text->str, &error);
		assert_null(document);
		assert_true(g_error_matches(error, OSQ_ERROR, OSQ_ERROR_LIMIT));
		assert_non_null(strstr(error->message, "line 65537:"));
	}
}

static void
test_toml_hostile(void **state)
{
	g_autoptr(GString) text = g_string_new(NULL);
	const gchar *prefixes[] = { "a = ", "", "a = [", "a = [\"", "[[", "a = \"" };

	/* deep nesting ends at the second bracket, without recursion */
	for (guint p = 0; p < G_N_ELEMENTS(prefixes); p++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(OsqdTomlDocument) document = NULL;
		g_string_assign(text, prefixes[p]);
		for (guint i = 0; i < 200000; i++)
			g_string_append_c(text, '[');
		document = toml_parse_string(text->str, &error);
		assert_null(document);
		assert_non_null(strstr(error->message, "line 1: "));
	}

	/* an array that never ends, over many lines */
	g_string_assign(text, "a = [\n");
	for (guint i = 0; i < 3000; i++)
		g_string_append(text, "\"x\",\n");
	{
		g_autoptr(GError) error = NULL;
		g_autoptr(OsqdTomlDocument) document = toml_parse_string(text->str, &error);
		assert_null(document);
		assert_string_equal(error->message,
		                    "line 3002: unterminated array (opened on line 1) "
		                    "(value of \"a\")");
	}

	/* one huge string on one line */
	g_string_assign(text, "a = \"");
	for (guint i = 0; i < 900000; i++)
		g_string_append_c(text, 'x');
	{
		g_autoptr(GError) error = NULL;
		g_autoptr(OsqdTomlDocument) document = toml_parse_string(text->str, &error);
		assert_null(document);
		assert_non_null(strstr(error->message, "unterminated string"));
	}
	g_string_append_c(text, '"');
	{
		g_autoptr(GError) error = NULL;
		g_autoptr(OsqdTomlDocument) document = toml_parse_string(text->str, &error);
		assert_non_null(document);
		assert_int_equal(strlen(toml_get(document, 0, "a")->string), 900000);
	}
}

static const gchar *policy_sample = "# a policy\n"
                                    "[default]\n"
                                    "tables = [\"*\"]\n"
                                    "deny_tables = [\"user*\", \"shell_?istory\"]\n"
                                    "\n"
                                    "[[rule]]\n"
                                    "name = \"admins\"\n"
                                    "uid = [1000, 1001]\n"
                                    "gid = 27\n"
                                    "sensitive = true\n"
                                    "shutdown = true\n"
                                    "register_extensions = false\n"
                                    "\n"
                                    "[[rule]]\n"
                                    "gid = [4, 100]\n"
                                    "tables = [\"processes\", \"os_*\", \"[a-c]*\"]\n";

/* Random bytes and random mutations of a valid file: every outcome is a document or an error,
 * never both, never a crash (valgrind and the sanitizer build check the rest). */
static void
test_toml_random(void **state)
{
	g_autoptr(GRand) rand = g_rand_new_with_seed(20240601);
	const gchar alphabet[] = "[]\"'=#,\n\r\\ \tabc01-_.{}+\xc3\xff";

	for (guint round = 0; round < 4000; round++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(OsqdTomlDocument) document = NULL;
		g_autoptr(OsqdPolicy) policy = NULL;
		g_autofree gchar *buffer = NULL;
		gsize len;

		if (round % 2 == 0) {
			len = (gsize)g_rand_int_range(rand, 0, 512);
			buffer = g_malloc(len + 1);
			for (gsize i = 0; i < len; i++)
				buffer[i] = round % 4 == 0
				                    ? (gchar)g_rand_int_range(rand, 0, 256)
				                    : alphabet[g_rand_int_range(
				                              rand, 0, sizeof(alphabet) - 1)];
		} else {
			guint n = (guint)g_rand_int_range(rand, 1, 6);
			len = strlen(policy_sample);
			buffer = g_memdup2(policy_sample, len + 1);
			for (guint i = 0; i < n; i++) {
				gsize at = (gsize)g_rand_int_range(rand, 0, (gint32)len);
				buffer[at] =
				        alphabet[g_rand_int_range(rand, 0, sizeof(alphabet) - 1)];
			}
			/* cut it short now and then */
			if (g_rand_boolean(rand))
				len = (gsize)g_rand_int_range(rand, 0, (gint32)len + 1);
		}
		document = osqd_toml_parse(buffer, len, &error);
		assert_true((document == NULL) != (error == NULL));
		g_clear_error(&error);
		policy = osqd_policy_load_from_data(buffer, len, "fuzz", &error);
		assert_true((policy == NULL) != (error == NULL));
		if (error != NULL)
			assert_true(g_str_has_prefix(error->message, "fuzz: "));
	}
}

static void
test_toml_load(void **state)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(OsqdTomlDocument) document = NULL;
	g_autofree gchar *path = NULL;
	gint fd = g_file_open_tmp("osqd-toml-XXXXXX", &path, &error);

	assert_true(fd >= 0);
	(void)close(fd);
	assert_true(g_file_set_contents(path, "[x]\ny = 1\n", -1, &error));
	document = osqd_toml_load(path, &error);
	assert_non_null(document);
	assert_int_equal(toml_get(document, 1, "y")->integer, 1);
	g_clear_pointer(&document, osqd_toml_document_free);
	(void)g_unlink(path);

	document = osqd_toml_load(path, &error);
	assert_null(document);
	assert_true(g_error_matches(error, OSQ_ERROR, OSQ_ERROR_NOT_FOUND));
	g_clear_error(&error);

	/* a device that never ends is cut at the cap */
	document = osqd_toml_load("/dev/zero", &error);
	assert_null(document);
	assert_true(g_error_matches(error, OSQ_ERROR, OSQ_ERROR_LIMIT));
}

/* ---- policy files ---- */

static OsqdPolicy *
policy_from_string(const gchar *text, GError **error)
{
	return osqd_policy_load_from_data(text, strlen(text), "test.toml", error);
}

static const ErrorCase policy_errors[] = {
	{ "top = 1", "test.toml: line 1: unknown key \"top\" at the top level" },
	{ "[defaults]", "test.toml: line 1: unknown section [defaults] (known: [default], "
	                "[[rule]])" },
	{ "[[rules]]\nuid = 5", "test.toml: line 1: unknown section [[rules]]" },
	{ "[rule]\nuid = 5", "test.toml: line 1: write [[rule]] (one per rule), not [rule]" },
	{ "[[default]]", "test.toml: line 1: write [default] (there is one), not [[default]]" },
	{ "[default]\n\nsensitve = true", "test.toml: line 3: unknown key \"sensitve\" in "
	                                  "[default] (known: tables, deny_tables, sensitive, "
	                                  "shutdown, register_extensions)" },
	{ "[[rule]]\nuid = 5\nfoo = 1", "test.toml: line 3: unknown key \"foo\" in [[rule]] "
	                                "(known: name, uid, gid, tables" },
	{ "[default]\nuid = 5", "test.toml: line 2: \"uid\" is only allowed in [[rule]], not in "
	                        "[default]" },
	{ "[default]\nsensitive = \"yes\"", "test.toml: line 2: \"sensitive\" must be true or "
	                                    "false, not a string" },
	{ "[default]\nshutdown = 1", "test.toml: line 2: \"shutdown\" must be true or false, not "
	                             "an integer" },
	{ "[default]\nregister_extensions = [true]", "test.toml: line 2: \"register_extensions\" "
	                                             "must be true or false, not an array" },
	{ "[default]\ntables = \"*\"", "test.toml: line 2: \"tables\" must be an array of table "
	                               "name patterns, such as [\"*\"], not a string" },
	{ "[default]\ntables = [\n\"a\",\n3]", "test.toml: line 4: \"tables\" must hold table "
	                                       "name patterns (strings), not an integer" },
	{ "[default]\ndeny_tables = [\"users \"]", "test.toml: line 2: \"deny_tables\" has a bad "
	                                           "pattern \"users \"" },
	{ "[default]\ndeny_tables = [\"\"]", "test.toml: line 2: \"deny_tables\" has a bad "
	                                     "pattern \"\"" },
	{ "[[rule]]\nuid = 0", "test.toml: line 2: uid 0 in \"uid\": root may always do "
	                       "everything and cannot be restricted; remove it" },
	{ "[[rule]]\nuid = [5, 0]", "test.toml: line 2: uid 0 in \"uid\"" },
	{ "[[rule]]\nuid = -1", "test.toml: line 2: -1 in \"uid\" is not a valid id" },
	{ "[[rule]]\ngid = 4294967295", "test.toml: line 2: 4294967295 in \"gid\" is not a valid "
	                                "id" },
	{ "[[rule]]\nuid = \"alice\"", "test.toml: line 2: \"uid\" must be an id or an array of "
	                               "ids, not a string" },
	{ "[[rule]]\ngid = [1, \"wheel\"]", "test.toml: line 2: \"gid\" must be an id or an array "
	                                    "of ids, not a string" },
	{ "[[rule]]\nsensitive = true", "test.toml: line 1: [[rule]] needs \"uid\" or \"gid\"" },
	{ "[[rule]]\nuid = []\ngid = []", "test.toml: line 1: [[rule]] needs \"uid\" or \"gid\"" },
	{ "[[rule]]\nuid = 5\nname = 3", "test.toml: line 3: \"name\" must be a string" },
	{ "[[rule]]\nuid = 5\nname = \"\"", "test.toml: line 3: \"name\" must have 1 to 64 "
	                                    "characters" },
	{ "[[rule]]\nuid = 5\nname = \"a\\nb\"", "test.toml: line 3: \"name\" may not hold "
	                                         "control characters or quotes" },
	{ "[[rule]]\nuid = 5\n[[rule]]\nuid = 6\nshutdown = 2", "test.toml: line 5:" },
	{ "[default]\ntables = [\"*\"", "test.toml: line 2: unterminated array" },
};

static void
test_policy_errors(void **state)
{
	for (guint i = 0; i < G_N_ELEMENTS(policy_errors); i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(OsqdPolicy) policy = policy_from_string(policy_errors[i].text, &error);
		if (policy != NULL)
			fail_msg("case %u (%s): loaded, expected an error", i,
			         policy_errors[i].text);
		assert_true(g_error_matches(error, OSQ_ERROR, OSQ_ERROR_INVALID_ARGUMENT));
		if (strstr(error->message, policy_errors[i].message) == NULL)
			fail_msg("case %u: '%s' does not contain '%s'", i, error->message,
			         policy_errors[i].message);
	}
}

static void
test_policy_load_file(void **state)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(OsqdPolicy) policy = NULL;
	g_autofree gchar *path = NULL;
	g_autofree gchar *text = NULL;
	g_autofree gchar *example =
	        g_build_filename(OSQ_SOURCE_ROOT, "examples", "access-policy.toml", NULL);
	gint fd = g_file_open_tmp("osqd-policy-XXXXXX", &path, &error);

	assert_true(fd >= 0);
	(void)close(fd);
	assert_true(g_file_set_contents(path, "[default]\nshutdown = maybe\n", -1, &error));
	policy = osqd_policy_load(path, &error);
	assert_null(policy);
	assert_true(g_str_has_prefix(error->message, path));
	assert_non_null(strstr(error->message, ": line 2: expected a value"));
	assert_non_null(strstr(error->message, "(value of \"shutdown\")"));
	g_clear_error(&error);

	/* an empty file is the built-in policy */
	assert_true(g_file_set_contents(path, "", -1, &error));
	policy = osqd_policy_load(path, &error);
	assert_non_null(policy);
	text = osqd_policy_describe(policy);
	assert_non_null(strstr(text, path));
	assert_non_null(strstr(text, "the built-in default, for everyone else"));
	g_clear_pointer(&policy, osqd_policy_free);
	(void)g_unlink(path);

	policy = osqd_policy_load(path, &error);
	assert_null(policy);
	assert_true(g_error_matches(error, OSQ_ERROR, OSQ_ERROR_NOT_FOUND));
	assert_true(g_str_has_prefix(error->message, path));
	assert_null(strstr(error->message + strlen(path), path)); /* named once */
	g_clear_error(&error);

	/* a directory */
	policy = osqd_policy_load(g_get_tmp_dir(), &error);
	assert_null(policy);
	assert_true(g_error_matches(error, OSQ_ERROR, OSQ_ERROR_IO));
	g_clear_error(&error);

	/* the documented example loads */
	policy = osqd_policy_load(example, &error);
	if (policy == NULL)
		fail_msg("%s", error->message);
}

/* ---- decisions ---- */

static const OsqdTable *
builtin_table(const gchar *name)
{
	for (guint i = 0; i < osqd_tables_builtin_count; i++) {
		if (g_strcmp0(osqd_tables_builtin[i].name, name) == 0)
			return &osqd_tables_builtin[i];
	}
	fail_msg("no built-in table %s", name);
	return NULL;
}

static gint
builtin_column(const gchar *table_name, const gchar *column_name)
{
	const OsqdTable *table = builtin_table(table_name);

	for (guint i = 0; i < table->n_columns; i++) {
		if (g_strcmp0(table->columns[i].name, column_name) == 0)
			return (gint)i;
	}
	fail_msg("no column %s.%s", table_name, column_name);
	return -1;
}

static gboolean
may_read(OsqdPolicy *policy, const OsqdPeer *peer, const gchar *table, const gchar *column)
{
	g_autoptr(GError) error = NULL;
	gboolean ok =
	        osqd_policy_may_read(policy, peer, builtin_table(table),
	                             column != NULL ? builtin_column(table, column) : -1, &error);

	assert_true(ok == (error == NULL));
	if (!ok)
		assert_true(g_error_matches(error, OSQ_ERROR, OSQ_ERROR_PERMISSION_DENIED));
	return ok;
}

static gboolean
may(OsqdPolicy *policy, const OsqdPeer *peer, OsqdPolicyAction action)
{
	g_autoptr(GError) error = NULL;
	gboolean ok = osqd_policy_may(policy, peer, action, &error);

	assert_true(ok == (error == NULL));
	if (!ok)
		assert_true(g_error_matches(error, OSQ_ERROR, OSQ_ERROR_PERMISSION_DENIED));
	return ok;
}

static const gchar *const sensitive_columns[][2] = {
	{ "process_envs", "value" },
	{ "shell_history", "command" },
	{ "crontab", "command" },
};

static void
test_policy_default(void **state)
{
	g_autoptr(OsqdPolicy) policy = osqd_policy_new_default();
	g_autoptr(OsqdPeer) root = osqd_peer_new(0, 0, 1);
	g_autoptr(OsqdPeer) user = osqd_peer_new(1000, 1000, 4242);
	g_autoptr(GError) error = NULL;
	g_autofree gchar *text = NULL;

	for (guint i = 0; i < G_N_ELEMENTS(sensitive_columns); i++) {
		const gchar *table = sensitive_columns[i][0], *column = sensitive_columns[i][1];
		assert_true(may_read(policy, root, table, column));
		assert_false(may_read(policy, user, table, column));
		assert_true(may_read(policy, user, table, NULL));
	}
	assert_true(may_read(policy, user, "process_envs", "pid"));
	assert_true(may_read(policy, user, "process_envs", "key"));
	assert_true(may_read(policy, user, "users", "username"));
	assert_true(may_read(policy, user, "processes", NULL));
	assert_true(may(policy, root, OSQD_POLICY_ACTION_SHUTDOWN));
	assert_true(may(policy, root, OSQD_POLICY_ACTION_REGISTER_EXTENSION));
	assert_false(may(policy, user, OSQD_POLICY_ACTION_SHUTDOWN));
	assert_false(may(policy, user, OSQD_POLICY_ACTION_REGISTER_EXTENSION));

	/* the messages name the uid and what was refused */
	assert_false(osqd_policy_may_read(policy, user, builtin_table("process_envs"),
	                                  builtin_column("process_envs", "value"), &error));
	assert_string_equal(error->message,
	                    "access denied: uid 1000 may not read process_envs.value (sensitive)");
	g_clear_error(&error);
	assert_false(osqd_policy_may(policy, user, OSQD_POLICY_ACTION_SHUTDOWN, &error));
	assert_string_equal(error->message, "access denied: uid 1000 may not shut down osqd (the "
	                                    "built-in default does not allow shutdown)");
	g_clear_error(&error);
	assert_false(osqd_policy_may(policy, user, OSQD_POLICY_ACTION_REGISTER_EXTENSION, &error));
	assert_string_equal(error->message,
	                    "access denied: uid 1000 may not register extensions (the built-in "
	                    "default does not allow register_extensions)");
	g_clear_error(&error);

	/* a column number the table does not have is refused */
	assert_false(osqd_policy_may_read(policy, user, builtin_table("users"), 999, &error));
	assert_true(g_error_matches(error, OSQ_ERROR, OSQ_ERROR_INVALID_ARGUMENT));

	text = osqd_policy_describe(policy);
	assert_string_equal(text, "access policy (built-in):\n"
	                          "  uid 0 (root): everything; no policy can restrict root\n"
	                          "  the built-in default, for everyone else:\n"
	                          "    reads tables: *\n"
	                          "    sensitive tables and columns: no; shutdown: no; register "
	                          "extensions: no\n");
}

static void
test_policy_root_unrestricted(void **state)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(OsqdPolicy) policy = policy_from_string("[default]\n"
	                                                  "tables = []\n"
	                                                  "deny_tables = [\"*\"]\n"
	                                                  "[[rule]]\n"
	                                                  "gid = 0\n"
	                                                  "deny_tables = [\"*\"]\n",
	                                                  &error);
	g_autoptr(OsqdPeer) root = osqd_peer_new(0, 0, 1);
	g_autoptr(OsqdPeer) wheel = osqd_peer_new(5, 0, 2);
	g_autoptr(OsqdPeer) user = osqd_peer_new(1000, 1000, 4242);

	assert_non_null(policy);
	assert_true(may_read(policy, root, "process_envs", "value"));
	assert_true(may_read(policy, root, "users", NULL));
	assert_true(may(policy, root, OSQD_POLICY_ACTION_SHUTDOWN));
	/* gid 0 is not root: a non-root member of group 0 follows the rules */
	assert_false(may_read(policy, wheel, "users", NULL));
	assert_false(may_read(policy, user, "processes", "pid"));
	assert_false(osqd_policy_may_read(policy, user, builtin_table("processes"), -1, &error));
	assert_string_equal(error->message, "access denied: uid 1000 may not read processes "
	                                    "(\"*\" is in deny_tables of [default] (line 1))");
}

static void
test_policy_rules(void **state)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(OsqdPolicy) policy = policy_from_string(policy_sample, &error);
	g_autoptr(OsqdPeer) alice = osqd_peer_new(1000, 1000, 10);
	g_autoptr(OsqdPeer) bob = osqd_peer_new(1001, 1001, 11);
	g_autoptr(OsqdPeer) carol = osqd_peer_new(1002, 27, 12);   /* primary group 27 */
	g_autoptr(OsqdPeer) dave = osqd_peer_new(1003, 1003, 13);  /* supplementary 27 */
	g_autoptr(OsqdPeer) erin = osqd_peer_new(1004, 1004, 14);  /* supplementary 100 */
	g_autoptr(OsqdPeer) frank = osqd_peer_new(1005, 1005, 15); /* nobody special */
	g_autoptr(OsqdPeer) grace = osqd_peer_new(1006, 4, 16);    /* both rules: first wins */
	g_autofree gchar *text = NULL;
	guint32 groups_dave[] = { 24, 27, 30 };
	guint32 groups_erin[] = { 100 };
	guint32 groups_grace[] = { 27 };

	assert_non_null(policy);
	dave->groups = g_array_new(FALSE, FALSE, sizeof(guint32));
	g_array_append_vals(dave->groups, groups_dave, G_N_ELEMENTS(groups_dave));
	erin->groups = g_array_new(FALSE, FALSE, sizeof(guint32));
	g_array_append_vals(erin->groups, groups_erin, G_N_ELEMENTS(groups_erin));
	grace->groups = g_array_new(FALSE, FALSE, sizeof(guint32));
	g_array_append_vals(grace->groups, groups_grace, G_N_ELEMENTS(groups_grace));
	assert_true(osqd_peer_in_group(dave, 27));
	assert_true(osqd_peer_in_group(dave, 1003));
	assert_false(osqd_peer_in_group(dave, 28));

	/* rule 1 by uid, by primary gid, by supplementary gid: everything */
	for (guint i = 0; i < 4; i++) {
		OsqdPeer *peer = (OsqdPeer *[]){ alice, bob, carol, dave }[i];
		assert_true(may_read(policy, peer, "process_envs", "value"));
		assert_true(may_read(policy, peer, "users", NULL));
		assert_true(may_read(policy, peer, "shell_history", "command"));
		assert_true(may(policy, peer, OSQD_POLICY_ACTION_SHUTDOWN));
		assert_false(may(policy, peer, OSQD_POLICY_ACTION_REGISTER_EXTENSION));
	}

	/* rule 2 by supplementary gid: a table list with globs and a character class */
	assert_true(may_read(policy, erin, "processes", "pid"));
	assert_true(may_read(policy, erin, "os_version", NULL));
	assert_true(may_read(policy, erin, "crontab", "event"));
	assert_true(may_read(policy, erin, "arp_cache", NULL));
	assert_false(may_read(policy, erin, "crontab", "command"));
	assert_false(may_read(policy, erin, "users", NULL));
	assert_false(may_read(policy, erin, "mounts", NULL));
	assert_false(may_read(policy, erin, "process_envs", "pid"));
	assert_false(may(policy, erin, OSQD_POLICY_ACTION_SHUTDOWN));
	assert_false(osqd_policy_may_read(policy, erin, builtin_table("mounts"), -1, &error));
	assert_string_equal(error->message, "access denied: uid 1004 may not read mounts (not in "
	                                    "the tables of rule 2 (line 14))");
	g_clear_error(&error);

	/* grace's primary group 4 matches rule 2, her group 27 rule 1: the first rule wins */
	assert_true(may_read(policy, grace, "process_envs", "value"));
	assert_true(may(policy, grace, OSQD_POLICY_ACTION_SHUTDOWN));

	/* [default] with deny_tables globs */
	assert_false(may_read(policy, frank, "users", "uid"));
	assert_false(may_read(policy, frank, "user_groups", NULL));
	assert_false(may_read(policy, frank, "shell_history", "uid"));
	assert_true(may_read(policy, frank, "groups", NULL));
	assert_true(may_read(policy, frank, "process_envs", "pid"));
	assert_false(may_read(policy, frank, "process_envs", "value"));
	assert_false(osqd_policy_may_read(policy, frank, builtin_table("user_groups"), 0, &error));
	assert_string_equal(error->message, "access denied: uid 1005 may not read user_groups "
	                                    "(\"user*\" is in deny_tables of [default] (line 2))");
	g_clear_error(&error);

	text = osqd_policy_describe(policy);
	assert_string_equal(text, "access policy (test.toml):\n"
	                          "  uid 0 (root): everything; no policy can restrict root\n"
	                          "  rule \"admins\" (line 6), for uid 1000,1001 or gid 27:\n"
	                          "    reads tables: *\n"
	                          "    sensitive tables and columns: yes; shutdown: yes; register "
	                          "extensions: no\n"
	                          "  rule 2 (line 14), for gid 4,100:\n"
	                          "    reads tables: processes os_* [a-c]*\n"
	                          "    sensitive tables and columns: no; shutdown: no; register "
	                          "extensions: no\n"
	                          "  [default] (line 2), for everyone else:\n"
	                          "    reads tables: *; except: user* shell_?istory\n"
	                          "    sensitive tables and columns: no; shutdown: no; register "
	                          "extensions: no\n");
}

static void
test_policy_patterns_and_sensitive_tables(void **state)
{
	static const OsqdColumn columns[] = {
		{ "name", OSQD_COLUMN_TYPE_TEXT, 0, "A name." },
		{ "hash", OSQD_COLUMN_TYPE_TEXT, 0, "A hash." },
	};
	static const OsqdTable secret = { "secret_things",           "Secret.", columns, 2,
		                          OSQD_TABLE_FLAG_SENSITIVE, NULL,      NULL };
	g_autoptr(GError) error = NULL;
	g_autoptr(OsqdPolicy) policy = policy_from_string("[default]\n"
	                                                  "deny_tables = [\"USERS\"]\n"
	                                                  "[[rule]]\n"
	                                                  "uid = 7\n"
	                                                  "sensitive = true\n"
	                                                  "register_extensions = true\n",
	                                                  &error);
	g_autoptr(OsqdPeer) user = osqd_peer_new(1000, 1000, 1);
	g_autoptr(OsqdPeer) trusted = osqd_peer_new(7, 7, 2);
	g_autoptr(OsqdPeer) root = osqd_peer_new(0, 0, 3);

	assert_non_null(policy);
	/* patterns ignore case */
	assert_false(may_read(policy, user, "users", NULL));
	/* a sensitive table: not even its plain columns */
	assert_false(osqd_policy_may_read(policy, user, &secret, 0, &error));
	assert_string_equal(error->message,
	                    "access denied: uid 1000 may not read secret_things (sensitive table)");
	g_clear_error(&error);
	assert_false(osqd_policy_may_read(policy, user, &secret, -1, &error));
	g_clear_error(&error);
	assert_true(osqd_policy_may_read(policy, trusted, &secret, 1, &error));
	assert_true(osqd_policy_may_read(policy, root, &secret, 1, &error));
	assert_true(may(policy, trusted, OSQD_POLICY_ACTION_REGISTER_EXTENSION));
	assert_false(may(policy, trusted, OSQD_POLICY_ACTION_SHUTDOWN));
	assert_null(error);
}

/* ---- peers ---- */

static void
test_peer_parse_status(void **state)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GArray) groups = NULL;
	guint32 euid = 0, egid = 0;
	const gchar *status = "Name:\tbash\n"
	                      "Uid:\t1000\t1001\t1000\t1000\n"
	                      "Gid:\t100\t101\t100\t100\n"
	                      "FDSize:\t256\n"
	                      "Groups:\t4 24 27 4294967294 \n"
	                      "NStgid:\t1\n";

	assert_true(osqd_peer_parse_status(status, &euid, &egid, &groups, &error));
	assert_int_equal(euid, 1001);
	assert_int_equal(egid, 101);
	assert_int_equal(groups->len, 4);
	assert_int_equal(g_array_index(groups, guint32, 2), 27);
	assert_int_equal(g_array_index(groups, guint32, 3), 4294967294u);
	g_clear_pointer(&groups, g_array_unref);

	assert_true(osqd_peer_parse_status("Uid:\t5\t5\t5\t5\nGid:\t5\t5\t5\t5\nGroups:\n", &euid,
	                                   &egid, &groups, &error));
	assert_int_equal(groups->len, 0);
	g_clear_pointer(&groups, g_array_unref);

	assert_false(
	        osqd_peer_parse_status("Uid:\t5\t5\nGid:\t5\t5\n", &euid, &egid, &groups, &error));
	g_clear_error(&error);
	assert_false(osqd_peer_parse_status("Uid:\t5\nGid:\t5\t5\nGroups:\t1\n", &euid, &egid,
	                                    &groups, &error));
	g_clear_error(&error);
	assert_false(osqd_peer_parse_status("Uid:\t5\t5\nGid:\t5\t5\nGroups:\t1 x\n", &euid, &egid,
	                                    &groups, &error));
	g_clear_error(&error);
	assert_false(osqd_peer_parse_status("Uid:\t5\t5\nGid:\t5\t5\nGroups:\t99999999999\n", &euid,
	                                    &egid, &groups, &error));
	g_clear_error(&error);
	assert_false(osqd_peer_parse_status("", &euid, &egid, &groups, &error));
	assert_null(groups);
}

static gint
compare_gids(gconstpointer a, gconstpointer b)
{
	guint32 x = *(const guint32 *)a, y = *(const guint32 *)b;

	return x < y ? -1 : x > y;
}

static void
test_peer_from_socket(void **state)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(OsqdPeer) peer = NULL;
	g_autoptr(GArray) expected = g_array_new(FALSE, FALSE, sizeof(guint32));
	gid_t own[256];
	gint n_own = getgroups(G_N_ELEMENTS(own), own);
	int fds[2];
	int pipe_fds[2];

	assert_true(n_own >= 0);
	for (gint i = 0; i < n_own; i++) {
		guint32 gid = own[i];
		g_array_append_val(expected, gid);
	}
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
	peer = osqd_peer_new_from_fd(fds[0], &error);
	assert_non_null(peer);
	assert_int_equal(peer->uid, geteuid());
	assert_int_equal(peer->gid, getegid());
	assert_int_equal(peer->pid, getpid());
	assert_non_null(peer->groups);
	g_array_sort(peer->groups, compare_gids);
	g_array_sort(expected, compare_gids);
	assert_int_equal(peer->groups->len, expected->len);
	for (guint i = 0; i < expected->len; i++)
		assert_int_equal(g_array_index(peer->groups, guint32, i),
		                 g_array_index(expected, guint32, i));
	(void)close(fds[0]);
	(void)close(fds[1]);

	/* not a socket */
	assert_int_equal(pipe(pipe_fds), 0);
	assert_null(osqd_peer_new_from_fd(pipe_fds[0], &error));
	assert_true(g_error_matches(error, OSQ_ERROR, OSQ_ERROR_FAILED));
	(void)close(pipe_fds[0]);
	(void)close(pipe_fds[1]);
}

/* ---- the engine hook ---- */

/* Counts the calls, then asks the policy as osqd does. */
static guint access_calls;

static gboolean
policy_access_counting_cb(const OsqdTable *table, gint column, gpointer user_data, GError **error)
{
	access_calls++;
	return osqd_policy_access_cb(table, column, user_data, error);
}

static void
assert_allowed(OsqdEngine *engine, const gchar *sql)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *result = osqd_engine_testing_run(engine, sql, &error);

	if (result == NULL)
		fail_msg("%s: %s", sql, error->message);
}

/* Allowed, for statements whose data the fixture root does not have: prepared, not run. */
static void
assert_prepares(OsqdEngine *engine, const gchar *sql)
{
	g_autoptr(GError) error = NULL;
	sqlite3_stmt *stmt = osqd_engine_prepare(engine, sql, NULL, &error);

	if (stmt == NULL)
		fail_msg("%s: %s", sql, error->message);
	sqlite3_finalize(stmt);
}

static void
assert_denied(OsqdEngine *engine, const gchar *sql, const gchar *message)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *result = osqd_engine_testing_run(engine, sql, &error);

	if (result != NULL)
		fail_msg("%s: allowed, expected a denial", sql);
	if (!g_error_matches(error, OSQ_ERROR, OSQ_ERROR_PERMISSION_DENIED))
		fail_msg("%s: expected PERMISSION_DENIED, got %d: %s", sql, error->code,
		         error->message);
	if (strstr(error->message, message) == NULL)
		fail_msg("%s: '%s' does not contain '%s'", sql, error->message, message);
}

static OsqdEngine *
engine_new_with_policy(OsqdPolicyAccess *access, const gchar *fixture)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(OsqdRegistry) registry = osqd_registry_new_builtin();
	g_autofree gchar *root =
	        g_build_filename(OSQ_SOURCE_ROOT, "tests", "fixtures", fixture, NULL);
	OsqdEngine *engine = osqd_engine_new(registry, &error);

	assert_non_null(engine);
	osqd_engine_set_root(engine, root);
	osqd_engine_set_access_func(engine, policy_access_counting_cb, access, NULL);
	return engine;
}

static void
test_engine_sensitive_columns(void **state)
{
	g_autoptr(OsqdPolicy) policy = osqd_policy_new_default();
	g_autoptr(OsqdPeer) peer = osqd_peer_new(1000, 1000, 4242);
	OsqdPolicyAccess access = { policy, peer };
	g_autoptr(OsqdEngine) engine = engine_new_with_policy(&access, "processes");
	const gchar *value_denied = "access denied: uid 1000 may not read process_envs.value "
	                            "(sensitive)";
	g_autoptr(GError) error = NULL;
	g_autofree gchar *count = NULL;

	access_calls = 0;
	assert_allowed(engine, "SELECT pid FROM process_envs");
	assert_true(access_calls > 0);
	count = osqd_engine_testing_run(
	        engine, "SELECT count(*) FROM process_envs WHERE key = 'PATH'", &error);
	assert_non_null(count);
	assert_true(atoi(count) > 0); /* the fixture has environments: rows really come back */
	assert_allowed(engine, "SELECT pid, key FROM process_envs WHERE pid = 1");
	assert_allowed(engine, "SELECT count(*) FROM process_envs");
	assert_allowed(engine, "SELECT p.pid FROM processes p JOIN process_envs e USING (pid)");

	assert_denied(engine, "SELECT value FROM process_envs", value_denied);
	assert_denied(engine, "SELECT * FROM process_envs", value_denied);
	assert_denied(engine, "SELECT VALUE FROM PROCESS_ENVS", value_denied);
	assert_denied(engine, "SELECT e.* FROM processes p JOIN process_envs e USING (pid)",
	              value_denied);
	/* reading it only to filter or sort leaks it too */
	assert_denied(engine, "SELECT pid FROM process_envs WHERE value LIKE 'a%'", value_denied);
	assert_denied(engine, "SELECT pid FROM process_envs ORDER BY value", value_denied);
	assert_denied(engine, "SELECT length(value) FROM main.process_envs", value_denied);
	assert_denied(engine, "SELECT (SELECT max(value) FROM process_envs)", value_denied);
	assert_denied(engine, "WITH e AS (SELECT value FROM process_envs) SELECT count(*) FROM e",
	              value_denied);
	assert_denied(engine,
	              "SELECT pid FROM process_envs WHERE key IN (SELECT value FROM "
	              "process_envs)",
	              value_denied);
	assert_denied(engine, "SELECT command FROM shell_history",
	              "uid 1000 may not read shell_history.command (sensitive)");
	assert_denied(engine, "SELECT * FROM crontab",
	              "uid 1000 may not read crontab.command (sensitive)");

	/* the error state does not stick */
	assert_allowed(engine, "SELECT pid FROM process_envs WHERE pid = 1");

	/* root, and a trusted rule, read everything */
	peer->uid = 0;
	assert_allowed(engine, "SELECT value FROM process_envs");
	peer->uid = 1000;
	osqd_engine_set_access_func(engine, NULL, NULL, NULL);
	assert_allowed(engine, "SELECT * FROM process_envs");
}

static void
test_engine_deny_tables(void **state)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(OsqdPolicy) policy = policy_from_string("[default]\n"
	                                                  "deny_tables = [\"users\"]\n"
	                                                  "[[rule]]\n"
	                                                  "uid = 2000\n"
	                                                  "sensitive = true\n",
	                                                  &error);
	g_autoptr(OsqdPeer) peer = osqd_peer_new(1000, 1000, 4242);
	OsqdPolicyAccess access = { policy, peer };
	g_autoptr(OsqdEngine) engine = engine_new_with_policy(&access, "accounts");
	const gchar *denied = "access denied: uid 1000 may not read users (\"users\" is in "
	                      "deny_tables of [default] (line 1))";

	assert_non_null(policy);
	assert_denied(engine, "SELECT count(*) FROM users", denied);
	assert_denied(engine, "SELECT count(*) FROM USERS", denied);
	assert_denied(engine, "SELECT 1 FROM users LIMIT 1", denied);
	assert_denied(engine, "SELECT uid FROM users", denied);
	assert_denied(engine, "SELECT g.gid FROM groups g, users u", denied);
	assert_denied(engine, "SELECT 1 WHERE EXISTS (SELECT 1 FROM users)", denied);
	assert_allowed(engine, "SELECT count(*) FROM groups");

	/* a user with a rule of its own */
	peer->uid = 2000;
	assert_allowed(engine, "SELECT count(*) FROM users");
	assert_prepares(engine, "SELECT value FROM process_envs");
}

static void
test_engine_views(void **state)
{
	g_autoptr(OsqdPolicy) policy = policy_from_string("[default]\n"
	                                                  "deny_tables = [\"users\"]\n",
	                                                  NULL);
	g_autoptr(OsqdPeer) peer = osqd_peer_new(1000, 1000, 4242);
	OsqdPolicyAccess access = { policy, peer };
	g_autoptr(OsqdEngine) engine = engine_new_with_policy(&access, "processes");
	const gchar *value_denied = "uid 1000 may not read process_envs.value (sensitive)";
	const gchar *users_denied = "uid 1000 may not read users";
	g_autoptr(GError) error = NULL;
	g_autofree gchar *created = NULL;

	assert_non_null(policy);
	/* creating a view reads nothing; using it reads what it reads */
	created = osqd_engine_testing_run(
	        engine, "CREATE TEMP VIEW envs AS SELECT pid, value FROM process_envs", &error);
	assert_non_null(created);
	assert_denied(engine, "SELECT * FROM envs", value_denied);
	assert_denied(engine, "SELECT pid FROM envs", value_denied);
	assert_denied(engine, "SELECT count(*) FROM envs", value_denied);
	assert_allowed(engine, "CREATE TEMP VIEW everyone AS SELECT * FROM users");
	assert_denied(engine, "SELECT count(*) FROM everyone", users_denied);
	assert_allowed(engine, "CREATE TEMP VIEW nested AS SELECT * FROM everyone");
	assert_denied(engine, "SELECT 1 FROM nested", users_denied);
	assert_allowed(engine, "CREATE TEMP VIEW pids AS SELECT pid, key FROM process_envs");
	assert_allowed(engine, "SELECT count(*) FROM pids");

	/* a TEMP table named like a built-in one is checked as that table */
	assert_allowed(engine, "CREATE TEMP TABLE copy AS SELECT pid FROM process_envs");
	assert_allowed(engine, "SELECT count(*) FROM copy");
	assert_denied(engine, "CREATE TEMP TABLE mine AS SELECT value FROM process_envs",
	              value_denied);

	/* root may use the same views */
	peer->uid = 0;
	assert_allowed(engine, "SELECT count(*) FROM envs");
	assert_prepares(engine, "SELECT count(*) FROM everyone");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_toml_valid),
		cmocka_unit_test(test_toml_empty),
		cmocka_unit_test(test_toml_errors),
		cmocka_unit_test(test_toml_nul_byte),
		cmocka_unit_test(test_toml_limits),
		cmocka_unit_test(test_toml_hostile),
		cmocka_unit_test(test_toml_random),
		cmocka_unit_test(test_toml_load),
		cmocka_unit_test(test_policy_errors),
		cmocka_unit_test(test_policy_load_file),
		cmocka_unit_test(test_policy_default),
		cmocka_unit_test(test_policy_root_unrestricted),
		cmocka_unit_test(test_policy_rules),
		cmocka_unit_test(test_policy_patterns_and_sensitive_tables),
		cmocka_unit_test(test_peer_parse_status),
		cmocka_unit_test(test_peer_from_socket),
		cmocka_unit_test(test_engine_sensitive_columns),
		cmocka_unit_test(test_engine_deny_tables),
		cmocka_unit_test(test_engine_views),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
