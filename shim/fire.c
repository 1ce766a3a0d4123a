// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Where the shim's probes are. Built apart from the wrappers: with frame
 * pointers, so that a stack walked from a probe reaches the program's
 * caller, and without a red zone, since the kernel's optimized probe is a
 * call that writes below the stack pointer (see the Makefile).
 */
#include <errno.h>
#include <time.h>

#include "fire.h"
#include "memtrack_usdt.h"
#include "real_allocator.h"

MEMTRACK_USDT_DEFINE_SEMAPHORES();

size_t shim_page_size = 4096;

/* ptr ? 0 : errno, as the probes' ret argument. */
#define RESULT(ptr) ((ptr) ? 0 : errno)

void *fire_malloc(size_t size)
{
	void *p = real.malloc(size);

	MEMTRACK_USDT_EMIT(malloc, p, size, 0, 0, RESULT(p));
	return p;
}

void *fire_calloc(size_t nmemb, size_t size)
{
	void *p = real.calloc(nmemb, size);

	MEMTRACK_USDT_EMIT(calloc, p, product(nmemb, size), 0, 0, RESULT(p));
	return p;
}

/*
 * When a realloc began: it frees a moved block inside, and another thread
 * may get that address and fire its probe before ours. A tracer told when
 * the realloc began keeps that thread's newer block (R10 in
 * bpf/memtrack_events.h). The vDSO's clock: no system call, no allocation.
 */
static uint64_t realloc_began(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts))
		return 0; /* not known: the tracer releases the block at old */
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void *fire_realloc(void *old, size_t size)
{
	uint64_t began = realloc_began();
	void *p = real.realloc(old, size);

	MEMTRACK_USDT_EMIT(realloc, p, size, old, began, RESULT(p));
	return p;
}

void *fire_reallocarray(void *old, size_t nmemb, size_t size, bool listened)
{
	size_t bytes = product(nmemb, size);
	uint64_t began = listened ? realloc_began() : 0;
	void *p = NULL;

	if (bytes == SIZE_MAX && nmemb && size)
		errno = ENOMEM;
	else
		p = real.realloc(old, bytes);
	if (listened)
		MEMTRACK_USDT_EMIT(reallocarray, p, bytes, old, began, RESULT(p));
	return p;
}

void fire_free(void *p)
{
	/* before the block is released, while no other thread can be handed it */
	MEMTRACK_USDT_EMIT(free, p, 0, 0, 0, 0);
	real.free(p);
}

void *fire_aligned_alloc(size_t align, size_t size)
{
	void *p = real.aligned_alloc(align, size);

	MEMTRACK_USDT_EMIT(aligned_alloc, p, size, 0, align, RESULT(p));
	return p;
}

int fire_posix_memalign(void **memptr, size_t align, size_t size)
{
	int err = real.posix_memalign(memptr, align, size);

	/* *memptr is untouched on failure: report NULL, not whatever it held */
	MEMTRACK_USDT_EMIT(posix_memalign, err ? NULL : *memptr, size, 0, align, err);
	return err;
}

void *fire_memalign(size_t align, size_t size)
{
	void *p = real.memalign(align, size);

	MEMTRACK_USDT_EMIT(memalign, p, size, 0, align, RESULT(p));
	return p;
}

void *fire_valloc(size_t size)
{
	void *p = real.valloc(size);

	MEMTRACK_USDT_EMIT(valloc, p, size, 0, shim_page_size, RESULT(p));
	return p;
}

void *fire_pvalloc(size_t size)
{
	void *p = real.pvalloc(size);

	MEMTRACK_USDT_EMIT(pvalloc, p, size, 0, shim_page_size, RESULT(p));
	return p;
}
