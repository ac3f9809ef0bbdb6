/* SPDX-License-Identifier: Apache-2.0
 *
 * system_controls: the kernel's sysctl settings, one row per readable file under /proc/sys
 * (write-only and root-only entries the reader cannot read are skipped). A `name = x` (or IN)
 * constraint reads just that file; `name LIKE 'net.ipv4.%'` and `subsystem = 'vm'` prune the
 * walk to the directories that can match. config_value follows systemd-sysctl's precedence:
 * sysctl.d files sorted by name across /etc, /run, /usr/local/lib, /usr/lib and /lib (a file
 * name in an earlier directory hides the same name in later ones), then /etc/sysctl.conf.
 */
#include "config.h"

#include "system_controls.h"

#include <string.h>
#include <sys/stat.h>

#include "osqd-tables-generated.h"

#define SYSTEM_CONTROLS_VALUE_MAX  (64 * 1024)
#define SYSTEM_CONTROLS_CONFIG_MAX (1024 * 1024)
#define SYSTEM_CONTROLS_MAX_DEPTH  16
#define SYSTEM_CONTROLS_NAME_MAX   1024

/* ---- configuration (pure) ---- */

typedef struct {
	gchar *pattern;
	gchar *value;
} SystemControlsGlob;

struct _OsqdSystemControlsConfig {
	GHashTable *exact; /* dotted name -> value */
	GPtrArray *globs;  /* SystemControlsGlob, in file order */
};

static void
system_controls_glob_free(gpointer data)
{
	SystemControlsGlob *glob = data;

	g_free(glob->pattern);
	g_free(glob->value);
	g_free(glob);
}

OsqdSystemControlsConfig *
osqd_system_controls_config_new(void)
{
	OsqdSystemControlsConfig *config = g_new0(OsqdSystemControlsConfig, 1);

	config->exact = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	config->globs = g_ptr_array_new_with_free_func(system_controls_glob_free);
	return config;
}

void
osqd_system_controls_config_free(OsqdSystemControlsConfig *config)
{
	if (config == NULL)
		return;
	g_hash_table_unref(config->exact);
	g_ptr_array_unref(config->globs);
	g_free(config);
}

gchar *
osqd_system_controls_normalize_key(const gchar *key)
{
	gchar *name;

	while (*key == '-')
		key++;
	name = g_strdup(key);
	g_strdelimit(name, "/", '.');
	return name;
}

void
osqd_system_controls_config_parse(OsqdSystemControlsConfig *config, const gchar *text)
{
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);

	for (guint i = 0; lines[i] != NULL; i++) {
		gchar *line = g_strstrip(lines[i]);
		gchar *equals = strchr(line, '=');
		gchar *name;

		if (line[0] == '#' || line[0] == ';' || equals == NULL)
			continue;
		*equals = '\0';
		name = osqd_system_controls_normalize_key(g_strstrip(line));
		if (name[0] == '\0') {
			g_free(name);
			continue;
		}
		if (strpbrk(name, "*?") != NULL) {
			SystemControlsGlob *glob = g_new0(SystemControlsGlob, 1);
			glob->pattern = name;
			glob->value = g_strdup(g_strstrip(equals + 1));
			g_ptr_array_add(config->globs, glob);
			continue;
		}
		g_hash_table_replace(config->exact, name, g_strdup(g_strstrip(equals + 1)));
	}
}

const gchar *
osqd_system_controls_config_lookup(OsqdSystemControlsConfig *config, const gchar *name)
{
	const gchar *value = g_hash_table_lookup(config->exact, name);

	if (value != NULL)
		return value;
	for (guint i = config->globs->len; i > 0; i--) {
		SystemControlsGlob *glob = config->globs->pdata[i - 1];
		if (g_pattern_match_simple(glob->pattern, name))
			return glob->value;
	}
	return NULL;
}

