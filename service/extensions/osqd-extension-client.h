/* SPDX-License-Identifier: Apache-2.0
 *
 * Calls from the daemon into an extension's socket (<manager socket>.<uuid>), as osquery's core
 * makes them: connect, one call, close. An extension is untrusted: every wait has a deadline, the
 * reply has a size cap, a check function is polled while waiting (so a query's cancel or deadline
 * ends a call into a hung extension), and a reply that is not a well-formed answer to the call
 * is an error, never a crash.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* FALSE (with @error) stops the call: the query was cancelled or passed its deadline. */
typedef gboolean (*OsqdExtensionCheckFunc)(gpointer user_data, GError **error);

typedef struct {
	gint64 deadline; /* monotonic microseconds */
	gsize max_reply; /* bytes; a longer reply is an OSQ_ERROR_LIMIT error */
	/* monotonic microseconds: an extension binds its socket after it registered, so until
	 * then a missing socket (or one nobody listens on yet) is waited for; 0: fail at once */
	gint64 bind_deadline;
	OsqdExtensionCheckFunc check;
	gpointer check_data;
} OsqdExtensionCallOptions;

/* Called for each row of an ExtensionResponse: row_begin, then cell for each of its entries. */
typedef struct {
	gboolean (*row_begin)(gpointer user_data, GError **error);
	gboolean (*cell)(const gchar *key, gsize key_len, const gchar *value, gsize value_len,
	                 gpointer user_data, GError **error);
	gpointer user_data;
} OsqdExtensionRowVisitor;

/* Sends @request (a complete CALL message) to the socket at @path and returns the reply message
 * (the caller parses it). */
GBytes *osqd_extension_roundtrip(const gchar *path, const GByteArray *request,
                                 const OsqdExtensionCallOptions *options, GError **error);

/* ping(): TRUE unless the extension is unreachable or answers status code 1 (osquery counts
 * only code 1 as a failed ping). */
gboolean osqd_extension_ping(const gchar *path, gint64 deadline, GError **error);

/* shutdown(): a two-way call; errors only say the extension did not answer. */
gboolean osqd_extension_shutdown(const gchar *path, gint64 deadline, GError **error);

/* call(@registry, @item, @request (string -> string)): the status code and message are
 * returned, and each response row goes through @visitor (rows are only read when the code is
 * 0). FALSE for transport and protocol errors. */
gboolean osqd_extension_call(const gchar *path, const gchar *registry, const gchar *item,
                             GHashTable *request, const OsqdExtensionCallOptions *options,
                             const OsqdExtensionRowVisitor *visitor, gint32 *code, gchar **message,
                             GError **error);

/* Parses an ExtensionResponse reply to @method with @seqid (exposed for tests). */
gboolean osqd_extension_parse_response(const guint8 *data, gsize len, const gchar *method,
                                       gint32 seqid, const OsqdExtensionRowVisitor *visitor,
                                       gint32 *code, gchar **message, GError **error);

G_END_DECLS
