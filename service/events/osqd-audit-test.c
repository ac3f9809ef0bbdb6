/* SPDX-License-Identifier: Apache-2.0
 *
 * The audit publisher: the record parsers on hand-written records (the header, key=value with
 * quoted, hex and (null) values, every truncation of a record), socket addresses (IPv4, IPv6,
 * Unix paths and abstract names, other families, garbage), netlink framing (the records' length
 * quirk, acks, replies), the grouping by serial (in order, interleaved, without an EOE, the cap)
 * and the row decisions, a row through the framework; and, as root with no other audit process,
 * the live socket: a child's connect to a listener of ours arrives, and after close our rules
 * are gone and the previous settings are back. The live test's cleanup is a cmocka teardown, so
 * it runs when an assertion fails too.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <glib/gstdio.h>
#include <netinet/in.h>
#include <poll.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/audit.h>
#include <linux/netlink.h>

#include "osq-error.h"
#include "osq-store.pb-c.h"
#include "osqd-audit.h"
#include "osqd-events-testing.h"
#include "osqd-tables-generated.h"

#define HEAD "audit(1700000000.123:4567): "

/* A connect by curl to 93.184.216.34:443, as the kernel writes it. */
#define CONNECT_SYSCALL                                                                            \
	HEAD "arch=c000003e syscall=42 success=yes exit=0 a0=3 a1=7ffc2a1b3c40 a2=10 a3=0 "        \
	     "items=0 ppid=1000 pid=1234 auid=1000 uid=1000 gid=1000 euid=1000 suid=1000 "         \
	     "fsuid=1000 egid=1000 sgid=1000 fsgid=1000 tty=pts0 ses=2 comm=\"curl\" "             \
	     "exe=\"/usr/bin/curl\" subj=unconfined key=\"osq-sockets\""
#define CONNECT_SOCKADDR HEAD "saddr=020001BB5DB8D8220000000000000000"

/* Parses @text from a buffer of exactly its size, without a NUL. */
static OsqdAuditRecord *
record_exact(guint type, const gchar *text, gsize size, GError **error)
{
	g_autofree gchar *copy = g_memdup2(text, MAX(size, 1));

	return osqd_audit_record_parse(type, copy, size, error);
}

static OsqdAuditRecord *
record(guint type, const gchar *text)
{
	g_autoptr(GError) error = NULL;
	OsqdAuditRecord *parsed = record_exact(type, text, strlen(text), &error);

	if (parsed == NULL)
		fail_msg("%s: %s", text, error->message);
	return parsed;
}

/* ---- records ---- */

static void
test_header(void **state)
{
	const gchar *body = NULL;
	gint64 seconds = 0;
	guint32 millis = 0;
	guint64 serial = 0;
	static const gchar *bad[] = {
		"",
		"audit",
		"audit(",
		"audit(1700000000",
		"audit(1700000000.",
		"audit(1700000000.123",
		"audit(1700000000.123:",
		"audit(1700000000.123:4567",
		"audit(1700000000.123:4567)",
		"audit(1700000000.1234:4567): ", /* milliseconds: 3 digits at most */
		"audit(.123:4567): ",
		"audit(1700000000.123:): ",
		"audit(-1.123:4567): ",
		"audit(1700000000.123:99999999999999999999999): ",
		"type=SYSCALL msg=audit(1700000000.123:4567): ", /* auditd's log, not netlink */
	};

	assert_true(osqd_audit_parse_header(HEAD "arch=c000003e", &seconds, &millis, &serial, &body,
	                                    NULL));
	assert_int_equal(seconds, 1700000000);
	assert_int_equal(millis, 123);
	assert_int_equal(serial, 4567);
	assert_string_equal(body, "arch=c000003e");
	/* an EOE has nothing after the header */
	assert_true(osqd_audit_parse_header("audit(1.5:18446744073709551615):", &seconds, &millis,
	                                    &serial, &body, NULL));
	assert_int_equal(seconds, 1);
	assert_int_equal(millis, 5);
	assert_true(serial == G_MAXUINT64);
	assert_string_equal(body, "");
	for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autoptr(GError) error = NULL;

		if (osqd_audit_parse_header(bad[i], NULL, NULL, NULL, NULL, &error))
			fail_msg("accepted: %s", bad[i]);
		assert_true(g_error_matches(error, OSQ_ERROR, OSQ_ERROR_INVALID_ARGUMENT));
	}
}

static void
test_fields(void **state)
{
	g_autoptr(OsqdAuditRecord) syscall = record(AUDIT_SYSCALL, CONNECT_SYSCALL);
	g_autoptr(GHashTable) odd = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *exe = NULL;
	g_autofree gchar *comm = NULL;
	gint64 value = 0;

	assert_int_equal(syscall->type, AUDIT_SYSCALL);
	assert_int_equal(syscall->serial, 4567);
	assert_int_equal(syscall->time, 1700000000);
	assert_string_equal(osqd_audit_record_get(syscall, "arch"), "c000003e");
	assert_string_equal(osqd_audit_record_get(syscall, "exe"), "\"/usr/bin/curl\"");
	assert_string_equal(osqd_audit_record_get(syscall, "subj"), "unconfined");
	assert_null(osqd_audit_record_get(syscall, "missing"));
	assert_true(osqd_audit_record_get_int(syscall, "arch", 16, &value));
	assert_int_equal(value, 0xc000003e);
	assert_true(osqd_audit_record_get_int(syscall, "a1", 16, &value));
	assert_int_equal(value, 0x7ffc2a1b3c40);
	assert_true(osqd_audit_record_get_int(syscall, "pid", 10, &value));
	assert_int_equal(value, 1234);
	assert_false(osqd_audit_record_get_int(syscall, "comm", 10, &value));
	assert_false(osqd_audit_record_get_int(syscall, "missing", 10, &value));
	exe = osqd_audit_decode_string(osqd_audit_record_get(syscall, "exe"));
	assert_string_equal(exe, "/usr/bin/curl");

	/* hex (a path with a space), (null), a negative exit, words without '=', a repeated key,
	 * a quoted value with spaces, odd blanks */
	odd = osqd_audit_parse_fields("exe=2F746D702F6D7920746F6F6C key=(null) exit=-115 lonely "
	                              "=nokey comm=\"a b\"  \tcomm=\"second\" empty= tail",
	                              &error);
	assert_non_null(odd);
	assert_string_equal(g_hash_table_lookup(odd, "exe"), "2F746D702F6D7920746F6F6C");
	assert_string_equal(g_hash_table_lookup(odd, "key"), "(null)");
	assert_string_equal(g_hash_table_lookup(odd, "exit"), "-115");
	assert_string_equal(g_hash_table_lookup(odd, "comm"), "\"a b\"");
	assert_string_equal(g_hash_table_lookup(odd, "empty"), "");
	assert_null(g_hash_table_lookup(odd, "lonely"));
	assert_null(g_hash_table_lookup(odd, ""));
	assert_int_equal(g_hash_table_size(odd), 5);
	g_free(exe);
	exe = osqd_audit_decode_string(g_hash_table_lookup(odd, "exe"));
	assert_string_equal(exe, "/tmp/my tool");
	assert_null(osqd_audit_decode_string("(null)"));
	assert_null(osqd_audit_decode_string(NULL));
	comm = osqd_audit_decode_string(g_hash_table_lookup(odd, "comm"));
	assert_string_equal(comm, "a b");
	g_free(comm);
	comm = osqd_audit_decode_string("41420043"); /* cut at the NUL */
	assert_string_equal(comm, "AB");
	g_free(comm);
	comm = osqd_audit_decode_string("unconfined"); /* neither: as it is */
	assert_string_equal(comm, "unconfined");
	g_free(comm);
	comm = osqd_audit_decode_string("\"");
	assert_string_equal(comm, "\"");

	/* a quote that never closes */
	assert_null(osqd_audit_parse_fields("a=1 comm=\"cut", &error));
	assert_true(g_error_matches(error, OSQ_ERROR, OSQ_ERROR_INVALID_ARGUMENT));
}

