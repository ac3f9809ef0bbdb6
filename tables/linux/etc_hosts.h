/* SPDX-License-Identifier: Apache-2.0
 *
 * Pure parser for one line of /etc/hosts (hosts(5)), for the unit tests.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Returns TRUE for a line that maps an address: @address gets the IPv4/IPv6 address and
 * @hostnames its names joined by single spaces (NULL when the line names none). Blank lines,
 * comments (from '#' to the end of the line) and lines whose first word is not an IP address
 * give FALSE. */
gboolean osqd_etc_hosts_parse_line(const gchar *line, gchar **address, gchar **hostnames);

G_END_DECLS
