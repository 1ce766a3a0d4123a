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

/* Find the real functions; errno is left as it was. False while resolving. */
bool real_resolve(void);

/* Are the real functions known? Inline: this is on every call's path. */
static inline bool real_known(void)
{
	return __builtin_expect(__atomic_load_n(&real.free, __ATOMIC_ACQUIRE) != NULL, 1);
}

/* Known, or found now (false while resolving: use the bootstrap arena). */
static inline bool real_ready(void)
{
	return real_known() || real_resolve();
}

/* The bootstrap arena, for calls made while dlsym runs. */
#define BOOT_SIZE (64 * 1024)
extern unsigned char boot_arena[BOOT_SIZE];

void *boot_alloc(size_t size, size_t align);
size_t boot_size(const void *p);

/* Inline: free asks this on every call. */
static inline bool boot_owns(const void *p)
{
	return (const unsigned char *)p >= boot_arena &&
	       (const unsigned char *)p < boot_arena + BOOT_SIZE;
}

#endif /* MEMTRACK_SHIM_REAL_ALLOCATOR_H */
