/* SPDX-License-Identifier: Apache-2.0
 *
 * The process connector: the parser on hand-built datagrams (exec, exit, fork, acks, two
 * messages in one, every truncation, lying lengths, netlink errors, random bytes), per-CPU
 * sequence gaps, the /proc reader on a fixture tree (and a pid that is gone), and, as root, the
 * real connector: an exec and exit of a child we start, and the publisher's setup through the
 * framework. Without root those two say they skip.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <poll.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <utime.h>

#include <linux/netlink.h>
#include <linux/connector.h>
#include <linux/cn_proc.h>

#include "osq-error.h"
#include "osqd-events-testing.h"
#include "osqd-proc-connector.h"

/* ---- datagrams ---- */

/* Appends one netlink message (header, @payload) to @datagram, padded as the kernel does. */
static void
append_netlink(GByteArray *datagram, guint16 type, const guint8 *payload, gsize size)
{
	struct nlmsghdr header = { 0 };
	static const guint8 zeros[NLMSG_ALIGNTO] = { 0 };

	header.nlmsg_len = NLMSG_LENGTH(size);
	header.nlmsg_type = type;
	g_byte_array_append(datagram, (const guint8 *)&header, sizeof(header));
	g_byte_array_append(datagram, payload, size);
	g_byte_array_append(datagram, zeros, NLMSG_ALIGN(size) - size);
}

/* Appends a connector message carrying @size bytes of @event. */
static void
append_event(GByteArray *datagram, guint32 idx, guint32 seq, const struct proc_event *event,
             gsize size)
{
	g_autoptr(GByteArray) payload = g_byte_array_new();
	struct cn_msg msg = { 0 };

	msg.id.idx = idx;
	msg.id.val = CN_VAL_PROC;
	msg.seq = seq;
	msg.len = size;
	g_byte_array_append(payload, (const guint8 *)&msg, sizeof(msg));
	g_byte_array_append(payload, (const guint8 *)event, size);
	append_netlink(datagram, NLMSG_DONE, payload->data, payload->len);
}

static struct proc_event
exec_event(guint32 cpu, gint32 tid, gint32 pid)
{
	struct proc_event event = { 0 };

	event.what = PROC_EVENT_EXEC;
	event.cpu = cpu;
	event.timestamp_ns = G_GUINT64_CONSTANT(123456789012);
	event.event_data.exec.process_pid = tid;
	event.event_data.exec.process_tgid = pid;
	return event;
}

static struct proc_event
exit_event(gint32 pid, guint32 code, gint32 parent)
{
	struct proc_event event = { 0 };

	event.what = PROC_EVENT_EXIT;
	event.cpu = 1;
	event.event_data.exit.process_pid = pid;
	event.event_data.exit.process_tgid = pid;
	event.event_data.exit.exit_code = code;
	event.event_data.exit.parent_pid = parent;
	event.event_data.exit.parent_tgid = parent;
	return event;
}

static GArray *
events_new(void)
{
	return g_array_new(FALSE, TRUE, sizeof(OsqdProcEvent));
}

static OsqdProcEvent *
event_at(GArray *events, guint i)
{
	return &g_array_index(events, OsqdProcEvent, i);
}

/* Parses @size bytes of @data from an odd address, so nothing relies on alignment. */
static gboolean
parse_unaligned(const guint8 *data, gsize size, GArray *events, GError **error)
{
	g_autofree guint8 *copy = g_malloc(size + 1);

	if (size > 0)
		memcpy(copy + 1, data, size);
	return osqd_proc_connector_parse(copy + 1, size, events, error);
}

static void
test_parse_exec(void **state)
{
	g_autoptr(GByteArray) datagram = g_byte_array_new();
	g_autoptr(GArray) events = events_new();
	g_autoptr(GError) error = NULL;
	struct proc_event event = exec_event(3, 1234, 1230);

	append_event(datagram, CN_IDX_PROC, 42, &event, sizeof(event));
	assert_int_equal(datagram->len, 16 + 20 + 40);
	assert_true(parse_unaligned(datagram->data, datagram->len, events, &error));
	assert_null(error);
	assert_int_equal(events->len, 1);
	assert_int_equal(event_at(events, 0)->kind, OSQD_PROC_EVENT_KIND_EXEC);
	assert_int_equal(event_at(events, 0)->cpu, 3);
	assert_int_equal(event_at(events, 0)->seq, 42);
	assert_int_equal(event_at(events, 0)->pid, 1230);
	assert_int_equal(event_at(events, 0)->tid, 1234);
	assert_int_equal(event_at(events, 0)->timestamp_ns, G_GUINT64_CONSTANT(123456789012));
}

