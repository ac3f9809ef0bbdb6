/* SPDX-License-Identifier: Apache-2.0
 *
 * Package tables. deb_packages reads the dpkg status database (<admindir>/status, a few MB on a
 * desktop) in 256 KiB chunks and parses each in one pass, pointing into the buffer instead of
 * copying lines; a `name =` / `name IN (...)` constraint skips other stanzas before any row work,
 * and the query is checked for cancellation every 100 stanzas. apt_sources reads sources.list,
 * sources.list.d/ *.list and *.sources, then the head of each repository's cached Release file.
 */
#include "config.h"

#include "packages.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "osqd-tables-generated.h"

#define PACKAGES_DEFAULT_ADMINDIR "/var/lib/dpkg"
#define PACKAGES_CHUNK            (256u * 1024)
#define PACKAGES_STANZA_MAX       (64u * 1024 * 1024)
#define PACKAGES_CHECK_EVERY      100
#define PACKAGES_SOURCES_MAX      (4u * 1024 * 1024)
#define PACKAGES_RELEASE_HEAD     (64u * 1024) /* the fields come before the checksum lists */
#define PACKAGES_APT_LISTS        "/var/lib/apt/lists/"

/* ---- dpkg status database ---- */

#define PACKAGES_FIELD(name, member)                                                               \
	{                                                                                          \
		name, sizeof(name) - 1, G_STRUCT_OFFSET(OsqdPackagesStanza, member)                \
	}

static const struct {
	const gchar *name;
	gsize len;
	glong offset;
} packages_fields[] = {
	PACKAGES_FIELD("Package", package),
	PACKAGES_FIELD("Status", status),
	PACKAGES_FIELD("Priority", priority),
	PACKAGES_FIELD("Section", section),
	PACKAGES_FIELD("Installed-Size", installed_size),
	PACKAGES_FIELD("Maintainer", maintainer),
	PACKAGES_FIELD("Architecture", architecture),
	PACKAGES_FIELD("Source", source),
	PACKAGES_FIELD("Version", version),
};

static const gchar *const packages_wants[] = { "unknown",   "install", "hold",
	                                       "deinstall", "purge",   NULL };
static const gchar *const packages_eflags[] = { "ok", "reinstreq", NULL };
static const gchar *const packages_states[] = {
	"not-installed",    "config-files",     "half-installed", "unpacked", "half-configured",
	"triggers-awaited", "triggers-pending", "installed",      NULL
};
static const gchar *const packages_priorities[] = { "required", "important", "standard",
	                                            "optional", "extra",     NULL };

static const gchar *
packages_line_end(const gchar *p, const gchar *end)
{
	const gchar *newline = memchr(p, '\n', (gsize)(end - p));

	return newline != NULL ? newline : end;
}

static gboolean
packages_is_blank(const gchar *p, const gchar *eol)
{
	for (; p < eol; p++) {
		if (*p != ' ' && *p != '\t' && *p != '\r')
			return FALSE;
	}
	return TRUE;
}

static OsqdPackagesSpan
packages_trim(const gchar *p, const gchar *eol)
{
	OsqdPackagesSpan span;

	while (p < eol && g_ascii_isspace(*p))
		p++;
	while (eol > p && g_ascii_isspace(eol[-1]))
		eol--;
	span.data = p;
	span.len = (gsize)(eol - p);
	return span;
}

/* ASCII case-insensitive comparison of @len bytes, inlined: it runs for every field line. */
static inline gboolean
packages_name_equal(const gchar *a, const gchar *b, gsize len)
{
	for (gsize i = 0; i < len; i++) {
		gchar x = a[i], y = b[i];
		if (x >= 'A' && x <= 'Z')
			x = (gchar)(x + ('a' - 'A'));
		if (y >= 'A' && y <= 'Z')
			y = (gchar)(y + ('a' - 'A'));
		if (x != y)
			return FALSE;
	}
	return TRUE;
}

static OsqdPackagesSpan *
packages_stanza_field(OsqdPackagesStanza *stanza, const gchar *name, gsize len)
{
	gchar first = g_ascii_toupper(name[0]);

	for (guint i = 0; i < G_N_ELEMENTS(packages_fields); i++) {
		if (packages_fields[i].len == len && packages_fields[i].name[0] == first &&
		    packages_name_equal(packages_fields[i].name, name, len))
			return G_STRUCT_MEMBER_P(stanza, packages_fields[i].offset);
	}
	return NULL;
}

