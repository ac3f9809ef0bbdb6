/* SPDX-License-Identifier: Apache-2.0
 *
 * Helpers for unit tests that drive an engine with SQL: one way to turn a statement's rows
 * into text that assertions can compare.
 */
#include "config.h"

#include "osqd-engine-testing.h"

gchar *
osqd_engine_testing_run(OsqdEngine *engine, const gchar *sql, GError **error)
{
	g_autoptr(GString) out = g_string_new(NULL);
	sqlite3_stmt *stmt = osqd_engine_prepare(engine, sql, NULL, error);
	gint rc;

	if (stmt == NULL)
		return NULL;
	while ((rc = osqd_engine_step(engine, stmt, error)) == SQLITE_ROW) {
		for (int i = 0; i < sqlite3_column_count(stmt); i++) {
			const unsigned char *text = sqlite3_column_text(stmt, i);
			g_string_append_printf(out, "%s%s", i > 0 ? "|" : "",
			                       text != NULL ? (const char *)text : "NULL");
		}
		g_string_append_c(out, '\n');
	}
	sqlite3_finalize(stmt);
	if (rc < 0)
		return NULL;
	return g_string_free(g_steal_pointer(&out), FALSE);
}
