/* SPDX-License-Identifier: Apache-2.0
 *
 * The uevent publisher: the datagram parser on typical kernel messages, on what it must refuse,
 * on every truncation and on random and mutated bytes (each input in a buffer of exactly its
 * size, so valgrind and ASan see any read past it); the sequence holes (gaps, late arrivals,
 * resets, and a randomised check that exactly the missing numbers are counted); the device
 * description on a fixture sysfs tree; and, as root, the live socket: a forged datagram from
 * userspace is refused and a "change" written to /sys/devices/virtual/mem/null/uevent arrives.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <linux/netlink.h>
#include <poll.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "osq-error.h"
#include "osq-store.pb-c.h"
#include "osqd-events-testing.h"
#include "osqd-tables-generated.h"
#include "osqd-uevent.h"

#define USB_DEVPATH "/devices/pci0000:00/0000:00:14.0/usb1/1-2"
#define PCI_DEVPATH "/devices/pci0000:00/0000:00:02.0"

/* The NUL-terminated fields, one after the other (a datagram as the kernel sends it). */
static GByteArray *datagram(const gchar *first, ...) G_GNUC_NULL_TERMINATED;

static GByteArray *
datagram(const gchar *first, ...)
{
	GByteArray *bytes = g_byte_array_new();
	va_list args;

	va_start(args, first);
	for (const gchar *field = first; field != NULL; field = va_arg(args, const gchar *))
		g_byte_array_append(bytes, (const guint8 *)field, (guint)strlen(field) + 1);
	va_end(args);
	return bytes;
}

/* Parses @size bytes copied into a buffer of exactly that size; checks the error contract. */
static OsqdUevent *
parse_exact(const guint8 *data, gsize size, GError **error)
{
	g_autofree guint8 *copy = g_memdup2(data, size);
	OsqdUevent *uevent = osqd_uevent_parse(copy, size, error);

	if (uevent == NULL) {
		assert_non_null(*error);
		assert_true(g_error_matches(*error, OSQ_ERROR, OSQ_ERROR_INVALID_ARGUMENT));
		return NULL;
	}
	assert_null(*error);
	assert_non_null(uevent->action);
	assert_true(uevent->action[0] != '\0');
	assert_int_equal(uevent->devpath[0], '/');
	assert_null(strstr(uevent->devpath, "/../"));
	assert_false(g_str_has_suffix(uevent->devpath, "/.."));
	return uevent;
}

static OsqdUevent *
parse_bytes(GByteArray *bytes)
{
	g_autoptr(GError) error = NULL;
	OsqdUevent *uevent = parse_exact(bytes->data, bytes->len, &error);

	if (uevent == NULL)
		fail_msg("refused: %s", error->message);
	return uevent;
}

static void
assert_refused(GByteArray *bytes, const gchar *why)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(OsqdUevent) uevent = parse_exact(bytes->data, bytes->len, &error);

	if (uevent != NULL)
		fail_msg("accepted: %s", why);
}

static void
test_parse_add(void **state)
{
	g_autoptr(GByteArray) bytes =
	        datagram("add@" USB_DEVPATH, "ACTION=add", "DEVPATH=" USB_DEVPATH, "SUBSYSTEM=usb",
	                 "MAJOR=189", "MINOR=1", "DEVNAME=bus/usb/001/002", "DEVTYPE=usb_device",
	                 "DRIVER=usb", "PRODUCT=46d/c52b/1201", "TYPE=0/0/0", "BUSNUM=001",
	                 "DEVNUM=002", "SEQNUM=4242", NULL);
	g_autoptr(OsqdUevent) uevent = parse_bytes(bytes);

	assert_string_equal(uevent->action, "add");
	assert_string_equal(uevent->devpath, USB_DEVPATH);
	assert_string_equal(uevent->subsystem, "usb");
	assert_string_equal(uevent->devtype, "usb_device");
	assert_string_equal(uevent->driver, "usb");
	assert_true(uevent->has_seqnum);
	assert_int_equal(uevent->seqnum, 4242);
	assert_int_equal(g_hash_table_size(uevent->properties), 13);
	assert_string_equal(g_hash_table_lookup(uevent->properties, "PRODUCT"), "46d/c52b/1201");
	assert_string_equal(g_hash_table_lookup(uevent->properties, "DEVNAME"), "bus/usb/001/002");
}

