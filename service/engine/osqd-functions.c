/* SPDX-License-Identifier: Apache-2.0
 *
 * osquery's SQL helper functions that people rely on most: string splitting and regular
 * expressions (GRegex, PCRE syntax like osquery's std::regex ECMAScript for common patterns),
 * concat/concat_ws, inet_aton, in_cidr_block, base64 and hashing. All are deterministic and
 * innocuous, so they may be used in views. SQLite's own math functions are compiled in.
 */
#include "config.h"

#include "osqd-engine.h"

#include <arpa/inet.h>
#include <string.h>

#define OSQD_FUNCTIONS_MAX_PATTERN 4096

static GRegex *
regex_compile(sqlite3_context *context, const gchar *pattern)
{
	g_autoptr(GError) error = NULL;
	GRegex *regex;

	if (strlen(pattern) > OSQD_FUNCTIONS_MAX_PATTERN) {
		sqlite3_result_error(context, "regular expression too long", -1);
		return NULL;
	}
	regex = g_regex_new(pattern, 0, 0, &error); /* no JIT: bounded cost, valgrind-clean */
	if (regex == NULL) {
		g_autofree gchar *message =
		        g_strdup_printf("invalid regular expression: %s", error->message);
		sqlite3_result_error(context, message, -1);
	}
	return regex;
}

/* The compiled pattern of argument @arg, cached by SQLite while the argument is constant. */
static GRegex *
regex_argument(sqlite3_context *context, sqlite3_value **argv, int arg)
{
	GRegex *regex = sqlite3_get_auxdata(context, arg);
	const gchar *pattern = (const gchar *)sqlite3_value_text(argv[arg]);

	if (regex != NULL)
		return regex;
	if (pattern == NULL)
		return NULL;
	regex = regex_compile(context, pattern);
	if (regex == NULL)
		return NULL;
	sqlite3_set_auxdata(context, arg, regex, (void (*)(void *))g_regex_unref);
	return sqlite3_get_auxdata(context, arg);
}

/* split(string, delimiters, index): the index-th non-empty token, splitting on any of the
 * delimiter characters (osquery's semantics). */
static void
function_split(sqlite3_context *context, int argc, sqlite3_value **argv)
{
	const gchar *text = (const gchar *)sqlite3_value_text(argv[0]);
	const gchar *delimiters = (const gchar *)sqlite3_value_text(argv[1]);
	gint64 index = sqlite3_value_int64(argv[2]);
	g_auto(GStrv) parts = NULL;
	gint64 seen = 0;

	(void)argc;
	if (text == NULL || delimiters == NULL || index < 0) {
		sqlite3_result_null(context);
		return;
	}
	parts = g_strsplit_set(text, delimiters[0] != '\0' ? delimiters : " ", -1);
	for (guint i = 0; parts[i] != NULL; i++) {
		if (parts[i][0] == '\0')
			continue;
		if (seen++ == index) {
			sqlite3_result_text(context, parts[i], -1, SQLITE_TRANSIENT);
			return;
		}
	}
	sqlite3_result_null(context);
}

/* regex_split(string, pattern, index): the index-th piece between matches of pattern. */
static void
function_regex_split(sqlite3_context *context, int argc, sqlite3_value **argv)
{
	const gchar *text = (const gchar *)sqlite3_value_text(argv[0]);
	gint64 index = sqlite3_value_int64(argv[2]);
	GRegex *regex;
	g_auto(GStrv) parts = NULL;
	gint64 seen = 0;

	(void)argc;
	if (text == NULL || index < 0 || (regex = regex_argument(context, argv, 1)) == NULL) {
		if (text == NULL || index < 0)
			sqlite3_result_null(context);
		return;
	}
	parts = g_regex_split(regex, text, 0);
	for (guint i = 0; parts[i] != NULL; i++) {
		if (parts[i][0] == '\0')
			continue;
		if (seen++ == index) {
			sqlite3_result_text(context, parts[i], -1, SQLITE_TRANSIENT);
			return;
		}
	}
	sqlite3_result_null(context);
}

/* regex_match(string, pattern, group): the text of the given capture group of the first match
 * (0 = the whole match), NULL when there is no match. */