static void
test_parse_exit(void **state)
{
	g_autoptr(GByteArray) datagram = g_byte_array_new();
	g_autoptr(GArray) events = events_new();
	g_autoptr(GError) error = NULL;
	struct proc_event event = exit_event(500, 256, 1);
	/* before Linux 4.x the exit event ended after exit_signal: no parent */
	gsize old_size = offsetof(struct proc_event, event_data) +
	                 offsetof(struct exit_proc_event, parent_pid);

	append_event(datagram, CN_IDX_PROC, 7, &event, sizeof(event));
	append_event(datagram, CN_IDX_PROC, 8, &event, old_size);
	assert_true(osqd_proc_connector_parse(datagram->data, datagram->len, events, &error));
	assert_int_equal(events->len, 2);
	assert_int_equal(event_at(events, 0)->kind, OSQD_PROC_EVENT_KIND_EXIT);
	assert_int_equal(event_at(events, 0)->pid, 500);
	assert_int_equal(event_at(events, 0)->tid, 500);
	assert_int_equal(event_at(events, 0)->exit_code, 256);
	assert_int_equal(event_at(events, 0)->parent_tgid, 1);
	assert_int_equal(event_at(events, 0)->seq, 7);
	assert_int_equal(event_at(events, 1)->kind, OSQD_PROC_EVENT_KIND_EXIT);
	assert_int_equal(event_at(events, 1)->exit_code, 256);
	assert_int_equal(event_at(events, 1)->parent_tgid, -1);
}

static void
test_parse_other_kinds(void **state)
{
	g_autoptr(GByteArray) datagram = g_byte_array_new();
	g_autoptr(GArray) events = events_new();
	g_autoptr(GError) error = NULL;
	struct proc_event fork = { 0 };
	struct proc_event answer = { 0 };
	struct proc_event exec = exec_event(0, 9, 9);

	fork.what = PROC_EVENT_FORK;
	fork.cpu = 2;
	fork.event_data.fork.child_pid = 10;
	fork.event_data.fork.child_tgid = 10;
	fork.event_data.fork.parent_tgid = 4;
	answer.what = PROC_EVENT_NONE;
	answer.cpu = G_MAXUINT32;
	answer.event_data.ack.err = EPERM;

	append_event(datagram, CN_IDX_PROC, 99, &fork, sizeof(fork));
	append_event(datagram, CN_IDX_PROC, 5, &answer, sizeof(answer));
	append_event(datagram, CN_IDX_PROC + 1, 1, &exec, sizeof(exec)); /* another connector */
	assert_true(osqd_proc_connector_parse(datagram->data, datagram->len, events, &error));
	assert_int_equal(events->len, 2);
	/* a fork is no row, but its number counts for the gaps, and its parent is kept */
	assert_int_equal(event_at(events, 0)->kind, OSQD_PROC_EVENT_KIND_FORK);
	assert_int_equal(event_at(events, 0)->pid, 10);
	assert_int_equal(event_at(events, 0)->parent_tgid, 4);
	assert_int_equal(event_at(events, 0)->cpu, 2);
	assert_int_equal(event_at(events, 0)->seq, 99);
	assert_int_equal(event_at(events, 1)->kind, OSQD_PROC_EVENT_KIND_ACK);
	assert_int_equal(event_at(events, 1)->ack_error, EPERM);
}

static void
test_parse_two_messages(void **state)
{
	g_autoptr(GByteArray) datagram = g_byte_array_new();
	g_autoptr(GArray) events = events_new();
	g_autoptr(GError) error = NULL;
	struct proc_event exec = exec_event(0, 77, 77);
	struct proc_event ended = exit_event(78, 9, 77);

	append_event(datagram, CN_IDX_PROC, 1, &exec, sizeof(exec));
	append_netlink(datagram, NLMSG_NOOP, (const guint8 *)"abc", 3); /* padded, skipped */
	append_event(datagram, CN_IDX_PROC, 2, &ended, sizeof(ended));
	assert_true(osqd_proc_connector_parse(datagram->data, datagram->len, events, &error));
	assert_null(error);
	assert_int_equal(events->len, 2);
	assert_int_equal(event_at(events, 0)->kind, OSQD_PROC_EVENT_KIND_EXEC);
	assert_int_equal(event_at(events, 0)->pid, 77);
	assert_int_equal(event_at(events, 1)->kind, OSQD_PROC_EVENT_KIND_EXIT);
	assert_int_equal(event_at(events, 1)->pid, 78);
	assert_int_equal(event_at(events, 1)->exit_code, 9);
}

static void
test_parse_truncated(void **state)
{
	g_autoptr(GByteArray) datagram = g_byte_array_new();
	struct proc_event exec = exec_event(0, 1, 1);
	struct proc_event ended = exit_event(2, 0, 1);
	gsize first;

	append_event(datagram, CN_IDX_PROC, 1, &exec, sizeof(exec));
	first = datagram->len;
	append_event(datagram, CN_IDX_PROC, 2, &ended, sizeof(ended));
	for (gsize size = 0; size <= datagram->len; size++) {
		g_autoptr(GArray) events = events_new();
		g_autoptr(GError) error = NULL;
		gboolean ok = parse_unaligned(datagram->data, size, events, &error);

		if (size == first || size == datagram->len) {
			assert_true(ok);
			assert_int_equal(events->len, size == first ? 1 : 2);
			continue;
		}
		assert_false(ok);
		assert_true(g_error_matches(error, OSQ_ERROR, OSQ_ERROR_INVALID_ARGUMENT));
		/* what came before the cut is kept */
		assert_int_equal(events->len, size > first ? 1 : 0);
	}
}

