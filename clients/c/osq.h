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

/* ==== Live follows ====
 *
 * A follow runs a query over an osqd's event tables (file_events, process_events,
 * hardware_events; filters and joins allowed) again and again, each time over the events that
 * arrived since the last time, so every new row comes once, in event order:
 *
 *   osq_client_follow(client, "SELECT target_path, action FROM file_events", false, &follow,
 *                     &error);
 *   while (!stop) {
 *           if (osq_follow_next(follow, 1000, 0, &rows, &error) != 0)
 *                   break;
 *           (print the rows: possibly none)
 *           osq_result_free(rows);
 *   }
 *   osq_follow_free(follow);
 *
 * An OsqFollow keeps its client (which must outlive it), its SQL and its cursor: the position
 * in osqd's event sequence up to which rows were given. Other calls on the same client between
 * two osq_follow_next() are fine, and so is a connection that was closed meanwhile (the next
 * call connects again; the cursor carries on). Use one OsqFollow from one thread at a time.
 * osquery has no live follows: osq_client_follow() then fails with
 * OSQ_CLIENT_ERROR_NOT_SUPPORTED. */

typedef struct OsqFollow OsqFollow;

/* Starts following @sql, a query that reads an event table. @from_start: begin with the
 * history osqd keeps (its events still in memory), else with the next event. Fails (status
 * code OSQ_CLIENT_ERROR_FAILED and the daemon's message) when @sql reads no event table or
 * osqd runs without its event framework. On success *@follow is set (free it with
 * osq_follow_free()); on failure it is NULL. */
OSQ_PUBLIC int osq_client_follow(OsqClient *client, const char *sql, bool from_start,
                                 OsqFollow **follow, OsqClientError **error);
/* Waits up to @timeout_ms (a long poll; the daemon waits at most 60000 ms, 0 answers at once)
 * for events newer than the cursor, then sets *@rows to the query's rows over at most
 * @max_rows of them (0: the daemon's default, 1000): a result with the follow's columns and
 * types and possibly no rows (nothing new before the timeout, or the new events were all
 * filtered out). Free it with osq_result_free(). The client's timeout does not cut the wait:
 * this call allows @timeout_ms and a margin, or the client's timeout if longer. On failure
 * *@rows is NULL and the cursor stays as it was, so the call may be repeated (after a
 * cancel, a timeout or a broken connection too). */
OSQ_PUBLIC int osq_follow_next(OsqFollow *follow, int timeout_ms, size_t max_rows, OsqResult **rows,
                               OsqClientError **error);
/* The cursor: the id of the newest event the follow has read; rows of later events are still
 * to come (0 at the start of a follow @from_start). */
OSQ_PUBLIC int64_t osq_follow_get_cursor(const OsqFollow *follow);
/* Ends the follow (the daemon keeps no state for it). NULL is ignored. */
OSQ_PUBLIC void osq_follow_free(OsqFollow *follow);

/* ==== Extensions ====
 *
 * An extension is a process that adds tables, config plugins and logger plugins to osqd (or to
 * osquery) over its extension socket, as osquery's own SDKs do: it registers with the manager
 * socket, then serves osquery's Extension service on "<manager socket>.<uuid>" and pings the
 * manager until it goes away or is told to stop. A typical main():
 *
 *   OsqExtension *ext = osq_extension_new("my_tables", "1.0.0");
 *   osq_extension_add_table(ext, "my_table", columns, n_columns, my_generate, NULL, &error);
 *   osq_extension_parse_args(ext, &argc, argv, &error);   (--socket, --timeout, --interval)
 *   rc = osq_extension_run(ext, &error);                   (blocks)
 *   osq_extension_free(ext);
 *
 * Threads: osq_extension_run() serves each connection on a thread of its own (at most
 * OSQ_EXTENSION_MAX_CONNECTIONS at once), so callbacks of any plugin may run concurrently,
 * the same callback included: they must be thread-safe. A callback must not call
 * osq_extension_run() or osq_extension_free(); it may call osq_extension_stop(). Plugins are
 * added before osq_extension_run(), never while it runs.
 */

/* Connections served at once; more wait in the listen backlog. */
#define OSQ_EXTENSION_MAX_CONNECTIONS 64
/* The largest request an extension reads; a longer one (or a length prefix announcing one)
 * closes that connection. */
#define OSQ_EXTENSION_MAX_REQUEST_SIZE ((size_t)64 * 1024 * 1024)
/* osquery's default manager socket, used when neither --socket nor
 * osq_extension_set_socket() gave one. */
