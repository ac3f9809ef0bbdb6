/* SPDX-License-Identifier: Apache-2.0
 *
 * file_events, process_events, hardware_events, osquery_events and osq_event_loss (see
 * events.h). The provider is copied under a lock and called without it: the daemon installs it
 * once before serving and removes it only after every query stopped.
 */
#include "config.h"

#include "events.h"

#include "osqd-tables-generated.h"

static GMutex osqd_events_lock;
static OsqdEventsProvider osqd_events_provider;
static gboolean osqd_events_have_provider;

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
	g_mutex_unlock(&osqd_events_lock);
}

static gboolean
events_get_provider(OsqdEventsProvider *provider)
{
	gboolean have;

	g_mutex_lock(&osqd_events_lock);
	have = osqd_events_have_provider;
	*provider = osqd_events_provider;
	g_mutex_unlock(&osqd_events_lock);
	return have;
}

/* Every event table answers from the provider; without one it is empty. */
static gboolean
events_generate(OsqdTableContext *ctx, OsqdRowSink *sink, GError **error)
{
	OsqdEventsProvider provider;

	if (!events_get_provider(&provider) || provider.generate == NULL) {
		g_debug("%s: events are not enabled here (osqd --disable_events=false)",
		        osqd_table_context_get_table(ctx)->name);
		return TRUE;
	}
	return provider.generate(provider.user_data, ctx, sink, error);
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
	if (!events_get_provider(&provider) || provider.status == NULL)
		return TRUE;
	rows = provider.status(provider.user_data);
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
	if (!events_get_provider(&provider) || provider.losses == NULL)
		return TRUE;
	rows = provider.losses(provider.user_data);
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
