/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests for the socket parsers: /proc/net text tables (good, malformed and truncated
 * lines), fd and namespace link targets, unix socket names, and NETLINK_SOCK_DIAG answers built
 * by hand (inet_diag, unix_diag, NLMSG_DONE/NLMSG_ERROR, foreign sequence numbers, overruns).
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "sockets.h"

static const OsqdSocket *
socket_at(OsqdSocketList *list, guint i)
{
	assert_true(i < list->sockets->len);
	return &g_array_index(list->sockets, OsqdSocket, i);
}

static void
assert_no_error_impl(GError *error)
{
	if (error != NULL)
		fail_msg("unexpected error: %s", error->message);
}

static void
test_tcp_state_names(void **state)
{
	(void)state;
	assert_string_equal(osqd_sockets_tcp_state_name(1), "ESTABLISHED");
	assert_string_equal(osqd_sockets_tcp_state_name(6), "TIME_WAIT");
	assert_string_equal(osqd_sockets_tcp_state_name(10), "LISTEN");
	assert_string_equal(osqd_sockets_tcp_state_name(11), "CLOSING");
	assert_string_equal(osqd_sockets_tcp_state_name(0), "UNKNOWN");
	assert_string_equal(osqd_sockets_tcp_state_name(12), "UNKNOWN");
	assert_string_equal(osqd_sockets_tcp_state_name(G_MAXUINT), "UNKNOWN");
}

static void
test_link_inode(void **state)
{
	guint64 inode = 0;

	(void)state;
	assert_true(osqd_sockets_parse_link_inode("socket:[12345]", 14, "socket", &inode));
	assert_int_equal(inode, 12345);
	assert_true(osqd_sockets_parse_link_inode("net:[4026531840]", 16, "net", &inode));
	assert_int_equal(inode, G_GUINT64_CONSTANT(4026531840));
	/* not NUL-terminated: only @len counts */
	assert_true(osqd_sockets_parse_link_inode("socket:[7]XYZ", 10, "socket", &inode));
	assert_int_equal(inode, 7);
	assert_false(osqd_sockets_parse_link_inode("socket:[12345]", 14, "net", &inode));
	assert_false(osqd_sockets_parse_link_inode("pipe:[12345]", 12, "socket", &inode));
	assert_false(osqd_sockets_parse_link_inode("socket:[]", 9, "socket", &inode));
	assert_false(osqd_sockets_parse_link_inode("socket:[12a]", 12, "socket", &inode));
	assert_false(osqd_sockets_parse_link_inode("socket:[123", 11, "socket", &inode));
	assert_false(osqd_sockets_parse_link_inode("socket:123]", 11, "socket", &inode));
	assert_false(osqd_sockets_parse_link_inode("socket:[99999999999999999999999]", 32, "socket",
	                                           &inode));
	assert_false(osqd_sockets_parse_link_inode("/dev/null", 9, "socket", &inode));
	assert_false(osqd_sockets_parse_link_inode("", 0, "socket", &inode));
}

#define T " 00000000:00000000 00:00000000 00000000     0        0 "

static void
test_proc_tcp(void **state)
{
	g_autoptr(OsqdSocketList) list = osqd_sockets_list_new();
	g_autoptr(GError) error = NULL;
	const gchar *text =
	        "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid "
	        " "
	        "timeout inode\n"
	        "   0: 00000000:0016 00000000:0000 0A" T "1001 1 0000000000000000 100 0 0 10 0\n"
	        "   1: 0201A8C0:0016 3201A8C0:D431 01" T "1002 4 0000000000000000\n"
	        "   2: 0100007F:1F91 00000000:0000 0C" T "1003\n"
	        "\n"
	        "   3: 0100007F:ZZZZ 00000000:0000 0A" T "1004\n"
	        "   4: 0100007F 00000000:0000 0A" T "1005\n"
	        "   5: 100007F:0016 00000000:0000 0A" T "1006\n"
	        "   6: 0100007F:0016 00000000:0000 0A" T "x\n"
	        "   7: 0100007F:10000 00000000:0000 0A" T "1007\n"
	        "   8: truncated";

	(void)state;
	assert_true(osqd_sockets_parse_proc_inet(text, AF_INET, IPPROTO_TCP, list, &error));
	assert_no_error_impl(error);
	assert_int_equal(list->sockets->len, 3);
	assert_int_equal(socket_at(list, 0)->inode, 1001);
	assert_int_equal(socket_at(list, 0)->family, AF_INET);
	assert_int_equal(socket_at(list, 0)->protocol, IPPROTO_TCP);
	assert_string_equal(socket_at(list, 0)->local_address, "0.0.0.0");
	assert_int_equal(socket_at(list, 0)->local_port, 22);
	assert_string_equal(socket_at(list, 0)->state, "LISTEN");
	assert_null(socket_at(list, 0)->path);
	assert_string_equal(socket_at(list, 1)->local_address, "192.168.1.2");
	assert_string_equal(socket_at(list, 1)->remote_address, "192.168.1.50");
	assert_int_equal(socket_at(list, 1)->remote_port, 54321);
	assert_string_equal(socket_at(list, 1)->state, "ESTABLISHED");
	assert_string_equal(socket_at(list, 2)->state, "UNKNOWN");
}

