/* SPDX-License-Identifier: Apache-2.0
 *
 * Host identity tables: kernel_info, os_version, system_info and uptime, one row each. Every
 * value comes from a file under the root prefix (/proc, /sys/class/dmi/id, /etc), so fixture
 * trees can stand in for a host; uname() is used only on the live root ("/"), for the machine
 * name, and /proc/sys/kernel/arch stands in for it elsewhere. The DMI serial numbers and the
 * product UUID are root-only files: other users get NULL there (and the machine-id UUID).
 */
#include "config.h"

#include "system.h"

#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "osqd-tables-generated.h"

#define SYSTEM_SMALL_FILE_MAX (64 * 1024)
#define SYSTEM_CPUINFO_MAX    (4 * 1024 * 1024)

/* ---- pure parsers ---- */

static gboolean
system_is_blank(gchar c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

void
osqd_system_parse_cmdline(const gchar *text, gchar **path, gchar **device, gchar **arguments)
{
	g_autoptr(GString) rest = g_string_new(NULL);
	const gchar *p = text;

	*path = NULL;
	*device = NULL;
	while (*p != '\0') {
		const gchar *start;
		gsize len;

		while (system_is_blank(*p))
			p++;
		if (*p == '\0')
			break;
		start = p;
		while (*p != '\0' && !system_is_blank(*p))
			p++;
		len = (gsize)(p - start);
		if (len >= 11 && strncmp(start, "BOOT_IMAGE=", 11) == 0) {
			g_free(*path);
			*path = g_strndup(start + 11, len - 11);
		} else if (len >= 5 && strncmp(start, "root=", 5) == 0) {
			g_free(*device);
			*device = g_strndup(start + 5, len - 5);
		} else {
			if (rest->len > 0)
				g_string_append_c(rest, ' ');
			g_string_append_len(rest, start, (gssize)len);
		}
	}
	*arguments = g_string_free(g_steal_pointer(&rest), FALSE);
}

gchar *
osqd_system_parse_proc_version(const gchar *text)
{
	g_auto(GStrv) tokens = g_strsplit_set(text, " \t\n", 4);
	guint n = g_strv_length(tokens);

	if (n < 3 || g_strcmp0(tokens[1], "version") != 0 || tokens[2][0] == '\0')
		return NULL;
	return g_strdup(tokens[2]);
}

gboolean
osqd_system_parse_uptime(const gchar *text, gint64 *seconds)
{
	const gchar *p = text;
	gint64 value = 0;

	while (system_is_blank(*p))
		p++;
	if (!g_ascii_isdigit(*p))
		return FALSE;
	for (; g_ascii_isdigit(*p); p++) {
		if (value > (G_MAXINT64 - 9) / 10)
			return FALSE;
		value = value * 10 + (*p - '0');
	}
	if (*p == '.') {
		p++;
		if (!g_ascii_isdigit(*p))
			return FALSE;
		while (g_ascii_isdigit(*p))
			p++;
	}
	if (*p != '\0' && !system_is_blank(*p))
		return FALSE;
	*seconds = value;
	return TRUE;
}

/* Removes the quoting of one os-release value; NULL when a quote is left open. */
static gchar *
system_os_release_unquote(const gchar *value)
{
	g_autoptr(GString) out = g_string_new(NULL);
	gchar quote = value[0];
	const gchar *p = value + 1;

	if (quote != '"' && quote != '\'')
		return g_strdup(value);
	for (; *p != '\0' && *p != quote; p++) {
		if (quote == '"' && *p == '\\' && p[1] != '\0' && strchr("\"\\$`", p[1]) != NULL)
			p++;
		g_string_append_c(out, *p);
	}
	if (*p != quote)
		return NULL;
	return g_string_free(g_steal_pointer(&out), FALSE);
}

GHashTable *
osqd_system_parse_os_release(const gchar *text)
{
	g_autoptr(GHashTable) values =
	        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);

	for (guint i = 0; lines[i] != NULL; i++) {
		gchar *line = g_strstrip(lines[i]);
		gchar *equals = strchr(line, '=');
		gchar *value;
		gboolean key_ok = equals != NULL && equals != line;

		if (line[0] == '#' || !key_ok)
			continue;
		for (const gchar *k = line; k < equals && key_ok; k++)
			key_ok = g_ascii_isalnum(*k) || *k == '_';
		if (!key_ok)
			continue;
		value = system_os_release_unquote(equals + 1);
		if (value == NULL)
			continue;
		g_hash_table_replace(values, g_strndup(line, (gsize)(equals - line)), value);
	}
	return g_steal_pointer(&values);
}

