/* SPDX-License-Identifier: Apache-2.0
 *
 * The uevent publisher (see the header). The parser copies what it keeps, so the receive
 * buffer lives on the publisher thread's stack; the sysfs attributes of a device are read right
 * after its event arrives (a quick "add" then "remove" leaves them empty, as for any "remove").
 * The socket is non-blocking: the thread polls with a 200 ms timeout to notice a stop, drains
 * the queue, and closes the sequence holes whenever the queue stays empty for a whole poll.
 */
#include "config.h"

#include "osqd-uevent.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "osq-error.h"
#include "osqd-tables-generated.h"

#define UEVENT_RECEIVE_BUFFER (8 * 1024 * 1024)
#define UEVENT_POLL_MS        200
#define UEVENT_DRAIN_MAX      256 /* datagrams read between two checks for a stop */
#define UEVENT_ACTION_MAX     32

/* the sequence window is one guint64 of bits */
G_STATIC_ASSERT(OSQD_UEVENT_SEQUENCE_WINDOW == 64);

typedef struct {
	gchar *root;
	gint fd;
	OsqdEventSubscriber *subscriber;
	OsqdUeventSequence sequence;
	gboolean overflowed; /* ENOBUFS seen: the gaps that follow are its losses */
} UeventState;

/* ---- the parser ---- */

void
osqd_uevent_free(OsqdUevent *uevent)
{
	if (uevent == NULL)
		return;
	g_free(uevent->action);
	g_free(uevent->devpath);
	g_free(uevent->subsystem);
	g_free(uevent->devtype);
	g_free(uevent->driver);
	if (uevent->properties != NULL)
		g_hash_table_unref(uevent->properties);
	g_free(uevent);
}

/* The field at *@offset (up to a NUL or the end of @buffer); moves *@offset past it. */
static gchar *
uevent_next_field(const guint8 *buffer, gsize size, gsize *offset)
{
	const guint8 *start = buffer + *offset;
	const guint8 *nul = memchr(start, '\0', size - *offset);
	gsize length = nul != NULL ? (gsize)(nul - start) : size - *offset;

	*offset += nul != NULL ? length + 1 : length;
	return g_strndup((const gchar *)start, length);
}

static gboolean
uevent_action_valid(const gchar *action)
{
	gsize length = strlen(action);

	if (length == 0 || length > UEVENT_ACTION_MAX)
		return FALSE;
	for (const gchar *p = action; *p != '\0'; p++) {
		if (!g_ascii_islower(*p) && *p != '_')
			return FALSE;
	}
	return TRUE;
}

/* Absolute, and no ".." part that would lead out of /sys when it is read. */
static gboolean
uevent_devpath_valid(const gchar *devpath)
{
	if (devpath[0] != '/')
		return FALSE;
	for (const gchar *p = strstr(devpath, "/.."); p != NULL; p = strstr(p + 1, "/..")) {
		if (p[3] == '\0' || p[3] == '/')
			return FALSE;
	}
	return TRUE;
}

static gboolean
uevent_parse_header(OsqdUevent *uevent, const gchar *header, GError **error)
{
	const gchar *at = strchr(header, '@');

	if (at == NULL) {
		g_set_error_literal(error, OSQ_ERROR, OSQ_ERROR_INVALID_ARGUMENT,
		                    "uevent header has no '@'");
		return FALSE;
	}
	uevent->action = g_strndup(header, (gsize)(at - header));
	uevent->devpath = g_strdup(at + 1);
	if (!uevent_action_valid(uevent->action)) {
		g_set_error_literal(error, OSQ_ERROR, OSQ_ERROR_INVALID_ARGUMENT,
		                    "uevent header has no valid action");
		return FALSE;
	}
	if (!uevent_devpath_valid(uevent->devpath)) {
		g_set_error_literal(error, OSQ_ERROR, OSQ_ERROR_INVALID_ARGUMENT,
		                    "uevent devpath is not absolute or has a '..' part");
		return FALSE;
	}
	return TRUE;
}

