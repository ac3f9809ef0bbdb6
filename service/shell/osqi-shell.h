/* SPDX-License-Identifier: Apache-2.0
 *
 * The shell's state and its input loop: settings changed by flags and dot-commands, running SQL
 * statement by statement through the engine, and reading input line by line from any source
 * (a pipe, a file, or the line editor), splitting it into complete statements and dot-commands.
 */
#pragma once

#include <signal.h>
#include <stdio.h>

#include "osq.h"
#include "osqd-engine.h"
#include "osqi-output.h"

G_BEGIN_DECLS

typedef struct {
	OsqdEngine *engine;     /* NULL until first needed (osqi --connect starts without one) */
	OsqdRegistry *registry; /* the built-in tables, for completion without an engine */
	OsqClient *client;      /* remote mode when set: statements go to the daemon */
	OsqiOutputSettings output;
	gboolean echo;
	gboolean bail;
	gboolean timer;
	gchar *root;
	guint timeout_ms;
	FILE *out;
	FILE *err;
	volatile sig_atomic_t running; /* a statement is being stepped */
} OsqiShell;

/* Reads one line without its newline; NULL at end of input. @continuation is TRUE when a
 * statement is incomplete (the prompt changes); @interrupted is set when the user pressed
 * Ctrl-C, which discards the statement being typed. */
typedef gchar *(*OsqiShellReadFunc)(gpointer user_data, gboolean continuation,
                                    gboolean *interrupted);

/* Takes ownership of @engine, which may be NULL: an engine over the built-in tables is then
 * made when first needed. Output goes to stdout, errors to stderr. */
OsqiShell *osqi_shell_new(OsqdEngine *engine);
void osqi_shell_free(OsqiShell *shell);

/* The in-process engine, made on first use with the shell's root and timeout. */
OsqdEngine *osqi_shell_get_engine(OsqiShell *shell, GError **error);
/* The registry of the in-process tables (the engine's, or the built-in one). */
OsqdRegistry *osqi_shell_get_registry(OsqiShell *shell);

void osqi_shell_set_root(OsqiShell *shell, const gchar *root);
void osqi_shell_set_timeout(OsqiShell *shell, guint timeout_ms);

/* Runs every statement of @sql, printing results; stops at the first failing statement. */
gboolean osqi_shell_run_sql(OsqiShell *shell, const gchar *sql, GError **error);
/* Prints "Error: <message>", or "Error: near line N: <message>" when @line > 0. */
void osqi_shell_print_error(OsqiShell *shell, guint line, const gchar *message);

/* Reads and runs input until its end or an exit command. Returns the exit status: the code
 * given to .exit, else 1 if a statement or command failed (non-interactive input only). */
gint osqi_shell_process_input(OsqiShell *shell, OsqiShellReadFunc read_func, gpointer user_data,
                              gboolean interactive);

/* Installs a SIGINT handler that cancels the statement @shell is running (and otherwise only
 * interrupts a blocking read, so an idle prompt can clear its line). */
void osqi_shell_catch_interrupts(OsqiShell *shell);
/* TRUE (once) if SIGINT arrived since the last call. */
gboolean osqi_shell_take_interrupt(void);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(OsqiShell, osqi_shell_free)

G_END_DECLS
