/* SPDX-License-Identifier: Apache-2.0
 *
 * users, groups, user_groups, logged_in_users and last. Like osquery 5 (which stopped asking NSS
 * so that a query never goes to LDAP), the passwd and group tables read <root>/etc/passwd and
 * <root>/etc/group themselves, with glibc's line rules; memberships are what getgrouplist()
 * would give: the primary group, then each /etc/group entry naming the user, without repeats.
 * utmp and wtmp are decoded record by record (glibc's 384-byte struct utmp) while they are
 * read in bounded chunks, so a large wtmp neither fills memory nor blocks cancellation.
 */
#include "config.h"

#include "accounts.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "osqd-tables-generated.h"

#define ACCOUNTS_DATABASE_MAX       (64 * 1024 * 1024) /* /etc/passwd, /etc/group */
#define ACCOUNTS_UTMP_CHUNK_RECORDS 256

/* utmp record types (glibc's bits/utmp.h) */
enum {
	ACCOUNTS_UT_EMPTY = 0,
	ACCOUNTS_UT_RUN_LVL = 1,
	ACCOUNTS_UT_BOOT_TIME = 2,
	ACCOUNTS_UT_NEW_TIME = 3,
	ACCOUNTS_UT_OLD_TIME = 4,
	ACCOUNTS_UT_INIT_PROCESS = 5,
	ACCOUNTS_UT_LOGIN_PROCESS = 6,
	ACCOUNTS_UT_USER_PROCESS = 7,
	ACCOUNTS_UT_DEAD_PROCESS = 8,
	ACCOUNTS_UT_ACCOUNTING = 9,
};

/* ---- pure parsers ---- */

/* glibc's STRING_FIELD: the text up to the next colon (or the end of the line). */
static gchar *
accounts_string_field(gchar **cursor)
{
	gchar *start = *cursor;
	gchar *colon = strchr(start, ':');

	if (colon != NULL) {
		*colon = '\0';
		*cursor = colon + 1;
	} else {
		*cursor = start + strlen(start);
	}
	return start;
}

/* glibc's INT_FIELD: strtoul() up to a colon or the end of the line, truncated to 32 bits as
 * uid_t/gid_t are; no digits, or anything else after them, rejects the line. */
static gboolean
accounts_id_field(gchar **cursor, guint32 *value)
{
	gchar *start = *cursor, *end = NULL;
	guint64 number = g_ascii_strtoull(start, &end, 10);

	if (end == start)
		return FALSE;
	if (*end == ':')
		end++;
	else if (*end != '\0')
		return FALSE;
	*value = (guint32)number;
	*cursor = end;
	return TRUE;
}

/* Leading blanks, blank lines and comments, as glibc's files backend skips them. */
static gchar *
accounts_skip_blank(gchar *line)
{
	while (g_ascii_isspace(*line))
		line++;
	if (*line == '\0' || *line == '#')
		return NULL;
	return line;
}

gboolean
osqd_accounts_parse_passwd_line(gchar *line, OsqdAccountsPasswd *entry)
{
	gchar *cursor = accounts_skip_blank(line);

	if (cursor == NULL)
		return FALSE;
	entry->name = accounts_string_field(&cursor);
	if (entry->name[0] == '\0' || entry->name[0] == '+' || entry->name[0] == '-')
		return FALSE;
	(void)accounts_string_field(&cursor); /* password */
	if (!accounts_id_field(&cursor, &entry->uid) || !accounts_id_field(&cursor, &entry->gid))
		return FALSE;
	entry->gecos = accounts_string_field(&cursor);
	entry->directory = accounts_string_field(&cursor);
	entry->shell = cursor; /* the rest of the line, colons included */
	return TRUE;
}