static gboolean
uevent_parse_properties(OsqdUevent *uevent, const guint8 *buffer, gsize size, gsize offset,
                        GError **error)
{
	guint count = 0;

	while (offset < size) {
		g_autofree gchar *field = uevent_next_field(buffer, size, &offset);
		const gchar *equals;

		if (field[0] == '\0')
			continue; /* padding */
		equals = strchr(field, '=');
		if (equals == NULL || equals == field) {
			g_set_error_literal(error, OSQ_ERROR, OSQ_ERROR_INVALID_ARGUMENT,
			                    "uevent field is not KEY=VALUE");
			return FALSE;
		}
		if (++count > OSQD_UEVENT_MAX_PROPERTIES) {
			g_set_error(error, OSQ_ERROR, OSQ_ERROR_INVALID_ARGUMENT,
			            "uevent has more than %u fields",
			            (guint)OSQD_UEVENT_MAX_PROPERTIES);
			return FALSE;
		}
		g_hash_table_replace(uevent->properties, g_strndup(field, (gsize)(equals - field)),
		                     g_strdup(equals + 1));
	}
	return TRUE;
}

/* ACTION= must repeat the header's action, DEVPATH= (when present) its devpath. */
static gboolean
uevent_check_properties(OsqdUevent *uevent, GError **error)
{
	const gchar *action = g_hash_table_lookup(uevent->properties, "ACTION");
	const gchar *devpath = g_hash_table_lookup(uevent->properties, "DEVPATH");
	const gchar *seqnum = g_hash_table_lookup(uevent->properties, "SEQNUM");

	if (g_strcmp0(action, uevent->action) != 0) {
		g_set_error_literal(error, OSQ_ERROR, OSQ_ERROR_INVALID_ARGUMENT,
		                    action == NULL ? "uevent has no ACTION="
		                                   : "uevent ACTION= differs from its header");
		return FALSE;
	}
	if (devpath != NULL && g_strcmp0(devpath, uevent->devpath) != 0) {
		g_set_error_literal(error, OSQ_ERROR, OSQ_ERROR_INVALID_ARGUMENT,
		                    "uevent DEVPATH= differs from its header");
		return FALSE;
	}
	uevent->subsystem = g_strdup(g_hash_table_lookup(uevent->properties, "SUBSYSTEM"));
	uevent->devtype = g_strdup(g_hash_table_lookup(uevent->properties, "DEVTYPE"));
	uevent->driver = g_strdup(g_hash_table_lookup(uevent->properties, "DRIVER"));
	if (seqnum != NULL) {
		uevent->has_seqnum = g_ascii_string_to_unsigned(seqnum, 10, 0, G_MAXUINT64,
		                                                &uevent->seqnum, NULL);
	}
	return TRUE;
}

OsqdUevent *
osqd_uevent_parse(const guint8 *buffer, gsize size, GError **error)
{
	g_autoptr(OsqdUevent) uevent = g_new0(OsqdUevent, 1);
	g_autofree gchar *header = NULL;
	gsize offset = 0;

	if (size == 0 || size > OSQD_UEVENT_MAX_SIZE) {
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_INVALID_ARGUMENT,
		            "uevent of %" G_GSIZE_FORMAT " bytes (1 to %u expected)", size,
		            (guint)OSQD_UEVENT_MAX_SIZE);
		return NULL;
	}
	if (size >= 7 && memcmp(buffer, "libudev", 7) == 0) {
		g_set_error_literal(error, OSQ_ERROR, OSQ_ERROR_INVALID_ARGUMENT,
		                    "a udev message, not the kernel's");
		return NULL;
	}
	uevent->properties = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	header = uevent_next_field(buffer, size, &offset);
	if (!uevent_parse_header(uevent, header, error))
		return NULL;
	if (!uevent_parse_properties(uevent, buffer, size, offset, error))
		return NULL;
	if (!uevent_check_properties(uevent, error))
		return NULL;
	return g_steal_pointer(&uevent);
}

/* ---- sequence numbers ---- */

void
osqd_uevent_sequence_init(OsqdUeventSequence *sequence)
{
	sequence->started = FALSE;
	sequence->highest = 0;
	sequence->holes = 0;
}

static guint64
uevent_sequence_count(guint64 bits)
{
	return (guint64)__builtin_popcountll(bits);
}

