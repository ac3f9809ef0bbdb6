/* SPDX-License-Identifier: Apache-2.0
 *
 * The process connector publisher (see the header). Every connector message arrives as an
 * NLMSG_DONE netlink message holding a struct cn_msg and a struct proc_event; structs are copied
 * out of the buffer, never cast, so odd offsets and short reads are safe. The per-CPU number of
 * an event is cn_msg.seq. The answer to a listen request (PROC_EVENT_NONE, the request's ack + 1)
 * is multicast to every listener and, on recent kernels, takes a per-CPU number like any event
 * (older ones send it with CPU -1 and the request's number); setup waits for ours, since a
 * refused request only shows there. The /proc reads race with the process: what is gone is NULL,
 * never an error.
 */
#include "config.h"

#include "osqd-proc-connector.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stddef.h>
#include <string.h>
#include <elf.h>
#include <fcntl.h>
#include <sys/fanotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <linux/netlink.h>
#include <linux/connector.h>
#include <linux/cn_proc.h>

#include "osq-error.h"
#include "osqd-tables-generated.h"

#define PROC_CONNECTOR_MAX_CPUS       4096
#define PROC_CONNECTOR_RCVBUF         (8 * 1024 * 1024)
#define PROC_CONNECTOR_BUFFER_SIZE    16384
#define PROC_CONNECTOR_POLL_MS        200
#define PROC_CONNECTOR_ACK_TIMEOUT_MS 1000
#define PROC_CONNECTOR_BATCH          256 /* datagrams read per wake-up, at most */

/* ---- the parser ---- */

static gboolean
proc_connector_short(GError **error, const gchar *what, gsize size)
{
	g_set_error(error, OSQ_ERROR, OSQ_ERROR_INVALID_ARGUMENT,
	            "%s of %" G_GSIZE_FORMAT " bytes is too short", what, size);
	return FALSE;
}

/* The proc_event in @data (@size bytes, the cn_msg's len) into @out. */
static gboolean
proc_connector_parse_proc_event(const guint8 *data, gsize size, OsqdProcEvent *out, GError **error)
{
	const gsize head = offsetof(struct proc_event, event_data);
	struct proc_event event = { 0 };
	gsize data_size;

	if (size < head)
		return proc_connector_short(error, "process event", size);
	memcpy(&event, data, MIN(size, sizeof(event)));
	data_size = size - head;
	out->kind = OSQD_PROC_EVENT_KIND_OTHER;
	out->cpu = event.cpu;
	out->timestamp_ns = event.timestamp_ns;
	out->parent_tgid = -1;
	switch (event.what) {
	case PROC_EVENT_NONE:
		if (data_size < sizeof(event.event_data.ack))
			return proc_connector_short(error, "connector answer", data_size);
		out->kind = OSQD_PROC_EVENT_KIND_ACK;
		out->ack_error = event.event_data.ack.err;
		return TRUE;
	case PROC_EVENT_EXEC:
		if (data_size < sizeof(event.event_data.exec))
			return proc_connector_short(error, "exec event", data_size);
		out->kind = OSQD_PROC_EVENT_KIND_EXEC;
		out->pid = event.event_data.exec.process_tgid;
		out->tid = event.event_data.exec.process_pid;
		return TRUE;
	case PROC_EVENT_EXIT:
		/* the parent fields came with Linux 4.x: optional */
		if (data_size < offsetof(struct exit_proc_event, parent_pid))
			return proc_connector_short(error, "exit event", data_size);
		out->kind = OSQD_PROC_EVENT_KIND_EXIT;
		out->pid = event.event_data.exit.process_tgid;
		out->tid = event.event_data.exit.process_pid;
		out->exit_code = event.event_data.exit.exit_code;
		if (data_size >= sizeof(event.event_data.exit))
			out->parent_tgid = event.event_data.exit.parent_tgid;
		return TRUE;
	case PROC_EVENT_FORK:
		if (data_size < sizeof(event.event_data.fork))
			return proc_connector_short(error, "fork event", data_size);
		out->kind = OSQD_PROC_EVENT_KIND_FORK;
		out->pid = event.event_data.fork.child_tgid;
		out->tid = event.event_data.fork.child_pid;
		out->parent_tgid = event.event_data.fork.parent_tgid;
		return TRUE;
	default:
		return TRUE; /* uid, comm...: numbered all the same */
	}
}

/* The payload of an NLMSG_DONE message: a cn_msg and its data. */
static gboolean
proc_connector_parse_message(const guint8 *payload, gsize size, GArray *events, GError **error)
{
	struct cn_msg msg;
	OsqdProcEvent event = { 0 };

	if (size < sizeof(msg))
		return proc_connector_short(error, "connector message", size);
	memcpy(&msg, payload, sizeof(msg));
	if (msg.len > size - sizeof(msg)) {
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_INVALID_ARGUMENT,
		            "connector message says %u bytes, has %" G_GSIZE_FORMAT, (guint)msg.len,
		            size - sizeof(msg));
		return FALSE;
	}
	if (msg.id.idx != CN_IDX_PROC || msg.id.val != CN_VAL_PROC)
		return TRUE; /* another connector's */
	if (!proc_connector_parse_proc_event(payload + sizeof(msg), msg.len, &event, error))
		return FALSE;
	event.seq = msg.seq;
	event.ack = msg.ack;
	g_array_append_val(events, event);
	return TRUE;
}