static void
test_parse_remove_change(void **state)
{
	g_autoptr(GByteArray) remove =
	        datagram("remove@/devices/virtual/net/veth0", "ACTION=remove",
	                 "DEVPATH=/devices/virtual/net/veth0", "SUBSYSTEM=net", "INTERFACE=veth0",
	                 "IFINDEX=7", "SEQNUM=18446744073709551615", NULL);
	g_autoptr(GByteArray) change =
	        datagram("change@/devices/virtual/mem/null", "ACTION=change",
	                 "DEVPATH=/devices/virtual/mem/null", "SUBSYSTEM=mem", "SYNTH_UUID=0",
	                 "MAJOR=1", "MINOR=3", "DEVNAME=null", "DEVMODE=0666", NULL);
	g_autoptr(OsqdUevent) removed = parse_bytes(remove);
	g_autoptr(OsqdUevent) changed = NULL;

	assert_string_equal(removed->action, "remove");
	assert_string_equal(removed->subsystem, "net");
	assert_null(removed->devtype);
	assert_null(removed->driver);
	assert_true(removed->has_seqnum);
	assert_true(removed->seqnum == G_MAXUINT64);

	/* no SEQNUM; the last field without its NUL; padding NULs are skipped */
	g_byte_array_set_size(change, change->len - 1);
	changed = parse_bytes(change);
	assert_string_equal(changed->action, "change");
	assert_string_equal(changed->devpath, "/devices/virtual/mem/null");
	assert_false(changed->has_seqnum);
	assert_string_equal(g_hash_table_lookup(changed->properties, "DEVMODE"), "0666");
	g_clear_pointer(&changed, osqd_uevent_free);
	g_byte_array_append(change, (const guint8 *)"\0\0\0", 3);
	changed = parse_bytes(change);
	assert_string_equal(g_hash_table_lookup(changed->properties, "DEVMODE"), "0666");
}

static void
test_parse_odd_but_valid(void **state)
{
	/* a SEQNUM that is not a number; an empty value; a repeated key: the last one wins */
	g_autoptr(GByteArray) bytes = datagram("bind@/devices/x", "ACTION=bind", "SEQNUM=12a",
	                                       "DRIVER=", "KEY=1", "KEY=2", NULL);
	g_autoptr(OsqdUevent) uevent = parse_bytes(bytes);

	assert_false(uevent->has_seqnum);
	assert_string_equal(uevent->driver, "");
	assert_null(uevent->subsystem);
	assert_string_equal(g_hash_table_lookup(uevent->properties, "KEY"), "2");
}

static void
test_parse_refused(void **state)
{
	static const guint8 udev[] = { 'l',  'i',  'b', 'u', 'd', 'e', 'v', 0,   0xfe, 0xed,
		                       0xca, 0xfe, 40,  0,   0,   0,   'a', '@', '/',  0 };
	g_autoptr(GByteArray) libudev = g_byte_array_new();
	g_autoptr(GByteArray) many = datagram("add@/devices/x", "ACTION=add", NULL);
	g_autoptr(GByteArray) huge = g_byte_array_new();
	struct {
		const gchar *why;
		GByteArray *bytes;
	} cases[] = {
		{ "no @", datagram("add/devices/x", "ACTION=add", NULL) },
		{ "empty action", datagram("@/devices/x", "ACTION=", NULL) },
		{ "action not a word", datagram("a d d@/devices/x", "ACTION=a d d", NULL) },
		{ "relative devpath", datagram("add@devices/x", "ACTION=add", NULL) },
		{ "empty devpath", datagram("add@", "ACTION=add", NULL) },
		{ "dot-dot", datagram("add@/devices/../../etc", "ACTION=add", NULL) },
		{ "dot-dot at the end", datagram("add@/devices/..", "ACTION=add", NULL) },
		{ "no ACTION=", datagram("add@/devices/x", "SUBSYSTEM=usb", NULL) },
		{ "ACTION= mismatch", datagram("add@/devices/x", "ACTION=remove", NULL) },
		{ "DEVPATH= mismatch",
		  datagram("add@/devices/x", "ACTION=add", "DEVPATH=/y", NULL) },
		{ "field without =", datagram("add@/devices/x", "ACTION=add", "JUNK", NULL) },
		{ "empty key", datagram("add@/devices/x", "ACTION=add", "=1", NULL) },
		{ "only NULs", datagram("", "", NULL) },
	};
	g_autoptr(GError) error = NULL;

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		assert_refused(cases[i].bytes, cases[i].why);
		g_byte_array_unref(cases[i].bytes);
	}
	g_byte_array_append(libudev, udev, sizeof(udev));
	assert_refused(libudev, "libudev");
	for (guint i = 0; i < OSQD_UEVENT_MAX_PROPERTIES; i++) {
		g_autofree gchar *field = g_strdup_printf("K%u=%u", i, i);
		g_byte_array_append(many, (const guint8 *)field, (guint)strlen(field) + 1);
	}
	assert_refused(many, "too many fields");
	g_byte_array_append(huge, (const guint8 *)"add@/x\0ACTION=add\0", 18);
	g_byte_array_set_size(huge, OSQD_UEVENT_MAX_SIZE + 1);
	memset(huge->data + 18, 'a', huge->len - 18);
	assert_refused(huge, "too large");
	assert_null(osqd_uevent_parse((const guint8 *)"", 0, &error));
	assert_true(g_error_matches(error, OSQ_ERROR, OSQ_ERROR_INVALID_ARGUMENT));
}

