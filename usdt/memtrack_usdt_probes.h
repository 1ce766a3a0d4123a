/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The memtrack USDT provider's name and probes, for code that fires them
 * (memtrack_usdt.h) and code that attaches to them (libmemtrack), without
 * pulling in either's headers.
 */
#ifndef MEMTRACK_USDT_PROBES_H
#define MEMTRACK_USDT_PROBES_H

#define MEMTRACK_USDT_PROVIDER "memtrack"

/* X(name) for each probe, in a fixed order (memtrack_usdt_active_mask's bits). */
#define MEMTRACK_USDT_PROBES(X)                                                              \
	X(malloc) X(calloc) X(realloc) X(reallocarray) X(free) X(aligned_alloc)             \
	X(posix_memalign) X(memalign) X(valloc) X(pvalloc)

#endif /* MEMTRACK_USDT_PROBES_H */
