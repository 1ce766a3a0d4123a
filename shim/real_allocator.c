// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "real_allocator.h"

struct real_allocator real;

/* Set while this thread is inside dlsym(): its allocations go to the bootstrap arena. */
static __thread bool resolving __attribute__((tls_model("initial-exec")));

/*
 * What dlsym and the dynamic loader ask for while the shim resolves: a few
 * small blocks, once. Never freed; 64 KiB is far more than glibc needs.
 */
_Alignas(64) unsigned char boot_arena[BOOT_SIZE];
static size_t boot_used; /* atomically bumped */

struct boot_header {
	size_t size;
	size_t _pad; /* keeps blocks 16-byte aligned */
};

void *boot_alloc(size_t size, size_t align)
{
	size_t start, end, old;

	if (align < 16)
		align = 16;
	old = __atomic_load_n(&boot_used, __ATOMIC_RELAXED);
	do {
		start = (old + sizeof(struct boot_header) + align - 1) & ~(align - 1);
		end = start + size;
		if (end > BOOT_SIZE || end < start)
			return NULL;
	} while (!__atomic_compare_exchange_n(&boot_used, &old, end, false, __ATOMIC_RELAXED,
					      __ATOMIC_RELAXED));
	((struct boot_header *)(boot_arena + start))[-1].size = size;
	return boot_arena + start; /* static storage: already zero, as calloc needs */
}

size_t boot_size(const void *p)
{
	return ((const struct boot_header *)p)[-1].size;
}

#define RESOLVE(name) real.name = (__typeof__(real.name))dlsym(RTLD_NEXT, #name)

bool real_resolve(void)
{
	int saved;

	if (__atomic_load_n(&real.free, __ATOMIC_ACQUIRE))
		return true;
	if (resolving)
		return false;
	/* Idempotent: two threads racing here store the same pointers. */
	resolving = true;
	saved = errno;
	RESOLVE(malloc);
	RESOLVE(calloc);
	RESOLVE(realloc);
	RESOLVE(aligned_alloc);
	RESOLVE(posix_memalign);
	RESOLVE(memalign);
	RESOLVE(valloc);
	RESOLVE(pvalloc);
	RESOLVE(malloc_usable_size);
	/* free last: its pointer being set is what "ready" means */
	__atomic_store_n(&real.free, (void (*)(void *))dlsym(RTLD_NEXT, "free"), __ATOMIC_RELEASE);
	errno = saved;
	resolving = false;
	return real.free && real.malloc;
}