static void
test_parse_truncations(void **state)
{
	g_autoptr(GByteArray) bytes =
	        datagram("add@" USB_DEVPATH, "ACTION=add", "DEVPATH=" USB_DEVPATH, "SUBSYSTEM=usb",
	                 "DEVTYPE=usb_device", "DRIVER=usb", "SEQNUM=77", NULL);
	guint accepted = 0;

	/* every prefix: refused until ACTION= is whole, accepted from there on */
	for (guint length = 0; length <= bytes->len; length++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(OsqdUevent) uevent = parse_exact(bytes->data, length, &error);

		if (uevent != NULL)
			accepted++;
		if (uevent != NULL && length == bytes->len) {
			assert_true(uevent->has_seqnum);
			assert_int_equal(uevent->seqnum, 77);
		}
	}
	/* "add@...\0ACTION=add" and longer; a cut DEVPATH= mismatches */
	assert_true(accepted > 0);
	assert_true(accepted < bytes->len);
}

static void
test_parse_garbage(void **state)
{
	static const gchar *pieces[] = { "@",        "=",       "/",  "ACTION=", "add",
		                         "DEVPATH=", "SEQNUM=", "..", "libudev", "" };
	g_autoptr(GRand) rand = g_rand_new_with_seed(20240611);
	g_autoptr(GByteArray) valid =
	        datagram("add@" USB_DEVPATH, "ACTION=add", "SUBSYSTEM=usb", "SEQNUM=5", NULL);
	guint accepted = 0;

	for (guint iteration = 0; iteration < 10000; iteration++) {
		g_autoptr(GByteArray) bytes = g_byte_array_new();
		g_autoptr(GError) error = NULL;
		g_autoptr(OsqdUevent) uevent = NULL;

		switch (iteration % 3) {
		case 0: /* random bytes */
			g_byte_array_set_size(bytes, (guint)g_rand_int_range(rand, 0, 300));
			for (guint i = 0; i < bytes->len; i++)
				bytes->data[i] = (guint8)g_rand_int_range(rand, 0, 256);
			break;
		case 1: /* random pieces that mean something to the parser */
			for (gint n = g_rand_int_range(rand, 0, 12); n > 0; n--) {
				const gchar *piece =
				        pieces[g_rand_int_range(rand, 0, G_N_ELEMENTS(pieces))];
				g_byte_array_append(bytes, (const guint8 *)piece,
				                    (guint)strlen(piece) +
				                            (g_rand_boolean(rand) ? 1 : 0));
			}
			break;
		default: /* a valid datagram, mutated */
			g_byte_array_append(bytes, valid->data, valid->len);
			for (gint n = g_rand_int_range(rand, 1, 4); n > 0; n--) {
				guint at = (guint)g_rand_int_range(rand, 0, (gint)bytes->len);
				bytes->data[at] = (guint8)g_rand_int_range(rand, 0, 256);
			}
			g_byte_array_set_size(
			        bytes, (guint)g_rand_int_range(rand, 1, (gint)bytes->len + 1));
			break;
		}
		uevent = parse_exact(bytes->data, bytes->len, &error);
		if (uevent != NULL)
			accepted++;
	}
	/* some mutations leave a valid datagram: the accepting path is fuzzed too */
	assert_true(accepted > 0);
}