gboolean
osqd_accounts_parse_group_line(gchar *line, OsqdAccountsGroup *entry)
{
	gchar *cursor = accounts_skip_blank(line);

	if (cursor == NULL)
		return FALSE;
	entry->name = accounts_string_field(&cursor);
	if (entry->name[0] == '\0' || entry->name[0] == '+' || entry->name[0] == '-')
		return FALSE;
	(void)accounts_string_field(&cursor); /* password */
	if (!accounts_id_field(&cursor, &entry->gid))
		return FALSE;
	entry->members = cursor;
	return TRUE;
}

static gboolean
accounts_is_blank_or_comment(const gchar *line)
{
	while (g_ascii_isspace(*line))
		line++;
	return *line == '\0' || *line == '#';
}

typedef union {
	OsqdAccountsPasswd passwd;
	OsqdAccountsGroup group;
} AccountsEntry;

/* Calls @parse on every line of @contents; counts the lines it rejected. */
static GArray *
accounts_parse_lines(gchar *contents, gsize length, guint element_size,
                     gboolean (*parse)(gchar *line, gpointer entry), guint *n_malformed)
{
	GArray *entries = g_array_new(FALSE, FALSE, element_size);
	AccountsEntry storage;
	gchar *line = contents, *end = contents + length;

	*n_malformed = 0;
	while (line < end) {
		gchar *newline = memchr(line, '\n', (gsize)(end - line));
		if (newline != NULL)
			*newline = '\0';
		else
			*end = '\0'; /* osqd_read_file leaves room for it */
		if (parse(line, &storage))
			g_array_append_vals(entries, &storage, 1);
		else if (!accounts_is_blank_or_comment(line))
			(*n_malformed)++;
		line = newline != NULL ? newline + 1 : end;
	}
	return entries;
}

static gboolean
accounts_parse_passwd_cb(gchar *line, gpointer entry)
{
	return osqd_accounts_parse_passwd_line(line, entry);
}

static gboolean
accounts_parse_group_cb(gchar *line, gpointer entry)
{
	return osqd_accounts_parse_group_line(line, entry);
}

GArray *
osqd_accounts_parse_passwd(gchar *contents, gsize length, guint *n_malformed)
{
	return accounts_parse_lines(contents, length, sizeof(OsqdAccountsPasswd),
	                            accounts_parse_passwd_cb, n_malformed);
}

GArray *
osqd_accounts_parse_group(gchar *contents, gsize length, guint *n_malformed)
{
	return accounts_parse_lines(contents, length, sizeof(OsqdAccountsGroup),
	                            accounts_parse_group_cb, n_malformed);
}

static void
accounts_copy_text(gchar *dest, gsize dest_size, const guint8 *src, gsize src_size)
{
	gsize len = strnlen((const gchar *)src, src_size);

	g_assert(dest_size > src_size);
	memcpy(dest, src, len);
	dest[len] = '\0';
}

gboolean
osqd_accounts_parse_utmp(const guint8 *data, gsize len, OsqdAccountsUtmp *record)
{
	gint16 type;
	gint32 pid, seconds;

	if (len < OSQD_ACCOUNTS_UTMP_RECORD_SIZE)
		return FALSE;
	memcpy(&type, data + 0, sizeof(type));
	memcpy(&pid, data + 4, sizeof(pid));
	memcpy(&seconds, data + 340, sizeof(seconds));
	record->type = type;
	record->pid = pid;
	record->time = seconds;
	accounts_copy_text(record->line, sizeof(record->line), data + 8, 32);
	accounts_copy_text(record->user, sizeof(record->user), data + 44, 32);
	accounts_copy_text(record->host, sizeof(record->host), data + 76, 256);
	return TRUE;
}

const gchar *
osqd_accounts_login_type_name(gint32 type)
{
	switch (type) {
	case ACCOUNTS_UT_EMPTY:
		return "empty";
	case ACCOUNTS_UT_RUN_LVL:
		return "runlevel";
	case ACCOUNTS_UT_BOOT_TIME:
		return "boot_time";
	case ACCOUNTS_UT_NEW_TIME:
		return "new_time";
	case ACCOUNTS_UT_OLD_TIME:
		return "old_time";
	case ACCOUNTS_UT_INIT_PROCESS:
		return "init";
	case ACCOUNTS_UT_LOGIN_PROCESS:
		return "login";
	case ACCOUNTS_UT_USER_PROCESS:
		return "user";
	case ACCOUNTS_UT_DEAD_PROCESS:
		return "dead";
	case ACCOUNTS_UT_ACCOUNTING:
		return "accounting";
	default:
		return "unknown";
	}
}

