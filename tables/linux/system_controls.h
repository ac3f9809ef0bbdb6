/* SPDX-License-Identifier: Apache-2.0
 *
 * Pure helpers of the system_controls table: the sysctl.d(5) configuration model (names,
 * globs, which assignment wins) and the LIKE-prefix test that prunes the /proc/sys walk.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _OsqdSystemControlsConfig OsqdSystemControlsConfig;

OsqdSystemControlsConfig *osqd_system_controls_config_new(void);
void osqd_system_controls_config_free(OsqdSystemControlsConfig *config);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(OsqdSystemControlsConfig, osqd_system_controls_config_free)

/* Adds the "key = value" lines of one file; a later assignment of the same key wins. Comments
 * ('#', ';'), blank lines and lines without '=' are skipped. */
void osqd_system_controls_config_parse(OsqdSystemControlsConfig *config, const gchar *text);

/* The configured value of a dotted name: an explicit assignment, else the last glob
 * (net.ipv4.conf.*.rp_filter) that matches; NULL if none. */
const gchar *osqd_system_controls_config_lookup(OsqdSystemControlsConfig *config,
                                                const gchar *name);

/* A configuration key as a dotted name: the leading '-' (ignore errors) dropped and '/'
 * separators ("kernel/sysrq") turned into dots. */
gchar *osqd_system_controls_normalize_key(const gchar *key);

/* FALSE when no name below the directory @dotted (or, with @is_leaf, no name equal to
 * @dotted) can match the SQL LIKE @pattern, judged on its literal prefix, ignoring ASCII
 * case as LIKE does. */
gboolean osqd_system_controls_like_may_match(const gchar *pattern, const gchar *dotted,
                                             gboolean is_leaf);

G_END_DECLS