gboolean
osqd_system_parse_integer(const gchar *text, gint64 *value)
{
	gint64 v = 0;

	if (text == NULL || !g_ascii_isdigit(text[0]))
		return FALSE;
	for (const gchar *p = text; *p != '\0'; p++) {
		if (!g_ascii_isdigit(*p) || v > (G_MAXINT64 - 9) / 10)
			return FALSE;
		v = v * 10 + (*p - '0');
	}
	*value = v;
	return TRUE;
}

gboolean
osqd_system_parse_release_line(const gchar *text, gchar **name, gchar **major, gchar **minor,
                               gchar **patch)
{
	/* The same shape osquery looks for in the release files of older Red Hat and Gentoo. */
	static GRegex *regex = NULL;
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);

	if (g_once_init_enter(&regex)) {
		GRegex *r = g_regex_new("([\\w+\\s]+) .* ([0-9]+)\\.([0-9]+)\\.?(\\w+)?",
		                        G_REGEX_OPTIMIZE, 0, NULL);
		g_once_init_leave(&regex, r);
	}
	for (guint i = 0; lines[i] != NULL; i++) {
		g_autoptr(GMatchInfo) match = NULL;
		g_autofree gchar *p = NULL;

		if (!g_regex_match(regex, lines[i], 0, &match))
			continue;
		*name = g_match_info_fetch(match, 1);
		*major = g_match_info_fetch(match, 2);
		*minor = g_match_info_fetch(match, 3);
		p = g_match_info_fetch(match, 4);
		*patch = p != NULL && p[0] != '\0' ? g_steal_pointer(&p) : g_strdup("0");
		return TRUE;
	}
	return FALSE;
}

void
osqd_system_cpu_info_clear(OsqdSystemCpuInfo *info)
{
	g_clear_pointer(&info->brand, g_free);
	g_clear_pointer(&info->model, g_free);
	g_clear_pointer(&info->microcode, g_free);
}

/* Records the (physical id, core id) of the processor block that just ended. */
static void
system_cpuinfo_flush(GHashTable *cores, GHashTable *sockets, gchar **physical, gchar **core)
{
	if (*physical != NULL) {
		g_hash_table_add(sockets, g_strdup(*physical));
		if (*core != NULL)
			g_hash_table_add(cores, g_strdup_printf("%s:%s", *physical, *core));
	}
	g_clear_pointer(physical, g_free);
	g_clear_pointer(core, g_free);
}

void
osqd_system_parse_cpuinfo(const gchar *text, OsqdSystemCpuInfo *info)
{
	g_autoptr(GHashTable) cores = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_autoptr(GHashTable) sockets =
	        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
	g_autofree gchar *physical = NULL;
	g_autofree gchar *core = NULL;

	memset(info, 0, sizeof(*info));
	for (guint i = 0; lines[i] != NULL; i++) {
		gchar *colon = strchr(lines[i], ':');
		gchar *key, *value;

		if (colon == NULL)
			continue;
		*colon = '\0';
		key = g_strstrip(lines[i]);
		value = g_strstrip(colon + 1);
		if (value[0] == '\0')
			continue;
		if (g_strcmp0(key, "processor") == 0) {
			system_cpuinfo_flush(cores, sockets, &physical, &core);
			info->logical_cores++;
		} else if (g_strcmp0(key, "physical id") == 0) {
			g_free(physical);
			physical = g_strdup(value);
		} else if (g_strcmp0(key, "core id") == 0) {
			g_free(core);
			core = g_strdup(value);
		} else if (g_strcmp0(key, "model name") == 0 && info->brand == NULL) {
			info->brand = g_strdup(value);
		} else if (g_strcmp0(key, "model") == 0 && info->model == NULL) {
			info->model = g_strdup(value);
		} else if (g_strcmp0(key, "microcode") == 0 && info->microcode == NULL) {
			info->microcode = g_strdup(value);
		}
	}
	system_cpuinfo_flush(cores, sockets, &physical, &core);
	info->physical_cores = g_hash_table_size(cores);
	info->sockets = g_hash_table_size(sockets);
}