const gchar *
osqd_accounts_last_type_name(gint32 type)
{
	switch (type) {
	case ACCOUNTS_UT_EMPTY:
		return "empty";
	case ACCOUNTS_UT_RUN_LVL:
		return "run-level";
	case ACCOUNTS_UT_BOOT_TIME:
		return "boot-time";
	case ACCOUNTS_UT_NEW_TIME:
		return "new-time";
	case ACCOUNTS_UT_OLD_TIME:
		return "old-time";
	case ACCOUNTS_UT_INIT_PROCESS:
		return "init-process";
	case ACCOUNTS_UT_LOGIN_PROCESS:
		return "login-process";
	case ACCOUNTS_UT_USER_PROCESS:
		return "user-process";
	case ACCOUNTS_UT_DEAD_PROCESS:
		return "dead-process";
	default:
		return "";
	}
}

gboolean
osqd_accounts_int_in(GArray *sorted, gint64 value)
{
	guint low = 0, high = sorted->len;

	while (low < high) {
		guint middle = low + (high - low) / 2;
		gint64 v = g_array_index(sorted, gint64, middle);
		if (v == value)
			return TRUE;
		if (v < value)
			low = middle + 1;
		else
			high = middle;
	}
	return FALSE;
}

static void
accounts_index_add(GHashTable *index, GHashTable *wanted, const gchar *name, guint32 gid)
{
	GArray *gids;

	if (wanted != NULL && !g_hash_table_contains(wanted, name))
		return;
	gids = g_hash_table_lookup(index, name);
	if (gids == NULL) {
		gids = g_array_new(FALSE, FALSE, sizeof(guint32));
		g_hash_table_insert(index, g_strdup(name), gids);
	}
	g_array_append_val(gids, gid);
}

GHashTable *
osqd_accounts_index_members(GArray *groups, GHashTable *wanted)
{
	GHashTable *index = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
	                                          (GDestroyNotify)g_array_unref);
	gchar name[256];

	for (guint i = 0; i < groups->len; i++) {
		const OsqdAccountsGroup *group = &g_array_index(groups, OsqdAccountsGroup, i);
		const gchar *cursor = group->members;
		while (*cursor != '\0') {
			const gchar *comma;
			gsize len;
			while (g_ascii_isspace(*cursor))
				cursor++;
			comma = strchrnul(cursor, ',');
			len = (gsize)(comma - cursor);
			if (len >= sizeof(name)) {
				g_autofree gchar *long_name = g_strndup(cursor, len);
				accounts_index_add(index, wanted, long_name, group->gid);
			} else if (len > 0) {
				memcpy(name, cursor, len);
				name[len] = '\0';
				accounts_index_add(index, wanted, name, group->gid);
			}
			cursor = *comma != '\0' ? comma + 1 : comma;
		}
	}
	return index;
}

/* ---- I/O ---- */

/* osqd_read_file's message without the rooted path in front, which would leak the fixture or
 * root prefix into a message about a host path. */
static const gchar *
accounts_error_reason(const GError *error, const gchar *path)
{
	gsize len = strlen(path);

	if (strncmp(error->message, path, len) == 0 && g_str_has_prefix(error->message + len, ": "))
		return error->message + len + 2;
	return error->message;
}

