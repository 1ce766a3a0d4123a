/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The one growth rule of the loader's arrays: when full, double (starting
 * at `first`), so n appends cost O(n) copies in all.
 */
#ifndef MEMTRACK_GROW_ARRAY_H
#define MEMTRACK_GROW_ARRAY_H

#include <errno.h>
#include <stdlib.h>

/* Room for element n of *v (capacity *cap): 0, or -ENOMEM with *v unchanged. */
static inline int grow_array(void **v, size_t *cap, size_t n, size_t elem, size_t first)
{
	size_t want;
	void *p;

	if (n < *cap)
		return 0;
	want = *cap ? *cap * 2 : first;
	p = realloc(*v, want * elem);
	if (!p)
		return -ENOMEM;
	*v = p;
	*cap = want;
	return 0;
}

#define GROW_ARRAY(arr, n, cap, first) \
	grow_array((void **)&(arr), &(cap), (n), sizeof(*(arr)), (first))

#endif /* MEMTRACK_GROW_ARRAY_H */
