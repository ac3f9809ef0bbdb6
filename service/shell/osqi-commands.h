/* SPDX-License-Identifier: Apache-2.0
 *
 * osqi's dot-commands (.tables, .mode, .schema...). Parsing is pure and separate from running,
 * so splitting, abbreviations and boolean words are unit-tested without an engine.
 */
#pragma once

#include "osqi-shell.h"

G_BEGIN_DECLS

typedef enum {
	OSQI_COMMAND_OK,
	OSQI_COMMAND_ERROR,
	OSQI_COMMAND_EXIT,
} OsqiCommandStatus;

/* Splits a command line the way sqlite's shell does: blanks separate words, '...' and "..."
 * group them, backslash escapes (\t, \n, \\, \", octal...) are resolved. The first word is the
 * command name without its '.'. Never NULL; empty for an empty line. */
GPtrArray *osqi_command_split(const gchar *line);
/* The text after the command word, blanks skipped ("" if none); for .types SQL. */
const gchar *osqi_command_rest(const gchar *line);
/* The full name of the first command (in osqueryi's order) that starts with @word and takes
 * @n_args arguments; NULL if none does. */
const gchar *osqi_command_lookup(const gchar *word, guint n_args);
/* Parses numbers and on/off, yes/no, true/false; FALSE if @text is none of them. */
gboolean osqi_command_parse_boolean(const gchar *text, gboolean *value);
/* The command names, for completion (NULL-terminated, static). */
const gchar *const *osqi_commands_get_names(void);

/* Runs a line starting with '.'. Errors are printed on the shell's error stream. */
OsqiCommandStatus osqi_commands_run(OsqiShell *shell, const gchar *line, gint *exit_code);

/* The bodies of .tables and .all, shared with the -L and -A flags. */
gboolean osqi_commands_print_tables(OsqiShell *shell, const gchar *prefix);
gboolean osqi_commands_select_all(OsqiShell *shell, const gchar *table);

G_END_DECLS