gboolean
osqd_packages_next_stanza(const gchar **cursor, const gchar *end, guint *line,
                          OsqdPackagesStanza *stanza)
{
	const gchar *p = *cursor;
	gboolean field_seen = FALSE;

	memset(stanza, 0, sizeof(*stanza));
	while (p < end) {
		const gchar *eol = packages_line_end(p, end);
		if (!packages_is_blank(p, eol))
			break;
		p = eol < end ? eol + 1 : end;
		(*line)++;
	}
	if (p >= end) {
		*cursor = end;
		return FALSE;
	}
	stanza->line = *line;
	while (p < end) {
		const gchar *eol = packages_line_end(p, end);
		const gchar *colon;

		if (packages_is_blank(p, eol))
			break; /* the next call skips it */
		if (*p == ' ' || *p == '\t') {
			/* continuation of a multi-line field (Description, Conffiles...) */
			stanza->malformed |= !field_seen;
		} else if (*p == '#') {
			/* comment line */
		} else if ((colon = memchr(p, ':', (gsize)(eol - p))) == NULL || colon == p) {
			stanza->malformed = TRUE;
		} else {
			OsqdPackagesSpan *field =
			        packages_stanza_field(stanza, p, (gsize)(colon - p));
			field_seen = TRUE;
			if (field != NULL && field->data == NULL)
				*field = packages_trim(colon + 1, eol);
		}
		p = eol < end ? eol + 1 : end;
		(*line)++;
	}
	*cursor = p;
	return TRUE;
}

static gint
packages_word_index(const gchar *const *words, const gchar *word, gsize len)
{
	for (gint i = 0; words[i] != NULL; i++) {
		if (strlen(words[i]) == len && g_ascii_strncasecmp(words[i], word, len) == 0)
			return i;
	}
	return -1;
}

gboolean
osqd_packages_parse_status(OsqdPackagesSpan value, gchar *out, gsize out_size,
                           OsqdPackagesState *state)
{
	const gchar *const *tables[] = { packages_wants, packages_eflags, packages_states };
	const gchar *p = value.data, *end = value.data + value.len;
	gint found[G_N_ELEMENTS(tables)];

	if (p == NULL)
		return FALSE;
	for (guint i = 0; i < G_N_ELEMENTS(tables); i++) {
		const gchar *word;
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		word = p;
		while (p < end && *p != ' ' && *p != '\t')
			p++;
		found[i] = packages_word_index(tables[i], word, (gsize)(p - word));
		if (found[i] < 0)
			return FALSE;
	}
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (p != end)
		return FALSE;
	{
		const gchar *const parts[] = { packages_wants[found[0]], packages_eflags[found[1]],
			                       packages_states[found[2]] };
		gsize n = 0;
		for (guint i = 0; i < G_N_ELEMENTS(parts); i++) {
			gsize part = strlen(parts[i]);
			if (n + part + 1 > out_size)
				return FALSE;
			memcpy(out + n, parts[i], part);
			n += part;
			out[n++] = i + 1 < G_N_ELEMENTS(parts) ? ' ' : '\0';
		}
	}
	*state = (OsqdPackagesState)found[2];
	return TRUE;
}

gboolean
osqd_packages_parse_version(OsqdPackagesSpan value, OsqdPackagesSpan *shown,
                            OsqdPackagesSpan *revision)
{
	const gchar *end = value.data + value.len;
	const gchar *upstream = value.data, *colon, *hyphen = NULL;

	if (value.data == NULL || value.len == 0)
		return FALSE;
	*shown = value;
	colon = memchr(value.data, ':', value.len);
	if (colon != NULL) {
		gboolean zero = colon > value.data;
		for (const gchar *q = value.data; q < colon; q++)
			zero = zero && *q == '0';
		upstream = colon + 1;
		/* dpkg prints a zero epoch only when a later colon would make it ambiguous */
		if (zero && memchr(upstream, ':', (gsize)(end - upstream)) == NULL) {
			shown->data = upstream;
			shown->len = (gsize)(end - upstream);
		}
	}
	for (const gchar *q = upstream; q < end; q++) {
		if (*q == '-')
			hyphen = q;
	}
	revision->data = hyphen != NULL ? hyphen + 1 : end;
	revision->len = hyphen != NULL ? (gsize)(end - hyphen - 1) : 0;
	return TRUE;
}

OsqdPackagesSpan
osqd_packages_priority_name(OsqdPackagesSpan value)
{
	OsqdPackagesSpan span = value;
	gint i;

	if (value.data == NULL || value.len == 0) {
		span.data = "unknown";
		span.len = strlen(span.data);
		return span;
	}
	i = packages_word_index(packages_priorities, value.data, value.len);
	if (i >= 0) {
		span.data = packages_priorities[i];
		span.len = strlen(span.data);
	}
	return span;
}

