// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "grow_array.h"
#include "stack_cache.h"

int stack_cache_put(struct stack_cache *c, uint64_t id, const uint64_t *ip, uint32_t nr)
{
	uint64_t have;
	int err;

	if (!id)
		return -EINVAL;
	if (u64_map_get(&c->index, id, &have))
		return 0;
	err = RESERVE_ARRAY(c->entries, c->nentries + 1, c->cap_entries, 64);
	/*
	 * Room for one frame at least, even for a stack of none (a trace's
	 * "frames":[]): get's answer points into frames[], and a NULL frames[]
	 * would make a known empty stack look unknown (and NULL + 0 is
	 * undefined).
	 */
	if (!err)
		err = RESERVE_ARRAY(c->frames, c->nframes + (nr ? nr : 1), c->cap_frames, 64);
	if (!err)
		err = u64_map_put(&c->index, id, c->nentries + 1);
	if (err)
		return err;
	c->entries[c->nentries++] = (struct stack_entry){ c->nframes, nr };
	if (nr) /* ip may be NULL then, and memcpy's pointers must not be */
		memcpy(c->frames + c->nframes, ip, nr * sizeof(*ip));
	c->nframes += nr;
	return 0;
}

const uint64_t *stack_cache_get(const struct stack_cache *c, uint64_t id, uint32_t *nr)
{
	uint64_t idx;

	if (!u64_map_get(&c->index, id, &idx))
		return NULL;
	*nr = c->entries[idx - 1].nr;
	return c->frames + c->entries[idx - 1].first;
}

void stack_cache_free(struct stack_cache *c)
{
	u64_map_free(&c->index);
	free(c->entries);
	free(c->frames);
	memset(c, 0, sizeof(*c));
}
