/* SPDX-License-Identifier: Apache-2.0
 *
 * Threads and sockets. The accept thread polls the listening socket and an eventfd (woken by
 * finished workers, so it joins them promptly, and by stop). Each worker reads into a 64 KiB
 * buffer that grows up to the message limit, answers every complete message with one write
 * loop, and keeps a deadline only while a request is due (the first one, or the rest of a
 * partial one): between requests a client may stay connected and silent. After writing a reply
 * the worker does the session's pending work (the next page of an open cursor) before it reads
 * again, so the daemon computes while the client parses. The watchdog polls
 * the sockets of busy workers for a hang-up (POLLRDHUP) every 50 ms and interrupts their
 * engine, and answers connections over the cap with an error. Stop shuts every socket down,
 * which wakes blocked reads and writes, so all threads can be joined.
 */
#include "config.h"

#include "osqd-rpc-server.h"

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "osq-error.h"
#include "osq-thrift.h"

#define OSQD_RPC_BUFFER_SIZE      (64 * 1024)
#define OSQD_RPC_REPLY_KEEP       (1024 * 1024) /* a larger reply buffer is released after use */
#define OSQD_RPC_SEND_BUFFER      (2 * 1024 * 1024) /* bytes; a page of 2,000 wide rows fits */
#define OSQD_RPC_WATCHDOG_TICK_MS 50
#define OSQD_RPC_MAX_REJECTS      32   /* over-the-cap connections waiting for their answer */
#define OSQD_RPC_REJECT_WAIT_MS   1000 /* how long such a connection may take to send */

typedef struct {
	OsqdRpcServer *server;
	guint64 id;
	int fd; /* -1 once closed; under server->mutex */
	OsqdPeer *peer;
	OsqdRpcSession *session;
	GThread *thread;
	gboolean busy;     /* a query runs; under server->mutex */
	gboolean finished; /* the worker is done; under server->mutex */
	gboolean hung_up;  /* the watchdog saw the client go; under server->mutex */
} OsqdRpcConnection;

typedef struct {
	int fd;
	gint64 deadline;
} OsqdRpcReject;

struct _OsqdRpcServer {
	OsqdRpcServerConfig config;
	gchar *socket_path;
	OsqdRpcHandler *handler;
	OsqdRpcShutdownFunc shutdown_func;
	gpointer shutdown_data;
	int listen_fd;
	int accept_wake_fd;
	int watchdog_wake_fd;
	dev_t socket_dev;
	ino_t socket_ino;
	GThread *accept_thread;
	GThread *watchdog_thread;
	gboolean started;
	GMutex mutex;
	GPtrArray *connections; /* OsqdRpcConnection*, finished ones until joined */
	GArray *rejects;        /* OsqdRpcReject */
	guint n_active;
	guint n_busy;
	guint64 next_id;
	gboolean stopping;
	gboolean watchdog_idle; /* the watchdog sleeps until woken */
};

/* ---- small helpers ---- */

static gboolean server_errno_error(GError **error, int saved, const gchar *format, ...)
        G_GNUC_PRINTF(3, 4);

static gboolean
server_errno_error(GError **error, int saved, const gchar *format, ...)
{
	g_autofree gchar *what = NULL;
	va_list args;

	va_start(args, format);
	what = g_strdup_vprintf(format, args);
	va_end(args);

	g_set_error(error, OSQ_ERROR, OSQ_ERROR_IO, "%s: %s", what, g_strerror(saved));
	return FALSE;
}

static void
server_wake(int fd)
{
	if (fd >= 0)
		(void)eventfd_write(fd, 1);
}

static void
server_drain(int fd)
{
	eventfd_t value;

	(void)eventfd_read(fd, &value);
}