/* Overwrites the 16-bit or 32-bit field at @offset of @datagram. */
static void
poke32(GByteArray *datagram, gsize offset, guint32 value)
{
	memcpy(datagram->data + offset, &value, sizeof(value));
}

static void
poke16(GByteArray *datagram, gsize offset, guint16 value)
{
	memcpy(datagram->data + offset, &value, sizeof(value));
}

static gboolean
parse_fails(GByteArray *datagram)
{
	g_autoptr(GArray) events = events_new();
	g_autoptr(GError) error = NULL;
	gboolean ok = osqd_proc_connector_parse(datagram->data, datagram->len, events, &error);

	if (ok)
		return FALSE;
	assert_non_null(error);
	assert_int_equal(events->len, 0);
	return TRUE;
}

static void
test_parse_garbage_lengths(void **state)
{
	struct proc_event exec = exec_event(0, 1, 1);
	const gsize nl_len = offsetof(struct nlmsghdr, nlmsg_len);
	const gsize cn_len = NLMSG_HDRLEN + offsetof(struct cn_msg, len);
	const gsize data_offset = NLMSG_HDRLEN + sizeof(struct cn_msg);
	const gsize exec_size = offsetof(struct proc_event, event_data) + 8;
	g_autoptr(GByteArray) datagram = g_byte_array_new();

	append_event(datagram, CN_IDX_PROC, 1, &exec, sizeof(exec));
	poke32(datagram, nl_len, 8); /* shorter than its own header */
	assert_true(parse_fails(datagram));
	poke32(datagram, nl_len, datagram->len + 4); /* longer than the datagram */
	assert_true(parse_fails(datagram));
	poke32(datagram, nl_len, G_MAXUINT32);
	assert_true(parse_fails(datagram));
	poke32(datagram, nl_len, NLMSG_HDRLEN + 10); /* a cn_msg cut short */
	assert_true(parse_fails(datagram));
	poke32(datagram, nl_len, datagram->len);

	poke16(datagram, cn_len, sizeof(exec) + 1); /* data past the message */
	assert_true(parse_fails(datagram));
	poke16(datagram, cn_len, G_MAXUINT16);
	assert_true(parse_fails(datagram));
	poke16(datagram, cn_len, 12); /* not even what, cpu and the time */
	assert_true(parse_fails(datagram));
	poke16(datagram, cn_len, exec_size - 1); /* an exec without its tgid */
	assert_true(parse_fails(datagram));
	poke16(datagram, cn_len, exec_size);
	assert_false(parse_fails(datagram));

	/* an exit too short for its code, an answer too short for its error */
	poke32(datagram, data_offset, PROC_EVENT_EXIT);
	poke16(datagram, cn_len, offsetof(struct proc_event, event_data) + 12);
	assert_true(parse_fails(datagram));
	poke32(datagram, data_offset, PROC_EVENT_NONE);
	poke16(datagram, cn_len, offsetof(struct proc_event, event_data) + 2);
	assert_true(parse_fails(datagram));
	/* an unknown kind of event needs no data */
	poke32(datagram, data_offset, 0x1000);
	assert_false(parse_fails(datagram));

	/* a few stray bytes after a good message */
	g_byte_array_set_size(datagram, 0);
	append_event(datagram, CN_IDX_PROC, 1, &exec, sizeof(exec));
	g_byte_array_append(datagram, (const guint8 *)"\1\2\3", 3);
	{
		g_autoptr(GArray) events = events_new();

		assert_false(
		        osqd_proc_connector_parse(datagram->data, datagram->len, events, NULL));
		assert_int_equal(events->len, 1);
	}
}

static void
test_parse_netlink_error(void **state)
{
	g_autoptr(GByteArray) refused = g_byte_array_new();
	g_autoptr(GByteArray) acked = g_byte_array_new();
	g_autoptr(GByteArray) short_error = g_byte_array_new();
	g_autoptr(GArray) events = events_new();
	g_autoptr(GError) error = NULL;
	struct nlmsgerr failure = { .error = -EPERM };
	struct nlmsgerr success = { .error = 0 };

	append_netlink(refused, NLMSG_ERROR, (const guint8 *)&failure, sizeof(failure));
	assert_false(osqd_proc_connector_parse(refused->data, refused->len, events, &error));
	assert_true(g_error_matches(error, OSQ_ERROR, OSQ_ERROR_IO));
	g_clear_error(&error);

	append_netlink(acked, NLMSG_ERROR, (const guint8 *)&success, sizeof(success));
	assert_true(osqd_proc_connector_parse(acked->data, acked->len, events, &error));
	assert_int_equal(events->len, 0);

	append_netlink(short_error, NLMSG_ERROR, (const guint8 *)&success, 2);
	assert_false(osqd_proc_connector_parse(short_error->data, short_error->len, events, NULL));
	assert_false(osqd_proc_connector_parse((const guint8 *)"", 0, events, NULL));
	assert_int_equal(events->len, 0);
}

