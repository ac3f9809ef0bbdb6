/* SPDX-License-Identifier: Apache-2.0
 *
 * --extensions_autoload: the daemon starts the extension executables listed in a file, with the
 * flags osquery passes them (--socket, --timeout, --interval, and --verbose when the daemon is
 * verbose), and restarts one that exits, after a backoff that doubles up to a minute (and starts
 * over once it ran for a minute). It runs executables as root, so each must be a regular file
 * owned by root (or the daemon's user) that nobody else may write, in a directory nobody else
 * may write; anything else is refused with a message naming the path. At stop the children get
 * SIGTERM, then SIGKILL after two seconds.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _OsqdAutoload OsqdAutoload;

typedef struct {
	const gchar *socket_path;
	const gchar *timeout; /* as given to osqd: seconds, a string */
	const gchar *interval;
	gboolean verbose;
} OsqdAutoloadConfig;

/* Reads @list_path (one path per line, '#' comments, blank lines skipped) and checks every
 * entry. Entries that fail the checks are logged and skipped; a list that cannot be read is an
 * error. */
OsqdAutoload *osqd_autoload_new(const gchar *list_path, const OsqdAutoloadConfig *config,
                                GError **error);
/* Starts every entry (child watches run in the thread-default main context). */
void osqd_autoload_start(OsqdAutoload *autoload);
/* Stops restarting, terminates the children still running and waits for them. */
void osqd_autoload_stop(OsqdAutoload *autoload);
void osqd_autoload_free(OsqdAutoload *autoload);
guint osqd_autoload_get_count(OsqdAutoload *autoload);

/* Whether @path may be run as root: exposed for tests. */
gboolean osqd_autoload_check_path(const gchar *path, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(OsqdAutoload, osqd_autoload_free)

G_END_DECLS
