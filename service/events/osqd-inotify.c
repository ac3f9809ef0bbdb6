/* SPDX-License-Identifier: Apache-2.0
 *
 * The inotify publisher (see the header). A watch is one directory (or file) with every
 * subscription that placed it there: a category and one of its plans. configure builds the
 * wanted set of watches from scratch, then adds what is new and removes what is gone, under the
 * lock the reading thread takes per buffer; one mask per path covers all its subscriptions.
 * Two threads: the publisher's thread only drains the kernel queue into a backlog of raw
 * buffers (a copy per read, bounded), so a burst does not overflow the kernel's small queue
 * while rows are being built; a second thread turns the backlog into rows (stat(), hashes).
 * A backlog past its bound drops whole reads, counted exactly (queue_full), unlike a kernel
 * overflow, which does not say how much it dropped.
 */
#include "config.h"

#include "osqd-inotify.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "osq-error.h"
#include "osqd-file-paths.h"
#include "osqd-tables-generated.h"

#define INOTIFY_BUFFER_SIZE (256 * 1024)
#define INOTIFY_HASH_MAX    (50 * 1024 * 1024)
#define INOTIFY_WATCHES_MAX 1000000
#define INOTIFY_BACKLOG_MAX (128 * 1024 * 1024)
#define INOTIFY_GATHER_US   1000
#define INOTIFY_MASK                                                                               \
	(IN_MOVED_TO | IN_MOVED_FROM | IN_MODIFY | IN_DELETE | IN_CREATE | IN_CLOSE_WRITE |        \
	 IN_ATTRIB)
#define INOTIFY_ACCESS_MASK (IN_OPEN | IN_ACCESS)

typedef struct {
	gchar *category;
	OsqdFilePath *plan; /* owned by the publisher's plan list */
	gboolean access;
} InotifySubscription;

typedef struct {
	gint wd;
	gchar *path; /* host path, no trailing slash (except "/") */
	guint32 mask;
	GPtrArray *subscriptions; /* InotifySubscription, shared with other watches */
} InotifyWatch;

typedef struct {
	gint fd;
	gchar *root;
	gboolean hash;
	OsqdEventSubscriber *subscriber;
	OsqdEventPublisher *publisher;
	GMutex lock;
	GHashTable *by_wd;        /* wd -> InotifyWatch */
	GHashTable *by_path;      /* path -> InotifyWatch (the same) */
	GPtrArray *subscriptions; /* InotifySubscription, owned */
	GPtrArray *plans;         /* OsqdFilePath, owned */
	GHashTable *excludes;     /* category -> GPtrArray of patterns (owned copies) */
	guint8 *buffer;
	/* reads waiting to become rows */
	GMutex backlog_lock;
	GCond backlog_cond;
	GQueue backlog; /* GBytes */
	gsize backlog_bytes;
	gboolean backlog_done;
} InotifyData;

static void
inotify_subscription_free(InotifySubscription *sub)
{
	g_free(sub->category);
	g_free(sub);
}

static void
inotify_watch_free(InotifyWatch *watch)
{
	g_free(watch->path);
	g_ptr_array_unref(watch->subscriptions);
	g_free(watch);
}

static void
inotify_data_free(gpointer user_data)
{
	InotifyData *data = user_data;

	if (data->fd >= 0)
		(void)close(data->fd);
	g_hash_table_unref(data->by_path);
	g_hash_table_unref(data->by_wd);
	g_ptr_array_unref(data->subscriptions);
	g_ptr_array_unref(data->plans);
	g_hash_table_unref(data->excludes);
	g_mutex_clear(&data->lock);
	g_queue_clear_full(&data->backlog, (GDestroyNotify)g_bytes_unref);
	g_mutex_clear(&data->backlog_lock);
	g_cond_clear(&data->backlog_cond);
	g_free(data->buffer);
	g_free(data->root);
	g_free(data);
}

/* The path on this machine's file system (the root prefix in front). */
static gchar *
inotify_real_path(InotifyData *data, const gchar *path)
{
	if (data->root[0] == '\0')
		return g_strdup(path);
	return g_strconcat(data->root, path, NULL);
}

static gboolean
inotify_setup(OsqdEventPublisher *publisher, GError **error)
{
	InotifyData *data = osqd_event_publisher_get_data(publisher);

	data->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (data->fd < 0) {
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_IO, "inotify_init1: %s", g_strerror(errno));
		return FALSE;
	}
	return TRUE;
}

/* ---- configure ---- */