static gboolean
accounts_read_database(OsqdTableContext *ctx, const gchar *host_path, gchar **contents,
                       gsize *length, GError **error)
{
	g_autofree gchar *path = osqd_table_context_path(ctx, "%s", host_path);
	g_autoptr(GError) error_local = NULL;

	if (!osqd_read_file(path, ACCOUNTS_DATABASE_MAX, contents, length, &error_local)) {
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_FAILED, "cannot read %s: %s", host_path,
		            accounts_error_reason(error_local, path));
		return FALSE;
	}
	return TRUE;
}

gboolean
osqd_accounts_load_passwd(OsqdTableContext *ctx, gchar **contents, GArray **entries, GError **error)
{
	guint n_malformed = 0;
	gsize length = 0;

	if (!accounts_read_database(ctx, "/etc/passwd", contents, &length, error))
		return FALSE;
	*entries = osqd_accounts_parse_passwd(*contents, length, &n_malformed);
	if (n_malformed > 0)
		g_debug("/etc/passwd: skipped %u malformed lines", n_malformed);
	return TRUE;
}

static gboolean
accounts_load_group(OsqdTableContext *ctx, gchar **contents, GArray **entries, GError **error)
{
	guint n_malformed = 0;
	gsize length = 0;

	if (!accounts_read_database(ctx, "/etc/group", contents, &length, error))
		return FALSE;
	*entries = osqd_accounts_parse_group(*contents, length, &n_malformed);
	if (n_malformed > 0)
		g_debug("/etc/group: skipped %u malformed lines", n_malformed);
	return TRUE;
}

GHashTable *
osqd_accounts_load_id_names(OsqdTableContext *ctx, gboolean groups)
{
	g_autoptr(GHashTable) names =
	        g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
	g_autoptr(GError) error_local = NULL;
	g_autofree gchar *contents = NULL;
	g_autoptr(GArray) entries = NULL;
	gboolean ok = groups ? accounts_load_group(ctx, &contents, &entries, &error_local)
	                     : osqd_accounts_load_passwd(ctx, &contents, &entries, &error_local);

	if (!ok) {
		g_debug("%s", error_local->message);
		return g_steal_pointer(&names);
	}
	for (guint i = 0; i < entries->len; i++) {
		guint32 id = groups ? g_array_index(entries, OsqdAccountsGroup, i).gid
		                    : g_array_index(entries, OsqdAccountsPasswd, i).uid;
		const gchar *name = groups ? g_array_index(entries, OsqdAccountsGroup, i).name
		                           : g_array_index(entries, OsqdAccountsPasswd, i).name;
		if (!g_hash_table_contains(names, GUINT_TO_POINTER(id)))
			g_hash_table_insert(names, GUINT_TO_POINTER(id), g_strdup(name));
	}
	return g_steal_pointer(&names);
}

typedef void (*AccountsUtmpFunc)(const OsqdAccountsUtmp *record, gpointer user_data);

/* Reads a utmp-format file record by record. A missing file is no error (no sessions were ever
 * recorded); a partial last record (a writer caught mid-record) is dropped, as glibc does.
 * *found tells whether the file existed. */
static gboolean
accounts_read_utmp(OsqdTableContext *ctx, const gchar *host_path, AccountsUtmpFunc func,
                   gpointer user_data, gboolean *found, GError **error)
{
	g_autofree gchar *path = osqd_table_context_path(ctx, "%s", host_path);
	const gsize chunk = OSQD_ACCOUNTS_UTMP_RECORD_SIZE * ACCOUNTS_UTMP_CHUNK_RECORDS;
	g_autofree guint8 *buffer = NULL;
	gsize filled = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

	*found = fd >= 0;
	if (fd < 0) {
		int saved = errno;
		if (saved == ENOENT || saved == ENOTDIR)
			return TRUE;
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_FAILED, "cannot read %s: %s", host_path,
		            g_strerror(saved));
		return FALSE;
	}
	buffer = g_malloc(chunk);
	for (;;) {
		gsize offset = 0;
		ssize_t n = read(fd, buffer + filled, chunk - filled);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int saved = errno;
			(void)close(fd);
			g_set_error(error, OSQ_ERROR, OSQ_ERROR_FAILED, "cannot read %s: %s",
			            host_path, g_strerror(saved));
			return FALSE;
		}
		if (n == 0)
			break;
		filled += (gsize)n;
		for (; filled - offset >= OSQD_ACCOUNTS_UTMP_RECORD_SIZE;
		     offset += OSQD_ACCOUNTS_UTMP_RECORD_SIZE) {
			OsqdAccountsUtmp record;
			(void)osqd_accounts_parse_utmp(buffer + offset, filled - offset, &record);
			func(&record, user_data);
		}
		memmove(buffer, buffer + offset, filled - offset);
		filled -= offset;
		if (!osqd_table_context_check(ctx, error)) {
			(void)close(fd);
			return FALSE;
		}
	}
	(void)close(fd);
	if (filled > 0)
		g_debug("%s: dropped a truncated last record (%" G_GSIZE_FORMAT " bytes)",
		        host_path, filled);
	return TRUE;
}