static void
test_sequence_gaps(void **state)
{
	OsqdUeventSequence sequence;

	osqd_uevent_sequence_init(&sequence);
	assert_int_equal(osqd_uevent_sequence_next(&sequence, 100), 0); /* the baseline */
	assert_int_equal(osqd_uevent_sequence_next(&sequence, 101), 0);
	assert_int_equal(osqd_uevent_sequence_flush(&sequence), 0);
	assert_int_equal(osqd_uevent_sequence_next(&sequence, 101), 0); /* a repeat */
	assert_int_equal(osqd_uevent_sequence_flush(&sequence), 0);

	/* a jump of 4: 3 lost, counted when they can no longer arrive */
	assert_int_equal(osqd_uevent_sequence_next(&sequence, 105), 0);
	assert_int_equal(osqd_uevent_sequence_flush(&sequence), 3);
	assert_int_equal(osqd_uevent_sequence_flush(&sequence), 0);

	/* delivered out of order: nothing lost */
	assert_int_equal(osqd_uevent_sequence_next(&sequence, 107), 0);
	assert_int_equal(osqd_uevent_sequence_next(&sequence, 106), 0);
	assert_int_equal(osqd_uevent_sequence_next(&sequence, 106), 0);
	assert_int_equal(osqd_uevent_sequence_next(&sequence, 108), 0);
	assert_int_equal(osqd_uevent_sequence_flush(&sequence), 0);

	/* a hole leaves the window after OSQD_UEVENT_SEQUENCE_WINDOW more numbers */
	assert_int_equal(osqd_uevent_sequence_next(&sequence, 110), 0); /* 109 open */
	for (guint64 s = 111; s < 110 + OSQD_UEVENT_SEQUENCE_WINDOW; s++)
		assert_int_equal(osqd_uevent_sequence_next(&sequence, s), 0);
	assert_int_equal(osqd_uevent_sequence_next(&sequence, 110 + OSQD_UEVENT_SEQUENCE_WINDOW),
	                 1);
	assert_int_equal(osqd_uevent_sequence_flush(&sequence), 0);

	/* a big jump: what does not fit the window is counted at once */
	osqd_uevent_sequence_init(&sequence);
	assert_int_equal(osqd_uevent_sequence_next(&sequence, 1000), 0);
	assert_int_equal(osqd_uevent_sequence_next(&sequence, 2001),
	                 1000 - OSQD_UEVENT_SEQUENCE_WINDOW);
	assert_int_equal(osqd_uevent_sequence_flush(&sequence), OSQD_UEVENT_SEQUENCE_WINDOW);

	/* far backwards: a new baseline, silently; the open holes of the old one still count */
	assert_int_equal(osqd_uevent_sequence_next(&sequence, 2003), 0);
	assert_int_equal(osqd_uevent_sequence_next(&sequence, 5), 1);
	assert_int_equal(osqd_uevent_sequence_next(&sequence, 6), 0);
	assert_int_equal(osqd_uevent_sequence_flush(&sequence), 0);

	/* the counter's top */
	osqd_uevent_sequence_init(&sequence);
	assert_int_equal(osqd_uevent_sequence_next(&sequence, G_MAXUINT64 - 2), 0);
	assert_int_equal(osqd_uevent_sequence_next(&sequence, G_MAXUINT64), 0);
	assert_int_equal(osqd_uevent_sequence_flush(&sequence), 1);
	osqd_uevent_sequence_init(&sequence);
	assert_int_equal(osqd_uevent_sequence_next(&sequence, 0), 0);
	assert_true(osqd_uevent_sequence_next(&sequence, G_MAXUINT64) ==
	            G_MAXUINT64 - 1 - OSQD_UEVENT_SEQUENCE_WINDOW);
}

/* Random gaps and local reordering: exactly the numbers never seen are counted. */
static void
test_sequence_random(void **state)
{
	g_autoptr(GRand) rand = g_rand_new_with_seed(42);

	for (guint round = 0; round < 200; round++) {
		g_autoptr(GArray) delivered = g_array_new(FALSE, FALSE, sizeof(guint64));
		OsqdUeventSequence sequence;
		guint64 next = (guint64)g_rand_int(rand), first = next, missing = 0, lost = 0;

		for (guint i = 0; i < 300; i++) {
			if (i > 0 && g_rand_int_range(rand, 0, 10) == 0) {
				guint64 gap = (guint64)g_rand_int_range(rand, 1, 50);
				next += gap;
				missing += gap;
			}
			g_array_append_val(delivered, next);
			next++;
		}
		/* swap some neighbours, each moves one place at most (so a late one is never more
		 * than a gap behind, within the window) */
		for (guint i = 1; i + 1 < delivered->len; i++) {
			if (g_rand_int_range(rand, 0, 8) == 0) {
				guint64 swap = g_array_index(delivered, guint64, i);
				g_array_index(delivered, guint64, i) =
				        g_array_index(delivered, guint64, i + 1);
				g_array_index(delivered, guint64, i + 1) = swap;
				i++;
			}
		}
		osqd_uevent_sequence_init(&sequence);
		assert_int_equal(osqd_uevent_sequence_next(&sequence, first), 0);
		for (guint i = 1; i < delivered->len; i++)
			lost += osqd_uevent_sequence_next(&sequence,
			                                  g_array_index(delivered, guint64, i));
		lost += osqd_uevent_sequence_flush(&sequence);
		assert_int_equal(lost, missing);
	}
}

/* ---- the fixture sysfs tree ---- */

static void
write_attribute(const gchar *root, const gchar *devpath, const gchar *name, const gchar *value)
{
	g_autofree gchar *directory = g_strconcat(root, "/sys", devpath, NULL);
	g_autofree gchar *path = g_build_filename(directory, name, NULL);

	assert_int_equal(g_mkdir_with_parents(directory, 0755), 0);
	assert_true(g_file_set_contents(path, value, -1, NULL));
}

