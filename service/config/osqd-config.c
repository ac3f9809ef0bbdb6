/* SPDX-License-Identifier: Apache-2.0
 *
 * The config parser: each source is stripped, parsed by json-glib and merged into one model in
 * order; then the merged model is checked as a whole (exclude_paths categories, scheduled names,
 * selectors, SQL). Every error names the source and the key path at fault, so
 * `osqd --config_check` can say exactly what to fix. Stricter than osquery on purpose: unknown
 * keys and bad values are errors, not warnings with the query silently dropped.
 */
#include "config.h"

#include "osqd-config.h"
#include "osqd-config-private.h"

#include <glob.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "osq-error.h"

typedef struct {
	const OsqdConfigParams *params;
	const gchar *delimiter;
	guint default_interval;
	OsqdConfig *config;
	const gchar *source;         /* the source (or pack file) being parsed */
	GHashTable *exclude_sources; /* exclude_paths category -> source name, for late errors */
} ConfigParser;

static void
config_parser_clear(ConfigParser *parser)
{
	g_clear_pointer(&parser->exclude_sources, g_hash_table_unref);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(ConfigParser, config_parser_clear)

static void config_set_error(ConfigParser *parser, GError **error, gint code, const gchar *path,
                             const gchar *format, ...) G_GNUC_PRINTF(5, 6);

/* "<source>: <path>: <message>" */
static void
config_set_error(ConfigParser *parser, GError **error, gint code, const gchar *path,
                 const gchar *format, ...)
{
	g_autofree gchar *message = NULL;
	va_list args;

	va_start(args, format);
	message = g_strdup_vprintf(format, args);
	va_end(args);
	g_set_error(error, OSQ_ERROR, code, "%s: %s: %s", parser->source, path, message);
}

/* model types */

static void
config_query_free(OsqdScheduledQuery *query)
{
	if (query == NULL)
		return;
	g_free(query->name);
	g_free(query->query_name);
	g_free(query->pack);
	g_free(query->source);
	g_free(query->sql);
	g_free(query->platform);
	g_free(query->version);
	g_free(query->description);
	g_free(query->value);
	g_free(query);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(OsqdScheduledQuery, config_query_free)

static void
config_pack_free(OsqdConfigPack *pack)
{
	if (pack == NULL)
		return;
	g_free(pack->name);
	g_free(pack->source);
	g_free(pack->platform);
	g_free(pack->version);
	g_free(pack->oncall);
	g_ptr_array_unref(pack->discovery);
	g_ptr_array_unref(pack->queries);
	g_free(pack);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(OsqdConfigPack, config_pack_free)

static void
config_decorator_interval_free(OsqdConfigDecoratorInterval *decorator)
{
	g_ptr_array_unref(decorator->queries);
	g_free(decorator);
}

static GHashTable *
config_new_list_map(void)
{
	return g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
	                             (GDestroyNotify)g_ptr_array_unref);
}

static void
config_clear(gpointer data)
{
	OsqdConfig *config = data;

	g_hash_table_unref(config->options);
	g_ptr_array_unref(config->queries);
	g_ptr_array_unref(config->schedule);
	g_ptr_array_unref(config->packs);
	g_ptr_array_unref(config->decorators_load);
	g_ptr_array_unref(config->decorators_always);
	g_ptr_array_unref(config->decorators_interval);
	g_hash_table_unref(config->file_paths);
	g_hash_table_unref(config->file_paths_query);
	g_hash_table_unref(config->exclude_paths);
	g_ptr_array_unref(config->file_accesses);
	g_ptr_array_unref(config->enable_subscribers);
	g_ptr_array_unref(config->disable_subscribers);
	g_hash_table_unref(config->views);
	g_hash_table_unref(config->extra);
}

static OsqdConfig *
config_new(void)
{
	OsqdConfig *config = g_atomic_rc_box_new0(OsqdConfig);

	config->options = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	config->schedule = g_ptr_array_new_with_free_func((GDestroyNotify)config_query_free);
	config->packs = g_ptr_array_new_with_free_func((GDestroyNotify)config_pack_free);
	config->queries = g_ptr_array_new();
	config->decorators_load = g_ptr_array_new_with_free_func(g_free);
	config->decorators_always = g_ptr_array_new_with_free_func(g_free);
	config->decorators_interval =
	        g_ptr_array_new_with_free_func((GDestroyNotify)config_decorator_interval_free);
	config->file_paths = config_new_list_map();
	config->file_paths_query = config_new_list_map();
	config->exclude_paths = config_new_list_map();
	config->file_accesses = g_ptr_array_new_with_free_func(g_free);
	config->enable_subscribers = g_ptr_array_new_with_free_func(g_free);
	config->disable_subscribers = g_ptr_array_new_with_free_func(g_free);
	config->views = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	config->extra = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
	                                      (GDestroyNotify)json_node_unref);
	return config;
}

OsqdConfig *
osqd_config_ref(OsqdConfig *config)
{
	return g_atomic_rc_box_acquire(config);
}

void
osqd_config_unref(OsqdConfig *config)
{
	if (config != NULL)
		g_atomic_rc_box_release_full(config, config_clear);
}

/* JSON value helpers: each names @path in its error */

static const gchar *
config_json_type_name(JsonNode *node)
{
	if (JSON_NODE_HOLDS_OBJECT(node))
		return "an object";
	if (JSON_NODE_HOLDS_ARRAY(node))
		return "an array";
	if (JSON_NODE_HOLDS_NULL(node))
		return "null";
	switch (json_node_get_value_type(node)) {
	case G_TYPE_STRING:
		return "a string";
	case G_TYPE_BOOLEAN:
		return "a boolean";
	default:
		return "a number";
	}
}

static gboolean
config_expect(ConfigParser *parser, JsonNode *node, gboolean ok, const gchar *path,
              const gchar *expected, GError **error)
{
	if (ok)
		return TRUE;
	config_set_error(parser, error, OSQ_ERROR_INVALID_ARGUMENT, path, "expected %s, not %s",
	                 expected, config_json_type_name(node));
	return FALSE;
}

static gboolean
config_node_is_string(JsonNode *node)
{
	return JSON_NODE_HOLDS_VALUE(node) && json_node_get_value_type(node) == G_TYPE_STRING;
}

static JsonObject *
config_get_object(ConfigParser *parser, JsonNode *node, const gchar *path, GError **error)
{
	if (!config_expect(parser, node, JSON_NODE_HOLDS_OBJECT(node), path, "an object", error))
		return NULL;
	return json_node_get_object(node);
}

static gboolean
config_get_string(ConfigParser *parser, JsonNode *node, const gchar *path, gchar **out,
                  GError **error)
{
	if (!config_expect(parser, node, config_node_is_string(node), path, "a string", error))
		return FALSE;
	g_free(*out);
	*out = g_strdup(json_node_get_string(node));
	return TRUE;
}

/* A whole number in [min, max]; a string of digits is accepted too, as osquery does. */
static gboolean
config_get_uint(ConfigParser *parser, JsonNode *node, const gchar *path, guint64 min, guint64 max,
                guint *out, GError **error)
{
	gint64 value = 0;

	if (config_node_is_string(node)) {
		if (!g_ascii_string_to_signed(json_node_get_string(node), 10, G_MININT64,
		                              G_MAXINT64, &value, NULL)) {
			config_set_error(parser, error, OSQ_ERROR_INVALID_ARGUMENT, path,
			                 "expected a number, not \"%s\"",
			                 json_node_get_string(node));
			return FALSE;
		}
	} else if (JSON_NODE_HOLDS_VALUE(node) && json_node_get_value_type(node) == G_TYPE_INT64) {
		value = json_node_get_int(node);
	} else {
		return config_expect(parser, node, FALSE, path, "a number", error);
	}
	if (value < (gint64)min || (guint64)value > max) {
		config_set_error(parser, error, OSQ_ERROR_INVALID_ARGUMENT, path,
		                 "%" G_GINT64_FORMAT " is out of range (%" G_GUINT64_FORMAT
		                 "..%" G_GUINT64_FORMAT ")",
		                 value, min, max);
		return FALSE;
	}
	*out = (guint)value;
	return TRUE;
}

/* true/false, or the strings "true"/"false". */
static gboolean
config_get_bool(ConfigParser *parser, JsonNode *node, const gchar *path, gboolean *out,
                GError **error)
{
	if (JSON_NODE_HOLDS_VALUE(node) && json_node_get_value_type(node) == G_TYPE_BOOLEAN) {
		*out = json_node_get_boolean(node);
		return TRUE;
	}
	if (config_node_is_string(node) && (g_strcmp0(json_node_get_string(node), "true") == 0 ||
	                                    g_strcmp0(json_node_get_string(node), "false") == 0)) {
		*out = g_strcmp0(json_node_get_string(node), "true") == 0;
		return TRUE;
	}
	return config_expect(parser, node, FALSE, path, "a boolean", error);
}

/* Appends the strings of a JSON array to @list. */
static gboolean
config_get_string_list(ConfigParser *parser, JsonNode *node, const gchar *path, GPtrArray *list,
                       GError **error)
{
	JsonArray *array;

	if (!config_expect(parser, node, JSON_NODE_HOLDS_ARRAY(node), path, "an array of strings",
	                   error))
		return FALSE;
	array = json_node_get_array(node);
	for (guint i = 0; i < json_array_get_length(array); i++) {
		JsonNode *element = json_array_get_element(array, i);
		g_autofree gchar *element_path = g_strdup_printf("%s[%u]", path, i);
		g_autofree gchar *value = NULL;
		if (!config_get_string(parser, element, element_path, &value, error))
			return FALSE;
		g_ptr_array_add(list, g_steal_pointer(&value));
	}
	return TRUE;
}

static gboolean
config_check_sql(ConfigParser *parser, const gchar *sql, const gchar *source, const gchar *path,
                 GError **error)
{
	g_autoptr(GError) error_local = NULL;

	if (parser->params->check_sql == NULL)
		return TRUE;
	if (parser->params->check_sql(sql, parser->params->check_sql_data, &error_local))
		return TRUE;
	g_set_error(error, OSQ_ERROR, OSQ_ERROR_INVALID_ARGUMENT, "%s: %s: %s", source, path,
	            error_local != NULL ? error_local->message : "rejected");
	return FALSE;
}

static gboolean
config_check_sql_list(ConfigParser *parser, GPtrArray *list, guint from, const gchar *path,
                      GError **error)
{
	for (guint i = from; i < list->len; i++) {
		g_autofree gchar *element_path = g_strdup_printf("%s[%u]", path, i - from);
		if (!config_check_sql(parser, list->pdata[i], parser->source, element_path, error))
			return FALSE;
	}
	return TRUE;
}

/* The members of @object in document order. */
static GList *
config_members(JsonObject *object)
{
	return json_object_get_members(object);
}

/* options */

static gboolean
config_parse_option(ConfigParser *parser, const gchar *name, JsonNode *node, GError **error)
{
	g_autofree gchar *path = g_strdup_printf("options.%s", name);
	GHashTable *known = parser->params->known_flags;
	gpointer cli_only = NULL;
	gchar *value;

	if (known != NULL && !g_str_has_prefix(name, "custom_")) {
		if (!g_hash_table_lookup_extended(known, name, NULL, &cli_only)) {
			config_set_error(parser, error, OSQ_ERROR_INVALID_ARGUMENT, path,
			                 "unknown flag");
			return FALSE;
		}
		if (GPOINTER_TO_INT(cli_only)) {
			config_set_error(parser, error, OSQ_ERROR_INVALID_ARGUMENT, path,
			                 "a command-line-only flag cannot be set in the config");
			return FALSE;
		}
	}
	if (!JSON_NODE_HOLDS_VALUE(node))
		return config_expect(parser, node, FALSE, path, "a string, number or boolean",
		                     error);
	switch (json_node_get_value_type(node)) {
	case G_TYPE_STRING:
		value = g_strdup(json_node_get_string(node));
		break;
	case G_TYPE_BOOLEAN:
		value = g_strdup(json_node_get_boolean(node) ? "true" : "false");
		break;
	case G_TYPE_INT64:
		value = g_strdup_printf("%" G_GINT64_FORMAT, json_node_get_int(node));
		break;
	default: {
		gchar buffer[G_ASCII_DTOSTR_BUF_SIZE];
		value = g_strdup(
		        g_ascii_dtostr(buffer, sizeof(buffer), json_node_get_double(node)));
		break;
	}
	}
	g_hash_table_replace(parser->config->options, g_strdup(name), value);
	return TRUE;
}

static gboolean
config_parse_options(ConfigParser *parser, JsonNode *node, GError **error)
{
	JsonObject *object = config_get_object(parser, node, "options", error);
	g_autoptr(GList) names = NULL;

	if (object == NULL)
		return FALSE;
	names = config_members(object);
	for (GList *l = names; l != NULL; l = l->next) {
		if (!config_parse_option(parser, l->data, json_object_get_member(object, l->data),
		                         error))
			return FALSE;
	}
	return TRUE;
}

/* schedule and packs */

static OsqdScheduledQuery *
config_parse_query(ConfigParser *parser, const gchar *pack, const gchar *query_name, JsonNode *node,
                   const gchar *path, GError **error)
{
	g_autoptr(OsqdScheduledQuery) query = g_new0(OsqdScheduledQuery, 1);
	JsonObject *object = config_get_object(parser, node, path, error);
	g_autoptr(GList) keys = NULL;

	if (object == NULL)
		return NULL;
	query->query_name = g_strdup(query_name);
	query->pack = g_strdup(pack);
	query->source = g_strdup(parser->source);
	query->name = pack == NULL ? g_strdup(query_name)
	                           : g_strconcat("pack", parser->delimiter, pack, parser->delimiter,
	                                         query_name, NULL);
	query->interval = parser->default_interval;
	query->removed = TRUE;
	query->denylist = TRUE;
	query->selected = TRUE;
	keys = config_members(object);
	for (GList *l = keys; l != NULL; l = l->next) {
		const gchar *key = l->data;
		JsonNode *value = json_object_get_member(object, key);
		g_autofree gchar *key_path = g_strdup_printf("%s.%s", path, key);
		gboolean ok;

		if (g_str_equal(key, "query"))
			ok = config_get_string(parser, value, key_path, &query->sql, error);
		else if (g_str_equal(key, "interval"))
			ok = config_get_uint(parser, value, key_path, 1, OSQD_CONFIG_MAX_INTERVAL,
			                     &query->interval, error);
		else if (g_str_equal(key, "snapshot"))
			ok = config_get_bool(parser, value, key_path, &query->snapshot, error);
		else if (g_str_equal(key, "removed"))
			ok = config_get_bool(parser, value, key_path, &query->removed, error);
		else if (g_str_equal(key, "denylist") || g_str_equal(key, "blacklist"))
			ok = config_get_bool(parser, value, key_path, &query->denylist, error);
		else if (g_str_equal(key, "platform"))
			ok = config_get_string(parser, value, key_path, &query->platform, error);
		else if (g_str_equal(key, "version"))
			ok = config_get_string(parser, value, key_path, &query->version, error);
		else if (g_str_equal(key, "shard"))
			ok = config_get_uint(parser, value, key_path, 0, 100, &query->shard, error);
		else if (g_str_equal(key, "description"))
			ok = config_get_string(parser, value, key_path, &query->description, error);
		else if (g_str_equal(key, "value"))
			ok = config_get_string(parser, value, key_path, &query->value, error);
		else {
			config_set_error(parser, error, OSQ_ERROR_INVALID_ARGUMENT, key_path,
			                 "unknown key");
			ok = FALSE;
		}
		if (!ok)
			return NULL;
	}
	if (query->sql == NULL) {
		config_set_error(parser, error, OSQ_ERROR_INVALID_ARGUMENT, path,
		                 "missing \"query\"");
		return NULL;
	}
	return g_steal_pointer(&query);
}

static gint
config_find_query(GPtrArray *queries, const gchar *query_name)
{
	for (guint i = 0; i < queries->len; i++) {
		const OsqdScheduledQuery *query = queries->pdata[i];
		if (g_str_equal(query->query_name, query_name))
			return (gint)i;
	}
	return -1;
}

/* Parses the queries of @node into @queries; a name seen before is replaced in place. */
static gboolean
config_parse_queries(ConfigParser *parser, const gchar *pack, JsonNode *node, const gchar *path,
                     GPtrArray *queries, GError **error)
{
	JsonObject *object = config_get_object(parser, node, path, error);
	g_autoptr(GList) names = NULL;

	if (object == NULL)
		return FALSE;
	names = config_members(object);
	for (GList *l = names; l != NULL; l = l->next) {
		g_autofree gchar *query_path = g_strdup_printf("%s.%s", path, (gchar *)l->data);
		OsqdScheduledQuery *query = config_parse_query(
		        parser, pack, l->data, json_object_get_member(object, l->data), query_path,
		        error);
		gint found;

		if (query == NULL)
			return FALSE;
		found = config_find_query(queries, query->query_name);
		if (found < 0) {
			g_ptr_array_add(queries, query);
		} else {
			config_query_free(queries->pdata[found]);
			queries->pdata[found] = query;
		}
	}
	return TRUE;
}

static gboolean
config_parse_pack_object(ConfigParser *parser, OsqdConfigPack *pack, JsonNode *node,
                         const gchar *path, GError **error)
{
	JsonObject *object = config_get_object(parser, node, path, error);
	g_autoptr(GList) keys = NULL;

	if (object == NULL)
		return FALSE;
	keys = config_members(object);
	for (GList *l = keys; l != NULL; l = l->next) {
		const gchar *key = l->data;
		JsonNode *value = json_object_get_member(object, key);
		g_autofree gchar *key_path = g_strdup_printf("%s.%s", path, key);
		gboolean ok;

		if (g_str_equal(key, "queries"))
			ok = config_parse_queries(parser, pack->name, value, key_path,
			                          pack->queries, error);
		else if (g_str_equal(key, "discovery"))
			ok = config_get_string_list(parser, value, key_path, pack->discovery,
			                            error);
		else if (g_str_equal(key, "platform"))
			ok = config_get_string(parser, value, key_path, &pack->platform, error);
		else if (g_str_equal(key, "version"))
			ok = config_get_string(parser, value, key_path, &pack->version, error);
		else if (g_str_equal(key, "oncall"))
			ok = config_get_string(parser, value, key_path, &pack->oncall, error);
		else if (g_str_equal(key, "shard"))
			ok = config_get_uint(parser, value, key_path, 0, 100, &pack->shard, error);
		else {
			config_set_error(parser, error, OSQ_ERROR_INVALID_ARGUMENT, key_path,
			                 "unknown key");
			ok = FALSE;
		}
		if (!ok)
			return FALSE;
	}
	return TRUE;
}

static JsonNode *
config_load_json(const gchar *name, const gchar *text, GError **error)
{
	g_autofree gchar *stripped = osqd_config_source_prepare(name, text, error);
	g_autoptr(JsonParser) json = NULL;
	g_autoptr(GError) error_local = NULL;
	const gchar *message;

	if (stripped == NULL)
		return NULL;
	json = json_parser_new_immutable();
	if (!json_parser_load_from_data(json, stripped, -1, &error_local)) {
		/* json-glib says "<data>:LINE:COLUMN: Parse error: ..." */
		message = error_local->message;
		if (g_str_has_prefix(message, "<data>:"))
			message += strlen("<data>:");
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_INVALID_ARGUMENT, "%s: line %s", name,
		            message);
		return NULL;
	}
	if (json_parser_get_root(json) == NULL) {
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_INVALID_ARGUMENT, "%s: empty document",
		            name);
		return NULL;
	}
	return json_node_ref(json_parser_get_root(json));
}