typedef struct {
	GHashTable *wanted; /* path -> InotifyWatch (wd -1), the new set */
} InotifyPlanSet;

static void
inotify_want(GHashTable *wanted, const gchar *path, guint32 mask, InotifySubscription *sub)
{
	InotifyWatch *watch = g_hash_table_lookup(wanted, path);

	if (watch == NULL) {
		watch = g_new0(InotifyWatch, 1);
		watch->wd = -1;
		watch->path = g_strdup(path);
		watch->subscriptions = g_ptr_array_new();
		g_hash_table_insert(wanted, watch->path, watch);
	}
	watch->mask |= mask;
	if (!g_ptr_array_find(watch->subscriptions, sub, NULL))
		g_ptr_array_add(watch->subscriptions, sub);
}

/* Every directory at or below @path (host paths), for a %% subscription; bounded. */
static void
inotify_want_tree(InotifyData *data, GHashTable *wanted, const gchar *path, guint32 mask,
                  InotifySubscription *sub, guint depth)
{
	g_autofree gchar *real = inotify_real_path(data, path);
	g_autoptr(GDir) dir = NULL;
	const gchar *name;

	inotify_want(wanted, path, mask, sub);
	if (depth > 64 || g_hash_table_size(wanted) >= INOTIFY_WATCHES_MAX)
		return;
	dir = g_dir_open(real, 0, NULL);
	while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
		g_autofree gchar *child = g_build_filename(path, name, NULL);
		g_autofree gchar *real_child = g_build_filename(real, name, NULL);
		struct stat st;

		if (lstat(real_child, &st) == 0 && S_ISDIR(st.st_mode))
			inotify_want_tree(data, wanted, child, mask, sub, depth + 1);
	}
}

/* by_wd owns the watch: it goes last */
static void
inotify_remove_watch(InotifyData *data, InotifyWatch *watch)
{
	gint wd = watch->wd;

	(void)g_hash_table_remove(data->by_path, watch->path);
	(void)inotify_rm_watch(data->fd, wd);
	(void)g_hash_table_remove(data->by_wd, GINT_TO_POINTER(wd));
}

/* Adds (or updates) the kernel watch for @watch; FALSE when the path cannot be watched. */
static gboolean
inotify_add_watch_now(InotifyData *data, InotifyWatch *watch)
{
	g_autofree gchar *real = inotify_real_path(data, watch->path);
	gint wd = inotify_add_watch(data->fd, real, watch->mask);

	if (wd < 0) {
		if (errno == ENOSPC)
			g_warning("file events: no more inotify watches for %s (raise "
			          "fs.inotify.max_user_watches)",
			          watch->path);
		else
			g_debug("file events: cannot watch %s: %s", watch->path, g_strerror(errno));
		return FALSE;
	}
	watch->wd = wd;
	return TRUE;
}