static gboolean
server_write_all(int fd, const guint8 *data, gsize length, guint timeout_s, GError **error)
{
	gsize done = 0;

	while (done < length) {
		ssize_t n = send(fd, data + done, length - done, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			g_set_error(error, OSQ_ERROR, OSQ_ERROR_TIMED_OUT,
			            "the client did not read its reply for %u s", timeout_s);
			return FALSE;
		}
		if (n < 0) {
			g_set_error(error, OSQ_ERROR, OSQ_ERROR_IO, "cannot send the reply: %s",
			            g_strerror(errno));
			return FALSE;
		}
		done += (gsize)n;
	}
	return TRUE;
}

static void
server_connection_free(OsqdRpcConnection *conn)
{
	if (conn->fd >= 0)
		(void)close(conn->fd);
	osqd_rpc_session_free(conn->session);
	osqd_peer_free(conn->peer);
	g_free(conn);
}

/* ---- over the cap ---- */

/* Answers a connection over the cap with an EXCEPTION echoing its call, if one arrived, and
 * closes it. */
static void
server_reject_answer(OsqdRpcServer *server, int fd, gboolean readable)
{
	g_autoptr(GByteArray) reply = g_byte_array_new();
	g_autofree gchar *message = NULL;
	g_autofree gchar *name = NULL;
	guint8 buf[4096];
	gint32 seqid = 0;

	if (readable) {
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n > 0) {
			OsqThriftReader reader;
			OsqThriftMessageType type;
			osq_thrift_reader_init(&reader, buf, (gsize)n);
			if (!osq_thrift_read_message_begin(&reader, &name, &type, &seqid, NULL))
				seqid = 0;
		}
	}
	message = g_strdup_printf("osqd is serving too many connections (the limit set by "
	                          "--rpc_max_connections is %u); try again later",
	                          server->config.max_connections);
	osq_thrift_write_application_exception(reply, name != NULL ? name : "", seqid,
	                                       OSQ_THRIFT_APP_INTERNAL_ERROR, message);
	(void)send(fd, reply->data, reply->len, MSG_NOSIGNAL | MSG_DONTWAIT);
	(void)close(fd);
}

/* ---- watchdog ---- */

static OsqdRpcConnection *
server_find_connection(OsqdRpcServer *server, OsqdRpcConnection *conn, guint64 id)
{
	for (guint i = 0; i < server->connections->len; i++) {
		OsqdRpcConnection *candidate = server->connections->pdata[i];
		if (candidate == conn && candidate->id == id)
			return candidate;
	}
	return NULL;
}

typedef struct {
	OsqdRpcConnection *conn;
	guint64 id;
} OsqdRpcWatched;

/* Under the mutex: what to poll, and for how long. */
static gint
server_watchdog_prepare(OsqdRpcServer *server, GArray *pollfds, GArray *watched, guint *n_rejects)
{
	struct pollfd wake = { .fd = server->watchdog_wake_fd, .events = POLLIN };
	gint timeout = -1;
	gint64 now = g_get_monotonic_time();

	g_array_set_size(pollfds, 0);
	g_array_set_size(watched, 0);
	g_array_append_val(pollfds, wake);
	*n_rejects = server->rejects->len;
	for (guint i = 0; i < server->rejects->len; i++) {
		OsqdRpcReject *reject = &g_array_index(server->rejects, OsqdRpcReject, i);
		struct pollfd entry = { .fd = reject->fd, .events = POLLIN };
		gint left = (gint)MAX((reject->deadline - now) / 1000, 0);
		g_array_append_val(pollfds, entry);
		timeout = timeout < 0 ? left : MIN(timeout, left);
	}
	for (guint i = 0; i < server->connections->len; i++) {
		OsqdRpcConnection *conn = server->connections->pdata[i];
		OsqdRpcWatched entry = { conn, conn->id };
		struct pollfd fd_entry = { .fd = conn->fd, .events = POLLRDHUP };
		if (!conn->busy || conn->fd < 0)
			continue;
		g_array_append_val(pollfds, fd_entry);
		g_array_append_val(watched, entry);
	}
	if (server->n_busy > 0)
		timeout = timeout < 0 ? OSQD_RPC_WATCHDOG_TICK_MS
		                      : MIN(timeout, OSQD_RPC_WATCHDOG_TICK_MS);
	server->watchdog_idle = timeout < 0;
	return timeout;
}

