/* SPDX-License-Identifier: Apache-2.0
 *
 * Extension methods on the wire (see the header). The registry payload is the deepest thing a
 * client sends (map of map of list of map); it is decoded with the codec's bounded reader, and
 * fields of an unexpected type are skipped as Thrift allows. Sizes are bounded by the message
 * cap the server already applied.
 */
#include "config.h"

#include "osqd-rpc-extensions.h"

#include "osq-error.h"
#include "osq-thrift.h"
#include "osqd-rpc-query.h"

static void
routes_free_cb(gpointer routes)
{
	g_ptr_array_unref(routes);
}

static gboolean
read_info(OsqThriftReader *reader, OsqdExtensionInfo *info, GError **error)
{
	for (;;) {
		OsqThriftType type;
		gint16 id;
		gchar **slot = NULL;
		if (!osq_thrift_read_field_begin(reader, &type, &id, error))
			return FALSE;
		if (type == OSQ_THRIFT_STOP)
			return TRUE;
		if (type == OSQ_THRIFT_STRING) {
			slot = id == 1   ? &info->name
			       : id == 2 ? &info->version
			       : id == 3 ? &info->sdk_version
			       : id == 4 ? &info->min_sdk_version
			                 : NULL;
		}
		if (slot == NULL) {
			if (!osq_thrift_skip(reader, type, error))
				return FALSE;
			continue;
		}
		g_free(*slot);
		*slot = NULL;
		if (!osq_thrift_read_string(reader, slot, error))
			return FALSE;
	}
}

/* list<map<string,string>> */
static gboolean
read_routes(OsqThriftReader *reader, GPtrArray **routes, GError **error)
{
	g_autoptr(GPtrArray) list =
	        g_ptr_array_new_with_free_func((GDestroyNotify)g_hash_table_unref);
	OsqThriftType element;
	guint32 n;

	if (!osq_thrift_read_list_begin(reader, &element, &n, error))
		return FALSE;
	for (guint32 i = 0; i < n; i++) {
		GHashTable *map = NULL;
		if (element != OSQ_THRIFT_MAP) {
			if (!osq_thrift_skip(reader, element, error))
				return FALSE;
			continue;
		}
		if (!osq_thrift_read_string_map(reader, &map, error))
			return FALSE;
		g_ptr_array_add(list, map);
	}
	*routes = g_steal_pointer(&list);
	return TRUE;
}

/* map<string, map<string, list<map<string,string>>>> */
static gboolean
read_registry(OsqThriftReader *reader, GHashTable **registry, GError **error)
{
	g_autoptr(GHashTable) out = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
	                                                  (GDestroyNotify)g_hash_table_unref);
	OsqThriftType key_type, value_type;
	guint32 n;

	if (!osq_thrift_read_map_begin(reader, &key_type, &value_type, &n, error))
		return FALSE;
	if (n > 0 && (key_type != OSQ_THRIFT_STRING || value_type != OSQ_THRIFT_MAP)) {
		g_set_error_literal(error, OSQ_ERROR, OSQ_ERROR_INVALID_ARGUMENT,
		                    "registerExtension: the registry is not a map of route tables");
		return FALSE;
	}
	for (guint32 i = 0; i < n; i++) {
		g_autofree gchar *name = NULL;
		g_autoptr(GHashTable) items =
		        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, routes_free_cb);
		OsqThriftType item_key, item_value;
		guint32 m;
		if (!osq_thrift_read_string(reader, &name, error) ||
		    !osq_thrift_read_map_begin(reader, &item_key, &item_value, &m, error))
			return FALSE;
		if (m > 0 && (item_key != OSQ_THRIFT_STRING || item_value != OSQ_THRIFT_LIST)) {
			g_set_error_literal(
			        error, OSQ_ERROR, OSQ_ERROR_INVALID_ARGUMENT,
			        "registerExtension: a route table is not a map of lists");
			return FALSE;
		}
		for (guint32 j = 0; j < m; j++) {
			g_autofree gchar *item = NULL;
			GPtrArray *routes = NULL;
			if (!osq_thrift_read_string(reader, &item, error) ||
			    !read_routes(reader, &routes, error))
				return FALSE;
			g_hash_table_replace(items, g_steal_pointer(&item), routes);
		}
		g_hash_table_replace(out, g_steal_pointer(&name), g_steal_pointer(&items));
	}
	*registry = g_steal_pointer(&out);
	return TRUE;
}

gboolean
osqd_rpc_read_register_args(const guint8 *args, gsize len, OsqdExtensionInfo *info,
                            GHashTable **registry, GError **error)
{
	OsqThriftReader reader;

	*registry = NULL;
	osq_thrift_reader_init(&reader, args, len);
	for (;;) {
		OsqThriftType type;
		gint16 id;
		if (!osq_thrift_read_field_begin(&reader, &type, &id, error))
			return FALSE;
		if (type == OSQ_THRIFT_STOP)
			break;
		if (id == 1 && type == OSQ_THRIFT_STRUCT) {
			if (!read_info(&reader, info, error))
				return FALSE;
		} else if (id == 2 && type == OSQ_THRIFT_MAP && *registry == NULL) {
			if (!read_registry(&reader, registry, error))
				return FALSE;
		} else if (!osq_thrift_skip(&reader, type, error)) {
			return FALSE;
		}
	}
	if (*registry == NULL)
		*registry = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
		                                  (GDestroyNotify)g_hash_table_unref);
	return TRUE;
}

