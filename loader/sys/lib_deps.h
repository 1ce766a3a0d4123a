/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The shared objects a program will load at start, found as the dynamic loader finds them. */
#ifndef MEMTRACK_LIB_DEPS_H
#define MEMTRACK_LIB_DEPS_H

/*
 * Call fn with the real path of exe, then of each object it will load at
 * start (the preload list, then its DT_NEEDED closure, breadth first),
 * once each. Objects that cannot be found are left out, as are the needs
 * of files that are not ELF. Stops at fn's first non-zero return and
 * returns it; else 0, or -ENOMEM.
 */
int lib_deps_each(const char *exe, const char *preload, const char *ld_library_path,
		  int (*fn)(void *ctx, const char *path), void *ctx);

#endif /* MEMTRACK_LIB_DEPS_H */