static void
packages_row_set_span(OsqdRow *row, guint column, OsqdPackagesSpan span)
{
	if (span.data != NULL)
		osqd_row_set_text_len(row, column, span.data, (gssize)span.len);
}

static gint
packages_compare_strings(gconstpointer a, gconstpointer b)
{
	return strcmp(*(const gchar *const *)a, *(const gchar *const *)b);
}

/* Whether @name is in @names (sorted by strcmp); NULL means every name is wanted. */
static gboolean
packages_name_wanted(GPtrArray *names, OsqdPackagesSpan name)
{
	guint low = 0, high;

	if (names == NULL)
		return TRUE;
	high = names->len;
	while (low < high) {
		guint middle = low + (high - low) / 2;
		const gchar *candidate = g_ptr_array_index(names, middle);
		gsize len = strlen(candidate);
		gint cmp = memcmp(candidate, name.data, MIN(len, name.len));
		if (cmp == 0)
			cmp = len < name.len ? -1 : len > name.len;
		if (cmp == 0)
			return TRUE;
		if (cmp < 0)
			low = middle + 1;
		else
			high = middle;
	}
	return FALSE;
}

static gboolean
packages_deb_parse_size(OsqdPackagesSpan span, gint64 *size)
{
	gint64 value = 0;

	if (span.data == NULL || span.len == 0 || span.len > 18)
		return FALSE;
	for (gsize i = 0; i < span.len; i++) {
		if (!g_ascii_isdigit(span.data[i]))
			return FALSE;
		value = value * 10 + (span.data[i] - '0');
	}
	*size = value;
	return TRUE;
}

static void
packages_deb_add_row(OsqdRowSink *sink, const OsqdPackagesStanza *stanza, const gchar *admindir)
{
	gchar status[64];
	OsqdPackagesState state;
	OsqdPackagesSpan version = { NULL, 0 }, revision = { NULL, 0 };
	gboolean has_version;
	gint64 size;
	OsqdRow *row;

	if (stanza->malformed) {
		g_debug("deb_packages: %s/status: skipping malformed stanza at line %u", admindir,
		        stanza->line);
		return;
	}
	if (!osqd_packages_parse_status(stanza->status, status, sizeof(status), &state)) {
		g_debug("deb_packages: %s/status: bad or missing Status at line %u", admindir,
		        stanza->line);
		return;
	}
	if (state == OSQD_PACKAGES_STATE_NOT_INSTALLED)
		return;
	has_version = osqd_packages_parse_version(stanza->version, &version, &revision);
	if (!has_version && state > OSQD_PACKAGES_STATE_CONFIG_FILES) {
		g_debug("deb_packages: %s/status: no Version for the package at line %u", admindir,
		        stanza->line);
		return;
	}
	row = osqd_row_sink_append(sink);
	packages_row_set_span(row, OSQD_DEB_PACKAGES_COL_NAME, stanza->package);
	packages_row_set_span(row, OSQD_DEB_PACKAGES_COL_VERSION, version);
	packages_row_set_span(row, OSQD_DEB_PACKAGES_COL_SOURCE, stanza->source);
	if (packages_deb_parse_size(stanza->installed_size, &size))
		osqd_row_set_int(row, OSQD_DEB_PACKAGES_COL_SIZE, size);
	packages_row_set_span(row, OSQD_DEB_PACKAGES_COL_ARCH, stanza->architecture);
	packages_row_set_span(row, OSQD_DEB_PACKAGES_COL_REVISION, revision);
	osqd_row_set_text(row, OSQD_DEB_PACKAGES_COL_STATUS, status);
	packages_row_set_span(row, OSQD_DEB_PACKAGES_COL_MAINTAINER, stanza->maintainer);
	packages_row_set_span(row, OSQD_DEB_PACKAGES_COL_SECTION, stanza->section);
	packages_row_set_span(row, OSQD_DEB_PACKAGES_COL_PRIORITY,
	                      osqd_packages_priority_name(stanza->priority));
	osqd_row_set_text(row, OSQD_DEB_PACKAGES_COL_ADMINDIR, admindir);
}

/* End of the last complete stanza in @buf: just after its last empty line, 0 if none. */
static gsize
packages_deb_last_boundary(const gchar *buf, gsize len)
{
	for (gsize i = len; i >= 2; i--) {
		if (buf[i - 1] != '\n')
			continue;
		if (buf[i - 2] == '\n' || (i >= 3 && buf[i - 2] == '\r' && buf[i - 3] == '\n'))
			return i;
	}
	return 0;
}