gboolean
osqd_system_parse_meminfo_total(const gchar *text, gint64 *bytes)
{
	const gchar *p = strstr(text, "MemTotal:");
	gint64 kib = 0;

	if (p == NULL || (p != text && p[-1] != '\n'))
		return FALSE;
	p += strlen("MemTotal:");
	while (*p == ' ' || *p == '\t')
		p++;
	if (!g_ascii_isdigit(*p))
		return FALSE;
	for (; g_ascii_isdigit(*p); p++) {
		if (kib > G_MAXINT64 / 1024 / 10)
			return FALSE;
		kib = kib * 10 + (*p - '0');
	}
	while (*p == ' ' || *p == '\t')
		p++;
	if (strncmp(p, "kB", 2) != 0)
		return FALSE;
	*bytes = kib * 1024;
	return TRUE;
}

gboolean
osqd_system_uuid_is_placeholder(const gchar *uuid)
{
	static const gchar *const placeholders[] = {
		"00000000-0000-0000-0000-000000000000",
		"ffffffff-ffff-ffff-ffff-ffffffffffff",
		"03000200-0400-0500-0006-000700080009",
		"00020003-0004-0005-0006-000700080009",
	};

	for (guint i = 0; i < G_N_ELEMENTS(placeholders); i++) {
		if (g_ascii_strcasecmp(uuid, placeholders[i]) == 0)
			return TRUE;
	}
	return FALSE;
}

gchar *
osqd_system_machine_id_to_uuid(const gchar *text)
{
	g_autofree gchar *id = g_ascii_strdown(text, -1);

	g_strstrip(id);
	if (strlen(id) != 32)
		return NULL;
	for (guint i = 0; i < 32; i++) {
		if (!g_ascii_isxdigit(id[i]))
			return NULL;
	}
	return g_strdup_printf("%.8s-%.4s-%.4s-%.4s-%.12s", id, id + 8, id + 12, id + 16, id + 20);
}

/* ---- reading ---- */

static gboolean
system_root_is_live(OsqdTableContext *ctx)
{
	return g_strcmp0(osqd_table_context_get_root(ctx), "/") == 0;
}

/* Reads a host file (under the root prefix); NULL, with a debug message, when unreadable. */
static gchar *
system_read(OsqdTableContext *ctx, const gchar *host_path, gsize max)
{
	g_autofree gchar *path = osqd_table_context_path(ctx, "%s", host_path);
	g_autoptr(GError) error_local = NULL;
	gchar *contents = NULL;

	if (!osqd_read_file(path, max, &contents, NULL, &error_local)) {
		g_debug("%s", error_local->message);
		return NULL;
	}
	return contents;
}

/* The same, whitespace-trimmed; NULL also when the file is empty. */
static gchar *
system_read_value(OsqdTableContext *ctx, const gchar *host_path)
{
	g_autofree gchar *contents = system_read(ctx, host_path, SYSTEM_SMALL_FILE_MAX);

	if (contents == NULL || g_strstrip(contents)[0] == '\0')
		return NULL;
	return g_steal_pointer(&contents);
}

/* uname()'s machine on the live root, /proc/sys/kernel/arch (Linux 6.1+) otherwise. */
static gchar *
system_machine(OsqdTableContext *ctx)
{
	struct utsname buf;

	if (system_root_is_live(ctx) && uname(&buf) == 0)
		return g_strdup(buf.machine);
	return system_read_value(ctx, "/proc/sys/kernel/arch");
}