static gboolean
proc_connector_parse_error(const guint8 *payload, gsize size, GError **error)
{
	gint32 code;

	if (size < sizeof(code)) {
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_INVALID_ARGUMENT,
		            "netlink error message of %" G_GSIZE_FORMAT " bytes", size);
		return FALSE;
	}
	memcpy(&code, payload, sizeof(code));
	if (code == 0)
		return TRUE; /* an ack */
	g_set_error(error, OSQ_ERROR, OSQ_ERROR_IO, "netlink error: %s",
	            g_strerror(code < 0 && code != G_MININT32 ? -code : code));
	return FALSE;
}

gboolean
osqd_proc_connector_parse(const guint8 *data, gsize size, GArray *events, GError **error)
{
	gsize offset = 0;

	g_return_val_if_fail(data != NULL || size == 0, FALSE);
	g_return_val_if_fail(events != NULL, FALSE);

	if (size == 0) {
		g_set_error_literal(error, OSQ_ERROR, OSQ_ERROR_INVALID_ARGUMENT,
		                    "empty netlink datagram");
		return FALSE;
	}
	while (offset < size) {
		struct nlmsghdr header;
		gsize left = size - offset;
		const guint8 *payload = data + offset + NLMSG_HDRLEN;
		gsize payload_size;

		if (left < sizeof(header)) {
			g_set_error(error, OSQ_ERROR, OSQ_ERROR_INVALID_ARGUMENT,
			            "netlink header cut at %" G_GSIZE_FORMAT " bytes", left);
			return FALSE;
		}
		memcpy(&header, data + offset, sizeof(header));
		if (header.nlmsg_len < NLMSG_HDRLEN || header.nlmsg_len > left) {
			g_set_error(error, OSQ_ERROR, OSQ_ERROR_INVALID_ARGUMENT,
			            "netlink message of %u bytes in %" G_GSIZE_FORMAT,
			            (guint)header.nlmsg_len, left);
			return FALSE;
		}
		payload_size = header.nlmsg_len - NLMSG_HDRLEN;
		if (header.nlmsg_type == NLMSG_DONE) {
			/* the connector sends every message as NLMSG_DONE */
			if (!proc_connector_parse_message(payload, payload_size, events, error))
				return FALSE;
		} else if (header.nlmsg_type == NLMSG_ERROR) {
			if (!proc_connector_parse_error(payload, payload_size, error))
				return FALSE;
		}
		/* NLMSG_NOOP, NLMSG_OVERRUN and other types carry nothing for us */
		offset += NLMSG_ALIGN((gsize)header.nlmsg_len);
	}
	return TRUE;
}

gint64
osqd_proc_connector_event_time(guint64 timestamp_ns, gint64 realtime_now_ns,
                               gint64 monotonic_now_ns)
{
	gint64 age_ns = 0;

	if (monotonic_now_ns >= 0 && timestamp_ns <= (guint64)monotonic_now_ns)
		age_ns = monotonic_now_ns - (gint64)timestamp_ns;
	return (realtime_now_ns - age_ns) / G_GINT64_CONSTANT(1000000000);
}

/* ---- sequence gaps ---- */

typedef struct {
	gboolean known;
	guint32 last;
} ProcSeqCpu;

struct _OsqdProcSeq {
	GArray *cpus; /* of ProcSeqCpu, by CPU index, zero-filled as it grows */
};

OsqdProcSeq *
osqd_proc_connector_seq_new(void)
{
	OsqdProcSeq *seq = g_new0(OsqdProcSeq, 1);

	seq->cpus = g_array_new(FALSE, TRUE, sizeof(ProcSeqCpu));
	return seq;
}

void
osqd_proc_connector_seq_free(OsqdProcSeq *seq)
{
	if (seq == NULL)
		return;
	g_array_unref(seq->cpus);
	g_free(seq);
}

guint64
osqd_proc_connector_seq_check(OsqdProcSeq *seq, guint32 cpu, guint32 number)
{
	ProcSeqCpu *state;
	guint64 lost;

	g_return_val_if_fail(seq != NULL, 0);

	if (cpu >= PROC_CONNECTOR_MAX_CPUS)
		return 0;
	if (cpu >= seq->cpus->len)
		g_array_set_size(seq->cpus, cpu + 1);
	state = &g_array_index(seq->cpus, ProcSeqCpu, cpu);
	if (!state->known || number <= state->last) {
		/* a baseline: the first event of this CPU, or the counter wrapped or restarted */
		state->known = TRUE;
		state->last = number;
		return 0;
	}
	lost = (guint64)number - state->last - 1;
	state->last = number;
	return lost;
}

/* ---- /proc ---- */

/* @root without trailing slashes ("/" and NULL become "") */
static gchar *
proc_connector_root(const gchar *root)
{
	gsize len = root != NULL ? strlen(root) : 0;

	while (len > 0 && root[len - 1] == '/')
		len--;
	return g_strndup(root != NULL ? root : "", len);
}

void
osqd_proc_connector_info_free(OsqdProcInfo *info)
{
	if (info == NULL)
		return;
	g_free(info->path);
	g_free(info->cmdline);
	g_free(info->cwd);
	g_free(info);
}

/* @count decimal numbers separated by blanks, at the start of @text */
static gboolean
proc_connector_parse_numbers(const gchar *text, gint64 *values, guint count)
{
	const gchar *p = text;

	for (guint i = 0; i < count; i++) {
		gchar *end = NULL;

		while (*p == ' ' || *p == '\t')
			p++;
		if (!g_ascii_isdigit(*p))
			return FALSE;
		errno = 0;
		values[i] = g_ascii_strtoll(p, &end, 10);
		if (errno != 0 || end == p)
			return FALSE;
		p = end;
	}
	return *p == '\0' || *p == '\n' || *p == ' ' || *p == '\t';
}

