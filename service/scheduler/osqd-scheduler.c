/* SPDX-License-Identifier: Apache-2.0
 *
 * The scheduler (see the header). One mutex guards the table of queries; a run works on a copy
 * of its entry, so a config reload during a run is safe (the run finishes with what it had).
 * Worker threads belong to this scheduler's pool alone and keep one engine each (thread-private),
 * freed when the pool's threads end.
 */
#include "config.h"

#include "osqd-scheduler.h"

#include <string.h>

#include "osq-error.h"
#include "osq-store.pb-c.h"

typedef struct {
	OsqdScheduleEntry *entry;
	guint splayed;
	gboolean running;
	gint64 denylisted_until; /* unix time; 0: not denylisted */
	OsqdScheduleStats stats;
} OsqdScheduled;

struct _OsqdScheduler {
	GMutex mutex;
	GCond cond;
	OsqdRegistry *registry;
	OsqdStore *store;
	OsqdSchedulerConfig config;
	GHashTable *queries; /* name -> OsqdScheduled */
	GThread *tick;
	gboolean stopping;
	GThreadPool *pool;
	GRand *rand;
};

static void
scheduler_engine_free_cb(gpointer engine)
{
	osqd_engine_free(engine);
}

/* one key per process is enough: pool threads belong to one scheduler at a time */
static GPrivate osqd_scheduler_engine = G_PRIVATE_INIT(scheduler_engine_free_cb);

OsqdScheduleEntry *
osqd_schedule_entry_new(const gchar *name, const gchar *sql, guint interval)
{
	OsqdScheduleEntry *entry = g_new0(OsqdScheduleEntry, 1);

	entry->name = g_strdup(name);
	entry->sql = g_strdup(sql);
	entry->interval = MAX(interval, 1);
	entry->removed = TRUE;
	entry->denylist = TRUE;
	return entry;
}

void
osqd_schedule_entry_free(OsqdScheduleEntry *entry)
{
	if (entry == NULL)
		return;
	g_free(entry->name);
	g_free(entry->sql);
	g_free(entry->pack);
	g_free(entry);
}

static OsqdScheduleEntry *
entry_copy(const OsqdScheduleEntry *entry)
{
	OsqdScheduleEntry *copy = osqd_schedule_entry_new(entry->name, entry->sql, entry->interval);

	copy->pack = g_strdup(entry->pack);
	copy->snapshot = entry->snapshot;
	copy->removed = entry->removed;
	copy->denylist = entry->denylist;
	return copy;
}

void
osqd_schedule_stats_free(OsqdScheduleStats *stats)
{
	if (stats == NULL)
		return;
	g_free(stats->name);
	g_free(stats->sql);
	g_free(stats->last_error);
	g_free(stats);
}

static void
scheduled_free(gpointer data)
{
	OsqdScheduled *scheduled = data;

	osqd_schedule_entry_free(scheduled->entry);
	g_free(scheduled->stats.last_error);
	g_free(scheduled);
}

guint
osqd_scheduler_splay(guint interval, guint percent, GRand *rand)
{
	guint64 spread = (guint64)interval * MIN(percent, 100) / 100;
	guint64 low = interval > spread ? interval - spread : 1;
	guint64 high = (guint64)interval + spread;

	low = MAX(low, 1);
	if (high <= low)
		return (guint)low;
	return (guint)(low +
	               (guint64)g_rand_int_range(rand, 0, (gint32)MIN(high - low + 1, G_MAXINT32)));
}

/* The splayed interval of @entry: the stored one while the interval is the same, else a new one
 * (stored). */
static guint
scheduler_splay_for(OsqdScheduler *scheduler, const OsqdScheduleEntry *entry)
{
	g_autoptr(GBytes) bytes = NULL;
	Osq__Store__Splay splay = OSQ__STORE__SPLAY__INIT;
	guint splayed;

	if (osqd_store_get(scheduler->store, "splay", entry->name, &bytes, NULL) && bytes != NULL) {
		gsize len = 0;
		const guint8 *data = g_bytes_get_data(bytes, &len);
		Osq__Store__Splay *stored = osq__store__splay__unpack(NULL, len, data);
		if (stored != NULL) {
			gboolean same = stored->interval == entry->interval && stored->splayed > 0;
			splayed = stored->splayed;
			osq__store__splay__free_unpacked(stored, NULL);
			if (same)
				return splayed;
		}
	}
	splayed = osqd_scheduler_splay(entry->interval, scheduler->config.splay_percent,
	                               scheduler->rand);
	splay.interval = entry->interval;
	splay.splayed = splayed;
	{
		gsize size = osq__store__splay__get_packed_size(&splay);
		guint8 *data = g_malloc(MAX(size, 1));
		g_autoptr(GBytes) packed = NULL;
		(void)osq__store__splay__pack(&splay, data);
		packed = g_bytes_new_take(data, size);
		(void)osqd_store_put(scheduler->store, "splay", entry->name, packed, NULL);
	}
	return splayed;
}