static void
test_fields_limit(void **state)
{
	g_autoptr(GString) body = g_string_new(NULL);
	g_autoptr(GHashTable) fields = NULL;
	g_autoptr(GError) error = NULL;

	for (guint i = 0; i < OSQD_AUDIT_MAX_FIELDS; i++)
		g_string_append_printf(body, "k%u=%u ", i, i);
	fields = osqd_audit_parse_fields(body->str, &error);
	assert_non_null(fields);
	assert_int_equal(g_hash_table_size(fields), OSQD_AUDIT_MAX_FIELDS);
	g_string_append(body, "one=more");
	assert_null(osqd_audit_parse_fields(body->str, &error));
	assert_true(g_error_matches(error, OSQ_ERROR, OSQ_ERROR_LIMIT));
}

/* Every prefix of a record parses or fails cleanly; those that parse keep the header. */
static void
test_record_truncations(void **state)
{
	static const gchar *records[] = { CONNECT_SYSCALL, CONNECT_SOCKADDR, HEAD };
	const gsize head = strlen(HEAD) - 1; /* the blank after ':' is optional */

	for (gsize r = 0; r < G_N_ELEMENTS(records); r++) {
		const gchar *text = records[r];

		for (gsize size = 0; size <= strlen(text); size++) {
			g_autoptr(GError) error = NULL;
			g_autoptr(OsqdAuditRecord) parsed =
			        record_exact(AUDIT_SYSCALL, text, size, &error);

			if (size < head) {
				assert_null(parsed);
				assert_true(g_error_matches(error, OSQ_ERROR,
				                            OSQ_ERROR_INVALID_ARGUMENT));
				continue;
			}
			if (parsed == NULL) {
				/* only a cut inside a quoted value fails past the header */
				assert_true(g_error_matches(error, OSQ_ERROR,
				                            OSQ_ERROR_INVALID_ARGUMENT));
				assert_int_equal(
				        g_strstr_len(text + head, size - head, "\"") != NULL, TRUE);
				continue;
			}
			assert_int_equal(parsed->serial, 4567);
			assert_int_equal(parsed->time, 1700000000);
		}
	}
}

/* ---- socket addresses ---- */

static void
test_sockaddr(void **state)
{
	OsqdAuditSockaddr address = { 0 };
	g_autoptr(GError) error = NULL;
	static const gchar *bad[] = { "", "0", "02", "020", "zz00", "0200 0", "02000050C0A8000" };

	if (G_BYTE_ORDER != G_LITTLE_ENDIAN)
		skip(); /* the family is in host order: these are little-endian */

	assert_true(osqd_audit_parse_sockaddr("02000050C0A800010000000000000000", &address, NULL));
	assert_int_equal(address.family, AF_INET);
	assert_string_equal(address.address, "192.168.0.1");
	assert_int_equal(address.port, 80);
	assert_null(address.path);
	osqd_audit_sockaddr_clear(&address);

	/* sockaddr_in6: [::1]:8080, flow info and scope id 0; lowercase hex is fine too */
	assert_true(osqd_audit_parse_sockaddr("0a001f900000000000000000000000000000000000000001"
	                                      "00000000",
	                                      &address, NULL));
	assert_int_equal(address.family, AF_INET6);
	assert_string_equal(address.address, "::1");
	assert_int_equal(address.port, 8080);
	osqd_audit_sockaddr_clear(&address);
	assert_true(osqd_audit_parse_sockaddr("0A0001BB0000000020010DB8000000000000000000000042",
	                                      &address, NULL));
	assert_string_equal(address.address, "2001:db8::42");
	assert_int_equal(address.port, 443);
	osqd_audit_sockaddr_clear(&address);

	/* Unix: a path (to its NUL), an abstract name ('@', its NULs as '@'), unnamed */
	assert_true(osqd_audit_parse_sockaddr("01002F72756E2F782E736F636B00", &address, NULL));
	assert_int_equal(address.family, AF_UNIX);
	assert_string_equal(address.path, "/run/x.sock");
	assert_null(address.address);
	assert_int_equal(address.port, 0);
	osqd_audit_sockaddr_clear(&address);
	assert_true(osqd_audit_parse_sockaddr("010000646275730061", &address, NULL));
	assert_string_equal(address.path, "@dbus@a");
	osqd_audit_sockaddr_clear(&address);
	assert_true(osqd_audit_parse_sockaddr("0100", &address, NULL));
	assert_string_equal(address.path, "");
	osqd_audit_sockaddr_clear(&address);

	/* other families, and addresses too short for theirs: the family only */
	assert_true(osqd_audit_parse_sockaddr("100000000000000000000000", &address, NULL));
	assert_int_equal(address.family, 16); /* AF_NETLINK */
	assert_null(address.address);
	assert_null(address.path);
	osqd_audit_sockaddr_clear(&address);
	assert_true(osqd_audit_parse_sockaddr("02000050C0A8", &address, NULL));
	assert_int_equal(address.family, AF_INET);
	assert_null(address.address);
	assert_int_equal(address.port, 0);
	osqd_audit_sockaddr_clear(&address);
	assert_true(osqd_audit_parse_sockaddr("0A001F90000000000000000000000000000000", &address,
	                                      NULL));
	assert_int_equal(address.family, AF_INET6);
	assert_null(address.address);
	osqd_audit_sockaddr_clear(&address);

	for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_clear_error(&error);
		if (osqd_audit_parse_sockaddr(bad[i], &address, &error))
			fail_msg("accepted: %s", bad[i]);
		assert_true(g_error_matches(error, OSQ_ERROR, OSQ_ERROR_INVALID_ARGUMENT));
		osqd_audit_sockaddr_clear(&address);
	}
	g_clear_error(&error);
	assert_false(osqd_audit_parse_sockaddr(NULL, &address, &error));
	osqd_audit_sockaddr_clear(&address);
}

