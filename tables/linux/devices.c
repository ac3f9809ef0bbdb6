/* SPDX-License-Identifier: Apache-2.0
 *
 * Device tables, read from sysfs without udev: usb_devices walks /sys/bus/usb/devices (one small
 * attribute file per column, read only for used columns) and pci_devices reads each device's
 * uevent file. Vendor/model names come from usb.ids / pci.ids (about 1.3 MB for pci.ids): the
 * file is read, and its vendor lines indexed, only when the query uses a name column.
 */
#include "config.h"

#include "devices.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "osqd-tables-generated.h"

#define DEVICES_IDS_MAX       (64u * 1024 * 1024)
#define DEVICES_ATTRIBUTE_MAX 512
#define DEVICES_UEVENT_MAX    4096

static const gchar *const devices_usb_ids_paths[] = {
	"/usr/share/misc/usb.ids",
	"/usr/share/hwdata/usb.ids",
	"/usr/share/usb.ids",
	"/var/lib/usbutils/usb.ids",
	NULL,
};

static const gchar *const devices_pci_ids_paths[] = {
	"/usr/share/misc/pci.ids",
	"/usr/share/hwdata/pci.ids",
	"/usr/share/pci.ids",
	NULL,
};

/* ---- usb.ids / pci.ids ---- */

struct _OsqdDevicesIds {
	gchar *contents;
	gsize length;
	GHashTable *vendors;  /* vendor id + 1 -> offset + 1 of its line */
	const gchar *classes; /* the first "C xx" line, or NULL */
};

static const gchar *
devices_line_end(const gchar *p, const gchar *end)
{
	const gchar *newline = memchr(p, '\n', (gsize)(end - p));

	return newline != NULL ? newline : end;
}

static const gchar *
devices_next_line(const gchar *eol, const gchar *end)
{
	return eol < end ? eol + 1 : end;
}

/* Exactly @digits hex digits at @p, followed by a blank (or the end of the line). */
static gboolean
devices_ids_hex(const gchar *p, const gchar *eol, guint digits, guint *value)
{
	guint v = 0;

	if ((gsize)(eol - p) < digits)
		return FALSE;
	for (guint i = 0; i < digits; i++) {
		if (!g_ascii_isxdigit(p[i]))
			return FALSE;
		v = v * 16 + (guint)g_ascii_xdigit_value(p[i]);
	}
	if (p + digits < eol && p[digits] != ' ' && p[digits] != '\t')
		return FALSE;
	*value = v;
	return TRUE;
}

/* The name after an id that ends at @p: blanks skipped, trailing blanks trimmed. */
static gboolean
devices_ids_name(const gchar *p, const gchar *eol, const gchar **name, gsize *len)
{
	while (p < eol && (*p == ' ' || *p == '\t'))
		p++;
	while (eol > p && g_ascii_isspace(eol[-1]))
		eol--;
	*name = p;
	*len = (gsize)(eol - p);
	return TRUE;
}

/* Entries without a name (a truncated line) are not entries. */
static gboolean
devices_ids_has_name(const gchar *p, const gchar *eol)
{
	for (; p < eol; p++) {
		if (!g_ascii_isspace(*p))
			return TRUE;
	}
	return FALSE;
}

OsqdDevicesIds *
osqd_devices_ids_new(gchar *contents, gsize length)
{
	OsqdDevicesIds *ids = g_new0(OsqdDevicesIds, 1);
	const gchar *end = contents + length;

	ids->contents = contents;
	ids->length = length;
	ids->vendors = g_hash_table_new(g_direct_hash, g_direct_equal);
	for (const gchar *p = contents; p < end;) {
		const gchar *eol = devices_line_end(p, end);
		guint vendor;

		if (devices_ids_hex(p, eol, 4, &vendor) && devices_ids_has_name(p + 4, eol)) {
			gpointer key = GUINT_TO_POINTER(vendor + 1);
			if (!g_hash_table_contains(ids->vendors, key)) {
				g_hash_table_insert(ids->vendors, key,
				                    GSIZE_TO_POINTER((gsize)(p - contents) + 1));
			}
		} else if (ids->classes == NULL && eol - p > 2 && p[0] == 'C' && p[1] == ' ') {
			ids->classes = p;
		}
		p = devices_next_line(eol, end);
	}
	return ids;
}

