/* SPDX-License-Identifier: Apache-2.0
 *
 * Completion rules. In SQL, the candidates are every table name plus the columns of the tables
 * the line already names (or of every table when it names none), so "SELECT pi<Tab> FROM
 * processes" offers processes' pid; right after FROM or JOIN only table names. After a
 * dot-command the candidates depend on the command.
 */
#include "config.h"

#include "osqi-complete.h"

#include <string.h>

#include "osqi-commands.h"

static const gchar *const complete_modes[] = { "column", "csv", "line", "list", "pretty", NULL };
static const gchar *const complete_booleans[] = { "off", "on", NULL };
static const gchar *const complete_boolean_commands[] = { "bail", "echo", "headers", "timer",
	                                                  NULL };
static const gchar *const complete_table_commands[] = { "all", "list", "schema", "tables", NULL };

typedef struct {
	const gchar *word;
	gsize word_len;
	GHashTable *seen;
	GPtrArray *matches;
} OsqiCompletion;

static gboolean
complete_is_word_char(gchar c)
{
	return g_ascii_isalnum(c) || c == '_';
}

static void
complete_offer(OsqiCompletion *completion, const gchar *prefix, const gchar *candidate)
{
	g_autofree gchar *full = g_strconcat(prefix, candidate, NULL);

	if (strlen(full) < completion->word_len ||
	    g_ascii_strncasecmp(full, completion->word, completion->word_len) != 0)
		return;
	if (g_hash_table_contains(completion->seen, full))
		return;
	g_hash_table_add(completion->seen, full);
	g_ptr_array_add(completion->matches, g_steal_pointer(&full));
}

static void
complete_offer_all(OsqiCompletion *completion, const gchar *prefix, const gchar *const *names)
{
	for (guint i = 0; names[i] != NULL; i++)
		complete_offer(completion, prefix, names[i]);
}

static void
complete_offer_columns(OsqiCompletion *completion, const OsqdTable *table)
{
	for (guint i = 0; i < table->n_columns; i++)
		complete_offer(completion, "", table->columns[i].name);
}

/* Tables whose names appear as words in @line. */
static GPtrArray *
complete_named_tables(OsqdRegistry *registry, const gchar *line)
{
	GPtrArray *tables = g_ptr_array_new();
	const gchar *p = line;

	while (*p != '\0') {
		const gchar *start = p;
		while (complete_is_word_char(*p))
			p++;
		if (p > start) {
			g_autofree gchar *word = g_ascii_strdown(start, p - start);
			const OsqdTable *table = osqd_registry_lookup(registry, word);
			if (table != NULL && !g_ptr_array_find(tables, table, NULL))
				g_ptr_array_add(tables, (gpointer)table);
		} else {
			p++;
		}
	}
	return tables;
}

static void
complete_tables(OsqiCompletion *completion, OsqdRegistry *registry)
{
	g_autoptr(GPtrArray) tables = osqd_registry_list(registry);

	for (guint i = 0; i < tables->len; i++)
		complete_offer(completion, "", ((const OsqdTable *)tables->pdata[i])->name);
}

static void
complete_sql(OsqiCompletion *completion, OsqdRegistry *registry, const gchar *line)
{
	g_autoptr(GPtrArray) tables = osqd_registry_list(registry);
	g_autoptr(GPtrArray) named = complete_named_tables(registry, line);

	complete_tables(completion, registry);
	if (named->len == 0)
		g_ptr_array_extend(named, tables, NULL, NULL);
	for (guint i = 0; i < named->len; i++)
		complete_offer_columns(completion, named->pdata[i]);
}

/* TRUE when the word before @start is FROM or JOIN: only a table name can come next. */
static gboolean
complete_after_from(const gchar *line, gsize start)
{
	gsize end = start;
	gsize begin;
	g_autofree gchar *previous = NULL;

	while (end > 0 && g_ascii_isspace(line[end - 1]))
		end--;
	if (end == start)
		return FALSE; /* no blank between: the word continues something else */
	begin = end;
	while (begin > 0 && complete_is_word_char(line[begin - 1]))
		begin--;
	previous = g_strndup(line + begin, end - begin);
	return g_ascii_strcasecmp(previous, "from") == 0 ||
	       g_ascii_strcasecmp(previous, "join") == 0;
}

static gint
complete_compare(gconstpointer a, gconstpointer b)
{
	return strcmp(*(const gchar *const *)a, *(const gchar *const *)b);
}

GPtrArray *
osqi_complete(OsqdRegistry *registry, const gchar *line, gsize cursor, gsize *word_start)
{
	g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
	OsqiCompletion completion = { .seen = seen };
	gsize start, first = 0;

	completion.matches = g_ptr_array_new_with_free_func(g_free);
	cursor = MIN(cursor, strlen(line));
	start = cursor;
	while (start > 0 && complete_is_word_char(line[start - 1]))
		start--;
	while (first < cursor && g_ascii_isspace(line[first]))
		first++;

	if (first < cursor && line[first] == '.') {
		gsize end = first + 1;
		g_autofree gchar *command_word = NULL;
		const gchar *command;
		while (end < cursor && !g_ascii_isspace(line[end]))
			end++;
		if (end == cursor) {
			/* completing the command name itself, dot included */
			start = first;
			completion.word = line + start;
			completion.word_len = cursor - start;
			complete_offer_all(&completion, ".", osqi_commands_get_names());
		} else {
			command_word = g_strndup(line + first + 1, end - first - 1);
			command = osqi_command_lookup(command_word, 1);
			completion.word = line + start;
			completion.word_len = cursor - start;
			if (g_strcmp0(command, "mode") == 0)
				complete_offer_all(&completion, "", complete_modes);
			else if (command != NULL &&
			         g_strv_contains(complete_boolean_commands, command))
				complete_offer_all(&completion, "", complete_booleans);
			else if (command != NULL &&
			         g_strv_contains(complete_table_commands, command))
				complete_tables(&completion, registry);
			else if (g_strcmp0(command, "types") == 0 ||
			         g_strcmp0(command, "follow") == 0)
				complete_sql(&completion, registry, line + end);
		}
	} else {
		completion.word = line + start;
		completion.word_len = cursor - start;
		if (complete_after_from(line, start))
			complete_tables(&completion, registry);
		else
			complete_sql(&completion, registry, line);
	}
	g_ptr_array_sort(completion.matches, complete_compare);
	*word_start = start;
	return completion.matches;
}

gchar *
osqi_complete_common_prefix(GPtrArray *candidates)
{
	gsize len;

	if (candidates->len == 0)
		return g_strdup("");
	len = strlen(candidates->pdata[0]);
	for (guint i = 1; i < candidates->len; i++) {
		const gchar *other = candidates->pdata[i];
		gsize j = 0;
		while (j < len && other[j] == ((const gchar *)candidates->pdata[0])[j])
			j++;
		len = j;
	}
	return g_strndup(candidates->pdata[0], len);
}
