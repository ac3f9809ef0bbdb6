/* SPDX-License-Identifier: Apache-2.0
 *
 * Method dispatch for the manager socket. Every method's arguments are read with one tolerant
 * reader (field 1 as a string is the SQL; every other field is skipped, as Thrift readers do),
 * the reply echoes the call's name and sequence id, and an unknown name gets osquery's
 * TApplicationException UNKNOWN_METHOD. The engine of a session is created on its first SQL
 * call, so connections that only ping (extensions) cost no SQLite connection. queryStart leaves
 * a cursor in the session when rows remain; the server asks for its next page right after
 * writing a reply (read-ahead, as busy work the watchdog can cancel), queryNext sends that
 * page, and any other call finalizes the cursor first.
 */
#include "config.h"

#include "osqd-rpc-handler.h"

#include <sqlite3.h>
#include <string.h>

#include "events/events.h"
#include "osq-error.h"
#include "osq-thrift.h"
#include "osqd-rpc-extensions.h"
#include "osqd-rpc-query.h"

#define OSQD_RPC_EXTENSIONS_DISABLED "extensions are disabled (--disable_extensions)"

struct _OsqdRpcHandler {
	OsqdRegistry *registry;
	OsqdRpcLimits limits;
	OsqdRpcAccessFunc access_func;
	gpointer access_data;
	OsqdRpcEngineSetupFunc engine_setup_func;
	gpointer engine_setup_data;
	OsqdRpcOptionsFunc options_func;
	gpointer options_data;
	OsqdExtensions *extensions; /* NULL: the extension API is off */
	GMutex gate_mutex;
	gchar *gate; /* while set, queries are refused with this message */
};

struct _OsqdRpcSession {
	OsqdRpcHandler *handler;
	OsqdPeer *peer;
	OsqdEngine *engine;
	gint cancelled;   /* atomic: stop the running query */
	gint interrupted; /* atomic: the last query was interrupted */
	gboolean shutdown_requested;
	OsqdRpcBusyFunc busy_func;
	gpointer busy_data;
	OsqdRpcCursor *cursor; /* queryStart's open statement, until its last page */
};

/* One decoded call. */
typedef struct {
	const gchar *name;
	gint32 seqid;
	const gchar *sql;   /* field 1 when it is a string; "" otherwise */
	gint32 page_rows;   /* field 2 when it is an i32 (queryStart); 0 otherwise */
	const guint8 *args; /* the arguments struct, for methods that decode it themselves */
	gsize args_len;
} OsqdRpcCall;

typedef void (*OsqdRpcMethodFunc)(OsqdRpcSession *session, const OsqdRpcCall *call,
                                  GByteArray *reply);

/* ---- options ---- */

OsqdRpcOption *
osqd_rpc_option_new(const gchar *name, const gchar *value, const gchar *default_value,
                    const gchar *type)
{
	OsqdRpcOption *option = g_new0(OsqdRpcOption, 1);

	option->name = g_strdup(name);
	option->value = g_strdup(value);
	option->default_value = g_strdup(default_value);
	option->type = g_strdup(type);
	return option;
}

void
osqd_rpc_option_free(OsqdRpcOption *option)
{
	if (option == NULL)
		return;
	g_free(option->name);
	g_free(option->value);
	g_free(option->default_value);
	g_free(option->type);
	g_free(option);
}

/* ---- handler ---- */

OsqdRpcHandler *
osqd_rpc_handler_new(OsqdRegistry *registry, const OsqdRpcLimits *limits)
{
	OsqdRpcHandler *handler = g_new0(OsqdRpcHandler, 1);

	handler->registry = osqd_registry_ref(registry);
	handler->limits = *limits;
	g_mutex_init(&handler->gate_mutex);
	return handler;
}

void
osqd_rpc_handler_free(OsqdRpcHandler *handler)
{
	if (handler == NULL)
		return;
	osqd_registry_unref(handler->registry);
	g_free(handler->gate);
	g_mutex_clear(&handler->gate_mutex);
	g_free(handler);
}

void
osqd_rpc_handler_set_gate(OsqdRpcHandler *handler, const gchar *message)
{
	g_mutex_lock(&handler->gate_mutex);
	g_free(handler->gate);
	handler->gate = g_strdup(message);
	g_mutex_unlock(&handler->gate_mutex);
}

void
osqd_rpc_handler_set_extensions(OsqdRpcHandler *handler, OsqdExtensions *extensions)
{
	handler->extensions = extensions;
}

