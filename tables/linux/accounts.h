/* SPDX-License-Identifier: Apache-2.0
 *
 * Pure parsers behind the account tables (users, groups, user_groups, logged_in_users, last) and
 * the passwd loader shell_history shares. They read /etc/passwd, /etc/group and utmp records
 * the way glibc's files backend does, without NSS (not reentrant, and blind to a fixture root).
 */
#pragma once

#include "osqd-table.h"

G_BEGIN_DECLS

/* One /etc/passwd entry; the strings point into the buffer that was parsed. */
typedef struct {
	const gchar *name;
	const gchar *gecos;
	const gchar *directory;
	const gchar *shell;
	guint32 uid;
	guint32 gid;
} OsqdAccountsPasswd;

/* One /etc/group entry; @members is the raw comma-separated member list. */
typedef struct {
	const gchar *name;
	const gchar *members;
	guint32 gid;
} OsqdAccountsGroup;

/* Parses one line (no newline) in place, NUL-terminating the fields. FALSE for blank lines,
 * comments, NIS "+"/"-" entries and lines glibc's parser rejects (a missing or non-numeric uid
 * or gid); the gecos, home and shell fields may be missing, as glibc allows. */
gboolean osqd_accounts_parse_passwd_line(gchar *line, OsqdAccountsPasswd *entry);
gboolean osqd_accounts_parse_group_line(gchar *line, OsqdAccountsGroup *entry);

/* Splits the @length bytes of @contents into lines and parses them in place: a GArray of
 * OsqdAccountsPasswd (or OsqdAccountsGroup) in file order. A NUL byte ends its line's text.
 * @n_malformed counts the non-blank, non-comment lines that were skipped. */
GArray *osqd_accounts_parse_passwd(gchar *contents, gsize length, guint *n_malformed);
GArray *osqd_accounts_parse_group(gchar *contents, gsize length, guint *n_malformed);

/* Member name -> GArray of guint32 gids (file order) over every entry of @groups, for the
 * names in the @wanted set only (NULL: every name). Leading blanks of a member name are
 * ignored, trailing ones are not: glibc's rule. */
GHashTable *osqd_accounts_index_members(GArray *groups, GHashTable *wanted);

/* glibc's struct utmp on x86_64 (and every 64-bit ABI with 32-bit ut_tv). */
#define OSQD_ACCOUNTS_UTMP_RECORD_SIZE 384

typedef struct {
	gint32 type;
	gint32 pid;
	gint64 time; /* ut_tv.tv_sec, seconds */
	gchar line[33];
	gchar user[33];
	gchar host[257];
} OsqdAccountsUtmp;

/* Decodes one record; FALSE when fewer than OSQD_ACCOUNTS_UTMP_RECORD_SIZE bytes remain. The
 * fixed-size text fields need not be NUL-terminated on disk; the copies always are. */
gboolean osqd_accounts_parse_utmp(const guint8 *data, gsize len, OsqdAccountsUtmp *record);

/* The type names logged_in_users uses ("user", "dead"... "unknown"). */
const gchar *osqd_accounts_login_type_name(gint32 type);
/* The type names last uses ("user-process", "dead-process"...; "" for unknown types). */
const gchar *osqd_accounts_last_type_name(gint32 type);

/* Reads <root>/etc/passwd into @contents and parses it (entries point into @contents). */
gboolean osqd_accounts_load_passwd(OsqdTableContext *ctx, gchar **contents, GArray **entries,
                                   GError **error);

/* id -> name (owned strings) for every entry of <root>/etc/passwd, or /etc/group when @groups;
 * the first entry of an id wins, as for getpwuid(). Unreadable files give an empty table. */
GHashTable *osqd_accounts_load_id_names(OsqdTableContext *ctx, gboolean groups);

/* TRUE if @value is in @sorted (a sorted GArray of gint64, as int_equals returns). */
gboolean osqd_accounts_int_in(GArray *sorted, gint64 value);

G_END_DECLS
