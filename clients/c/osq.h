/* SPDX-License-Identifier: Apache-2.0
 *
 * libosq: query an osq daemon (osqd), or an osquery daemon, over its Unix socket. Plain C types
 * only: no Thrift, GLib or GObject type appears here, so any C (or FFI) program can use it.
 *
 * Threads: an OsqClient holds one connection and a mutex; calls on one client from several
 * threads are safe and run one after the other (a thread that wants its queries to run in
 * parallel uses a client of its own). osq_client_cancel() may be called from any thread or
 * from a signal handler. An OsqResult or OsqExtensionList is read-only once returned and may be
 * read from any thread.
 *
 * Errors: failable calls return 0 (OSQ_CLIENT_OK) on success, or an OsqClientErrorCode; when
 * @error is not NULL it is then set to a new OsqClientError (free it with
 * osq_client_error_free()). Functions that return a pointer return NULL on failure.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define OSQ_PUBLIC __attribute__((visibility("default")))
#else
#define OSQ_PUBLIC
#endif

#define OSQ_CLIENT_VERSION_MAJOR 0
#define OSQ_CLIENT_VERSION_MINOR 1
#define OSQ_CLIENT_VERSION_MICRO 0

/* The default largest reply a client accepts (osq_client_set_max_reply_size()). */
#define OSQ_CLIENT_DEFAULT_MAX_REPLY_SIZE ((size_t)256 * 1024 * 1024)

/* Codes 1-10 are the daemon's status codes (a query's status carries them); the others are
 * the client's own. */
typedef enum {
	OSQ_CLIENT_OK = 0,
	OSQ_CLIENT_ERROR_FAILED = 1,           /* the query failed (e.g. a SQL error) */
	OSQ_CLIENT_ERROR_INVALID_ARGUMENT = 2, /* bad input from the caller */
	OSQ_CLIENT_ERROR_NOT_SUPPORTED = 3,    /* the daemon cannot do this */
	OSQ_CLIENT_ERROR_PERMISSION_DENIED = 4,
	OSQ_CLIENT_ERROR_CONSTRAINT = 5, /* a table needs a constraint the query lacks */
	OSQ_CLIENT_ERROR_CANCELLED = 6,  /* osq_client_cancel(), or the daemon cancelled */
	OSQ_CLIENT_ERROR_TIMED_OUT = 7,
	OSQ_CLIENT_ERROR_LIMIT = 8,      /* a reply larger than the maximum; a daemon cap */
	OSQ_CLIENT_ERROR_NOT_FOUND = 9,  /* no socket at the path */
	OSQ_CLIENT_ERROR_IO = 10,        /* cannot connect; the connection broke or was closed */
	OSQ_CLIENT_ERROR_PROTOCOL = 20,  /* a malformed or unexpected reply */
	OSQ_CLIENT_ERROR_EXCEPTION = 21, /* the daemon answered with a Thrift exception */
	OSQ_CLIENT_ERROR_TYPE = 22,      /* a value is NULL or not of the type asked for */
} OsqClientErrorCode;

typedef struct {
	int code;      /* an OsqClientErrorCode */
	char *message; /* for people, UTF-8 */
} OsqClientError;

/* Column types, as osquery names them in getQueryColumns. */
typedef enum {
	OSQ_COLUMN_TYPE_UNKNOWN = 0,
	OSQ_COLUMN_TYPE_TEXT,
	OSQ_COLUMN_TYPE_INTEGER,
	OSQ_COLUMN_TYPE_BIGINT,
	OSQ_COLUMN_TYPE_UNSIGNED_BIGINT,
	OSQ_COLUMN_TYPE_DOUBLE,
	OSQ_COLUMN_TYPE_BLOB,
} OsqColumnType;

typedef struct OsqClient OsqClient;
typedef struct OsqResult OsqResult;
typedef struct OsqExtensionList OsqExtensionList;

/* One registered extension; owned by its OsqExtensionList (never allocate one). */
typedef struct {
	int64_t uuid;
	const char *name;
	const char *version;
	const char *sdk_version;
	const char *min_sdk_version;
} OsqExtensionInfo;

OSQ_PUBLIC void osq_client_error_free(OsqClientError *error);
/* The library's version, "0.1.0". */
OSQ_PUBLIC const char *osq_client_version(void);

/* Connects to the daemon's socket. @timeout_ms bounds connecting and every later call (one
 * request and its whole reply); 0 means no limit. */
OSQ_PUBLIC OsqClient *osq_client_new(const char *socket_path, int timeout_ms,
                                     OsqClientError **error);
/* Closes the connection. NULL is ignored. */
OSQ_PUBLIC void osq_client_free(OsqClient *client);