/* Random bytes, and random bytes behind a plausible header: no crash, no read past the end
 * (valgrind and ASan watch), and no event from what did not parse. */
static void
test_parse_random(void **state)
{
	g_autoptr(GRand) rand = g_rand_new_with_seed(4242);

	for (guint i = 0; i < 5000; i++) {
		gsize size = g_rand_int_range(rand, 0, 200);
		g_autofree guint8 *data = g_malloc(size + 1);
		g_autoptr(GArray) events = events_new();
		g_autoptr(GError) error = NULL;
		gboolean ok;

		for (gsize j = 0; j < size; j++)
			data[j] = (guint8)g_rand_int(rand);
		if (size >= NLMSG_HDRLEN && i % 2 == 0) {
			guint32 len = g_rand_int_range(rand, 0, size + 1);
			guint16 type = NLMSG_DONE;

			memcpy(data + offsetof(struct nlmsghdr, nlmsg_len), &len, sizeof(len));
			memcpy(data + offsetof(struct nlmsghdr, nlmsg_type), &type, sizeof(type));
		}
		ok = osqd_proc_connector_parse(data, size, events, &error);
		assert_true(ok == (error == NULL));
	}
}

static void
test_event_time(void **state)
{
	const gint64 second = G_GINT64_CONSTANT(1000000000);
	const gint64 now = G_GINT64_CONSTANT(1700000000) * second;

	/* stamped 3 s ago in monotonic time */
	assert_int_equal(osqd_proc_connector_event_time(97 * second, now, 100 * second),
	                 1700000000 - 3);
	assert_int_equal(osqd_proc_connector_event_time(100 * second, now, 100 * second),
	                 1700000000);
	/* from the future (garbage): now */
	assert_int_equal(osqd_proc_connector_event_time(200 * second, now, 100 * second),
	                 1700000000);
}

/* ---- sequence gaps ---- */

static void
test_seq_gaps(void **state)
{
	g_autoptr(OsqdProcSeq) seq = osqd_proc_connector_seq_new();

	assert_int_equal(osqd_proc_connector_seq_check(seq, 0, 100), 0); /* baseline */
	assert_int_equal(osqd_proc_connector_seq_check(seq, 0, 101), 0);
	assert_int_equal(osqd_proc_connector_seq_check(seq, 0, 106), 4);
	assert_int_equal(osqd_proc_connector_seq_check(seq, 0, 107), 0);

	/* each CPU has its own counter and baseline */
	assert_int_equal(osqd_proc_connector_seq_check(seq, 5, 3), 0);
	assert_int_equal(osqd_proc_connector_seq_check(seq, 1, 1000), 0);
	assert_int_equal(osqd_proc_connector_seq_check(seq, 5, 4), 0);
	assert_int_equal(osqd_proc_connector_seq_check(seq, 0, 108), 0);
	assert_int_equal(osqd_proc_connector_seq_check(seq, 1, 1002), 1);
	assert_int_equal(osqd_proc_connector_seq_check(seq, 5, 10), 5);

	/* backwards (a restart), a repeat, a wrap: new baselines, nothing counted */
	assert_int_equal(osqd_proc_connector_seq_check(seq, 0, 3), 0);
	assert_int_equal(osqd_proc_connector_seq_check(seq, 0, 4), 0);
	assert_int_equal(osqd_proc_connector_seq_check(seq, 0, 4), 0);
	assert_int_equal(osqd_proc_connector_seq_check(seq, 0, 5), 0);
	assert_int_equal(osqd_proc_connector_seq_check(seq, 2, G_MAXUINT32), 0);
	assert_int_equal(osqd_proc_connector_seq_check(seq, 2, 0), 0);
	assert_int_equal(osqd_proc_connector_seq_check(seq, 2, 2), 1);

	/* a CPU index past the cap is not tracked */
	assert_int_equal(osqd_proc_connector_seq_check(seq, 4096, 1), 0);
	assert_int_equal(osqd_proc_connector_seq_check(seq, 4096, 100), 0);
	assert_int_equal(osqd_proc_connector_seq_check(seq, G_MAXUINT32, 100), 0);
	assert_int_equal(osqd_proc_connector_seq_check(seq, 4095, 1), 0);
	assert_int_equal(osqd_proc_connector_seq_check(seq, 4095, 3), 1);
}

/* ---- /proc ---- */

