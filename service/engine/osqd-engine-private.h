/* SPDX-License-Identifier: Apache-2.0
 *
 * What the virtual-table module needs to see of its engine.
 */
#pragma once

#include "osqd-engine.h"
#include "osqd-table-private.h"

G_BEGIN_DECLS

struct _OsqdEngine {
	sqlite3 *db;
	OsqdRegistry *registry;
	gchar *root;
	guint timeout_ms;
	guint cpu_limit_ms; /* 0: none */
	OsqdQueryControl control;
	OsqdEngineTraceFunc trace_func;
	gpointer trace_data;
	OsqdEngineAccessFunc access_func;
	gpointer access_data;
	GDestroyNotify access_destroy;
	GError *generator_error; /* the last generator failure or access denial */
	gboolean declaring;      /* inside sqlite3_declare_vtab() for one of our tables */
	GHashTable *tables;      /* name -> the registry table attached here (a reference) */
	guint64 generation;      /* of the registry when the tables were last synced */
	GPtrArray *views;        /* names of the TEMP views made from the registry's views */
};

/* Attaches @table to the engine's connection as an eponymous virtual table. */
gboolean osqd_vtab_register(OsqdEngine *engine, const OsqdTable *table, GError **error);

G_END_DECLS
