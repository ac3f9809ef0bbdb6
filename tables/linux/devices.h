/* SPDX-License-Identifier: Apache-2.0
 *
 * Pure helpers behind the device tables (usb_devices, pci_devices), exposed for unit tests: the
 * usb.ids / pci.ids name databases, the udev-style string clean-up, and the parsers for the
 * values sysfs and uevent files hold. They do no I/O.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A usb.ids or pci.ids file with an index of its vendor lines; names point into the file. */
typedef struct _OsqdDevicesIds OsqdDevicesIds;

/* Takes @contents (g_malloc'd, NUL-terminated, @length bytes). */
OsqdDevicesIds *osqd_devices_ids_new(gchar *contents, gsize length);
void osqd_devices_ids_free(OsqdDevicesIds *ids);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(OsqdDevicesIds, osqd_devices_ids_free)

/* Each lookup sets @name/@len (not NUL-terminated) and returns TRUE when the id is listed. */
gboolean osqd_devices_ids_vendor(const OsqdDevicesIds *ids, guint vendor, const gchar **name,
                                 gsize *len);
gboolean osqd_devices_ids_device(const OsqdDevicesIds *ids, guint vendor, guint device,
                                 const gchar **name, gsize *len);
gboolean osqd_devices_ids_subsystem(const OsqdDevicesIds *ids, guint vendor, guint device,
                                    guint subvendor, guint subdevice, const gchar **name,
                                    gsize *len);
/* The "C xx" class section (pci.ids). */
gboolean osqd_devices_ids_class(const OsqdDevicesIds *ids, guint class_code, const gchar **name,
                                gsize *len);
gboolean osqd_devices_ids_subclass(const OsqdDevicesIds *ids, guint class_code, guint subclass,
                                   const gchar **name, gsize *len);

/* udev's clean-up of device strings (ID_MODEL, ID_SERIAL_SHORT): blanks trimmed, runs of
 * blanks turned into one '_', characters outside [A-Za-z0-9#+-.:=@_] and valid UTF-8 into '_'. */
void osqd_devices_udev_string(const gchar *text, gchar *out, gsize out_size);

/* Hex number, with or without 0x, of at most 8 digits; the whole of @text must be used. */
gboolean osqd_devices_parse_hex(const gchar *text, guint *value);

/* The value of KEY=value line @key of a uevent file, copied into @out. */
gboolean osqd_devices_uevent_value(const gchar *uevent, const gchar *key, gchar *out,
                                   gsize out_size);

/* "vvvv:dddd" (PCI_ID, PCI_SUBSYS_ID). */
gboolean osqd_devices_pci_parse_id(const gchar *text, guint *vendor, guint *device);

/* PCI_CLASS ("30000", "c0330") or the class attribute ("0x030000"): class and subclass. */
gboolean osqd_devices_pci_parse_class(const gchar *text, guint *class_code, guint *subclass);

G_END_DECLS
