/* SPDX-License-Identifier: Apache-2.0
 *
 * JSON strings and numbers written the way osquery's rapidjson writer does. The shortest digits
 * of a double are found by printing with growing precision until the text reads back to the same
 * value; the placement of the decimal point then follows rapidjson's rules (plain notation while
 * the decimal exponent is in -6 < k <= 21, else "de[-]N" with no '+' and no leading zeros).
 */
#include "config.h"

#include "osqd-log-json.h"

#include <math.h>
#include <string.h>

void
osqd_log_json_append_string(GString *out, const gchar *text)
{
	const gchar *p = text;

	g_string_append_c(out, '"');
	while (*p != '\0') {
		guchar c = (guchar)*p;
		const gchar *end = NULL;

		if (c >= 0x80) {
			gunichar ch = g_utf8_get_char_validated(p, -1);
			if (ch == (gunichar)-1 || ch == (gunichar)-2) {
				g_string_append(out, "\xef\xbf\xbd"); /* U+FFFD for one bad byte */
				p++;
				continue;
			}
			end = g_utf8_next_char(p);
			g_string_append_len(out, p, end - p);
			p = end;
			continue;
		}
		switch (c) {
		case '"':
			g_string_append(out, "\\\"");
			break;
		case '\\':
			g_string_append(out, "\\\\");
			break;
		case '\b':
			g_string_append(out, "\\b");
			break;
		case '\f':
			g_string_append(out, "\\f");
			break;
		case '\n':
			g_string_append(out, "\\n");
			break;
		case '\r':
			g_string_append(out, "\\r");
			break;
		case '\t':
			g_string_append(out, "\\t");
			break;
		default:
			if (c < 0x20)
				g_string_append_printf(out, "\\u%04X", c);
			else
				g_string_append_c(out, (gchar)c);
		}
		p++;
	}
	g_string_append_c(out, '"');
}

/* The shortest decimal digits of |@value| (no leading or trailing zeros, "0" for zero) and the
 * exponent of the first digit: |value| = 0.d1d2d3... * 10^(*point). */
static void
json_shortest_digits(gdouble value, gchar *digits, gsize size, gint *point)
{
	gchar buffer[G_ASCII_DTOSTR_BUF_SIZE];
	gchar format[8];
	gchar *e = NULL;
	gsize n = 0;

	for (gint precision = 0; precision <= 17; precision++) {
		g_snprintf(format, sizeof(format), "%%.%de", precision);
		g_ascii_formatd(buffer, sizeof(buffer), format, value);
		if (g_ascii_strtod(buffer, NULL) == value)
			break;
	}
	/* buffer is "d[.ddd]e[+-]XX" */
	for (const gchar *p = buffer; *p != '\0' && *p != 'e' && n + 1 < size; p++) {
		if (g_ascii_isdigit(*p))
			digits[n++] = *p;
	}
	while (n > 1 && digits[n - 1] == '0')
		n--;
	digits[n] = '\0';
	e = strchr(buffer, 'e');
	*point = (e != NULL ? (gint)g_ascii_strtoll(e + 1, NULL, 10) : 0) + 1;
	if (strcmp(digits, "0") == 0)
		*point = 1;
}

static void
json_append_exponent(GString *out, gint exponent)
{
	g_string_append_printf(out, "e%d", exponent);
}

void
osqd_log_json_append_double(GString *out, gdouble value)
{
	gchar digits[32];
	gint point = 0;
	gint length;

	if (isnan(value)) {
		g_string_append(out, "\"NaN\"");
		return;
	}
	if (isinf(value)) {
		g_string_append(out, value > 0 ? "\"Inf\"" : "\"-Inf\"");
		return;
	}
	if (signbit(value))
		g_string_append_c(out, '-');
	json_shortest_digits(fabs(value), digits, sizeof(digits), &point);
	length = (gint)strlen(digits);
	if (length <= point && point <= 21) {
		/* an integer: the digits, zeros up to the point, ".0" */
		g_string_append(out, digits);
		for (gint i = length; i < point; i++)
			g_string_append_c(out, '0');
		g_string_append(out, ".0");
	} else if (0 < point && point <= 21) {
		g_string_append_len(out, digits, point);
		g_string_append_c(out, '.');
		g_string_append(out, digits + point);
	} else if (-6 < point && point <= 0) {
		g_string_append(out, "0.");
		for (gint i = point; i < 0; i++)
			g_string_append_c(out, '0');
		g_string_append(out, digits);
	} else if (length == 1) {
		g_string_append(out, digits);
		json_append_exponent(out, point - 1);
	} else {
		g_string_append_c(out, digits[0]);
		g_string_append_c(out, '.');
		g_string_append(out, digits + 1);
		json_append_exponent(out, point - 1);
	}
}

gchar *
osqd_log_json_format_double(gdouble value)
{
	GString *out = g_string_new(NULL);

	if (isnan(value))
		g_string_append(out, "NaN");
	else if (isinf(value))
		g_string_append(out, value > 0 ? "Inf" : "-Inf");
	else
		osqd_log_json_append_double(out, value);
	return g_string_free(out, FALSE);
}