static void
test_parse_status(void **state)
{
	OsqdProcInfo info = { .parent = -1 };
	OsqdProcInfo bad = { .parent = -1 };

	osqd_proc_connector_parse_status("Name:\tcat\nUmask:\t0022\nState:\tR (running)\n"
	                                 "Tgid:\t4242\nPid:\t4242\nPPid:\t77\n"
	                                 "Uid:\t1000\t1001\t1002\t1003\n"
	                                 "Gid:\t2000\t2001\t2002\t2003\nGroups:\t27 100",
	                                 &info);
	assert_true(info.has_uids);
	assert_int_equal(info.uid, 1000);
	assert_int_equal(info.euid, 1001);
	assert_int_equal(info.suid, 1002);
	assert_int_equal(info.fsuid, 1003);
	assert_true(info.has_gids);
	assert_int_equal(info.gid, 2000);
	assert_int_equal(info.egid, 2001);
	assert_int_equal(info.sgid, 2002);
	assert_int_equal(info.fsgid, 2003);
	assert_int_equal(info.parent, 77);

	/* three ids, a sign, a word, nothing after the colon: all ignored */
	osqd_proc_connector_parse_status("Uid:\t1\t2\t3\nGid:\t-1\t2\t3\t4\nPPid:\tx\nPPid:", &bad);
	assert_false(bad.has_uids);
	assert_false(bad.has_gids);
	assert_int_equal(bad.parent, -1);
	osqd_proc_connector_parse_status("", &bad);
	osqd_proc_connector_parse_status("Uid:\t1\t2\t3\t4x\n", &bad);
	assert_false(bad.has_uids);
}

static void
test_parse_uptime_cmdline(void **state)
{
	g_autofree gchar *args = osqd_proc_connector_join_cmdline("ls\0-l\0/tmp dir\0", 15);
	g_autofree gchar *one = osqd_proc_connector_join_cmdline("sleep", 5);
	g_autofree gchar *empty = osqd_proc_connector_join_cmdline("\0\0", 2);
	g_autofree gchar *none = osqd_proc_connector_join_cmdline("", 0);

	assert_int_equal(osqd_proc_connector_parse_uptime("12345.67 890.12\n"), 12345);
	assert_int_equal(osqd_proc_connector_parse_uptime("0.50 0.10\n"), 0);
	assert_int_equal(osqd_proc_connector_parse_uptime("up"), -1);
	assert_int_equal(osqd_proc_connector_parse_uptime(""), -1);
	assert_int_equal(osqd_proc_connector_parse_uptime(NULL), -1);
	assert_string_equal(args, "ls -l /tmp dir");
	assert_string_equal(one, "sleep");
	assert_string_equal(empty, "");
	assert_string_equal(none, "");
}

static void
write_file(const gchar *path, const gchar *contents, gssize size)
{
	g_autoptr(GError) error = NULL;

	if (!g_file_set_contents(path, contents, size, &error))
		fail_msg("%s: %s", path, error->message);
}

/* Writes an ELF file of @class with @type and the program header types @phdrs. */
static gint
elf_file(const gchar *dir, const gchar *name, guint8 class, guint16 type, const guint32 *phdrs,
         guint count)
{
	g_autofree gchar *path = g_build_filename(dir, name, NULL);
	guint8 data[1024] = { 0 };
	gboolean wide = class == ELFCLASS64;
	gsize phoff = wide ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr);
	gsize phentsize = wide ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);
	gint fd;

	memcpy(data, ELFMAG, SELFMAG);
	data[EI_CLASS] = class;
	data[EI_DATA] = ELFDATA2LSB;
	data[EI_VERSION] = EV_CURRENT;
	if (wide) {
		Elf64_Ehdr header;

		memcpy(&header, data, sizeof(header));
		header.e_type = type;
		header.e_phoff = phoff;
		header.e_phentsize = (Elf64_Half)phentsize;
		header.e_phnum = (Elf64_Half)count;
		memcpy(data, &header, sizeof(header));
	} else {
		Elf32_Ehdr header;

		memcpy(&header, data, sizeof(header));
		header.e_type = type;
		header.e_phoff = (Elf32_Off)phoff;
		header.e_phentsize = (Elf32_Half)phentsize;
		header.e_phnum = (Elf32_Half)count;
		memcpy(data, &header, sizeof(header));
	}
	for (guint i = 0; i < count; i++)
		memcpy(data + phoff + i * phentsize, &phdrs[i], sizeof(guint32));
	assert_true(g_file_set_contents(path, (const gchar *)data,
	                                (gssize)(phoff + count * phentsize), NULL));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	return fd;
}