static void
inotify_configure(OsqdEventPublisher *publisher, gpointer config)
{
	InotifyData *data = osqd_event_publisher_get_data(publisher);
	const OsqdInotifyPaths *paths = config;
	g_autoptr(GPtrArray) subscriptions =
	        g_ptr_array_new_with_free_func((GDestroyNotify)inotify_subscription_free);
	g_autoptr(GPtrArray) plans =
	        g_ptr_array_new_with_free_func((GDestroyNotify)osqd_file_path_free);
	g_autoptr(GHashTable) wanted = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
	                                                     (GDestroyNotify)inotify_watch_free);
	g_autoptr(GHashTable) excludes = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
	                                                       (GDestroyNotify)g_ptr_array_unref);
	GHashTableIter iter;
	gpointer key, value;
	g_autoptr(GList) old = NULL;
	guint failed = 0;

	if (paths != NULL && paths->file_paths != NULL) {
		g_autoptr(GList) categories = g_hash_table_get_keys(paths->file_paths);

		categories = g_list_sort(categories, (GCompareFunc)g_strcmp0);
		for (GList *l = categories; l != NULL; l = l->next) {
			const gchar *category = l->data;
			GPtrArray *patterns = g_hash_table_lookup(paths->file_paths, category);
			gboolean access =
			        paths->file_accesses != NULL &&
			        g_ptr_array_find_with_equal_func(paths->file_accesses, category,
			                                         g_str_equal, NULL);

			for (guint i = 0; patterns != NULL && i < patterns->len; i++) {
				g_autoptr(GError) error = NULL;
				g_autoptr(GPtrArray) found =
				        osqd_file_path_plan(patterns->pdata[i], data->root, &error);

				if (found == NULL) {
					g_warning("file events: category %s: %s", category,
					          error->message);
					continue;
				}
				while (found->len > 0) {
					OsqdFilePath *plan = g_ptr_array_steal_index(found, 0);
					InotifySubscription *sub = g_new0(InotifySubscription, 1);
					guint32 mask =
					        INOTIFY_MASK | (access ? INOTIFY_ACCESS_MASK : 0);

					sub->category = g_strdup(category);
					sub->plan = plan;
					sub->access = access;
					g_ptr_array_add(plans, plan);
					g_ptr_array_add(subscriptions, sub);
					if (plan->recursive) {
						inotify_want_tree(data, wanted, plan->watch, mask,
						                  sub, 0);
					} else if (plan->file) {
						/* one entry: its directory is watched and the name
						 * filtered, so the entry is seen when it appears,
						 * and after an editor replaced it */
						g_autofree gchar *parent =
						        g_path_get_dirname(plan->watch);

						inotify_want(wanted, parent, mask, sub);
					} else {
						inotify_want(wanted, plan->watch, mask, sub);
					}
				}
			}
		}
	}
	if (paths != NULL && paths->exclude_paths != NULL) {
		g_hash_table_iter_init(&iter, paths->exclude_paths);
		while (g_hash_table_iter_next(&iter, &key, &value)) {
			GPtrArray *copy = g_ptr_array_new_with_free_func(g_free);

			for (guint i = 0; i < ((GPtrArray *)value)->len; i++)
				g_ptr_array_add(copy, g_strdup(((GPtrArray *)value)->pdata[i]));
			g_hash_table_insert(excludes, g_strdup(key), copy);
		}
	}

	g_mutex_lock(&data->lock);
	/* watches no longer wanted go; the others get the new subscriptions and mask */
	old = g_hash_table_get_values(data->by_path);
	for (GList *l = old; l != NULL; l = l->next) {
		InotifyWatch *watch = l->data;

		if (!g_hash_table_contains(wanted, watch->path))
			inotify_remove_watch(data, watch);
	}
	g_hash_table_iter_init(&iter, wanted);
	while (g_hash_table_iter_next(&iter, &key, &value)) {
		InotifyWatch *want = value;
		InotifyWatch *have = g_hash_table_lookup(data->by_path, want->path);

		if (have != NULL) {
			g_ptr_array_unref(have->subscriptions);
			have->subscriptions = g_ptr_array_ref(want->subscriptions);
			if (have->mask != want->mask) {
				have->mask = want->mask;
				(void)inotify_add_watch_now(data, have);
			}
			continue;
		}
		g_hash_table_iter_steal(&iter);
		if (!inotify_add_watch_now(data, want)) {
			failed++;
			inotify_watch_free(want);
			continue;
		}
		/* two paths of one inode (hard link, bind mount) share a wd: keep the first */
		if (g_hash_table_contains(data->by_wd, GINT_TO_POINTER(want->wd))) {
			inotify_watch_free(want);
			continue;
		}
		g_hash_table_insert(data->by_wd, GINT_TO_POINTER(want->wd), want);
		g_hash_table_insert(data->by_path, want->path, want);
	}
	g_ptr_array_unref(data->subscriptions);
	data->subscriptions = g_steal_pointer(&subscriptions);
	g_ptr_array_unref(data->plans);
	data->plans = g_steal_pointer(&plans);
	g_hash_table_unref(data->excludes);
	data->excludes = g_steal_pointer(&excludes);
	osqd_event_publisher_set_subscriptions(publisher, g_hash_table_size(data->by_wd));
	g_mutex_unlock(&data->lock);
	if (failed > 0)
		g_debug("file events: %u paths could not be watched (missing?)", failed);
}

/* ---- events ---- */