static OsqdConfigPack *
config_pack_new(ConfigParser *parser, const gchar *name)
{
	OsqdConfigPack *pack = g_new0(OsqdConfigPack, 1);

	pack->name = g_strdup(name);
	pack->source = g_strdup(parser->source);
	pack->discovery = g_ptr_array_new_with_free_func(g_free);
	pack->queries = g_ptr_array_new_with_free_func((GDestroyNotify)config_query_free);
	pack->selected = TRUE;
	return pack;
}

static void
config_add_pack(ConfigParser *parser, OsqdConfigPack *pack)
{
	GPtrArray *packs = parser->config->packs;

	for (guint i = 0; i < packs->len; i++) {
		OsqdConfigPack *old = packs->pdata[i];
		if (g_str_equal(old->name, pack->name)) {
			config_pack_free(old);
			packs->pdata[i] = pack;
			return;
		}
	}
	g_ptr_array_add(packs, pack);
}

/* Relative pack paths are relative to the directory of the source that names them. */
static gchar *
config_resolve_path(ConfigParser *parser, const gchar *path)
{
	g_autofree gchar *directory = NULL;

	if (g_path_is_absolute(path))
		return g_strdup(path);
	directory = g_path_get_dirname(parser->source);
	return g_build_filename(directory, path, NULL);
}