/* ---- kernel_info ---- */

gboolean
osqd_table_kernel_info_generate(OsqdTableContext *ctx, OsqdRowSink *sink, GError **error)
{
	g_autofree gchar *cmdline = system_read(ctx, "/proc/cmdline", SYSTEM_SMALL_FILE_MAX);
	g_autofree gchar *signature = system_read(ctx, "/proc/version", SYSTEM_SMALL_FILE_MAX);
	g_autofree gchar *version = NULL;
	OsqdRow *row = osqd_row_sink_append(sink);

	if (signature != NULL)
		version = osqd_system_parse_proc_version(signature);
	if (version == NULL)
		version = system_read_value(ctx, "/proc/sys/kernel/osrelease");
	osqd_row_set_text(row, OSQD_KERNEL_INFO_COL_VERSION, version);
	if (cmdline != NULL) {
		gchar *path = NULL, *device = NULL, *arguments = NULL;

		osqd_system_parse_cmdline(cmdline, &path, &device, &arguments);
		osqd_row_take_text(row, OSQD_KERNEL_INFO_COL_PATH, path);
		osqd_row_take_text(row, OSQD_KERNEL_INFO_COL_DEVICE, device);
		osqd_row_take_text(row, OSQD_KERNEL_INFO_COL_ARGUMENTS, arguments);
	}
	return TRUE;
}

/* ---- os_version ---- */

static void
system_set_version_part(OsqdRow *row, guint column, const gchar *text)
{
	gint64 value;

	if (osqd_system_parse_integer(text, &value))
		osqd_row_set_int(row, column, value);
	else
		osqd_row_set_null(row, column);
}

/* VERSION_CODENAME, else any other *CODENAME key (UBUNTU_CODENAME...), the first by name. */
static const gchar *
system_os_release_codename(GHashTable *values)
{
	const gchar *best = NULL, *value = g_hash_table_lookup(values, "VERSION_CODENAME");
	GHashTableIter iter;
	gpointer key, data;

	if (value != NULL)
		return value;
	g_hash_table_iter_init(&iter, values);
	while (g_hash_table_iter_next(&iter, &key, &data)) {
		if (strstr(key, "CODENAME") != NULL && (best == NULL || strcmp(key, best) < 0))
			best = key;
	}
	return best != NULL ? g_hash_table_lookup(values, best) : NULL;
}

static void
system_os_version_from_os_release(OsqdRow *row, const gchar *text)
{
	static const struct {
		const gchar *key;
		guint column;
	} keys[] = {
		{ "NAME", OSQD_OS_VERSION_COL_NAME },
		{ "VERSION", OSQD_OS_VERSION_COL_VERSION },
		{ "BUILD_ID", OSQD_OS_VERSION_COL_BUILD },
		{ "ID", OSQD_OS_VERSION_COL_PLATFORM },
		{ "ID_LIKE", OSQD_OS_VERSION_COL_PLATFORM_LIKE },
	};
	g_autoptr(GHashTable) values = osqd_system_parse_os_release(text);
	const gchar *version_id = g_hash_table_lookup(values, "VERSION_ID");
	const gchar *codename = system_os_release_codename(values);

	for (guint i = 0; i < G_N_ELEMENTS(keys); i++) {
		const gchar *value = g_hash_table_lookup(values, keys[i].key);
		if (value != NULL)
			osqd_row_set_text(row, keys[i].column, value);
	}
	if (codename != NULL)
		osqd_row_set_text(row, OSQD_OS_VERSION_COL_CODENAME, codename);
	if (version_id != NULL && version_id[0] != '\0') {
		/* "22.04" -> 22, 4; "3.18.4.1" -> 3, 18, NULL ("4.1" is not a number) */
		g_auto(GStrv) parts = g_strsplit(version_id, ".", 3);
		static const guint columns[] = { OSQD_OS_VERSION_COL_MAJOR,
			                         OSQD_OS_VERSION_COL_MINOR,
			                         OSQD_OS_VERSION_COL_PATCH };
		for (guint i = 0; parts[i] != NULL && i < G_N_ELEMENTS(columns); i++)
			system_set_version_part(row, columns[i], parts[i]);
	}
}

