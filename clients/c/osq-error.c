/* SPDX-License-Identifier: Apache-2.0
 *
 * The OSQ_ERROR domain.
 */
#include "osq-error.h"

GQuark
osq_error_quark(void)
{
	return g_quark_from_static_string("osq-error-quark");
}