typedef struct {
	const gchar *admindir;
	GPtrArray *names;
	guint line;
	guint count;
} PackagesDebScan;

static gboolean
packages_deb_parse(OsqdTableContext *ctx, OsqdRowSink *sink, PackagesDebScan *scan,
                   const gchar *buf, gsize len, GError **error)
{
	const gchar *cursor = buf, *end = buf + len;
	OsqdPackagesStanza stanza;

	while (osqd_packages_next_stanza(&cursor, end, &scan->line, &stanza)) {
		if (++scan->count % PACKAGES_CHECK_EVERY == 0 &&
		    !osqd_table_context_check(ctx, error))
			return FALSE;
		if (stanza.package.data == NULL || stanza.package.len == 0) {
			g_debug("deb_packages: %s/status: no Package at line %u", scan->admindir,
			        stanza.line);
			continue;
		}
		if (!packages_name_wanted(scan->names, stanza.package))
			continue;
		packages_deb_add_row(sink, &stanza, scan->admindir);
	}
	return TRUE;
}

/* Reads <admindir>/status in chunks and parses every complete stanza as soon as it is in the
 * buffer: one pass, no per-line copies, and a small buffer the kernel fills without faulting
 * in megabytes of fresh pages. */
static gboolean
packages_deb_scan(OsqdTableContext *ctx, OsqdRowSink *sink, const gchar *admindir, GPtrArray *names,
                  GError **error)
{
	g_autofree gchar *path = osqd_table_context_path(ctx, "%s/status", admindir);
	g_autofree gchar *buf = NULL;
	PackagesDebScan scan = { admindir, names, 1, 0 };
	gsize size = PACKAGES_CHUNK, len = 0;
	gboolean eof = FALSE, ok = TRUE;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0) {
		int saved = errno;
		g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(saved), "%s: %s", path,
		            g_strerror(saved));
		return FALSE;
	}
	buf = g_malloc(size);
	while (ok && !eof) {
		gsize parse_end;
		ssize_t n;

		if (len == size) {
			if (size >= PACKAGES_STANZA_MAX) {
				g_set_error(error, OSQ_ERROR, OSQ_ERROR_LIMIT,
				            "%s: a stanza is larger than %u bytes", path,
				            PACKAGES_STANZA_MAX);
				ok = FALSE;
				break;
			}
			size *= 2;
			buf = g_realloc(buf, size);
		}
		n = read(fd, buf + len, size - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int saved = errno;
			g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(saved), "%s: %s",
			            path, g_strerror(saved));
			ok = FALSE;
			break;
		}
		eof = n == 0;
		len += (gsize)n;
		parse_end = eof ? len : packages_deb_last_boundary(buf, len);
		if (parse_end == 0)
			continue;
		ok = packages_deb_parse(ctx, sink, &scan, buf, parse_end, error);
		memmove(buf, buf + parse_end, len - parse_end);
		len -= parse_end;
	}
	(void)close(fd);
	return ok;
}

gboolean
osqd_table_deb_packages_generate(OsqdTableContext *ctx, OsqdRowSink *sink, GError **error)
{
	g_autoptr(GPtrArray) admindirs =
	        osqd_table_context_text_equals(ctx, OSQD_DEB_PACKAGES_COL_ADMINDIR);
	g_autoptr(GPtrArray) names =
	        osqd_table_context_text_equals(ctx, OSQD_DEB_PACKAGES_COL_NAME);

	if (names != NULL)
		g_ptr_array_sort(names, packages_compare_strings);
	if (admindirs == NULL) {
		g_autoptr(GError) error_local = NULL;
		if (packages_deb_scan(ctx, sink, PACKAGES_DEFAULT_ADMINDIR, names, &error_local))
			return TRUE;
		/* not a Debian system: no packages rather than an error */
		if (g_error_matches(error_local, G_FILE_ERROR, G_FILE_ERROR_NOENT)) {
			g_debug("deb_packages: %s", error_local->message);
			return TRUE;
		}
		if (error_local->domain == G_FILE_ERROR) {
			g_set_error(error, OSQ_ERROR, OSQ_ERROR_IO,
			            "cannot read the dpkg database: %s", error_local->message);
			return FALSE;
		}
		g_propagate_error(error, g_steal_pointer(&error_local));
		return FALSE;
	}
	for (guint i = 0; i < admindirs->len; i++) {
		const gchar *admindir = g_ptr_array_index(admindirs, i);
		g_autoptr(GError) error_local = NULL;

		if (admindir[0] != '/') {
			g_debug("deb_packages: admindir '%s' is not an absolute path", admindir);
			continue;
		}
		/* osqd reads as root: a client that may not read sensitive data may not have it
		 * read another directory's files for it */
		if (!osqd_table_context_is_privileged(ctx) &&
		    g_strcmp0(admindir, PACKAGES_DEFAULT_ADMINDIR) != 0) {
			g_set_error(
			        error, OSQ_ERROR, OSQ_ERROR_PERMISSION_DENIED,
			        "deb_packages: only root (or a peer allowed sensitive data) may "
			        "read another admindir than %s",
			        PACKAGES_DEFAULT_ADMINDIR);
			return FALSE;
		}
		if (packages_deb_scan(ctx, sink, admindir, names, &error_local))
			continue;
		if (error_local->domain == OSQ_ERROR && error_local->code != OSQ_ERROR_LIMIT) {
			g_propagate_error(error, g_steal_pointer(&error_local));
			return FALSE; /* cancelled or timed out */
		}
		g_debug("deb_packages: %s", error_local->message);
	}
	return TRUE;
}