#define OSQ_EXTENSION_DEFAULT_SOCKET "/var/osquery/osquery.em"

typedef struct OsqExtension OsqExtension;
typedef struct OsqTableRequest OsqTableRequest; /* what a scan asks for; read-only */
typedef struct OsqRowWriter OsqRowWriter;       /* where a generate callback puts rows */

/* osquery's ColumnOptions bits, sent as a column route's "op". */
typedef enum {
	OSQ_COLUMN_OPTION_DEFAULT = 0,
	OSQ_COLUMN_OPTION_INDEX = 1,
	OSQ_COLUMN_OPTION_REQUIRED = 2,
	OSQ_COLUMN_OPTION_ADDITIONAL = 4,
	OSQ_COLUMN_OPTION_OPTIMIZED = 8,
	OSQ_COLUMN_OPTION_HIDDEN = 16,
} OsqColumnOption;

/* One column of an extension table: @type is not OSQ_COLUMN_TYPE_UNKNOWN; @options is a mask
 * of OsqColumnOption. */
typedef struct {
	const char *name;
	OsqColumnType type;
	unsigned options;
} OsqExtensionColumn;

/* SQLite's constraint operators as osquery sends them in a scan's context. Other codes (e.g.
 * 68 "!=", 72 IS with newer SQLite) are passed through as they arrive. */
typedef enum {
	OSQ_CONSTRAINT_EQUALS = 2,
	OSQ_CONSTRAINT_GREATER_THAN = 4,
	OSQ_CONSTRAINT_LESS_THAN_OR_EQUALS = 8,
	OSQ_CONSTRAINT_LESS_THAN = 16,
	OSQ_CONSTRAINT_GREATER_THAN_OR_EQUALS = 32,
	OSQ_CONSTRAINT_MATCH = 64,
	OSQ_CONSTRAINT_LIKE = 65,
	OSQ_CONSTRAINT_GLOB = 66,
	OSQ_CONSTRAINT_REGEXP = 67,
} OsqConstraintOp;

/* A table scan: fill @rows and return 0, or return non-zero and set *@error_message to a
 * malloc()'d text (the scan then fails with that message, status code 1; the library frees
 * it). Constraints are advisory: the caller's SQL engine filters the rows again, so a
 * generator may return more rows than the constraints allow, never fewer. */
typedef int (*OsqTableGenerateFunc)(const OsqTableRequest *request, OsqRowWriter *rows,
                                    void *user_data, char **error_message);
/* A config plugin: return the config as malloc()'d JSON text (one config source, named after
 * the plugin; the library frees it), or NULL with *@error_message set to malloc()'d text. */
typedef char *(*OsqConfigGenerateFunc)(void *user_data, char **error_message);
/* A logger plugin: @kind is "string" (one result line; @text is its JSON), "snapshot" (a
 * snapshot result), "status" (@text is a JSON array of status lines), "init" (@text is the
 * logging process's name; buffered status lines follow as a "status" call), "event" or
 * "health". Return 0 on success; anything else is answered with status code 1. */
typedef int (*OsqLoggerFunc)(const char *kind, const char *text, void *user_data);

/* A new extension named @name (osquery refuses a second extension of the same name), at
 * @version (NULL: "0.0.0"). Returns NULL when @name is NULL or empty. */
OSQ_PUBLIC OsqExtension *osq_extension_new(const char *name, const char *version);
/* Stops nothing: call it after osq_extension_run() returned. NULL is ignored. */
OSQ_PUBLIC void osq_extension_free(OsqExtension *ext);

/* Adds the table @table with @n_columns columns (copied: the arrays and strings need not
 * outlive the call). Fails with OSQ_CLIENT_ERROR_INVALID_ARGUMENT for an empty or duplicate
 * name (among this extension's tables), no columns, a duplicate or empty column name, an
 * unknown type, or a NULL @generate. */
OSQ_PUBLIC int osq_extension_add_table(OsqExtension *ext, const char *table,
                                       const OsqExtensionColumn *columns, size_t n_columns,
                                       OsqTableGenerateFunc generate, void *user_data,
                                       OsqClientError **error);
/* Adds a config plugin @name (its genConfig answers one source named @name). */
OSQ_PUBLIC int osq_extension_add_config(OsqExtension *ext, const char *name,
                                        OsqConfigGenerateFunc func, void *user_data,
                                        OsqClientError **error);
/* Adds a logger plugin @name. */
OSQ_PUBLIC int osq_extension_add_logger(OsqExtension *ext, const char *name, OsqLoggerFunc func,
                                        void *user_data, OsqClientError **error);

