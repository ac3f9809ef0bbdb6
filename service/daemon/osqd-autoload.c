/* SPDX-License-Identifier: Apache-2.0
 *
 * Autoloaded extensions (see the header). Children are watched with GLib child watches in the
 * daemon's main context; a restart is a timeout source there too, so everything but stop()
 * runs on the main thread. argv[0] of a child is "osquery extension: <path>", as osquery names
 * its extension processes.
 */
#include "config.h"

#include "osqd-autoload.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "osq-error.h"

#define OSQD_AUTOLOAD_MAX_ENTRIES  256
#define OSQD_AUTOLOAD_BACKOFF_MS   1000
#define OSQD_AUTOLOAD_MAX_BACKOFF  (60 * 1000)
#define OSQD_AUTOLOAD_STABLE_US    ((gint64)60 * G_USEC_PER_SEC)
#define OSQD_AUTOLOAD_TERM_WAIT_MS 2000

typedef struct {
	OsqdAutoload *autoload;
	gchar *path;
	GPid pid;          /* 0 when not running */
	guint watch_id;    /* child watch of pid */
	guint restart_id;  /* pending restart */
	guint backoff_ms;  /* before the next restart */
	gint64 started_at; /* monotonic */
	guint starts;
} OsqdAutoloadEntry;

struct _OsqdAutoload {
	GPtrArray *entries;
	gchar *socket_path;
	gchar *timeout;
	gchar *interval;
	gboolean verbose;
	gboolean stopping;
};

static void autoload_spawn(OsqdAutoloadEntry *entry);

static void
entry_free(gpointer data)
{
	OsqdAutoloadEntry *entry = data;

	g_free(entry->path);
	g_free(entry);
}

static gboolean
autoload_check_owner(const gchar *what, const gchar *path, const struct stat *st, GError **error)
{
	if (st->st_uid != 0 && st->st_uid != geteuid()) {
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_PERMISSION_DENIED,
		            "%s %s is owned by uid %u, not root", what, path, (guint)st->st_uid);
		return FALSE;
	}
	if ((st->st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_PERMISSION_DENIED,
		            "%s %s may be written by others (mode %04o)", what, path,
		            (guint)(st->st_mode & 07777));
		return FALSE;
	}
	return TRUE;
}

gboolean
osqd_autoload_check_path(const gchar *path, GError **error)
{
	g_autofree gchar *real = NULL;
	g_autofree gchar *directory = NULL;
	struct stat st;

	if (!g_path_is_absolute(path)) {
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_INVALID_ARGUMENT,
		            "extension %s: an absolute path is needed", path);
		return FALSE;
	}
	real = realpath(path, NULL);
	if (real == NULL || stat(real, &st) != 0) {
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_NOT_FOUND, "extension %s: %s", path,
		            g_strerror(errno));
		return FALSE;
	}
	if (!S_ISREG(st.st_mode) || (st.st_mode & S_IXUSR) == 0) {
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_INVALID_ARGUMENT,
		            "extension %s is not an executable file", path);
		return FALSE;
	}
	if (!autoload_check_owner("extension", real, &st, error))
		return FALSE;
	directory = g_path_get_dirname(real);
	if (stat(directory, &st) != 0) {
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_NOT_FOUND, "directory %s: %s", directory,
		            g_strerror(errno));
		return FALSE;
	}
	return autoload_check_owner("directory", directory, &st, error);
}

OsqdAutoload *
osqd_autoload_new(const gchar *list_path, const OsqdAutoloadConfig *config, GError **error)
{
	g_autoptr(OsqdAutoload) autoload = g_new0(OsqdAutoload, 1);
	g_autofree gchar *contents = NULL;
	g_auto(GStrv) lines = NULL;

	autoload->entries = g_ptr_array_new_with_free_func(entry_free);
	autoload->socket_path = g_strdup(config->socket_path);
	autoload->timeout = g_strdup(config->timeout);
	autoload->interval = g_strdup(config->interval);
	autoload->verbose = config->verbose;
	if (!g_file_get_contents(list_path, &contents, NULL, error)) {
		g_prefix_error(error, "--extensions_autoload: ");
		return NULL;
	}
	lines = g_strsplit(contents, "\n", -1);
	for (guint i = 0; lines[i] != NULL; i++) {
		g_autoptr(GError) error_local = NULL;
		gchar *line = g_strstrip(lines[i]);
		OsqdAutoloadEntry *entry;
		if (line[0] == '\0' || line[0] == '#')
			continue;
		if (autoload->entries->len >= OSQD_AUTOLOAD_MAX_ENTRIES) {
			g_warning("%s: more than %d extensions, the rest are ignored", list_path,
			          OSQD_AUTOLOAD_MAX_ENTRIES);
			break;
		}
		if (!osqd_autoload_check_path(line, &error_local)) {
			g_warning("not loading an extension: %s", error_local->message);
			continue;
		}
		entry = g_new0(OsqdAutoloadEntry, 1);
		entry->autoload = autoload;
		entry->path = g_strdup(line);
		entry->backoff_ms = OSQD_AUTOLOAD_BACKOFF_MS;
		g_ptr_array_add(autoload->entries, entry);
	}
	return g_steal_pointer(&autoload);
}

guint
osqd_autoload_get_count(OsqdAutoload *autoload)
{
	return autoload->entries->len;
}