static void
inotify_hash(OsqdEventRow *row, const gchar *real, const struct stat *st)
{
	static const struct {
		GChecksumType type;
		guint column;
	} kinds[] = {
		{ G_CHECKSUM_MD5, OSQD_FILE_EVENTS_COL_MD5 },
		{ G_CHECKSUM_SHA1, OSQD_FILE_EVENTS_COL_SHA1 },
		{ G_CHECKSUM_SHA256, OSQD_FILE_EVENTS_COL_SHA256 },
	};
	GChecksum *sums[G_N_ELEMENTS(kinds)];
	guint8 buffer[65536];
	gint fd;
	gssize n;
	gboolean ok = TRUE;

	if (st->st_size > INOTIFY_HASH_MAX) {
		osqd_event_row_set_int(row, OSQD_FILE_EVENTS_COL_HASHED, 0);
		return;
	}
	fd = open(real, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0) {
		osqd_event_row_set_int(row, OSQD_FILE_EVENTS_COL_HASHED, -1);
		return;
	}
	for (gsize i = 0; i < G_N_ELEMENTS(kinds); i++)
		sums[i] = g_checksum_new(kinds[i].type);
	while ((n = read(fd, buffer, sizeof(buffer))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			ok = FALSE;
			break;
		}
		for (gsize i = 0; i < G_N_ELEMENTS(kinds); i++)
			g_checksum_update(sums[i], buffer, (gsize)n);
	}
	(void)close(fd);
	for (gsize i = 0; i < G_N_ELEMENTS(kinds); i++) {
		if (ok)
			osqd_event_row_set_text(row, kinds[i].column,
			                        g_checksum_get_string(sums[i]));
		g_checksum_free(sums[i]);
	}
	osqd_event_row_set_int(row, OSQD_FILE_EVENTS_COL_HASHED, ok ? 1 : -1);
}

static OsqdEventRow *
inotify_row(InotifyData *data, const gchar *path, const gchar *category, const gchar *action,
            const struct inotify_event *event, gboolean access, gboolean *have_stat,
            struct stat *st)
{
	OsqdEventRow *row = osqd_event_row_new(data->subscriber);
	g_autofree gchar *real = NULL;

	osqd_event_row_set_text(row, OSQD_FILE_EVENTS_COL_TARGET_PATH, path);
	osqd_event_row_set_text(row, OSQD_FILE_EVENTS_COL_CATEGORY, category);
	osqd_event_row_set_text(row, OSQD_FILE_EVENTS_COL_ACTION, action);
	osqd_event_row_set_int(row, OSQD_FILE_EVENTS_COL_TRANSACTION_ID, event->cookie);
	osqd_event_row_set_int(row, OSQD_FILE_EVENTS_COL_HASHED, 0);
	if (*have_stat) {
		osqd_event_row_set_int(row, OSQD_FILE_EVENTS_COL_INODE, (gint64)st->st_ino);
		osqd_event_row_set_int(row, OSQD_FILE_EVENTS_COL_UID, st->st_uid);
		osqd_event_row_set_int(row, OSQD_FILE_EVENTS_COL_GID, st->st_gid);
		osqd_event_row_take_text(row, OSQD_FILE_EVENTS_COL_MODE,
		                         g_strdup_printf("%04o", st->st_mode & 07777));
		osqd_event_row_set_int(row, OSQD_FILE_EVENTS_COL_SIZE, st->st_size);
		osqd_event_row_set_int(row, OSQD_FILE_EVENTS_COL_ATIME, st->st_atime);
		osqd_event_row_set_int(row, OSQD_FILE_EVENTS_COL_MTIME, st->st_mtime);
		osqd_event_row_set_int(row, OSQD_FILE_EVENTS_COL_CTIME, st->st_ctime);
	}
	if (data->hash && !access &&
	    (event->mask & (IN_CREATE | IN_MODIFY | IN_CLOSE_WRITE)) != 0 &&
	    (event->mask & IN_ISDIR) == 0) {
		if (!*have_stat) {
			osqd_event_row_set_int(row, OSQD_FILE_EVENTS_COL_HASHED, -1);
		} else if (S_ISREG(st->st_mode)) {
			real = inotify_real_path(data, path);
			inotify_hash(row, real, st);
		}
	}
	return row;
}

/* A new directory under a recursive watch: watch it (and what is already inside it). */
static void
inotify_follow_directory(InotifyData *data, InotifyWatch *parent, const gchar *path)
{
	g_autoptr(GHashTable) wanted = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
	                                                     (GDestroyNotify)inotify_watch_free);
	GHashTableIter iter;
	gpointer value;

	for (guint i = 0; i < parent->subscriptions->len; i++) {
		InotifySubscription *sub = parent->subscriptions->pdata[i];

		if (sub->plan->recursive)
			inotify_want_tree(data, wanted, path, parent->mask, sub, 0);
	}
	g_hash_table_iter_init(&iter, wanted);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		InotifyWatch *want = value;

		if (g_hash_table_contains(data->by_path, want->path))
			continue;
		g_hash_table_iter_steal(&iter);
		if (!inotify_add_watch_now(data, want) ||
		    g_hash_table_contains(data->by_wd, GINT_TO_POINTER(want->wd))) {
			inotify_watch_free(want);
			continue;
		}
		g_hash_table_insert(data->by_wd, GINT_TO_POINTER(want->wd), want);
		g_hash_table_insert(data->by_path, want->path, want);
	}
}