void
osqd_rpc_handler_set_access_func(OsqdRpcHandler *handler, OsqdRpcAccessFunc func,
                                 gpointer user_data)
{
	handler->access_func = func;
	handler->access_data = user_data;
}

void
osqd_rpc_handler_set_engine_setup_func(OsqdRpcHandler *handler, OsqdRpcEngineSetupFunc func,
                                       gpointer user_data)
{
	handler->engine_setup_func = func;
	handler->engine_setup_data = user_data;
}

void
osqd_rpc_handler_set_options_func(OsqdRpcHandler *handler, OsqdRpcOptionsFunc func,
                                  gpointer user_data)
{
	handler->options_func = func;
	handler->options_data = user_data;
}

const OsqdRpcLimits *
osqd_rpc_handler_get_limits(OsqdRpcHandler *handler)
{
	return &handler->limits;
}

/* ---- session ---- */

OsqdRpcSession *
osqd_rpc_session_new(OsqdRpcHandler *handler, const OsqdPeer *peer)
{
	OsqdRpcSession *session = g_new0(OsqdRpcSession, 1);

	session->handler = handler;
	session->peer = osqd_peer_copy(peer);
	return session;
}

void
osqd_rpc_session_free(OsqdRpcSession *session)
{
	if (session == NULL)
		return;
	osqd_rpc_cursor_free(session->cursor);
	osqd_engine_free(session->engine);
	osqd_peer_free(session->peer);
	g_free(session);
}

void
osqd_rpc_session_set_busy_func(OsqdRpcSession *session, OsqdRpcBusyFunc func, gpointer user_data)
{
	session->busy_func = func;
	session->busy_data = user_data;
}

const OsqdPeer *
osqd_rpc_session_get_peer(OsqdRpcSession *session)
{
	return session->peer;
}

gboolean
osqd_rpc_session_shutdown_requested(OsqdRpcSession *session)
{
	return session->shutdown_requested;
}

void
osqd_rpc_session_interrupt(OsqdRpcSession *session)
{
	g_atomic_int_set(&session->cancelled, 1);
	g_atomic_int_set(&session->interrupted, 1);
	if (session->engine != NULL)
		osqd_engine_interrupt(session->engine);
}

gboolean
osqd_rpc_session_was_interrupted(OsqdRpcSession *session)
{
	return g_atomic_int_get(&session->interrupted);
}

static gboolean
session_ensure_engine(OsqdRpcSession *session, GError **error)
{
	OsqdRpcHandler *handler = session->handler;
	g_autoptr(OsqdEngine) engine = NULL;

	if (session->engine != NULL)
		return TRUE;
	engine = osqd_engine_new(handler->registry, error);
	if (engine == NULL)
		return FALSE;
	if (handler->engine_setup_func != NULL &&
	    !handler->engine_setup_func(engine, session->peer, handler->engine_setup_data, error))
		return FALSE;
	session->engine = g_steal_pointer(&engine);
	return TRUE;
}

/* ---- methods ---- */

static void
method_ping(OsqdRpcSession *session, const OsqdRpcCall *call, GByteArray *reply)
{
	osq_thrift_write_message_begin(reply, call->name, OSQ_THRIFT_REPLY, call->seqid);
	osqd_rpc_write_status(reply, 0, 0, "pong");
	osq_thrift_write_field_stop(reply);
}

static gboolean
session_access(OsqdRpcSession *session, OsqdRpcAccess access, GError **error)
{
	OsqdRpcHandler *handler = session->handler;

	if (handler->access_func != NULL)
		return handler->access_func(session->peer, access, handler->access_data, error);
	if (session->peer->uid == 0)
		return TRUE;
	g_set_error_literal(error, OSQ_ERROR, OSQ_ERROR_PERMISSION_DENIED,
	                    access == OSQD_RPC_ACCESS_SHUTDOWN
	                            ? "permission denied: shutdown requires root"
	                            : "permission denied: registering extensions requires root");
	return FALSE;
}

static void
method_shutdown(OsqdRpcSession *session, const OsqdRpcCall *call, GByteArray *reply)
{
	g_autoptr(GError) error = NULL;

	if (!session_access(session, OSQD_RPC_ACCESS_SHUTDOWN, &error)) {
		g_warning("refused shutdown from uid %u (pid %d): %s", (guint)session->peer->uid,
		          (gint)session->peer->pid, error->message);
		osq_thrift_write_application_exception(reply, call->name, call->seqid,
		                                       OSQ_THRIFT_APP_INTERNAL_ERROR,
		                                       error->message);
		return;
	}
	g_message("shutdown requested by uid %u (pid %d)", (guint)session->peer->uid,
	          (gint)session->peer->pid);
	session->shutdown_requested = TRUE;
	osq_thrift_write_message_begin(reply, call->name, OSQ_THRIFT_REPLY, call->seqid);
	osq_thrift_write_field_stop(reply);
}