/* ---- APT sources ---- */

void
osqd_packages_apt_source_free(OsqdPackagesAptSource *source)
{
	if (source == NULL)
		return;
	g_free(source->name);
	g_free(source->base_uri);
	g_free(source->cache);
	g_free(source);
}

/* apt's URItoFileName(): the URI of the Release file's directory, without scheme and
 * credentials, with unsafe characters %-quoted and '/' turned into '_'. */
static gchar *
packages_apt_cache_name(const gchar *rest, const gchar *suite)
{
	static const gchar quoted[] = "\\|{}[]<>\"^~_=!@#$%^&*";
	g_autoptr(GString) uri = g_string_new(NULL);
	GString *name = g_string_new(NULL);
	const gchar *slash = strchr(rest, '/');
	const gchar *host_end = slash != NULL ? slash : rest + strlen(rest);

	for (const gchar *q = rest; q < host_end; q++) {
		if (*q == '@')
			rest = q + 1;
	}
	g_string_append(uri, rest);
	g_string_append_c(uri, '/');
	if (!g_str_has_suffix(suite, "/"))
		g_string_append_printf(uri, "dists/%s/", suite);
	else if (g_strcmp0(suite, "/") != 0)
		g_string_append(uri, suite); /* an exact path (flat repository) */
	for (const gchar *q = uri->str; *q != '\0'; q++) {
		guchar c = (guchar)*q;
		if (c <= 0x20 || c >= 0x7f || strchr(quoted, c) != NULL)
			g_string_append_printf(name, "%%%02x", c);
		else
			g_string_append_c(name, c == '/' ? '_' : (gchar)c);
	}
	return g_string_free(name, FALSE);
}

static OsqdPackagesAptSource *
packages_apt_source_new(const gchar *uri, const gchar *suite)
{
	g_autoptr(OsqdPackagesAptSource) source = NULL;
	const gchar *scheme = strstr(uri, "://");
	gsize len = strlen(uri);
	const gchar *rest;

	if (scheme == NULL)
		return NULL;
	while (len > 0 && uri[len - 1] == '/')
		len--;
	if (len <= (gsize)(scheme - uri) + 3)
		return NULL; /* nothing after the scheme */
	source = g_new0(OsqdPackagesAptSource, 1);
	source->base_uri = g_strndup(uri, len);
	rest = source->base_uri + (scheme - uri) + 3;
	source->name = g_strdup_printf("%s %s", rest, suite);
	source->cache = packages_apt_cache_name(rest, suite);
	return g_steal_pointer(&source);
}

