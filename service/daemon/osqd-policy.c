/* SPDX-License-Identifier: Apache-2.0
 *
 * The access policy: rules from a TOML file, and decisions about peers (osqd-peer.h).
 * A peer is matched against the [[rule]]s in file order (by uid, or by gid against its primary
 * and supplementary groups); the first match decides, else [default] does. uid 0 never reaches
 * the rules: root may always do everything. Table patterns are fnmatch(3) globs, compared
 * without regard to case. The policy is read-only after loading, so decisions are thread-safe.
 */
#include "config.h"

#include "osqd-policy.h"

#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "osq-error.h"
#include "osqd-toml.h"

#define POLICY_NAME_MAX 64

typedef struct {
	gchar *label;           /* `rule "ops" (line 12)`, `[default] (line 3)`... for messages */
	GArray *uids;           /* guint32 */
	GArray *gids;           /* guint32 */
	GPtrArray *tables;      /* glob patterns of readable tables */
	GPtrArray *deny_tables; /* glob patterns of tables that are not, over `tables` */
	gboolean sensitive;
	gboolean shutdown;
	gboolean register_extensions;
} PolicyRule;

struct _OsqdPolicy {
	gchar *origin;        /* the file, or "built-in" */
	GPtrArray *rules;     /* PolicyRule*, the first match wins */
	PolicyRule *fallback; /* for everyone no rule matches */
};

static const gchar *const policy_rule_keys[] = {
	"name",        "uid",       "gid",      "tables",
	"deny_tables", "sensitive", "shutdown", "register_extensions",
	NULL,
};

/* ---- rules ---- */