/* Under the mutex: acts on what poll() reported. */
static void
server_watchdog_handle(OsqdRpcServer *server, GArray *pollfds, GArray *watched, guint n_rejects)
{
	gint64 now = g_get_monotonic_time();

	if (g_array_index(pollfds, struct pollfd, 0).revents != 0)
		server_drain(server->watchdog_wake_fd);
	for (guint i = 0; i < watched->len; i++) {
		const struct pollfd *entry =
		        &g_array_index(pollfds, struct pollfd, 1 + n_rejects + i);
		OsqdRpcWatched *w = &g_array_index(watched, OsqdRpcWatched, i);
		OsqdRpcConnection *conn;
		if ((entry->revents & (POLLRDHUP | POLLHUP | POLLERR)) == 0)
			continue;
		conn = server_find_connection(server, w->conn, w->id);
		if (conn == NULL || !conn->busy)
			continue;
		/* repeated every tick while it runs: an interrupt between two statements of one
		 * call can be lost inside SQLite */
		if (!conn->hung_up)
			g_debug("connection %" G_GUINT64_FORMAT
			        ": client (pid %d) hung up, cancelling its query",
			        conn->id, (gint)conn->peer->pid);
		conn->hung_up = TRUE;
		osqd_rpc_session_interrupt(conn->session);
	}
	/* rejects: only the watchdog removes them, and new ones are appended, so the first
	 * n_rejects are the ones polled */
	for (guint i = n_rejects; i > 0; i--) {
		const struct pollfd *entry = &g_array_index(pollfds, struct pollfd, i);
		OsqdRpcReject *reject = &g_array_index(server->rejects, OsqdRpcReject, i - 1);
		if (entry->revents != 0)
			server_reject_answer(server, reject->fd, TRUE);
		else if (now >= reject->deadline)
			server_reject_answer(server, reject->fd, FALSE);
		else
			continue;
		g_array_remove_index(server->rejects, i - 1);
	}
}

static gpointer
server_watchdog_thread(gpointer data)
{
	OsqdRpcServer *server = data;
	g_autoptr(GArray) pollfds = g_array_new(FALSE, FALSE, sizeof(struct pollfd));
	g_autoptr(GArray) watched = g_array_new(FALSE, FALSE, sizeof(OsqdRpcWatched));

	g_mutex_lock(&server->mutex);
	while (!server->stopping) {
		guint n_rejects = 0;
		gint timeout = server_watchdog_prepare(server, pollfds, watched, &n_rejects);
		g_mutex_unlock(&server->mutex);
		if (poll((struct pollfd *)(gpointer)pollfds->data, pollfds->len, timeout) < 0 &&
		    errno != EINTR)
			g_usleep(OSQD_RPC_WATCHDOG_TICK_MS * 1000);
		g_mutex_lock(&server->mutex);
		server_watchdog_handle(server, pollfds, watched, n_rejects);
	}
	g_mutex_unlock(&server->mutex);
	return NULL;
}

static gboolean
server_busy_cb(OsqdRpcSession *session, gboolean busy, gpointer user_data)
{
	OsqdRpcConnection *conn = user_data;
	OsqdRpcServer *server = conn->server;
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&server->mutex);

	if (busy) {
		if (server->stopping)
			return FALSE;
		conn->busy = TRUE;
		conn->hung_up = FALSE;
		server->n_busy++;
		if (server->watchdog_idle) {
			server->watchdog_idle = FALSE;
			server_wake(server->watchdog_wake_fd);
		}
	} else if (conn->busy) {
		conn->busy = FALSE;
		server->n_busy--;
	}
	return TRUE;
}

/* ---- one connection ---- */

