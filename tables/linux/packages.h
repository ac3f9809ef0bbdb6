/* SPDX-License-Identifier: Apache-2.0
 *
 * Pure parsers behind the package tables (deb_packages, apt_sources), exposed for unit tests:
 * the dpkg status database, sources.list lines, deb822 .sources stanzas and cached Release
 * files. They do no I/O; the generators in packages.c read the files and call them.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A piece of a larger buffer; not NUL-terminated. data is NULL when the field is absent. */
typedef struct {
	const gchar *data;
	gsize len;
} OsqdPackagesSpan;

/* The fields of one dpkg status stanza that deb_packages reports. */
typedef struct {
	OsqdPackagesSpan package;
	OsqdPackagesSpan status;
	OsqdPackagesSpan priority;
	OsqdPackagesSpan section;
	OsqdPackagesSpan installed_size;
	OsqdPackagesSpan maintainer;
	OsqdPackagesSpan architecture;
	OsqdPackagesSpan source;
	OsqdPackagesSpan version;
	guint line;         /* 1-based line of the stanza's first field */
	gboolean malformed; /* a line that is neither "Field: value" nor a continuation */
} OsqdPackagesStanza;

/* Finds the next stanza in [*cursor, end) and moves *cursor past it; *line counts lines
 * (start it at 1). Returns FALSE when only blank lines are left. */
gboolean osqd_packages_next_stanza(const gchar **cursor, const gchar *end, guint *line,
                                   OsqdPackagesStanza *stanza);

/* dpkg's package states, in dpkg's order. */
typedef enum {
	OSQD_PACKAGES_STATE_NOT_INSTALLED,
	OSQD_PACKAGES_STATE_CONFIG_FILES,
	OSQD_PACKAGES_STATE_HALF_INSTALLED,
	OSQD_PACKAGES_STATE_UNPACKED,
	OSQD_PACKAGES_STATE_HALF_CONFIGURED,
	OSQD_PACKAGES_STATE_TRIGGERS_AWAITED,
	OSQD_PACKAGES_STATE_TRIGGERS_PENDING,
	OSQD_PACKAGES_STATE_INSTALLED,
} OsqdPackagesState;

/* Checks a Status value ("want eflag state") the way dpkg does and writes its normalised form
 * (lower case, single spaces) into @out. Returns FALSE for a value dpkg would reject. */
gboolean osqd_packages_parse_status(OsqdPackagesSpan value, gchar *out, gsize out_size,
                                    OsqdPackagesState *state);

/* Splits a Version value: @shown is the version as dpkg prints it (a zero epoch dropped),
 * @revision the part after the last hyphen (empty, not absent, when there is none). Returns
 * FALSE for an empty version. */
gboolean osqd_packages_parse_version(OsqdPackagesSpan value, OsqdPackagesSpan *shown,
                                     OsqdPackagesSpan *revision);

/* Priority as dpkg names it: the known names in lower case, "unknown" when absent, anything
 * else as written. */
OsqdPackagesSpan osqd_packages_priority_name(OsqdPackagesSpan value);

/* One repository of an APT sources file. */
typedef struct {
	gchar *name;     /* URI without its scheme, a space, the suite */
	gchar *base_uri; /* the URI without trailing slashes */
	gchar *cache;    /* /var/lib/apt/lists file name prefix of its Release files */
} OsqdPackagesAptSource;

void osqd_packages_apt_source_free(OsqdPackagesAptSource *source);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(OsqdPackagesAptSource, osqd_packages_apt_source_free)

/* The repository a one-line sources.list line declares, or NULL for comments, deb-src lines
 * and lines apt could not use. */
OsqdPackagesAptSource *osqd_packages_parse_source_line(const gchar *line);

/* Appends the repositories of every enabled deb822 stanza of @text (a .sources file) that
 * covers binary packages to @sources (of OsqdPackagesAptSource *): one per URI and suite. */
void osqd_packages_parse_deb822(const gchar *text, GPtrArray *sources);

/* The fields of a cached (In)Release file that apt_sources reports; NULL when absent. */
typedef struct {
	gchar *codename;
	gchar *version;
	gchar *origin;
	gchar *components;
	gchar *architectures;
} OsqdPackagesRelease;

void osqd_packages_release_clear(OsqdPackagesRelease *release);
void osqd_packages_parse_release(const gchar *text, OsqdPackagesRelease *release);

G_END_DECLS