static void
function_regex_match(sqlite3_context *context, int argc, sqlite3_value **argv)
{
	const gchar *text = (const gchar *)sqlite3_value_text(argv[0]);
	gint64 group = sqlite3_value_int64(argv[2]);
	g_autoptr(GMatchInfo) match = NULL;
	g_autofree gchar *found = NULL;
	GRegex *regex;

	(void)argc;
	if (text == NULL || group < 0 || group > G_MAXINT) {
		sqlite3_result_null(context);
		return;
	}
	if ((regex = regex_argument(context, argv, 1)) == NULL)
		return;
	if (!g_regex_match(regex, text, 0, &match) ||
	    (found = g_match_info_fetch(match, (gint)group)) == NULL) {
		sqlite3_result_null(context);
		return;
	}
	sqlite3_result_text(context, found, -1, SQLITE_TRANSIENT);
}

/* regexp(pattern, string): backs the `string REGEXP pattern` operator. */
static void
function_regexp(sqlite3_context *context, int argc, sqlite3_value **argv)
{
	const gchar *text = (const gchar *)sqlite3_value_text(argv[1]);
	GRegex *regex;

	(void)argc;
	if (text == NULL || sqlite3_value_type(argv[0]) == SQLITE_NULL) {
		sqlite3_result_null(context);
		return;
	}
	if ((regex = regex_argument(context, argv, 0)) == NULL)
		return;
	sqlite3_result_int(context, g_regex_match(regex, text, 0, NULL));
}

static void
function_concat(sqlite3_context *context, int argc, sqlite3_value **argv)
{
	g_autoptr(GString) out = g_string_new(NULL);

	for (int i = 0; i < argc; i++) {
		const gchar *text = (const gchar *)sqlite3_value_text(argv[i]);
		if (text != NULL)
			g_string_append(out, text);
	}
	sqlite3_result_text(context, out->str, (int)out->len, SQLITE_TRANSIENT);
}

static void
function_concat_ws(sqlite3_context *context, int argc, sqlite3_value **argv)
{
	const gchar *separator = (const gchar *)sqlite3_value_text(argv[0]);
	g_autoptr(GString) out = g_string_new(NULL);
	gboolean first = TRUE;

	if (separator == NULL) {
		sqlite3_result_null(context);
		return;
	}
	for (int i = 1; i < argc; i++) {
		const gchar *text = (const gchar *)sqlite3_value_text(argv[i]);
		if (text == NULL)
			continue;
		if (!first)
			g_string_append(out, separator);
		g_string_append(out, text);
		first = FALSE;
	}
	sqlite3_result_text(context, out->str, (int)out->len, SQLITE_TRANSIENT);
}

/* inet_aton("1.2.3.4") -> 16909060 (host order), NULL for anything but a dotted quad. */
static void
function_inet_aton(sqlite3_context *context, int argc, sqlite3_value **argv)
{
	const gchar *text = (const gchar *)sqlite3_value_text(argv[0]);
	struct in_addr address;

	(void)argc;
	if (text == NULL || inet_pton(AF_INET, text, &address) != 1) {
		sqlite3_result_null(context);
		return;
	}
	sqlite3_result_int64(context, (sqlite3_int64)ntohl(address.s_addr));
}

static gboolean
parse_address(const gchar *text, guint8 *bytes, gint *family)
{
	if (inet_pton(AF_INET, text, bytes) == 1) {
		*family = AF_INET;
		return TRUE;
	}
	if (inet_pton(AF_INET6, text, bytes) == 1) {
		*family = AF_INET6;
		return TRUE;
	}
	return FALSE;
}

/* in_cidr_block(cidr, address): 1 when address lies in cidr, 0 when not, NULL on bad input. */
static void
function_in_cidr_block(sqlite3_context *context, int argc, sqlite3_value **argv)
{
	const gchar *cidr = (const gchar *)sqlite3_value_text(argv[0]);
	const gchar *text = (const gchar *)sqlite3_value_text(argv[1]);
	g_auto(GStrv) parts = NULL;
	guint8 network[16], address[16];
	gint family_network, family_address;
	gint64 bits;
	gchar *end = NULL;

	(void)argc;
	if (cidr == NULL || text == NULL) {
		sqlite3_result_null(context);
		return;
	}
	parts = g_strsplit(cidr, "/", 2);
	if (parts[0] == NULL || parts[1] == NULL ||
	    !parse_address(parts[0], network, &family_network) ||
	    !parse_address(text, address, &family_address)) {
		sqlite3_result_null(context);
		return;
	}
	bits = g_ascii_strtoll(parts[1], &end, 10);
	if (*end != '\0' || end == parts[1] || bits < 0 ||
	    bits > (family_network == AF_INET ? 32 : 128)) {
		sqlite3_result_null(context);
		return;
	}
	if (family_network != family_address) {
		sqlite3_result_int(context, 0);
		return;
	}
	for (gint64 i = 0; i < bits; i++) {
		guint8 mask = (guint8)(0x80 >> (i % 8));
		if ((network[i / 8] & mask) != (address[i / 8] & mask)) {
			sqlite3_result_int(context, 0);
			return;
		}
	}
	sqlite3_result_int(context, 1);
}