/* Waits until @fd is readable, or fails once @deadline (monotonic us; 0: none) passed. */
static gboolean
server_wait_readable(OsqdRpcConnection *conn, gint64 deadline, gboolean started, GError **error)
{
	struct pollfd entry = { .fd = conn->fd, .events = POLLIN };

	if (deadline == 0)
		return TRUE; /* the blocking recv() waits */
	for (;;) {
		gint64 left = deadline - g_get_monotonic_time();
		gint rc;
		if (left <= 0) {
			g_set_error(error, OSQ_ERROR, OSQ_ERROR_TIMED_OUT,
			            started ? "no complete request within %u s"
			                    : "no request within %u s of connecting",
			            conn->server->config.idle_timeout_s);
			return FALSE;
		}
		rc = poll(&entry, 1, (gint)MIN((left + 999) / 1000, G_MAXINT));
		if (rc > 0)
			return TRUE;
		if (rc < 0 && errno != EINTR)
			return server_errno_error(error, errno, "%s", "poll");
	}
}

/* Answers one message; FALSE closes the connection. */
static gboolean
server_answer(OsqdRpcConnection *conn, const guint8 *message, gsize length, GByteArray **reply,
              GError **error)
{
	OsqdRpcServer *server = conn->server;

	g_byte_array_set_size(*reply, 0);
	if (!osqd_rpc_session_handle(conn->session, message, length, *reply, error))
		return FALSE;
	if ((*reply)->len > 0 && !server_write_all(conn->fd, (*reply)->data, (*reply)->len,
	                                           server->config.idle_timeout_s, error))
		return FALSE;
	if (osqd_rpc_session_shutdown_requested(conn->session) && server->shutdown_func != NULL)
		server->shutdown_func(server->shutdown_data);
	/* read-ahead: the next page, while the client reads this reply */
	if (osqd_rpc_session_has_work(conn->session))
		osqd_rpc_session_work(conn->session);
	if ((*reply)->len > OSQD_RPC_REPLY_KEEP) {
		g_byte_array_unref(*reply);
		*reply = g_byte_array_sized_new(OSQD_RPC_BUFFER_SIZE);
	}
	return TRUE;
}

