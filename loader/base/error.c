// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdio.h>

#include "error.h"
#include "safe_text.h"

void error_set(struct memtrack_error *err, enum memtrack_error_kind kind, int code,
	       const char *fmt, va_list ap)
{
	if (!err)
		return;
	err->kind = kind;
	err->code = code;
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	/* messages name paths and processes a traced program chose: one line, no escapes */
	text_printable(err->msg);
}

int error_fail(struct memtrack_error *err, enum memtrack_error_kind kind, int code,
	       const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	error_set(err, kind, code, fmt, ap);
	va_end(ap);
	return code;
}
