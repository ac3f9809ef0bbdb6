/* SPDX-License-Identifier: Apache-2.0
 *
 * file_events, process_events, socket_events, hardware_events, osquery_events and
 * osq_event_loss (see
 * events.h). The provider is copied under a lock and called without it; each call counts as a
 * user, and removing the provider waits for the users to go, so the framework can be freed
 * while clients still query.
 */
#include "config.h"

#include "events.h"

#include "osqd-tables-generated.h"

static GMutex osqd_events_lock;
static OsqdEventsProvider osqd_events_provider;
static gboolean osqd_events_have_provider;
static guint osqd_events_users;
static GCond osqd_events_users_cond;

void
osqd_event_status_free(OsqdEventStatus *status)
{
	if (status == NULL)
		return;
	g_free(status->name);
	g_free(status->publisher);
	g_free(status->type);
	g_free(status);
}

void
osqd_event_loss_free(OsqdEventLoss *loss)
{
	if (loss == NULL)
		return;
	g_free(loss->name);
	g_free(loss->type);
	g_free(loss->reason);
	g_free(loss);
}

void
osqd_events_set_provider(const OsqdEventsProvider *provider)
{
	g_mutex_lock(&osqd_events_lock);
	osqd_events_have_provider = provider != NULL;
	if (provider != NULL)
		osqd_events_provider = *provider;
	while (provider == NULL && osqd_events_users > 0)
		g_cond_wait(&osqd_events_users_cond, &osqd_events_lock);
	g_mutex_unlock(&osqd_events_lock);
}

/* Copies the provider and counts a user: events_put_provider() after the call. */
static gboolean
events_get_provider(OsqdEventsProvider *provider)
{
	gboolean have;

	g_mutex_lock(&osqd_events_lock);
	have = osqd_events_have_provider;
	*provider = osqd_events_provider;
	if (have)
		osqd_events_users++;
	g_mutex_unlock(&osqd_events_lock);
	return have;
}

static void
events_put_provider(void)
{
	g_mutex_lock(&osqd_events_lock);
	if (--osqd_events_users == 0)
		g_cond_broadcast(&osqd_events_users_cond);
	g_mutex_unlock(&osqd_events_lock);
}

gint64
osqd_events_sync(void)
{
	OsqdEventsProvider provider;
	gint64 eid = -1;

	if (!events_get_provider(&provider))
		return -1;
	if (provider.sync != NULL)
		eid = provider.sync(provider.user_data);
	events_put_provider();
	return eid;
}

gboolean
osqd_events_wait(gint64 after_eid, gint64 deadline, const gint *cancelled)
{
	OsqdEventsProvider provider;
	gboolean found = FALSE;

	if (!events_get_provider(&provider))
		return FALSE;
	if (provider.wait != NULL)
		found = provider.wait(provider.user_data, after_eid, deadline, cancelled);
	events_put_provider();
	return found;
}

/* Every event table answers from the provider; without one it is empty. */
static gboolean
events_generate(OsqdTableContext *ctx, OsqdRowSink *sink, GError **error)
{
	OsqdEventsProvider provider;

	gboolean ok;

	if (!events_get_provider(&provider)) {
		g_debug("%s: events are not enabled here (osqd --disable_events=false)",
		        osqd_table_context_get_table(ctx)->name);
		return TRUE;
	}
	ok = provider.generate == NULL || provider.generate(provider.user_data, ctx, sink, error);
	events_put_provider();
	return ok;
}

gboolean
osqd_table_file_events_generate(OsqdTableContext *ctx, OsqdRowSink *sink, GError **error)
{
	return events_generate(ctx, sink, error);
}

gboolean
osqd_table_process_events_generate(OsqdTableContext *ctx, OsqdRowSink *sink, GError **error)
{
	return events_generate(ctx, sink, error);
}

gboolean
osqd_table_socket_events_generate(OsqdTableContext *ctx, OsqdRowSink *sink, GError **error)
{
	return events_generate(ctx, sink, error);
}

gboolean
osqd_table_hardware_events_generate(OsqdTableContext *ctx, OsqdRowSink *sink, GError **error)
{
	return events_generate(ctx, sink, error);
}

gboolean
osqd_table_osquery_events_generate(OsqdTableContext *ctx, OsqdRowSink *sink, GError **error)
{
	OsqdEventsProvider provider;
	g_autoptr(GPtrArray) rows = NULL;

	(void)error;
	if (!events_get_provider(&provider))
		return TRUE;
	rows = provider.status != NULL ? provider.status(provider.user_data) : NULL;
	events_put_provider();
	for (guint i = 0; rows != NULL && i < rows->len; i++) {
		const OsqdEventStatus *s = g_ptr_array_index(rows, i);
		OsqdRow *row = osqd_row_sink_append(sink);

		osqd_row_set_text(row, OSQD_OSQUERY_EVENTS_COL_NAME, s->name);
		osqd_row_set_text(row, OSQD_OSQUERY_EVENTS_COL_PUBLISHER, s->publisher);
		osqd_row_set_text(row, OSQD_OSQUERY_EVENTS_COL_TYPE, s->type);
		osqd_row_set_int(row, OSQD_OSQUERY_EVENTS_COL_SUBSCRIPTIONS, s->subscriptions);
		osqd_row_set_int(row, OSQD_OSQUERY_EVENTS_COL_EVENTS, s->events);
		osqd_row_set_int(row, OSQD_OSQUERY_EVENTS_COL_REFRESHES, s->refreshes);
		osqd_row_set_int(row, OSQD_OSQUERY_EVENTS_COL_ACTIVE, s->active);
	}
	return TRUE;
}

gboolean
osqd_table_osq_event_loss_generate(OsqdTableContext *ctx, OsqdRowSink *sink, GError **error)
{
	OsqdEventsProvider provider;
	g_autoptr(GPtrArray) rows = NULL;

	(void)ctx;
	(void)error;
	if (!events_get_provider(&provider))
		return TRUE;
	rows = provider.losses != NULL ? provider.losses(provider.user_data) : NULL;
	events_put_provider();
	for (guint i = 0; rows != NULL && i < rows->len; i++) {
		const OsqdEventLoss *l = g_ptr_array_index(rows, i);
		OsqdRow *row = osqd_row_sink_append(sink);

		osqd_row_set_text(row, OSQD_OSQ_EVENT_LOSS_COL_NAME, l->name);
		osqd_row_set_text(row, OSQD_OSQ_EVENT_LOSS_COL_TYPE, l->type);
		osqd_row_set_text(row, OSQD_OSQ_EVENT_LOSS_COL_REASON, l->reason);
		osqd_row_set_int(row, OSQD_OSQ_EVENT_LOSS_COL_EVENTS, l->events);
		osqd_row_set_int(row, OSQD_OSQ_EVENT_LOSS_COL_EXACT, l->exact ? 1 : 0);
		osqd_row_set_int(row, OSQD_OSQ_EVENT_LOSS_COL_OCCURRENCES, l->occurrences);
		osqd_row_set_int(row, OSQD_OSQ_EVENT_LOSS_COL_FIRST_TIME, l->first_time);
		osqd_row_set_int(row, OSQD_OSQ_EVENT_LOSS_COL_LAST_TIME, l->last_time);
	}
	return TRUE;
}