void
osqd_proc_connector_parse_status(const gchar *text, OsqdProcInfo *info)
{
	g_return_if_fail(info != NULL);

	for (const gchar *line = text; line != NULL && *line != '\0';) {
		const gchar *next = strchr(line, '\n');
		gint64 ids[4];

		if (g_str_has_prefix(line, "Uid:") &&
		    proc_connector_parse_numbers(line + 4, ids, G_N_ELEMENTS(ids))) {
			info->has_uids = TRUE;
			info->uid = ids[0];
			info->euid = ids[1];
			info->suid = ids[2];
			info->fsuid = ids[3];
		} else if (g_str_has_prefix(line, "Gid:") &&
		           proc_connector_parse_numbers(line + 4, ids, G_N_ELEMENTS(ids))) {
			info->has_gids = TRUE;
			info->gid = ids[0];
			info->egid = ids[1];
			info->sgid = ids[2];
			info->fsgid = ids[3];
		} else if (g_str_has_prefix(line, "PPid:") &&
		           proc_connector_parse_numbers(line + 5, ids, 1)) {
			info->parent = ids[0];
		}
		line = next != NULL ? next + 1 : NULL;
	}
}

gint64
osqd_proc_connector_parse_uptime(const gchar *text)
{
	gint64 seconds;

	if (text == NULL || !g_ascii_isdigit(*text))
		return -1;
	errno = 0;
	seconds = g_ascii_strtoll(text, NULL, 10);
	return errno == 0 ? seconds : -1;
}

gchar *
osqd_proc_connector_join_cmdline(const gchar *data, gsize size)
{
	gchar *line;

	while (size > 0 && data[size - 1] == '\0')
		size--;
	line = g_malloc(size + 1);
	memcpy(line, data, size);
	line[size] = '\0';
	for (gsize i = 0; i < size; i++) {
		if (line[i] == '\0')
			line[i] = ' ';
	}
	return line;
}

/* The executable's mode, owner and times. */
static void
proc_connector_set_stat(OsqdProcInfo *info, const struct stat *st)
{
	info->has_stat = TRUE;
	info->mode = st->st_mode & 07777;
	info->owner_uid = st->st_uid;
	info->owner_gid = st->st_gid;
	info->atime = st->st_atim.tv_sec;
	info->mtime = st->st_mtim.tv_sec;
	info->ctime = st->st_ctim.tv_sec;
}

static void
proc_connector_read_stat(const gchar *exe, OsqdProcInfo *info)
{
	struct stat st;

	/* through the /proc link: right for a deleted file or one in another mount namespace */
	if (stat(exe, &st) == 0)
		proc_connector_set_stat(info, &st);
}

OsqdProcInfo *
osqd_proc_connector_read_info(const gchar *root, gint64 pid)
{
	g_autoptr(OsqdProcInfo) info = g_new0(OsqdProcInfo, 1);
	g_autofree gchar *prefix = proc_connector_root(root);
	g_autofree gchar *dir = g_strdup_printf("%s/proc/%" G_GINT64_FORMAT, prefix, pid);
	g_autofree gchar *exe = g_build_filename(dir, "exe", NULL);
	g_autofree gchar *cwd = g_build_filename(dir, "cwd", NULL);
	g_autofree gchar *cmdline_path = g_build_filename(dir, "cmdline", NULL);
	g_autofree gchar *status_path = g_build_filename(dir, "status", NULL);
	g_autofree gchar *uptime_path = g_strconcat(prefix, "/proc/uptime", NULL);
	g_autofree gchar *cmdline = NULL;
	g_autofree gchar *status = NULL;
	g_autofree gchar *uptime = NULL;
	gsize cmdline_size = 0;

	info->pid = pid;
	info->parent = -1;
	info->uptime = -1;
	info->path = g_file_read_link(exe, NULL);
	info->cwd = g_file_read_link(cwd, NULL);
	if (g_file_get_contents(cmdline_path, &cmdline, &cmdline_size, NULL))
		info->cmdline = osqd_proc_connector_join_cmdline(cmdline, cmdline_size);
	if (g_file_get_contents(status_path, &status, NULL, NULL))
		osqd_proc_connector_parse_status(status, info);
	proc_connector_read_stat(exe, info);
	if (prefix[0] == '\0') {
		struct timespec boot;

		/* /proc/uptime is the boot-time clock: no file to open on every exec */
		if (clock_gettime(CLOCK_BOOTTIME, &boot) == 0)
			info->uptime = boot.tv_sec;
	} else if (g_file_get_contents(uptime_path, &uptime, NULL, NULL)) {
		info->uptime = osqd_proc_connector_parse_uptime(uptime);
	}
	return g_steal_pointer(&info);
}

/* ---- rows ---- */