/* Trims @text and turns every run of blanks inside it into one space (boost's trim_all). */
static gchar *
system_collapse_blanks(const gchar *text)
{
	GString *out = g_string_new(NULL);

	for (const gchar *p = text; *p != '\0'; p++) {
		if (!system_is_blank(*p))
			g_string_append_c(out, *p);
		else if (out->len > 0 && out->str[out->len - 1] != ' ')
			g_string_append_c(out, ' ');
	}
	if (out->len > 0 && out->str[out->len - 1] == ' ')
		g_string_truncate(out, out->len - 1);
	return g_string_free(out, FALSE);
}

/* Older Red Hat and Gentoo systems: the release file overrides what os-release said. */
static void
system_os_version_from_release_file(OsqdRow *row, const gchar *platform, const gchar *text)
{
	g_autofree gchar *content = system_collapse_blanks(text);
	g_autofree gchar *name = NULL, *major = NULL, *minor = NULL, *patch = NULL;

	osqd_row_set_text(row, OSQD_OS_VERSION_COL_PLATFORM, platform);
	osqd_row_set_text(row, OSQD_OS_VERSION_COL_PLATFORM_LIKE, platform);
	if (osqd_system_parse_release_line(content, &name, &major, &minor, &patch)) {
		osqd_row_set_text(row, OSQD_OS_VERSION_COL_NAME, name);
		system_set_version_part(row, OSQD_OS_VERSION_COL_MAJOR, major);
		system_set_version_part(row, OSQD_OS_VERSION_COL_MINOR, minor);
		system_set_version_part(row, OSQD_OS_VERSION_COL_PATCH, patch);
	}
	osqd_row_set_text(row, OSQD_OS_VERSION_COL_VERSION, content);
	osqd_row_set_text(row, OSQD_OS_VERSION_COL_BUILD, "");
}

gboolean
osqd_table_os_version_generate(OsqdTableContext *ctx, OsqdRowSink *sink, GError **error)
{
	g_autofree gchar *os_release = system_read(ctx, "/etc/os-release", SYSTEM_SMALL_FILE_MAX);
	g_autofree gchar *release = NULL;
	OsqdRow *row = osqd_row_sink_append(sink);

	/* defaults when nothing better is known */
	osqd_row_set_text(row, OSQD_OS_VERSION_COL_NAME, "Unknown");
	osqd_row_set_int(row, OSQD_OS_VERSION_COL_MAJOR, 0);
	osqd_row_set_int(row, OSQD_OS_VERSION_COL_MINOR, 0);
	osqd_row_set_int(row, OSQD_OS_VERSION_COL_PATCH, 0);
	osqd_row_set_text(row, OSQD_OS_VERSION_COL_PLATFORM, "posix");

	/* os-release(5): /usr/lib/os-release is the fallback when /etc has none */
	if (os_release == NULL)
		os_release = system_read(ctx, "/usr/lib/os-release", SYSTEM_SMALL_FILE_MAX);
	if (os_release != NULL)
		system_os_version_from_os_release(row, os_release);
	if (osqd_table_context_column_used(ctx, OSQD_OS_VERSION_COL_ARCH))
		osqd_row_take_text(row, OSQD_OS_VERSION_COL_ARCH, system_machine(ctx));

	release = system_read(ctx, "/etc/redhat-release", SYSTEM_SMALL_FILE_MAX);
	if (release != NULL) {
		system_os_version_from_release_file(row, "rhel", release);
		return TRUE;
	}
	release = system_read(ctx, "/etc/gentoo-release", SYSTEM_SMALL_FILE_MAX);
	if (release != NULL)
		system_os_version_from_release_file(row, "gentoo", release);
	return TRUE;
}

/* ---- system_info ---- */

