/* SPDX-License-Identifier: Apache-2.0
 *
 * The threaded Thrift server on a Unix stream socket: an accept thread, one worker thread per
 * connection (capped) with its own session and engine, and a watchdog thread that cancels the
 * query of a client that hung up and answers connections over the cap. Requests are unframed
 * binary-protocol messages, delimited with osq_thrift_message_scan().
 */
#pragma once

#include "osqd-rpc-handler.h"

G_BEGIN_DECLS

typedef struct {
	const gchar *socket_path;
	guint socket_mode;     /* permission bits applied after bind */
	gint socket_gid;       /* group applied after bind; -1 keeps the daemon's */
	guint max_connections; /* served at once; more get an error and are closed */
	gsize max_message;     /* largest request; a larger one closes the connection */
	guint idle_timeout_s; /* before the first request, and for one request to arrive; 0: none */
} OsqdRpcServerConfig;

typedef struct _OsqdRpcServer OsqdRpcServer;

/* Called on a worker thread after the reply to a permitted shutdown() was written. */
typedef void (*OsqdRpcShutdownFunc)(gpointer user_data);

/* @handler must outlive the server. */
OsqdRpcServer *osqd_rpc_server_new(const OsqdRpcServerConfig *config, OsqdRpcHandler *handler);
void osqd_rpc_server_set_shutdown_func(OsqdRpcServer *server, OsqdRpcShutdownFunc func,
                                       gpointer user_data);
/* Binds the socket (removing a stale one; refusing when another daemon answers on it), applies
 * mode and group, listens and starts the threads. */
gboolean osqd_rpc_server_start(OsqdRpcServer *server, GError **error);
/* Stops accepting, removes the socket, cancels running queries, closes every connection and
 * joins all threads. Idempotent. */
void osqd_rpc_server_stop(OsqdRpcServer *server);
/* Stops (if needed) and frees. NULL is fine. */
void osqd_rpc_server_free(OsqdRpcServer *server);

/* Connections being served right now. */
guint osqd_rpc_server_get_n_connections(OsqdRpcServer *server);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(OsqdRpcServer, osqd_rpc_server_free)

G_END_DECLS