void
osqd_proc_connector_fill_exec(OsqdEventRow *row, const OsqdProcInfo *info)
{
	osqd_event_row_set_int(row, OSQD_PROCESS_EVENTS_COL_PID, info->pid);
	osqd_event_row_set_text(row, OSQD_PROCESS_EVENTS_COL_SYSCALL, "execve");
	osqd_event_row_set_text(row, OSQD_PROCESS_EVENTS_COL_PATH, info->path);
	osqd_event_row_set_text(row, OSQD_PROCESS_EVENTS_COL_CWD, info->cwd);
	if (info->cmdline != NULL) {
		osqd_event_row_set_text(row, OSQD_PROCESS_EVENTS_COL_CMDLINE, info->cmdline);
		osqd_event_row_set_int(row, OSQD_PROCESS_EVENTS_COL_CMDLINE_SIZE,
		                       (gint64)strlen(info->cmdline));
	}
	if (info->has_uids) {
		osqd_event_row_set_int(row, OSQD_PROCESS_EVENTS_COL_UID, info->uid);
		osqd_event_row_set_int(row, OSQD_PROCESS_EVENTS_COL_EUID, info->euid);
		osqd_event_row_set_int(row, OSQD_PROCESS_EVENTS_COL_SUID, info->suid);
		osqd_event_row_set_int(row, OSQD_PROCESS_EVENTS_COL_FSUID, info->fsuid);
	}
	if (info->has_gids) {
		osqd_event_row_set_int(row, OSQD_PROCESS_EVENTS_COL_GID, info->gid);
		osqd_event_row_set_int(row, OSQD_PROCESS_EVENTS_COL_EGID, info->egid);
		osqd_event_row_set_int(row, OSQD_PROCESS_EVENTS_COL_SGID, info->sgid);
		osqd_event_row_set_int(row, OSQD_PROCESS_EVENTS_COL_FSGID, info->fsgid);
	}
	if (info->parent >= 0)
		osqd_event_row_set_int(row, OSQD_PROCESS_EVENTS_COL_PARENT, info->parent);
	if (info->has_stat) {
		osqd_event_row_take_text(row, OSQD_PROCESS_EVENTS_COL_MODE,
		                         g_strdup_printf("%04o", (guint)info->mode));
		osqd_event_row_set_int(row, OSQD_PROCESS_EVENTS_COL_OWNER_UID, info->owner_uid);
		osqd_event_row_set_int(row, OSQD_PROCESS_EVENTS_COL_OWNER_GID, info->owner_gid);
		osqd_event_row_set_int(row, OSQD_PROCESS_EVENTS_COL_ATIME, info->atime);
		osqd_event_row_set_int(row, OSQD_PROCESS_EVENTS_COL_MTIME, info->mtime);
		osqd_event_row_set_int(row, OSQD_PROCESS_EVENTS_COL_CTIME, info->ctime);
		osqd_event_row_set_int(row, OSQD_PROCESS_EVENTS_COL_BTIME, 0);
	}
	if (info->uptime >= 0)
		osqd_event_row_set_int(row, OSQD_PROCESS_EVENTS_COL_UPTIME, info->uptime);
}

void
osqd_proc_connector_fill_exit(OsqdEventRow *row, const OsqdProcEvent *event)
{
	osqd_event_row_set_int(row, OSQD_PROCESS_EVENTS_COL_PID, event->pid);
	osqd_event_row_set_text(row, OSQD_PROCESS_EVENTS_COL_SYSCALL, "exit");
	osqd_event_row_set_int(row, OSQD_PROCESS_EVENTS_COL_EXIT_CODE, event->exit_code);
	if (event->parent_tgid >= 0)
		osqd_event_row_set_int(row, OSQD_PROCESS_EVENTS_COL_PARENT, event->parent_tgid);
}

/* ---- the socket ---- */

static gint
proc_connector_socket_fail(gint fd, gint code, const gchar *what, GError **error)
{
	if (code == EPERM || code == EACCES) {
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_PERMISSION_DENIED,
		            "process connector: needs root (CAP_NET_ADMIN): %s", g_strerror(code));
	} else if (code == EPROTONOSUPPORT || code == EAFNOSUPPORT) {
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_NOT_SUPPORTED,
		            "process connector: not in this kernel (CONFIG_PROC_EVENTS) or not in "
		            "the initial network namespace: %s",
		            g_strerror(code));
	} else {
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_IO, "process connector: cannot %s: %s",
		            what, g_strerror(code));
	}
	if (fd >= 0)
		(void)close(fd);
	return -1;
}

/* Sends a listen or ignore request; FALSE with errno set when the kernel did not take it. */
static gboolean
proc_connector_send(gint fd, enum proc_cn_mcast_op op, guint32 seq, guint32 ack)
{
	guint8 message[NLMSG_SPACE(sizeof(struct cn_msg) + sizeof(op))] = { 0 };
	struct nlmsghdr header = { 0 };
	struct cn_msg msg = { 0 };
	gssize sent;

	header.nlmsg_len = NLMSG_LENGTH(sizeof(msg) + sizeof(op));
	header.nlmsg_type = NLMSG_DONE;
	msg.id.idx = CN_IDX_PROC;
	msg.id.val = CN_VAL_PROC;
	msg.seq = seq;
	msg.ack = ack;
	msg.len = sizeof(op);
	memcpy(message, &header, sizeof(header));
	memcpy(message + NLMSG_HDRLEN, &msg, sizeof(msg));
	memcpy(message + NLMSG_HDRLEN + sizeof(msg), &op, sizeof(op));
	do
		sent = send(fd, message, header.nlmsg_len, 0);
	while (sent < 0 && errno == EINTR);
	return sent == (gssize)header.nlmsg_len;
}

/* Waits for the kernel's answer to our listen request: the one with @ack + 1 (recent kernels
 * give it a per-CPU number, not the request's). Everything read, the answer too (its number
 * counts), is appended to @events. 0, an errno from the kernel, or -1 when no answer came in
 * time. */