static void
method_extensions(OsqdRpcSession *session, const OsqdRpcCall *call, GByteArray *reply)
{
	g_autoptr(GPtrArray) entries = NULL;

	if (session->handler->extensions != NULL)
		entries = osqd_extensions_list(session->handler->extensions);
	osqd_rpc_write_extensions_reply(reply, call->name, call->seqid, entries);
}

static void
method_options(OsqdRpcSession *session, const OsqdRpcCall *call, GByteArray *reply)
{
	OsqdRpcHandler *handler = session->handler;
	g_autoptr(GPtrArray) options = NULL;

	if (handler->options_func != NULL)
		options = handler->options_func(handler->options_data);
	if (options == NULL)
		options = g_ptr_array_new_with_free_func((GDestroyNotify)osqd_rpc_option_free);
	osq_thrift_write_message_begin(reply, call->name, OSQ_THRIFT_REPLY, call->seqid);
	osq_thrift_write_field_begin(reply, OSQ_THRIFT_MAP, 0);
	osq_thrift_write_map_begin(reply, OSQ_THRIFT_STRING, OSQ_THRIFT_STRUCT,
	                           (gint32)options->len);
	for (guint i = 0; i < options->len; i++) {
		const OsqdRpcOption *option = options->pdata[i];
		osq_thrift_write_string(reply, option->name);
		osq_thrift_write_field_begin(reply, OSQ_THRIFT_STRING, 1);
		osq_thrift_write_string(reply, option->value);
		osq_thrift_write_field_begin(reply, OSQ_THRIFT_STRING, 2);
		osq_thrift_write_string(reply, option->default_value);
		osq_thrift_write_field_begin(reply, OSQ_THRIFT_STRING, 3);
		osq_thrift_write_string(reply, option->type);
		osq_thrift_write_field_stop(reply);
	}
	osq_thrift_write_field_stop(reply);
}

static void
method_register_extension(OsqdRpcSession *session, const OsqdRpcCall *call, GByteArray *reply)
{
	OsqdExtensions *extensions = session->handler->extensions;
	g_autoptr(GError) error = NULL;
	g_autoptr(GHashTable) registry = NULL;
	OsqdExtensionInfo info = { 0 };
	gint64 uuid = 0;

	if (extensions == NULL) {
		osqd_rpc_write_status_reply(reply, call->name, call->seqid, 1,
		                            OSQD_RPC_EXTENSIONS_DISABLED, 0);
		return;
	}
	if (!session_access(session, OSQD_RPC_ACCESS_REGISTER_EXTENSION, &error)) {
		g_warning("refused an extension registration from uid %u (pid %d): %s",
		          (guint)session->peer->uid, (gint)session->peer->pid, error->message);
		osqd_rpc_write_status_reply(reply, call->name, call->seqid, 1, error->message, 0);
		return;
	}
	if (!osqd_rpc_read_register_args(call->args, call->args_len, &info, &registry, &error) ||
	    !osqd_extensions_register(extensions, &info, registry, &uuid, &error)) {
		g_message("refused extension %s from uid %u (pid %d): %s",
		          info.name != NULL ? info.name : "?", (guint)session->peer->uid,
		          (gint)session->peer->pid, error->message);
		osqd_rpc_write_status_reply(reply, call->name, call->seqid, 1, error->message, 0);
		osqd_extension_info_clear(&info);
		return;
	}
	g_message("registered extension %s %s (uuid %" G_GINT64_FORMAT ") for uid %u (pid %d)",
	          info.name, info.version != NULL ? info.version : "", uuid,
	          (guint)session->peer->uid, (gint)session->peer->pid);
	osqd_extension_info_clear(&info);
	osqd_rpc_write_status_reply(reply, call->name, call->seqid, 0, "OK", uuid);
}

static void
method_deregister_extension(OsqdRpcSession *session, const OsqdRpcCall *call, GByteArray *reply)
{
	OsqdExtensions *extensions = session->handler->extensions;
	g_autoptr(GError) error = NULL;
	gint64 uuid = 0;

	if (extensions == NULL) {
		osqd_rpc_write_status_reply(reply, call->name, call->seqid, 1,
		                            OSQD_RPC_EXTENSIONS_DISABLED, 0);
		return;
	}
	/* removing someone's tables is as privileged as adding them */
	if (!session_access(session, OSQD_RPC_ACCESS_REGISTER_EXTENSION, &error) ||
	    !osqd_rpc_read_deregister_args(call->args, call->args_len, &uuid, &error) ||
	    !osqd_extensions_deregister(extensions, uuid, &error)) {
		osqd_rpc_write_status_reply(reply, call->name, call->seqid, 1, error->message, 0);
		return;
	}
	g_message("deregistered extension uuid %" G_GINT64_FORMAT, uuid);
	/* osquery answers with the manager's uuid, 0 */
	osqd_rpc_write_status_reply(reply, call->name, call->seqid, 0, "OK", 0);
}