static void
policy_rule_free(PolicyRule *rule)
{
	if (rule == NULL)
		return;
	g_free(rule->label);
	g_array_unref(rule->uids);
	g_array_unref(rule->gids);
	g_ptr_array_unref(rule->tables);
	g_ptr_array_unref(rule->deny_tables);
	g_free(rule);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(PolicyRule, policy_rule_free)

/* A rule with the built-in defaults: every table except sensitive data, no actions. */
static PolicyRule *
policy_rule_new(gchar *label)
{
	PolicyRule *rule = g_new0(PolicyRule, 1);

	rule->label = label;
	rule->uids = g_array_new(FALSE, FALSE, sizeof(guint32));
	rule->gids = g_array_new(FALSE, FALSE, sizeof(guint32));
	rule->tables = g_ptr_array_new_with_free_func(g_free);
	rule->deny_tables = g_ptr_array_new_with_free_func(g_free);
	g_ptr_array_add(rule->tables, g_strdup("*"));
	return rule;
}

static gboolean
policy_rule_matches(const PolicyRule *rule, const OsqdPeer *peer)
{
	for (guint i = 0; i < rule->uids->len; i++) {
		if (g_array_index(rule->uids, guint32, i) == peer->uid)
			return TRUE;
	}
	for (guint i = 0; i < rule->gids->len; i++) {
		if (osqd_peer_in_group(peer, g_array_index(rule->gids, guint32, i)))
			return TRUE;
	}
	return FALSE;
}

static const gchar *
policy_match_patterns(GPtrArray *patterns, const gchar *name)
{
	for (guint i = 0; i < patterns->len; i++) {
		if (fnmatch(patterns->pdata[i], name, FNM_CASEFOLD) == 0)
			return patterns->pdata[i];
	}
	return NULL;
}

/* ---- loading ---- */

static gboolean policy_fail(GError **error, guint line, const gchar *format, ...)
        G_GNUC_PRINTF(3, 4);

static gboolean
policy_fail(GError **error, guint line, const gchar *format, ...)
{
	g_autofree gchar *message = NULL;
	va_list args;

	va_start(args, format);
	message = g_strdup_vprintf(format, args);
	va_end(args);
	g_set_error(error, OSQ_ERROR, OSQ_ERROR_INVALID_ARGUMENT, "line %u: %s", line, message);
	return FALSE;
}

static gboolean
policy_read_bool(const OsqdTomlEntry *entry, gboolean *out, GError **error)
{
	if (entry->value->kind != OSQD_TOML_VALUE_BOOLEAN)
		return policy_fail(error, entry->line, "\"%s\" must be true or false, not %s",
		                   entry->key, osqd_toml_value_kind_to_string(entry->value->kind));
	*out = entry->value->boolean;
	return TRUE;
}

static gboolean
policy_check_id(const OsqdTomlEntry *entry, const OsqdTomlValue *value, GError **error)
{
	if (value->kind != OSQD_TOML_VALUE_INTEGER)
		return policy_fail(error, value->line,
		                   "\"%s\" must be an id or an array of ids, not %s", entry->key,
		                   osqd_toml_value_kind_to_string(value->kind));
	/* (uid_t)-1 means "no id" to the kernel */
	if (value->integer < 0 || value->integer >= G_MAXUINT32)
		return policy_fail(error, value->line,
		                   "%" G_GINT64_FORMAT " in \"%s\" is not a valid id",
		                   value->integer, entry->key);
	if (value->integer == 0 && g_strcmp0(entry->key, "uid") == 0)
		return policy_fail(error, value->line,
		                   "uid 0 in \"uid\": root may always do everything and cannot be "
		                   "restricted; remove it");
	return TRUE;
}

/* uid/gid: one integer or an array of them. */
static gboolean
policy_read_ids(const OsqdTomlEntry *entry, GArray *ids, GError **error)
{
	const OsqdTomlValue *value = entry->value;
	GPtrArray *items = value->kind == OSQD_TOML_VALUE_ARRAY ? value->array : NULL;
	guint n = items != NULL ? items->len : 1;

	for (guint i = 0; i < n; i++) {
		const OsqdTomlValue *item = items != NULL ? items->pdata[i] : value;
		guint32 id;
		if (!policy_check_id(entry, item, error))
			return FALSE;
		id = (guint32)item->integer;
		g_array_append_val(ids, id);
	}
	return TRUE;
}

static gboolean
policy_pattern_is_valid(const gchar *pattern)
{
	if (pattern[0] == '\0')
		return FALSE;
	for (const gchar *c = pattern; *c != '\0'; c++) {
		if (!g_ascii_isalnum(*c) && strchr("_*?[]!-", *c) == NULL)
			return FALSE;
	}
	return TRUE;
}

static gboolean
policy_read_patterns(const OsqdTomlEntry *entry, GPtrArray *patterns, GError **error)
{
	const OsqdTomlValue *value = entry->value;

	if (value->kind != OSQD_TOML_VALUE_ARRAY)
		return policy_fail(
		        error, entry->line,
		        "\"%s\" must be an array of table name patterns, such as [\"*\"], "
		        "not %s",
		        entry->key, osqd_toml_value_kind_to_string(value->kind));
	g_ptr_array_set_size(patterns, 0);
	for (guint i = 0; i < value->array->len; i++) {
		const OsqdTomlValue *item = value->array->pdata[i];
		if (item->kind != OSQD_TOML_VALUE_STRING)
			return policy_fail(error, item->line,
			                   "\"%s\" must hold table name patterns (strings), not %s",
			                   entry->key, osqd_toml_value_kind_to_string(item->kind));
		if (!policy_pattern_is_valid(item->string)) {
			g_autofree gchar *escaped = g_strescape(item->string, NULL);
			return policy_fail(
			        error, item->line,
			        "\"%s\" has a bad pattern \"%s\": use table names with the "
			        "wildcards * ? [...]",
			        entry->key, escaped);
		}
		g_ptr_array_add(patterns, g_strdup(item->string));
	}
	return TRUE;
}

static gboolean
policy_read_name(const OsqdTomlEntry *entry, gchar **name, GError **error)
{
	const OsqdTomlValue *value = entry->value;

	if (value->kind != OSQD_TOML_VALUE_STRING)
		return policy_fail(error, entry->line, "\"name\" must be a string, not %s",
		                   osqd_toml_value_kind_to_string(value->kind));
	if (value->string[0] == '\0' || g_utf8_strlen(value->string, -1) > POLICY_NAME_MAX)
		return policy_fail(error, entry->line, "\"name\" must have 1 to %d characters",
		                   POLICY_NAME_MAX);
	for (const gchar *c = value->string; *c != '\0'; c++) {
		if ((guchar)*c < 0x20 || *c == 0x7f || *c == '"')
			return policy_fail(error, entry->line,
			                   "\"name\" may not hold control characters or quotes");
	}
	*name = g_strdup(value->string);
	return TRUE;
}

static gboolean
policy_rule_apply(PolicyRule *rule, const OsqdTomlEntry *entry, gboolean is_rule, gchar **name,
                  GError **error)
{
	const gchar *key = entry->key;

	if (g_strcmp0(key, "tables") == 0)
		return policy_read_patterns(entry, rule->tables, error);
	if (g_strcmp0(key, "deny_tables") == 0)
		return policy_read_patterns(entry, rule->deny_tables, error);
	if (g_strcmp0(key, "sensitive") == 0)
		return policy_read_bool(entry, &rule->sensitive, error);
	if (g_strcmp0(key, "shutdown") == 0)
		return policy_read_bool(entry, &rule->shutdown, error);
	if (g_strcmp0(key, "register_extensions") == 0)
		return policy_read_bool(entry, &rule->register_extensions, error);
	if (is_rule && g_strcmp0(key, "uid") == 0)
		return policy_read_ids(entry, rule->uids, error);
	if (is_rule && g_strcmp0(key, "gid") == 0)
		return policy_read_ids(entry, rule->gids, error);
	if (is_rule && g_strcmp0(key, "name") == 0)
		return policy_read_name(entry, name, error);
	if (!is_rule && g_strv_contains(policy_rule_keys, key))
		return policy_fail(error, entry->line,
		                   "\"%s\" is only allowed in [[rule]], not in [default]", key);
	return policy_fail(error, entry->line, "unknown key \"%s\" in %s (known: %s%s)", key,
	                   is_rule ? "[[rule]]" : "[default]", is_rule ? "name, uid, gid, " : "",
	                   "tables, deny_tables, sensitive, shutdown, register_extensions");
}

static PolicyRule *
policy_rule_from_section(const OsqdTomlSection *section, guint index, GError **error)
{
	gboolean is_rule = section->is_array;
	g_autoptr(PolicyRule) rule = policy_rule_new(NULL);
	g_autofree gchar *name = NULL;

	for (guint i = 0; i < section->entries->len; i++) {
		if (!policy_rule_apply(rule, section->entries->pdata[i], is_rule, &name, error))
			return NULL;
	}
	if (is_rule && rule->uids->len == 0 && rule->gids->len == 0) {
		policy_fail(error, section->line,
		            "[[rule]] needs \"uid\" or \"gid\" to say whom it is for ([default] is "
		            "for everyone else)");
		return NULL;
	}
	if (!is_rule)
		rule->label = g_strdup_printf("[default] (line %u)", section->line);
	else if (name != NULL)
		rule->label = g_strdup_printf("rule \"%s\" (line %u)", name, section->line);
	else
		rule->label = g_strdup_printf("rule %u (line %u)", index, section->line);
	return g_steal_pointer(&rule);
}

static gboolean
policy_add_document(OsqdPolicy *policy, const OsqdTomlDocument *document, GError **error)
{
	const OsqdTomlSection *top = document->sections->pdata[0];

	if (top->entries->len > 0) {
		const OsqdTomlEntry *entry = top->entries->pdata[0];
		return policy_fail(error, entry->line,
		                   "unknown key \"%s\" at the top level (keys go under [default] "
		                   "or [[rule]])",
		                   entry->key);
	}
	for (guint i = 1; i < document->sections->len; i++) {
		const OsqdTomlSection *section = document->sections->pdata[i];
		PolicyRule *rule;
		if (g_strcmp0(section->name, "rule") == 0 && !section->is_array)
			return policy_fail(error, section->line,
			                   "write [[rule]] (one per rule), not [rule]");
		if (g_strcmp0(section->name, "default") == 0 && section->is_array)
			return policy_fail(error, section->line,
			                   "write [default] (there is one), not [[default]]");
		if (g_strcmp0(section->name, "rule") != 0 &&
		    g_strcmp0(section->name, "default") != 0)
			return policy_fail(error, section->line,
			                   "unknown section [%s%s%s] (known: [default], [[rule]])",
			                   section->is_array ? "[" : "", section->name,
			                   section->is_array ? "]" : "");
		rule = policy_rule_from_section(section, policy->rules->len + 1, error);
		if (rule == NULL)
			return FALSE;
		if (section->is_array) {
			g_ptr_array_add(policy->rules, rule);
		} else {
			policy_rule_free(policy->fallback);
			policy->fallback = rule;
		}
	}
	return TRUE;
}

static OsqdPolicy *
policy_new(const gchar *origin)
{
	OsqdPolicy *policy = g_new0(OsqdPolicy, 1);

	policy->origin = g_strdup(origin);
	policy->rules = g_ptr_array_new_with_free_func((GDestroyNotify)policy_rule_free);
	policy->fallback = policy_rule_new(g_strdup("the built-in default"));
	return policy;
}

OsqdPolicy *
osqd_policy_new_default(void)
{
	return policy_new("built-in");
}

void
osqd_policy_free(OsqdPolicy *policy)
{
	if (policy == NULL)
		return;
	g_free(policy->origin);
	g_ptr_array_unref(policy->rules);
	policy_rule_free(policy->fallback);
	g_free(policy);
}

OsqdPolicy *
osqd_policy_load_from_data(const gchar *data, gsize len, const gchar *origin, GError **error)
{
	g_autoptr(OsqdPolicy) policy = policy_new(origin);
	g_autoptr(OsqdTomlDocument) document = osqd_toml_parse(data, len, error);

	if (document == NULL || !policy_add_document(policy, document, error)) {
		g_prefix_error(error, "%s: ", origin);
		return NULL;
	}
	return g_steal_pointer(&policy);
}

OsqdPolicy *
osqd_policy_load(const gchar *path, GError **error)
{
	g_autoptr(OsqdTomlDocument) document = osqd_toml_load(path, error);
	g_autoptr(OsqdPolicy) policy = policy_new(path);

	if (document == NULL || !policy_add_document(policy, document, error)) {
		g_prefix_error(error, "%s: ", path);
		return NULL;
	}
	return g_steal_pointer(&policy);
}

/* ---- decisions ---- */

static const PolicyRule *
policy_find_rule(OsqdPolicy *policy, const OsqdPeer *peer)
{
	for (guint i = 0; i < policy->rules->len; i++) {
		const PolicyRule *rule = policy->rules->pdata[i];
		if (policy_rule_matches(rule, peer))
			return rule;
	}
	return policy->fallback;
}

static gboolean
policy_deny(GError **error, const OsqdPeer *peer, const gchar *what, const gchar *why)
{
	g_set_error(error, OSQ_ERROR, OSQ_ERROR_PERMISSION_DENIED,
	            "access denied: uid %u may not %s (%s)", peer->uid, what, why);
	return FALSE;
}

gboolean
osqd_policy_may_read_sensitive(OsqdPolicy *policy, const OsqdPeer *peer)
{
	return peer->uid == 0 || policy_find_rule(policy, peer)->sensitive;
}

gboolean
osqd_policy_may_read(OsqdPolicy *policy, const OsqdPeer *peer, const OsqdTable *table, gint column,
                     GError **error)
{
	const PolicyRule *rule;
	const gchar *pattern;
	g_autofree gchar *what = NULL;

	if (peer->uid == 0)
		return TRUE;
	rule = policy_find_rule(policy, peer);
	what = g_strdup_printf("read %s", table->name);
	pattern = policy_match_patterns(rule->deny_tables, table->name);
	if (pattern != NULL) {
		g_autofree gchar *why =
		        g_strdup_printf("\"%s\" is in deny_tables of %s", pattern, rule->label);
		return policy_deny(error, peer, what, why);
	}
	if (policy_match_patterns(rule->tables, table->name) == NULL) {
		g_autofree gchar *why = g_strdup_printf("not in the tables of %s", rule->label);
		return policy_deny(error, peer, what, why);
	}
	if ((table->flags & OSQD_TABLE_FLAG_SENSITIVE) != 0 && !rule->sensitive)
		return policy_deny(error, peer, what, "sensitive table");
	if (column < 0)
		return TRUE;
	if ((guint)column >= table->n_columns) {
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_INVALID_ARGUMENT,
		            "access denied: %s has no column %d", table->name, column);
		return FALSE;
	}
	if ((table->columns[column].flags & OSQD_COLUMN_FLAG_SENSITIVE) != 0 && !rule->sensitive) {
		g_free(what);
		what = g_strdup_printf("read %s.%s", table->name, table->columns[column].name);
		return policy_deny(error, peer, what, "sensitive");
	}
	return TRUE;
}

