/* SPDX-License-Identifier: Apache-2.0
 *
 * The wire side of the extension methods: decoding registerExtension, deregisterExtension and
 * call arguments, and encoding extensions() and row replies. Pure functions over buffers, so
 * the handler's methods stay short and the decoders can be fed garbage in tests.
 */
#pragma once

#include <glib.h>

#include "osqd-extensions.h"

G_BEGIN_DECLS

/* registerExtension(1: InternalExtensionInfo info, 2: ExtensionRegistry registry): *@registry
 * maps registry -> (item -> GPtrArray of GHashTable routes). */
gboolean osqd_rpc_read_register_args(const guint8 *args, gsize len, OsqdExtensionInfo *info,
                                     GHashTable **registry, GError **error);
/* deregisterExtension(1: i64 uuid) */
gboolean osqd_rpc_read_deregister_args(const guint8 *args, gsize len, gint64 *uuid, GError **error);
/* call(1: string registry, 2: string item, 3: map<string,string> request) */
gboolean osqd_rpc_read_call_args(const guint8 *args, gsize len, gchar **registry, gchar **item,
                                 GHashTable **request, GError **error);

/* A reply whose result is an ExtensionStatus. */
void osqd_rpc_write_status_reply(GByteArray *out, const gchar *name, gint32 seqid, gint32 code,
                                 const gchar *message, gint64 uuid);
/* extensions(): map<i64, InternalExtensionInfo> from OsqdExtensionEntry items. */
void osqd_rpc_write_extensions_reply(GByteArray *out, const gchar *name, gint32 seqid,
                                     GPtrArray *entries);
/* An ExtensionResponse with @rows (GHashTable string -> string each; NULL: none). */
void osqd_rpc_write_rows_reply(GByteArray *out, const gchar *name, gint32 seqid, gint32 code,
                               const gchar *message, GPtrArray *rows);

G_END_DECLS