static gint
proc_connector_wait_answer(gint fd, guint32 ack, GArray *events, GError **error)
{
	gint64 deadline = g_get_monotonic_time() + PROC_CONNECTOR_ACK_TIMEOUT_MS * 1000;

	for (;;) {
		gint64 left_ms = (deadline - g_get_monotonic_time() + 999) / 1000;
		struct pollfd poll_fd = { .fd = fd, .events = POLLIN };
		g_autoptr(GError) error_local = NULL;
		guint first = events->len;

		if (left_ms <= 0)
			return -1;
		if (poll(&poll_fd, 1, (gint)left_ms) <= 0)
			continue; /* EINTR or the time is up */
		if (osqd_proc_connector_socket_receive(fd, events, &error_local) ==
		    OSQD_NETLINK_RECEIVE_FAILED) {
			g_propagate_error(error, g_steal_pointer(&error_local));
			return -1;
		}
		for (guint i = first; i < events->len; i++) {
			const OsqdProcEvent *event = &g_array_index(events, OsqdProcEvent, i);

			if (event->kind == OSQD_PROC_EVENT_KIND_ACK && event->ack == ack + 1)
				return (gint)event->ack_error;
		}
	}
}

gint
osqd_proc_connector_socket_open(GArray *events, GError **error)
{
	struct sockaddr_nl address = { .nl_family = AF_NETLINK, .nl_groups = CN_IDX_PROC };
	const gint buffer_size = PROC_CONNECTOR_RCVBUF;
	guint32 ack = g_random_int();
	g_autoptr(GError) error_local = NULL;
	gint answer;
	gint fd = socket(PF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_CONNECTOR);

	g_return_val_if_fail(events != NULL, -1);

	if (fd < 0)
		return proc_connector_socket_fail(-1, errno, "open the socket", error);
	/* a burst of forks must fit; SO_RCVBUFFORCE needs CAP_NET_ADMIN, SO_RCVBUF is capped by
	 * net.core.rmem_max */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buffer_size, sizeof(buffer_size)) != 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buffer_size, sizeof(buffer_size));
	if (bind(fd, (const struct sockaddr *)&address, sizeof(address)) != 0)
		return proc_connector_socket_fail(fd, errno, "bind", error);
	if (!proc_connector_send(fd, PROC_CN_MCAST_LISTEN, 0, ack))
		return proc_connector_socket_fail(fd, errno, "send the listen request", error);
	/* a refused request only shows in the answer */
	answer = proc_connector_wait_answer(fd, ack, events, &error_local);
	if (error_local != NULL) {
		(void)close(fd);
		g_propagate_error(error, g_steal_pointer(&error_local));
		return -1;
	}
	if (answer < 0) {
		(void)close(fd);
		g_set_error_literal(error, OSQ_ERROR, OSQ_ERROR_NOT_SUPPORTED,
		                    "process connector: the kernel did not answer (it only takes "
		                    "listeners in the initial user and pid namespace)");
		return -1;
	}
	if (answer > 0)
		return proc_connector_socket_fail(fd, answer, "listen", error);
	return fd;
}

void
osqd_proc_connector_socket_close(gint fd)
{
	if (fd < 0)
		return;
	(void)proc_connector_send(fd, PROC_CN_MCAST_IGNORE, g_random_int(), 0);
	(void)close(fd);
}

OsqdNetlinkReceive
osqd_proc_connector_socket_receive(gint fd, GArray *events, GError **error)
{
	guint8 buffer[PROC_CONNECTOR_BUFFER_SIZE];
	gsize size = 0;
	OsqdNetlinkReceive result = osqd_netlink_receive(fd, buffer, sizeof(buffer), FALSE,
	                                                 "process connector", &size, error);

	if (result != OSQD_NETLINK_RECEIVE_DATA)
		return result;
	if (!osqd_proc_connector_parse(buffer, size, events, error))
		return OSQD_NETLINK_RECEIVE_IGNORED;
	return OSQD_NETLINK_RECEIVE_DATA;
}

/* ---- the publisher ---- */

typedef struct {
	gint fd;
	gchar *root;
	OsqdEventSubscriber *subscriber;
	OsqdProcSeq *seq;
	GArray *events;      /* of OsqdProcEvent: read, not handled yet */
	gboolean overflowed; /* ENOBUFS seen: the gaps that follow are its losses */
	GHashTable *parents; /* pid -> parent pid, from fork events, until the exit */
	gint fanotify;       /* FAN_OPEN_EXEC on the host's file systems; -1: none */
	GHashTable *images;  /* pid -> ProcImage: what it exec'd, until its exec event */
} ProcConnector;

/* The file a process exec'd, from fanotify: still known when the process is long gone. */
typedef struct {
	gchar *path;
	gboolean has_stat;
	struct stat st;
} ProcImage;

static void
proc_image_free(gpointer data)
{
	ProcImage *image = data;

	g_free(image->path);
	g_free(image);
}

#define PROC_CONNECTOR_MAP_MAX 262144

/* ---- fanotify: the executable of every exec, even of programs that end at once ---- */

/* Fields of an ELF header in the file's byte order. */
static guint
proc_elf_u16(const guint8 *b, gboolean little)
{
	return little ? (guint)b[0] | (guint)b[1] << 8 : (guint)b[1] | (guint)b[0] << 8;
}

static guint32
proc_elf_u32(const guint8 *b, gboolean little)
{
	guint32 low = proc_elf_u16(little ? b : b + 2, little);
	guint32 high = proc_elf_u16(little ? b + 2 : b, little);

	return low | high << 16;
}

static guint64
proc_elf_u64(const guint8 *b, gboolean little)
{
	guint64 low = proc_elf_u32(little ? b : b + 4, little);
	guint64 high = proc_elf_u32(little ? b + 4 : b, little);

	return low | high << 32;
}