void
osqd_devices_ids_free(OsqdDevicesIds *ids)
{
	if (ids == NULL)
		return;
	g_hash_table_unref(ids->vendors);
	g_free(ids->contents);
	g_free(ids);
}

static const gchar *
devices_ids_vendor_line(const OsqdDevicesIds *ids, guint vendor)
{
	gsize offset =
	        GPOINTER_TO_SIZE(g_hash_table_lookup(ids->vendors, GUINT_TO_POINTER(vendor + 1)));

	return offset > 0 ? ids->contents + offset - 1 : NULL;
}

/* Scans the lines indented by @depth tabs under @parent (comments and blank lines allowed)
 * for one whose id, parsed by @match, equals what the caller wants. */
typedef gboolean (*DevicesIdsMatchFunc)(const gchar *p, const gchar *eol, const guint *want,
                                        const gchar **rest);

static const gchar *
devices_ids_find_child(const OsqdDevicesIds *ids, const gchar *parent, guint depth,
                       DevicesIdsMatchFunc match, const guint *want, const gchar **rest)
{
	const gchar *end = ids->contents + ids->length;
	const gchar *p = devices_next_line(devices_line_end(parent, end), end);

	while (p < end) {
		const gchar *eol = devices_line_end(p, end);
		guint tabs = 0;

		while (p + tabs < eol && p[tabs] == '\t')
			tabs++;
		if (p == eol || p[0] == '#') {
			p = devices_next_line(eol, end);
			continue;
		}
		if (tabs < depth)
			return NULL; /* the next parent */
		if (tabs == depth && match(p + tabs, eol, want, rest) &&
		    devices_ids_has_name(*rest, eol))
			return p;
		p = devices_next_line(eol, end);
	}
	return NULL;
}

static gboolean
devices_ids_match_four(const gchar *p, const gchar *eol, const guint *want, const gchar **rest)
{
	guint id;

	if (!devices_ids_hex(p, eol, 4, &id) || id != want[0])
		return FALSE;
	*rest = p + 4;
	return TRUE;
}

static gboolean
devices_ids_match_two(const gchar *p, const gchar *eol, const guint *want, const gchar **rest)
{
	guint id;

	if (!devices_ids_hex(p, eol, 2, &id) || id != want[0])
		return FALSE;
	*rest = p + 2;
	return TRUE;
}

static gboolean
devices_ids_match_pair(const gchar *p, const gchar *eol, const guint *want, const gchar **rest)
{
	guint subvendor, subdevice;

	if (!devices_ids_hex(p, eol, 4, &subvendor) || subvendor != want[0] || eol - p < 9 ||
	    !devices_ids_hex(p + 5, eol, 4, &subdevice) || subdevice != want[1])
		return FALSE;
	*rest = p + 9;
	return TRUE;
}

gboolean
osqd_devices_ids_vendor(const OsqdDevicesIds *ids, guint vendor, const gchar **name, gsize *len)
{
	const gchar *line = devices_ids_vendor_line(ids, vendor);

	if (line == NULL)
		return FALSE;
	return devices_ids_name(line + 4, devices_line_end(line, ids->contents + ids->length), name,
	                        len);
}

gboolean
osqd_devices_ids_device(const OsqdDevicesIds *ids, guint vendor, guint device, const gchar **name,
                        gsize *len)
{
	const gchar *end = ids->contents + ids->length;
	const gchar *line = devices_ids_vendor_line(ids, vendor);
	const gchar *rest = NULL;

	if (line == NULL)
		return FALSE;
	line = devices_ids_find_child(ids, line, 1, devices_ids_match_four, &device, &rest);
	if (line == NULL)
		return FALSE;
	return devices_ids_name(rest, devices_line_end(line, end), name, len);
}