static gboolean
autoload_restart_cb(gpointer data)
{
	OsqdAutoloadEntry *entry = data;

	entry->restart_id = 0;
	if (!entry->autoload->stopping)
		autoload_spawn(entry);
	return G_SOURCE_REMOVE;
}

static void
autoload_schedule_restart(OsqdAutoloadEntry *entry)
{
	if (g_get_monotonic_time() - entry->started_at >= OSQD_AUTOLOAD_STABLE_US)
		entry->backoff_ms = OSQD_AUTOLOAD_BACKOFF_MS;
	g_message("restarting extension %s in %u ms", entry->path, entry->backoff_ms);
	entry->restart_id = g_timeout_add(entry->backoff_ms, autoload_restart_cb, entry);
	entry->backoff_ms = MIN(entry->backoff_ms * 2, OSQD_AUTOLOAD_MAX_BACKOFF);
}

static void
autoload_exited_cb(GPid pid, gint status, gpointer data)
{
	OsqdAutoloadEntry *entry = data;
	g_autoptr(GError) error = NULL;

	g_spawn_close_pid(pid);
	entry->pid = 0;
	entry->watch_id = 0;
	if (g_spawn_check_wait_status(status, &error))
		g_message("extension %s (pid %d) exited", entry->path, (gint)pid);
	else
		g_warning("extension %s (pid %d) ended: %s", entry->path, (gint)pid,
		          error->message);
	if (!entry->autoload->stopping)
		autoload_schedule_restart(entry);
}

static void
autoload_spawn(OsqdAutoloadEntry *entry)
{
	OsqdAutoload *autoload = entry->autoload;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *name = g_strdup_printf("osquery extension: %s", entry->path);
	g_autoptr(GPtrArray) argv = g_ptr_array_new();

	g_ptr_array_add(argv, entry->path);
	g_ptr_array_add(argv, name);
	g_ptr_array_add(argv, "--socket");
	g_ptr_array_add(argv, autoload->socket_path);
	g_ptr_array_add(argv, "--timeout");
	g_ptr_array_add(argv, autoload->timeout);
	g_ptr_array_add(argv, "--interval");
	g_ptr_array_add(argv, autoload->interval);
	if (autoload->verbose)
		g_ptr_array_add(argv, "--verbose");
	g_ptr_array_add(argv, NULL);
	entry->started_at = g_get_monotonic_time();
	entry->starts++;
	if (!g_spawn_async(NULL, (gchar **)argv->pdata, NULL,
	                   G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_FILE_AND_ARGV_ZERO |
	                           G_SPAWN_STDIN_FROM_DEV_NULL,
	                   NULL, NULL, &entry->pid, &error)) {
		g_warning("cannot start extension %s: %s", entry->path, error->message);
		entry->pid = 0;
		autoload_schedule_restart(entry);
		return;
	}
	g_message("started extension %s (pid %d)", entry->path, (gint)entry->pid);
	entry->watch_id = g_child_watch_add(entry->pid, autoload_exited_cb, entry);
}

void
osqd_autoload_start(OsqdAutoload *autoload)
{
	for (guint i = 0; i < autoload->entries->len; i++)
		autoload_spawn(autoload->entries->pdata[i]);
}

/* Reaps @pid within @ms; TRUE when it is gone. */
static gboolean
autoload_reap(GPid pid, guint ms)
{
	gint64 deadline = g_get_monotonic_time() + (gint64)ms * 1000;

	for (;;) {
		pid_t rc = waitpid(pid, NULL, WNOHANG);
		if (rc == pid || (rc < 0 && errno == ECHILD))
			return TRUE;
		if (g_get_monotonic_time() >= deadline)
			return FALSE;
		g_usleep(10 * 1000);
	}
}

void
osqd_autoload_stop(OsqdAutoload *autoload)
{
	autoload->stopping = TRUE;
	for (guint i = 0; i < autoload->entries->len; i++) {
		OsqdAutoloadEntry *entry = autoload->entries->pdata[i];
		if (entry->restart_id != 0)
			g_source_remove(entry->restart_id);
		entry->restart_id = 0;
		if (entry->pid == 0)
			continue;
		/* the child is reaped here, not by the watch */
		if (entry->watch_id != 0)
			g_source_remove(entry->watch_id);
		entry->watch_id = 0;
		(void)kill(entry->pid, SIGTERM);
	}
	for (guint i = 0; i < autoload->entries->len; i++) {
		OsqdAutoloadEntry *entry = autoload->entries->pdata[i];
		if (entry->pid == 0)
			continue;
		if (!autoload_reap(entry->pid, OSQD_AUTOLOAD_TERM_WAIT_MS)) {
			g_warning("extension %s (pid %d) ignored SIGTERM: killing it", entry->path,
			          (gint)entry->pid);
			(void)kill(entry->pid, SIGKILL);
			(void)autoload_reap(entry->pid, OSQD_AUTOLOAD_TERM_WAIT_MS);
		}
		g_spawn_close_pid(entry->pid);
		entry->pid = 0;
	}
}

void
osqd_autoload_free(OsqdAutoload *autoload)
{
	if (autoload == NULL)
		return;
	if (!autoload->stopping)
		osqd_autoload_stop(autoload);
	g_ptr_array_unref(autoload->entries);
	g_free(autoload->socket_path);
	g_free(autoload->timeout);
	g_free(autoload->interval);
	g_free(autoload);
}