static void
test_proc_tcp6_udp(void **state)
{
	g_autoptr(OsqdSocketList) list = osqd_sockets_list_new();
	g_autoptr(GError) error = NULL;
	const gchar *tcp6 =
	        "  sl  local_address                         remote_address                        "
	        "st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
	        "   0: 00000000000000000000000001000000:0016 00000000000000000000000000000000:0000 "
	        "0A" T "2001 1\n"
	        "   1: 0000000000000000FFFF00000100007F:1F92 0000000000000000FFFF00000100007F:9C40 "
	        "01" T "2002 1\n"
	        "   2: 0000000000000000FFFF00000100007F:1F92 00000000:0000 01" T "2003 1\n";
	const gchar *udp = "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when "
	                   "retrnsmt   uid  timeout inode ref pointer drops\n"
	                   "  100: 00000000:0044 00000000:0000 07" T "3001 2 0000000000000000 0\n";

	(void)state;
	assert_true(osqd_sockets_parse_proc_inet(tcp6, AF_INET6, IPPROTO_TCP, list, &error));
	assert_no_error_impl(error);
	assert_int_equal(list->sockets->len, 2);
	assert_string_equal(socket_at(list, 0)->local_address, "::1");
	assert_string_equal(socket_at(list, 0)->remote_address, "::");
	assert_string_equal(socket_at(list, 1)->local_address, "::ffff:127.0.0.1");
	assert_int_equal(socket_at(list, 1)->remote_port, 40000);

	osqd_sockets_list_clear(list);
	assert_true(osqd_sockets_parse_proc_inet(udp, AF_INET, IPPROTO_UDP, list, &error));
	assert_int_equal(list->sockets->len, 1);
	assert_int_equal(socket_at(list, 0)->local_port, 68);
	assert_null(socket_at(list, 0)->state); /* only TCP has states */

	/* wrong or missing header: the whole file is refused */
	assert_false(osqd_sockets_parse_proc_inet("garbage\n", AF_INET, IPPROTO_UDP, list, &error));
	assert_non_null(error);
	g_clear_error(&error);
	assert_false(osqd_sockets_parse_proc_inet("", AF_INET, IPPROTO_UDP, list, &error));
	g_clear_error(&error);
	/* a header alone is an empty table */
	osqd_sockets_list_clear(list);
	assert_true(osqd_sockets_parse_proc_inet("  sl  local_address", AF_INET, IPPROTO_UDP, list,
	                                         &error));
	assert_int_equal(list->sockets->len, 0);
}

static void
test_proc_unix(void **state)
{
	g_autoptr(OsqdSocketList) list = osqd_sockets_list_new();
	g_autoptr(GError) error = NULL;
	const gchar *text =
	        "Num       RefCount Protocol Flags    Type St Inode Path\n"
	        "0000000000000000: 00000002 00000000 00010000 0001 01  1006 /run/a.sock\n"
	        "0000000000000000: 00000002 00000000 00010000 0001 01  2005 @abstract\n"
	        "0000000000000000: 00000003 00000000 00000000 0001 03  2006\n"
	        "0000000000000000: 00000003 00000000 00000000 0001 03  2007 \n"
	        "0000000000000000: 00000002 00000000 00010000 0001 01  1007 /run/a b\n"
	        "0000000000000000: 00000002\n"
	        "0000000000000000: 00000002 00000000 00010000 0001 01  x /run/c\n";

	(void)state;
	assert_true(osqd_sockets_parse_proc_unix(text, list, &error));
	assert_int_equal(list->sockets->len, 5);
	assert_int_equal(socket_at(list, 0)->family, AF_UNIX);
	assert_int_equal(socket_at(list, 0)->protocol, 0);
	assert_int_equal(socket_at(list, 0)->inode, 1006);
	assert_string_equal(socket_at(list, 0)->path, "/run/a.sock");
	assert_string_equal(socket_at(list, 0)->local_address, "");
	assert_string_equal(socket_at(list, 1)->path, "@abstract");
	assert_null(socket_at(list, 2)->path);
	assert_null(socket_at(list, 3)->path);
	assert_string_equal(socket_at(list, 4)->path, "/run/a b");
	assert_false(osqd_sockets_parse_proc_unix("sl\n", list, &error));
	assert_non_null(error);
}

