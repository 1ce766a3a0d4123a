/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Filling a caller's struct memtrack_error: what failed, and what the user can do. */
#ifndef MEMTRACK_ERROR_H
#define MEMTRACK_ERROR_H

#include <errno.h>
#include <stdarg.h>

#include "memtrack.h"

/* err (NULL: nothing) gets kind, code (a negative errno) and the message. */
void error_set(struct memtrack_error *err, enum memtrack_error_kind kind, int code,
	       const char *fmt, va_list ap) __attribute__((format(printf, 4, 0)));
/* error_set() with arguments; returns code, so a failure is one statement. */
int error_fail(struct memtrack_error *err, enum memtrack_error_kind kind, int code,
	       const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/*
 * A failed write's own reason (ENOSPC, EPIPE) as a negative errno: a stdio
 * call that failed leaves it in errno; -EIO where it left none.
 */
static inline int write_error(void)
{
	return errno ? -errno : -EIO;
}

#endif /* MEMTRACK_ERROR_H */
