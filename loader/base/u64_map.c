// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "u64_map.h"

/* Fibonacci hashing: spreads 16-byte-aligned addresses and small pids alike. */
static uint64_t seed;
static pthread_once_t seeded = PTHREAD_ONCE_INIT;

static void make_seed(void)
{
	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != sizeof(seed))
		seed = (uint64_t)time(NULL) * 0x9e3779b97f4a7c15ull ^ (uint64_t)getpid();
}

/*
 * Keys come from outside (addresses and stack ids in a trace): with a
 * fixed hash, keys chosen to share a slot (multiples of 2^44 did, under
 * the multiplicative hash this replaced) make every probe walk them all,
 * and reading a trace quadratic. The hash is keyed by a seed drawn once
 * per process, then mixed so that every key bit moves every slot bit.
 */
size_t u64_map_slot(const struct u64_map *m, uint64_t key)
{
	uint64_t x;

	pthread_once(&seeded, make_seed);
	x = key ^ seed;
	x ^= x >> 32;
	x *= 0xd6e8feb86659fd93ull;
	x ^= x >> 32;
	x *= 0xd6e8feb86659fd93ull;
	x ^= x >> 32;
	return (size_t)x & (m->cap - 1);
}

static int rehash(struct u64_map *m, size_t cap)
{
	struct u64_map bigger = { 0 };

	bigger.keys = calloc(cap, sizeof(*bigger.keys));
	bigger.vals = calloc(cap, sizeof(*bigger.vals));
	if (!bigger.keys || !bigger.vals) {
		free(bigger.keys);
		free(bigger.vals);
		return -ENOMEM;
	}
	bigger.cap = cap;
	for (size_t i = 0; i < m->cap; i++)
		if (m->keys[i])
			u64_map_put(&bigger, m->keys[i], m->vals[i]);
	free(m->keys);
	free(m->vals);
	*m = bigger;
	return 0;
}

int u64_map_put(struct u64_map *m, uint64_t key, uint64_t val)
{
	size_t i;

	if (!key)
		return -EINVAL;
	/* Keep the load under 3/4 so probe runs stay short. */
	if ((m->count + 1) * 4 > m->cap * 3) {
		int err = rehash(m, m->cap ? m->cap * 2 : 64);

		if (err)
			return err;
	}
	for (i = u64_map_slot(m, key); m->keys[i] && m->keys[i] != key; i = (i + 1) & (m->cap - 1))
		;
	if (!m->keys[i]) {
		m->keys[i] = key;
		m->count++;
	}
	m->vals[i] = val;
	return 0;
}

static bool find(const struct u64_map *m, uint64_t key, size_t *slot)
{
	if (!m->cap || !key)
		return false;
	for (size_t i = u64_map_slot(m, key); m->keys[i]; i = (i + 1) & (m->cap - 1)) {
		if (m->keys[i] == key) {
			*slot = i;
			return true;
		}
	}
	return false;
}

bool u64_map_get(const struct u64_map *m, uint64_t key, uint64_t *val)
{
	size_t i;

	if (!find(m, key, &i))
		return false;
	if (val)
		*val = m->vals[i];
	return true;
}

bool u64_map_take(struct u64_map *m, uint64_t key, uint64_t *val)
{
	size_t hole, i, mask = m->cap - 1;

	if (!find(m, key, &hole))
		return false;
	if (val)
		*val = m->vals[hole];
	/*
	 * Backward shift: move later entries of the run into the hole when
	 * their home slot does not lie (cyclically) between the hole and them.
	 */
	for (i = (hole + 1) & mask; m->keys[i]; i = (i + 1) & mask) {
		size_t home = u64_map_slot(m, m->keys[i]);

		if (((i - home) & mask) >= ((i - hole) & mask)) {
			m->keys[hole] = m->keys[i];
			m->vals[hole] = m->vals[i];
			hole = i;
		}
	}
	m->keys[hole] = 0;
	m->count--;
	return true;
}

void u64_map_clear(struct u64_map *m)
{
	if (m->cap)
		memset(m->keys, 0, m->cap * sizeof(*m->keys));
	m->count = 0;
}

void u64_map_free(struct u64_map *m)
{
	free(m->keys);
	free(m->vals);
	memset(m, 0, sizeof(*m));
}