/* Whitespace-separated words of @text, without empty ones. */
static GPtrArray *
packages_split_words(const gchar *text)
{
	GPtrArray *words = g_ptr_array_new_with_free_func(g_free);
	const gchar *p = text;

	while (*p != '\0') {
		const gchar *start;
		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			p++;
		start = p;
		while (*p != '\0' && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
			p++;
		if (p > start)
			g_ptr_array_add(words, g_strndup(start, (gsize)(p - start)));
	}
	return words;
}

OsqdPackagesAptSource *
osqd_packages_parse_source_line(const gchar *line)
{
	g_autofree gchar *copy = g_strdup(line);
	g_autoptr(GPtrArray) tokens = NULL;
	gchar *hash = strchr(copy, '#');
	guint i = 1;

	if (hash != NULL)
		*hash = '\0';
	tokens = packages_split_words(copy);
	if (tokens->len < 3 || g_strcmp0(g_ptr_array_index(tokens, 0), "deb") != 0)
		return NULL;
	if (((const gchar *)g_ptr_array_index(tokens, 1))[0] == '[') {
		/* options such as [arch=amd64 signed-by=/usr/share/keyrings/x.gpg] */
		while (i < tokens->len && strchr(g_ptr_array_index(tokens, i), ']') == NULL)
			i++;
		i++;
	}
	if (i + 1 >= tokens->len)
		return NULL; /* no URI and suite after the options */
	return packages_apt_source_new(g_ptr_array_index(tokens, i),
	                               g_ptr_array_index(tokens, i + 1));
}

typedef enum {
	PACKAGES_DEB822_OTHER,
	PACKAGES_DEB822_TYPES,
	PACKAGES_DEB822_URIS,
	PACKAGES_DEB822_SUITES,
	PACKAGES_DEB822_ENABLED,
} PackagesDeb822Field;

typedef struct {
	GPtrArray *types;
	GPtrArray *uris;
	GPtrArray *suites;
	gboolean disabled;
	PackagesDeb822Field field; /* the field continuation lines add to */
} PackagesDeb822Stanza;

static void
packages_deb822_stanza_reset(PackagesDeb822Stanza *stanza)
{
	g_ptr_array_set_size(stanza->types, 0);
	g_ptr_array_set_size(stanza->uris, 0);
	g_ptr_array_set_size(stanza->suites, 0);
	stanza->disabled = FALSE;
	stanza->field = PACKAGES_DEB822_OTHER;
}

static gboolean
packages_words_contain(GPtrArray *words, const gchar *word)
{
	for (guint i = 0; i < words->len; i++) {
		if (g_strcmp0(g_ptr_array_index(words, i), word) == 0)
			return TRUE;
	}
	return FALSE;
}

static void
packages_deb822_flush(PackagesDeb822Stanza *stanza, GPtrArray *sources)
{
	if (!stanza->disabled && packages_words_contain(stanza->types, "deb")) {
		for (guint i = 0; i < stanza->uris->len; i++) {
			for (guint j = 0; j < stanza->suites->len; j++) {
				OsqdPackagesAptSource *source = packages_apt_source_new(
				        g_ptr_array_index(stanza->uris, i),
				        g_ptr_array_index(stanza->suites, j));
				if (source != NULL)
					g_ptr_array_add(sources, source);
			}
		}
	}
	packages_deb822_stanza_reset(stanza);
}

/* apt's StringToBool() words for "no". */
static gboolean
packages_deb822_is_false(const gchar *value)
{
	static const gchar *const words[] = { "no", "false", "without", "off", "disable", NULL };

	return packages_word_index(words, value, strlen(value)) >= 0;
}

static void
packages_deb822_add_words(PackagesDeb822Stanza *stanza, const gchar *value)
{
	GPtrArray *target = NULL;
	g_autoptr(GPtrArray) words = NULL;

	if (stanza->field == PACKAGES_DEB822_TYPES)
		target = stanza->types;
	else if (stanza->field == PACKAGES_DEB822_URIS)
		target = stanza->uris;
	else if (stanza->field == PACKAGES_DEB822_SUITES)
		target = stanza->suites;
	else if (stanza->field == PACKAGES_DEB822_ENABLED)
		stanza->disabled = packages_deb822_is_false(value);
	if (target == NULL)
		return;
	words = packages_split_words(value);
	for (guint i = 0; i < words->len; i++)
		g_ptr_array_add(target, g_steal_pointer(&words->pdata[i]));
}

static PackagesDeb822Field
packages_deb822_field(const gchar *key)
{
	if (g_ascii_strcasecmp(key, "Types") == 0)
		return PACKAGES_DEB822_TYPES;
	if (g_ascii_strcasecmp(key, "URIs") == 0)
		return PACKAGES_DEB822_URIS;
	if (g_ascii_strcasecmp(key, "Suites") == 0)
		return PACKAGES_DEB822_SUITES;
	if (g_ascii_strcasecmp(key, "Enabled") == 0)
		return PACKAGES_DEB822_ENABLED;
	return PACKAGES_DEB822_OTHER;
}

void
osqd_packages_parse_deb822(const gchar *text, GPtrArray *sources)
{
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
	g_autoptr(GPtrArray) types = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GPtrArray) uris = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GPtrArray) suites = g_ptr_array_new_with_free_func(g_free);
	PackagesDeb822Stanza stanza = { types, uris, suites, FALSE, PACKAGES_DEB822_OTHER };

	for (guint i = 0; lines[i] != NULL; i++) {
		gchar *line = lines[i];
		gchar *colon;

		if (packages_is_blank(line, line + strlen(line))) {
			packages_deb822_flush(&stanza, sources);
			continue;
		}
		if (line[0] == '#')
			continue;
		if (line[0] == ' ' || line[0] == '\t') {
			packages_deb822_add_words(&stanza, line);
			continue;
		}
		colon = strchr(line, ':');
		if (colon == NULL) {
			stanza.field = PACKAGES_DEB822_OTHER;
			continue;
		}
		*colon = '\0';
		stanza.field = packages_deb822_field(g_strstrip(line));
		packages_deb822_add_words(&stanza, g_strstrip(colon + 1));
	}
	packages_deb822_flush(&stanza, sources);
}