static void
inotify_handle(InotifyData *data, const struct inotify_event *event)
{
	InotifyWatch *watch;
	g_autofree gchar *path = NULL;
	g_autoptr(GPtrArray) done = NULL;
	const gchar *action;
	struct stat st;
	gboolean have_stat = FALSE;
	gboolean stat_tried = FALSE;

	if ((event->mask & IN_Q_OVERFLOW) != 0) {
		osqd_event_publisher_count_loss(data->publisher, OSQD_EVENT_LOSS_KERNEL_OVERFLOW, 1,
		                                FALSE);
		return;
	}
	watch = g_hash_table_lookup(data->by_wd, GINT_TO_POINTER(event->wd));
	if (watch == NULL)
		return;
	if ((event->mask & IN_IGNORED) != 0) {
		/* the kernel dropped the watch (its path was deleted or unmounted) */
		(void)g_hash_table_remove(data->by_path, watch->path);
		(void)g_hash_table_remove(data->by_wd, GINT_TO_POINTER(event->wd));
		osqd_event_publisher_set_subscriptions(data->publisher,
		                                       g_hash_table_size(data->by_wd));
		return;
	}
	if (event->len > 0 && event->name[0] != '\0')
		path = strcmp(watch->path, "/") == 0
		               ? g_strconcat("/", event->name, NULL)
		               : g_strconcat(watch->path, "/", event->name, NULL);
	else
		path = g_strdup(watch->path);
	if ((event->mask & IN_ISDIR) != 0 && (event->mask & (IN_CREATE | IN_MOVED_TO)) != 0)
		inotify_follow_directory(data, watch, path);
	action = osqd_file_action(event->mask);
	if (action == NULL)
		return;
	for (guint i = 0; i < watch->subscriptions->len; i++) {
		InotifySubscription *sub = watch->subscriptions->pdata[i];
		GPtrArray *excludes;

		if (!sub->access && (event->mask & (INOTIFY_MASK)) == 0)
			continue;
		if (done != NULL &&
		    g_ptr_array_find_with_equal_func(done, sub->category, g_str_equal, NULL))
			continue;
		if (!osqd_file_path_matches(sub->plan, path))
			continue;
		excludes = g_hash_table_lookup(data->excludes, sub->category);
		if (excludes != NULL && osqd_file_path_excluded(excludes, path))
			continue;
		if (!stat_tried) {
			g_autofree gchar *real = inotify_real_path(data, path);

			have_stat = stat(real, &st) == 0;
			stat_tried = TRUE;
		}
		osqd_event_subscriber_add(data->subscriber,
		                          inotify_row(data, path, sub->category, action, event,
		                                      sub->access, &have_stat, &st));
		if (done == NULL)
			done = g_ptr_array_new();
		g_ptr_array_add(done, sub->category);
	}
}

/* The events of one read, in order; @handle NULL only counts them. */
static guint64
inotify_each_event(InotifyData *data, const guint8 *buffer, gsize n,
                   void (*handle)(InotifyData *data, const struct inotify_event *event))
{
	guint64 count = 0;

	for (gsize offset = 0; offset + sizeof(struct inotify_event) <= n;) {
		struct inotify_event header;
		const struct inotify_event *event = (const struct inotify_event *)(buffer + offset);

		memcpy(&header, buffer + offset, sizeof(header));
		offset += sizeof(struct inotify_event) + header.len;
		if (offset > n)
			break;
		count++;
		if (handle != NULL)
			handle(data, event);
	}
	return count;
}

/* The second thread: the backlog, read by read, into rows. */
static gpointer
inotify_rows_thread(gpointer user_data)
{
	InotifyData *data = user_data;

	g_mutex_lock(&data->backlog_lock);
	for (;;) {
		GBytes *chunk;
		gsize size = 0;
		const guint8 *bytes;

		while (g_queue_is_empty(&data->backlog) && !data->backlog_done)
			g_cond_wait(&data->backlog_cond, &data->backlog_lock);
		chunk = g_queue_pop_head(&data->backlog);
		if (chunk == NULL)
			break;
		data->backlog_bytes -= g_bytes_get_size(chunk);
		g_mutex_unlock(&data->backlog_lock);
		bytes = g_bytes_get_data(chunk, &size);
		g_mutex_lock(&data->lock);
		(void)inotify_each_event(data, bytes, size, inotify_handle);
		g_mutex_unlock(&data->lock);
		g_bytes_unref(chunk);
		g_mutex_lock(&data->backlog_lock);
	}
	g_mutex_unlock(&data->backlog_lock);
	return NULL;
}

