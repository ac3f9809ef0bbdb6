/* SPDX-License-Identifier: Apache-2.0
 *
 * The crontab line parser, with osquery's rules: trim, skip blank and comment lines, split on
 * spaces and tabs, five schedule fields or one @event, then the command.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The fields of one line; all point into the parsed line, "" when the line has no such field
 * (event for a five-field line, the schedule fields for an @event line). */
typedef struct {
	const gchar *event;
	const gchar *minute;
	const gchar *hour;
	const gchar *day_of_month;
	const gchar *month;
	const gchar *day_of_week;
	const gchar *command; /* its words joined by single spaces */
} OsqdCrontabEntry;

/* Parses @line (no newline) in place. FALSE for blank lines, comments and lines without a
 * command (variable settings such as SHELL=/bin/sh, short or cut-off lines). */
gboolean osqd_crontab_parse_line(gchar *line, OsqdCrontabEntry *entry);

G_END_DECLS