static OsqdUeventDevice *
describe(const gchar *action, const gchar *devpath, const gchar *root, const gchar *extra)
{
	g_autofree gchar *header = g_strdup_printf("%s@%s", action, devpath);
	g_autofree gchar *action_field = g_strdup_printf("ACTION=%s", action);
	g_autoptr(GByteArray) bytes = datagram(header, action_field, extra, NULL);
	g_autoptr(OsqdUevent) uevent = parse_bytes(bytes);

	return osqd_uevent_device_new(uevent, root);
}

static void
test_device(void **state)
{
	g_autofree gchar *root = g_dir_make_tmp("osqd-uevent-XXXXXX", NULL);
	g_autofree gchar *root_slash = g_strconcat(root, "/", NULL);
	g_autofree gchar *long_serial = g_strnfill(10000, 'x');
	g_autofree gchar *serial_dir = NULL;
	g_autoptr(OsqdUeventDevice) usb = NULL;
	g_autoptr(OsqdUeventDevice) pci = NULL;
	g_autoptr(OsqdUeventDevice) missing = NULL;
	g_autoptr(OsqdUeventDevice) removed = NULL;
	g_autoptr(OsqdUeventDevice) odd = NULL;

	assert_non_null(root);
	write_attribute(root, USB_DEVPATH, "idVendor", "046d\n");
	write_attribute(root, USB_DEVPATH, "idProduct", "c52b\n");
	write_attribute(root, USB_DEVPATH, "manufacturer", "Logitech\n");
	write_attribute(root, USB_DEVPATH, "product", "USB Receiver\n");
	write_attribute(root, USB_DEVPATH, "serial", "  ABC123 \n");
	write_attribute(root, USB_DEVPATH, "bcdDevice", "1201\n");
	write_attribute(root, USB_DEVPATH, "vendor", "ignored: idVendor wins\n");
	write_attribute(root, PCI_DEVPATH, "vendor", "0x8086\n");
	write_attribute(root, PCI_DEVPATH, "device", "0x3e92\n");
	write_attribute(root, PCI_DEVPATH, "revision", "0x02\n");
	write_attribute(root, PCI_DEVPATH, "product", "\n");
	write_attribute(root, "/devices/odd", "manufacturer", long_serial);
	serial_dir = g_strconcat(root, "/sys/devices/odd/serial", NULL);
	assert_int_equal(g_mkdir_with_parents(serial_dir, 0755), 0);

	usb = describe("add", USB_DEVPATH, root_slash, "DEVTYPE=usb_device");
	assert_string_equal(usb->action, "add");
	assert_string_equal(usb->path, "/sys" USB_DEVPATH);
	assert_string_equal(usb->type, "usb_device");
	assert_string_equal(usb->driver, "");
	assert_string_equal(usb->vendor, "Logitech");
	assert_string_equal(usb->vendor_id, "046d");
	assert_string_equal(usb->model, "USB Receiver");
	assert_string_equal(usb->model_id, "c52b");
	assert_string_equal(usb->serial, "ABC123");
	assert_string_equal(usb->revision, "1201");

	pci = describe("bind", PCI_DEVPATH, root, "SUBSYSTEM=pci");
	assert_string_equal(pci->path, "/sys" PCI_DEVPATH);
	assert_string_equal(pci->type, "pci");
	assert_string_equal(pci->vendor, "");
	assert_string_equal(pci->vendor_id, "0x8086");
	assert_string_equal(pci->model, ""); /* only a newline */
	assert_string_equal(pci->model_id, "0x3e92");
	assert_string_equal(pci->serial, "");
	assert_string_equal(pci->revision, "0x02");

	missing = describe("change", "/devices/gone", root, "DRIVER=e1000e");
	assert_string_equal(missing->type, "");
	assert_string_equal(missing->driver, "e1000e");
	assert_string_equal(missing->vendor, "");
	assert_string_equal(missing->vendor_id, "");
	assert_string_equal(missing->model, "");
	assert_string_equal(missing->model_id, "");
	assert_string_equal(missing->serial, "");
	assert_string_equal(missing->revision, "");

	/* a remove does not look: the directory is gone (here it is not) */
	removed = describe("remove", USB_DEVPATH, root, "SUBSYSTEM=usb");
	assert_string_equal(removed->type, "usb");
	assert_string_equal(removed->vendor_id, "");
	assert_string_equal(removed->serial, "");

	/* 4 KiB at most; a directory is no attribute */
	odd = describe("add", "/devices/odd", root, "SUBSYSTEM=x");
	assert_int_equal(strlen(odd->vendor), OSQD_UEVENT_ATTRIBUTE_MAX_SIZE);
	assert_string_equal(odd->serial, "");

	(void)osqd_events_testing_remove_tree(root);
}

