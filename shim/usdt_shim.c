// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * libmemtrack-usdt.so: LD_PRELOAD it, and every allocator call of the
 * program fires a memtrack USDT probe (usdt/memtrack_usdt.h) after the real
 * call, only while a tracer listens to that probe. Idle, a call costs one
 * load and one branch more.
 *
 * It never allocates (see real_allocator.c), leaves errno as the real call
 * left it, holds no locks (so fork is safe), and keeps no per-call state.
 * Nobody listening, a wrapper jumps straight to the real function: that is
 * the path whose cost counts. Listened to, it goes through fire.c, which
 * calls the real function and fires the probe. (A tracer attaching during
 * a call misses that call.)
 * free's probe fires before the real free, while the block is still the
 * caller's: fired after, another thread could be handed the same address
 * first, and a tracer would see the new block before the old one's end.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fire.h"
#include "memtrack_usdt.h"
#include "probe_sites.h"
#include "real_allocator.h"

#define EXPORT __attribute__((visibility("default")))
#define LISTENED(name) __builtin_expect(MEMTRACK_USDT_ACTIVE(name), 0)

/*
 * Before the real functions are known (calls from the dynamic loader, or
 * from dlsym itself): resolve, or serve from the bootstrap arena. Out of
 * line, so that the usual path is a few instructions and a jump.
 */
static __attribute__((noinline, cold)) void *malloc_early(size_t size)
{
	return real_ready() ? malloc(size) : boot_alloc(size, 16);
}

EXPORT void *malloc(size_t size)
{
	if (!real_known())
		return malloc_early(size);
	if (LISTENED(malloc))
		return fire_malloc(size);
	return real.malloc(size);
}

EXPORT void *calloc(size_t nmemb, size_t size)
{
	if (!real_ready())
		return product(nmemb, size) == SIZE_MAX ? NULL : boot_alloc(nmemb * size, 16);
	if (LISTENED(calloc))
		return fire_calloc(nmemb, size);
	return real.calloc(nmemb, size);
}

/* A bootstrap block moves to the real allocator at its first realloc. */
static void *realloc_boot(void *old, size_t size)
{
	size_t keep = boot_size(old) < size ? boot_size(old) : size;
	void *p = real_ready() ? real.malloc(size) : boot_alloc(size, 16);

	if (p)
		memcpy(p, old, keep);
	return p;
}

EXPORT void *realloc(void *old, size_t size)
{
	if (old && boot_owns(old))
		return realloc_boot(old, size);
	if (!real_ready())
		return boot_alloc(size, 16);
	if (LISTENED(realloc))
		return fire_realloc(old, size);
	return real.realloc(old, size);
}

/*
 * reallocarray is realloc after an overflow check, in glibc as here; calling
 * the real reallocarray would fire our realloc probe too (glibc's calls
 * realloc through the PLT, that is, us).
 */
EXPORT void *reallocarray(void *old, size_t nmemb, size_t size)
{
	size_t bytes = product(nmemb, size);

	if ((old && boot_owns(old)) || !real_ready()) {
		if (bytes == SIZE_MAX && nmemb && size) {
			errno = ENOMEM;
			return NULL;
		}
		return old ? realloc_boot(old, bytes) : boot_alloc(bytes, 16);
	}
	return fire_reallocarray(old, nmemb, size, LISTENED(reallocarray));
}

EXPORT void free(void *p)
{
	/* free(NULL) is nothing; bootstrap blocks are never reused; before the real
	 * functions are known, no block but bootstrap ones exists */
	if (!p || boot_owns(p) || !real_known())
		return;
	if (LISTENED(free))
		fire_free(p);
	else
		real.free(p);
}

EXPORT void *aligned_alloc(size_t align, size_t size)
{
	if (!real_ready())
		return boot_alloc(size, align);
	if (LISTENED(aligned_alloc))
		return fire_aligned_alloc(align, size);
	return real.aligned_alloc(align, size);
}

EXPORT int posix_memalign(void **memptr, size_t align, size_t size)
{
	if (!real_ready()) {
		*memptr = boot_alloc(size, align);
		return *memptr ? 0 : ENOMEM;
	}
	if (LISTENED(posix_memalign))
		return fire_posix_memalign(memptr, align, size);
	return real.posix_memalign(memptr, align, size);
}

EXPORT void *memalign(size_t align, size_t size)
{
	if (!real_ready())
		return boot_alloc(size, align);
	if (LISTENED(memalign))
		return fire_memalign(align, size);
	return real.memalign(align, size);
}

EXPORT void *valloc(size_t size)
{
	if (!real_ready())
		return boot_alloc(size, shim_page_size);
	if (LISTENED(valloc))
		return fire_valloc(size);
	return real.valloc(size);
}

EXPORT void *pvalloc(size_t size)
{
	if (!real_ready())
		return boot_alloc(size, shim_page_size);
	if (LISTENED(pvalloc))
		return fire_pvalloc(size);
	return real.pvalloc(size);
}

EXPORT size_t malloc_usable_size(void *p)
{
	if (p && boot_owns(p))
		return boot_size(p);
	if (!real_ready() || !real.malloc_usable_size)
		return 0;
	return real.malloc_usable_size(p);
}

/*
 * Which probes a tracer listens to right now: bit i for the i-th probe of
 * MEMTRACK_USDT_PROBES (malloc is bit 0). For tests and curious programs.
 */
EXPORT unsigned int memtrack_usdt_active_mask(void)
{
	unsigned int mask = 0, bit = 0;

#define MEMTRACK_MASK_BIT_(name) mask |= (MEMTRACK_USDT_ACTIVE(name) ? 1u : 0u) << bit++;
	MEMTRACK_USDT_PROBES(MEMTRACK_MASK_BIT_)
#undef MEMTRACK_MASK_BIT_
	return mask;
}

/*
 * memtrack-load --source usdt preloads us with LD_PRELOAD="<theirs>:<us>"
 * and MEMTRACK_USDT_PRELOAD="LD_PRELOAD=<theirs>" (empty if they had none).
 * Put their LD_PRELOAD back for the command's own children, editing the
 * environ array in place: setenv() would allocate, and be traced.
 */
static void restore_preload(void)
{
	static const char marker[] = "MEMTRACK_USDT_PRELOAD=";
	char **env = environ, *theirs = NULL;
	size_t n = 0, ld = SIZE_MAX, mark = SIZE_MAX;

	for (; env && env[n]; n++) {
		if (strncmp(env[n], "LD_PRELOAD=", 11) == 0)
			ld = n;
		else if (strncmp(env[n], marker, sizeof(marker) - 1) == 0)
			mark = n;
	}
	if (mark == SIZE_MAX || ld == SIZE_MAX)
		return;
	theirs = env[mark] + sizeof(marker) - 1;
	if (*theirs)
		env[ld] = theirs;
	/* drop the marker, and LD_PRELOAD too if they had none */
	for (size_t i = 0, j = 0; i <= n; i++)
		if (i != mark && (*theirs || i != ld))
			env[j++] = env[i];
}

__attribute__((constructor)) static void shim_init(void)
{
	long page = sysconf(_SC_PAGESIZE);

	if (page > 0)
		shim_page_size = (size_t)page;
	real_ready();
	restore_preload();
	probe_sites_init();
}
