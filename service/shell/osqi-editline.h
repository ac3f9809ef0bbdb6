/* SPDX-License-Identifier: Apache-2.0
 *
 * The interactive line editor (libedit): prompts, a 100-entry history file, Tab completion. It
 * is a shared module (osqi-editline.so) that only the interactive shell loads, so one-shot and
 * piped runs never pay for libedit and its libraries. The module knows nothing of the engine:
 * completion and Ctrl-C come in through OsqiEditlineHooks.
 */
#pragma once

#include "osqi-module.h"

G_BEGIN_DECLS

/* Bump on any change to OsqiEditlineModule, OsqiEditlineHooks or what their functions mean. */
#define OSQI_EDITLINE_MODULE_ABI 1

typedef struct _OsqiEditline OsqiEditline;

typedef struct {
	/* The candidates for the word ending at @cursor in @line, as osqi_complete() returns
	 * them (sorted, unique, owned by the caller); *@word_start is where that word begins. */
	GPtrArray *(*complete)(gpointer user_data, const gchar *line, gsize cursor,
	                       gsize *word_start);
	/* The longest prefix @candidates share (osqi_complete_common_prefix()). */
	gchar *(*common_prefix)(GPtrArray *candidates);
	/* TRUE (once) if SIGINT arrived since the last call (osqi_shell_take_interrupt()). */
	gboolean (*take_interrupt)(void);
	gpointer user_data; /* for complete(); must outlive the editor */
} OsqiEditlineHooks;

typedef struct {
	OsqiModuleHeader header;
	/* @history_path may be NULL (no history file); @hooks is copied. NULL with @error set
	 * if libedit cannot drive the terminal. */
	OsqiEditline *(*editline_new)(const gchar *program, const gchar *history_path,
	                              const OsqiEditlineHooks *hooks, GError **error);
	void (*editline_free)(OsqiEditline *editline);
	/* An OsqiShellReadFunc whose @user_data is the OsqiEditline: shows "osq> " (or
	 * "   ...> " for a continuation) and returns the line typed, NULL at end of input
	 * (Ctrl-D); Ctrl-C sets @interrupted. */
	gchar *(*editline_read)(gpointer user_data, gboolean continuation, gboolean *interrupted);
} OsqiEditlineModule;

OSQI_MODULE_EXPORT extern const OsqiEditlineModule osqi_editline_module;

G_END_DECLS
