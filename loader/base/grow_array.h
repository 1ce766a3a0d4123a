/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The one growth rule of the loader's arrays: when full, double (starting
 * at `first`), so n appends cost O(n) copies in all; a size that would
 * overflow is -ENOMEM.
 */
#ifndef MEMTRACK_GROW_ARRAY_H
#define MEMTRACK_GROW_ARRAY_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

/* *v resized to want elements of elem bytes: 0, or -ENOMEM with *v unchanged. */
static inline int resize_array(void **v, size_t want, size_t elem)
{
	void *p;

	if (!want || want > SIZE_MAX / elem)
		return -ENOMEM;
	p = realloc(*v, want * elem);
	if (!p)
		return -ENOMEM;
	*v = p;
	return 0;
}

/* Room for need elements in *v (capacity *cap), doubling from first: 0, or -ENOMEM with *v unchanged. */
static inline int reserve_array(void **v, size_t *cap, size_t need, size_t elem, size_t first)
{
	size_t want = *cap ? *cap : first;

	if (need <= *cap)
		return 0;
	while (want < need) {
		if (want > SIZE_MAX / 2)
			return -ENOMEM;
		want *= 2;
	}
	if (resize_array(v, want, elem))
		return -ENOMEM;
	*cap = want;
	return 0;
}

/* Room for element n of *v (capacity *cap): 0, or -ENOMEM with *v unchanged. */
static inline int grow_array(void **v, size_t *cap, size_t n, size_t elem, size_t first)
{
	return n < SIZE_MAX ? reserve_array(v, cap, n + 1, elem, first) : -ENOMEM;
}

#define GROW_ARRAY(arr, n, cap, first) \
	grow_array((void **)&(arr), &(cap), (n), sizeof(*(arr)), (first))
/* Room for need elements of arr (capacity cap). */
#define RESERVE_ARRAY(arr, need, cap, first) \
	reserve_array((void **)&(arr), &(cap), (need), sizeof(*(arr)), (first))

/*
 * The same rule for an array that keeps no capacity, only its length n:
 * its capacity is then the power of two above the largest n it had, so it
 * grows (doubles) when n is 0 or a power of two. Removing elements keeps
 * that true.
 */
static inline int grow_for_append(void **v, size_t n, size_t elem)
{
	if (n & (n - 1))
		return 0;
	if (n > SIZE_MAX / 2)
		return -ENOMEM;
	return resize_array(v, n ? n * 2 : 1, elem);
}

/* Room to append element n of arr: 0, or -ENOMEM with arr unchanged. */
#define APPEND_SLOT(arr, n) grow_for_append((void **)&(arr), (n), sizeof(*(arr)))

#endif /* MEMTRACK_GROW_ARRAY_H */