/* Whether @fd is an ELF program loader (ld.so): position independent and naming no
 * interpreter itself. The kernel opens it for exec after the program, and /proc/<pid>/exe
 * names the program, so fanotify's report of the loader is skipped. */
gboolean
osqd_proc_connector_is_elf_loader(gint fd)
{
	guint8 header[64];
	gboolean wide;
	gboolean little;
	guint64 phoff;
	guint phentsize;
	guint phnum;

	if (pread(fd, header, sizeof(header), 0) != (gssize)sizeof(header) ||
	    memcmp(header, ELFMAG, SELFMAG) != 0)
		return FALSE;
	wide = header[EI_CLASS] == ELFCLASS64;
	little = header[EI_DATA] == ELFDATA2LSB;
	if ((!wide && header[EI_CLASS] != ELFCLASS32) ||
	    (!little && header[EI_DATA] != ELFDATA2MSB))
		return FALSE;
	if (proc_elf_u16(header + 16, little) != ET_DYN)
		return FALSE;
	phoff = wide ? proc_elf_u64(header + 32, little) : proc_elf_u32(header + 28, little);
	phentsize = wide ? proc_elf_u16(header + 54, little) : proc_elf_u16(header + 42, little);
	phnum = wide ? proc_elf_u16(header + 56, little) : proc_elf_u16(header + 44, little);
	if (phentsize < 4 || phnum == 0 || phnum > 512 || phoff > G_MAXINT32)
		return FALSE;
	for (guint i = 0; i < phnum; i++) {
		guint8 type[4];

		if (pread(fd, type, sizeof(type), (off_t)(phoff + (guint64)i * phentsize)) !=
		    (gssize)sizeof(type))
			return FALSE;
		if (proc_elf_u32(type, little) == PT_INTERP)
			return FALSE;
	}
	return TRUE;
}

/* File systems that hold no programs (or cannot be marked). */
static gboolean
proc_connector_fs_skipped(const gchar *type)
{
	static const gchar *const skipped[] = {
		"proc",       "sysfs",     "cgroup",     "cgroup2",     "devpts", "mqueue",
		"debugfs",    "tracefs",   "securityfs", "pstore",      "bpf",    "configfs",
		"fusectl",    "hugetlbfs", "autofs",     "binfmt_misc", "nsfs",   "efivarfs",
		"rpc_pipefs", "selinuxfs", NULL,
	};

	return g_strv_contains(skipped, type);
}

/* The mount points and file system types of /proc/self/mountinfo (pairs). */
static GPtrArray *
proc_connector_mounts(void)
{
	g_autofree gchar *text = NULL;
	g_auto(GStrv) lines = NULL;
	GPtrArray *mounts = g_ptr_array_new_with_free_func(g_free);

	if (!g_file_get_contents("/proc/self/mountinfo", &text, NULL, NULL))
		return mounts;
	lines = g_strsplit(text, "\n", -1);
	for (gchar **line = lines; *line != NULL; line++) {
		g_auto(GStrv) fields = g_strsplit(*line, " ", -1);
		guint n = g_strv_length(fields);
		guint dash = 0;

		for (guint i = 0; i < n; i++) {
			if (g_strcmp0(fields[i], "-") == 0) {
				dash = i;
				break;
			}
		}
		/* id parent major:minor root mount-point options ... - type source ... */
		if (n < 5 || dash == 0 || dash + 1 >= n)
			continue;
		g_ptr_array_add(mounts, g_strcompress(fields[4]));
		g_ptr_array_add(mounts, g_strdup(fields[dash + 1]));
	}
	return mounts;
}

/* Opens a fanotify group that reports every exec on the host's file systems; -1 when the
 * kernel or the privileges do not allow it (the executable is then read from /proc only). */
static gint
proc_connector_fanotify_open(void)
{
	g_autoptr(GPtrArray) mounts = NULL;
	guint marked = 0;
	gint fd = fanotify_init(FAN_CLASS_NOTIF | FAN_CLOEXEC | FAN_NONBLOCK,
	                        O_RDONLY | O_LARGEFILE | O_CLOEXEC);

	if (fd < 0) {
		g_debug("process connector: no fanotify (%s): executables are read from /proc only",
		        g_strerror(errno));
		return -1;
	}
	mounts = proc_connector_mounts();
	for (guint i = 0; i + 1 < mounts->len; i += 2) {
		if (proc_connector_fs_skipped(mounts->pdata[i + 1]))
			continue;
		if (fanotify_mark(fd, FAN_MARK_ADD | FAN_MARK_FILESYSTEM, FAN_OPEN_EXEC, AT_FDCWD,
		                  mounts->pdata[i]) == 0)
			marked++;
	}
	if (marked == 0) {
		g_debug("process connector: fanotify marks refused: executables are read from "
		        "/proc "
		        "only");
		(void)close(fd);
		return -1;
	}
	return fd;
}

/* Notes the file behind one fanotify report as what @pid exec'd last. */
static void
proc_connector_note_image(ProcConnector *self, gint pid, gint fd)
{
	g_autofree gchar *link = NULL;
	ProcImage *image;

	/* ld.so follows the program it loads: the program is what the exec ran */
	if (g_hash_table_contains(self->images, GINT_TO_POINTER(pid)) &&
	    osqd_proc_connector_is_elf_loader(fd))
		return;
	if (g_hash_table_size(self->images) >= PROC_CONNECTOR_MAP_MAX)
		g_hash_table_remove_all(self->images); /* exits were lost: start afresh */
	link = g_strdup_printf("/proc/self/fd/%d", fd);
	image = g_new0(ProcImage, 1);
	image->path = g_file_read_link(link, NULL);
	image->has_stat = fstat(fd, &image->st) == 0;
	if (image->path == NULL) {
		proc_image_free(image);
		return;
	}
	/* a script: its interpreter comes after it, and /proc/<pid>/exe names the interpreter */
	g_hash_table_replace(self->images, GINT_TO_POINTER(pid), image);
}

