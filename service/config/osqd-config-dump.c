/* SPDX-License-Identifier: Apache-2.0
 *
 * The merged config written back as osquery-style JSON (--config_dump), and its SHA-256 so a
 * reload can tell whether anything changed. The output is canonical: maps that are hash tables in
 * the model are written sorted, defaults are written out, file and glob packs are inlined; so
 * parsing a dump and dumping again gives the same text.
 */
#include "config.h"

#include "osqd-config.h"

#include <json-glib/json-glib.h>

static GList *
dump_sorted_keys(GHashTable *table)
{
	return g_list_sort(g_hash_table_get_keys(table), (GCompareFunc)g_strcmp0);
}

static void
dump_string_list(JsonBuilder *builder, const gchar *name, GPtrArray *list)
{
	json_builder_set_member_name(builder, name);
	json_builder_begin_array(builder);
	for (guint i = 0; i < list->len; i++)
		json_builder_add_string_value(builder, list->pdata[i]);
	json_builder_end_array(builder);
}

static void
dump_optional_string(JsonBuilder *builder, const gchar *name, const gchar *value)
{
	if (value == NULL)
		return;
	json_builder_set_member_name(builder, name);
	json_builder_add_string_value(builder, value);
}

static void
dump_query(JsonBuilder *builder, const OsqdScheduledQuery *query)
{
	json_builder_set_member_name(builder, query->query_name);
	json_builder_begin_object(builder);
	json_builder_set_member_name(builder, "query");
	json_builder_add_string_value(builder, query->sql);
	json_builder_set_member_name(builder, "interval");
	json_builder_add_int_value(builder, query->interval);
	json_builder_set_member_name(builder, "snapshot");
	json_builder_add_boolean_value(builder, query->snapshot);
	json_builder_set_member_name(builder, "removed");
	json_builder_add_boolean_value(builder, query->removed);
	json_builder_set_member_name(builder, "denylist");
	json_builder_add_boolean_value(builder, query->denylist);
	dump_optional_string(builder, "platform", query->platform);
	dump_optional_string(builder, "version", query->version);
	if (query->shard > 0) {
		json_builder_set_member_name(builder, "shard");
		json_builder_add_int_value(builder, query->shard);
	}
	dump_optional_string(builder, "description", query->description);
	dump_optional_string(builder, "value", query->value);
	json_builder_end_object(builder);
}

static void
dump_queries(JsonBuilder *builder, const gchar *name, GPtrArray *queries)
{
	json_builder_set_member_name(builder, name);
	json_builder_begin_object(builder);
	for (guint i = 0; i < queries->len; i++)
		dump_query(builder, queries->pdata[i]);
	json_builder_end_object(builder);
}

static void
dump_packs(JsonBuilder *builder, GPtrArray *packs)
{
	json_builder_set_member_name(builder, "packs");
	json_builder_begin_object(builder);
	for (guint i = 0; i < packs->len; i++) {
		const OsqdConfigPack *pack = packs->pdata[i];
		json_builder_set_member_name(builder, pack->name);
		json_builder_begin_object(builder);
		dump_optional_string(builder, "platform", pack->platform);
		dump_optional_string(builder, "version", pack->version);
		if (pack->shard > 0) {
			json_builder_set_member_name(builder, "shard");
			json_builder_add_int_value(builder, pack->shard);
		}
		dump_optional_string(builder, "oncall", pack->oncall);
		if (pack->discovery->len > 0)
			dump_string_list(builder, "discovery", pack->discovery);
		dump_queries(builder, "queries", pack->queries);
		json_builder_end_object(builder);
	}
	json_builder_end_object(builder);
}

static void
dump_string_map(JsonBuilder *builder, const gchar *name, GHashTable *map)
{
	g_autoptr(GList) keys = NULL;

	if (g_hash_table_size(map) == 0)
		return;
	keys = dump_sorted_keys(map);
	json_builder_set_member_name(builder, name);
	json_builder_begin_object(builder);
	for (GList *l = keys; l != NULL; l = l->next) {
		json_builder_set_member_name(builder, l->data);
		json_builder_add_string_value(builder, g_hash_table_lookup(map, l->data));
	}
	json_builder_end_object(builder);
}