gboolean
osqd_policy_may(OsqdPolicy *policy, const OsqdPeer *peer, OsqdPolicyAction action, GError **error)
{
	const PolicyRule *rule;
	g_autofree gchar *why = NULL;

	if (peer->uid == 0)
		return TRUE;
	rule = policy_find_rule(policy, peer);
	switch (action) {
	case OSQD_POLICY_ACTION_SHUTDOWN:
		if (rule->shutdown)
			return TRUE;
		why = g_strdup_printf("%s does not allow shutdown", rule->label);
		return policy_deny(error, peer, "shut down osqd", why);
	case OSQD_POLICY_ACTION_REGISTER_EXTENSION:
		if (rule->register_extensions)
			return TRUE;
		why = g_strdup_printf("%s does not allow register_extensions", rule->label);
		return policy_deny(error, peer, "register extensions", why);
	default:
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_INVALID_ARGUMENT,
		            "access denied: unknown action %d", (gint)action);
		return FALSE;
	}
}

gboolean
osqd_policy_access_cb(const OsqdTable *table, gint column, gpointer user_data, GError **error)
{
	OsqdPolicyAccess *access = user_data;

	return osqd_policy_may_read(access->policy, access->peer, table, column, error);
}

/* ---- description ---- */

static void
policy_describe_ids(GString *out, const gchar *kind, GArray *ids)
{
	if (ids->len == 0)
		return;
	g_string_append_printf(out, "%s%s ", out->str[out->len - 1] == ' ' ? "" : " or ", kind);
	for (guint i = 0; i < ids->len; i++)
		g_string_append_printf(out, "%s%u", i > 0 ? "," : "",
		                       g_array_index(ids, guint32, i));
}