/* ---- users ---- */

static void
users_add_row(OsqdRowSink *sink, const OsqdAccountsPasswd *entry, gint64 include_remote)
{
	OsqdRow *row = osqd_row_sink_append(sink);

	osqd_row_set_int(row, OSQD_USERS_COL_UID, entry->uid);
	osqd_row_set_int(row, OSQD_USERS_COL_GID, entry->gid);
	osqd_row_set_int(row, OSQD_USERS_COL_UID_SIGNED, (gint32)entry->uid);
	osqd_row_set_int(row, OSQD_USERS_COL_GID_SIGNED, (gint32)entry->gid);
	osqd_row_set_text(row, OSQD_USERS_COL_USERNAME, entry->name);
	osqd_row_set_text(row, OSQD_USERS_COL_DESCRIPTION, entry->gecos);
	osqd_row_set_text(row, OSQD_USERS_COL_DIRECTORY, entry->directory);
	osqd_row_set_text(row, OSQD_USERS_COL_SHELL, entry->shell);
	osqd_row_set_text(row, OSQD_USERS_COL_UUID, ""); /* no user UUIDs on Linux */
	osqd_row_set_int(row, OSQD_USERS_COL_INCLUDE_REMOTE, include_remote);
}

static gboolean
users_name_wanted(GPtrArray *names, const gchar *name)
{
	for (guint i = 0; i < names->len; i++) {
		if (g_strcmp0(names->pdata[i], name) == 0)
			return TRUE;
	}
	return FALSE;
}

gboolean
osqd_table_users_generate(OsqdTableContext *ctx, OsqdRowSink *sink, GError **error)
{
	g_autoptr(GArray) uids = osqd_table_context_int_equals(ctx, OSQD_USERS_COL_UID);
	g_autoptr(GPtrArray) names = osqd_table_context_text_equals(ctx, OSQD_USERS_COL_USERNAME);
	g_autoptr(GArray) remote =
	        osqd_table_context_int_equals(ctx, OSQD_USERS_COL_INCLUDE_REMOTE);
	g_autofree gchar *contents = NULL;
	g_autoptr(GArray) entries = NULL;
	/* Remote (NSS) accounts are not read: include_remote = 1 gives the local ones. */
	gint64 include_remote = remote != NULL && osqd_accounts_int_in(remote, 1) ? 1 : 0;

	if ((uids != NULL && uids->len == 0) || (names != NULL && names->len == 0))
		return TRUE;
	if (!osqd_accounts_load_passwd(ctx, &contents, &entries, error))
		return FALSE;
	for (guint i = 0; i < entries->len; i++) {
		const OsqdAccountsPasswd *entry = &g_array_index(entries, OsqdAccountsPasswd, i);
		if (uids != NULL && !osqd_accounts_int_in(uids, entry->uid))
			continue;
		if (names != NULL && !users_name_wanted(names, entry->name))
			continue;
		users_add_row(sink, entry, include_remote);
	}
	return TRUE;
}