/* USB ids from the uevent's PRODUCT when sysfs has none (a remove); an interface's names from
 * its device one directory up. */
static void
test_device_usb_ids(void **state)
{
	g_autofree gchar *root = g_dir_make_tmp("osqd-uevent-XXXXXX", NULL);
	g_autoptr(GByteArray) remove_bytes =
	        datagram("remove@" USB_DEVPATH, "ACTION=remove", "SUBSYSTEM=usb",
	                 "DEVTYPE=usb_device", "PRODUCT=46d/c52b/1201", NULL);
	g_autoptr(GByteArray) interface_bytes =
	        datagram("add@" USB_DEVPATH "/1-2:1.0", "ACTION=add", "SUBSYSTEM=usb",
	                 "DEVTYPE=usb_interface", "PRODUCT=46d/c52b/1201", NULL);
	g_autoptr(GByteArray) odd_bytes = datagram("remove@" USB_DEVPATH, "ACTION=remove",
	                                           "SUBSYSTEM=usb", "PRODUCT=zz/1/2/3", NULL);
	g_autoptr(OsqdUevent) remove_event = parse_bytes(remove_bytes);
	g_autoptr(OsqdUevent) interface_event = parse_bytes(interface_bytes);
	g_autoptr(OsqdUevent) odd_event = parse_bytes(odd_bytes);
	g_autoptr(OsqdUeventDevice) removed = NULL;
	g_autoptr(OsqdUeventDevice) interface = NULL;
	g_autoptr(OsqdUeventDevice) odd = NULL;

	assert_non_null(root);
	write_attribute(root, USB_DEVPATH, "manufacturer", "Logitech\n");
	write_attribute(root, USB_DEVPATH, "serial", "ABC123\n");
	write_attribute(root, USB_DEVPATH "/1-2:1.0", "bInterfaceClass", "03\n");
	removed = osqd_uevent_device_new(remove_event, root);
	assert_string_equal(removed->vendor_id, "046d");
	assert_string_equal(removed->model_id, "c52b");
	assert_string_equal(removed->revision, "1201");
	assert_string_equal(removed->vendor, "");
	interface = osqd_uevent_device_new(interface_event, root);
	assert_string_equal(interface->type, "usb_interface");
	assert_string_equal(interface->vendor, "Logitech");
	assert_string_equal(interface->serial, "ABC123");
	assert_string_equal(interface->vendor_id, "046d");
	/* a PRODUCT that is not three hex numbers is ignored */
	odd = osqd_uevent_device_new(odd_event, root);
	assert_string_equal(odd->vendor_id, "");
	assert_string_equal(odd->model_id, "");
	(void)osqd_events_testing_remove_tree(root);
}

/* ---- through the framework ---- */

typedef struct {
	gchar *dir;
	gchar *database;
	OsqdEvents *events;
} Framework;

/* An events database (the store's tables for events) in a temporary directory. */
static void
framework_open(Framework *framework)
{
	OsqdEventsConfig config = { 0 };
	g_autoptr(GError) error = NULL;

	framework->dir =
	        osqd_events_testing_database("osqd-uevent-db-XXXXXX", &framework->database, &error);
	if (framework->dir == NULL)
		fail_msg("%s", error->message);
	config.database_path = framework->database;
	config.flush_ms = 10;
	framework->events = osqd_events_new(&config, &error);
	if (framework->events == NULL)
		fail_msg("%s", error->message);
}

static void
framework_close(Framework *framework)
{
	osqd_events_free(framework->events);
	(void)osqd_events_testing_remove_tree(framework->dir);
	g_free(framework->database);
	g_free(framework->dir);
}

/* The committed hardware_events rows, each a GPtrArray of texts (NULL: not text). */
static GPtrArray *
framework_rows(Framework *framework)
{
	GPtrArray *rows = g_ptr_array_new_with_free_func((GDestroyNotify)g_ptr_array_unref);
	sqlite3 *db = NULL;
	sqlite3_stmt *stmt = NULL;

	osqd_events_flush(framework->events);
	assert_int_equal(sqlite3_open_v2(framework->database, &db, SQLITE_OPEN_READONLY, NULL),
	                 SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db,
	                                    "SELECT value FROM events WHERE subscriber = "
	                                    "'hardware_events' ORDER BY eid",
	                                    -1, &stmt, NULL),
	                 SQLITE_OK);
	while (sqlite3_step(stmt) == SQLITE_ROW) {
		Osq__Store__Row *stored = osq__store__row__unpack(
		        NULL, (size_t)sqlite3_column_bytes(stmt, 0), sqlite3_column_blob(stmt, 0));
		GPtrArray *row = g_ptr_array_new_with_free_func(g_free);

		assert_non_null(stored);
		for (size_t i = 0; i < stored->n_values; i++) {
			const Osq__Store__Value *value = stored->values[i];

			g_ptr_array_add(row, value->kind_case == OSQ__STORE__VALUE__KIND_TEXT
			                             ? g_strdup(value->text)
			                             : NULL);
		}
		osq__store__row__free_unpacked(stored, NULL);
		g_ptr_array_add(rows, row);
	}
	(void)sqlite3_finalize(stmt);
	(void)sqlite3_close(db);
	return rows;
}

