/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The wrappers' path while a tracer listens: call the real function, fire
 * its memtrack probe with the result (free: fire, then release).
 */
#ifndef MEMTRACK_SHIM_FIRE_H
#define MEMTRACK_SHIM_FIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

extern size_t shim_page_size;

/* nmemb * size for a probe's size argument; SIZE_MAX if it overflows. */
static inline size_t product(size_t nmemb, size_t size)
{
	size_t n;

	return __builtin_mul_overflow(nmemb, size, &n) ? SIZE_MAX : n;
}

void *fire_malloc(size_t size);
void *fire_calloc(size_t nmemb, size_t size);
void *fire_realloc(void *old, size_t size);
/* reallocarray's whole body: the overflow check, realloc, and the probe if listened */
void *fire_reallocarray(void *old, size_t nmemb, size_t size, bool listened);
void fire_free(void *p);
void *fire_aligned_alloc(size_t align, size_t size);
int fire_posix_memalign(void **memptr, size_t align, size_t size);
void *fire_memalign(size_t align, size_t size);
void *fire_valloc(size_t size);
void *fire_pvalloc(size_t size);

#endif /* MEMTRACK_SHIM_FIRE_H */