static void
test_elf_loader(void **state)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *dir = g_dir_make_tmp("osqd-elf-XXXXXX", &error);
	const guint32 loader[] = { PT_LOAD, PT_DYNAMIC, PT_LOAD };
	const guint32 program[] = { PT_PHDR, PT_INTERP, PT_LOAD };
	g_autofree gchar *script_path = NULL;
	gint fd;

	(void)state;
	assert_non_null(dir);
	/* ld.so: ET_DYN, no PT_INTERP (64 and 32 bits) */
	fd = elf_file(dir, "ld64", ELFCLASS64, ET_DYN, loader, G_N_ELEMENTS(loader));
	assert_true(osqd_proc_connector_is_elf_loader(fd));
	(void)close(fd);
	fd = elf_file(dir, "ld32", ELFCLASS32, ET_DYN, loader, G_N_ELEMENTS(loader));
	assert_true(osqd_proc_connector_is_elf_loader(fd));
	(void)close(fd);
	/* a PIE program names its interpreter; a static program is ET_EXEC */
	fd = elf_file(dir, "pie", ELFCLASS64, ET_DYN, program, G_N_ELEMENTS(program));
	assert_false(osqd_proc_connector_is_elf_loader(fd));
	(void)close(fd);
	fd = elf_file(dir, "static", ELFCLASS64, ET_EXEC, loader, G_N_ELEMENTS(loader));
	assert_false(osqd_proc_connector_is_elf_loader(fd));
	(void)close(fd);
	/* program headers past the end of the file: not a loader */
	{
		g_autofree gchar *path = g_build_filename(dir, "cut", NULL);
		guint8 data[sizeof(Elf64_Ehdr)] = { 0 };
		Elf64_Ehdr header;

		memcpy(data, ELFMAG, SELFMAG);
		data[EI_CLASS] = ELFCLASS64;
		data[EI_DATA] = ELFDATA2LSB;
		memcpy(&header, data, sizeof(header));
		header.e_type = ET_DYN;
		header.e_phoff = 4096;
		header.e_phentsize = sizeof(Elf64_Phdr);
		header.e_phnum = 3;
		assert_true(
		        g_file_set_contents(path, (const gchar *)&header, sizeof(header), NULL));
		fd = open(path, O_RDONLY | O_CLOEXEC);
		assert_false(osqd_proc_connector_is_elf_loader(fd));
		(void)close(fd);
	}
	/* a script, an empty file, and a real program (this test) */
	script_path = g_build_filename(dir, "script", NULL);
	assert_true(g_file_set_contents(script_path, "#!/bin/sh\nexit 0\n", -1, NULL));
	fd = open(script_path, O_RDONLY | O_CLOEXEC);
	assert_false(osqd_proc_connector_is_elf_loader(fd));
	(void)close(fd);
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	assert_false(osqd_proc_connector_is_elf_loader(fd));
	(void)close(fd);
	fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	assert_false(osqd_proc_connector_is_elf_loader(fd));
	(void)close(fd);
	assert_true(osqd_events_testing_remove_tree(dir));
}

static void
test_read_info_fixture(void **state)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *root = g_dir_make_tmp("osqd-proc-connector-XXXXXX", &error);
	g_autofree gchar *proc_pid = NULL;
	g_autofree gchar *tool = NULL;
	g_autofree gchar *work = NULL;
	g_autofree gchar *path = NULL;
	g_autofree gchar *root_slash = NULL;
	g_autoptr(OsqdProcInfo) info = NULL;
	g_autoptr(OsqdProcInfo) gone = NULL;
	g_autoptr(OsqdProcInfo) slashed = NULL;
	struct utimbuf times = { .actime = 1600000000, .modtime = 1500000000 };
	struct stat st;

	assert_non_null(root);
	proc_pid = g_build_filename(root, "proc", "4242", NULL);
	tool = g_build_filename(root, "usr", "bin", "tool", NULL);
	work = g_build_filename(root, "home", "work", NULL);
	assert_int_equal(g_mkdir_with_parents(proc_pid, 0755), 0);
	assert_int_equal(g_mkdir_with_parents(work, 0755), 0);
	path = g_build_filename(root, "usr", "bin", NULL);
	assert_int_equal(g_mkdir_with_parents(path, 0755), 0);
	write_file(tool, "#!/bin/sh\n", -1);
	assert_int_equal(chmod(tool, 0751), 0);
	assert_int_equal(utime(tool, &times), 0);
	g_free(path);
	path = g_build_filename(proc_pid, "exe", NULL);
	assert_int_equal(symlink(tool, path), 0);
	g_free(path);
	path = g_build_filename(proc_pid, "cwd", NULL);
	assert_int_equal(symlink(work, path), 0);
	g_free(path);
	path = g_build_filename(proc_pid, "cmdline", NULL);
	write_file(path, "tool\0--flag\0two words\0", 22);
	g_free(path);
	path = g_build_filename(proc_pid, "status", NULL);
	write_file(path,
	           "Name:\ttool\nPPid:\t1\nUid:\t0\t1000\t0\t1000\nGid:\t5\t6\t7\t8\nThreads:\t1\n",
	           -1);
	g_free(path);
	path = g_build_filename(root, "proc", "uptime", NULL);
	write_file(path, "8765.43 12000.00\n", -1);

	info = osqd_proc_connector_read_info(root, 4242);
	assert_int_equal(info->pid, 4242);
	assert_string_equal(info->path, tool);
	assert_string_equal(info->cwd, work);
	assert_string_equal(info->cmdline, "tool --flag two words");
	assert_true(info->has_uids);
	assert_int_equal(info->uid, 0);
	assert_int_equal(info->euid, 1000);
	assert_int_equal(info->suid, 0);
	assert_int_equal(info->fsuid, 1000);
	assert_true(info->has_gids);
	assert_int_equal(info->gid, 5);
	assert_int_equal(info->fsgid, 8);
	assert_int_equal(info->parent, 1);
	assert_true(info->has_stat);
	assert_int_equal(info->mode, 0751);
	assert_int_equal(stat(tool, &st), 0);
	assert_int_equal(info->owner_uid, st.st_uid);
	assert_int_equal(info->owner_gid, st.st_gid);
	assert_int_equal(info->atime, 1600000000);
	assert_int_equal(info->mtime, 1500000000);
	assert_int_equal(info->ctime, st.st_ctim.tv_sec);
	assert_int_equal(info->uptime, 8765);

	/* the process is gone: nothing but its pid (and the system's uptime) */
	gone = osqd_proc_connector_read_info(root, 4343);
	assert_int_equal(gone->pid, 4343);
	assert_null(gone->path);
	assert_null(gone->cwd);
	assert_null(gone->cmdline);
	assert_false(gone->has_uids);
	assert_false(gone->has_gids);
	assert_false(gone->has_stat);
	assert_int_equal(gone->parent, -1);
	assert_int_equal(gone->uptime, 8765);

	/* a trailing slash on the root is the same root */
	root_slash = g_strconcat(root, "/", NULL);
	slashed = osqd_proc_connector_read_info(root_slash, 4242);
	assert_string_equal(slashed->path, tool);

	assert_true(osqd_events_testing_remove_tree(root));
}

