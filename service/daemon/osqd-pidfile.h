/* SPDX-License-Identifier: Apache-2.0
 *
 * The daemon's pidfile: created if missing, locked with flock() for as long as the daemon runs,
 * and holding its pid. A pidfile that another live process has locked means a second daemon;
 * one left behind by a crash carries no lock and is simply taken over.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _OsqdPidfile OsqdPidfile;

/* Fails with OSQ_ERROR_FAILED ("osqd is already running (pid N)...") when the file is locked,
 * and with OSQ_ERROR_IO when it cannot be created. */
OsqdPidfile *osqd_pidfile_acquire(const gchar *path, GError **error);
/* Removes the file and drops the lock. NULL is fine. */
void osqd_pidfile_release(OsqdPidfile *pidfile);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(OsqdPidfile, osqd_pidfile_release)

G_END_DECLS
