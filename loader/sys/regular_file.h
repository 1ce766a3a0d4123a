/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Opening a file that a trace or a traced process names (a mapping's
 * path, a library): only a regular file is read. A FIFO's open() waits
 * for a writer, forever if none comes, and a device can be endless.
 */
#ifndef MEMTRACK_REGULAR_FILE_H
#define MEMTRACK_REGULAR_FILE_H

/* path opened read-only (close-on-exec) if it is a regular file; else a negative errno. */
int open_regular(const char *path);

#endif /* MEMTRACK_REGULAR_FILE_H */
