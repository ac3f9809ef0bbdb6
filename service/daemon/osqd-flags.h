/* SPDX-License-Identifier: Apache-2.0
 *
 * osqd's flags: one table (name, osquery type string, default, description, current value)
 * behind argv parsing, --flagfile, the options() RPC, --help and later the osquery_flags table.
 * Syntax follows gflags as osquery uses it: -name or --name, =value or a separate value, a bare
 * boolean means true and --noname false; a flagfile holds one flag per line with # comments.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
	OSQD_FLAG_BOOL,
	OSQD_FLAG_STRING,
	OSQD_FLAG_INT32,
	OSQD_FLAG_UINT32,
	OSQD_FLAG_UINT64,
} OsqdFlagType;

typedef struct {
	const gchar *name;
	OsqdFlagType type;
	const gchar *description;
	gchar *default_value;
	gchar *value;
	gboolean is_set; /* given on the command line or in a flagfile */
} OsqdFlag;

typedef struct _OsqdFlags OsqdFlags;

/* Defaults for the effective user: as root the socket and pidfile live in /var/osquery, as
 * another user in @runtime_dir/osq (NULL: g_get_user_runtime_dir()). */
OsqdFlags *osqd_flags_new(void);
OsqdFlags *osqd_flags_new_full(gboolean as_root, const gchar *runtime_dir);
void osqd_flags_free(OsqdFlags *flags);

/* Parses argv[1..] (gflags syntax; --flagfile is read where it appears, so later flags win).
 * --help and --version are not flags: they are reported through @help / @version. */
gboolean osqd_flags_parse_args(OsqdFlags *flags, gint argc, gchar **argv, gboolean *help,
                               gboolean *version, GError **error);
/* One flag per line; blank lines and lines starting with # are skipped. An unknown flag in a
 * file is logged and ignored (osquery flagfiles carry flags osq does not have yet); a known
 * flag with a bad value is an error naming @origin and the line. */
gboolean osqd_flags_parse_text(OsqdFlags *flags, const gchar *text, const gchar *origin,
                               GError **error);
gboolean osqd_flags_parse_file(OsqdFlags *flags, const gchar *path, GError **error);

/* Sets one flag from text, checking the value against the flag's type. */
gboolean osqd_flags_set(OsqdFlags *flags, const gchar *name, const gchar *value, GError **error);

const OsqdFlag *osqd_flags_lookup(OsqdFlags *flags, const gchar *name);
/* Typed reads of a flag that exists (a programming error otherwise). */
const gchar *osqd_flags_get_string(OsqdFlags *flags, const gchar *name);
gboolean osqd_flags_get_bool(OsqdFlags *flags, const gchar *name);
guint64 osqd_flags_get_uint(OsqdFlags *flags, const gchar *name);
gint64 osqd_flags_get_int(OsqdFlags *flags, const gchar *name);

/* The flags in name order. */
guint osqd_flags_get_count(OsqdFlags *flags);
const OsqdFlag *osqd_flags_get_nth(OsqdFlags *flags, guint index);

/* osquery's (gflags') type names: "bool", "string", "int32", "uint32", "uint64". */
const gchar *osqd_flag_type_to_string(OsqdFlagType type);

/* The --help text: usage and every flag with its type, default and description. */
gchar *osqd_flags_help(OsqdFlags *flags);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(OsqdFlags, osqd_flags_free)

G_END_DECLS