/* ---- denylist (domain "denylist": query name -> expiry, unix seconds as text) ---- */

static void
scheduler_store_denylist(OsqdScheduler *scheduler, const gchar *name, gint64 until)
{
	g_autofree gchar *text = until > 0 ? g_strdup_printf("%" G_GINT64_FORMAT, until) : NULL;
	g_autoptr(GBytes) bytes = text != NULL ? g_bytes_new(text, strlen(text)) : NULL;

	(void)osqd_store_put(scheduler->store, "denylist", name, bytes, NULL);
}

static gint64
scheduler_load_denylist(OsqdScheduler *scheduler, const gchar *name)
{
	g_autoptr(GBytes) bytes = NULL;
	g_autofree gchar *text = NULL;

	if (!osqd_store_get(scheduler->store, "denylist", name, &bytes, NULL) || bytes == NULL)
		return 0;
	text = g_strndup(g_bytes_get_data(bytes, NULL), g_bytes_get_size(bytes));
	return g_ascii_strtoll(text, NULL, 10);
}

/* ---- runs ---- */

static OsqdEngine *
scheduler_thread_engine(OsqdScheduler *scheduler, GError **error)
{
	OsqdEngine *engine = g_private_get(&osqd_scheduler_engine);

	if (engine != NULL && osqd_engine_get_registry(engine) == scheduler->registry)
		return engine;
	engine = osqd_engine_new(scheduler->registry, error);
	if (engine != NULL)
		g_private_replace(&osqd_scheduler_engine, engine);
	return engine;
}

/* Runs @entry (a copy) on @engine and books the outcome. */
static gboolean
scheduler_run(OsqdScheduler *scheduler, OsqdEngine *engine, const OsqdScheduleEntry *entry,
              GError **error)
{
	g_autoptr(OsqdRunResult) result = NULL;
	OsqdRunQuery query = { entry->name, entry->sql, entry->snapshot, entry->removed };
	OsqdRunParams params = {
		.epoch = scheduler->config.epoch,
		.timeout_ms = scheduler->config.timeout_ms,
		.cpu_limit_ms = scheduler->config.cpu_limit_ms,
		.max_output = scheduler->config.max_output,
		.max_pending = scheduler->config.max_pending,
		.format = scheduler->config.format,
		.format_data = scheduler->config.format_data,
	};
	gboolean ok = osqd_run_query(engine, scheduler->store, &query, &params, &result, error);
	gboolean over_budget = !ok && (g_error_matches(*error, OSQ_ERROR, OSQ_ERROR_TIMED_OUT) ||
	                               g_error_matches(*error, OSQ_ERROR, OSQ_ERROR_LIMIT));
	gint64 until = 0;
	OsqdScheduled *scheduled;

	if (over_budget && entry->denylist && scheduler->config.denylist_s > 0) {
		until = g_get_real_time() / G_USEC_PER_SEC + scheduler->config.denylist_s;
		scheduler_store_denylist(scheduler, entry->name, until);
		g_warning("scheduled query %s is denylisted for %u s: %s", entry->name,
		          scheduler->config.denylist_s, (*error)->message);
	}

	g_mutex_lock(&scheduler->mutex);
	scheduled = g_hash_table_lookup(scheduler->queries, entry->name);
	if (scheduled != NULL) {
		scheduled->stats.executions++;
		scheduled->stats.last_executed = g_get_real_time() / G_USEC_PER_SEC;
		if (result != NULL) {
			OsqdScheduleStats *stats = &scheduled->stats;
			stats->last_wall_time_ms = (guint64)result->wall_us / 1000;
			stats->last_user_time_ms = (guint64)result->user_us / 1000;
			stats->last_system_time_ms = (guint64)result->system_us / 1000;
			stats->last_memory = (guint64)result->rss_bytes;
			stats->wall_time_ms += stats->last_wall_time_ms;
			stats->user_time_ms += stats->last_user_time_ms;
			stats->system_time_ms += stats->last_system_time_ms;
			stats->total_memory += stats->last_memory;
			stats->output_size += result->output_size;
		}
		if (until > 0) {
			scheduled->denylisted_until = until;
			scheduled->stats.denylisted = TRUE;
		}
		if (!ok) {
			scheduled->stats.failures++;
			g_free(scheduled->stats.last_error);
			scheduled->stats.last_error = g_strdup((*error)->message);
		}
	}
	g_mutex_unlock(&scheduler->mutex);
	if (ok && result != NULL && scheduler->config.ran != NULL)
		scheduler->config.ran(result, scheduler->config.ran_data);
	return ok;
}