static gchar *
system_host_uuid(OsqdTableContext *ctx)
{
	g_autofree gchar *uuid = system_read_value(ctx, "/sys/class/dmi/id/product_uuid");
	g_autofree gchar *machine_id = NULL;

	if (uuid != NULL && !osqd_system_uuid_is_placeholder(uuid))
		return g_steal_pointer(&uuid);
	/* no (usable) firmware UUID: the systemd machine ID is stable and world-readable */
	machine_id = system_read_value(ctx, "/etc/machine-id");
	return machine_id != NULL ? osqd_system_machine_id_to_uuid(machine_id) : NULL;
}

static gboolean
system_info_uses_any(OsqdTableContext *ctx, const guint *columns, guint n_columns)
{
	for (guint i = 0; i < n_columns; i++) {
		if (osqd_table_context_column_used(ctx, columns[i]))
			return TRUE;
	}
	return FALSE;
}

static void
system_info_add_cpu(OsqdTableContext *ctx, OsqdRow *row)
{
	static const guint columns[] = {
		OSQD_SYSTEM_INFO_COL_CPU_SUBTYPE,        OSQD_SYSTEM_INFO_COL_CPU_BRAND,
		OSQD_SYSTEM_INFO_COL_CPU_PHYSICAL_CORES, OSQD_SYSTEM_INFO_COL_CPU_LOGICAL_CORES,
		OSQD_SYSTEM_INFO_COL_CPU_SOCKETS,        OSQD_SYSTEM_INFO_COL_CPU_MICROCODE,
	};
	g_autofree gchar *text = NULL;
	OsqdSystemCpuInfo info = { 0 };
	gint64 logical;

	if (!system_info_uses_any(ctx, columns, G_N_ELEMENTS(columns)))
		return;
	text = system_read(ctx, "/proc/cpuinfo", SYSTEM_CPUINFO_MAX);
	osqd_system_parse_cpuinfo(text != NULL ? text : "", &info);
	logical = info.logical_cores;
	if (logical == 0 && system_root_is_live(ctx))
		logical = sysconf(_SC_NPROCESSORS_ONLN);
	osqd_row_set_int(row, OSQD_SYSTEM_INFO_COL_CPU_LOGICAL_CORES, logical > 0 ? logical : -1);
	/* without topology lines (some ARM and virtual CPUs) every logical CPU counts as a core */
	osqd_row_set_int(row, OSQD_SYSTEM_INFO_COL_CPU_PHYSICAL_CORES,
	                 info.physical_cores > 0 ? info.physical_cores
	                                         : (logical > 0 ? logical : -1));
	if (info.sockets > 0)
		osqd_row_set_int(row, OSQD_SYSTEM_INFO_COL_CPU_SOCKETS, info.sockets);
	osqd_row_set_text(row, OSQD_SYSTEM_INFO_COL_CPU_SUBTYPE,
	                  info.model != NULL ? info.model : "0");
	osqd_row_set_text(row, OSQD_SYSTEM_INFO_COL_CPU_BRAND, info.brand);
	osqd_row_set_text(row, OSQD_SYSTEM_INFO_COL_CPU_MICROCODE, info.microcode);
	osqd_system_cpu_info_clear(&info);
}

static void
system_info_add_dmi(OsqdTableContext *ctx, OsqdRow *row)
{
	static const struct {
		const gchar *file;
		guint column;
	} dmi[] = {
		{ "sys_vendor", OSQD_SYSTEM_INFO_COL_HARDWARE_VENDOR },
		{ "product_name", OSQD_SYSTEM_INFO_COL_HARDWARE_MODEL },
		{ "product_version", OSQD_SYSTEM_INFO_COL_HARDWARE_VERSION },
		{ "product_serial", OSQD_SYSTEM_INFO_COL_HARDWARE_SERIAL },
		{ "board_vendor", OSQD_SYSTEM_INFO_COL_BOARD_VENDOR },
		{ "board_name", OSQD_SYSTEM_INFO_COL_BOARD_MODEL },
		{ "board_version", OSQD_SYSTEM_INFO_COL_BOARD_VERSION },
		{ "board_serial", OSQD_SYSTEM_INFO_COL_BOARD_SERIAL },
	};

	for (guint i = 0; i < G_N_ELEMENTS(dmi); i++) {
		g_autofree gchar *host_path = NULL;

		if (!osqd_table_context_column_used(ctx, dmi[i].column))
			continue;
		host_path = g_strconcat("/sys/class/dmi/id/", dmi[i].file, NULL);
		osqd_row_take_text(row, dmi[i].column, system_read_value(ctx, host_path));
	}
}

