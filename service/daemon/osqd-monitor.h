/* SPDX-License-Identifier: Apache-2.0
 *
 * osqd as a monitor: it reads the config (--config_path and its .d/, or a config plugin from an
 * extension), schedules its queries, keeps their results in the database (--database_path) and
 * hands the log lines to the loggers (--logger_plugin). Results go from a run to the store in
 * one transaction with their log lines; a drain thread writes pending lines to every logger and
 * deletes them only once all loggers took them, so a crash or a failing logger loses nothing.
 * A config reload (SIGHUP, --config_refresh) that fails keeps the last good config.
 */
#pragma once

#include <glib.h>

#include "osqd-config.h"
#include "osqd-extensions.h"
#include "osqd-flags.h"
#include "osqd-registry.h"
#include "osqd-scheduler.h"

G_BEGIN_DECLS

typedef struct _OsqdMonitor OsqdMonitor;

/* The flag names osquery allows only on the command line (not in a config's "options"). */
gboolean osqd_monitor_flag_is_cli_only(const gchar *name);

/* Reads and parses the config the flags name (for --config_check, --config_dump and starts).
 * @extensions may be NULL (no config plugins from extensions). */
OsqdConfig *osqd_monitor_load_config(OsqdFlags *flags, OsqdRegistry *registry,
                                     OsqdExtensions *extensions, GError **error);

/* NULL with no error when there is nothing to monitor (no config). */
OsqdMonitor *osqd_monitor_new(OsqdFlags *flags, OsqdRegistry *registry, OsqdExtensions *extensions,
                              GError **error);
void osqd_monitor_free(OsqdMonitor *monitor);

/* Starts the schedule and the log drain. */
void osqd_monitor_start(OsqdMonitor *monitor);
/* Reads the config again; a broken one is reported and the last good one stays. Also reopens
 * the log files (logrotate sends SIGHUP after moving them). */
void osqd_monitor_reload(OsqdMonitor *monitor);

/* For the osquery_* tables: a new array of OsqdScheduleStats, the config's hash, whether the
 * last read was valid, the instance id. */
GPtrArray *osqd_monitor_list_schedule(OsqdMonitor *monitor);
OsqdConfig *osqd_monitor_get_config(OsqdMonitor *monitor);
gboolean osqd_monitor_config_valid(OsqdMonitor *monitor);
gchar *osqd_monitor_get_instance_id(OsqdMonitor *monitor);
/* Whether @pack is active (selectors and discovery), with its discovery statistics. */
gboolean osqd_monitor_pack_state(OsqdMonitor *monitor, const gchar *pack, gboolean *active,
                                 guint64 *executions, guint64 *cache_hits);

/* A status line (severity 0 info .. 3 fatal) for every logger's status log. Any thread, any
 * lock held: it is queued, and the running monitor's drain writes it within a second. */
void osqd_monitor_log_status(gint severity, const gchar *message);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(OsqdMonitor, osqd_monitor_free)

G_END_DECLS