/* ---- groups ---- */

gboolean
osqd_table_groups_generate(OsqdTableContext *ctx, OsqdRowSink *sink, GError **error)
{
	g_autoptr(GArray) gids = osqd_table_context_int_equals(ctx, OSQD_GROUPS_COL_GID);
	g_autoptr(GHashTable) seen = g_hash_table_new(g_direct_hash, g_direct_equal);
	g_autofree gchar *contents = NULL;
	g_autoptr(GArray) entries = NULL;

	if (gids != NULL && gids->len == 0)
		return TRUE;
	if (!accounts_load_group(ctx, &contents, &entries, error))
		return FALSE;
	for (guint i = 0; i < entries->len; i++) {
		const OsqdAccountsGroup *entry = &g_array_index(entries, OsqdAccountsGroup, i);
		OsqdRow *row;
		if (gids != NULL && !osqd_accounts_int_in(gids, entry->gid))
			continue;
		/* a gid listed twice is reported once, under its first name */
		if (!g_hash_table_add(seen, GUINT_TO_POINTER(entry->gid)))
			continue;
		row = osqd_row_sink_append(sink);
		osqd_row_set_int(row, OSQD_GROUPS_COL_GID, entry->gid);
		osqd_row_set_int(row, OSQD_GROUPS_COL_GID_SIGNED, (gint32)entry->gid);
		osqd_row_set_text(row, OSQD_GROUPS_COL_GROUPNAME, entry->name);
	}
	return TRUE;
}

/* ---- user_groups ---- */

static void
user_groups_add(OsqdRowSink *sink, GArray *wanted_gids, GArray *emitted, guint32 uid, guint32 gid)
{
	OsqdRow *row;

	for (guint i = 0; i < emitted->len; i++) {
		if (g_array_index(emitted, guint32, i) == gid)
			return;
	}
	g_array_append_val(emitted, gid);
	if (wanted_gids != NULL && !osqd_accounts_int_in(wanted_gids, gid))
		return;
	row = osqd_row_sink_append(sink);
	osqd_row_set_int(row, OSQD_USER_GROUPS_COL_UID, uid);
	osqd_row_set_int(row, OSQD_USER_GROUPS_COL_GID, gid);
}

gboolean
osqd_table_user_groups_generate(OsqdTableContext *ctx, OsqdRowSink *sink, GError **error)
{
	g_autoptr(GArray) uids = osqd_table_context_int_equals(ctx, OSQD_USER_GROUPS_COL_UID);
	g_autoptr(GArray) gids = osqd_table_context_int_equals(ctx, OSQD_USER_GROUPS_COL_GID);
	g_autoptr(GHashTable) seen_uids = g_hash_table_new(g_direct_hash, g_direct_equal);
	g_autoptr(GHashTable) memberships = NULL;
	g_autoptr(GHashTable) wanted = NULL;
	g_autoptr(GArray) emitted = g_array_new(FALSE, FALSE, sizeof(guint32));
	g_autofree gchar *passwd_contents = NULL, *group_contents = NULL;
	g_autoptr(GArray) users = NULL;
	g_autoptr(GArray) groups = NULL;
	g_autoptr(GError) error_local = NULL;

	if ((uids != NULL && uids->len == 0) || (gids != NULL && gids->len == 0))
		return TRUE;
	if (!osqd_accounts_load_passwd(ctx, &passwd_contents, &users, error))
		return FALSE;
	/* without /etc/group, getgrouplist() still gives the primary group */
	if (!accounts_load_group(ctx, &group_contents, &groups, &error_local)) {
		g_debug("%s", error_local->message);
		groups = g_array_new(FALSE, FALSE, sizeof(OsqdAccountsGroup));
	}
	if (uids != NULL) {
		/* index only the memberships of the users asked for */
		wanted = g_hash_table_new(g_str_hash, g_str_equal);
		for (guint i = 0; i < users->len; i++) {
			const OsqdAccountsPasswd *user =
			        &g_array_index(users, OsqdAccountsPasswd, i);
			if (osqd_accounts_int_in(uids, user->uid))
				g_hash_table_add(wanted, (gpointer)user->name);
		}
	}
	memberships = osqd_accounts_index_members(groups, wanted);
	for (guint i = 0; i < users->len; i++) {
		const OsqdAccountsPasswd *user = &g_array_index(users, OsqdAccountsPasswd, i);
		GArray *member_of;
		if (uids != NULL && !osqd_accounts_int_in(uids, user->uid))
			continue;
		/* a uid listed twice is reported once, with its first entry's groups */
		if (!g_hash_table_add(seen_uids, GUINT_TO_POINTER(user->uid)))
			continue;
		g_array_set_size(emitted, 0);
		user_groups_add(sink, gids, emitted, user->uid, user->gid);
		member_of = g_hash_table_lookup(memberships, user->name);
		for (guint j = 0; member_of != NULL && j < member_of->len; j++)
			user_groups_add(sink, gids, emitted, user->uid,
			                g_array_index(member_of, guint32, j));
	}
	return TRUE;
}

