/* SPDX-License-Identifier: Apache-2.0
 *
 * The interactive line editor (libedit): prompts, a 100-entry history file, Tab completion.
 * Only the interactive shell creates one, so one-shot and piped runs never pay for it.
 */
#pragma once

#include "osqd-registry.h"

G_BEGIN_DECLS

typedef struct _OsqiEditline OsqiEditline;

/* @history_path may be NULL (no history file). NULL with @error set if libedit cannot drive
 * the terminal. */
OsqiEditline *osqi_editline_new(const gchar *program, OsqdRegistry *registry,
                                const gchar *history_path, GError **error);
void osqi_editline_free(OsqiEditline *editline);

/* An OsqiShellReadFunc: shows "osq> " (or "   ...> " for a continuation) and returns the
 * line typed, NULL at end of input (Ctrl-D); Ctrl-C sets @interrupted. */
gchar *osqi_editline_read(gpointer user_data, gboolean continuation, gboolean *interrupted);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(OsqiEditline, osqi_editline_free)

G_END_DECLS