static gboolean
config_parse_pack_file(ConfigParser *parser, const gchar *name, const gchar *file,
                       const gchar *path, GError **error)
{
	g_autoptr(OsqdConfigPack) pack = NULL;
	g_autoptr(GError) error_local = NULL;
	g_autoptr(JsonNode) root = NULL;
	g_autofree gchar *text = NULL;
	const gchar *outer_source = parser->source;
	gboolean ok;

	if (!osqd_config_read_file(file, &text, &error_local)) {
		config_set_error(parser, error, error_local->code, path, "%s",
		                 error_local->message);
		return FALSE;
	}
	root = config_load_json(file, text, error);
	if (root == NULL)
		return FALSE;
	parser->source = file;
	pack = config_pack_new(parser, name);
	ok = config_parse_pack_object(parser, pack, root, path, error);
	parser->source = outer_source;
	if (!ok)
		return FALSE;
	config_add_pack(parser, g_steal_pointer(&pack));
	return TRUE;
}

/* The pack "*" names a glob pattern: one pack per matching regular file, named after the file
 * without its extension. */
static gboolean
config_parse_pack_glob(ConfigParser *parser, const gchar *pattern, const gchar *path,
                       GError **error)
{
	g_autofree gchar *resolved = config_resolve_path(parser, pattern);
	glob_t matches = { 0 };
	gint rc = glob(resolved, GLOB_ERR, NULL, &matches);
	gboolean ok = TRUE;

	if (rc == GLOB_NOMATCH)
		return TRUE;
	if (rc != 0) {
		globfree(&matches);
		config_set_error(parser, error, OSQ_ERROR_IO, path, "cannot expand %s", resolved);
		return FALSE;
	}
	for (gsize i = 0; ok && i < matches.gl_pathc; i++) {
		const gchar *file = matches.gl_pathv[i];
		g_autofree gchar *base = g_path_get_basename(file);
		g_autofree gchar *pack_path = NULL;
		gchar *dot = strrchr(base, '.');

		if (!g_file_test(file, G_FILE_TEST_IS_REGULAR))
			continue;
		if (dot != NULL && dot != base)
			*dot = '\0';
		pack_path = g_strdup_printf("packs.%s", base);
		ok = config_parse_pack_file(parser, base, file, pack_path, error);
	}
	globfree(&matches);
	return ok;
}