/* Random hex of every length: no crash, no read past the end (valgrind, ASan). */
static void
test_sockaddr_random(void **state)
{
	g_autoptr(GRand) rand = g_rand_new_with_seed(1306);

	for (guint i = 0; i < 3000; i++) {
		gsize length = (gsize)g_rand_int_range(rand, 0, 300);
		g_autofree gchar *hex = g_malloc(length + 1);
		OsqdAuditSockaddr address = { 0 };

		for (gsize j = 0; j < length; j++)
			hex[j] = "0123456789abcdefAF"[g_rand_int_range(rand, 0, 18)];
		if (length >= 4 && i % 3 == 0)
			memcpy(hex, i % 2 == 0 ? "0100" : "0a00", 4);
		hex[length] = '\0';
		(void)osqd_audit_parse_sockaddr(hex, &address, NULL);
		osqd_audit_sockaddr_clear(&address);
	}
}

/* ---- netlink ---- */

static void
append_message(GByteArray *datagram, guint16 type, guint32 seq, guint32 length, const void *payload,
               gsize size)
{
	struct nlmsghdr header = { .nlmsg_len = length, .nlmsg_type = type, .nlmsg_seq = seq };
	static const guint8 zeros[NLMSG_ALIGNTO] = { 0 };

	g_byte_array_append(datagram, (const guint8 *)&header, sizeof(header));
	g_byte_array_append(datagram, payload, (guint)size);
	g_byte_array_append(datagram, zeros, (guint)(NLMSG_ALIGN(size) - size));
}

static GPtrArray *
messages_new(void)
{
	return g_ptr_array_new_with_free_func((GDestroyNotify)osqd_audit_message_free);
}

static void
test_netlink(void **state)
{
	g_autoptr(GByteArray) datagram = g_byte_array_new();
	g_autoptr(GPtrArray) messages = messages_new();
	struct nlmsgerr ack = { .error = 0 };
	struct nlmsgerr refused = { .error = -EEXIST };
	struct audit_status status = { .pid = 42, .backlog_limit = 8192 };
	const OsqdAuditMessage *message;
	gsize size = 0;

	/* a record: nlmsg_len leaves the header out */
	append_message(datagram, AUDIT_SYSCALL, 0, strlen(CONNECT_SYSCALL), CONNECT_SYSCALL,
	               strlen(CONNECT_SYSCALL));
	assert_true(osqd_audit_parse_netlink(datagram->data, datagram->len, messages, NULL));
	assert_int_equal(messages->len, 1);
	message = g_ptr_array_index(messages, 0);
	assert_int_equal(message->type, AUDIT_SYSCALL);
	assert_memory_equal(g_bytes_get_data(message->payload, &size), CONNECT_SYSCALL,
	                    strlen(CONNECT_SYSCALL));
	assert_int_equal(size, strlen(CONNECT_SYSCALL)); /* padding dropped */

	/* answers: an ack, a refusal and a status reply in one datagram, normal lengths */
	g_byte_array_set_size(datagram, 0);
	g_ptr_array_set_size(messages, 0);
	append_message(datagram, NLMSG_ERROR, 7, NLMSG_LENGTH(sizeof(ack)), &ack, sizeof(ack));
	append_message(datagram, NLMSG_ERROR, 8, NLMSG_LENGTH(sizeof(refused)), &refused,
	               sizeof(refused));
	append_message(datagram, AUDIT_GET, 9, NLMSG_LENGTH(sizeof(status)), &status,
	               sizeof(status));
	assert_true(osqd_audit_parse_netlink(datagram->data, datagram->len, messages, NULL));
	assert_int_equal(messages->len, 3);
	message = g_ptr_array_index(messages, 0);
	assert_int_equal(message->type, NLMSG_ERROR);
	assert_int_equal(message->seq, 7);
	assert_int_equal(message->error, 0);
	message = g_ptr_array_index(messages, 1);
	assert_int_equal(message->error, -EEXIST);
	message = g_ptr_array_index(messages, 2);
	assert_int_equal(message->type, AUDIT_GET);
	assert_int_equal(message->seq, 9);
	assert_int_equal(g_bytes_get_size(message->payload), sizeof(status));

	/* every truncation: clean failures, the complete messages before the cut kept */
	for (gsize cut = 0; cut < datagram->len; cut++) {
		g_autoptr(GPtrArray) some = messages_new();
		g_autoptr(GError) error = NULL;
		g_autofree guint8 *copy = g_memdup2(datagram->data, MAX(cut, 1));

		if (osqd_audit_parse_netlink(copy, cut, some, &error))
			assert_true(cut == NLMSG_SPACE(sizeof(ack)) ||
			            cut == 2 * NLMSG_SPACE(sizeof(ack)));
		else
			assert_true(g_error_matches(error, OSQ_ERROR, OSQ_ERROR_INVALID_ARGUMENT));
	}
	/* a length past the datagram, an error message without its code */
	g_byte_array_set_size(datagram, 0);
	append_message(datagram, NLMSG_ERROR, 1, 200, &ack, sizeof(ack));
	assert_false(osqd_audit_parse_netlink(datagram->data, datagram->len, messages, NULL));
	g_byte_array_set_size(datagram, 0);
	append_message(datagram, NLMSG_ERROR, 1, NLMSG_LENGTH(2), &ack, 2);
	assert_false(osqd_audit_parse_netlink(datagram->data, datagram->len, messages, NULL));
}

/* ---- groups ---- */

static GPtrArray *
done_new(void)
{
	return g_ptr_array_new_with_free_func((GDestroyNotify)osqd_audit_event_free);
}

static OsqdAuditRecord *
record_of(guint type, guint64 serial, const gchar *body)
{
	g_autofree gchar *text =
	        g_strdup_printf("audit(1700000000.500:%" G_GUINT64_FORMAT "): %s", serial, body);

	return record(type, text);
}

static OsqdAuditEvent *
done_at(GPtrArray *done, guint i)
{
	return g_ptr_array_index(done, i);
}