gboolean
osqd_rpc_read_deregister_args(const guint8 *args, gsize len, gint64 *uuid, GError **error)
{
	OsqThriftReader reader;

	*uuid = 0;
	osq_thrift_reader_init(&reader, args, len);
	for (;;) {
		OsqThriftType type;
		gint16 id;
		if (!osq_thrift_read_field_begin(&reader, &type, &id, error))
			return FALSE;
		if (type == OSQ_THRIFT_STOP)
			return TRUE;
		if (id == 1 && type == OSQ_THRIFT_I64) {
			if (!osq_thrift_read_i64(&reader, uuid, error))
				return FALSE;
		} else if (!osq_thrift_skip(&reader, type, error)) {
			return FALSE;
		}
	}
}

gboolean
osqd_rpc_read_call_args(const guint8 *args, gsize len, gchar **registry, gchar **item,
                        GHashTable **request, GError **error)
{
	OsqThriftReader reader;

	osq_thrift_reader_init(&reader, args, len);
	for (;;) {
		OsqThriftType type;
		gint16 id;
		if (!osq_thrift_read_field_begin(&reader, &type, &id, error))
			return FALSE;
		if (type == OSQ_THRIFT_STOP)
			break;
		if (id == 1 && type == OSQ_THRIFT_STRING) {
			g_free(*registry);
			*registry = NULL;
			if (!osq_thrift_read_string(&reader, registry, error))
				return FALSE;
		} else if (id == 2 && type == OSQ_THRIFT_STRING) {
			g_free(*item);
			*item = NULL;
			if (!osq_thrift_read_string(&reader, item, error))
				return FALSE;
		} else if (id == 3 && type == OSQ_THRIFT_MAP && *request == NULL) {
			if (!osq_thrift_read_string_map(&reader, request, error))
				return FALSE;
		} else if (!osq_thrift_skip(&reader, type, error)) {
			return FALSE;
		}
	}
	if (*registry == NULL)
		*registry = g_strdup("");
	if (*item == NULL)
		*item = g_strdup("");
	if (*request == NULL)
		*request = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	return TRUE;
}

void
osqd_rpc_write_status_reply(GByteArray *out, const gchar *name, gint32 seqid, gint32 code,
                            const gchar *message, gint64 uuid)
{
	osq_thrift_write_message_begin(out, name, OSQ_THRIFT_REPLY, seqid);
	osq_thrift_write_field_begin(out, OSQ_THRIFT_STRUCT, 0);
	osq_thrift_write_field_begin(out, OSQ_THRIFT_I32, 1);
	osq_thrift_write_i32(out, code);
	osq_thrift_write_field_begin(out, OSQ_THRIFT_STRING, 2);
	osq_thrift_write_string(out, message);
	osq_thrift_write_field_begin(out, OSQ_THRIFT_I64, 3);
	osq_thrift_write_i64(out, uuid);
	osq_thrift_write_field_stop(out);
	osq_thrift_write_field_stop(out);
}

void
osqd_rpc_write_extensions_reply(GByteArray *out, const gchar *name, gint32 seqid,
                                GPtrArray *entries)
{
	osq_thrift_write_message_begin(out, name, OSQ_THRIFT_REPLY, seqid);
	osq_thrift_write_field_begin(out, OSQ_THRIFT_MAP, 0);
	osq_thrift_write_map_begin(out, OSQ_THRIFT_I64, OSQ_THRIFT_STRUCT,
	                           entries != NULL ? (gint32)entries->len : 0);
	for (guint i = 0; entries != NULL && i < entries->len; i++) {
		const OsqdExtensionEntry *entry = entries->pdata[i];
		osq_thrift_write_i64(out, entry->uuid);
		osq_thrift_write_field_begin(out, OSQ_THRIFT_STRING, 1);
		osq_thrift_write_string(out, entry->info.name);
		osq_thrift_write_field_begin(out, OSQ_THRIFT_STRING, 2);
		osq_thrift_write_string(out, entry->info.version);
		osq_thrift_write_field_begin(out, OSQ_THRIFT_STRING, 3);
		osq_thrift_write_string(out, entry->info.sdk_version);
		osq_thrift_write_field_begin(out, OSQ_THRIFT_STRING, 4);
		osq_thrift_write_string(out, entry->info.min_sdk_version);
		osq_thrift_write_field_stop(out);
	}
	osq_thrift_write_field_stop(out);
}

void
osqd_rpc_write_rows_reply(GByteArray *out, const gchar *name, gint32 seqid, gint32 code,
                          const gchar *message, GPtrArray *rows)
{
	osq_thrift_write_message_begin(out, name, OSQ_THRIFT_REPLY, seqid);
	osq_thrift_write_field_begin(out, OSQ_THRIFT_STRUCT, 0);
	osqd_rpc_write_status(out, 1, code, message);
	osq_thrift_write_field_begin(out, OSQ_THRIFT_LIST, 2);
	osq_thrift_write_list_begin(out, OSQ_THRIFT_MAP, rows != NULL ? (gint32)rows->len : 0);
	for (guint i = 0; rows != NULL && i < rows->len; i++) {
		GHashTable *row = rows->pdata[i];
		GHashTableIter iter;
		gpointer key, value;
		osq_thrift_write_map_begin(out, OSQ_THRIFT_STRING, OSQ_THRIFT_STRING,
		                           (gint32)g_hash_table_size(row));
		g_hash_table_iter_init(&iter, row);
		while (g_hash_table_iter_next(&iter, &key, &value)) {
			osq_thrift_write_string(out, key);
			osq_thrift_write_string(out, value);
		}
	}
	osq_thrift_write_field_stop(out);
	osq_thrift_write_field_stop(out);
}