static gboolean
config_parse_packs(ConfigParser *parser, JsonNode *node, GError **error)
{
	JsonObject *object = config_get_object(parser, node, "packs", error);
	g_autoptr(GList) names = NULL;

	if (object == NULL)
		return FALSE;
	names = config_members(object);
	for (GList *l = names; l != NULL; l = l->next) {
		const gchar *name = l->data;
		JsonNode *value = json_object_get_member(object, name);
		g_autofree gchar *path = g_strdup_printf("packs.%s", name);
		g_autoptr(OsqdConfigPack) pack = NULL;

		if (config_node_is_string(value)) {
			g_autofree gchar *file = NULL;
			gboolean ok;
			if (g_str_equal(name, "*")) {
				ok = config_parse_pack_glob(parser, json_node_get_string(value),
				                            path, error);
			} else {
				file = config_resolve_path(parser, json_node_get_string(value));
				ok = config_parse_pack_file(parser, name, file, path, error);
			}
			if (!ok)
				return FALSE;
			continue;
		}
		if (!config_expect(parser, value, JSON_NODE_HOLDS_OBJECT(value), path,
		                   "an object or a file path", error))
			return FALSE;
		pack = config_pack_new(parser, name);
		if (!config_parse_pack_object(parser, pack, value, path, error))
			return FALSE;
		config_add_pack(parser, g_steal_pointer(&pack));
	}
	return TRUE;
}