/* @seqnum is above the highest: the window moves up, the numbers skipped become holes. */
static guint64
uevent_sequence_advance(OsqdUeventSequence *sequence, guint64 seqnum)
{
	guint64 distance = seqnum - sequence->highest;
	guint64 skipped = distance - 1;
	guint64 lost;

	/* bit i moves to i + distance: those at 64 and above leave the window */
	if (distance >= OSQD_UEVENT_SEQUENCE_WINDOW) {
		lost = uevent_sequence_count(sequence->holes);
		sequence->holes = 0;
	} else {
		lost = uevent_sequence_count(sequence->holes >>
		                             (OSQD_UEVENT_SEQUENCE_WINDOW - distance));
		sequence->holes <<= distance;
	}
	/* the skipped numbers are bits 0 .. skipped - 1; the old highest (seen) is bit skipped */
	if (skipped >= OSQD_UEVENT_SEQUENCE_WINDOW) {
		lost += skipped - OSQD_UEVENT_SEQUENCE_WINDOW;
		sequence->holes = G_MAXUINT64;
	} else {
		sequence->holes |= (G_GUINT64_CONSTANT(1) << skipped) - 1;
	}
	sequence->highest = seqnum;
	return lost;
}

guint64
osqd_uevent_sequence_next(OsqdUeventSequence *sequence, guint64 seqnum)
{
	guint64 back;
	guint64 lost;

	if (!sequence->started) {
		sequence->started = TRUE;
		sequence->highest = seqnum;
		sequence->holes = 0;
		return 0;
	}
	if (seqnum > sequence->highest)
		return uevent_sequence_advance(sequence, seqnum);
	back = sequence->highest - seqnum;
	if (back == 0)
		return 0; /* a repeat */
	if (back <= OSQD_UEVENT_SEQUENCE_WINDOW) {
		/* a late arrival fills its hole; a repeat finds none */
		sequence->holes &= ~(G_GUINT64_CONSTANT(1) << (back - 1));
		return 0;
	}
	/* far backwards: a new baseline; the holes still open were gaps of the old one */
	lost = uevent_sequence_count(sequence->holes);
	sequence->highest = seqnum;
	sequence->holes = 0;
	return lost;
}

guint64
osqd_uevent_sequence_flush(OsqdUeventSequence *sequence)
{
	guint64 lost = uevent_sequence_count(sequence->holes);

	sequence->holes = 0;
	return lost;
}

/* ---- the row ---- */

void
osqd_uevent_device_free(OsqdUeventDevice *device)
{
	if (device == NULL)
		return;
	g_free(device->action);
	g_free(device->path);
	g_free(device->type);
	g_free(device->driver);
	g_free(device->vendor);
	g_free(device->vendor_id);
	g_free(device->model);
	g_free(device->model_id);
	g_free(device->serial);
	g_free(device->revision);
	g_free(device);
}

/* A sysfs attribute of @directory, stripped; NULL when missing, empty, not a regular file or
 * unreadable. At most OSQD_UEVENT_ATTRIBUTE_MAX_SIZE bytes are read. */
static gchar *
uevent_read_attribute(const gchar *directory, const gchar *name)
{
	g_autofree gchar *path = g_build_filename(directory, name, NULL);
	gchar buffer[OSQD_UEVENT_ATTRIBUTE_MAX_SIZE + 1];
	gsize length = 0;
	struct stat st;
	gint fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		(void)close(fd);
		return NULL;
	}
	while (length < OSQD_UEVENT_ATTRIBUTE_MAX_SIZE) {
		ssize_t n = read(fd, buffer + length, OSQD_UEVENT_ATTRIBUTE_MAX_SIZE - length);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		length += (gsize)n;
	}
	(void)close(fd);
	buffer[length] = '\0';
	g_strstrip(buffer);
	return buffer[0] != '\0' ? g_strdup(buffer) : NULL;
}

/* The first of @first and @second that @directory has, else "". */
static gchar *
uevent_read_either(const gchar *directory, const gchar *first, const gchar *second)
{
	gchar *value = uevent_read_attribute(directory, first);

	if (value == NULL && second != NULL)
		value = uevent_read_attribute(directory, second);
	return value != NULL ? value : g_strdup("");
}

/* USB uevents carry PRODUCT=<vendor>/<product>/<bcdDevice> in hex: the ids of a device whose
 * sysfs directory is gone (remove) or says nothing, written as sysfs writes them (0-padded). */
