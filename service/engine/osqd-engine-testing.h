/* SPDX-License-Identifier: Apache-2.0
 *
 * Helpers for unit tests that drive an engine with SQL (linked into tests only).
 */
#pragma once

#include "osqd-engine.h"

G_BEGIN_DECLS

/* Runs the first statement of @sql to the end; returns its rows as "a|b\n" lines (NULL values
 * as "NULL"), or NULL with @error set when preparing or stepping fails. */
gchar *osqd_engine_testing_run(OsqdEngine *engine, const gchar *sql, GError **error);

G_END_DECLS
