/* SPDX-License-Identifier: Apache-2.0
 *
 * The extension SDK's pure parts, shared with its unit tests only (not installed): reading a
 * table scan's context JSON into a request, and rendering doubles as osquery does.
 */
#pragma once

#include <glib.h>

#include "osq.h"

G_BEGIN_DECLS

/* A request for a table with columns @columns (in declared order, used to read
 * colsUsedBitset) from the context JSON @context (NULL: none). Never fails: malformed JSON
 * gives a request with no constraints and every column used. */
OsqTableRequest *osq_extension_table_request_new(const gchar *context, const gchar *const *columns,
                                                 guint n_columns);
void osq_extension_table_request_free(OsqTableRequest *request);

/* The shortest "%.Ng" text that reads back as @value, with ".0" added when it has neither a
 * '.' nor an exponent; FALSE for NaN and infinities. */
gboolean osq_extension_format_double(gdouble value, gchar *buffer, gsize size);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(OsqTableRequest, osq_extension_table_request_free)

G_END_DECLS