/* decorators */

static OsqdConfigDecoratorInterval *
config_decorator_interval(ConfigParser *parser, guint interval)
{
	GPtrArray *intervals = parser->config->decorators_interval;
	OsqdConfigDecoratorInterval *decorator;

	for (guint i = 0; i < intervals->len; i++) {
		decorator = intervals->pdata[i];
		if (decorator->interval == interval)
			return decorator;
	}
	decorator = g_new0(OsqdConfigDecoratorInterval, 1);
	decorator->interval = interval;
	decorator->queries = g_ptr_array_new_with_free_func(g_free);
	g_ptr_array_add(intervals, decorator);
	return decorator;
}

static gboolean
config_parse_decorator_intervals(ConfigParser *parser, JsonNode *node, GError **error)
{
	JsonObject *object = config_get_object(parser, node, "decorators.interval", error);
	g_autoptr(GList) keys = NULL;

	if (object == NULL)
		return FALSE;
	keys = config_members(object);
	for (GList *l = keys; l != NULL; l = l->next) {
		g_autofree gchar *path =
		        g_strdup_printf("decorators.interval.%s", (gchar *)l->data);
		OsqdConfigDecoratorInterval *decorator;
		guint64 interval = 0;
		guint from;

		if (!g_ascii_string_to_unsigned(l->data, 10, 60, OSQD_CONFIG_MAX_INTERVAL,
		                                &interval, NULL) ||
		    interval % 60 != 0) {
			config_set_error(
			        parser, error, OSQ_ERROR_INVALID_ARGUMENT, path,
			        "the interval must be a multiple of 60 seconds, at most %d",
			        OSQD_CONFIG_MAX_INTERVAL);
			return FALSE;
		}
		decorator = config_decorator_interval(parser, (guint)interval);
		from = decorator->queries->len;
		if (!config_get_string_list(parser, json_object_get_member(object, l->data), path,
		                            decorator->queries, error) ||
		    !config_check_sql_list(parser, decorator->queries, from, path, error))
			return FALSE;
	}
	return TRUE;
}

