/* SPDX-License-Identifier: Apache-2.0
 *
 * Tab completion candidates, as a pure function of the registry and the line being edited, so
 * the rules are unit-tested without a terminal: dot-command names at the start of a line,
 * their arguments (tables, modes, on/off), and in SQL table and column names.
 */
#pragma once

#include "osqd-registry.h"

G_BEGIN_DECLS

/* The sorted, unique words that could replace the word ending at @cursor in @line; *@word_start
 * is set to where that word begins. Matching ignores ASCII case. */
GPtrArray *osqi_complete(OsqdRegistry *registry, const gchar *line, gsize cursor,
                         gsize *word_start);

/* The longest prefix the candidates share (compared exactly). */
gchar *osqi_complete_common_prefix(GPtrArray *candidates);

G_END_DECLS