gboolean
osqd_devices_ids_subsystem(const OsqdDevicesIds *ids, guint vendor, guint device, guint subvendor,
                           guint subdevice, const gchar **name, gsize *len)
{
	const gchar *end = ids->contents + ids->length;
	const gchar *line = devices_ids_vendor_line(ids, vendor);
	const guint pair[] = { subvendor, subdevice };
	const gchar *rest = NULL;

	if (line == NULL)
		return FALSE;
	line = devices_ids_find_child(ids, line, 1, devices_ids_match_four, &device, &rest);
	if (line == NULL)
		return FALSE;
	line = devices_ids_find_child(ids, line, 2, devices_ids_match_pair, pair, &rest);
	if (line == NULL)
		return FALSE;
	return devices_ids_name(rest, devices_line_end(line, end), name, len);
}

static const gchar *
devices_ids_class_line(const OsqdDevicesIds *ids, guint class_code)
{
	const gchar *end = ids->contents + ids->length;

	for (const gchar *p = ids->classes; p != NULL && p < end;) {
		const gchar *eol = devices_line_end(p, end);
		guint id;
		if (eol - p > 2 && p[0] == 'C' && p[1] == ' ' &&
		    devices_ids_hex(p + 2, eol, 2, &id) && id == class_code &&
		    devices_ids_has_name(p + 4, eol))
			return p;
		p = devices_next_line(eol, end);
	}
	return NULL;
}

gboolean
osqd_devices_ids_class(const OsqdDevicesIds *ids, guint class_code, const gchar **name, gsize *len)
{
	const gchar *line = devices_ids_class_line(ids, class_code);

	if (line == NULL)
		return FALSE;
	return devices_ids_name(line + 4, devices_line_end(line, ids->contents + ids->length), name,
	                        len);
}

gboolean
osqd_devices_ids_subclass(const OsqdDevicesIds *ids, guint class_code, guint subclass,
                          const gchar **name, gsize *len)
{
	const gchar *line = devices_ids_class_line(ids, class_code);
	const gchar *rest = NULL;

	if (line == NULL)
		return FALSE;
	line = devices_ids_find_child(ids, line, 1, devices_ids_match_two, &subclass, &rest);
	if (line == NULL)
		return FALSE;
	return devices_ids_name(rest, devices_line_end(line, ids->contents + ids->length), name,
	                        len);
}

/* ---- value parsers ---- */

static gboolean
devices_udev_allowed(gchar c)
{
	return g_ascii_isalnum(c) || strchr("#+-.:=@_", c) != NULL;
}

void
osqd_devices_udev_string(const gchar *text, gchar *out, gsize out_size)
{
	const gchar *start = text, *end = text + strlen(text);
	gboolean blank = FALSE;
	gsize j = 0;

	g_return_if_fail(out_size > 0);
	while (start < end && g_ascii_isspace(*start))
		start++;
	while (end > start && g_ascii_isspace(end[-1]))
		end--;
	for (const gchar *p = start; p < end && j + 1 < out_size; p++) {
		if (g_ascii_isspace(*p)) {
			blank = TRUE;
			continue;
		}
		if (blank) {
			out[j++] = '_';
			blank = FALSE;
			if (j + 1 >= out_size)
				break;
		}
		out[j++] = *p;
	}
	out[j] = '\0';
	/* then what udev_replace_chars() does without an allow list */
	for (gsize i = 0; i < j;) {
		gunichar c;
		const gchar *next;
		if (devices_udev_allowed(out[i])) {
			i++;
			continue;
		}
		if (out[i] == '\\' && i + 1 < j && out[i + 1] == 'x') {
			i += 2;
			continue;
		}
		c = g_utf8_get_char_validated(out + i, (gssize)(j - i));
		if ((guchar)out[i] >= 0x80 && c != (gunichar)-1 && c != (gunichar)-2) {
			next = g_utf8_next_char(out + i);
			i = (gsize)(next - out);
			continue;
		}
		out[i++] = '_';
	}
}

gboolean
osqd_devices_parse_hex(const gchar *text, guint *value)
{
	guint64 v = 0;
	gsize n = 0;

	if (text[0] == '0' && (text[1] == 'x' || text[1] == 'X'))
		text += 2;
	for (; text[n] != '\0'; n++) {
		if (!g_ascii_isxdigit(text[n]) || n >= 8)
			return FALSE;
		v = v * 16 + (guint64)g_ascii_xdigit_value(text[n]);
	}
	if (n == 0)
		return FALSE;
	*value = (guint)v;
	return TRUE;
}