static void
test_groups_in_order(void **state)
{
	g_autoptr(OsqdAuditGroups) groups = osqd_audit_groups_new(16, G_USEC_PER_SEC);
	g_autoptr(GPtrArray) done = done_new();

	assert_int_equal(
	        osqd_audit_groups_add(groups, record(AUDIT_SYSCALL, CONNECT_SYSCALL), 0, done), 0);
	assert_int_equal(
	        osqd_audit_groups_add(groups, record(AUDIT_SOCKADDR, CONNECT_SOCKADDR), 0, done),
	        0);
	/* another type in the middle (PROCTITLE), a repeated SYSCALL: ignored */
	osqd_audit_groups_add(groups, record(1327, HEAD "proctitle=6375726C"), 0, done);
	osqd_audit_groups_add(groups, record(AUDIT_SYSCALL, HEAD "syscall=1"), 0, done);
	assert_int_equal(done->len, 0);
	assert_int_equal(osqd_audit_groups_get_open(groups), 1);
	osqd_audit_groups_add(groups, record(AUDIT_EOE, HEAD), 10, done);
	assert_int_equal(done->len, 1);
	assert_int_equal(osqd_audit_groups_get_open(groups), 0);
	assert_int_equal(done_at(done, 0)->serial, 4567);
	assert_int_equal(done_at(done, 0)->time, 1700000000);
	assert_true(done_at(done, 0)->ended);
	assert_string_equal(osqd_audit_record_get(done_at(done, 0)->syscall, "syscall"), "42");
	assert_non_null(done_at(done, 0)->sockaddr);
	/* an EOE of nothing we keep */
	osqd_audit_groups_add(groups, record(AUDIT_EOE, HEAD), 20, done);
	assert_int_equal(done->len, 1);
}

static void
test_groups_interleaved(void **state)
{
	g_autoptr(OsqdAuditGroups) groups = osqd_audit_groups_new(16, G_USEC_PER_SEC);
	g_autoptr(GPtrArray) done = done_new();

	osqd_audit_groups_add(groups, record_of(AUDIT_SYSCALL, 10, "syscall=49"), 0, done);
	osqd_audit_groups_add(groups, record_of(AUDIT_SYSCALL, 11, "syscall=42"), 1, done);
	osqd_audit_groups_add(groups, record_of(AUDIT_SOCKADDR, 11, "saddr=0100"), 2, done);
	osqd_audit_groups_add(groups, record_of(AUDIT_SOCKADDR, 10, "saddr=0200"), 3, done);
	osqd_audit_groups_add(groups, record_of(AUDIT_EOE, 11, ""), 4, done);
	assert_int_equal(done->len, 1);
	assert_int_equal(done_at(done, 0)->serial, 11);
	assert_string_equal(osqd_audit_record_get(done_at(done, 0)->sockaddr, "saddr"), "0100");
	osqd_audit_groups_add(groups, record_of(AUDIT_EOE, 10, ""), 5, done);
	assert_int_equal(done->len, 2);
	assert_int_equal(done_at(done, 1)->serial, 10);
	assert_string_equal(osqd_audit_record_get(done_at(done, 1)->syscall, "syscall"), "49");
	assert_string_equal(osqd_audit_record_get(done_at(done, 1)->sockaddr, "saddr"), "0200");
}

static void
test_groups_without_eoe(void **state)
{
	g_autoptr(OsqdAuditGroups) groups = osqd_audit_groups_new(16, G_USEC_PER_SEC);
	g_autoptr(GPtrArray) done = done_new();

	osqd_audit_groups_add(groups, record_of(AUDIT_SYSCALL, 1, "syscall=42"), 0, done);
	/* a newer serial within the second: both stay open */
	osqd_audit_groups_add(groups, record_of(AUDIT_SYSCALL, 2, "syscall=42"), 500000, done);
	assert_int_equal(done->len, 0);
	/* a newer serial a second after the first: the first is complete */
	osqd_audit_groups_add(groups, record_of(AUDIT_SYSCALL, 3, "syscall=42"), G_USEC_PER_SEC,
	                      done);
	assert_int_equal(done->len, 1);
	assert_int_equal(done_at(done, 0)->serial, 1);
	assert_false(done_at(done, 0)->ended);
	/* a late record of an open group does not flush anything */
	osqd_audit_groups_add(groups, record_of(AUDIT_SOCKADDR, 2, "saddr=0200"),
	                      9 * G_USEC_PER_SEC, done);
	assert_int_equal(done->len, 1);
	/* the run loop's flush, by age and then of everything */
	osqd_audit_groups_flush(groups, 1600000, done);
	assert_int_equal(done->len, 2);
	assert_int_equal(done_at(done, 1)->serial, 2);
	assert_non_null(done_at(done, 1)->sockaddr);
	osqd_audit_groups_flush(groups, G_MAXINT64, done);
	assert_int_equal(done->len, 3);
	assert_int_equal(osqd_audit_groups_get_open(groups), 0);
}

static void
test_groups_cap(void **state)
{
	g_autoptr(OsqdAuditGroups) groups = osqd_audit_groups_new(4, G_USEC_PER_SEC);
	g_autoptr(GPtrArray) done = done_new();
	guint dropped = 0;

	for (guint64 serial = 100; serial < 110; serial++)
		dropped += osqd_audit_groups_add(groups, record_of(AUDIT_SYSCALL, serial, "a0=1"),
		                                 0, done);
	assert_int_equal(dropped, 6);
	assert_int_equal(osqd_audit_groups_get_open(groups), 4);
	assert_int_equal(done->len, 0);
	/* the oldest went: 100 to 105; 106 is still there */
	osqd_audit_groups_add(groups, record_of(AUDIT_EOE, 105, ""), 0, done);
	assert_int_equal(done->len, 0);
	osqd_audit_groups_add(groups, record_of(AUDIT_EOE, 106, ""), 0, done);
	assert_int_equal(done->len, 1);
	assert_int_equal(done_at(done, 0)->serial, 106);
}

/* ---- rows ---- */

/* The row of a SYSCALL record with @body and, when not NULL, a SOCKADDR with @saddr. */
static OsqdAuditSocket *
decide(const gchar *body, const gchar *saddr, gboolean allow_failed, gboolean allow_unix)
{
	g_autoptr(OsqdAuditEvent) event = g_new0(OsqdAuditEvent, 1);
	g_autofree gchar *syscall = g_strconcat(HEAD, body, NULL);

	event->serial = 4567;
	event->time = 1700000000;
	event->syscall = record(AUDIT_SYSCALL, syscall);
	if (saddr != NULL) {
		g_autofree gchar *sockaddr = g_strconcat(HEAD "saddr=", saddr, NULL);

		event->sockaddr = record(AUDIT_SOCKADDR, sockaddr);
	}
	return osqd_audit_socket_new(event, allow_failed, allow_unix);
}