void
osqd_packages_release_clear(OsqdPackagesRelease *release)
{
	g_clear_pointer(&release->codename, g_free);
	g_clear_pointer(&release->version, g_free);
	g_clear_pointer(&release->origin, g_free);
	g_clear_pointer(&release->components, g_free);
	g_clear_pointer(&release->architectures, g_free);
}

static gchar **
packages_release_field(OsqdPackagesRelease *release, const gchar *key, gsize len)
{
	static const struct {
		const gchar *name;
		glong offset;
	} fields[] = {
		{ "Codename", G_STRUCT_OFFSET(OsqdPackagesRelease, codename) },
		{ "Version", G_STRUCT_OFFSET(OsqdPackagesRelease, version) },
		{ "Origin", G_STRUCT_OFFSET(OsqdPackagesRelease, origin) },
		{ "Components", G_STRUCT_OFFSET(OsqdPackagesRelease, components) },
		{ "Architectures", G_STRUCT_OFFSET(OsqdPackagesRelease, architectures) },
	};

	for (guint i = 0; i < G_N_ELEMENTS(fields); i++) {
		if (strlen(fields[i].name) == len && strncmp(fields[i].name, key, len) == 0)
			return G_STRUCT_MEMBER_P(release, fields[i].offset);
	}
	return NULL;
}

void
osqd_packages_parse_release(const gchar *text, OsqdPackagesRelease *release)
{
	const gchar *p = text, *end = text + strlen(text);
	gboolean in_armor = g_str_has_prefix(text, "-----BEGIN PGP SIGNED MESSAGE-----");
	gboolean fields_seen = FALSE;

	for (; p < end; p = p < end ? p + 1 : end) {
		const gchar *eol = packages_line_end(p, end), *colon;
		const gchar *line = p;
		gchar **field;

		p = eol;
		if (packages_is_blank(line, eol)) {
			in_armor = FALSE; /* the armor header ends at the first blank line */
			if (fields_seen)
				break;
			continue;
		}
		if (in_armor || line[0] == ' ' || line[0] == '\t')
			continue;
		if (g_str_has_prefix(line, "-----BEGIN PGP SIGNATURE-----"))
			break;
		colon = memchr(line, ':', (gsize)(eol - line));
		if (colon == NULL)
			continue;
		fields_seen = TRUE;
		field = packages_release_field(release, line, (gsize)(colon - line));
		if (field != NULL && *field == NULL) {
			OsqdPackagesSpan value = packages_trim(colon + 1, eol);
			if (value.len > 0)
				*field = g_strndup(value.data, value.len);
		}
	}
}