typedef void (*OsqdRpcQueryWriter)(OsqdRpcQueryRun *run, const gchar *name, gint32 seqid,
                                   const gchar *sql, GByteArray *out);

typedef enum {
	OSQD_RPC_ERROR_RESPONSE, /* an ExtensionResponse */
	OSQD_RPC_ERROR_TYPED,    /* a QueryResult */
	OSQD_RPC_ERROR_PAGE,     /* a last QueryPage */
} OsqdRpcErrorKind;

/* Starts work that may take long: the session is busy (so the watchdog can cancel it) until
 * session_work_end(). */
static gboolean
session_work_begin(OsqdRpcSession *session, OsqdRpcQueryRun *run, GError **error)
{
	OsqdRpcHandler *handler = session->handler;

	g_mutex_lock(&handler->gate_mutex);
	if (handler->gate != NULL) {
		g_set_error_literal(error, OSQ_ERROR, OSQ_ERROR_FAILED, handler->gate);
		g_mutex_unlock(&handler->gate_mutex);
		return FALSE;
	}
	g_mutex_unlock(&handler->gate_mutex);
	if (!session_ensure_engine(session, error)) {
		g_warning("cannot open an engine for uid %u (pid %d): %s",
		          (guint)session->peer->uid, (gint)session->peer->pid, (*error)->message);
		return FALSE;
	}
	/* cleared before the watchdog can see the session busy, so no cancel is lost */
	g_atomic_int_set(&session->cancelled, 0);
	g_atomic_int_set(&session->interrupted, 0);
	if (session->busy_func != NULL && !session->busy_func(session, TRUE, session->busy_data)) {
		g_set_error_literal(error, OSQ_ERROR, OSQ_ERROR_CANCELLED, "osqd is shutting down");
		return FALSE;
	}
	run->engine = session->engine;
	run->limits = &session->handler->limits;
	run->cancelled = &session->cancelled;
	return TRUE;
}

static void
session_work_end(OsqdRpcSession *session)
{
	if (session->busy_func != NULL)
		(void)session->busy_func(session, FALSE, session->busy_data);
}

static void
session_write_error(GByteArray *reply, const OsqdRpcCall *call, OsqdRpcErrorKind kind,
                    const gchar *message)
{
	if (kind == OSQD_RPC_ERROR_TYPED)
		osqd_rpc_write_typed_error_reply(reply, call->name, call->seqid, message);
	else if (kind == OSQD_RPC_ERROR_PAGE)
		osqd_rpc_write_page_error_reply(reply, call->name, call->seqid, message);
	else
		osqd_rpc_write_response_reply(reply, call->name, call->seqid, 1, message);
}

static void
method_sql(OsqdRpcSession *session, const OsqdRpcCall *call, GByteArray *reply,
           OsqdRpcQueryWriter writer, gboolean typed)
{
	g_autoptr(GError) error = NULL;
	OsqdRpcQueryRun run = { 0 };

	if (!session_work_begin(session, &run, &error)) {
		session_write_error(reply, call,
		                    typed ? OSQD_RPC_ERROR_TYPED : OSQD_RPC_ERROR_RESPONSE,
		                    error->message);
		return;
	}
	writer(&run, call->name, call->seqid, call->sql, reply);
	session_work_end(session);
}

/* The route info of a registry table, as the "columns" action answers it. */
static GPtrArray *
call_table_routes(const OsqdTable *table)
{
	GPtrArray *rows = g_ptr_array_new_with_free_func((GDestroyNotify)g_hash_table_unref);

	for (guint i = 0; i < table->n_columns; i++) {
		GHashTable *route = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
		g_hash_table_insert(route, "id", g_strdup("column"));
		g_hash_table_insert(route, "name", g_strdup(table->columns[i].name));
		g_hash_table_insert(route, "type",
		                    g_strdup(osqd_column_type_to_string(table->columns[i].type)));
		g_hash_table_insert(route, "op",
		                    g_strdup_printf("%u", table->columns[i].flags & 0x1f));
		g_ptr_array_add(rows, route);
	}
	return rows;
}