#define X86_64 "arch=c000003e "
#define I386   "arch=40000003 "
#define PEOPLE " ppid=1 pid=321 auid=4294967295 uid=0 comm=\"srv\" exe=\"/usr/sbin/srv\""
#define IPV4   "02001F907F0000010000000000000000" /* 127.0.0.1:8080 */

static void
test_rows(void **state)
{
	g_autoptr(OsqdAuditSocket) bind =
	        decide(X86_64 "syscall=49 success=yes exit=0 a0=1a" PEOPLE, IPV4, FALSE, FALSE);
	g_autoptr(OsqdAuditSocket) connect =
	        decide(X86_64 "syscall=42 success=no exit=-115 a0=5" PEOPLE, IPV4, FALSE, FALSE);
	g_autoptr(OsqdAuditSocket) accept4 =
	        decide(X86_64 "syscall=288 success=yes exit=7 a0=4" PEOPLE, IPV4, FALSE, FALSE);
	g_autoptr(OsqdAuditSocket) socketcall = decide(
	        I386 "syscall=102 success=yes exit=0 a0=2 a1=ffd0a4c0" PEOPLE, IPV4, FALSE, FALSE);
	g_autoptr(OsqdAuditSocket) i386_connect = decide(
	        I386 "syscall=362 success=yes exit=0 a0=ffffffff" PEOPLE, IPV4, FALSE, FALSE);
	g_autoptr(OsqdAuditSocket) no_address =
	        decide(X86_64 "syscall=43 success=yes exit=9 a0=3" PEOPLE, NULL, FALSE, FALSE);
	g_autoptr(OsqdAuditSocket) bad_address =
	        decide(X86_64 "syscall=43 success=yes exit=9 a0=3" PEOPLE, "0", FALSE, FALSE);

	assert_non_null(bind);
	assert_string_equal(bind->action, "bind");
	assert_int_equal(bind->pid, 321);
	assert_string_equal(bind->path, "/usr/sbin/srv");
	assert_string_equal(bind->fd, "26"); /* a0 is hex */
	assert_int_equal(bind->auid, 4294967295);
	assert_int_equal(bind->address.family, AF_INET);
	assert_string_equal(bind->address.address, "127.0.0.1");
	assert_int_equal(bind->address.port, 8080);
	assert_true(bind->success);
	assert_string_equal(bind->status, "succeeded");
	assert_int_equal(bind->time, 1700000000);

	/* a non-blocking connect is kept without allow_failed */
	assert_non_null(connect);
	assert_string_equal(connect->action, "connect");
	assert_false(connect->success);
	assert_string_equal(connect->status, "in_progress");

	assert_non_null(accept4);
	assert_string_equal(accept4->action, "accept");
	assert_string_equal(accept4->fd, "4");

	/* socketcall: the call in a0, the socket unknown */
	assert_non_null(socketcall);
	assert_string_equal(socketcall->action, "bind");
	assert_null(socketcall->fd);
	assert_non_null(i386_connect);
	assert_string_equal(i386_connect->action, "connect");
	assert_string_equal(i386_connect->fd, "-1");

	assert_non_null(no_address);
	assert_int_equal(no_address->address.family, -1);
	assert_null(no_address->address.address);
	assert_non_null(bad_address);
	assert_int_equal(bad_address->address.family, -1);
}

static void
test_rows_socketcall(void **state)
{
	static const struct {
		const gchar *a0;
		const gchar *action;
	} calls[] = { { "2", "bind" },    { "3", "connect" }, { "5", "accept" },
		      { "12", "accept" }, { "1", NULL },      { "9", NULL } };

	for (gsize i = 0; i < G_N_ELEMENTS(calls); i++) {
		g_autofree gchar *body = g_strdup_printf(
		        I386 "syscall=102 success=yes exit=0 a0=%s" PEOPLE, calls[i].a0);
		g_autoptr(OsqdAuditSocket) socket = decide(body, IPV4, FALSE, FALSE);

		if (calls[i].action == NULL) {
			assert_null(socket);
			continue;
		}
		assert_non_null(socket);
		assert_string_equal(socket->action, calls[i].action);
	}
}

static void
test_rows_dropped(void **state)
{
	const gchar *failed = X86_64 "syscall=42 success=no exit=-111 a0=3" PEOPLE;
	const gchar *no_client = X86_64 "syscall=43 success=no exit=-11 a0=3" PEOPLE;
	const gchar *unix_bind = X86_64 "syscall=49 success=yes exit=0 a0=3" PEOPLE;
	const gchar *unix_path = "01002F72756E2F782E736F636B00";
	g_autoptr(OsqdAuditSocket) kept_failed = decide(failed, IPV4, TRUE, FALSE);
	g_autoptr(OsqdAuditSocket) kept_no_client = decide(no_client, NULL, TRUE, FALSE);
	g_autoptr(OsqdAuditSocket) kept_unix = decide(unix_bind, unix_path, FALSE, TRUE);
	g_autoptr(OsqdAuditEvent) empty = g_new0(OsqdAuditEvent, 1);

	assert_null(decide(failed, IPV4, FALSE, TRUE));
	assert_non_null(kept_failed);
	assert_string_equal(kept_failed->status, "failed");
	assert_false(kept_failed->success);

	assert_null(decide(no_client, NULL, FALSE, FALSE));
	assert_non_null(kept_no_client);
	assert_string_equal(kept_no_client->status, "no_client");

	assert_null(decide(unix_bind, unix_path, TRUE, FALSE));
	assert_non_null(kept_unix);
	assert_string_equal(kept_unix->address.path, "/run/x.sock");

	/* not ours: another call, another arch, the wrong arch for the number, no SYSCALL */
	assert_null(decide(X86_64 "syscall=59 success=yes exit=0 a0=3" PEOPLE, NULL, TRUE, TRUE));
	assert_null(decide("arch=c00000b7 syscall=42 success=yes exit=0 a0=3" PEOPLE, NULL, TRUE,
	                   TRUE));
	assert_null(decide(I386 "syscall=42 success=yes exit=0 a0=3" PEOPLE, NULL, TRUE, TRUE));
	assert_null(decide(X86_64 "syscall=102 success=yes exit=0 a0=2" PEOPLE, NULL, TRUE, TRUE));
	assert_null(decide("syscall=42 success=yes exit=0 a0=3" PEOPLE, NULL, TRUE, TRUE));
	assert_null(decide(X86_64 "syscall=42 success=yes exit=0 a0=3", NULL, TRUE, TRUE));
	assert_null(osqd_audit_socket_new(empty, TRUE, TRUE));
}