static void
dump_list_map(JsonBuilder *builder, const gchar *name, GHashTable *map)
{
	g_autoptr(GList) keys = NULL;

	if (g_hash_table_size(map) == 0)
		return;
	keys = dump_sorted_keys(map);
	json_builder_set_member_name(builder, name);
	json_builder_begin_object(builder);
	for (GList *l = keys; l != NULL; l = l->next)
		dump_string_list(builder, l->data, g_hash_table_lookup(map, l->data));
	json_builder_end_object(builder);
}

static void
dump_decorators(JsonBuilder *builder, const OsqdConfig *config)
{
	if (config->decorators_load->len == 0 && config->decorators_always->len == 0 &&
	    config->decorators_interval->len == 0)
		return;
	json_builder_set_member_name(builder, "decorators");
	json_builder_begin_object(builder);
	if (config->decorators_load->len > 0)
		dump_string_list(builder, "load", config->decorators_load);
	if (config->decorators_always->len > 0)
		dump_string_list(builder, "always", config->decorators_always);
	if (config->decorators_interval->len > 0) {
		json_builder_set_member_name(builder, "interval");
		json_builder_begin_object(builder);
		for (guint i = 0; i < config->decorators_interval->len; i++) {
			const OsqdConfigDecoratorInterval *decorator =
			        config->decorators_interval->pdata[i];
			g_autofree gchar *name = g_strdup_printf("%u", decorator->interval);
			dump_string_list(builder, name, decorator->queries);
		}
		json_builder_end_object(builder);
	}
	json_builder_end_object(builder);
}

static void
dump_events(JsonBuilder *builder, const OsqdConfig *config)
{
	if (config->enable_subscribers->len == 0 && config->disable_subscribers->len == 0)
		return;
	json_builder_set_member_name(builder, "events");
	json_builder_begin_object(builder);
	if (config->enable_subscribers->len > 0)
		dump_string_list(builder, "enable_subscribers", config->enable_subscribers);
	if (config->disable_subscribers->len > 0)
		dump_string_list(builder, "disable_subscribers", config->disable_subscribers);
	json_builder_end_object(builder);
}

static void
dump_extra(JsonBuilder *builder, GHashTable *extra)
{
	g_autoptr(GList) keys = dump_sorted_keys(extra);

	for (GList *l = keys; l != NULL; l = l->next) {
		json_builder_set_member_name(builder, l->data);
		json_builder_add_value(builder,
		                       json_node_copy(g_hash_table_lookup(extra, l->data)));
	}
}

gchar *
osqd_config_dump(const OsqdConfig *config)
{
	g_autoptr(JsonBuilder) builder = json_builder_new();
	g_autoptr(JsonGenerator) generator = json_generator_new();
	g_autoptr(JsonNode) root = NULL;

	json_builder_begin_object(builder);
	dump_string_map(builder, "options", config->options);
	if (config->schedule->len > 0)
		dump_queries(builder, "schedule", config->schedule);
	if (config->packs->len > 0)
		dump_packs(builder, config->packs);
	dump_decorators(builder, config);
	dump_list_map(builder, "file_paths", config->file_paths);
	dump_list_map(builder, "file_paths_query", config->file_paths_query);
	dump_list_map(builder, "exclude_paths", config->exclude_paths);
	if (config->file_accesses->len > 0)
		dump_string_list(builder, "file_accesses", config->file_accesses);
	dump_events(builder, config);
	dump_string_map(builder, "views", config->views);
	dump_extra(builder, config->extra);
	json_builder_end_object(builder);

	root = json_builder_get_root(builder);
	json_generator_set_root(generator, root);
	json_generator_set_pretty(generator, TRUE);
	json_generator_set_indent(generator, 2);
	json_generator_set_indent_char(generator, ' ');
	return json_generator_to_data(generator, NULL);
}

gchar *
osqd_config_hash(const OsqdConfig *config)
{
	g_autofree gchar *dump = osqd_config_dump(config);

	return g_compute_checksum_for_string(G_CHECKSUM_SHA256, dump, -1);
}