/* call("table", name, {action}): through SQL, so the access policy decides as for a query. */
static void
call_table(OsqdRpcSession *session, const OsqdRpcCall *call, const gchar *item, GHashTable *request,
           GByteArray *reply)
{
	const gchar *action = g_hash_table_lookup(request, "action");
	const OsqdTable *table = osqd_registry_lookup_ref(session->handler->registry, item);
	OsqdRpcCall query = *call;
	g_autofree gchar *sql = NULL;

	if (table == NULL) {
		g_autofree gchar *message = g_strdup_printf("Cannot call registry item: %s", item);
		osqd_rpc_write_rows_reply(reply, call->name, call->seqid, 1, message, NULL);
		return;
	}
	if (g_strcmp0(action, "columns") == 0) {
		g_autoptr(GPtrArray) routes = call_table_routes(table);
		osqd_table_unref(table);
		osqd_rpc_write_rows_reply(reply, call->name, call->seqid, 0, "OK", routes);
		return;
	}
	if (g_strcmp0(action, "generate") != 0) {
		g_autofree gchar *message = g_strdup_printf("Unknown table plugin action: %s",
		                                            action != NULL ? action : "");
		osqd_table_unref(table);
		osqd_rpc_write_rows_reply(reply, call->name, call->seqid, 1, message, NULL);
		return;
	}
	sql = g_strdup_printf("SELECT * FROM \"%s\"", table->name);
	osqd_table_unref(table);
	query.sql = sql;
	method_sql(session, &query, reply, osqd_rpc_query_write_reply, FALSE);
}

/* call(registry, item, request): tables through SQL; config, logger and distributed plugins on
 * the extension that registered them (a privileged act: they feed the daemon's config and logs). */
static void
method_call(OsqdRpcSession *session, const OsqdRpcCall *call, GByteArray *reply)
{
	OsqdExtensions *extensions = session->handler->extensions;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *registry = NULL;
	g_autofree gchar *item = NULL;
	g_autofree gchar *message = NULL;
	g_autoptr(GHashTable) request = NULL;
	g_autoptr(GPtrArray) rows = NULL;
	gint32 code = 1;

	if (!osqd_rpc_read_call_args(call->args, call->args_len, &registry, &item, &request,
	                             &error)) {
		osqd_rpc_write_rows_reply(reply, call->name, call->seqid, 1, error->message, NULL);
		return;
	}
	if (g_strcmp0(registry, "table") == 0) {
		call_table(session, call, item, request, reply);
		return;
	}
	if (g_strcmp0(registry, "config") != 0 && g_strcmp0(registry, "logger") != 0 &&
	    g_strcmp0(registry, "distributed") != 0) {
		message = g_strdup_printf("Unknown registry requested: %s", registry);
		osqd_rpc_write_rows_reply(reply, call->name, call->seqid, 1, message, NULL);
		return;
	}
	if (!session_access(session, OSQD_RPC_ACCESS_REGISTER_EXTENSION, &error)) {
		osqd_rpc_write_rows_reply(reply, call->name, call->seqid, 1, error->message, NULL);
		return;
	}
	if (extensions == NULL || !osqd_extensions_call(extensions, registry, item, request, &rows,
	                                                &code, &message, &error)) {
		g_autofree gchar *text = g_strdup_printf(
		        "Cannot call registry item: %s%s%s", item, error != NULL ? ": " : "",
		        error != NULL && !g_error_matches(error, OSQ_ERROR, OSQ_ERROR_NOT_FOUND)
		                ? error->message
		                : "");
		osqd_rpc_write_rows_reply(reply, call->name, call->seqid, 1, text, NULL);
		return;
	}
	osqd_rpc_write_rows_reply(reply, call->name, call->seqid, code,
	                          message != NULL ? message : "", code == 0 ? rows : NULL);
}

static void
method_query_start(OsqdRpcSession *session, const OsqdRpcCall *call, GByteArray *reply)
{
	g_autoptr(GError) error = NULL;
	OsqdRpcQueryRun run = { 0 };

	/* the dispatcher closed an earlier cursor */
	if (!session_work_begin(session, &run, &error)) {
		session_write_error(reply, call, OSQD_RPC_ERROR_PAGE, error->message);
		return;
	}
	session->cursor = osqd_rpc_query_write_start_reply(&run, call->name, call->seqid, call->sql,
	                                                   call->page_rows, reply);
	session_work_end(session);
}