static void
inotify_run(OsqdEventPublisher *publisher)
{
	InotifyData *data = osqd_event_publisher_get_data(publisher);
	GThread *rows;

	data->backlog_done = FALSE;
	rows = g_thread_new("osqd-file-rows", inotify_rows_thread, data);
	while (!osqd_event_publisher_stopping(publisher)) {
		struct pollfd pfd = { .fd = data->fd, .events = POLLIN };
		gboolean full;
		gssize n;

		if (poll(&pfd, 1, 200) <= 0)
			continue;
		n = read(data->fd, data->buffer, INOTIFY_BUFFER_SIZE);
		if (n <= 0)
			continue;
		g_mutex_lock(&data->backlog_lock);
		full = data->backlog_bytes + (gsize)n > INOTIFY_BACKLOG_MAX;
		if (!full) {
			g_queue_push_tail(&data->backlog, g_bytes_new(data->buffer, (gsize)n));
			data->backlog_bytes += (gsize)n;
			g_cond_signal(&data->backlog_cond);
		}
		g_mutex_unlock(&data->backlog_lock);
		if (full)
			osqd_event_publisher_count_loss(
			        publisher, OSQD_EVENT_LOSS_QUEUE_FULL,
			        inotify_each_event(data, data->buffer, (gsize)n, NULL), TRUE);
		/* a small read during a burst: let events gather for a millisecond rather than
		 * wake both threads for each few of them (the kernel queues 16,384 by default) */
		if ((gsize)n < INOTIFY_BUFFER_SIZE / 4)
			g_usleep(INOTIFY_GATHER_US);
	}
	/* what was read still becomes rows */
	g_mutex_lock(&data->backlog_lock);
	data->backlog_done = TRUE;
	g_cond_signal(&data->backlog_cond);
	g_mutex_unlock(&data->backlog_lock);
	g_thread_join(rows);
}

static void
inotify_teardown(OsqdEventPublisher *publisher)
{
	InotifyData *data = osqd_event_publisher_get_data(publisher);

	g_mutex_lock(&data->lock);
	g_hash_table_remove_all(data->by_path);
	g_hash_table_remove_all(data->by_wd);
	if (data->fd >= 0)
		(void)close(data->fd);
	data->fd = -1;
	g_mutex_unlock(&data->lock);
}

const OsqdEventPublisherClass osqd_inotify_class = {
	.name = "inotify",
	.setup = inotify_setup,
	.configure = inotify_configure,
	.run = inotify_run,
	.teardown = inotify_teardown,
	.free_data = inotify_data_free,
};

OsqdEventPublisher *
osqd_inotify_add(OsqdEvents *events, const gchar *root, gboolean hash, GError **error)
{
	InotifyData *data = g_new0(InotifyData, 1);
	OsqdEventPublisher *publisher;

	data->fd = -1;
	data->root = g_strdup(root == NULL || g_strcmp0(root, "/") == 0 ? "" : root);
	data->hash = hash;
	g_mutex_init(&data->lock);
	g_mutex_init(&data->backlog_lock);
	g_cond_init(&data->backlog_cond);
	g_queue_init(&data->backlog);
	/* by_wd owns the watches; by_path indexes the same ones */
	data->by_wd = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL,
	                                    (GDestroyNotify)inotify_watch_free);
	data->by_path = g_hash_table_new(g_str_hash, g_str_equal);
	data->subscriptions = g_ptr_array_new();
	data->plans = g_ptr_array_new();
	data->excludes = g_hash_table_new(g_str_hash, g_str_equal);
	data->buffer = g_malloc(INOTIFY_BUFFER_SIZE);
	publisher = osqd_events_add_publisher(events, &osqd_inotify_class, data);
	data->publisher = publisher;
	data->subscriber = osqd_events_add_subscriber(events, publisher, "file_events", error);
	if (data->subscriber == NULL)
		return NULL;
	return publisher;
}

guint
osqd_inotify_get_n_watches(OsqdEventPublisher *publisher)
{
	InotifyData *data = osqd_event_publisher_get_data(publisher);
	guint n;

	g_mutex_lock(&data->lock);
	n = g_hash_table_size(data->by_wd);
	g_mutex_unlock(&data->lock);
	return n;
}
