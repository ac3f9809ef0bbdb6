/* SPDX-License-Identifier: Apache-2.0
 *
 * libedit's native API (histedit.h): emacs key bindings, ~/.editrc, history saved after every
 * entry so a killed shell keeps it, and Tab bound to the completion hook (osqi_complete()).
 * Ctrl-C at the prompt makes el_gets() fail with EINTR (osqi's SIGINT handler has no
 * SA_RESTART); the caller then drops the line being typed. Built as osqi-editline.so, linked
 * with libedit and glib only; everything but the table is static.
 */
#include "config.h"

#include "osqi-editline.h"

#include <errno.h>
#include <histedit.h>
#include <stdio.h>
#include <string.h>

#include "osq-error.h"

#define OSQI_EDITLINE_HISTORY_SIZE 100
#define OSQI_EDITLINE_LIST_WIDTH   80

struct _OsqiEditline {
	EditLine *el;
	History *history;
	OsqiEditlineHooks hooks;
	gchar *history_path;
	const gchar *prompt;
};

static char *
editline_prompt_cb(EditLine *el)
{
	OsqiEditline *self = NULL;

	(void)el_get(el, EL_CLIENTDATA, &self);
	return (char *)self->prompt;
}

static void
editline_replace_word(EditLine *el, gsize word_len, const gchar *text)
{
	if (word_len > 0)
		el_deletestr(el, (int)word_len);
	(void)el_insertstr(el, text);
}

static void
editline_list(GPtrArray *matches)
{
	gsize width = 0;
	guint per_line;

	for (guint i = 0; i < matches->len; i++)
		width = MAX(width, strlen(matches->pdata[i]));
	width += 2;
	per_line = MAX(1, OSQI_EDITLINE_LIST_WIDTH / (guint)width);
	(void)fputc('\n', stdout);
	for (guint i = 0; i < matches->len; i++) {
		gboolean end = (i + 1) % per_line == 0 || i + 1 == matches->len;
		(void)fprintf(stdout, "%-*s", end ? 0 : (int)width,
		              (const gchar *)matches->pdata[i]);
		if (end)
			(void)fputc('\n', stdout);
	}
	(void)fflush(stdout);
}

static unsigned char
editline_complete_cb(EditLine *el, int ch)
{
	OsqiEditline *self = NULL;
	const LineInfo *info = el_line(el);
	g_autofree gchar *line = g_strndup(info->buffer, (gsize)(info->lastchar - info->buffer));
	gsize cursor = (gsize)(info->cursor - info->buffer);
	gsize word_start = 0;
	g_autoptr(GPtrArray) matches = NULL;
	g_autofree gchar *common = NULL;
	gsize word_len;

	(void)ch;
	(void)el_get(el, EL_CLIENTDATA, &self);
	matches = self->hooks.complete(self->hooks.user_data, line, cursor, &word_start);
	word_len = cursor - word_start;
	if (matches->len == 0)
		return CC_REFRESH_BEEP;
	if (matches->len == 1) {
		editline_replace_word(el, word_len, matches->pdata[0]);
		(void)el_insertstr(el, " ");
		return CC_REFRESH;
	}
	common = self->hooks.common_prefix(matches);
	if (strlen(common) > word_len) {
		editline_replace_word(el, word_len, common);
		return CC_REFRESH;
	}
	editline_list(matches);
	return CC_REDISPLAY;
}

static void
osqi_editline_free(OsqiEditline *self)
{
	if (self == NULL)
		return;
	if (self->el != NULL)
		el_end(self->el);
	if (self->history != NULL)
		history_end(self->history);
	g_free(self->history_path);
	g_free(self);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(OsqiEditline, osqi_editline_free)

static OsqiEditline *
osqi_editline_new(const gchar *program, const gchar *history_path, const OsqiEditlineHooks *hooks,
                  GError **error)
{
	g_autoptr(OsqiEditline) self = g_new0(OsqiEditline, 1);
	HistEvent event;

	self->hooks = *hooks;
	self->history_path = g_strdup(history_path);
	self->prompt = "osq> ";
	self->el = el_init(program, stdin, stdout, stderr);
	if (self->el == NULL) {
		g_set_error_literal(error, OSQ_ERROR, OSQ_ERROR_FAILED,
		                    "cannot start the line editor");
		return NULL;
	}
	self->history = history_init();
	if (self->history == NULL) {
		g_set_error_literal(error, OSQ_ERROR, OSQ_ERROR_FAILED, "cannot start history");
		return NULL;
	}
	(void)history(self->history, &event, H_SETSIZE, OSQI_EDITLINE_HISTORY_SIZE);
	(void)history(self->history, &event, H_SETUNIQUE, 1);
	if (self->history_path != NULL)
		(void)history(self->history, &event, H_LOAD, self->history_path);

	(void)el_set(self->el, EL_CLIENTDATA, self);
	(void)el_set(self->el, EL_EDITOR, "emacs");
	(void)el_set(self->el, EL_SIGNAL, 1);
	(void)el_set(self->el, EL_PROMPT, editline_prompt_cb);
	(void)el_set(self->el, EL_HIST, history, self->history);
	/* the wide call: the narrow one leaks its copies of the name and help */
	(void)el_wset(self->el, EL_ADDFN, L"osqi-complete", L"Complete names",
	              editline_complete_cb);
	(void)el_set(self->el, EL_BIND, "^I", "osqi-complete", NULL);
	(void)el_source(self->el, NULL);
	return g_steal_pointer(&self);
}

static void
editline_remember(OsqiEditline *self, const gchar *line)
{
	HistEvent event;

	if (line[strspn(line, " \t")] == '\0')
		return;
	(void)history(self->history, &event, H_ENTER, line);
	if (self->history_path != NULL)
		(void)history(self->history, &event, H_SAVE, self->history_path);
}

static gchar *
osqi_editline_read(gpointer user_data, gboolean continuation, gboolean *interrupted)
{
	OsqiEditline *self = user_data;
	const char *text;
	gchar *line;
	int count = 0;

	self->prompt = continuation ? "   ...> " : "osq> ";
	(void)self->hooks.take_interrupt();
	errno = 0;
	text = el_gets(self->el, &count);
	if (text == NULL || count <= 0) {
		gboolean by_signal = self->hooks.take_interrupt() || errno == EINTR;
		(void)fputc('\n', stdout);
		(void)fflush(stdout);
		*interrupted = by_signal;
		return NULL;
	}
	while (count > 0 && (text[count - 1] == '\n' || text[count - 1] == '\r'))
		count--;
	line = g_strndup(text, (gsize)count);
	editline_remember(self, line);
	return line;
}

const OsqiEditlineModule osqi_editline_module = {
	.header = { .abi_version = OSQI_EDITLINE_MODULE_ABI, .size = sizeof(OsqiEditlineModule) },
	.editline_new = osqi_editline_new,
	.editline_free = osqi_editline_free,
	.editline_read = osqi_editline_read,
};