static void
test_read_info_live(void **state)
{
	g_autoptr(OsqdProcInfo) self = osqd_proc_connector_read_info("/", getpid());
	g_autoptr(OsqdProcInfo) same = osqd_proc_connector_read_info(NULL, getpid());

	assert_non_null(self->path); /* the test, or valgrind's tool under valgrind */
	assert_true(g_path_is_absolute(self->path));
	assert_true(self->has_uids);
	assert_int_equal(self->uid, getuid());
	assert_int_equal(self->euid, geteuid());
	assert_int_equal(self->parent, getppid());
	assert_true(self->has_stat);
	{
		/* the live uptime comes from the boot-time clock: /proc/uptime's own figure */
		g_autofree gchar *text = NULL;
		gint64 proc_uptime;

		assert_true(g_file_get_contents("/proc/uptime", &text, NULL, NULL));
		proc_uptime = osqd_proc_connector_parse_uptime(text);
		assert_true(self->uptime >= 0);
		assert_true(self->uptime >= proc_uptime - 1 && self->uptime <= proc_uptime + 1);
	}
	assert_string_equal(same->path, self->path);
}

/* ---- the real connector (root) ---- */

/* Reads events until an exec and the exit of @child are seen, or 5 s pass; returns how many
 * events the sequence numbers say were lost, counting from the @early ones. */
static guint64
wait_for_child(gint fd, GArray *early, pid_t child, OsqdProcEvent *exec, OsqdProcEvent *ended)
{
	gint64 deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
	g_autoptr(GArray) events = events_new();
	g_autoptr(OsqdProcSeq) seq = osqd_proc_connector_seq_new();
	guint64 lost = 0;

	for (guint i = 0; i < early->len; i++)
		lost += osqd_proc_connector_seq_check(seq, event_at(early, i)->cpu,
		                                      event_at(early, i)->seq);

	while ((exec->pid == 0 || ended->pid == 0) && g_get_monotonic_time() < deadline) {
		struct pollfd poll_fd = { .fd = fd, .events = POLLIN };
		g_autoptr(GError) error = NULL;

		if (poll(&poll_fd, 1, 100) <= 0)
			continue;
		assert_int_not_equal(osqd_proc_connector_socket_receive(fd, events, &error),
		                     OSQD_NETLINK_RECEIVE_FAILED);
		for (guint i = 0; i < events->len; i++) {
			OsqdProcEvent *event = event_at(events, i);

			lost += osqd_proc_connector_seq_check(seq, event->cpu, event->seq);
			if (event->pid != child)
				continue;
			if (event->kind == OSQD_PROC_EVENT_KIND_EXEC)
				*exec = *event;
			if (event->kind == OSQD_PROC_EVENT_KIND_EXIT)
				*ended = *event;
		}
		g_array_set_size(events, 0);
	}
	return lost;
}