/* ---- through the framework ---- */

/* rm -r @path */
/* The committed socket_events rows of @database, each a GPtrArray of values as text (NULL:
 * NULL); `time` is kept beside the row, in its own column of the events table. */
static GPtrArray *
stored_rows(const gchar *database)
{
	GPtrArray *rows = g_ptr_array_new_with_free_func((GDestroyNotify)g_ptr_array_unref);
	sqlite3 *db = NULL;
	sqlite3_stmt *stmt = NULL;

	assert_int_equal(sqlite3_open_v2(database, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db,
	                                    "SELECT value, time FROM events WHERE "
	                                    "subscriber = 'socket_events' ORDER BY eid",
	                                    -1, &stmt, NULL),
	                 SQLITE_OK);
	while (sqlite3_step(stmt) == SQLITE_ROW) {
		Osq__Store__Row *stored = osq__store__row__unpack(
		        NULL, (size_t)sqlite3_column_bytes(stmt, 0), sqlite3_column_blob(stmt, 0));
		GPtrArray *row = g_ptr_array_new_with_free_func(g_free);

		assert_non_null(stored);
		for (size_t i = 0; i < stored->n_values; i++) {
			const Osq__Store__Value *value = stored->values[i];
			gchar *text = NULL;

			if (value->kind_case == OSQ__STORE__VALUE__KIND_TEXT)
				text = g_strdup(value->text);
			else if (value->kind_case == OSQ__STORE__VALUE__KIND_INTEGER)
				text = g_strdup_printf("%" G_GINT64_FORMAT, (gint64)value->integer);
			g_ptr_array_add(row, text);
		}
		osq__store__row__free_unpacked(stored, NULL);
		assert_true(OSQD_SOCKET_EVENTS_COL_TIME < row->len);
		g_free(row->pdata[OSQD_SOCKET_EVENTS_COL_TIME]);
		row->pdata[OSQD_SOCKET_EVENTS_COL_TIME] =
		        g_strdup_printf("%" G_GINT64_FORMAT, (gint64)sqlite3_column_int64(stmt, 1));
		g_ptr_array_add(rows, row);
	}
	(void)sqlite3_finalize(stmt);
	(void)sqlite3_close(db);
	return rows;
}

static const gchar *
row_value(GPtrArray *row, guint column)
{
	assert_true(column < row->len);
	return g_ptr_array_index(row, column);
}

typedef struct {
	gchar *dir;
	gchar *database;
	OsqdEvents *events;
	gint listener;
} Framework;

/* An events database (the store's tables for events) in a temporary directory. */
static void
framework_open(Framework *framework)
{
	OsqdEventsConfig config = { 0 };
	g_autoptr(GError) error = NULL;

	framework->dir =
	        osqd_events_testing_database("osqd-audit-db-XXXXXX", &framework->database, &error);
	if (framework->dir == NULL)
		fail_msg("%s", error->message);
	config.database_path = framework->database;
	config.flush_ms = 10;
	framework->events = osqd_events_new(&config, &error);
	if (framework->events == NULL)
		fail_msg("%s", error->message);
}

static int
framework_setup(void **state)
{
	Framework *framework = g_new0(Framework, 1);

	framework->listener = -1;
	*state = framework;
	return 0;
}

/* Stops the publishers (the audit one's teardown removes its rules), even after a failure. */
static int
framework_teardown(void **state)
{
	Framework *framework = *state;

	if (framework->events != NULL)
		osqd_events_free(framework->events);
	if (framework->dir != NULL)
		assert_true(osqd_events_testing_remove_tree(framework->dir));
	if (framework->listener >= 0)
		(void)close(framework->listener);
	g_free(framework->database);
	g_free(framework->dir);
	g_free(framework);
	return 0;
}

static void
test_row_framework(void **state)
{
	Framework *framework = *state;
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) rows = NULL;
	g_autoptr(OsqdAuditSocket) connect =
	        decide(X86_64 "syscall=42 success=yes exit=0 a0=3" PEOPLE, IPV4, FALSE, FALSE);
	OsqdEventSubscriber *subscriber;
	OsqdEventPublisher *publisher;
	OsqdEventRow *row;
	GPtrArray *first;

	framework_open(framework);
	publisher = osqd_audit_add(framework->events, FALSE, FALSE, &error);
	if (publisher == NULL)
		fail_msg("%s", error->message);
	assert_ptr_equal(osqd_events_find_publisher(framework->events, "audit"), publisher);
	subscriber = osqd_events_find_subscriber(framework->events, "socket_events");
	assert_non_null(subscriber);
	/* one subscriber per table */
	assert_null(osqd_audit_add(framework->events, TRUE, TRUE, NULL));

	row = osqd_event_row_new(subscriber);
	osqd_audit_socket_to_row(connect, 4242, row);
	osqd_event_subscriber_add(subscriber, row);
	osqd_events_flush(framework->events);
	rows = stored_rows(framework->database);
	assert_int_equal(rows->len, 1);
	first = g_ptr_array_index(rows, 0);
	assert_string_equal(row_value(first, OSQD_SOCKET_EVENTS_COL_ACTION), "connect");
	assert_string_equal(row_value(first, OSQD_SOCKET_EVENTS_COL_PID), "321");
	assert_string_equal(row_value(first, OSQD_SOCKET_EVENTS_COL_PATH), "/usr/sbin/srv");
	assert_string_equal(row_value(first, OSQD_SOCKET_EVENTS_COL_FD), "3");
	assert_string_equal(row_value(first, OSQD_SOCKET_EVENTS_COL_AUID), "4294967295");
	assert_string_equal(row_value(first, OSQD_SOCKET_EVENTS_COL_FAMILY), "2");
	assert_null(row_value(first, OSQD_SOCKET_EVENTS_COL_PROTOCOL));
	assert_string_equal(row_value(first, OSQD_SOCKET_EVENTS_COL_LOCAL_ADDRESS), "");
	assert_string_equal(row_value(first, OSQD_SOCKET_EVENTS_COL_REMOTE_ADDRESS), "127.0.0.1");
	assert_string_equal(row_value(first, OSQD_SOCKET_EVENTS_COL_LOCAL_PORT), "0");
	assert_string_equal(row_value(first, OSQD_SOCKET_EVENTS_COL_REMOTE_PORT), "8080");
	assert_string_equal(row_value(first, OSQD_SOCKET_EVENTS_COL_SOCKET), "");
	assert_string_equal(row_value(first, OSQD_SOCKET_EVENTS_COL_TIME), "1700000000");
	assert_string_equal(row_value(first, OSQD_SOCKET_EVENTS_COL_UPTIME), "4242");
	assert_string_equal(row_value(first, OSQD_SOCKET_EVENTS_COL_SUCCESS), "1");
	assert_string_equal(row_value(first, OSQD_SOCKET_EVENTS_COL_STATUS), "succeeded");
}

