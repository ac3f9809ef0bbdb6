/* SPDX-License-Identifier: Apache-2.0
 *
 * The shell history line parser: bash timestamps (a "#<seconds>" line before the command), zsh
 * extended history (": <seconds>:<duration>;<command>") and plain lines, with osquery's rules.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
	const gchar *cursor;
	const gchar *end;
	gboolean pending;       /* a bash "#<seconds>" line waits for its command */
	gboolean pending_valid; /* ... and its number fits in 64 bits */
	gint64 pending_time;
} OsqdShellHistoryParser;

typedef struct {
	const gchar *command; /* not NUL-terminated: use command_len */
	gsize command_len;
	gint64 time;
	gboolean has_time; /* FALSE when the timestamp is too large to be a number (NULL) */
} OsqdShellHistoryEntry;

void osqd_shell_history_parser_init(OsqdShellHistoryParser *parser, const gchar *data, gsize len);

/* The next command of the file, FALSE at the end. Every line between two newlines is a command
 * (an empty line too, as osquery reports it), except a bash timestamp line, which dates the
 * line after it; a last line without a newline counts when it is not empty. */
gboolean osqd_shell_history_parser_next(OsqdShellHistoryParser *parser,
                                        OsqdShellHistoryEntry *entry);

G_END_DECLS
