/* SPDX-License-Identifier: Apache-2.0
 *
 * The access policy of osqd: who (a peer's uid, gid and supplementary groups) may read which
 * tables and columns, and who may shut the daemon down or register extensions. A policy is
 * immutable once loaded, so worker threads may ask it questions concurrently. uid 0 is always
 * allowed everything: no policy can restrict root. Denials are OSQ_ERROR_PERMISSION_DENIED errors
 * naming the uid and the table (and column); logging them is the caller's job.
 * The semantics and the file format are described in docs/access-policy.md.
 */
#pragma once

#include <glib.h>

#include "osqd-peer.h"
#include "osqd-table.h"

G_BEGIN_DECLS

typedef enum {
	OSQD_POLICY_ACTION_SHUTDOWN,
	OSQD_POLICY_ACTION_REGISTER_EXTENSION,
} OsqdPolicyAction;

typedef struct _OsqdPolicy OsqdPolicy;

/* The built-in policy: root may do everything; everyone else may read every table except
 * sensitive tables and columns, and may not shut down osqd or register extensions. */
OsqdPolicy *osqd_policy_new_default(void);
/* Reads a policy file (TOML, at most 1 MiB; an empty file means the built-in policy). Errors
 * (OSQ_ERROR_INVALID_ARGUMENT, OSQ_ERROR_NOT_FOUND, OSQ_ERROR_IO, OSQ_ERROR_LIMIT) start with
 * "@path: line N: " and name the key at fault. */
OsqdPolicy *osqd_policy_load(const gchar *path, GError **error);
/* The same from text in memory; @origin names it in messages and in osqd_policy_describe(). */
OsqdPolicy *osqd_policy_load_from_data(const gchar *data, gsize len, const gchar *origin,
                                       GError **error);
void osqd_policy_free(OsqdPolicy *policy);
/* A human-readable account of the rules, several lines, for logs and --help style output. */
gchar *osqd_policy_describe(OsqdPolicy *policy);

/* May @peer read @table (@column = -1) or the given column of it? FALSE with
 * OSQ_ERROR_PERMISSION_DENIED when not. */
/* Whether @peer may read sensitive data (root, or a rule with sensitive = true): such a peer is
 * "privileged" for the tables too (osqd_engine_set_privileged()). */
gboolean osqd_policy_may_read_sensitive(OsqdPolicy *policy, const OsqdPeer *peer);
gboolean osqd_policy_may_read(OsqdPolicy *policy, const OsqdPeer *peer, const OsqdTable *table,
                              gint column, GError **error);
/* May @peer do @action? FALSE with OSQ_ERROR_PERMISSION_DENIED when not. */
gboolean osqd_policy_may(OsqdPolicy *policy, const OsqdPeer *peer, OsqdPolicyAction action,
                         GError **error);

/* Ties a policy to one connection's engine:
 *   OsqdPolicyAccess access = { policy, peer };
 *   osqd_engine_set_access_func(engine, osqd_policy_access_cb, access, g_free);
 * Both pointers are borrowed and must stay valid while the engine prepares statements. */
typedef struct {
	OsqdPolicy *policy;
	const OsqdPeer *peer;
} OsqdPolicyAccess;

/* An OsqdEngineAccessFunc: osqd_policy_may_read() for the OsqdPolicyAccess in @user_data. */
gboolean osqd_policy_access_cb(const OsqdTable *table, gint column, gpointer user_data,
                               GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(OsqdPolicy, osqd_policy_free)

G_END_DECLS