static gboolean
config_parse_decorators(ConfigParser *parser, JsonNode *node, GError **error)
{
	JsonObject *object = config_get_object(parser, node, "decorators", error);
	g_autoptr(GList) keys = NULL;

	if (object == NULL)
		return FALSE;
	keys = config_members(object);
	for (GList *l = keys; l != NULL; l = l->next) {
		const gchar *key = l->data;
		JsonNode *value = json_object_get_member(object, key);
		g_autofree gchar *path = g_strdup_printf("decorators.%s", key);
		GPtrArray *list;
		guint from;

		if (g_str_equal(key, "interval")) {
			if (!config_parse_decorator_intervals(parser, value, error))
				return FALSE;
			continue;
		}
		if (g_str_equal(key, "load")) {
			list = parser->config->decorators_load;
		} else if (g_str_equal(key, "always")) {
			list = parser->config->decorators_always;
		} else {
			config_set_error(parser, error, OSQ_ERROR_INVALID_ARGUMENT, path,
			                 "unknown key (expected load, always or interval)");
			return FALSE;
		}
		from = list->len;
		if (!config_get_string_list(parser, value, path, list, error) ||
		    !config_check_sql_list(parser, list, from, path, error))
			return FALSE;
	}
	return TRUE;
}

/* file paths, events, views */

/* osquery's wildcards: "%%" (recursive) is only valid as the last path component. */
static gboolean
config_check_file_pattern(ConfigParser *parser, const gchar *pattern, const gchar *path,
                          GError **error)
{
	const gchar *recursive = strstr(pattern, "%%");

	if (pattern[0] == '\0' ||
	    (recursive != NULL &&
	     (recursive[2] != '\0' || (recursive != pattern && recursive[-1] != '/')))) {
		config_set_error(parser, error, OSQ_ERROR_INVALID_ARGUMENT, path,
		                 "\"%s\": \"%%%%\" is only allowed as the last path component",
		                 pattern);
		return FALSE;
	}
	return TRUE;
}

/* {category: [strings]}, appended to @map's lists. */
static gboolean
config_parse_category_map(ConfigParser *parser, JsonNode *node, const gchar *section,
                          GHashTable *map, gboolean patterns, gboolean sql, GError **error)
{
	JsonObject *object = config_get_object(parser, node, section, error);
	g_autoptr(GList) keys = NULL;

	if (object == NULL)
		return FALSE;
	keys = config_members(object);
	for (GList *l = keys; l != NULL; l = l->next) {
		g_autofree gchar *path = g_strdup_printf("%s.%s", section, (gchar *)l->data);
		GPtrArray *list = g_hash_table_lookup(map, l->data);
		guint from;

		if (list == NULL) {
			list = g_ptr_array_new_with_free_func(g_free);
			g_hash_table_insert(map, g_strdup(l->data), list);
		}
		from = list->len;
		if (!config_get_string_list(parser, json_object_get_member(object, l->data), path,
		                            list, error))
			return FALSE;
		for (guint i = from; patterns && i < list->len; i++) {
			if (!config_check_file_pattern(parser, list->pdata[i], path, error))
				return FALSE;
		}
		if (sql && !config_check_sql_list(parser, list, from, path, error))
			return FALSE;
		if (map == parser->config->exclude_paths)
			g_hash_table_replace(parser->exclude_sources, g_strdup(l->data),
			                     g_strdup(parser->source));
	}
	return TRUE;
}