static void
method_query_next(OsqdRpcSession *session, const OsqdRpcCall *call, GByteArray *reply)
{
	g_autoptr(GError) error = NULL;
	OsqdRpcQueryRun run = { 0 };

	if (session->cursor == NULL) {
		session_write_error(reply, call, OSQD_RPC_ERROR_PAGE, "no query in progress");
		return;
	}
	/* the page is usually waiting (read-ahead); computing it is work like a query */
	if (!session_work_begin(session, &run, &error)) {
		g_clear_pointer(&session->cursor, osqd_rpc_cursor_free);
		session_write_error(reply, call, OSQD_RPC_ERROR_PAGE, error->message);
		return;
	}
	if (!osqd_rpc_cursor_write_reply(session->cursor, &run, call->name, call->seqid, reply))
		g_clear_pointer(&session->cursor, osqd_rpc_cursor_free);
	session_work_end(session);
}

gboolean
osqd_rpc_session_has_work(OsqdRpcSession *session)
{
	return session->cursor != NULL && osqd_rpc_cursor_wants_page(session->cursor);
}

void
osqd_rpc_session_work(OsqdRpcSession *session)
{
	g_autoptr(GError) error = NULL;
	OsqdRpcQueryRun run = { 0 };

	if (!osqd_rpc_session_has_work(session))
		return;
	if (!session_work_begin(session, &run, &error)) {
		/* shutting down: queryNext will say so */
		g_debug("no read-ahead: %s", error->message);
		return;
	}
	osqd_rpc_cursor_fill(session->cursor, &run);
	session_work_end(session);
}

static void
method_query(OsqdRpcSession *session, const OsqdRpcCall *call, GByteArray *reply)
{
	method_sql(session, call, reply, osqd_rpc_query_write_reply, FALSE);
}

static void
method_get_query_columns(OsqdRpcSession *session, const OsqdRpcCall *call, GByteArray *reply)
{
	method_sql(session, call, reply, osqd_rpc_query_write_columns_reply, FALSE);
}

static void
method_query_typed(OsqdRpcSession *session, const OsqdRpcCall *call, GByteArray *reply)
{
	method_sql(session, call, reply, osqd_rpc_query_write_typed_reply, TRUE);
}

/* ---- live follows: followStart, followPoll ---- */

#define FOLLOW_ROWS_DEFAULT 1000
#define FOLLOW_ROWS_MAX     100000
#define FOLLOW_TIMEOUT_MAX  60000

typedef struct {
	gboolean from_start; /* followStart field 2 */
	gint64 cursor;       /* followPoll field 2 */
	gint32 max_rows;     /* field 3 */
	gint32 timeout_ms;   /* field 4 */
} FollowArgs;

static gboolean
follow_read_args(const OsqdRpcCall *call, FollowArgs *args, GError **error)
{
	OsqThriftReader reader;

	osq_thrift_reader_init(&reader, call->args, call->args_len);
	for (;;) {
		OsqThriftType type;
		gint16 id;
		guint8 byte;

		if (!osq_thrift_read_field_begin(&reader, &type, &id, error))
			return FALSE;
		if (type == OSQ_THRIFT_STOP)
			return TRUE;
		if (id == 2 && type == OSQ_THRIFT_BOOL) {
			if (!osq_thrift_read_byte(&reader, &byte, error))
				return FALSE;
			args->from_start = byte != 0;
		} else if (id == 2 && type == OSQ_THRIFT_I64) {
			if (!osq_thrift_read_i64(&reader, &args->cursor, error))
				return FALSE;
		} else if (id == 3 && type == OSQ_THRIFT_I32) {
			if (!osq_thrift_read_i32(&reader, &args->max_rows, error))
				return FALSE;
		} else if (id == 4 && type == OSQ_THRIFT_I32) {
			if (!osq_thrift_read_i32(&reader, &args->timeout_ms, error))
				return FALSE;
		} else if (!osq_thrift_skip(&reader, type, error)) {
			return FALSE;
		}
	}
}

/* A follow is one statement: its cursor is the events that statement read. The statement is
 * only prepared here (the authorizer and the access policy see it when it runs). */