static void
scheduler_task_cb(gpointer data, gpointer user_data)
{
	OsqdScheduleEntry *entry = data;
	OsqdScheduler *scheduler = user_data;
	g_autoptr(GError) error = NULL;
	OsqdEngine *engine = scheduler_thread_engine(scheduler, &error);
	OsqdScheduled *scheduled;

	if (engine == NULL || !scheduler_run(scheduler, engine, entry, &error))
		g_warning("scheduled query %s failed: %s", entry->name,
		          error != NULL ? error->message : "?");
	g_mutex_lock(&scheduler->mutex);
	scheduled = g_hash_table_lookup(scheduler->queries, entry->name);
	if (scheduled != NULL)
		scheduled->running = FALSE;
	g_mutex_unlock(&scheduler->mutex);
	osqd_schedule_entry_free(entry);
}

gboolean
osqd_scheduler_run_now(OsqdScheduler *scheduler, const gchar *name, GError **error)
{
	g_autoptr(OsqdEngine) engine = NULL;
	OsqdScheduleEntry *copy = NULL;
	OsqdScheduled *scheduled;
	gboolean ok;

	g_mutex_lock(&scheduler->mutex);
	scheduled = g_hash_table_lookup(scheduler->queries, name);
	if (scheduled != NULL)
		copy = entry_copy(scheduled->entry);
	g_mutex_unlock(&scheduler->mutex);
	if (copy == NULL) {
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_NOT_FOUND, "no scheduled query named %s",
		            name);
		return FALSE;
	}
	engine = osqd_engine_new(scheduler->registry, error);
	ok = engine != NULL && scheduler_run(scheduler, engine, copy, error);
	osqd_schedule_entry_free(copy);
	return ok;
}

/* ---- the tick ---- */

static gpointer
scheduler_tick_thread(gpointer data)
{
	OsqdScheduler *scheduler = data;
	guint64 counter = (guint64)(g_get_real_time() / G_USEC_PER_SEC);
	gint64 next = g_get_monotonic_time();

	g_mutex_lock(&scheduler->mutex);
	while (!scheduler->stopping) {
		GHashTableIter iter;
		gpointer value;
		gint64 now = g_get_real_time() / G_USEC_PER_SEC;
		g_hash_table_iter_init(&iter, scheduler->queries);
		while (g_hash_table_iter_next(&iter, NULL, &value)) {
			OsqdScheduled *scheduled = value;
			if (scheduled->denylisted_until > 0 && now >= scheduled->denylisted_until) {
				scheduled->denylisted_until = 0;
				scheduled->stats.denylisted = FALSE;
			}
			if (scheduled->running || scheduled->denylisted_until > 0 ||
			    counter % scheduled->splayed != 0)
				continue;
			scheduled->running = TRUE;
			(void)g_thread_pool_push(scheduler->pool, entry_copy(scheduled->entry),
			                         NULL);
		}
		/* one step per second of running time; a late wake-up does not skip turns */
		next += G_USEC_PER_SEC;
		counter++;
		while (!scheduler->stopping &&
		       g_cond_wait_until(&scheduler->cond, &scheduler->mutex, next))
			;
	}
	g_mutex_unlock(&scheduler->mutex);
	return NULL;
}

OsqdScheduler *
osqd_scheduler_new(OsqdRegistry *registry, OsqdStore *store, const OsqdSchedulerConfig *config)
{
	OsqdScheduler *scheduler = g_new0(OsqdScheduler, 1);

	g_mutex_init(&scheduler->mutex);
	g_cond_init(&scheduler->cond);
	scheduler->registry = osqd_registry_ref(registry);
	scheduler->store = store;
	scheduler->config = *config;
	scheduler->queries = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, scheduled_free);
	scheduler->rand = g_rand_new();
	scheduler->pool = g_thread_pool_new(scheduler_task_cb, scheduler,
	                                    (gint)MAX(config->workers, 1), TRUE, NULL);
	return scheduler;
}