gboolean
osqd_system_controls_like_may_match(const gchar *pattern, const gchar *dotted, gboolean is_leaf)
{
	gsize literal = strcspn(pattern, "%_");
	gsize len = strlen(dotted);

	if (is_leaf)
		return len >= literal && g_ascii_strncasecmp(dotted, pattern, literal) == 0;
	/* a directory: its names all start with "<dotted>." */
	if (len >= literal)
		return g_ascii_strncasecmp(dotted, pattern, literal) == 0;
	return g_ascii_strncasecmp(dotted, pattern, len) == 0 && pattern[len] == '.';
}

/* ---- reading ---- */

typedef struct {
	OsqdTableContext *ctx;
	OsqdRowSink *sink;
	OsqdSystemControlsConfig *config; /* NULL when config_value is not used */
	GPtrArray *likes;                 /* name LIKE patterns, or NULL */
	GPtrArray *subsystems;            /* subsystem = values, or NULL */
} SystemControlsWalk;

static gboolean
system_controls_is_directory(const gchar *path)
{
	struct stat st;

	return lstat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static gint
system_controls_compare(gconstpointer a, gconstpointer b)
{
	return strcmp(*(const gchar *const *)a, *(const gchar *const *)b);
}

/* The sorted names in a directory of the host; NULL if it cannot be listed. */
static GPtrArray *
system_controls_list(const gchar *path)
{
	g_autoptr(GError) error_local = NULL;
	g_autoptr(GDir) dir = g_dir_open(path, 0, &error_local);
	GPtrArray *names;
	const gchar *entry;

	if (dir == NULL) {
		g_debug("%s", error_local->message);
		return NULL;
	}
	names = g_ptr_array_new_with_free_func(g_free);
	while ((entry = g_dir_read_name(dir)) != NULL)
		g_ptr_array_add(names, g_strdup(entry));
	g_ptr_array_sort(names, system_controls_compare);
	return names;
}

static void
system_controls_load_config_file(SystemControlsWalk *walk, const gchar *host_path)
{
	g_autofree gchar *path = osqd_table_context_path(walk->ctx, "%s", host_path);
	g_autofree gchar *text = NULL;
	g_autoptr(GError) error_local = NULL;

	if (!osqd_read_file(path, SYSTEM_CONTROLS_CONFIG_MAX, &text, NULL, &error_local)) {
		g_debug("%s", error_local->message);
		return;
	}
	osqd_system_controls_config_parse(walk->config, text);
}

static void
system_controls_load_config(SystemControlsWalk *walk)
{
	static const gchar *const dirs[] = {
		"/etc/sysctl.d",     "/run/sysctl.d", "/usr/local/lib/sysctl.d",
		"/usr/lib/sysctl.d", "/lib/sysctl.d",
	};
	g_autoptr(GHashTable) files =
	        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	g_autoptr(GPtrArray) order = g_ptr_array_new();
	GHashTableIter iter;
	gpointer key;

	walk->config = osqd_system_controls_config_new();
	for (guint i = 0; i < G_N_ELEMENTS(dirs); i++) {
		g_autofree gchar *path = osqd_table_context_path(walk->ctx, "%s", dirs[i]);
		g_autoptr(GPtrArray) names = system_controls_list(path);

		for (guint j = 0; names != NULL && j < names->len; j++) {
			const gchar *name = names->pdata[j];
			if (!g_str_has_suffix(name, ".conf") || g_hash_table_contains(files, name))
				continue;
			g_hash_table_insert(files, g_strdup(name),
			                    g_strdup_printf("%s/%s", dirs[i], name));
		}
	}
	g_hash_table_iter_init(&iter, files);
	while (g_hash_table_iter_next(&iter, &key, NULL))
		g_ptr_array_add(order, key);
	g_ptr_array_sort(order, system_controls_compare);
	for (guint i = 0; i < order->len; i++)
		system_controls_load_config_file(walk, g_hash_table_lookup(files, order->pdata[i]));
	system_controls_load_config_file(walk, "/etc/sysctl.conf");
}

/* Adds the row of one control file; unreadable ones (write-only, root-only) are skipped. */
static void
system_controls_add(SystemControlsWalk *walk, const gchar *relative, const gchar *dotted)
{
	g_autofree gchar *path = osqd_table_context_path(walk->ctx, "/proc/sys/%s", relative);
	g_autofree gchar *value = NULL;
	g_autofree gchar *subsystem = g_strndup(relative, strcspn(relative, "/"));
	g_autoptr(GError) error_local = NULL;
	OsqdRow *row;

	if (!osqd_read_file(path, SYSTEM_CONTROLS_VALUE_MAX, &value, NULL, &error_local)) {
		g_debug("skipping %s: %s", dotted, error_local->message);
		return;
	}
	row = osqd_row_sink_append(walk->sink);
	osqd_row_set_text(row, OSQD_SYSTEM_CONTROLS_COL_NAME, dotted);
	osqd_row_set_text(row, OSQD_SYSTEM_CONTROLS_COL_SUBSYSTEM, subsystem);
	osqd_row_set_text(row, OSQD_SYSTEM_CONTROLS_COL_CURRENT_VALUE, g_strstrip(value));
	if (walk->config != NULL)
		osqd_row_set_text(row, OSQD_SYSTEM_CONTROLS_COL_CONFIG_VALUE,
		                  osqd_system_controls_config_lookup(walk->config, dotted));
	osqd_row_set_text(row, OSQD_SYSTEM_CONTROLS_COL_TYPE, "string");
}

static gboolean
system_controls_wanted(SystemControlsWalk *walk, const gchar *relative, const gchar *dotted,
                       gboolean is_leaf)
{
	if (walk->subsystems != NULL && strchr(relative, '/') == NULL) {
		gboolean found = FALSE;
		for (guint i = 0; i < walk->subsystems->len && !found; i++)
			found = g_strcmp0(walk->subsystems->pdata[i], relative) == 0;
		if (!found)
			return FALSE;
	}
	for (guint i = 0; walk->likes != NULL && i < walk->likes->len; i++) {
		if (!osqd_system_controls_like_may_match(walk->likes->pdata[i], dotted, is_leaf))
			return FALSE;
	}
	return TRUE;
}

/* Walks /proc/sys/<relative> (sorted, depth-first, symlinks not followed into directories). */
static gboolean
system_controls_walk(SystemControlsWalk *walk, const gchar *relative, const gchar *dotted,
                     guint depth, GError **error)
{
	g_autofree gchar *path = osqd_table_context_path(walk->ctx, "/proc/sys/%s", relative);
	g_autoptr(GPtrArray) names = system_controls_list(path);

	for (guint i = 0; names != NULL && i < names->len; i++) {
		const gchar *name = names->pdata[i];
		g_autofree gchar *child = NULL, *child_dotted = NULL, *child_path = NULL;
		gboolean is_dir;

		if (!osqd_table_context_check(walk->ctx, error))
			return FALSE;
		child = relative[0] != '\0' ? g_strconcat(relative, "/", name, NULL)
		                            : g_strdup(name);
		child_dotted =
		        dotted[0] != '\0' ? g_strconcat(dotted, ".", name, NULL) : g_strdup(name);
		child_path = g_strconcat(path, "/", name, NULL);
		is_dir = system_controls_is_directory(child_path);
		if (!system_controls_wanted(walk, child, child_dotted, !is_dir))
			continue;
		if (!is_dir)
			system_controls_add(walk, child, child_dotted);
		else if (depth < SYSTEM_CONTROLS_MAX_DEPTH &&
		         !system_controls_walk(walk, child, child_dotted, depth + 1, error))
			return FALSE;
	}
	return TRUE;
}

/* Finds the control file of a dotted name whose components may contain dots themselves
 * (net.ipv4.conf.eth0.100.rp_filter is net/ipv4/conf/eth0.100/rp_filter); NULL if none. */
static gchar *
system_controls_resolve(SystemControlsWalk *walk, const gchar *relative, const gchar *rest,
                        guint depth)
{
	g_autofree gchar *path = osqd_table_context_path(walk->ctx, "/proc/sys/%s", relative);
	g_autoptr(GPtrArray) names = NULL;

	if (depth > SYSTEM_CONTROLS_MAX_DEPTH)
		return NULL;
	names = system_controls_list(path);
	for (guint i = 0; names != NULL && i < names->len; i++) {
		const gchar *name = names->pdata[i];
		gsize len = strlen(name);
		g_autofree gchar *child = relative[0] != '\0'
		                                  ? g_strconcat(relative, "/", name, NULL)
		                                  : g_strdup(name);
		g_autofree gchar *child_path = g_strconcat(path, "/", name, NULL);
		gboolean is_dir = system_controls_is_directory(child_path);
		gchar *found;

		if (g_strcmp0(name, rest) == 0 && !is_dir)
			return g_steal_pointer(&child);
		if (!is_dir || strncmp(rest, name, len) != 0 || rest[len] != '.')
			continue;
		found = system_controls_resolve(walk, child, rest + len + 1, depth + 1);
		if (found != NULL)
			return found;
	}
	return NULL;
}

static gboolean
system_controls_name_is_valid(const gchar *name)
{
	gsize len = strlen(name);

	return len > 0 && len < SYSTEM_CONTROLS_NAME_MAX && name[0] != '.' &&
	       name[len - 1] != '.' && strchr(name, '/') == NULL && strstr(name, "..") == NULL;
}

static void
system_controls_lookup(SystemControlsWalk *walk, const gchar *name)
{
	g_autofree gchar *relative = g_strdup(name);
	g_autofree gchar *path = NULL;
	struct stat st;

	if (!system_controls_name_is_valid(name))
		return;
	/* the usual case: no component has a dot of its own */
	g_strdelimit(relative, ".", '/');
	path = osqd_table_context_path(walk->ctx, "/proc/sys/%s", relative);
	if (lstat(path, &st) == 0) {
		if (!S_ISDIR(st.st_mode))
			system_controls_add(walk, relative, name);
		return;
	}
	g_free(relative);
	relative = system_controls_resolve(walk, "", name, 0);
	if (relative != NULL)
		system_controls_add(walk, relative, name);
}

gboolean
osqd_table_system_controls_generate(OsqdTableContext *ctx, OsqdRowSink *sink, GError **error)
{
	g_autoptr(GPtrArray) names =
	        osqd_table_context_text_equals(ctx, OSQD_SYSTEM_CONTROLS_COL_NAME);
	g_autoptr(GPtrArray) likes =
	        osqd_table_context_text_likes(ctx, OSQD_SYSTEM_CONTROLS_COL_NAME);
	g_autoptr(GPtrArray) subsystems =
	        osqd_table_context_text_equals(ctx, OSQD_SYSTEM_CONTROLS_COL_SUBSYSTEM);
	g_autoptr(OsqdSystemControlsConfig) config = NULL;
	SystemControlsWalk walk = { ctx, sink, NULL, likes, subsystems };
	gboolean ok = TRUE;

	if (osqd_table_context_column_used(ctx, OSQD_SYSTEM_CONTROLS_COL_CONFIG_VALUE)) {
		system_controls_load_config(&walk);
		config = walk.config;
	}
	if (names != NULL) {
		for (guint i = 0; i < names->len && ok; i++) {
			ok = osqd_table_context_check(ctx, error);
			if (ok)
				system_controls_lookup(&walk, names->pdata[i]);
		}
		return ok;
	}
	return system_controls_walk(&walk, "", "", 0, error);
}
