/* SPDX-License-Identifier: Apache-2.0
 *
 * The few JSON writing primitives the log formats need, byte for byte as osquery's writer
 * (rapidjson) produces them: strings with "\u001F"-style escapes and raw UTF-8, doubles in their
 * shortest round-trip form with a ".0" on integral values. json-glib is not used for writing
 * because its escapes and number forms differ from osquery's, and the log lines are a contract.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Appends @text as a quoted JSON string. Quote, backslash and control characters are escaped;
 * valid UTF-8 is copied as is; each invalid byte becomes U+FFFD, so the output is valid UTF-8. */
void osqd_log_json_append_string(GString *out, const gchar *text);

/* Appends @value as rapidjson writes a double: "1.0", "0.1", "-0.0", "1e21", "1.5e-7". A value
 * that is not finite has no JSON form; it is appended as the string "NaN", "Inf" or "-Inf". */
void osqd_log_json_append_double(GString *out, gdouble value);

/* The same number form, unquoted, as a new string (also the text form of a DOUBLE column). */
gchar *osqd_log_json_format_double(gdouble value);

G_END_DECLS