/* ---- the live socket (root, no auditd) ---- */

/* A request on a socket of our own (not the publisher's); the kernel's messages with @seq
 * until @last_type (or an error), 1 s at most. */
static GPtrArray *
live_ask(guint16 type, guint16 flags, guint16 last_type)
{
	GPtrArray *messages = messages_new();
	struct nlmsghdr header = { .nlmsg_len = NLMSG_HDRLEN,
		                   .nlmsg_type = type,
		                   .nlmsg_flags = NLM_F_REQUEST | flags,
		                   .nlmsg_seq = 77 };
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	gint64 deadline = g_get_monotonic_time() + G_USEC_PER_SEC;
	gint fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_AUDIT);
	gboolean finished = FALSE;

	assert_true(fd >= 0);
	assert_int_equal(
	        sendto(fd, &header, sizeof(header), 0, (struct sockaddr *)&kernel, sizeof(kernel)),
	        sizeof(header));
	while (!finished && g_get_monotonic_time() < deadline) {
		struct pollfd poll_fd = { .fd = fd, .events = POLLIN };
		guint8 buffer[65536];
		guint first = messages->len;
		gssize size;

		if (poll(&poll_fd, 1, 100) <= 0)
			continue;
		size = recv(fd, buffer, sizeof(buffer), MSG_DONTWAIT);
		if (size <= 0)
			continue;
		assert_true(osqd_audit_parse_netlink(buffer, (gsize)size, messages, NULL));
		for (guint i = first; i < messages->len; i++) {
			const OsqdAuditMessage *message = g_ptr_array_index(messages, i);

			if (message->type == last_type ||
			    (message->type == NLMSG_ERROR && message->error != 0))
				finished = TRUE;
		}
	}
	(void)close(fd);
	assert_true(finished);
	return messages;
}

static struct audit_status
live_status(void)
{
	g_autoptr(GPtrArray) messages = live_ask(AUDIT_GET, 0, AUDIT_GET);
	struct audit_status status = { 0 };

	for (guint i = 0; i < messages->len; i++) {
		const OsqdAuditMessage *message = g_ptr_array_index(messages, i);
		gsize size = 0;
		gconstpointer data = g_bytes_get_data(message->payload, &size);

		if (message->type == AUDIT_GET)
			memcpy(&status, data, MIN(size, sizeof(status)));
	}
	return status;
}

/* How many installed rules carry our key. */
static guint
live_our_rules(void)
{
	g_autoptr(GPtrArray) messages = live_ask(AUDIT_LIST_RULES, 0, NLMSG_DONE);
	guint n = 0;

	for (guint i = 0; i < messages->len; i++) {
		const OsqdAuditMessage *message = g_ptr_array_index(messages, i);
		gsize size = 0;
		const guint8 *data = g_bytes_get_data(message->payload, &size);
		struct audit_rule_data rule;

		if (message->type != AUDIT_LIST_RULES || size < sizeof(rule))
			continue;
		memcpy(&rule, data, sizeof(rule));
		if (rule.buflen <= size - sizeof(rule) &&
		    g_strstr_len((const gchar *)data + sizeof(rule), rule.buflen,
		                 OSQD_AUDIT_RULE_KEY) != NULL)
			n++;
	}
	return n;
}

typedef struct {
	OsqdAuditNetlink *netlink;
	GPtrArray *records;
	OsqdAuditGroups *groups;
	GPtrArray *done;
	gint listener;
} Live;

static int
live_setup(void **state)
{
	Live *live = g_new0(Live, 1);

	live->records = g_ptr_array_new_with_free_func((GDestroyNotify)osqd_audit_record_free);
	live->groups = osqd_audit_groups_new(OSQD_AUDIT_MAX_OPEN, G_USEC_PER_SEC / 2);
	live->done = done_new();
	live->listener = -1;
	*state = live;
	return 0;
}

/* Runs even when the test failed: the machine is shared, nothing of ours may stay. */
static int
live_teardown(void **state)
{
	Live *live = *state;

	osqd_audit_netlink_close(live->netlink);
	if (live->listener >= 0)
		(void)close(live->listener);
	osqd_audit_groups_free(live->groups);
	g_ptr_array_unref(live->records);
	g_ptr_array_unref(live->done);
	g_free(live);
	return 0;
}

/* A TCP listener on 127.0.0.1 (an ephemeral port); its port. */
static guint16
live_listen(gint *listener)
{
	struct sockaddr_in address = { .sin_family = AF_INET };
	socklen_t length = sizeof(address);

	address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	*listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(*listener >= 0);
	assert_int_equal(bind(*listener, (struct sockaddr *)&address, sizeof(address)), 0);
	assert_int_equal(listen(*listener, 4), 0);
	assert_int_equal(getsockname(*listener, (struct sockaddr *)&address, &length), 0);
	return ntohs(address.sin_port);
}

/* A child connects: a process forked before audit was first enabled has no audit context,
 * and the registered audit process (us) is never audited. */
static pid_t
live_connect_child(guint16 port)
{
	g_autofree gchar *script = g_strdup_printf("exec 3<>/dev/tcp/127.0.0.1/%u", (guint)port);
	pid_t child = fork();

	/* the child execs bash to connect: a forked copy of this process would carry its
	 * allocations into valgrind's leak report when it exits */
	if (child == 0) {
		execl("/bin/bash", "bash", "-c", script, (char *)NULL);
		_exit(127);
	}
	assert_true(child > 0);
	return child;
}