gboolean
osqd_devices_uevent_value(const gchar *uevent, const gchar *key, gchar *out, gsize out_size)
{
	gsize key_len = strlen(key);

	for (const gchar *p = uevent; p != NULL && *p != '\0';) {
		const gchar *eol = strchr(p, '\n');
		gsize len = eol != NULL ? (gsize)(eol - p) : strlen(p);
		if (len > key_len && strncmp(p, key, key_len) == 0 && p[key_len] == '=') {
			gsize value_len = len - key_len - 1;
			if (value_len >= out_size)
				return FALSE;
			memcpy(out, p + key_len + 1, value_len);
			out[value_len] = '\0';
			return TRUE;
		}
		p = eol != NULL ? eol + 1 : NULL;
	}
	return FALSE;
}

gboolean
osqd_devices_pci_parse_id(const gchar *text, guint *vendor, guint *device)
{
	const gchar *colon = strchr(text, ':');
	gchar left[16];

	if (colon == NULL || strchr(colon + 1, ':') != NULL ||
	    (gsize)(colon - text) >= sizeof(left))
		return FALSE;
	memcpy(left, text, (gsize)(colon - text));
	left[colon - text] = '\0';
	return osqd_devices_parse_hex(left, vendor) && osqd_devices_parse_hex(colon + 1, device) &&
	       *vendor <= 0xffff && *device <= 0xffff;
}

gboolean
osqd_devices_pci_parse_class(const gchar *text, guint *class_code, guint *subclass)
{
	guint value;

	if (!osqd_devices_parse_hex(text, &value) || value > 0xffffff)
		return FALSE;
	*class_code = value >> 16;
	*subclass = (value >> 8) & 0xff;
	return TRUE;
}

/* ---- sysfs ---- */