static void
uevent_product_ids(const OsqdUevent *uevent, OsqdUeventDevice *device)
{
	const gchar *product = uevent->properties != NULL
	                               ? g_hash_table_lookup(uevent->properties, "PRODUCT")
	                               : NULL;
	g_auto(GStrv) parts = NULL;
	gchar **fields[] = { &device->vendor_id, &device->model_id, &device->revision };

	if (product == NULL || g_strcmp0(uevent->subsystem, "usb") != 0)
		return;
	parts = g_strsplit(product, "/", 4);
	if (g_strv_length(parts) != 3)
		return;
	for (gsize i = 0; i < G_N_ELEMENTS(fields); i++) {
		gchar *end = NULL;
		guint64 value = g_ascii_strtoull(parts[i], &end, 16);

		if ((*fields[i])[0] != '\0' || parts[i][0] == '\0' || end == NULL || *end != '\0' ||
		    value > 0xffff)
			continue;
		g_free(*fields[i]);
		*fields[i] = g_strdup_printf("%04" G_GINT64_MODIFIER "x", value);
	}
}

static gchar *
uevent_device_directory(const gchar *root, const gchar *devpath)
{
	g_autofree gchar *prefix = g_strdup(root != NULL ? root : "");
	gsize length = strlen(prefix);

	while (length > 0 && prefix[length - 1] == '/')
		prefix[--length] = '\0';
	return g_strconcat(prefix, "/sys", devpath, NULL);
}

OsqdUeventDevice *
osqd_uevent_device_new(const OsqdUevent *uevent, const gchar *root)
{
	g_autoptr(OsqdUeventDevice) device = g_new0(OsqdUeventDevice, 1);
	const gchar *type = uevent->devtype != NULL ? uevent->devtype : uevent->subsystem;

	device->action = g_strdup(uevent->action);
	device->path = g_strconcat("/sys", uevent->devpath, NULL);
	device->type = g_strdup(type != NULL ? type : "");
	device->driver = g_strdup(uevent->driver != NULL ? uevent->driver : "");
	if (g_strcmp0(uevent->action, "remove") == 0) {
		device->vendor = g_strdup("");
		device->vendor_id = g_strdup("");
		device->model = g_strdup("");
		device->model_id = g_strdup("");
		device->serial = g_strdup("");
		device->revision = g_strdup("");
	} else {
		g_autofree gchar *directory = uevent_device_directory(root, uevent->devpath);

		/* a USB interface's names and ids are its device's, one directory up */
		if (g_strcmp0(uevent->devtype, "usb_interface") == 0) {
			gchar *slash = strrchr(directory, '/');

			if (slash != NULL && slash != directory)
				*slash = '\0';
		}
		device->vendor = uevent_read_either(directory, "manufacturer", NULL);
		device->vendor_id = uevent_read_either(directory, "idVendor", "vendor");
		device->model = uevent_read_either(directory, "product", NULL);
		device->model_id = uevent_read_either(directory, "idProduct", "device");
		device->serial = uevent_read_either(directory, "serial", NULL);
		device->revision = uevent_read_either(directory, "bcdDevice", "revision");
	}
	uevent_product_ids(uevent, device);
	return g_steal_pointer(&device);
}

void
osqd_uevent_device_to_row(const OsqdUeventDevice *device, OsqdEventRow *row)
{
	osqd_event_row_set_text(row, OSQD_HARDWARE_EVENTS_COL_ACTION, device->action);
	osqd_event_row_set_text(row, OSQD_HARDWARE_EVENTS_COL_PATH, device->path);
	osqd_event_row_set_text(row, OSQD_HARDWARE_EVENTS_COL_TYPE, device->type);
	osqd_event_row_set_text(row, OSQD_HARDWARE_EVENTS_COL_DRIVER, device->driver);
	osqd_event_row_set_text(row, OSQD_HARDWARE_EVENTS_COL_VENDOR, device->vendor);
	osqd_event_row_set_text(row, OSQD_HARDWARE_EVENTS_COL_VENDOR_ID, device->vendor_id);
	osqd_event_row_set_text(row, OSQD_HARDWARE_EVENTS_COL_MODEL, device->model);
	osqd_event_row_set_text(row, OSQD_HARDWARE_EVENTS_COL_MODEL_ID, device->model_id);
	osqd_event_row_set_text(row, OSQD_HARDWARE_EVENTS_COL_SERIAL, device->serial);
	osqd_event_row_set_text(row, OSQD_HARDWARE_EVENTS_COL_REVISION, device->revision);
}