static void
policy_describe_patterns(GString *out, GPtrArray *patterns)
{
	if (patterns->len == 0)
		g_string_append(out, "(none)");
	for (guint i = 0; i < patterns->len; i++)
		g_string_append_printf(out, "%s%s", i > 0 ? " " : "", (gchar *)patterns->pdata[i]);
}

static void
policy_describe_rule(GString *out, const PolicyRule *rule)
{
	g_string_append(out, "    reads tables: ");
	policy_describe_patterns(out, rule->tables);
	if (rule->deny_tables->len > 0) {
		g_string_append(out, "; except: ");
		policy_describe_patterns(out, rule->deny_tables);
	}
	g_string_append_printf(out,
	                       "\n    sensitive tables and columns: %s; shutdown: %s; "
	                       "register extensions: %s\n",
	                       rule->sensitive ? "yes" : "no", rule->shutdown ? "yes" : "no",
	                       rule->register_extensions ? "yes" : "no");
}

gchar *
osqd_policy_describe(OsqdPolicy *policy)
{
	g_autoptr(GString) out = g_string_new(NULL);

	g_string_append_printf(out, "access policy (%s):\n", policy->origin);
	g_string_append(out, "  uid 0 (root): everything; no policy can restrict root\n");
	for (guint i = 0; i < policy->rules->len; i++) {
		const PolicyRule *rule = policy->rules->pdata[i];
		g_string_append_printf(out, "  %s, for ", rule->label);
		policy_describe_ids(out, "uid", rule->uids);
		policy_describe_ids(out, "gid", rule->gids);
		g_string_append(out, ":\n");
		policy_describe_rule(out, rule);
	}
	g_string_append_printf(out, "  %s, for everyone else:\n", policy->fallback->label);
	policy_describe_rule(out, policy->fallback);
	return g_string_free(g_steal_pointer(&out), FALSE);
}