static void
test_proc_packet(void **state)
{
	g_autoptr(OsqdSocketList) list = osqd_sockets_list_new();
	g_autoptr(GError) error = NULL;
	const gchar *text = "sk               RefCnt Type Proto  Iface R Rmem   User   Inode\n"
	                    "ffff000000000000 3      3    0003   2     1 0      0      1008\n"
	                    "ffff000000000000 3      2    88cc   2     1 0      0      1009\n"
	                    "ffff000000000000 3      3    zz\n";

	(void)state;
	assert_true(osqd_sockets_parse_proc_packet(text, list, &error));
	assert_int_equal(list->sockets->len, 2);
	assert_int_equal(socket_at(list, 0)->family, AF_PACKET);
	assert_int_equal(socket_at(list, 0)->protocol, 3);
	assert_string_equal(socket_at(list, 0)->state, "NONE");
	assert_int_equal(socket_at(list, 1)->protocol, 0x88cc);
	assert_int_equal(socket_at(list, 1)->inode, 1009);
}

static void
test_unix_name(void **state)
{
	g_autofree gchar *path = NULL, *abstract = NULL, *inner = NULL;

	(void)state;
	path = osqd_sockets_unix_name((const guint8 *)"/run/x.sock\0", 12);
	assert_string_equal(path, "/run/x.sock");
	abstract = osqd_sockets_unix_name((const guint8 *)"\0name", 5);
	assert_string_equal(abstract, "@name");
	inner = osqd_sockets_unix_name((const guint8 *)"\0a\0b", 4);
	assert_string_equal(inner, "@a@b");
	assert_null(osqd_sockets_unix_name((const guint8 *)"", 0));
}

/* ---- netlink messages built by hand ---- */

typedef struct {
	guint64 storage[1024]; /* aligned like a receive buffer */
	gsize len;
} Datagram;

static struct nlmsghdr *
datagram_add(Datagram *d, guint16 type, guint32 seq, gconstpointer payload, gsize payload_len)
{
	struct nlmsghdr *msg = (struct nlmsghdr *)((guint8 *)d->storage + d->len);

	memset(msg, 0, NLMSG_SPACE(payload_len));
	msg->nlmsg_len = NLMSG_LENGTH(payload_len);
	msg->nlmsg_type = type;
	msg->nlmsg_flags = NLM_F_MULTI;
	msg->nlmsg_seq = seq;
	if (payload_len > 0)
		memcpy(NLMSG_DATA(msg), payload, payload_len);
	d->len += NLMSG_SPACE(payload_len);
	return msg;
}

static struct inet_diag_msg
inet_diag_message(guint8 family, guint8 state, const gchar *src, guint16 sport, const gchar *dst,
                  guint16 dport, guint32 inode)
{
	struct inet_diag_msg diag;

	memset(&diag, 0, sizeof(diag));
	diag.idiag_family = family;
	diag.idiag_state = state;
	diag.id.idiag_sport = htons(sport);
	diag.id.idiag_dport = htons(dport);
	assert_int_equal(inet_pton(family, src, diag.id.idiag_src), 1);
	assert_int_equal(inet_pton(family, dst, diag.id.idiag_dst), 1);
	diag.idiag_inode = inode;
	return diag;
}

typedef struct {
	gint protocol;
	OsqdSocketList *list;
	guint calls;
} Collect;

static gboolean
collect_inet_cb(const struct nlmsghdr *msg, gpointer user_data, GError **error)
{
	Collect *c = user_data;
	c->calls++;
	osqd_sockets_parse_inet_diag(msg, c->protocol, c->list);
	return TRUE;
}

static gboolean
collect_unix_cb(const struct nlmsghdr *msg, gpointer user_data, GError **error)
{
	Collect *c = user_data;
	c->calls++;
	osqd_sockets_parse_unix_diag(msg, c->list);
	return TRUE;
}