/* ---- the socket ---- */

/* Sets @error from errno for @what, closes @fd; returns -1. */
static gint
uevent_socket_fail(gint fd, const gchar *what, GError **error)
{
	gint saved = errno;

	(void)close(fd);
	g_set_error(error, OSQ_ERROR,
	            saved == EPERM || saved == EACCES ? OSQ_ERROR_PERMISSION_DENIED : OSQ_ERROR_IO,
	            "cannot %s the kernel's uevent socket: %s", what, g_strerror(saved));
	return -1;
}

gint
osqd_uevent_socket_open(GError **error)
{
	struct sockaddr_nl address = { .nl_family = AF_NETLINK, .nl_groups = 1 };
	const gint buffer_size = UEVENT_RECEIVE_BUFFER;
	const gint on = 1;
	gint fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	                 NETLINK_KOBJECT_UEVENT);

	if (fd < 0) {
		gint saved = errno;

		g_set_error(error, OSQ_ERROR,
		            saved == EPERM || saved == EACCES ? OSQ_ERROR_PERMISSION_DENIED
		                                              : OSQ_ERROR_NOT_SUPPORTED,
		            "cannot open the kernel's uevent socket: %s", g_strerror(saved));
		return -1;
	}
	/* SO_RCVBUFFORCE needs CAP_NET_ADMIN; SO_RCVBUF is capped by net.core.rmem_max */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buffer_size, sizeof(buffer_size)) != 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buffer_size, sizeof(buffer_size));
	if (setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &on, sizeof(on)) != 0)
		return uevent_socket_fail(fd, "ask for credentials on", error);
	if (bind(fd, (const struct sockaddr *)&address, sizeof(address)) != 0)
		return uevent_socket_fail(fd, "bind", error);
	return fd;
}

OsqdNetlinkReceive
osqd_uevent_socket_receive(gint fd, OsqdUevent **uevent, GError **error)
{
	guint8 buffer[OSQD_UEVENT_MAX_SIZE + 1];
	gsize size = 0;
	/* only the kernel (port 0) as root: anyone may send to a netlink port */
	OsqdNetlinkReceive result =
	        osqd_netlink_receive(fd, buffer, sizeof(buffer), TRUE, "uevent", &size, error);

	if (result != OSQD_NETLINK_RECEIVE_DATA)
		return result;
	*uevent = osqd_uevent_parse(buffer, size, error);
	return *uevent != NULL ? OSQD_NETLINK_RECEIVE_DATA : OSQD_NETLINK_RECEIVE_IGNORED;
}

/* ---- the publisher ---- */

/* A netlink overflow (ENOBUFS) does not say how many uevents it dropped; the sequence gaps
 * after it do, so they are counted once, as the overflow's. */
static void
uevent_count_gap(OsqdEventPublisher *publisher, UeventState *state, guint64 lost)
{
	if (lost == 0)
		return;
	osqd_event_publisher_count_loss(publisher,
	                                state->overflowed ? OSQD_EVENT_LOSS_KERNEL_OVERFLOW
	                                                  : OSQD_EVENT_LOSS_SEQUENCE_GAP,
	                                lost, TRUE);
	state->overflowed = FALSE;
}

static void
uevent_publish(OsqdEventPublisher *publisher, UeventState *state, const OsqdUevent *uevent)
{
	g_autoptr(OsqdUeventDevice) device = NULL;
	OsqdEventRow *row;

	if (uevent->has_seqnum)
		uevent_count_gap(publisher, state,
		                 osqd_uevent_sequence_next(&state->sequence, uevent->seqnum));
	if (state->subscriber == NULL || !osqd_event_subscriber_is_enabled(state->subscriber))
		return;
	device = osqd_uevent_device_new(uevent, state->root);
	row = osqd_event_row_new(state->subscriber);
	osqd_uevent_device_to_row(device, row);
	osqd_event_subscriber_add(state->subscriber, row);
}

