/* SPDX-License-Identifier: Apache-2.0
 *
 * osqi: the interactive shell (minimal first version: one-shot SQL, list output).
 */
#include "config.h"

#include <stdio.h>

#include "osqd-engine.h"

int
main(int argc, char **argv)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(OsqdRegistry) registry = osqd_registry_new_builtin();
	g_autoptr(OsqdEngine) engine = osqd_engine_new(registry, &error);
	const gchar *sql = argc > 1 ? argv[1] : "SELECT 1";
	sqlite3_stmt *stmt;
	gint rc;

	if (engine == NULL) {
		g_printerr("Error: %s\n", error->message);
		return 1;
	}
	stmt = osqd_engine_prepare(engine, sql, NULL, &error);
	if (stmt == NULL) {
		g_printerr("Error: %s\n", error != NULL ? error->message : "empty statement");
		return 1;
	}
	while ((rc = osqd_engine_step(engine, stmt, &error)) == SQLITE_ROW) {
		for (int i = 0; i < sqlite3_column_count(stmt); i++) {
			const unsigned char *text = sqlite3_column_text(stmt, i);
			printf("%s%s", i > 0 ? "|" : "", text != NULL ? (const char *)text : "");
		}
		printf("\n");
	}
	sqlite3_finalize(stmt);
	if (rc < 0) {
		g_printerr("Error: %s\n", error->message);
		return 1;
	}
	return 0;
}