static const gchar *
row_text(GPtrArray *row, guint column)
{
	assert_true(column < row->len);
	return g_ptr_array_index(row, column);
}

/* The device becomes a hardware_events row: every text column set, none NULL. */
static void
test_row(void **state)
{
	g_autofree gchar *root = g_dir_make_tmp("osqd-uevent-XXXXXX", NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(OsqdUeventDevice) device = NULL;
	g_autoptr(GPtrArray) rows = NULL;
	Framework framework = { 0 };
	OsqdEventPublisher *publisher;
	OsqdEventSubscriber *subscriber;
	OsqdEventRow *row;
	GPtrArray *first;

	write_attribute(root, USB_DEVPATH, "idVendor", "046d\n");
	write_attribute(root, USB_DEVPATH, "serial", "ABC123\n");
	device = describe("add", USB_DEVPATH, root, "DRIVER=usb");
	framework_open(&framework);
	publisher = osqd_uevent_add(framework.events, root, &error);
	if (publisher == NULL)
		fail_msg("%s", error->message);
	assert_ptr_equal(osqd_events_find_publisher(framework.events, "uevent"), publisher);
	subscriber = osqd_events_find_subscriber(framework.events, "hardware_events");
	assert_non_null(subscriber);
	/* a second one is refused */
	assert_null(osqd_uevent_add(framework.events, root, &error));
	assert_non_null(error);

	row = osqd_event_row_new(subscriber);
	osqd_uevent_device_to_row(device, row);
	osqd_event_subscriber_add(subscriber, row);
	rows = framework_rows(&framework);
	assert_int_equal(rows->len, 1);
	first = g_ptr_array_index(rows, 0);
	assert_string_equal(row_text(first, OSQD_HARDWARE_EVENTS_COL_ACTION), "add");
	assert_string_equal(row_text(first, OSQD_HARDWARE_EVENTS_COL_PATH), "/sys" USB_DEVPATH);
	assert_string_equal(row_text(first, OSQD_HARDWARE_EVENTS_COL_TYPE), "");
	assert_string_equal(row_text(first, OSQD_HARDWARE_EVENTS_COL_DRIVER), "usb");
	assert_string_equal(row_text(first, OSQD_HARDWARE_EVENTS_COL_VENDOR), "");
	assert_string_equal(row_text(first, OSQD_HARDWARE_EVENTS_COL_VENDOR_ID), "046d");
	assert_string_equal(row_text(first, OSQD_HARDWARE_EVENTS_COL_MODEL), "");
	assert_string_equal(row_text(first, OSQD_HARDWARE_EVENTS_COL_MODEL_ID), "");
	assert_string_equal(row_text(first, OSQD_HARDWARE_EVENTS_COL_SERIAL), "ABC123");
	assert_string_equal(row_text(first, OSQD_HARDWARE_EVENTS_COL_REVISION), "");
	framework_close(&framework);
	(void)osqd_events_testing_remove_tree(root);
}

/* ---- the live socket ---- */

static gboolean
receive_until(gint fd, const gchar *action, const gchar *devpath, gint64 deadline)
{
	while (g_get_monotonic_time() < deadline) {
		struct pollfd poll_fd = { .fd = fd, .events = POLLIN };
		g_autoptr(GError) error = NULL;
		g_autoptr(OsqdUevent) uevent = NULL;

		if (poll(&poll_fd, 1, 100) <= 0)
			continue;
		if (osqd_uevent_socket_receive(fd, &uevent, &error) != OSQD_NETLINK_RECEIVE_DATA)
			continue;
		if (g_strcmp0(uevent->action, action) == 0 &&
		    g_strcmp0(uevent->devpath, devpath) == 0) {
			assert_string_equal(uevent->subsystem, "mem");
			assert_true(uevent->has_seqnum);
			return TRUE;
		}
	}
	return FALSE;
}

/* Asks the kernel to send a "change" uevent for @devpath (sysfs wants one write, in place). */
static gboolean
trigger_change(const gchar *devpath)
{
	g_autofree gchar *path = g_strconcat("/sys", devpath, "/uevent", NULL);
	gint fd = open(path, O_WRONLY | O_CLOEXEC);
	gboolean written;

	if (fd < 0)
		return FALSE;
	written = write(fd, "change", 6) == 6;
	(void)close(fd);
	return written;
}

static void
test_live(void **state)
{
	const gchar *devpath = "/devices/virtual/mem/null";
	g_autoptr(GError) error = NULL;
	struct sockaddr_nl own = { 0 };
	socklen_t own_length = sizeof(own);
	g_autoptr(GByteArray) forged =
	        datagram("add@/devices/forged", "ACTION=add", "SUBSYSTEM=usb", "SEQNUM=1", NULL);
	OsqdUevent *uevent = NULL;
	gint fd;
	gint sender;

	if (geteuid() != 0) {
		print_message("skipped: needs root (to write a device's uevent file)\n");
		skip();
	}
	fd = osqd_uevent_socket_open(&error);
	if (fd < 0)
		fail_msg("%s", error->message);

	/* a process (even root) that sends to our port is not the kernel */
	assert_int_equal(getsockname(fd, (struct sockaddr *)&own, &own_length), 0);
	sender = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_KOBJECT_UEVENT);
	assert_true(sender >= 0);
	assert_true(sendto(sender, forged->data, forged->len, 0, (struct sockaddr *)&own,
	                   sizeof(own)) == (ssize_t)forged->len);
	(void)close(sender);
	for (gint i = 0; i < 50; i++) {
		struct pollfd poll_fd = { .fd = fd, .events = POLLIN };
		OsqdNetlinkReceive result;

		assert_int_equal(poll(&poll_fd, 1, 100), 1);
		g_clear_error(&error);
		result = osqd_uevent_socket_receive(fd, &uevent, &error);
		if (result == OSQD_NETLINK_RECEIVE_DATA) {
			/* a real uevent that happened to arrive first */
			assert_string_not_equal(uevent->devpath, "/devices/forged");
			g_clear_pointer(&uevent, osqd_uevent_free);
			continue;
		}
		assert_int_equal(result, OSQD_NETLINK_RECEIVE_IGNORED);
		assert_true(g_error_matches(error, OSQ_ERROR, OSQ_ERROR_PERMISSION_DENIED));
		break;
	}

	assert_true(trigger_change(devpath));
	assert_true(
	        receive_until(fd, "change", devpath, g_get_monotonic_time() + 5 * G_USEC_PER_SEC));
	(void)close(fd);
}