OSQ_PUBLIC void osq_client_set_timeout(OsqClient *client, int timeout_ms);
OSQ_PUBLIC int osq_client_get_timeout(OsqClient *client);
/* Replies larger than @size bytes fail with OSQ_CLIENT_ERROR_LIMIT (and close the
 * connection); the default is OSQ_CLIENT_DEFAULT_MAX_REPLY_SIZE. */
OSQ_PUBLIC void osq_client_set_max_reply_size(OsqClient *client, size_t size);
OSQ_PUBLIC const char *osq_client_get_socket_path(OsqClient *client);
/* Whether the client holds an open connection now. A call that times out, is cancelled or
 * finds the connection broken closes it (a half-read reply never leaves the stream out of
 * step); the next call connects again. */
OSQ_PUBLIC bool osq_client_is_connected(OsqClient *client);
/* Whether the daemon answers osq's typed query (an osq daemon), as far as known: true until a
 * daemon answers that it does not (osquery). */
OSQ_PUBLIC bool osq_client_is_typed(OsqClient *client);

/* Makes the call running on @client (if any) fail soon with OSQ_CLIENT_ERROR_CANCELLED and
 * closes its connection, so the daemon stops the query. Async-signal-safe. */
OSQ_PUBLIC void osq_client_cancel(OsqClient *client);

OSQ_PUBLIC int osq_client_ping(OsqClient *client, OsqClientError **error);

/* Runs @sql and returns its rows with column names, types and NULLs. Uses osq's paged
 * queryStart/queryNext (the daemon computes the next page while this one is parsed), or
 * queryTyped with an osqd that lacks them; an osquery daemon has neither, and then osquery's
 * getQueryColumns + query are used:
 * values are the same text, but osquery sends a NULL as "", so in that case an empty value of
 * a non-TEXT column reads as NULL. A failing query returns its status code (usually
 * OSQ_CLIENT_ERROR_FAILED) and the daemon's message. */
OSQ_PUBLIC int osq_client_query(OsqClient *client, const char *sql, OsqResult **result,
                                OsqClientError **error);
/* The result columns of @sql (names and types) without running it: a result with no rows. */
OSQ_PUBLIC int osq_client_get_columns(OsqClient *client, const char *sql, OsqResult **columns,
                                      OsqClientError **error);
/* The extensions registered with the daemon. */
OSQ_PUBLIC int osq_client_extensions(OsqClient *client, OsqExtensionList **extensions,
                                     OsqClientError **error);

OSQ_PUBLIC void osq_result_free(OsqResult *result);
OSQ_PUBLIC size_t osq_result_get_n_rows(const OsqResult *result);
OSQ_PUBLIC size_t osq_result_get_n_columns(const OsqResult *result);
/* NULL when @column is out of range. */
OSQ_PUBLIC const char *osq_result_get_column_name(const OsqResult *result, size_t column);
/* The type's name ("INTEGER", "BIGINT", "UNSIGNED BIGINT", "DOUBLE", "TEXT", "BLOB",
 * "UNKNOWN" or whatever the daemon sent); NULL when @column is out of range. */
OSQ_PUBLIC const char *osq_result_get_column_type_name(const OsqResult *result, size_t column);
OSQ_PUBLIC OsqColumnType osq_result_get_column_type(const OsqResult *result, size_t column);
/* True for a NULL value, and for a cell out of range. */
OSQ_PUBLIC bool osq_result_is_null(const OsqResult *result, size_t row, size_t column);
/* The value as the daemon rendered it (decimal integers, doubles with a decimal point),
 * NUL-terminated; NULL for a NULL value or a cell out of range. Valid until the result is
 * freed. */
OSQ_PUBLIC const char *osq_result_get_text(const OsqResult *result, size_t row, size_t column);
/* The text's length in bytes (0 for NULL). */
OSQ_PUBLIC size_t osq_result_get_text_length(const OsqResult *result, size_t row, size_t column);
/* The value of an INTEGER, BIGINT or UNSIGNED BIGINT column. Returns OSQ_CLIENT_ERROR_TYPE for
 * NULL, another column type, or text that is not a 64-bit integer, and
 * OSQ_CLIENT_ERROR_INVALID_ARGUMENT for a cell out of range; *value is then 0. */
OSQ_PUBLIC int osq_result_get_int64(const OsqResult *result, size_t row, size_t column,
                                    int64_t *value);
/* The value of a DOUBLE column or of an integer column (converted); errors as above. */
OSQ_PUBLIC int osq_result_get_double(const OsqResult *result, size_t row, size_t column,
                                     double *value);

OSQ_PUBLIC void osq_extension_list_free(OsqExtensionList *extensions);
OSQ_PUBLIC size_t osq_extension_list_get_length(const OsqExtensionList *extensions);
/* NULL when @index is out of range. */
OSQ_PUBLIC const OsqExtensionInfo *osq_extension_list_get(const OsqExtensionList *extensions,
                                                          size_t index);

#ifdef __cplusplus
}
#endif