static void
test_netlink_inet_diag(void **state)
{
	g_autoptr(OsqdSocketList) list = osqd_sockets_list_new();
	g_autoptr(GError) error = NULL;
	Datagram d = { .len = 0 };
	Collect c = { .protocol = IPPROTO_TCP, .list = list };
	struct inet_diag_msg v4 =
	        inet_diag_message(AF_INET, 10, "127.0.0.1", 8080, "0.0.0.0", 0, 4242);
	struct inet_diag_msg v6 =
	        inet_diag_message(AF_INET6, 1, "fd00::2", 22, "fd00::9", 50000, 4343);
	struct inet_diag_msg other = inet_diag_message(AF_INET, 1, "10.0.0.1", 1, "10.0.0.2", 2, 1);
	gboolean done = FALSE;
	int zero = 0;

	(void)state;
	datagram_add(&d, SOCK_DIAG_BY_FAMILY, 7, &v4, sizeof(v4));
	datagram_add(&d, SOCK_DIAG_BY_FAMILY, 99, &other, sizeof(other)); /* another request */
	datagram_add(&d, SOCK_DIAG_BY_FAMILY, 7, &v6, sizeof(v6));
	datagram_add(&d, SOCK_DIAG_BY_FAMILY, 7, &v6, 8); /* too short: ignored */
	datagram_add(&d, NLMSG_DONE, 7, &zero, sizeof(zero));
	datagram_add(&d, SOCK_DIAG_BY_FAMILY, 7, &other, sizeof(other)); /* after DONE */

	assert_true(osqd_sockets_netlink_walk((const guint8 *)d.storage, d.len, 7, collect_inet_cb,
	                                      &c, &done, &error));
	assert_true(done);
	assert_int_equal(c.calls, 3);
	assert_int_equal(list->sockets->len, 2);
	assert_int_equal(socket_at(list, 0)->family, AF_INET);
	assert_int_equal(socket_at(list, 0)->protocol, IPPROTO_TCP);
	assert_string_equal(socket_at(list, 0)->local_address, "127.0.0.1");
	assert_int_equal(socket_at(list, 0)->local_port, 8080);
	assert_string_equal(socket_at(list, 0)->remote_address, "0.0.0.0");
	assert_string_equal(socket_at(list, 0)->state, "LISTEN");
	assert_int_equal(socket_at(list, 0)->inode, 4242);
	assert_string_equal(socket_at(list, 1)->local_address, "fd00::2");
	assert_string_equal(socket_at(list, 1)->remote_address, "fd00::9");
	assert_int_equal(socket_at(list, 1)->remote_port, 50000);
	assert_string_equal(socket_at(list, 1)->state, "ESTABLISHED");

	/* UDP sockets have no state name */
	osqd_sockets_list_clear(list);
	c.protocol = IPPROTO_UDP;
	done = FALSE;
	assert_true(osqd_sockets_netlink_walk((const guint8 *)d.storage, d.len, 7, collect_inet_cb,
	                                      &c, &done, &error));
	assert_null(socket_at(list, 0)->state);
}

static void
test_netlink_errors(void **state)
{
	g_autoptr(OsqdSocketList) list = osqd_sockets_list_new();
	Datagram d = { .len = 0 };
	Collect c = { .protocol = IPPROTO_TCP, .list = list };
	struct nlmsgerr answer;
	struct nlmsghdr *msg;
	gboolean done = FALSE;
	GError *error = NULL;

	(void)state;
	/* an acknowledgement (error 0) is not a failure; a real error is */
	memset(&answer, 0, sizeof(answer));
	datagram_add(&d, NLMSG_ERROR, 3, &answer, sizeof(answer));
	assert_true(osqd_sockets_netlink_walk((const guint8 *)d.storage, d.len, 3, collect_inet_cb,
	                                      &c, &done, &error));
	assert_false(done);
	answer.error = -EPERM;
	datagram_add(&d, NLMSG_ERROR, 3, &answer, sizeof(answer));
	assert_false(osqd_sockets_netlink_walk((const guint8 *)d.storage, d.len, 3, collect_inet_cb,
	                                       &c, &done, &error));
	assert_non_null(error);
	g_clear_error(&error);
	/* a truncated error message */
	d.len = 0;
	datagram_add(&d, NLMSG_ERROR, 3, &answer, 2);
	assert_false(osqd_sockets_netlink_walk((const guint8 *)d.storage, d.len, 3, collect_inet_cb,
	                                       &c, &done, &error));
	g_clear_error(&error);

	/* a message claiming more bytes than were received */
	d.len = 0;
	msg = datagram_add(&d, SOCK_DIAG_BY_FAMILY, 3, NULL, 0);
	msg->nlmsg_len = 4096;
	assert_false(osqd_sockets_netlink_walk((const guint8 *)d.storage, d.len, 3, collect_inet_cb,
	                                       &c, &done, &error));
	g_clear_error(&error);
	/* a length below the header size */
	msg->nlmsg_len = 4;
	assert_false(osqd_sockets_netlink_walk((const guint8 *)d.storage, d.len, 3, collect_inet_cb,
	                                       &c, &done, &error));
	g_clear_error(&error);
	/* fewer bytes than a header */
	assert_false(osqd_sockets_netlink_walk((const guint8 *)d.storage, 6, 3, collect_inet_cb, &c,
	                                       &done, &error));
	g_clear_error(&error);
	/* nothing at all */
	assert_true(osqd_sockets_netlink_walk((const guint8 *)d.storage, 0, 3, collect_inet_cb, &c,
	                                      &done, &error));
	assert_int_equal(list->sockets->len, 0);
}