/* Reads <dir>/<device>/<attribute> into @buf without its trailing blanks. */
static gboolean
devices_read_attribute(int dir_fd, const gchar *device, const gchar *attribute, gchar *buf,
                       gsize size)
{
	gchar relative[512];
	gssize n;
	int fd;

	g_snprintf(relative, sizeof(relative), "%s/%s", device, attribute);
	fd = openat(dir_fd, relative, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return FALSE;
	do {
		n = read(fd, buf, size - 1);
	} while (n < 0 && errno == EINTR);
	(void)close(fd);
	if (n < 0)
		return FALSE;
	while (n > 0 && g_ascii_isspace(buf[n - 1]))
		n--;
	buf[n] = '\0';
	return TRUE;
}

static gint
devices_compare_strings(gconstpointer a, gconstpointer b)
{
	return strcmp(*(const gchar *const *)a, *(const gchar *const *)b);
}

/* The entries of @path, sorted; NULL when it cannot be listed. */
static GPtrArray *
devices_list_dir(const gchar *path)
{
	g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
	GPtrArray *names;
	const gchar *entry;

	if (dir == NULL)
		return NULL;
	names = g_ptr_array_new_with_free_func(g_free);
	while ((entry = g_dir_read_name(dir)) != NULL)
		g_ptr_array_add(names, g_strdup(entry));
	g_ptr_array_sort(names, devices_compare_strings);
	return names;
}

static OsqdDevicesIds *
devices_ids_load(OsqdTableContext *ctx, const gchar *const *paths)
{
	for (guint i = 0; paths[i] != NULL; i++) {
		g_autofree gchar *path = osqd_table_context_path(ctx, "%s", paths[i]);
		g_autoptr(GError) error_local = NULL;
		gchar *contents = NULL;
		gsize length = 0;

		if (osqd_read_file(path, DEVICES_IDS_MAX, &contents, &length, &error_local))
			return osqd_devices_ids_new(contents, length);
		if (!g_error_matches(error_local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
			g_debug("%s", error_local->message);
	}
	g_debug("no %s found: device names are left NULL", paths[0]);
	return NULL;
}

static int
devices_open_dir(const gchar *path)
{
	return open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

typedef gboolean (*DevicesAddRowFunc)(OsqdTableContext *ctx, OsqdRowSink *sink, int dir_fd,
                                      const gchar *device, const OsqdDevicesIds *ids);

/* Calls @add_row for every entry of the sysfs directory @bus_dir. */
static gboolean
devices_scan(OsqdTableContext *ctx, OsqdRowSink *sink, const gchar *bus_dir,
             const OsqdDevicesIds *ids, DevicesAddRowFunc add_row, GError **error)
{
	g_autofree gchar *path = osqd_table_context_path(ctx, "%s", bus_dir);
	g_autoptr(GPtrArray) devices = devices_list_dir(path);
	int dir_fd;

	if (devices == NULL) {
		g_debug("%s cannot be listed: no devices", path);
		return TRUE;
	}
	dir_fd = devices_open_dir(path);
	if (dir_fd < 0) {
		int saved = errno;
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_IO, "%s: %s", path, g_strerror(saved));
		return FALSE;
	}
	for (guint i = 0; i < devices->len; i++) {
		if (!osqd_table_context_check(ctx, error)) {
			(void)close(dir_fd);
			return FALSE;
		}
		if (!add_row(ctx, sink, dir_fd, g_ptr_array_index(devices, i), ids))
			g_debug("%s/%s is not a device: skipped", path,
			        (const gchar *)g_ptr_array_index(devices, i));
	}
	(void)close(dir_fd);
	return TRUE;
}

/* ---- usb_devices ---- */

static gboolean
devices_usb_read_int(int dir_fd, const gchar *device, const gchar *attribute, gint64 *value)
{
	gchar buf[32];
	gchar *end = NULL;

	if (!devices_read_attribute(dir_fd, device, attribute, buf, sizeof(buf)))
		return FALSE;
	*value = g_ascii_strtoll(buf, &end, 10);
	return end != buf && *end == '\0';
}

/* A descriptor byte (bDeviceClass "09") in decimal, as the kernel's TYPE=9/0/1. */
static void
devices_usb_set_code(OsqdRow *row, guint column, int dir_fd, const gchar *device,
                     const gchar *attribute)
{
	gchar buf[32];
	guint value;

	if (devices_read_attribute(dir_fd, device, attribute, buf, sizeof(buf)) &&
	    osqd_devices_parse_hex(buf, &value))
		osqd_row_set_printf(row, column, "%u", value);
}

/* udev's ID_VENDOR / ID_MODEL fallback: the device's own string, cleaned up. */
static gboolean
devices_usb_set_string(OsqdRow *row, guint column, int dir_fd, const gchar *device,
                       const gchar *attribute)
{
	gchar buf[DEVICES_ATTRIBUTE_MAX], clean[DEVICES_ATTRIBUTE_MAX];

	if (!devices_read_attribute(dir_fd, device, attribute, buf, sizeof(buf)))
		return FALSE;
	osqd_devices_udev_string(buf, clean, sizeof(clean));
	if (clean[0] == '\0')
		return FALSE;
	osqd_row_set_text(row, column, clean);
	return TRUE;
}

static void
devices_usb_set_names(OsqdTableContext *ctx, OsqdRow *row, int dir_fd, const gchar *device,
                      const OsqdDevicesIds *ids, const gchar *vendor_id, const gchar *model_id)
{
	guint vendor = 0, model = 0;
	gboolean has_ids = osqd_devices_parse_hex(vendor_id, &vendor) &&
	                   osqd_devices_parse_hex(model_id, &model);
	const gchar *name = NULL;
	gsize len = 0;

	if (osqd_table_context_column_used(ctx, OSQD_USB_DEVICES_COL_VENDOR)) {
		if (ids != NULL && has_ids && osqd_devices_ids_vendor(ids, vendor, &name, &len))
			osqd_row_set_text_len(row, OSQD_USB_DEVICES_COL_VENDOR, name, (gssize)len);
		else
			(void)devices_usb_set_string(row, OSQD_USB_DEVICES_COL_VENDOR, dir_fd,
			                             device, "manufacturer");
	}
	if (osqd_table_context_column_used(ctx, OSQD_USB_DEVICES_COL_MODEL)) {
		if (ids != NULL && has_ids &&
		    osqd_devices_ids_device(ids, vendor, model, &name, &len))
			osqd_row_set_text_len(row, OSQD_USB_DEVICES_COL_MODEL, name, (gssize)len);
		else if (!devices_usb_set_string(row, OSQD_USB_DEVICES_COL_MODEL, dir_fd, device,
		                                 "product") &&
		         model_id[0] != '\0')
			osqd_row_set_text(row, OSQD_USB_DEVICES_COL_MODEL, model_id);
	}
}

static gboolean
devices_usb_add_row(OsqdTableContext *ctx, OsqdRowSink *sink, int dir_fd, const gchar *device,
                    const OsqdDevicesIds *ids)
{
	gchar vendor_id[32] = "", model_id[32] = "", buf[DEVICES_ATTRIBUTE_MAX];
	gint64 bus, number;
	OsqdRow *row;

	/* interfaces (1-1:1.0) have no bus and device numbers: they are not listed */
	if (!devices_usb_read_int(dir_fd, device, "busnum", &bus) ||
	    !devices_usb_read_int(dir_fd, device, "devnum", &number))
		return FALSE;
	row = osqd_row_sink_append(sink);
	osqd_row_set_int(row, OSQD_USB_DEVICES_COL_USB_ADDRESS, bus);
	osqd_row_set_int(row, OSQD_USB_DEVICES_COL_USB_PORT, number);
	if (devices_read_attribute(dir_fd, device, "idVendor", vendor_id, sizeof(vendor_id)) &&
	    vendor_id[0] != '\0')
		osqd_row_set_text(row, OSQD_USB_DEVICES_COL_VENDOR_ID, vendor_id);
	if (devices_read_attribute(dir_fd, device, "idProduct", model_id, sizeof(model_id)) &&
	    model_id[0] != '\0')
		osqd_row_set_text(row, OSQD_USB_DEVICES_COL_MODEL_ID, model_id);
	devices_usb_set_names(ctx, row, dir_fd, device, ids, vendor_id, model_id);
	if (osqd_table_context_column_used(ctx, OSQD_USB_DEVICES_COL_VERSION) &&
	    devices_read_attribute(dir_fd, device, "bcdDevice", buf, sizeof(buf)) && buf[0] != '\0')
		osqd_row_set_text(row, OSQD_USB_DEVICES_COL_VERSION, buf);
	if (osqd_table_context_column_used(ctx, OSQD_USB_DEVICES_COL_SERIAL))
		(void)devices_usb_set_string(row, OSQD_USB_DEVICES_COL_SERIAL, dir_fd, device,
		                             "serial");
	if (osqd_table_context_column_used(ctx, OSQD_USB_DEVICES_COL_CLASS))
		devices_usb_set_code(row, OSQD_USB_DEVICES_COL_CLASS, dir_fd, device,
		                     "bDeviceClass");
	if (osqd_table_context_column_used(ctx, OSQD_USB_DEVICES_COL_SUBCLASS))
		devices_usb_set_code(row, OSQD_USB_DEVICES_COL_SUBCLASS, dir_fd, device,
		                     "bDeviceSubClass");
	if (osqd_table_context_column_used(ctx, OSQD_USB_DEVICES_COL_PROTOCOL))
		devices_usb_set_code(row, OSQD_USB_DEVICES_COL_PROTOCOL, dir_fd, device,
		                     "bDeviceProtocol");
	if (osqd_table_context_column_used(ctx, OSQD_USB_DEVICES_COL_REMOVABLE)) {
		gboolean unknown =
		        devices_read_attribute(dir_fd, device, "removable", buf, sizeof(buf)) &&
		        g_strcmp0(buf, "unknown") == 0;
		osqd_row_set_int(row, OSQD_USB_DEVICES_COL_REMOVABLE, unknown ? -1 : 1);
	}
	return TRUE;
}

gboolean
osqd_table_usb_devices_generate(OsqdTableContext *ctx, OsqdRowSink *sink, GError **error)
{
	g_autoptr(OsqdDevicesIds) ids = NULL;

	if (osqd_table_context_column_used(ctx, OSQD_USB_DEVICES_COL_VENDOR) ||
	    osqd_table_context_column_used(ctx, OSQD_USB_DEVICES_COL_MODEL))
		ids = devices_ids_load(ctx, devices_usb_ids_paths);
	return devices_scan(ctx, sink, "/sys/bus/usb/devices", ids, devices_usb_add_row, error);
}

/* ---- pci_devices ---- */

typedef struct {
	gboolean has_id, has_subsystem, has_class;
	guint vendor, device, subvendor, subdevice, class_code, subclass;
	gchar slot[64];
	gchar driver[256];
} DevicesPci;

/* Without a uevent file: the individual attributes and the driver link. */
static void
devices_pci_read_attributes(int dir_fd, const gchar *device, DevicesPci *pci)
{
	gchar a[32], b[32], link[512], relative[512];
	gssize n;

	pci->has_id = devices_read_attribute(dir_fd, device, "vendor", a, sizeof(a)) &&
	              devices_read_attribute(dir_fd, device, "device", b, sizeof(b)) &&
	              osqd_devices_parse_hex(a, &pci->vendor) &&
	              osqd_devices_parse_hex(b, &pci->device);
	pci->has_subsystem =
	        devices_read_attribute(dir_fd, device, "subsystem_vendor", a, sizeof(a)) &&
	        devices_read_attribute(dir_fd, device, "subsystem_device", b, sizeof(b)) &&
	        osqd_devices_parse_hex(a, &pci->subvendor) &&
	        osqd_devices_parse_hex(b, &pci->subdevice);
	pci->has_class = devices_read_attribute(dir_fd, device, "class", a, sizeof(a)) &&
	                 osqd_devices_pci_parse_class(a, &pci->class_code, &pci->subclass);
	g_snprintf(relative, sizeof(relative), "%s/driver", device);
	n = readlinkat(dir_fd, relative, link, sizeof(link) - 1);
	if (n > 0) {
		g_autofree gchar *base = NULL;
		link[n] = '\0';
		base = g_path_get_basename(link);
		g_strlcpy(pci->driver, base, sizeof(pci->driver));
	}
}

static void
devices_pci_parse_uevent(const gchar *uevent, DevicesPci *pci)
{
	gchar value[256];

	if (osqd_devices_uevent_value(uevent, "PCI_SLOT_NAME", value, sizeof(value)) &&
	    value[0] != '\0')
		g_strlcpy(pci->slot, value, sizeof(pci->slot));
	(void)osqd_devices_uevent_value(uevent, "DRIVER", pci->driver, sizeof(pci->driver));
	pci->has_id = osqd_devices_uevent_value(uevent, "PCI_ID", value, sizeof(value)) &&
	              osqd_devices_pci_parse_id(value, &pci->vendor, &pci->device);
	pci->has_subsystem =
	        osqd_devices_uevent_value(uevent, "PCI_SUBSYS_ID", value, sizeof(value)) &&
	        osqd_devices_pci_parse_id(value, &pci->subvendor, &pci->subdevice);
	pci->has_class = osqd_devices_uevent_value(uevent, "PCI_CLASS", value, sizeof(value)) &&
	                 osqd_devices_pci_parse_class(value, &pci->class_code, &pci->subclass);
}

static void
devices_pci_set_names(OsqdRow *row, const DevicesPci *pci, const OsqdDevicesIds *ids)
{
	const gchar *name = NULL;
	gsize len = 0;

	if (pci->has_class) {
		if (osqd_devices_ids_class(ids, pci->class_code, &name, &len))
			osqd_row_set_text_len(row, OSQD_PCI_DEVICES_COL_PCI_CLASS, name,
			                      (gssize)len);
		if (osqd_devices_ids_subclass(ids, pci->class_code, pci->subclass, &name, &len))
			osqd_row_set_text_len(row, OSQD_PCI_DEVICES_COL_PCI_SUBCLASS, name,
			                      (gssize)len);
	}
	if (!pci->has_id)
		return;
	if (osqd_devices_ids_vendor(ids, pci->vendor, &name, &len))
		osqd_row_set_text_len(row, OSQD_PCI_DEVICES_COL_VENDOR, name, (gssize)len);
	if (osqd_devices_ids_device(ids, pci->vendor, pci->device, &name, &len))
		osqd_row_set_text_len(row, OSQD_PCI_DEVICES_COL_MODEL, name, (gssize)len);
	if (!pci->has_subsystem)
		return;
	if (osqd_devices_ids_vendor(ids, pci->subvendor, &name, &len))
		osqd_row_set_text_len(row, OSQD_PCI_DEVICES_COL_SUBSYSTEM_VENDOR, name,
		                      (gssize)len);
	if (osqd_devices_ids_subsystem(ids, pci->vendor, pci->device, pci->subvendor,
	                               pci->subdevice, &name, &len))
		osqd_row_set_text_len(row, OSQD_PCI_DEVICES_COL_SUBSYSTEM_MODEL, name, (gssize)len);
}

static gboolean
devices_pci_add_row(OsqdTableContext *ctx, OsqdRowSink *sink, int dir_fd, const gchar *device,
                    const OsqdDevicesIds *ids)
{
	gchar uevent[DEVICES_UEVENT_MAX];
	DevicesPci pci = { 0 };
	OsqdRow *row;

	(void)ctx;
	g_strlcpy(pci.slot, device, sizeof(pci.slot));
	if (devices_read_attribute(dir_fd, device, "uevent", uevent, sizeof(uevent)))
		devices_pci_parse_uevent(uevent, &pci);
	else
		devices_pci_read_attributes(dir_fd, device, &pci);
	row = osqd_row_sink_append(sink);
	osqd_row_set_text(row, OSQD_PCI_DEVICES_COL_PCI_SLOT, pci.slot);
	if (pci.driver[0] != '\0')
		osqd_row_set_text(row, OSQD_PCI_DEVICES_COL_DRIVER, pci.driver);
	if (pci.has_class) {
		osqd_row_set_printf(row, OSQD_PCI_DEVICES_COL_PCI_CLASS_ID, "0x%02x",
		                    pci.class_code);
		osqd_row_set_printf(row, OSQD_PCI_DEVICES_COL_PCI_SUBCLASS_ID, "0x%02x",
		                    pci.subclass);
	}
	if (pci.has_id) {
		osqd_row_set_printf(row, OSQD_PCI_DEVICES_COL_VENDOR_ID, "0x%04x", pci.vendor);
		osqd_row_set_printf(row, OSQD_PCI_DEVICES_COL_MODEL_ID, "0x%04x", pci.device);
	} else {
		/* osquery's value when the kernel gives no usable id */
		osqd_row_set_text(row, OSQD_PCI_DEVICES_COL_VENDOR_ID, "0");
		osqd_row_set_text(row, OSQD_PCI_DEVICES_COL_MODEL_ID, "0");
	}
	if (pci.has_id && pci.has_subsystem) {
		osqd_row_set_printf(row, OSQD_PCI_DEVICES_COL_SUBSYSTEM_VENDOR_ID, "0x%04x",
		                    pci.subvendor);
		osqd_row_set_printf(row, OSQD_PCI_DEVICES_COL_SUBSYSTEM_MODEL_ID, "0x%04x",
		                    pci.subdevice);
	}
	if (ids != NULL)
		devices_pci_set_names(row, &pci, ids);
	return TRUE;
}

gboolean
osqd_table_pci_devices_generate(OsqdTableContext *ctx, OsqdRowSink *sink, GError **error)
{
	static const guint name_columns[] = {
		OSQD_PCI_DEVICES_COL_PCI_CLASS,
		OSQD_PCI_DEVICES_COL_VENDOR,
		OSQD_PCI_DEVICES_COL_MODEL,
		OSQD_PCI_DEVICES_COL_PCI_SUBCLASS,
		OSQD_PCI_DEVICES_COL_SUBSYSTEM_VENDOR,
		OSQD_PCI_DEVICES_COL_SUBSYSTEM_MODEL,
	};
	g_autoptr(OsqdDevicesIds) ids = NULL;
	gboolean names_used = FALSE;

	for (guint i = 0; i < G_N_ELEMENTS(name_columns); i++)
		names_used |= osqd_table_context_column_used(ctx, name_columns[i]);
	if (names_used)
		ids = devices_ids_load(ctx, devices_pci_ids_paths);
	return devices_scan(ctx, sink, "/sys/bus/pci/devices", ids, devices_pci_add_row, error);
}