/* Reads the exec reports queued so far into self->images. */
static void
proc_connector_fanotify_drain(ProcConnector *self)
{
	guint8 buffer[8192] __attribute__((aligned(8)));

	if (self->fanotify < 0)
		return;
	for (;;) {
		gssize n = read(self->fanotify, buffer, sizeof(buffer));

		if (n <= 0)
			return;
		for (gssize offset = 0; offset + (gssize)FAN_EVENT_METADATA_LEN <= n;) {
			struct fanotify_event_metadata meta;

			memcpy(&meta, buffer + offset, sizeof(meta));
			if (meta.event_len < FAN_EVENT_METADATA_LEN ||
			    offset + (gssize)meta.event_len > n)
				break;
			offset += meta.event_len;
			if (meta.fd < 0)
				continue; /* FAN_NOFD: the queue overflowed; /proc still answers */
			proc_connector_note_image(self, meta.pid, meta.fd);
			(void)close(meta.fd);
		}
	}
}

/* Fills what /proc could not say (the process ended first) from fanotify and fork events. */
static void
proc_connector_fill_gaps(ProcConnector *self, OsqdProcInfo *info)
{
	gpointer key = GINT_TO_POINTER(info->pid);
	gpointer parent = NULL;
	ProcImage *image;

	proc_connector_fanotify_drain(self);
	image = g_hash_table_lookup(self->images, key);
	if (image != NULL && info->path == NULL) {
		info->path = g_strdup(image->path);
		if (image->has_stat && !info->has_stat)
			proc_connector_set_stat(info, &image->st);
	}
	(void)g_hash_table_remove(self->images, key);
	if (info->parent < 0 && g_hash_table_lookup_extended(self->parents, key, NULL, &parent))
		info->parent = GPOINTER_TO_INT(parent);
}

static void
proc_connector_handle(OsqdEventPublisher *publisher, ProcConnector *self,
                      const OsqdProcEvent *event)
{
	OsqdEventRow *row;
	guint64 lost;

	/* every event has a number, answers to listen requests too (older kernels give those
	 * CPU -1, not tracked) */
	lost = osqd_proc_connector_seq_check(self->seq, event->cpu, event->seq);
	if (lost > 0) {
		/* an overflow's losses are counted once, exactly, by the gap they leave */
		osqd_event_publisher_count_loss(publisher,
		                                self->overflowed ? OSQD_EVENT_LOSS_KERNEL_OVERFLOW
		                                                 : OSQD_EVENT_LOSS_SEQUENCE_GAP,
		                                lost, TRUE);
		self->overflowed = FALSE;
	}
	/* parents from forks: known even when the process is gone before its exec is read */
	if (event->kind == OSQD_PROC_EVENT_KIND_FORK && event->pid == event->tid) {
		if (g_hash_table_size(self->parents) >= PROC_CONNECTOR_MAP_MAX)
			g_hash_table_remove_all(self->parents);
		g_hash_table_replace(self->parents, GINT_TO_POINTER(event->pid),
		                     GINT_TO_POINTER(event->parent_tgid));
		return;
	}
	if (self->subscriber == NULL || !osqd_event_subscriber_is_enabled(self->subscriber)) {
		if (event->kind == OSQD_PROC_EVENT_KIND_EXIT && event->tid == event->pid) {
			(void)g_hash_table_remove(self->parents, GINT_TO_POINTER(event->pid));
			(void)g_hash_table_remove(self->images, GINT_TO_POINTER(event->pid));
		}
		return;
	}
	if (event->kind == OSQD_PROC_EVENT_KIND_EXEC) {
		g_autoptr(OsqdProcInfo) info =
		        osqd_proc_connector_read_info(self->root, event->pid);

		proc_connector_fill_gaps(self, info);
		row = osqd_event_row_new(self->subscriber);
		osqd_proc_connector_fill_exec(row, info);
	} else if (event->kind == OSQD_PROC_EVENT_KIND_EXIT && event->tid == event->pid) {
		OsqdProcEvent ended = *event;
		gpointer parent = NULL;

		/* the kernel sometimes says 0 (seen for programs that end within a millisecond):
		 * the parent of the fork is the better answer then */
		if (ended.parent_tgid <= 0 &&
		    g_hash_table_lookup_extended(self->parents, GINT_TO_POINTER(event->pid), NULL,
		                                 &parent))
			ended.parent_tgid = GPOINTER_TO_INT(parent);
		(void)g_hash_table_remove(self->parents, GINT_TO_POINTER(event->pid));
		(void)g_hash_table_remove(self->images, GINT_TO_POINTER(event->pid));
		row = osqd_event_row_new(self->subscriber);
		osqd_proc_connector_fill_exit(row, &ended);
	} else {
		return; /* fork, uid, an answer...; or a thread other than the leader ending */
	}
	osqd_event_row_set_time(row, osqd_proc_connector_event_time(event->timestamp_ns,
	                                                            g_get_real_time() * 1000,
	                                                            g_get_monotonic_time() * 1000));
	osqd_event_subscriber_add(self->subscriber, row);
}

static void
proc_connector_handle_all(OsqdEventPublisher *publisher, ProcConnector *self)
{
	for (guint i = 0; i < self->events->len; i++)
		proc_connector_handle(publisher, self,
		                      &g_array_index(self->events, OsqdProcEvent, i));
	g_array_set_size(self->events, 0);
}

