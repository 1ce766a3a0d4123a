/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A hash map from 64-bit keys to 64-bit values (open addressing, linear
 * probing, deletion by backward shift): live blocks by address, processes
 * by pid. Key 0 is reserved for empty slots.
 */
#ifndef MEMTRACK_U64_MAP_H
#define MEMTRACK_U64_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct u64_map {
	uint64_t *keys; /* 0: empty */
	uint64_t *vals;
	size_t cap; /* a power of two, or 0 */
	size_t count;
};

/* Insert or replace; -EINVAL for key 0, -ENOMEM. */
int u64_map_put(struct u64_map *m, uint64_t key, uint64_t val);
/* The slot key's probe starts at (m->cap must not be 0): for tests of collisions. */
size_t u64_map_slot(const struct u64_map *m, uint64_t key);
bool u64_map_get(const struct u64_map *m, uint64_t key, uint64_t *val);
/* Remove key, storing its value in *val (may be NULL). False if absent. */
bool u64_map_take(struct u64_map *m, uint64_t key, uint64_t *val);
void u64_map_clear(struct u64_map *m);
void u64_map_free(struct u64_map *m);

#endif /* MEMTRACK_U64_MAP_H */
