/* SPDX-License-Identifier: Apache-2.0
 *
 * etc_hosts: the static host name table, one row per address line of /etc/hosts. Unlike
 * osquery, a line whose first word is not an IP address is skipped: the resolver ignores it
 * too, so it maps nothing.
 */
#include "config.h"

#include "etc_hosts.h"

#include <arpa/inet.h>
#include <string.h>

#include "osqd-tables-generated.h"

#define ETC_HOSTS_FILE_MAX (64 * 1024 * 1024)

/* IPv4 dotted quad or IPv6, the latter with an optional %zone (fe80::1%eth0). */
static gboolean
etc_hosts_is_address(const gchar *text)
{
	guchar buf[sizeof(struct in6_addr)];
	g_autofree gchar *v6 = NULL;
	gchar *zone;

	if (inet_pton(AF_INET, text, buf) == 1)
		return TRUE;
	v6 = g_strdup(text);
	zone = strchr(v6, '%');
	if (zone != NULL) {
		if (zone[1] == '\0')
			return FALSE;
		*zone = '\0';
	}
	return inet_pton(AF_INET6, v6, buf) == 1;
}

gboolean
osqd_etc_hosts_parse_line(const gchar *line, gchar **address, gchar **hostnames)
{
	g_autofree gchar *copy = g_strdup(line);
	g_auto(GStrv) words = NULL;
	g_autoptr(GString) names = g_string_new(NULL);
	gchar *comment = strchr(copy, '#');
	const gchar *first = NULL;

	if (comment != NULL)
		*comment = '\0';
	words = g_strsplit_set(copy, " \t\r\v\f", -1);
	for (guint i = 0; words[i] != NULL; i++) {
		if (words[i][0] == '\0')
			continue;
		if (first == NULL) {
			first = words[i];
			continue;
		}
		if (names->len > 0)
			g_string_append_c(names, ' ');
		g_string_append(names, words[i]);
	}
	if (first == NULL || !etc_hosts_is_address(first))
		return FALSE;
	*address = g_strdup(first);
	*hostnames = names->len > 0 ? g_string_free(g_steal_pointer(&names), FALSE) : NULL;
	return TRUE;
}

gboolean
osqd_table_etc_hosts_generate(OsqdTableContext *ctx, OsqdRowSink *sink, GError **error)
{
	g_autofree gchar *path = osqd_table_context_path(ctx, "/etc/hosts");
	g_autofree gchar *text = NULL;
	g_autoptr(GError) error_local = NULL;
	g_auto(GStrv) lines = NULL;

	if (!osqd_read_file(path, ETC_HOSTS_FILE_MAX, &text, NULL, &error_local)) {
		/* no hosts file: nothing is mapped statically */
		if (g_error_matches(error_local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
			return TRUE;
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_IO, "cannot read /etc/hosts: %s",
		            g_str_has_prefix(error_local->message, path)
		                    ? error_local->message + strlen(path) + 2
		                    : error_local->message);
		return FALSE;
	}
	lines = g_strsplit(text, "\n", -1);
	for (guint i = 0; lines[i] != NULL; i++) {
		gchar *address = NULL, *hostnames = NULL;
		OsqdRow *row;

		if (!osqd_etc_hosts_parse_line(lines[i], &address, &hostnames)) {
			g_debug("/etc/hosts line %u maps nothing", i + 1);
			continue;
		}
		row = osqd_row_sink_append(sink);
		osqd_row_take_text(row, OSQD_ETC_HOSTS_COL_ADDRESS, address);
		osqd_row_take_text(row, OSQD_ETC_HOSTS_COL_HOSTNAMES, hostnames);
	}
	return TRUE;
}