/* The request loop. TRUE when the client closed the connection between requests. */
static gboolean
server_serve(OsqdRpcConnection *conn, GError **error)
{
	OsqdRpcServer *server = conn->server;
	gsize max = server->config.max_message;
	gsize capacity = OSQD_RPC_BUFFER_SIZE, filled = 0;
	g_autofree guint8 *buffer = g_malloc(capacity);
	g_autoptr(GByteArray) reply = g_byte_array_sized_new(OSQD_RPC_BUFFER_SIZE);
	gint64 idle_us = (gint64)server->config.idle_timeout_s * G_USEC_PER_SEC;
	gint64 deadline = idle_us > 0 ? g_get_monotonic_time() + idle_us : 0;
	gboolean started = FALSE, more = FALSE;

	for (;;) {
		gsize length = 0;
		ssize_t n;

		if (filled > 0) {
			OsqThriftScan scan =
			        osq_thrift_message_scan(buffer, filled, max, &length, error);
			if (scan == OSQ_THRIFT_SCAN_INVALID)
				return FALSE;
			if (scan == OSQ_THRIFT_SCAN_COMPLETE) {
				if (!server_answer(conn, buffer, length, &reply, error))
					return FALSE;
				memmove(buffer, buffer + length, filled - length);
				filled -= length;
				deadline = filled > 0 && idle_us > 0
				                   ? g_get_monotonic_time() + idle_us
				                   : 0;
				started = filled > 0;
				if (capacity > OSQD_RPC_BUFFER_SIZE &&
				    filled <= OSQD_RPC_BUFFER_SIZE) {
					capacity = OSQD_RPC_BUFFER_SIZE;
					buffer = g_realloc(buffer, capacity);
				}
				more = filled > 0;
				continue;
			}
		}
		if (filled == capacity) {
			capacity = MIN(capacity * 2, MAX(max, OSQD_RPC_BUFFER_SIZE));
			buffer = g_realloc(buffer, capacity);
		}
		/* what already arrived first; then wait */
		n = more ? recv(conn->fd, buffer + filled, capacity - filled, MSG_DONTWAIT) : -1;
		if (n < 0 && (!more || errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (!server_wait_readable(conn, deadline, started, error))
				return FALSE;
			n = recv(conn->fd, buffer + filled, capacity - filled, 0);
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return server_errno_error(error, errno, "%s", "recv");
		if (n == 0) {
			if (filled == 0)
				return TRUE;
			g_set_error_literal(error, OSQ_ERROR, OSQ_ERROR_IO,
			                    "the client closed the connection inside a request");
			return FALSE;
		}
		if (filled == 0 && idle_us > 0 && !started) {
			/* the first byte of a request starts its clock */
			deadline = g_get_monotonic_time() + idle_us;
			started = TRUE;
		}
		filled += (gsize)n;
		more = TRUE;
	}
}

static gpointer
server_worker_thread(gpointer data)
{
	OsqdRpcConnection *conn = data;
	OsqdRpcServer *server = conn->server;
	g_autoptr(GError) error = NULL;
	OsqdRpcSession *session;
	int fd;

	if (server_serve(conn, &error))
		g_debug("connection %" G_GUINT64_FORMAT " (uid %u, pid %d) closed by the client",
		        conn->id, (guint)conn->peer->uid, (gint)conn->peer->pid);
	else
		g_info("closing connection %" G_GUINT64_FORMAT " (uid %u, pid %d): %s", conn->id,
		       (guint)conn->peer->uid, (gint)conn->peer->pid, error->message);
	g_mutex_lock(&server->mutex);
	session = g_steal_pointer(&conn->session);
	fd = conn->fd;
	conn->fd = -1;
	conn->finished = TRUE;
	server->n_active--;
	g_mutex_unlock(&server->mutex);
	osqd_rpc_session_free(session);
	(void)close(fd);
	server_wake(server->accept_wake_fd);
	return NULL;
}

/* ---- accepting ---- */

/* Joins the workers that finished. Only the accept thread (or stop, after it) calls this. */
static void
server_reap(OsqdRpcServer *server)
{
	g_autoptr(GPtrArray) done = g_ptr_array_new();

	g_mutex_lock(&server->mutex);
	for (guint i = server->connections->len; i > 0; i--) {
		OsqdRpcConnection *conn = server->connections->pdata[i - 1];
		if (!conn->finished || conn->thread == NULL)
			continue;
		g_ptr_array_add(done, conn);
		g_ptr_array_remove_index_fast(server->connections, i - 1);
	}
	g_mutex_unlock(&server->mutex);
	for (guint i = 0; i < done->len; i++) {
		OsqdRpcConnection *conn = done->pdata[i];
		g_thread_join(conn->thread);
		server_connection_free(conn);
	}
}

/* A send buffer that holds a whole result page, so the worker hands a page to the kernel and
 * goes on computing the next one while the client reads it. Above net.core.wmem_max only a
 * process with CAP_NET_ADMIN gets it (SO_SNDBUFFORCE); others get what the system allows. */
static void
server_set_send_buffer(int fd)
{
	int size = OSQD_RPC_SEND_BUFFER;

	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)) != 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
}