/* ---- logged_in_users ---- */

static void
logged_in_users_add_cb(const OsqdAccountsUtmp *record, gpointer user_data)
{
	OsqdRowSink *sink = user_data;
	OsqdRow *row;

	if (record->pid == 1) /* init's own bookkeeping records */
		return;
	row = osqd_row_sink_append(sink);
	osqd_row_set_text(row, OSQD_LOGGED_IN_USERS_COL_TYPE,
	                  osqd_accounts_login_type_name(record->type));
	osqd_row_set_text(row, OSQD_LOGGED_IN_USERS_COL_USER, record->user);
	osqd_row_set_text(row, OSQD_LOGGED_IN_USERS_COL_TTY, record->line);
	osqd_row_set_text(row, OSQD_LOGGED_IN_USERS_COL_HOST, record->host);
	osqd_row_set_int(row, OSQD_LOGGED_IN_USERS_COL_TIME, record->time);
	osqd_row_set_int(row, OSQD_LOGGED_IN_USERS_COL_PID, record->pid);
}

gboolean
osqd_table_logged_in_users_generate(OsqdTableContext *ctx, OsqdRowSink *sink, GError **error)
{
	gboolean found = FALSE;

	if (!accounts_read_utmp(ctx, "/var/run/utmp", logged_in_users_add_cb, sink, &found, error))
		return FALSE;
	if (found)
		return TRUE;
	return accounts_read_utmp(ctx, "/run/utmp", logged_in_users_add_cb, sink, &found, error);
}

/* ---- last ---- */

static void
last_add_cb(const OsqdAccountsUtmp *record, gpointer user_data)
{
	OsqdRowSink *sink = user_data;
	OsqdRow *row;

	if (record->type != ACCOUNTS_UT_USER_PROCESS && record->type != ACCOUNTS_UT_DEAD_PROCESS)
		return;
	row = osqd_row_sink_append(sink);
	osqd_row_set_text(row, OSQD_LAST_COL_USERNAME, record->user);
	osqd_row_set_text(row, OSQD_LAST_COL_TTY, record->line);
	osqd_row_set_int(row, OSQD_LAST_COL_PID, record->pid);
	osqd_row_set_int(row, OSQD_LAST_COL_TYPE, record->type);
	osqd_row_set_text(row, OSQD_LAST_COL_TYPE_NAME, osqd_accounts_last_type_name(record->type));
	osqd_row_set_int(row, OSQD_LAST_COL_TIME, record->time);
	osqd_row_set_text(row, OSQD_LAST_COL_HOST, record->host);
}

gboolean
osqd_table_last_generate(OsqdTableContext *ctx, OsqdRowSink *sink, GError **error)
{
	gboolean found = FALSE;

	return accounts_read_utmp(ctx, "/var/log/wtmp", last_add_cb, sink, &found, error);
}
