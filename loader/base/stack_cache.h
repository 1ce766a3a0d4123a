/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Stacks by id, each kept once and compactly (only the frames it has):
 * filled from the kernel's stacks map while tracing, or from a trace's
 * Stack records when reading one back.
 */
#ifndef MEMTRACK_STACK_CACHE_H
#define MEMTRACK_STACK_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "u64_map.h"

struct stack_cache {
	struct u64_map index; /* id -> entry + 1 */
	struct stack_entry {
		size_t first; /* index of its first frame in frames[] */
		uint32_t nr;
	} *entries;
	size_t nentries, cap_entries;
	uint64_t *frames;
	size_t nframes, cap_frames;
};

/* Keep a stack under id (a second put of the same id is ignored). -EINVAL for id 0, -ENOMEM. */
int stack_cache_put(struct stack_cache *c, uint64_t id, const uint64_t *ip, uint32_t nr);
/* The frames of id and their number, or NULL if unknown. */
const uint64_t *stack_cache_get(const struct stack_cache *c, uint64_t id, uint32_t *nr);
void stack_cache_free(struct stack_cache *c);

#endif /* MEMTRACK_STACK_CACHE_H */
