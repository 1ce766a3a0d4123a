/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The allocator the shim wraps: the next definition of each function after
 * the shim (libc's, or a preloaded allocator's), found with dlsym(RTLD_NEXT).
 * dlsym may itself allocate; calls made while it runs are served from a
 * static bootstrap arena, so the shim never recurses and never allocates.
 */
#ifndef MEMTRACK_SHIM_REAL_ALLOCATOR_H
#define MEMTRACK_SHIM_REAL_ALLOCATOR_H

#include <stdbool.h>
#include <stddef.h>

struct real_allocator {
	void *(*malloc)(size_t);
	void *(*calloc)(size_t, size_t);
	void *(*realloc)(void *, size_t);
	void (*free)(void *);
	void *(*aligned_alloc)(size_t, size_t);
	int (*posix_memalign)(void **, size_t, size_t);
	void *(*memalign)(size_t, size_t);
	void *(*valloc)(size_t);
	void *(*pvalloc)(size_t);
	size_t (*malloc_usable_size)(void *);
};

extern struct real_allocator real;

/* Find the real functions, once; errno is left as it was. False while resolving. */
bool real_ready(void);

/* The bootstrap arena, for calls made while dlsym runs. */
void *boot_alloc(size_t size, size_t align);
bool boot_owns(const void *p);
size_t boot_size(const void *p);

#endif /* MEMTRACK_SHIM_REAL_ALLOCATOR_H */
