/* SPDX-License-Identifier: Apache-2.0
 *
 * The one error domain shared by libosq, the engine and the daemon. Codes map onto the status
 * codes that travel on the wire (0 is success there, so no code here is 0).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define OSQ_ERROR osq_error_quark()

typedef enum {
	OSQ_ERROR_FAILED = 1,       /* generic failure; a SQL error */
	OSQ_ERROR_INVALID_ARGUMENT, /* bad input from the caller */
	OSQ_ERROR_NOT_SUPPORTED,    /* the host lacks what a table needs */
	OSQ_ERROR_PERMISSION_DENIED,
	OSQ_ERROR_CONSTRAINT, /* a required constraint is missing */
	OSQ_ERROR_CANCELLED,
	OSQ_ERROR_TIMED_OUT,
	OSQ_ERROR_LIMIT, /* a size or row cap was reached */
	OSQ_ERROR_NOT_FOUND,
	OSQ_ERROR_IO,
} OsqError;

GQuark osq_error_quark(void);

G_END_DECLS