/* Reads records until the connect of @child to @port is a row, 5 s at most. */
static gboolean
live_wait_connect(Live *live, pid_t child, guint16 port)
{
	gint64 deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
	gint fd = osqd_audit_netlink_get_fd(live->netlink);

	while (g_get_monotonic_time() < deadline) {
		struct pollfd poll_fd = { .fd = fd, .events = POLLIN };

		if (poll(&poll_fd, 1, 100) > 0) {
			g_autoptr(GError) error = NULL;

			assert_int_not_equal(
			        osqd_audit_netlink_receive(live->netlink, live->records, &error),
			        OSQD_NETLINK_RECEIVE_FAILED);
		}
		for (guint i = 0; i < live->records->len; i++) {
			osqd_audit_groups_add(live->groups, live->records->pdata[i],
			                      g_get_monotonic_time(), live->done);
			live->records->pdata[i] = NULL;
		}
		g_ptr_array_set_size(live->records, 0);
		osqd_audit_groups_flush(live->groups, g_get_monotonic_time(), live->done);
		for (guint i = 0; i < live->done->len; i++) {
			g_autoptr(OsqdAuditSocket) socket =
			        osqd_audit_socket_new(done_at(live->done, i), TRUE, TRUE);

			/* bash may connect to a unix socket first (nscd, sssd: NSS lookups) */
			if (socket != NULL && socket->pid == child &&
			    g_str_equal(socket->action, "connect") &&
			    socket->address.family == AF_INET) {
				assert_int_equal(socket->address.family, AF_INET);
				assert_string_equal(socket->address.address, "127.0.0.1");
				assert_int_equal(socket->address.port, port);
				assert_string_equal(socket->status, "succeeded");
				assert_non_null(socket->fd);
				assert_non_null(socket->path);
				return TRUE;
			}
		}
		g_ptr_array_set_size(live->done, 0);
	}
	return FALSE;
}

/* Skips unless root and the audit socket is free. */
static struct audit_status
live_check_allowed(void)
{
	struct audit_status before;

	if (geteuid() != 0) {
		print_message("skipped: the live audit test needs root\n");
		skip();
	}
	before = live_status();
	if (before.pid != 0) {
		print_message("skipped: pid %u holds the audit socket (auditd?)\n",
		              (guint)before.pid);
		skip();
	}
	return before;
}

static void
test_live(void **state)
{
	Live *live = *state;
	g_autoptr(GError) error = NULL;
	struct audit_status before;
	struct audit_status during;
	struct audit_status after;
	gint status = 0;
	guint16 port;
	pid_t child;

	before = live_check_allowed();
	assert_int_equal(live_our_rules(), 0);

	live->netlink = osqd_audit_netlink_open(live->records, &error);
	if (live->netlink == NULL && g_error_matches(error, OSQ_ERROR, OSQ_ERROR_NOT_SUPPORTED)) {
		print_message("skipped: %s\n", error->message);
		skip();
	}
	if (live->netlink == NULL)
		fail_msg("%s", error->message);
	during = live_status();
	assert_int_equal(during.pid, getpid());
	assert_int_equal(during.enabled, 1);
	assert_int_equal(during.backlog_wait_time, 0);
	assert_true(during.backlog_limit >= OSQD_AUDIT_BACKLOG_MIN);
	assert_int_equal(live_our_rules(), 2);

	port = live_listen(&live->listener);
	child = live_connect_child(port);
	assert_true(live_wait_connect(live, child, port));
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	{
		guint64 lost = G_MAXUINT64;

		assert_true(
		        osqd_audit_netlink_check_status(live->netlink, live->records, &lost, NULL));
		assert_true(lost != G_MAXUINT64);
	}

	g_clear_pointer(&live->netlink, osqd_audit_netlink_close);
	assert_int_equal(live_our_rules(), 0);
	after = live_status();
	assert_int_equal(after.pid, 0);
	assert_int_equal(after.enabled, before.enabled);
	assert_int_equal(after.backlog_limit, before.backlog_limit);
	assert_int_equal(after.backlog_wait_time, before.backlog_wait_time);
}

/* The publisher on its thread, through the framework: a child's connect becomes a row; after
 * the framework stops it, nothing of ours is left. */
static void
test_live_publisher(void **state)
{
	Framework *framework = *state;
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) rows = NULL;
	g_autofree gchar *child_pid = NULL;
	OsqdEventSubscriber *subscriber;
	struct audit_status before;
	struct audit_status after;
	gboolean found = FALSE;
	gint64 deadline;
	gint status = 0;
	guint16 port;
	pid_t child;

	before = live_check_allowed();
	framework_open(framework);
	if (osqd_audit_add(framework->events, FALSE, FALSE, &error) == NULL)
		fail_msg("%s", error->message);
	subscriber = osqd_events_find_subscriber(framework->events, "socket_events");
	osqd_events_start(framework->events, NULL);
	assert_int_equal(live_status().pid, getpid());

	port = live_listen(&framework->listener);
	child = live_connect_child(port);
	assert_int_equal(waitpid(child, &status, 0), child);
	child_pid = g_strdup_printf("%d", (gint)child);
	deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
	while (!found && osqd_event_subscriber_wait(subscriber, 0, deadline, NULL)) {
		g_clear_pointer(&rows, g_ptr_array_unref);
		osqd_events_flush(framework->events);
		rows = stored_rows(framework->database);
		for (guint i = 0; i < rows->len; i++) {
			GPtrArray *row = g_ptr_array_index(rows, i);

			if (g_strcmp0(row_value(row, OSQD_SOCKET_EVENTS_COL_PID), child_pid) == 0 &&
			    g_strcmp0(row_value(row, OSQD_SOCKET_EVENTS_COL_ACTION), "connect") ==
			            0) {
				assert_string_equal(
				        row_value(row, OSQD_SOCKET_EVENTS_COL_REMOTE_ADDRESS),
				        "127.0.0.1");
				assert_string_equal(row_value(row, OSQD_SOCKET_EVENTS_COL_STATUS),
				                    "succeeded");
				assert_non_null(row_value(row, OSQD_SOCKET_EVENTS_COL_UPTIME));
				found = TRUE;
			}
		}
		if (!found)
			g_usleep(50000);
		if (g_get_monotonic_time() >= deadline)
			break;
	}
	assert_true(found);

	osqd_events_free(g_steal_pointer(&framework->events));
	assert_int_equal(live_our_rules(), 0);
	after = live_status();
	assert_int_equal(after.pid, 0);
	assert_int_equal(after.enabled, before.enabled);
	assert_int_equal(after.backlog_wait_time, before.backlog_wait_time);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header),
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_fields_limit),
		cmocka_unit_test(test_record_truncations),
		cmocka_unit_test(test_sockaddr),
		cmocka_unit_test(test_sockaddr_random),
		cmocka_unit_test(test_netlink),
		cmocka_unit_test(test_groups_in_order),
		cmocka_unit_test(test_groups_interleaved),
		cmocka_unit_test(test_groups_without_eoe),
		cmocka_unit_test(test_groups_cap),
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_rows_socketcall),
		cmocka_unit_test(test_rows_dropped),
		cmocka_unit_test_setup_teardown(test_row_framework, framework_setup,
		                                framework_teardown),
		cmocka_unit_test_setup_teardown(test_live, live_setup, live_teardown),
		cmocka_unit_test_setup_teardown(test_live_publisher, framework_setup,
		                                framework_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