static void
function_to_base64(sqlite3_context *context, int argc, sqlite3_value **argv)
{
	const guchar *data = sqlite3_value_blob(argv[0]);
	g_autofree gchar *encoded = NULL;

	(void)argc;
	if (sqlite3_value_type(argv[0]) == SQLITE_NULL) {
		sqlite3_result_null(context);
		return;
	}
	encoded = g_base64_encode(data, (gsize)sqlite3_value_bytes(argv[0]));
	sqlite3_result_text(context, encoded, -1, SQLITE_TRANSIENT);
}

static void
function_from_base64(sqlite3_context *context, int argc, sqlite3_value **argv)
{
	const gchar *text = (const gchar *)sqlite3_value_text(argv[0]);
	g_autofree guchar *decoded = NULL;
	g_autofree gchar *valid = NULL;
	gsize len = 0;

	(void)argc;
	if (text == NULL) {
		sqlite3_result_null(context);
		return;
	}
	decoded = g_base64_decode(text, &len);
	valid = osqd_utf8_make_valid((const gchar *)decoded, (gssize)len);
	sqlite3_result_text(context, valid, -1, SQLITE_TRANSIENT);
}

/* conditional_to_base64(x): x itself when it is printable ASCII, else its base64. */
static void
function_conditional_to_base64(sqlite3_context *context, int argc, sqlite3_value **argv)
{
	const guchar *data = sqlite3_value_blob(argv[0]);
	int len = sqlite3_value_bytes(argv[0]);

	if (sqlite3_value_type(argv[0]) == SQLITE_NULL) {
		sqlite3_result_null(context);
		return;
	}
	for (int i = 0; i < len; i++) {
		if (data[i] < 0x20 || data[i] >= 0x7f) {
			function_to_base64(context, argc, argv);
			return;
		}
	}
	sqlite3_result_text(context, (const char *)data, len, SQLITE_TRANSIENT);
}

static void
function_checksum(sqlite3_context *context, int argc, sqlite3_value **argv)
{
	GChecksumType type = GPOINTER_TO_INT(sqlite3_user_data(context));
	g_autofree gchar *digest = NULL;

	(void)argc;
	if (sqlite3_value_type(argv[0]) == SQLITE_NULL) {
		sqlite3_result_null(context);
		return;
	}
	digest = g_compute_checksum_for_data(type, sqlite3_value_blob(argv[0]),
	                                     (gsize)sqlite3_value_bytes(argv[0]));
	sqlite3_result_text(context, digest, -1, SQLITE_TRANSIENT);
}

typedef struct {
	const gchar *name;
	int n_args;
	void (*func)(sqlite3_context *, int, sqlite3_value **);
	gint user_data;
} OsqdFunction;

static const OsqdFunction osqd_functions[] = {
	{ "split", 3, function_split, 0 },
	{ "regex_split", 3, function_regex_split, 0 },
	{ "regex_match", 3, function_regex_match, 0 },
	{ "regexp", 2, function_regexp, 0 },
	{ "concat", -1, function_concat, 0 },
	{ "concat_ws", -1, function_concat_ws, 0 },
	{ "inet_aton", 1, function_inet_aton, 0 },
	{ "in_cidr_block", 2, function_in_cidr_block, 0 },
	{ "to_base64", 1, function_to_base64, 0 },
	{ "from_base64", 1, function_from_base64, 0 },
	{ "conditional_to_base64", 1, function_conditional_to_base64, 0 },
	{ "md5", 1, function_checksum, G_CHECKSUM_MD5 },
	{ "sha1", 1, function_checksum, G_CHECKSUM_SHA1 },
	{ "sha256", 1, function_checksum, G_CHECKSUM_SHA256 },
};

gboolean
osqd_functions_register(sqlite3 *db, GError **error)
{
	for (guint i = 0; i < G_N_ELEMENTS(osqd_functions); i++) {
		const OsqdFunction *f = &osqd_functions[i];
		int rc = sqlite3_create_function_v2(
		        db, f->name, f->n_args,
		        SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS,
		        GINT_TO_POINTER(f->user_data), f->func, NULL, NULL, NULL);
		if (rc != SQLITE_OK) {
			g_set_error(error, OSQ_ERROR, OSQ_ERROR_FAILED,
			            "cannot add function %s: %s", f->name, sqlite3_errmsg(db));
			return FALSE;
		}
	}
	return TRUE;
}