static gboolean
follow_check_sql(OsqdRpcQueryRun *run, const gchar *sql, gchar **statement, GError **error)
{
	sqlite3 *db = osqd_engine_get_database(run->engine);
	sqlite3_stmt *first = NULL;
	sqlite3_stmt *second = NULL;
	const gchar *tail = NULL;
	gboolean single;

	if (sqlite3_prepare_v2(db, sql, -1, &first, &tail) != SQLITE_OK) {
		*statement = g_strdup(sql); /* the run reports the error as any query would */
		return TRUE;
	}
	/* what follows the first statement may be blanks and comments, not a second one */
	single = first != NULL &&
	         (tail == NULL ||
	          (sqlite3_prepare_v2(db, tail, -1, &second, NULL) == SQLITE_OK && second == NULL));
	(void)sqlite3_finalize(first);
	(void)sqlite3_finalize(second);
	if (!single) {
		g_set_error_literal(error, OSQ_ERROR, OSQ_ERROR_INVALID_ARGUMENT,
		                    "a follow takes one SELECT statement");
		return FALSE;
	}
	/* without what trails it: an empty statement after it would reset the event counts */
	*statement = tail != NULL ? g_strndup(sql, (gsize)(tail - sql)) : g_strdup(sql);
	return TRUE;
}

/* Runs the follow query over the events after @cursor (at most @max_rows of them) into
 * @reply. */
static void
follow_run(OsqdRpcQueryRun *run, const OsqdRpcCall *call, const gchar *sql, gint64 cursor,
           gint64 max_rows, OsqdRpcFollowResult *result, GByteArray *reply)
{
	osqd_engine_set_events_since(run->engine, cursor);
	osqd_engine_set_events_limit(run->engine, max_rows);
	osqd_rpc_query_write_follow_reply(run, call->name, call->seqid, sql, result, reply);
	osqd_engine_set_events_since(run->engine, 0);
	osqd_engine_set_events_limit(run->engine, 0);
}

static void
method_follow_start(OsqdRpcSession *session, const OsqdRpcCall *call, GByteArray *reply)
{
	g_autoptr(GError) error = NULL;
	OsqdRpcQueryRun run = { 0 };
	OsqdRpcFollowResult result = { 0 };
	FollowArgs args = { 0 };
	g_autofree gchar *statement = NULL;
	gint64 newest;

	if (!follow_read_args(call, &args, &error) || !session_work_begin(session, &run, &error)) {
		session_write_error(reply, call, OSQD_RPC_ERROR_TYPED, error->message);
		return;
	}
	if (!follow_check_sql(&run, call->sql, &statement, &error)) {
		session_write_error(reply, call, OSQD_RPC_ERROR_TYPED, error->message);
		session_work_end(session);
		return;
	}
	newest = osqd_events_sync();
	if (newest < 0) {
		session_write_error(reply, call, OSQD_RPC_ERROR_TYPED,
		                    "live follows need osqd's event framework: run osqd with a "
		                    "config and without --disable_events");
		session_work_end(session);
		return;
	}
	/* the query runs over no event at all: it is checked, and its columns are known */
	result.cursor = args.from_start ? 0 : newest;
	follow_run(&run, call, statement, G_MAXINT64, 1, &result, reply);
	if (result.ok && osqd_engine_get_event_scans(run.engine) == 0) {
		g_byte_array_set_size(reply, 0);
		session_write_error(reply, call, OSQD_RPC_ERROR_TYPED,
		                    "a follow needs a query on an event table (file_events, "
		                    "process_events, hardware_events)");
	}
	session_work_end(session);
}

static void
method_follow_poll(OsqdRpcSession *session, const OsqdRpcCall *call, GByteArray *reply)
{
	g_autoptr(GError) error = NULL;
	OsqdRpcQueryRun run = { 0 };
	FollowArgs args = { 0 };
	g_autofree gchar *statement = NULL;
	gint64 deadline;
	gint64 max_rows;

	if (!follow_read_args(call, &args, &error) || !session_work_begin(session, &run, &error)) {
		session_write_error(reply, call, OSQD_RPC_ERROR_TYPED, error->message);
		return;
	}
	if (!follow_check_sql(&run, call->sql, &statement, &error)) {
		session_write_error(reply, call, OSQD_RPC_ERROR_TYPED, error->message);
		session_work_end(session);
		return;
	}
	max_rows = args.max_rows <= 0 ? FOLLOW_ROWS_DEFAULT : MIN(args.max_rows, FOLLOW_ROWS_MAX);
	deadline = g_get_monotonic_time() +
	           (gint64)CLAMP(args.timeout_ms, 0, FOLLOW_TIMEOUT_MAX) * G_TIME_SPAN_MILLISECOND;
	for (;;) {
		OsqdRpcFollowResult result = { 0 };
		gint64 newest = osqd_events_sync();
		gsize start = reply->len;

		if (newest >= 0 && newest <= args.cursor &&
		    osqd_events_wait(args.cursor, deadline, run.cancelled))
			newest = osqd_events_sync();
		/* every event up to @newest is committed: a scan that stops short of max_rows has
		 * seen all of them, so the cursor may move to @newest */
		result.cursor = args.cursor;
		follow_run(&run, call, statement, args.cursor, max_rows, &result, reply);
		if (!result.ok || result.rows > 0 || g_get_monotonic_time() >= deadline ||
		    g_atomic_int_get(run.cancelled) != 0 || newest <= args.cursor)
			break;
		if (result.cursor > args.cursor) {
			/* the new events were all filtered out: wait for more with the cursor moved
			 */
			args.cursor = result.cursor;
			g_byte_array_set_size(reply, (guint)start);
			continue;
		}
		if (newest > args.cursor) {
			/* nothing of this query's tables among the new events */
			args.cursor = newest;
			g_byte_array_set_size(reply, (guint)start);
			continue;
		}
		break;
	}
	session_work_end(session);
}