gboolean
osqd_table_system_info_generate(OsqdTableContext *ctx, OsqdRowSink *sink, GError **error)
{
	g_autofree gchar *hostname = system_read_value(ctx, "/proc/sys/kernel/hostname");
	OsqdRow *row = osqd_row_sink_append(sink);

	/* osquery resolves an FQDN through DNS; osq never blocks on the network: the kernel's
	 * host name serves all three name columns */
	osqd_row_set_text(row, OSQD_SYSTEM_INFO_COL_HOSTNAME, hostname);
	osqd_row_set_text(row, OSQD_SYSTEM_INFO_COL_COMPUTER_NAME, hostname);
	osqd_row_set_text(row, OSQD_SYSTEM_INFO_COL_LOCAL_HOSTNAME, hostname);
	if (osqd_table_context_column_used(ctx, OSQD_SYSTEM_INFO_COL_UUID))
		osqd_row_take_text(row, OSQD_SYSTEM_INFO_COL_UUID, system_host_uuid(ctx));
	if (osqd_table_context_column_used(ctx, OSQD_SYSTEM_INFO_COL_CPU_TYPE))
		osqd_row_take_text(row, OSQD_SYSTEM_INFO_COL_CPU_TYPE, system_machine(ctx));
	system_info_add_cpu(ctx, row);
	if (osqd_table_context_column_used(ctx, OSQD_SYSTEM_INFO_COL_PHYSICAL_MEMORY)) {
		g_autofree gchar *meminfo =
		        system_read(ctx, "/proc/meminfo", SYSTEM_SMALL_FILE_MAX);
		gint64 bytes = -1;

		if (meminfo == NULL || !osqd_system_parse_meminfo_total(meminfo, &bytes))
			bytes = -1;
		osqd_row_set_int(row, OSQD_SYSTEM_INFO_COL_PHYSICAL_MEMORY, bytes);
	}
	system_info_add_dmi(ctx, row);
	return TRUE;
}

/* ---- uptime ---- */

gboolean
osqd_table_uptime_generate(OsqdTableContext *ctx, OsqdRowSink *sink, GError **error)
{
	g_autofree gchar *path = osqd_table_context_path(ctx, "/proc/uptime");
	g_autofree gchar *text = NULL;
	g_autoptr(GError) error_local = NULL;
	gint64 total = 0;
	OsqdRow *row;

	if (!osqd_read_file(path, 4096, &text, NULL, &error_local)) {
		/* name the host path, not the root prefix in front of it */
		const gchar *reason = error_local->message;
		if (g_str_has_prefix(reason, path) && g_str_has_prefix(reason + strlen(path), ": "))
			reason += strlen(path) + 2;
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_IO, "cannot read /proc/uptime: %s", reason);
		return FALSE;
	}
	if (!osqd_system_parse_uptime(text, &total)) {
		g_set_error_literal(error, OSQ_ERROR, OSQ_ERROR_FAILED,
		                    "cannot read the uptime: /proc/uptime is malformed");
		return FALSE;
	}
	row = osqd_row_sink_append(sink);
	osqd_row_set_int(row, OSQD_UPTIME_COL_DAYS, total / 86400);
	osqd_row_set_int(row, OSQD_UPTIME_COL_HOURS, (total % 86400) / 3600);
	osqd_row_set_int(row, OSQD_UPTIME_COL_MINUTES, (total % 3600) / 60);
	osqd_row_set_int(row, OSQD_UPTIME_COL_SECONDS, total % 60);
	osqd_row_set_int(row, OSQD_UPTIME_COL_TOTAL_SECONDS, total);
	return TRUE;
}