static void
server_accept_one(OsqdRpcServer *server)
{
	g_autoptr(GError) error = NULL;
	OsqdRpcConnection *conn;
	g_autoptr(OsqdPeer) peer = NULL;
	GThread *thread;
	int fd;

	fd = accept4(server->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
			g_warning("cannot accept a connection: %s", g_strerror(errno));
			g_usleep(100 * 1000); /* let connections finish rather than spin */
		}
		return;
	}
	peer = osqd_peer_new_from_fd(fd, &error);
	if (peer == NULL) {
		g_info("dropping a connection: %s", error->message);
		(void)close(fd);
		return;
	}
	if (server->config.idle_timeout_s > 0) {
		struct timeval tv = { .tv_sec = server->config.idle_timeout_s };
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	}
	server_set_send_buffer(fd);

	g_mutex_lock(&server->mutex);
	if (server->stopping) {
		g_mutex_unlock(&server->mutex);
		(void)close(fd);
		return;
	}
	if (server->n_active >= server->config.max_connections) {
		gboolean queued = server->rejects->len < OSQD_RPC_MAX_REJECTS;
		if (queued) {
			OsqdRpcReject reject = { fd, g_get_monotonic_time() +
				                             OSQD_RPC_REJECT_WAIT_MS * 1000 };
			g_array_append_val(server->rejects, reject);
			server_wake(server->watchdog_wake_fd);
		}
		g_mutex_unlock(&server->mutex);
		g_info("refusing a connection from uid %u (pid %d): %u connections already",
		       (guint)peer->uid, (gint)peer->pid, server->config.max_connections);
		if (!queued)
			server_reject_answer(server, fd, FALSE);
		return;
	}
	conn = g_new0(OsqdRpcConnection, 1);
	conn->server = server;
	conn->id = ++server->next_id;
	conn->fd = fd;
	conn->session = osqd_rpc_session_new(server->handler, peer);
	conn->peer = g_steal_pointer(&peer);
	osqd_rpc_session_set_busy_func(conn->session, server_busy_cb, conn);
	g_ptr_array_add(server->connections, conn);
	server->n_active++;
	g_mutex_unlock(&server->mutex);

	g_debug("connection %" G_GUINT64_FORMAT " from uid %u gid %u pid %d", conn->id,
	        (guint)conn->peer->uid, (guint)conn->peer->gid, (gint)conn->peer->pid);
	thread = g_thread_try_new("osqd-rpc", server_worker_thread, conn, &error);
	g_mutex_lock(&server->mutex);
	if (thread == NULL) {
		g_ptr_array_remove_fast(server->connections, conn);
		server->n_active--;
	} else {
		conn->thread = thread;
	}
	g_mutex_unlock(&server->mutex);
	if (thread == NULL) {
		g_warning("cannot start a thread for a connection: %s", error->message);
		server_connection_free(conn);
	}
}

static gpointer
server_accept_thread(gpointer data)
{
	OsqdRpcServer *server = data;

	for (;;) {
		struct pollfd fds[2] = {
			{ .fd = server->listen_fd, .events = POLLIN },
			{ .fd = server->accept_wake_fd, .events = POLLIN },
		};
		gboolean stopping;

		if (poll(fds, G_N_ELEMENTS(fds), -1) < 0) {
			if (errno != EINTR)
				g_usleep(OSQD_RPC_WATCHDOG_TICK_MS * 1000);
			continue;
		}
		if (fds[1].revents != 0) {
			server_drain(server->accept_wake_fd);
			server_reap(server);
		}
		g_mutex_lock(&server->mutex);
		stopping = server->stopping;
		g_mutex_unlock(&server->mutex);
		if (stopping)
			break;
		if (fds[0].revents != 0)
			server_accept_one(server);
	}
	return NULL;
}

/* ---- the socket ---- */

/* A file at the socket path: a live daemon's socket (refuse), a stale socket or an empty
 * placeholder file (remove), or something else (refuse). */
static gboolean
server_clear_path(const gchar *path, const struct sockaddr_un *addr, GError **error)
{
	struct stat st;
	int probe, rc, saved;

	if (lstat(path, &st) != 0) {
		if (errno == ENOENT)
			return TRUE;
		return server_errno_error(error, errno, "cannot inspect %s", path);
	}
	if (S_ISREG(st.st_mode) && st.st_size == 0) {
		if (unlink(path) != 0)
			return server_errno_error(error, errno, "cannot remove %s", path);
		return TRUE;
	}
	if (!S_ISSOCK(st.st_mode)) {
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_FAILED,
		            "%s exists and is not a socket; remove it or choose another "
		            "--extensions_socket",
		            path);
		return FALSE;
	}
	probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (probe < 0)
		return server_errno_error(error, errno, "%s", "socket");
	rc = connect(probe, (const struct sockaddr *)addr, sizeof(*addr));
	saved = errno;
	(void)close(probe);
	if (rc == 0 || saved == EAGAIN) {
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_FAILED,
		            "another daemon is already serving %s (stop it, or choose another "
		            "--extensions_socket)",
		            path);
		return FALSE;
	}
	if (saved != ECONNREFUSED)
		return server_errno_error(error, saved, "cannot check the existing socket %s",
		                          path);
	if (unlink(path) != 0)
		return server_errno_error(error, errno, "cannot remove the stale socket %s", path);
	g_info("removed the stale socket %s", path);
	return TRUE;
}