/* Takes osquery's extension flags out of @argv: --socket PATH, --timeout SECONDS (waiting for
 * the manager socket; default 3), --interval SECONDS (pinging the manager; default 3) and
 * --verbose, each as "--flag value" or "--flag=value" (one leading dash works too). Other
 * arguments are left in @argv, in order, and *@argc is updated (argv[*argc] becomes NULL).
 * Fails with OSQ_CLIENT_ERROR_INVALID_ARGUMENT for a missing value or a number that is not
 * positive; @argv is then unchanged. */
OSQ_PUBLIC int osq_extension_parse_args(OsqExtension *ext, int *argc, char **argv,
                                        OsqClientError **error);
/* The manager socket to register with (default OSQ_EXTENSION_DEFAULT_SOCKET). */
OSQ_PUBLIC void osq_extension_set_socket(OsqExtension *ext, const char *manager_socket_path);
OSQ_PUBLIC const char *osq_extension_get_socket(const OsqExtension *ext);
/* Seconds to wait for the manager socket to appear (> 0; default 3). */
OSQ_PUBLIC void osq_extension_set_timeout(OsqExtension *ext, double seconds);
/* Seconds between pings of the manager (> 0; default 3). */
OSQ_PUBLIC void osq_extension_set_interval(OsqExtension *ext, double seconds);
/* Whether --verbose was given (the library itself never logs). */
OSQ_PUBLIC bool osq_extension_get_verbose(const OsqExtension *ext);

/* Waits up to the timeout for the manager socket, registers, serves "<socket>.<uuid>" (a
 * stale file there is removed first) and pings the manager every interval. Blocks; returns 0
 * when the manager went away (a failed ping, its socket removed), when the manager called
 * shutdown(), or after osq_extension_stop() (this one also deregisters). Returns an error
 * code and sets @error when it cannot start: no manager socket within the timeout
 * (OSQ_CLIENT_ERROR_NOT_FOUND), registration refused (OSQ_CLIENT_ERROR_FAILED, with the
 * manager's message), the socket cannot be bound. The extension socket is removed on return,
 * after every connection thread has finished. Call it once per OsqExtension. */
OSQ_PUBLIC int osq_extension_run(OsqExtension *ext, OsqClientError **error);
/* Makes osq_extension_run() return soon (or return at once if it has not started). Any
 * thread; async-signal-safe. */
OSQ_PUBLIC void osq_extension_stop(OsqExtension *ext);
/* The uuid the manager gave; 0 until registered. */
OSQ_PUBLIC int64_t osq_extension_get_uuid(const OsqExtension *ext);

/* ---- what a generate callback reads: valid during the callback only ---- */

/* The constraints the query pushed down (osquery sends only those on indexed columns; every
 * column of an extension table is indexed by default). */
OSQ_PUBLIC size_t osq_table_request_get_n_constraints(const OsqTableRequest *request);
/* Constraint @i: its column, operator (an OsqConstraintOp or another SQLite code) and value as
 * text (osquery sends every value as text). Out of range: NULL, 0, NULL. Any out pointer may
 * be NULL. */
OSQ_PUBLIC void osq_table_request_get_constraint(const OsqTableRequest *request, size_t i,
                                                 const char **column, int *op, const char **value);
/* Whether the query reads @column: true when the context does not say (older managers). */
OSQ_PUBLIC bool osq_table_request_column_used(const OsqTableRequest *request, const char *column);
/* The context JSON as the manager sent it ("" when absent). Malformed JSON yields a request
 * with no constraints and every column used. */
OSQ_PUBLIC const char *osq_table_request_get_context(const OsqTableRequest *request);

/* ---- where a generate callback writes rows ---- */

/* Starts a row; the previous one (if any) is finished. Columns not set are NULL. Setting a
 * value before the first begin starts a row. Unknown column names are ignored; setting a
 * column twice keeps the last value. */
OSQ_PUBLIC void osq_row_writer_begin_row(OsqRowWriter *rows);
/* Text as given (NULL leaves the column NULL). Python clients need UTF-8. */
OSQ_PUBLIC void osq_row_writer_set_text(OsqRowWriter *rows, const char *column, const char *value);
/* Decimal. */
OSQ_PUBLIC void osq_row_writer_set_int64(OsqRowWriter *rows, const char *column, int64_t value);
/* Shortest text that reads back the same double, always with a '.' or an exponent ("1.0");
 * NaN and infinities leave the column NULL. */
OSQ_PUBLIC void osq_row_writer_set_double(OsqRowWriter *rows, const char *column, double value);

#ifdef __cplusplus
}
#endif
