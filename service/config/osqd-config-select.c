/* SPDX-License-Identifier: Apache-2.0
 *
 * Query and pack selectors (platform, version, shard) as osquery applies them, as pure
 * functions of the selector values and an OsqdConfigHost, so osqd decides what its host is and
 * tests can pin a hostname. A query that is not selected stays in the model, marked.
 */
#include "config.h"

#include "osqd-config.h"

#include <string.h>

guint
osqd_config_host_shard(const gchar *hostname)
{
	g_autoptr(GChecksum) checksum = g_checksum_new(G_CHECKSUM_SHA1);
	guint8 digest[20];
	gsize length = sizeof(digest);

	g_checksum_update(checksum, (const guchar *)hostname, (gssize)strlen(hostname));
	g_checksum_get_digest(checksum, digest, &length);
	return (guint)digest[0] * 100 / 255;
}

gboolean
osqd_config_platform_matches(const gchar *platform, const gchar *host_platform)
{
	if (platform == NULL || platform[0] == '\0' || g_strcmp0(platform, "null") == 0)
		return TRUE;
	if (strstr(platform, "any") != NULL || strstr(platform, "all") != NULL)
		return TRUE;
	if (host_platform == NULL || host_platform[0] == '\0')
		return FALSE;
	if (strstr(platform, host_platform) != NULL)
		return TRUE;
	if (g_strcmp0(host_platform, "linux") == 0)
		return strstr(platform, "ubuntu") != NULL || strstr(platform, "centos") != NULL ||
		       strstr(platform, "posix") != NULL;
	return FALSE;
}

/* The leading number of a version part, advancing past the whole part and its '.'. */
static guint64
select_version_part(const gchar **cursor)
{
	const gchar *p = *cursor;
	guint64 value = 0;

	while (g_ascii_isdigit(*p)) {
		if (value < G_MAXUINT32)
			value = value * 10 + (guint64)(*p - '0');
		p++;
	}
	while (*p != '\0' && *p != '.')
		p++;
	if (*p == '.')
		p++;
	*cursor = p;
	return value;
}

gint
osqd_config_version_compare(const gchar *a, const gchar *b)
{
	const gchar *pa = a != NULL ? a : "";
	const gchar *pb = b != NULL ? b : "";

	while (*pa != '\0' || *pb != '\0') {
		guint64 va = select_version_part(&pa);
		guint64 vb = select_version_part(&pb);
		if (va != vb)
			return va < vb ? -1 : 1;
	}
	return 0;
}

gboolean
osqd_config_query_selected(const gchar *platform, const gchar *version, guint shard,
                           const OsqdConfigHost *host)
{
	if (host == NULL)
		return TRUE;
	if (!osqd_config_platform_matches(platform, host->platform))
		return FALSE;
	if (version != NULL && version[0] != '\0' &&
	    osqd_config_version_compare(host->version, version) < 0)
		return FALSE;
	if (shard > 0 && host->shard > shard)
		return FALSE;
	return TRUE;
}