/* Removes "<socket>.<digits>" sockets: extension sockets of an earlier run. */
static void
server_remove_extension_sockets(const gchar *socket_path)
{
	g_autofree gchar *dirname = g_path_get_dirname(socket_path);
	g_autofree gchar *basename = g_path_get_basename(socket_path);
	g_autofree gchar *prefix = g_strconcat(basename, ".", NULL);
	DIR *dir = opendir(dirname);
	struct dirent *entry;

	if (dir == NULL)
		return;
	while ((entry = readdir(dir)) != NULL) {
		const gchar *suffix;
		g_autofree gchar *path = NULL;
		struct stat st;
		if (!g_str_has_prefix(entry->d_name, prefix))
			continue;
		suffix = entry->d_name + strlen(prefix);
		if (suffix[0] == '\0' || strspn(suffix, "0123456789") != strlen(suffix))
			continue;
		path = g_build_filename(dirname, entry->d_name, NULL);
		if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode) && unlink(path) == 0)
			g_debug("removed the stale extension socket %s", path);
	}
	(void)closedir(dir);
}

static gboolean
server_listen(OsqdRpcServer *server, GError **error)
{
	const gchar *path = server->socket_path;
	g_autofree gchar *dirname = g_path_get_dirname(path);
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct stat st;

	if (strlen(path) >= sizeof(addr.sun_path)) {
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_INVALID_ARGUMENT,
		            "the socket path %s is too long (%zu bytes; at most %zu)", path,
		            strlen(path), sizeof(addr.sun_path) - 1);
		return FALSE;
	}
	if (!g_file_test(dirname, G_FILE_TEST_IS_DIR)) {
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_NOT_FOUND,
		            "the directory of the extensions socket, %s, does not exist", dirname);
		return FALSE;
	}
	memcpy(addr.sun_path, path, strlen(path) + 1);
	if (!server_clear_path(path, &addr, error))
		return FALSE;
	server_remove_extension_sockets(path);
	server->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (server->listen_fd < 0)
		return server_errno_error(error, errno, "%s", "socket");
	/* nobody can connect before listen(), so the mode and group are set in time */
	if (bind(server->listen_fd, (const struct sockaddr *)&addr, sizeof(addr)) != 0)
		return server_errno_error(error, errno, "cannot bind %s", path);
	if (stat(path, &st) != 0)
		return server_errno_error(error, errno, "cannot inspect %s", path);
	server->socket_dev = st.st_dev;
	server->socket_ino = st.st_ino;
	if (chmod(path, server->config.socket_mode) != 0)
		return server_errno_error(error, errno, "cannot set the mode of %s", path);
	if (server->config.socket_gid >= 0 &&
	    chown(path, (uid_t)-1, (gid_t)server->config.socket_gid) != 0)
		return server_errno_error(error, errno, "cannot set the group of %s", path);
	if (listen(server->listen_fd, SOMAXCONN) != 0)
		return server_errno_error(error, errno, "cannot listen on %s", path);
	return TRUE;
}

/* Removes the socket file if it is still ours. */
static void
server_unlink_socket(OsqdRpcServer *server)
{
	struct stat st;

	if (server->socket_ino == 0)
		return;
	if (lstat(server->socket_path, &st) == 0 && st.st_ino == server->socket_ino &&
	    st.st_dev == server->socket_dev)
		(void)unlink(server->socket_path);
	server->socket_ino = 0;
}

/* ---- public ---- */

