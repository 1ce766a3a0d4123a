/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * memtrack_usdt.h: the "memtrack" USDT provider.
 *
 * One probe per allocator function, each with its own semaphore, so that a
 * probe site costs a load and a branch while nobody listens, and one probe
 * hit (not an entry plus a return probe) when someone does. libmemtrack-usdt.so
 * fires them around the C library's allocator; an application with an
 * allocator of its own (an arena, a pool) fires them too, and its blocks show
 * up in memtrack-load --source usdt, in the scripts of scripts/ and in bpftrace.
 *
 * Probes (provider "memtrack"):
 *	malloc calloc realloc reallocarray free
 *	aligned_alloc posix_memalign memalign valloc pvalloc
 *
 * Every probe has the same five arguments, in this order:
 *	arg0  ptr      the block returned (free: the block released); NULL if the call failed
 *	arg1  size     bytes requested (calloc, reallocarray: nmemb * size)
 *	arg2  old_ptr  realloc, reallocarray: the block given back (NULL for a fresh one); else 0
 *	arg3  align    aligned_alloc, posix_memalign, memalign: the alignment;
 *	               valloc, pvalloc: the page size; realloc, reallocarray:
 *	               when the call began, CLOCK_MONOTONIC in ns (the clock of
 *	               BPF's bpf_ktime_get_ns), or 0 if not known; else 0
 *	arg4  ret      0 on success, else the error (posix_memalign's result, or errno)
 * A probe fires after the call, only while its semaphore says a tracer is
 * attached. free(NULL) fires nothing.
 *
 * Use, in one source file of each executable or shared library:
 *
 *	#include "memtrack_usdt.h"
 *	MEMTRACK_USDT_DEFINE_SEMAPHORES();
 *
 * and in any file of that object:
 *
 *	p = arena_alloc(a, n);
 *	MEMTRACK_USDT_ALLOC(p, n);		// memtrack:malloc(p, n, 0, 0, p ? 0 : ENOMEM)
 *	...
 *	MEMTRACK_USDT_FREE(p);			// memtrack:free(p, 0, 0, 0, 0)
 *	arena_free(a, p);
 *
 * or, for the whole argument list, MEMTRACK_USDT(name, ptr, size, old_ptr, align, ret).
 * MEMTRACK_USDT_ACTIVE(name) says whether anyone listens to memtrack:name.
 * Semaphores are hidden symbols: each executable and library has its own.
 *
 * Build options (define before including):
 *	MEMTRACK_USDT_NOP5   put the probe on a 5-byte nop, which this kernel turns
 *	                     into a call to its uprobe trampoline, about four times
 *	                     cheaper than the 1-byte nop's trap. That call pushes a
 *	                     return address below the stack pointer, so code built
 *	                     with it must be compiled with -mno-red-zone (x86-64).
 *	MEMTRACK_USDT_LIBBPF build on libbpf/usdt's usdt.h (found on the include
 *	                     path) instead of systemtap's <sys/sdt.h>; the note
 *	                     format and the probes are the same.
 */
#ifndef MEMTRACK_USDT_H
#define MEMTRACK_USDT_H

#include <errno.h>

#include "memtrack_usdt_probes.h"

#if defined(MEMTRACK_USDT_NOP5) && !defined(__x86_64__)
#error "MEMTRACK_USDT_NOP5 is for x86-64"
#endif

#ifdef MEMTRACK_USDT_LIBBPF
/* ------------------------------------------------------------------------ */
/* libbpf/usdt's usdt.h                                                       */
#ifdef MEMTRACK_USDT_NOP5
#define USDT_NOP .byte 0x0f, 0x1f, 0x44, 0x00, 0x00
#elif !defined(USDT_NOP) && defined(__x86_64__)
#define USDT_NOP nop
#endif
#include <usdt.h>

#define MEMTRACK_USDT_SEMA_(name) memtrack_usdt_sema_##name
#define MEMTRACK_USDT_DECLARE_(name) USDT_DECLARE_SEMA(MEMTRACK_USDT_SEMA_(name));
#define MEMTRACK_USDT_DEFINE_(name) USDT_DEFINE_SEMA(MEMTRACK_USDT_SEMA_(name));
MEMTRACK_USDT_PROBES(MEMTRACK_USDT_DECLARE_)

#define MEMTRACK_USDT_DEFINE_SEMAPHORES()                                                   \
	MEMTRACK_USDT_PROBES(MEMTRACK_USDT_DEFINE_) extern int memtrack_usdt_defined_
#define MEMTRACK_USDT_ACTIVE(name) __builtin_expect(USDT_SEMA_IS_ACTIVE(MEMTRACK_USDT_SEMA_(name)), 0)
#define MEMTRACK_USDT_FIRE(name, ptr, size, old_ptr, align, ret)                             \
	USDT_WITH_EXPLICIT_SEMA(MEMTRACK_USDT_SEMA_(name), memtrack, name, (ptr), (size),     \
				(old_ptr), (align), (ret))

#else
/* ------------------------------------------------------------------------ */
/* systemtap's <sys/sdt.h>: it names semaphores provider_name_semaphore.      */
#define _SDT_HAS_SEMAPHORES 1
#include <sys/sdt.h>
#ifdef MEMTRACK_USDT_NOP5
/* <sys/sdt.h> sets the probe instruction unconditionally: replace it after. No commas allowed. */
#undef _SDT_NOP
#define _SDT_NOP .byte 0x0f; .byte 0x1f; .byte 0x44; .byte 0x00; .byte 0x00
#endif

#define MEMTRACK_USDT_SEMA_(name) memtrack_##name##_semaphore
#define MEMTRACK_USDT_DECLARE_(name)                                                         \
	extern volatile unsigned short MEMTRACK_USDT_SEMA_(name)                             \
		__attribute__((visibility("hidden")));
#define MEMTRACK_USDT_DEFINE_(name)                                                          \
	volatile unsigned short MEMTRACK_USDT_SEMA_(name)                                    \
		__attribute__((section(".probes"), visibility("hidden"))) = 0;
MEMTRACK_USDT_PROBES(MEMTRACK_USDT_DECLARE_)

#define MEMTRACK_USDT_DEFINE_SEMAPHORES()                                                   \
	MEMTRACK_USDT_PROBES(MEMTRACK_USDT_DEFINE_) extern int memtrack_usdt_defined_
#define MEMTRACK_USDT_ACTIVE(name) __builtin_expect(MEMTRACK_USDT_SEMA_(name) != 0, 0)
#define MEMTRACK_USDT_FIRE(name, ptr, size, old_ptr, align, ret)                             \
	STAP_PROBE5(memtrack, name, (ptr), (size), (old_ptr), (align), (ret))
#endif

/* ------------------------------------------------------------------------ */
/* The same for both                                                          */

/* Fire memtrack:name unconditionally (after checking MEMTRACK_USDT_ACTIVE(name) yourself). */
#define MEMTRACK_USDT_EMIT(name, ptr, size, old_ptr, align, ret)                            \
	MEMTRACK_USDT_FIRE(name, (unsigned long)(ptr), (unsigned long)(size),                \
			   (unsigned long)(old_ptr), (unsigned long)(align), (long)(ret))

/* Fire memtrack:name if anyone listens. */
#define MEMTRACK_USDT(name, ptr, size, old_ptr, align, ret)                                 \
	do {                                                                                 \
		if (MEMTRACK_USDT_ACTIVE(name))                                              \
			MEMTRACK_USDT_EMIT(name, ptr, size, old_ptr, align, ret);            \
	} while (0)

/* An allocator of one's own: a block of size bytes at ptr (NULL: out of memory). */
#define MEMTRACK_USDT_ALLOC(ptr, size) MEMTRACK_USDT(malloc, ptr, size, 0, 0, (ptr) ? 0 : ENOMEM)
/* ... and its release, before the block can be handed out again. */
#define MEMTRACK_USDT_FREE(ptr)                                                              \
	do {                                                                                 \
		if (ptr)                                                                     \
			MEMTRACK_USDT(free, ptr, 0, 0, 0, 0);                                \
	} while (0)

#endif /* MEMTRACK_USDT_H */