/* Reads what is queued, a batch at most; FALSE when the socket is unusable. */
static gboolean
proc_connector_drain(OsqdEventPublisher *publisher, ProcConnector *self)
{
	for (guint i = 0; i < PROC_CONNECTOR_BATCH; i++) {
		g_autoptr(GError) error = NULL;

		switch (osqd_proc_connector_socket_receive(self->fd, self->events, &error)) {
		case OSQD_NETLINK_RECEIVE_DATA:
			break;
		case OSQD_NETLINK_RECEIVE_NONE:
			return TRUE;
		case OSQD_NETLINK_RECEIVE_IGNORED:
			g_debug("%s", error->message);
			break;
		case OSQD_NETLINK_RECEIVE_OVERFLOW:
			/* how many is unknown here; the sequence gap that follows says */
			g_warning("process connector: the kernel's queue overflowed (ENOBUFS); the "
			          "sequence gap that follows counts the lost events");
			self->overflowed = TRUE;
			break;
		case OSQD_NETLINK_RECEIVE_FAILED:
		default:
			g_warning("%s",
			          error != NULL ? error->message : "process connector: failed");
			return FALSE;
		}
		proc_connector_handle_all(publisher, self);
	}
	return TRUE;
}

static gboolean
proc_connector_setup(OsqdEventPublisher *publisher, GError **error)
{
	ProcConnector *self = osqd_event_publisher_get_data(publisher);

	g_return_val_if_fail(self->fd < 0, FALSE);

	self->fd = osqd_proc_connector_socket_open(self->events, error);
	if (self->fd < 0)
		return FALSE;
	/* fixture roots (tests) have no file systems of their own to watch */
	if (self->root[0] == '\0')
		self->fanotify = proc_connector_fanotify_open();
	osqd_event_publisher_set_subscriptions(publisher, 1);
	return TRUE;
}

static void
proc_connector_run(OsqdEventPublisher *publisher)
{
	ProcConnector *self = osqd_event_publisher_get_data(publisher);

	struct sched_param param = { .sched_priority = 1 };

	/* a program may end within a millisecond of its exec, and its /proc files with it: the
	 * thread that reads them runs before ordinary processes when the system allows it */
	if (pthread_setschedparam(pthread_self(), SCHED_FIFO, &param) != 0)
		g_debug("process connector: no real-time priority for the reading thread");
	proc_connector_handle_all(publisher, self); /* read by setup */
	while (!osqd_event_publisher_stopping(publisher)) {
		struct pollfd poll_fd = { .fd = self->fd, .events = POLLIN };
		gint ready = poll(&poll_fd, 1, PROC_CONNECTOR_POLL_MS);

		if (ready < 0 && errno != EINTR) {
			g_warning("process connector: cannot poll the socket: %s",
			          g_strerror(errno));
			return;
		}
		if (ready > 0 && (poll_fd.revents & POLLNVAL) != 0) {
			g_warning("process connector: the socket is closed");
			return;
		}
		if (ready > 0 && !proc_connector_drain(publisher, self))
			return;
		/* fanotify is read when an exec is handled, and here after each wake-up so that
		 * its queue never fills (reports of execs that failed: kept until the exit). Not
		 * polled: a wake-up per report would add to the connector's cost for nothing. */
		proc_connector_fanotify_drain(self);
	}
}

static void
proc_connector_teardown(OsqdEventPublisher *publisher)
{
	ProcConnector *self = osqd_event_publisher_get_data(publisher);

	osqd_proc_connector_socket_close(self->fd);
	self->fd = -1;
	if (self->fanotify >= 0)
		(void)close(self->fanotify);
	self->fanotify = -1;
	g_hash_table_remove_all(self->images);
	g_hash_table_remove_all(self->parents);
	g_array_set_size(self->events, 0);
	osqd_event_publisher_set_subscriptions(publisher, 0);
}

static void
proc_connector_free(gpointer data)
{
	ProcConnector *self = data;

	if (self == NULL)
		return;
	osqd_proc_connector_socket_close(self->fd);
	if (self->fanotify >= 0)
		(void)close(self->fanotify);
	g_hash_table_unref(self->parents);
	g_hash_table_unref(self->images);
	g_free(self->root);
	osqd_proc_connector_seq_free(self->seq);
	g_array_unref(self->events);
	g_free(self);
}

const OsqdEventPublisherClass osqd_proc_connector_class = {
	.name = "proc_connector",
	.setup = proc_connector_setup,
	.configure = NULL,
	.run = proc_connector_run,
	.teardown = proc_connector_teardown,
	.free_data = proc_connector_free,
};

OsqdEventPublisher *
osqd_proc_connector_add(OsqdEvents *events, const gchar *root, GError **error)
{
	ProcConnector *self = g_new0(ProcConnector, 1);
	OsqdEventPublisher *publisher;

	self->fd = -1;
	self->fanotify = -1;
	self->parents = g_hash_table_new(g_direct_hash, g_direct_equal);
	self->images = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, proc_image_free);
	self->root = proc_connector_root(root);
	self->seq = osqd_proc_connector_seq_new();
	self->events = g_array_new(FALSE, FALSE, sizeof(OsqdProcEvent));
	/* the framework owns @self from here (free_data) */
	publisher = osqd_events_add_publisher(events, &osqd_proc_connector_class, self);
	self->subscriber = osqd_events_add_subscriber(events, publisher, "process_events", error);
	if (self->subscriber == NULL)
		return NULL;
	return publisher;
}
