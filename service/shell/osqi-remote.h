/* SPDX-License-Identifier: Apache-2.0
 *
 * osqi's remote mode (--connect PATH, .connect, .disconnect): statements go to an osq daemon
 * through libosq, one statement per call, and the replies are turned back into the shell's
 * typed result buffer, so every output mode prints them as it prints in-process results.
 */
#pragma once

#include "osq.h"
#include "osqi-shell.h"

G_BEGIN_DECLS

/* Connects @shell to the daemon at @path, replacing an earlier connection; on failure the
 * shell stays as it was. */
gboolean osqi_remote_connect(OsqiShell *shell, const gchar *path, GError **error);
/* Back to the in-process engine. */
void osqi_remote_disconnect(OsqiShell *shell);

/* Runs one statement on the daemon and prints its result. */
gboolean osqi_remote_run_statement(OsqiShell *shell, const gchar *sql, GError **error);

/* Follows @sql live on the daemon (a query that reads an event table): prints the rows of new
 * events in batches as they arrive, in the output mode (a table per batch in pretty mode, one
 * stream otherwise), until Ctrl-C (TRUE) or an error (FALSE: the daemon refused @sql, the
 * connection failed). Catches SIGINT meanwhile, also when input is not interactive. */
gboolean osqi_remote_follow(OsqiShell *shell, const gchar *sql, GError **error);

/* The first statement of @sql (the text up to the ';' that completes it, or all of it), and
 * in @tail what follows. */
gchar *osqi_remote_next_statement(const gchar *sql, const gchar **tail);

/* Appends the rows of @in to @out (with as many columns), typed by the column types: integer
 * columns as integers, DOUBLE as doubles (text that does not parse stays text), NULL as
 * NULL. */
void osqi_remote_fill_result(OsqiResult *out, const OsqResult *in);

/* The daemon's tables, sorted: `PRAGMA module_list` without SQLite's own modules, or on an
 * osquery daemon its osquery_registry table. */
GPtrArray *osqi_remote_list_tables(OsqiShell *shell, GError **error);
/* The names and types of the result columns of @sql (getQueryColumns), as a two-column
 * result. */
OsqiResult *osqi_remote_column_types(OsqiShell *shell, const gchar *sql, GError **error);

G_END_DECLS
