/* SPDX-License-Identifier: Apache-2.0
 *
 * The ExtensionManager (and OsqManager) request handler, independent of sockets: a session
 * takes one complete Thrift message and appends the reply to a buffer, so the wire behaviour is
 * unit-testable byte for byte. The handler holds what all connections share (registry, limits,
 * hooks); a session holds one connection's peer and its own engine, created on first use, and
 * at most one open queryStart cursor whose next page it can compute ahead of the request.
 */
#pragma once

#include <sys/types.h>

#include "osqd-engine.h"
#include "osqd-extensions.h"
#include "osqd-peer.h"

G_BEGIN_DECLS

/* Privileged actions a peer may be refused. */
typedef enum {
	OSQD_RPC_ACCESS_SHUTDOWN,
	OSQD_RPC_ACCESS_REGISTER_EXTENSION,
} OsqdRpcAccess;

/* The access-policy seam: TRUE allows @access for @peer; FALSE with an error (its message
 * goes to the client) refuses it. Without a function only uid 0 is allowed. */
typedef gboolean (*OsqdRpcAccessFunc)(const OsqdPeer *peer, OsqdRpcAccess access,
                                      gpointer user_data, GError **error);
/* Called once per connection right after its engine is created, e.g. to install the policy's
 * table-read check for @peer on the engine. FALSE fails the request with the error. */
typedef gboolean (*OsqdRpcEngineSetupFunc)(OsqdEngine *engine, const OsqdPeer *peer,
                                           gpointer user_data, GError **error);

/* One options() entry; the function returns a new array of OsqdRpcOption (freed with
 * osqd_rpc_option_free). */
typedef struct {
	gchar *name;
	gchar *value;
	gchar *default_value;
	gchar *type;
} OsqdRpcOption;
typedef GPtrArray *(*OsqdRpcOptionsFunc)(gpointer user_data);
OsqdRpcOption *osqd_rpc_option_new(const gchar *name, const gchar *value,
                                   const gchar *default_value, const gchar *type);
void osqd_rpc_option_free(OsqdRpcOption *option);

typedef struct {
	guint query_timeout_ms;  /* 0: none */
	guint64 query_max_rows;  /* 0: none */
	guint64 query_max_bytes; /* 0: none */
} OsqdRpcLimits;

typedef struct _OsqdRpcHandler OsqdRpcHandler;
typedef struct _OsqdRpcSession OsqdRpcSession;

OsqdRpcHandler *osqd_rpc_handler_new(OsqdRegistry *registry, const OsqdRpcLimits *limits);
void osqd_rpc_handler_free(OsqdRpcHandler *handler);
void osqd_rpc_handler_set_access_func(OsqdRpcHandler *handler, OsqdRpcAccessFunc func,
                                      gpointer user_data);
void osqd_rpc_handler_set_engine_setup_func(OsqdRpcHandler *handler, OsqdRpcEngineSetupFunc func,
                                            gpointer user_data);
void osqd_rpc_handler_set_options_func(OsqdRpcHandler *handler, OsqdRpcOptionsFunc func,
                                       gpointer user_data);
const OsqdRpcLimits *osqd_rpc_handler_get_limits(OsqdRpcHandler *handler);
/* The extension manager behind registerExtension, deregisterExtension, extensions() and call();
 * without one (the default, and --disable_extensions) registration is refused. Not owned. */
void osqd_rpc_handler_set_extensions(OsqdRpcHandler *handler, OsqdExtensions *extensions);
/* While a gate message is set (e.g. "waiting for required extensions"), every query fails with
 * it; registration, ping and the other methods go on. NULL opens the gate. */
void osqd_rpc_handler_set_gate(OsqdRpcHandler *handler, const gchar *message);

/* Tells the server when a session starts and ends work that may take long (a query), so a
 * watchdog can cancel it when the client goes away. Returning FALSE from begin refuses the
 * work (the daemon is stopping). */
typedef gboolean (*OsqdRpcBusyFunc)(OsqdRpcSession *session, gboolean busy, gpointer user_data);

OsqdRpcSession *osqd_rpc_session_new(OsqdRpcHandler *handler, const OsqdPeer *peer);
void osqd_rpc_session_free(OsqdRpcSession *session);
void osqd_rpc_session_set_busy_func(OsqdRpcSession *session, OsqdRpcBusyFunc func,
                                    gpointer user_data);
const OsqdPeer *osqd_rpc_session_get_peer(OsqdRpcSession *session);

/* Handles one complete message (as found by osq_thrift_message_scan) and appends its reply to
 * @reply (nothing for a ONEWAY message). FALSE means the message was malformed or of the wrong
 * type: the connection should be closed. */
gboolean osqd_rpc_session_handle(OsqdRpcSession *session, const guint8 *message, gsize length,
                                 GByteArray *reply, GError **error);
/* Whether the session has work to do before the next request: the next page of an open
 * queryStart cursor. The server calls osqd_rpc_session_work() right after writing a reply, so
 * the page is computed while the client reads the previous one; the session is busy meanwhile
 * (the watchdog can cancel it). */
gboolean osqd_rpc_session_has_work(OsqdRpcSession *session);
void osqd_rpc_session_work(OsqdRpcSession *session);
/* Whether the last message was a permitted shutdown(); the caller shuts the daemon down once
 * the reply is written. */
gboolean osqd_rpc_session_shutdown_requested(OsqdRpcSession *session);
/* Cancels the running query, if any; callable from any thread while the session is busy. */
void osqd_rpc_session_interrupt(OsqdRpcSession *session);
/* Whether the last query ended because of osqd_rpc_session_interrupt(). */
gboolean osqd_rpc_session_was_interrupted(OsqdRpcSession *session);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(OsqdRpcHandler, osqd_rpc_handler_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(OsqdRpcSession, osqd_rpc_session_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(OsqdRpcOption, osqd_rpc_option_free)

G_END_DECLS