static gboolean
config_parse_events(ConfigParser *parser, JsonNode *node, GError **error)
{
	JsonObject *object = config_get_object(parser, node, "events", error);
	g_autoptr(GList) keys = NULL;

	if (object == NULL)
		return FALSE;
	keys = config_members(object);
	for (GList *l = keys; l != NULL; l = l->next) {
		const gchar *key = l->data;
		g_autofree gchar *path = g_strdup_printf("events.%s", key);
		GPtrArray *list;

		if (g_str_equal(key, "enable_subscribers")) {
			list = parser->config->enable_subscribers;
		} else if (g_str_equal(key, "disable_subscribers")) {
			list = parser->config->disable_subscribers;
		} else {
			config_set_error(parser, error, OSQ_ERROR_INVALID_ARGUMENT, path,
			                 "unknown key");
			return FALSE;
		}
		if (!config_get_string_list(parser, json_object_get_member(object, key), path, list,
		                            error))
			return FALSE;
	}
	return TRUE;
}

static gboolean
config_parse_views(ConfigParser *parser, JsonNode *node, GError **error)
{
	JsonObject *object = config_get_object(parser, node, "views", error);
	g_autoptr(GList) keys = NULL;

	if (object == NULL)
		return FALSE;
	keys = config_members(object);
	for (GList *l = keys; l != NULL; l = l->next) {
		g_autofree gchar *path = g_strdup_printf("views.%s", (gchar *)l->data);
		g_autofree gchar *sql = NULL;

		if (!config_get_string(parser, json_object_get_member(object, l->data), path, &sql,
		                       error) ||
		    !config_check_sql(parser, sql, parser->source, path, error))
			return FALSE;
		g_hash_table_replace(parser->config->views, g_strdup(l->data),
		                     g_steal_pointer(&sql));
	}
	return TRUE;
}

/* top level */

static gboolean
config_is_extra_key(ConfigParser *parser, const gchar *key)
{
	const gchar *const *extra = parser->params->extra_top_level_keys;

	return extra != NULL && g_strv_contains(extra, key);
}

static gboolean
config_parse_member(ConfigParser *parser, const gchar *key, JsonNode *value, GError **error)
{
	OsqdConfig *config = parser->config;

	if (g_str_equal(key, "options"))
		return config_parse_options(parser, value, error);
	if (g_str_equal(key, "schedule"))
		return config_parse_queries(parser, NULL, value, "schedule", config->schedule,
		                            error);
	if (g_str_equal(key, "packs"))
		return config_parse_packs(parser, value, error);
	if (g_str_equal(key, "decorators"))
		return config_parse_decorators(parser, value, error);
	if (g_str_equal(key, "file_paths"))
		return config_parse_category_map(parser, value, key, config->file_paths, TRUE,
		                                 FALSE, error);
	if (g_str_equal(key, "file_paths_query"))
		return config_parse_category_map(parser, value, key, config->file_paths_query,
		                                 FALSE, TRUE, error);
	if (g_str_equal(key, "exclude_paths"))
		return config_parse_category_map(parser, value, key, config->exclude_paths, FALSE,
		                                 FALSE, error);
	if (g_str_equal(key, "file_accesses"))
		return config_get_string_list(parser, value, key, config->file_accesses, error);
	if (g_str_equal(key, "events"))
		return config_parse_events(parser, value, error);
	if (g_str_equal(key, "views"))
		return config_parse_views(parser, value, error);
	if (config_is_extra_key(parser, key)) {
		g_hash_table_replace(config->extra, g_strdup(key), json_node_copy(value));
		return TRUE;
	}
	config_set_error(parser, error, OSQ_ERROR_INVALID_ARGUMENT, key, "unknown top-level key");
	return FALSE;
}

static gboolean
config_parse_source(ConfigParser *parser, const OsqdConfigSource *source, GError **error)
{
	g_autoptr(JsonNode) root = config_load_json(source->name, source->text, error);
	g_autoptr(GList) keys = NULL;
	JsonObject *object;

	if (root == NULL)
		return FALSE;
	parser->source = source->name;
	if (!JSON_NODE_HOLDS_OBJECT(root)) {
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_INVALID_ARGUMENT,
		            "%s: the config must be a JSON object, not %s", source->name,
		            config_json_type_name(root));
		return FALSE;
	}
	object = json_node_get_object(root);
	keys = config_members(object);
	for (GList *l = keys; l != NULL; l = l->next) {
		if (!config_parse_member(parser, l->data, json_object_get_member(object, l->data),
		                         error))
			return FALSE;
	}
	return TRUE;
}

/* checks of the merged model */

static gboolean
config_check_excludes(ConfigParser *parser, GError **error)
{
	OsqdConfig *config = parser->config;
	GHashTableIter iter;
	gpointer category;

	g_hash_table_iter_init(&iter, config->exclude_paths);
	while (g_hash_table_iter_next(&iter, &category, NULL)) {
		g_autofree gchar *path = NULL;
		if (g_hash_table_contains(config->file_paths, category) ||
		    g_hash_table_contains(config->file_paths_query, category))
			continue;
		path = g_strdup_printf("exclude_paths.%s", (gchar *)category);
		parser->source = g_hash_table_lookup(parser->exclude_sources, category);
		config_set_error(parser, error, OSQ_ERROR_INVALID_ARGUMENT, path,
		                 "no such category in file_paths");
		return FALSE;
	}
	return TRUE;
}

static gchar *
config_query_path(const OsqdScheduledQuery *query)
{
	if (query->pack == NULL)
		return g_strdup_printf("schedule.%s", query->query_name);
	return g_strdup_printf("packs.%s.queries.%s", query->pack, query->query_name);
}