static void
test_live_socket(void **state)
{
	g_autoptr(GArray) early = events_new();
	g_autoptr(GError) error = NULL;
	OsqdProcEvent exec = { 0 };
	OsqdProcEvent ended = { 0 };
	gint status = 0;
	pid_t child;
	gint fd;

	if (geteuid() != 0) {
		print_message("skipped: needs root\n");
		skip();
	}
	fd = osqd_proc_connector_socket_open(early, &error);
	if (fd < 0 && g_error_matches(error, OSQ_ERROR, OSQ_ERROR_NOT_SUPPORTED)) {
		print_message("skipped: %s\n", error->message);
		skip();
	}
	if (fd < 0)
		fail_msg("%s", error->message);
	child = fork();
	if (child == 0) {
		execl("/bin/true", "true", (char *)NULL);
		_exit(127);
	}
	assert_true(child > 0);
	/* the kernel's answer is numbered like the events: no gap either side of it */
	assert_int_equal(wait_for_child(fd, early, child, &exec, &ended), 0);
	assert_int_equal(waitpid(child, &status, 0), child);
	osqd_proc_connector_socket_close(fd);

	assert_int_equal(exec.kind, OSQD_PROC_EVENT_KIND_EXEC);
	assert_int_equal(exec.pid, child);
	assert_int_equal(exec.tid, child);
	assert_int_equal(ended.kind, OSQD_PROC_EVENT_KIND_EXIT);
	assert_int_equal(ended.exit_code, (guint32)status);
	assert_int_equal(ended.parent_tgid, getpid());
}

static void
run_child(void)
{
	gint status = 0;
	pid_t child = fork();

	if (child == 0) {
		execl("/bin/true", "true", (char *)NULL);
		_exit(127);
	}
	assert_true(child > 0);
	assert_int_equal(waitpid(child, &status, 0), child);
}

static void
test_live_publisher(void **state)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *dir = NULL;
	g_autofree gchar *database = NULL;
	OsqdEventsConfig config = { 0 };
	OsqdEvents *events;
	OsqdEventPublisher *publisher;
	OsqdEventRow *row;
	OsqdProcEvent ended = { .pid = 1, .tid = 1, .exit_code = 256, .parent_tgid = 0 };
	g_autoptr(OsqdProcInfo) info = NULL;
	if (geteuid() != 0) {
		print_message("skipped: needs root\n");
		skip();
	}
	dir = osqd_events_testing_database("osqd-proc-connector-XXXXXX", &database, &error);
	if (dir == NULL)
		fail_msg("%s", error->message);
	config.database_path = database;
	events = osqd_events_new(&config, &error);
	if (events == NULL)
		fail_msg("%s", error->message);

	publisher = osqd_proc_connector_add(events, "/", &error);
	assert_non_null(publisher);
	assert_ptr_equal(osqd_events_find_publisher(events, "proc_connector"), publisher);
	assert_non_null(osqd_events_find_subscriber(events, "process_events"));
	/* one subscriber per table */
	assert_null(osqd_proc_connector_add(events, "/", NULL));

	if (!osqd_proc_connector_class.setup(publisher, &error)) {
		if (!g_error_matches(error, OSQ_ERROR, OSQ_ERROR_NOT_SUPPORTED))
			fail_msg("%s", error->message);
		print_message("skipped: %s\n", error->message);
	} else {
		osqd_proc_connector_class.teardown(publisher);
		/* and for real, on the publisher's thread: our child's exec becomes a row */
		osqd_events_start(events, NULL);
		run_child();
		assert_true(osqd_event_subscriber_wait(
		        osqd_events_find_subscriber(events, "process_events"), 0,
		        g_get_monotonic_time() + 5 * G_USEC_PER_SEC, NULL));
	}

	/* the row builders fill a real row */
	info = osqd_proc_connector_read_info("/", getpid());
	row = osqd_event_row_new(osqd_events_find_subscriber(events, "process_events"));
	osqd_proc_connector_fill_exec(row, info);
	osqd_event_row_free(row);
	row = osqd_event_row_new(osqd_events_find_subscriber(events, "process_events"));
	osqd_proc_connector_fill_exit(row, &ended);
	osqd_event_row_free(row);

	osqd_events_free(events);
	assert_true(osqd_events_testing_remove_tree(dir));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_exec),
		cmocka_unit_test(test_parse_exit),
		cmocka_unit_test(test_parse_other_kinds),
		cmocka_unit_test(test_parse_two_messages),
		cmocka_unit_test(test_parse_truncated),
		cmocka_unit_test(test_parse_garbage_lengths),
		cmocka_unit_test(test_parse_netlink_error),
		cmocka_unit_test(test_parse_random),
		cmocka_unit_test(test_event_time),
		cmocka_unit_test(test_seq_gaps),
		cmocka_unit_test(test_parse_status),
		cmocka_unit_test(test_parse_uptime_cmdline),
		cmocka_unit_test(test_elf_loader),
		cmocka_unit_test(test_read_info_fixture),
		cmocka_unit_test(test_read_info_live),
		cmocka_unit_test(test_live_socket),
		cmocka_unit_test(test_live_publisher),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
