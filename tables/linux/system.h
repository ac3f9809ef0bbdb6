/* SPDX-License-Identifier: Apache-2.0
 *
 * Pure parsers behind the host identity tables (kernel_info, os_version, system_info, uptime).
 * They take file contents and never touch the file system, so the unit tests and fuzzers can
 * feed them anything; the generators in system.c do the reading.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* /proc/cmdline: BOOT_IMAGE= goes to @path, root= to @device, every other token (in order,
 * single-space separated) to @arguments. Outputs are NULL when absent, except @arguments,
 * which is "" when the line has no other token. */
void osqd_system_parse_cmdline(const gchar *text, gchar **path, gchar **device, gchar **arguments);

/* /proc/version ("Linux version 6.1.0-18-amd64 (...) ..."): the release, or NULL. */
gchar *osqd_system_parse_proc_version(const gchar *text);

/* /proc/uptime: whole seconds since boot (the fraction is dropped). FALSE if malformed. */
gboolean osqd_system_parse_uptime(const gchar *text, gint64 *seconds);

/* os-release(5): KEY=value lines; quotes and backslash escapes removed. Comments, blank and
 * malformed lines are skipped; a later key wins. Returns key -> value (both owned). */
GHashTable *osqd_system_parse_os_release(const gchar *text);

/* A decimal integer that fills the whole string ("04" -> 4); FALSE for anything else. */
gboolean osqd_system_parse_integer(const gchar *text, gint64 *value);

/* The first line of /etc/redhat-release or /etc/gentoo-release that looks like
 * "<name> ... <major>.<minor>[.<patch>]"; @patch is "0" when missing. */
gboolean osqd_system_parse_release_line(const gchar *text, gchar **name, gchar **major,
                                        gchar **minor, gchar **patch);

typedef struct {
	gint64 logical_cores;  /* "processor" entries; 0 if none */
	gint64 physical_cores; /* distinct (physical id, core id); 0 if not reported */
	gint64 sockets;        /* distinct physical id; 0 if not reported */
	gchar *brand;          /* first "model name", trimmed */
	gchar *model;          /* first "model" */
	gchar *microcode;      /* first "microcode" */
} OsqdSystemCpuInfo;

void osqd_system_cpu_info_clear(OsqdSystemCpuInfo *info);
void osqd_system_parse_cpuinfo(const gchar *text, OsqdSystemCpuInfo *info);

/* /proc/meminfo MemTotal, in bytes. */
gboolean osqd_system_parse_meminfo_total(const gchar *text, gint64 *bytes);

/* A DMI product UUID firmware vendors use as a placeholder (all zeros, all Fs, ...). */
gboolean osqd_system_uuid_is_placeholder(const gchar *uuid);

/* /etc/machine-id (32 hex digits) written as a UUID, 8-4-4-4-12; NULL if malformed. */
gchar *osqd_system_machine_id_to_uuid(const gchar *text);

G_END_DECLS