static void
test_netlink_unix_diag(void **state)
{
	g_autoptr(OsqdSocketList) list = osqd_sockets_list_new();
	g_autoptr(GError) error = NULL;
	Datagram d = { .len = 0 };
	Collect c = { .list = list };
	guint8 payload[256];
	struct unix_diag_msg diag;
	struct nlattr attr;
	gsize len;
	gboolean done = FALSE;

	(void)state;
	memset(&diag, 0, sizeof(diag));
	diag.udiag_family = AF_UNIX;
	diag.udiag_type = SOCK_STREAM;
	diag.udiag_ino = 555;

	/* with an abstract name */
	memset(payload, 0, sizeof(payload));
	memcpy(payload, &diag, sizeof(diag));
	len = NLMSG_ALIGN(sizeof(diag));
	attr.nla_type = UNIX_DIAG_NAME;
	attr.nla_len = NLA_HDRLEN + 5;
	memcpy(payload + len, &attr, sizeof(attr));
	memcpy(payload + len + NLA_HDRLEN, "\0demo", 5);
	len += NLA_ALIGN(attr.nla_len);
	datagram_add(&d, SOCK_DIAG_BY_FAMILY, 1, payload, len);

	/* with a path, after an unrelated attribute */
	diag.udiag_ino = 556;
	memset(payload, 0, sizeof(payload));
	memcpy(payload, &diag, sizeof(diag));
	len = NLMSG_ALIGN(sizeof(diag));
	attr.nla_type = UNIX_DIAG_SHUTDOWN;
	attr.nla_len = NLA_HDRLEN + 1;
	memcpy(payload + len, &attr, sizeof(attr));
	len += NLA_ALIGN(attr.nla_len);
	attr.nla_type = UNIX_DIAG_NAME;
	attr.nla_len = NLA_HDRLEN + 10;
	memcpy(payload + len, &attr, sizeof(attr));
	memcpy(payload + len + NLA_HDRLEN, "/run/s.so\0", 10);
	len += NLA_ALIGN(attr.nla_len);
	datagram_add(&d, SOCK_DIAG_BY_FAMILY, 1, payload, len);

	/* unnamed, and one whose attribute overruns the message */
	diag.udiag_ino = 557;
	memset(payload, 0, sizeof(payload));
	memcpy(payload, &diag, sizeof(diag));
	datagram_add(&d, SOCK_DIAG_BY_FAMILY, 1, payload, sizeof(diag));
	diag.udiag_ino = 558;
	memcpy(payload, &diag, sizeof(diag));
	len = NLMSG_ALIGN(sizeof(diag));
	attr.nla_type = UNIX_DIAG_NAME;
	attr.nla_len = 200;
	memcpy(payload + len, &attr, sizeof(attr));
	datagram_add(&d, SOCK_DIAG_BY_FAMILY, 1, payload, len + NLA_HDRLEN + 4);
	datagram_add(&d, NLMSG_DONE, 1, NULL, 0);

	assert_true(osqd_sockets_netlink_walk((const guint8 *)d.storage, d.len, 1, collect_unix_cb,
	                                      &c, &done, &error));
	assert_true(done);
	assert_int_equal(list->sockets->len, 4);
	assert_int_equal(socket_at(list, 0)->family, AF_UNIX);
	assert_int_equal(socket_at(list, 0)->inode, 555);
	assert_string_equal(socket_at(list, 0)->path, "@demo");
	assert_string_equal(socket_at(list, 1)->path, "/run/s.so");
	assert_null(socket_at(list, 2)->path);
	assert_int_equal(socket_at(list, 3)->inode, 558);
	assert_null(socket_at(list, 3)->path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tcp_state_names), cmocka_unit_test(test_link_inode),
		cmocka_unit_test(test_proc_tcp),        cmocka_unit_test(test_proc_tcp6_udp),
		cmocka_unit_test(test_proc_unix),       cmocka_unit_test(test_proc_packet),
		cmocka_unit_test(test_unix_name),       cmocka_unit_test(test_netlink_inet_diag),
		cmocka_unit_test(test_netlink_errors),  cmocka_unit_test(test_netlink_unix_diag),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