static const struct {
	const gchar *name;
	OsqdRpcMethodFunc func;
} osqd_rpc_methods[] = {
	{ "ping", method_ping },
	{ "query", method_query },
	{ "queryTyped", method_query_typed },
	{ "queryStart", method_query_start },
	{ "queryNext", method_query_next },
	{ "followStart", method_follow_start },
	{ "followPoll", method_follow_poll },
	{ "getQueryColumns", method_get_query_columns },
	{ "extensions", method_extensions },
	{ "options", method_options },
	{ "shutdown", method_shutdown },
	{ "registerExtension", method_register_extension },
	{ "deregisterExtension", method_deregister_extension },
	{ "call", method_call },
};

/* Reads an args struct: field 1 as a string is kept as the SQL, field 2 as an i32 as the page
 * size, everything else is skipped. */
static gboolean
session_read_args(OsqThriftReader *reader, gchar **sql, gint32 *page_rows, GError **error)
{
	for (;;) {
		OsqThriftType type;
		gint16 id;
		if (!osq_thrift_read_field_begin(reader, &type, &id, error))
			return FALSE;
		if (type == OSQ_THRIFT_STOP)
			return TRUE;
		if (id == 1 && type == OSQ_THRIFT_STRING) {
			g_free(*sql);
			if (!osq_thrift_read_string(reader, sql, error))
				return FALSE;
			continue;
		}
		if (id == 2 && type == OSQ_THRIFT_I32) {
			if (!osq_thrift_read_i32(reader, page_rows, error))
				return FALSE;
			continue;
		}
		if (!osq_thrift_skip(reader, type, error))
			return FALSE;
	}
}

gboolean
osqd_rpc_session_handle(OsqdRpcSession *session, const guint8 *message, gsize length,
                        GByteArray *reply, GError **error)
{
	g_autofree gchar *name = NULL;
	g_autofree gchar *sql = NULL;
	g_autoptr(GByteArray) discard = NULL;
	OsqThriftReader reader;
	OsqThriftMessageType type;
	OsqdRpcCall call = { 0 };
	gint32 seqid;

	session->shutdown_requested = FALSE;
	osq_thrift_reader_init(&reader, message, length);
	if (!osq_thrift_read_message_begin(&reader, &name, &type, &seqid, error))
		return FALSE;
	if (type != OSQ_THRIFT_CALL && type != OSQ_THRIFT_ONEWAY) {
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_INVALID_ARGUMENT,
		            "unexpected message type %d for %s (a server takes calls)", (gint)type,
		            name);
		return FALSE;
	}
	call.args = message + reader.pos;
	call.args_len = length - reader.pos;
	if (!session_read_args(&reader, &sql, &call.page_rows, error))
		return FALSE;
	/* any other call ends the open cursor */
	if (g_strcmp0(name, "queryNext") != 0)
		g_clear_pointer(&session->cursor, osqd_rpc_cursor_free);
	call.name = name;
	call.seqid = seqid;
	call.sql = sql != NULL ? sql : "";
	/* a one-way call gets no reply */
	if (type == OSQ_THRIFT_ONEWAY) {
		discard = g_byte_array_new();
		reply = discard;
	}
	for (guint i = 0; i < G_N_ELEMENTS(osqd_rpc_methods); i++) {
		if (g_strcmp0(osqd_rpc_methods[i].name, name) == 0) {
			osqd_rpc_methods[i].func(session, &call, reply);
			return TRUE;
		}
	}
	{
		g_autofree gchar *valid = g_utf8_make_valid(name, -1);
		g_autofree gchar *text = g_strdup_printf("Unknown function %s", valid);
		osq_thrift_write_application_exception(reply, name, seqid,
		                                       OSQ_THRIFT_APP_UNKNOWN_METHOD, text);
	}
	return TRUE;
}