/* The publisher on its thread: setup, run, a row for a "change" of /dev/null, teardown. */
static void
test_live_publisher(void **state)
{
	g_autoptr(GError) error = NULL;
	Framework framework = { 0 };
	OsqdEventSubscriber *subscriber;
	gint64 deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
	gboolean found = FALSE;

	if (geteuid() != 0) {
		print_message("skipped: needs root (to write a device's uevent file)\n");
		skip();
	}
	framework_open(&framework);
	if (osqd_uevent_add(framework.events, "", &error) == NULL)
		fail_msg("%s", error->message);
	subscriber = osqd_events_find_subscriber(framework.events, "hardware_events");
	osqd_events_start(framework.events, NULL);
	assert_true(trigger_change("/devices/virtual/mem/null"));
	while (!found && g_get_monotonic_time() < deadline) {
		g_autoptr(GPtrArray) rows = NULL;

		(void)osqd_event_subscriber_wait(
		        subscriber, osqd_event_subscriber_get_last_eid(subscriber),
		        MIN(deadline, g_get_monotonic_time() + 100000), NULL);
		rows = framework_rows(&framework);
		for (guint i = 0; i < rows->len && !found; i++) {
			GPtrArray *row = g_ptr_array_index(rows, i);

			found = g_strcmp0(row_text(row, OSQD_HARDWARE_EVENTS_COL_PATH),
			                  "/sys/devices/virtual/mem/null") == 0 &&
			        g_strcmp0(row_text(row, OSQD_HARDWARE_EVENTS_COL_ACTION),
			                  "change") == 0;
			if (found) {
				assert_string_equal(row_text(row, OSQD_HARDWARE_EVENTS_COL_TYPE),
				                    "mem");
				assert_string_equal(
				        row_text(row, OSQD_HARDWARE_EVENTS_COL_VENDOR_ID), "");
			}
		}
	}
	assert_true(found);
	framework_close(&framework);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_add),
		cmocka_unit_test(test_parse_remove_change),
		cmocka_unit_test(test_parse_odd_but_valid),
		cmocka_unit_test(test_parse_refused),
		cmocka_unit_test(test_parse_truncations),
		cmocka_unit_test(test_parse_garbage),
		cmocka_unit_test(test_sequence_gaps),
		cmocka_unit_test(test_sequence_random),
		cmocka_unit_test(test_device),
		cmocka_unit_test(test_device_usb_ids),
		cmocka_unit_test(test_row),
		cmocka_unit_test(test_live),
		cmocka_unit_test(test_live_publisher),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
