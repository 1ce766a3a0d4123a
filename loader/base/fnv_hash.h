/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * FNV-1a, the one hash of the loader's tables (interned strings, symbol
 * caches, pprof's string table). Its constants are memtrack_events.h's,
 * with which the BPF side hashes stack frames.
 */
#ifndef MEMTRACK_FNV_HASH_H
#define MEMTRACK_FNV_HASH_H

#include <stdint.h>

#include "memtrack_events.h"

#define FNV1A_SEED MT_FNV1A_SEED
#define FNV1A_PRIME MT_FNV1A_PRIME

static inline uint64_t fnv1a_str(uint64_t h, const char *s)
{
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * FNV1A_PRIME;
	return h;
}

/* The eight bytes of v, low first. */
static inline uint64_t fnv1a_u64(uint64_t h, uint64_t v)
{
	for (int i = 0; i < 8; i++, v >>= 8)
		h = (h ^ (v & 0xff)) * FNV1A_PRIME;
	return h;
}

#endif /* MEMTRACK_FNV_HASH_H */