/* Flattens the schedule and the packs into config->queries, refusing two queries with one
 * scheduled name, and marks what the host selects. */
static gboolean
config_index_queries(ConfigParser *parser, GError **error)
{
	OsqdConfig *config = parser->config;
	const OsqdConfigHost *host = parser->params->host;
	g_autoptr(GHashTable) names = g_hash_table_new(g_str_hash, g_str_equal);

	for (guint i = 0; i < config->schedule->len; i++)
		g_ptr_array_add(config->queries, config->schedule->pdata[i]);
	for (guint i = 0; i < config->packs->len; i++) {
		OsqdConfigPack *pack = config->packs->pdata[i];
		pack->selected = osqd_config_query_selected(pack->platform, pack->version,
		                                            pack->shard, host);
		for (guint k = 0; k < pack->queries->len; k++)
			g_ptr_array_add(config->queries, pack->queries->pdata[k]);
	}
	for (guint i = 0; i < config->queries->len; i++) {
		OsqdScheduledQuery *query = config->queries->pdata[i];
		const OsqdConfigPack *pack =
		        query->pack != NULL ? osqd_config_lookup_pack(config, query->pack) : NULL;
		if (!g_hash_table_add(names, query->name)) {
			g_autofree gchar *path = config_query_path(query);
			parser->source = query->source;
			config_set_error(parser, error, OSQ_ERROR_INVALID_ARGUMENT, path,
			                 "the scheduled name \"%s\" is used twice", query->name);
			return FALSE;
		}
		query->selected = (pack == NULL || pack->selected) &&
		                  osqd_config_query_selected(query->platform, query->version,
		                                             query->shard, host);
	}
	return TRUE;
}

/* SQL of what will run here: queries not selected may name tables of other platforms. */
static gboolean
config_check_selected_sql(ConfigParser *parser, GError **error)
{
	OsqdConfig *config = parser->config;

	for (guint i = 0; i < config->queries->len; i++) {
		const OsqdScheduledQuery *query = config->queries->pdata[i];
		g_autofree gchar *path = NULL;
		if (!query->selected)
			continue;
		path = config_query_path(query);
		if (!config_check_sql(parser, query->sql, query->source, path, error))
			return FALSE;
	}
	for (guint i = 0; i < config->packs->len; i++) {
		const OsqdConfigPack *pack = config->packs->pdata[i];
		g_autofree gchar *path = g_strdup_printf("packs.%s.discovery", pack->name);
		if (!pack->selected)
			continue;
		parser->source = pack->source;
		if (!config_check_sql_list(parser, pack->discovery, 0, path, error))
			return FALSE;
	}
	return TRUE;
}

static gint
config_compare_intervals_cb(gconstpointer a, gconstpointer b)
{
	const OsqdConfigDecoratorInterval *da = *(OsqdConfigDecoratorInterval *const *)a;
	const OsqdConfigDecoratorInterval *db = *(OsqdConfigDecoratorInterval *const *)b;

	return da->interval < db->interval ? -1 : da->interval > db->interval;
}

OsqdConfig *
osqd_config_parse(GPtrArray *sources, const OsqdConfigParams *params, GError **error)
{
	static const OsqdConfigParams defaults = { 0 };
	g_autoptr(OsqdConfig) config = config_new();
	g_auto(ConfigParser) parser = { 0 };

	parser.params = params != NULL ? params : &defaults;
	parser.delimiter = parser.params->pack_delimiter != NULL
	                           ? parser.params->pack_delimiter
	                           : OSQD_CONFIG_DEFAULT_PACK_DELIMITER;
	parser.default_interval = parser.params->default_interval != 0
	                                  ? parser.params->default_interval
	                                  : OSQD_CONFIG_DEFAULT_INTERVAL;
	if (parser.default_interval > OSQD_CONFIG_MAX_INTERVAL) {
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_INVALID_ARGUMENT,
		            "the default interval %u is longer than a week",
		            parser.default_interval);
		return NULL;
	}
	parser.config = config;
	parser.exclude_sources = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	for (guint i = 0; i < sources->len; i++) {
		if (!config_parse_source(&parser, sources->pdata[i], error))
			return NULL;
	}
	g_ptr_array_sort(config->decorators_interval, config_compare_intervals_cb);
	if (!config_check_excludes(&parser, error) || !config_index_queries(&parser, error) ||
	    !config_check_selected_sql(&parser, error))
		return NULL;
	return g_steal_pointer(&config);
}

const OsqdScheduledQuery *
osqd_config_lookup_query(const OsqdConfig *config, const gchar *name)
{
	for (guint i = 0; i < config->queries->len; i++) {
		const OsqdScheduledQuery *query = config->queries->pdata[i];
		if (g_str_equal(query->name, name))
			return query;
	}
	return NULL;
}

const OsqdConfigPack *
osqd_config_lookup_pack(const OsqdConfig *config, const gchar *name)
{
	for (guint i = 0; i < config->packs->len; i++) {
		const OsqdConfigPack *pack = config->packs->pdata[i];
		if (g_str_equal(pack->name, name))
			return pack;
	}
	return NULL;
}