void
osqd_scheduler_free(OsqdScheduler *scheduler)
{
	if (scheduler == NULL)
		return;
	g_mutex_lock(&scheduler->mutex);
	scheduler->stopping = TRUE;
	g_cond_broadcast(&scheduler->cond);
	g_mutex_unlock(&scheduler->mutex);
	if (scheduler->tick != NULL)
		g_thread_join(scheduler->tick);
	/* queued runs are dropped, running ones finish */
	g_thread_pool_free(scheduler->pool, TRUE, TRUE);
	g_hash_table_unref(scheduler->queries);
	osqd_registry_unref(scheduler->registry);
	g_rand_free(scheduler->rand);
	g_cond_clear(&scheduler->cond);
	g_mutex_clear(&scheduler->mutex);
	g_free(scheduler);
}

void
osqd_scheduler_set_schedule(OsqdScheduler *scheduler, GPtrArray *entries)
{
	g_autoptr(GHashTable) next =
	        g_hash_table_new_full(g_str_hash, g_str_equal, NULL, scheduled_free);

	/* splays come from the store first, outside the lock */
	g_autoptr(GArray) splays = g_array_new(FALSE, FALSE, sizeof(guint));
	g_autoptr(GArray) denylist = g_array_new(FALSE, FALSE, sizeof(gint64));
	gint64 now = g_get_real_time() / G_USEC_PER_SEC;
	for (guint i = 0; i < entries->len; i++) {
		OsqdScheduleEntry *entry = entries->pdata[i];
		guint splayed = scheduler_splay_for(scheduler, entry);
		gint64 until =
		        entry->denylist ? scheduler_load_denylist(scheduler, entry->name) : 0;
		if (until > 0 && until <= now)
			until = 0;
		g_array_append_val(splays, splayed);
		g_array_append_val(denylist, until);
	}
	g_mutex_lock(&scheduler->mutex);
	for (guint i = 0; i < entries->len; i++) {
		OsqdScheduleEntry *entry = entries->pdata[i];
		OsqdScheduled *old = g_hash_table_lookup(scheduler->queries, entry->name);
		OsqdScheduled *scheduled = g_new0(OsqdScheduled, 1);
		scheduled->entry = entry_copy(entry);
		scheduled->splayed = g_array_index(splays, guint, i);
		scheduled->denylisted_until = g_array_index(denylist, gint64, i);
		scheduled->stats.name = scheduled->entry->name;
		if (old != NULL) {
			/* statistics and the running mark carry over */
			scheduled->running = old->running;
			scheduled->stats = old->stats;
			scheduled->stats.name = scheduled->entry->name;
			old->stats.last_error = NULL;
		}
		scheduled->stats.denylisted = scheduled->denylisted_until > 0;
		g_hash_table_replace(next, scheduled->entry->name, scheduled);
	}
	g_hash_table_unref(scheduler->queries);
	scheduler->queries = g_steal_pointer(&next);
	g_mutex_unlock(&scheduler->mutex);
	g_ptr_array_unref(entries);
}

void
osqd_scheduler_start(OsqdScheduler *scheduler)
{
	if (scheduler->tick == NULL)
		scheduler->tick = g_thread_new("osqd-schedule", scheduler_tick_thread, scheduler);
}

static gint
compare_stats(gconstpointer a, gconstpointer b)
{
	const OsqdScheduleStats *x = *(const OsqdScheduleStats *const *)a;
	const OsqdScheduleStats *y = *(const OsqdScheduleStats *const *)b;

	return g_strcmp0(x->name, y->name);
}

GPtrArray *
osqd_scheduler_list(OsqdScheduler *scheduler)
{
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&scheduler->mutex);
	GPtrArray *list = g_ptr_array_new_with_free_func((GDestroyNotify)osqd_schedule_stats_free);
	GHashTableIter iter;
	gpointer value;

	g_hash_table_iter_init(&iter, scheduler->queries);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		const OsqdScheduled *scheduled = value;
		OsqdScheduleStats *stats = g_new0(OsqdScheduleStats, 1);
		*stats = scheduled->stats;
		stats->name = g_strdup(scheduled->entry->name);
		stats->sql = g_strdup(scheduled->entry->sql);
		stats->interval = scheduled->entry->interval;
		stats->splayed = scheduled->splayed;
		stats->last_error = g_strdup(scheduled->stats.last_error);
		g_ptr_array_add(list, stats);
	}
	g_ptr_array_sort(list, compare_stats);
	return list;
}