OsqdRpcServer *
osqd_rpc_server_new(const OsqdRpcServerConfig *config, OsqdRpcHandler *handler)
{
	OsqdRpcServer *server = g_new0(OsqdRpcServer, 1);

	server->config = *config;
	server->socket_path = g_strdup(config->socket_path);
	server->config.socket_path = server->socket_path;
	if (server->config.max_connections == 0)
		server->config.max_connections = 1;
	server->handler = handler;
	server->listen_fd = -1;
	server->accept_wake_fd = -1;
	server->watchdog_wake_fd = -1;
	g_mutex_init(&server->mutex);
	server->connections = g_ptr_array_new();
	server->rejects = g_array_new(FALSE, FALSE, sizeof(OsqdRpcReject));
	return server;
}

void
osqd_rpc_server_set_shutdown_func(OsqdRpcServer *server, OsqdRpcShutdownFunc func,
                                  gpointer user_data)
{
	server->shutdown_func = func;
	server->shutdown_data = user_data;
}

gboolean
osqd_rpc_server_start(OsqdRpcServer *server, GError **error)
{
	g_return_val_if_fail(!server->started, FALSE);
	server->accept_wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	server->watchdog_wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (server->accept_wake_fd < 0 || server->watchdog_wake_fd < 0)
		return server_errno_error(error, errno, "%s", "eventfd");
	if (!server_listen(server, error)) {
		server_unlink_socket(server);
		return FALSE;
	}
	server->started = TRUE;
	server->watchdog_thread = g_thread_new("osqd-watchdog", server_watchdog_thread, server);
	server->accept_thread = g_thread_new("osqd-accept", server_accept_thread, server);
	return TRUE;
}

void
osqd_rpc_server_stop(OsqdRpcServer *server)
{
	g_autoptr(GPtrArray) connections = NULL;

	if (!server->started)
		return;
	server->started = FALSE;
	g_mutex_lock(&server->mutex);
	server->stopping = TRUE;
	g_mutex_unlock(&server->mutex);

	/* stop accepting */
	server_wake(server->accept_wake_fd);
	g_thread_join(g_steal_pointer(&server->accept_thread));
	(void)close(server->listen_fd);
	server->listen_fd = -1;
	server_unlink_socket(server);

	/* wake every worker (reads and writes fail on a shut-down socket), cancel queries */
	g_mutex_lock(&server->mutex);
	for (guint i = 0; i < server->connections->len; i++) {
		OsqdRpcConnection *conn = server->connections->pdata[i];
		if (conn->fd >= 0)
			(void)shutdown(conn->fd, SHUT_RDWR);
		if (conn->busy)
			osqd_rpc_session_interrupt(conn->session);
	}
	connections = g_steal_pointer(&server->connections);
	server->connections = g_ptr_array_new();
	g_mutex_unlock(&server->mutex);
	for (guint i = 0; i < connections->len; i++) {
		OsqdRpcConnection *conn = connections->pdata[i];
		if (conn->thread != NULL)
			g_thread_join(conn->thread);
		server_connection_free(conn);
	}

	server_wake(server->watchdog_wake_fd);
	g_thread_join(g_steal_pointer(&server->watchdog_thread));
	for (guint i = 0; i < server->rejects->len; i++)
		(void)close(g_array_index(server->rejects, OsqdRpcReject, i).fd);
	g_array_set_size(server->rejects, 0);
	server_remove_extension_sockets(server->socket_path);
}

void
osqd_rpc_server_free(OsqdRpcServer *server)
{
	if (server == NULL)
		return;
	osqd_rpc_server_stop(server);
	if (server->listen_fd >= 0)
		(void)close(server->listen_fd);
	if (server->accept_wake_fd >= 0)
		(void)close(server->accept_wake_fd);
	if (server->watchdog_wake_fd >= 0)
		(void)close(server->watchdog_wake_fd);
	g_ptr_array_unref(server->connections);
	g_array_unref(server->rejects);
	g_mutex_clear(&server->mutex);
	g_free(server->socket_path);
	g_free(server);
}

guint
osqd_rpc_server_get_n_connections(OsqdRpcServer *server)
{
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&server->mutex);

	return server->n_active;
}