/* Reads what is queued (a bounded number); FALSE when the socket is unusable. */
static gboolean
uevent_drain(OsqdEventPublisher *publisher, UeventState *state)
{
	for (guint i = 0; i < UEVENT_DRAIN_MAX; i++) {
		g_autoptr(GError) error_local = NULL;
		g_autoptr(OsqdUevent) uevent = NULL;

		switch (osqd_uevent_socket_receive(state->fd, &uevent, &error_local)) {
		case OSQD_NETLINK_RECEIVE_DATA:
			uevent_publish(publisher, state, uevent);
			break;
		case OSQD_NETLINK_RECEIVE_NONE:
			return TRUE;
		case OSQD_NETLINK_RECEIVE_IGNORED:
			g_debug("uevent: ignored: %s", error_local->message);
			break;
		case OSQD_NETLINK_RECEIVE_OVERFLOW:
			g_warning("uevent: the kernel's queue overflowed (ENOBUFS); the sequence "
			          "gap that follows counts the lost events");
			state->overflowed = TRUE;
			break;
		case OSQD_NETLINK_RECEIVE_FAILED:
		default:
			g_warning("uevent: %s", error_local->message);
			return FALSE;
		}
	}
	return TRUE;
}

static gboolean
uevent_setup(OsqdEventPublisher *publisher, GError **error)
{
	UeventState *state = osqd_event_publisher_get_data(publisher);

	state->fd = osqd_uevent_socket_open(error);
	if (state->fd < 0)
		return FALSE;
	osqd_uevent_sequence_init(&state->sequence);
	osqd_event_publisher_set_subscriptions(publisher, 1);
	return TRUE;
}

static void
uevent_run(OsqdEventPublisher *publisher)
{
	UeventState *state = osqd_event_publisher_get_data(publisher);

	while (!osqd_event_publisher_stopping(publisher)) {
		struct pollfd poll_fd = { .fd = state->fd, .events = POLLIN };
		gint ready = poll(&poll_fd, 1, UEVENT_POLL_MS);

		if (ready < 0 && errno != EINTR) {
			g_warning("uevent: cannot poll the socket: %s", g_strerror(errno));
			break;
		}
		if (ready == 0) {
			/* idle for a whole poll: a late arrival is no longer expected */
			uevent_count_gap(publisher, state,
			                 osqd_uevent_sequence_flush(&state->sequence));
			continue;
		}
		if (ready > 0 && (poll_fd.revents & POLLNVAL) != 0) {
			g_warning("uevent: the socket is closed");
			break;
		}
		if (ready > 0 && !uevent_drain(publisher, state))
			break;
	}
	uevent_count_gap(publisher, state, osqd_uevent_sequence_flush(&state->sequence));
}

static void
uevent_teardown(OsqdEventPublisher *publisher)
{
	UeventState *state = osqd_event_publisher_get_data(publisher);

	if (state->fd >= 0)
		(void)close(state->fd);
	state->fd = -1;
	osqd_event_publisher_set_subscriptions(publisher, 0);
}

static void
uevent_state_free(gpointer data)
{
	UeventState *state = data;

	if (state == NULL)
		return;
	if (state->fd >= 0)
		(void)close(state->fd);
	g_free(state->root);
	g_free(state);
}

const OsqdEventPublisherClass osqd_uevent_class = {
	.name = "uevent",
	.setup = uevent_setup,
	.configure = NULL,
	.run = uevent_run,
	.teardown = uevent_teardown,
	.free_data = uevent_state_free,
};

OsqdEventPublisher *
osqd_uevent_add(OsqdEvents *events, const gchar *root, GError **error)
{
	UeventState *state = g_new0(UeventState, 1);
	OsqdEventPublisher *publisher;

	state->root = g_strdup(root != NULL ? root : "");
	state->fd = -1;
	osqd_uevent_sequence_init(&state->sequence);
	/* the framework owns @state from here (free_data) */
	publisher = osqd_events_add_publisher(events, &osqd_uevent_class, state);
	state->subscriber = osqd_events_add_subscriber(events, publisher, "hardware_events", error);
	if (state->subscriber == NULL)
		return NULL;
	return publisher;
}