/* The cached InRelease (else Release) file of @source; FALSE when apt has none. */
static gboolean
packages_apt_read_release(OsqdTableContext *ctx, const OsqdPackagesAptSource *source,
                          OsqdPackagesRelease *release)
{
	static const gchar *const suffixes[] = { "InRelease", "Release" };

	for (guint i = 0; i < G_N_ELEMENTS(suffixes); i++) {
		g_autofree gchar *path = osqd_table_context_path(ctx, PACKAGES_APT_LISTS "%s%s",
		                                                 source->cache, suffixes[i]);
		g_autofree gchar *contents = NULL;
		g_autoptr(GError) error_local = NULL;

		if (!osqd_read_file(path, PACKAGES_RELEASE_HEAD, &contents, NULL, &error_local)) {
			if (!g_error_matches(error_local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
				g_debug("apt_sources: %s", error_local->message);
			continue;
		}
		osqd_packages_parse_release(contents, release);
		return TRUE;
	}
	return FALSE;
}

static void
packages_apt_add_rows(OsqdTableContext *ctx, OsqdRowSink *sink, const gchar *file,
                      GPtrArray *sources)
{
	for (guint i = 0; i < sources->len; i++) {
		const OsqdPackagesAptSource *source = g_ptr_array_index(sources, i);
		OsqdPackagesRelease release = { NULL };
		OsqdRow *row;

		if (!packages_apt_read_release(ctx, source, &release)) {
			g_debug("apt_sources: no cached Release file for %s", source->name);
			continue;
		}
		row = osqd_row_sink_append(sink);
		osqd_row_set_text(row, OSQD_APT_SOURCES_COL_NAME, source->name);
		osqd_row_set_text(row, OSQD_APT_SOURCES_COL_SOURCE, file);
		osqd_row_set_text(row, OSQD_APT_SOURCES_COL_BASE_URI, source->base_uri);
		osqd_row_set_text(row, OSQD_APT_SOURCES_COL_RELEASE, release.codename);
		osqd_row_set_text(row, OSQD_APT_SOURCES_COL_VERSION, release.version);
		osqd_row_set_text(row, OSQD_APT_SOURCES_COL_MAINTAINER, release.origin);
		osqd_row_set_text(row, OSQD_APT_SOURCES_COL_COMPONENTS, release.components);
		osqd_row_set_text(row, OSQD_APT_SOURCES_COL_ARCHITECTURES, release.architectures);
		osqd_packages_release_clear(&release);
	}
}

static void
packages_apt_read_file(OsqdTableContext *ctx, OsqdRowSink *sink, const gchar *file)
{
	g_autofree gchar *path = osqd_table_context_path(ctx, "%s", file);
	g_autofree gchar *contents = NULL;
	g_autoptr(GError) error_local = NULL;
	g_autoptr(GPtrArray) sources =
	        g_ptr_array_new_with_free_func((GDestroyNotify)osqd_packages_apt_source_free);

	if (!osqd_read_file(path, PACKAGES_SOURCES_MAX, &contents, NULL, &error_local)) {
		g_debug("apt_sources: %s", error_local->message);
		return;
	}
	if (g_str_has_suffix(file, ".sources")) {
		osqd_packages_parse_deb822(contents, sources);
	} else {
		g_auto(GStrv) lines = g_strsplit(contents, "\n", -1);
		for (guint i = 0; lines[i] != NULL; i++) {
			OsqdPackagesAptSource *source = osqd_packages_parse_source_line(lines[i]);
			if (source != NULL)
				g_ptr_array_add(sources, source);
		}
	}
	packages_apt_add_rows(ctx, sink, file, sources);
}

/* /etc/apt/sources.list.d entries ending in @suffix, sorted, as host paths. */
static void
packages_apt_list_dir(OsqdTableContext *ctx, const gchar *suffix, GPtrArray *files)
{
	g_autofree gchar *dir_path = osqd_table_context_path(ctx, "/etc/apt/sources.list.d");
	g_autoptr(GDir) dir = g_dir_open(dir_path, 0, NULL);
	g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
	const gchar *entry;

	if (dir == NULL)
		return;
	while ((entry = g_dir_read_name(dir)) != NULL) {
		g_autofree gchar *path = NULL;
		if (entry[0] == '.' || !g_str_has_suffix(entry, suffix))
			continue;
		path = g_build_filename(dir_path, entry, NULL);
		if (g_file_test(path, G_FILE_TEST_IS_REGULAR))
			g_ptr_array_add(names, g_strdup(entry));
	}
	g_ptr_array_sort(names, packages_compare_strings);
	for (guint i = 0; i < names->len; i++) {
		g_ptr_array_add(files,
		                g_strconcat("/etc/apt/sources.list.d/",
		                            (const gchar *)g_ptr_array_index(names, i), NULL));
	}
}

gboolean
osqd_table_apt_sources_generate(OsqdTableContext *ctx, OsqdRowSink *sink, GError **error)
{
	g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func(g_free);
	g_autofree gchar *main_list = osqd_table_context_path(ctx, "/etc/apt/sources.list");

	if (g_file_test(main_list, G_FILE_TEST_IS_REGULAR))
		g_ptr_array_add(files, g_strdup("/etc/apt/sources.list"));
	packages_apt_list_dir(ctx, ".list", files);
	packages_apt_list_dir(ctx, ".sources", files);
	for (guint i = 0; i < files->len; i++) {
		if (!osqd_table_context_check(ctx, error))
			return FALSE;
		packages_apt_read_file(ctx, sink, g_ptr_array_index(files, i));
	}
	return TRUE;
}
