// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* loader/base/u64_map: the address -> size and pid -> index hash map. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "u64_map.h"

/* A deterministic, well-spread sequence (splitmix64). */
static uint64_t next_random(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void put_then_get_returns_the_value(void **state)
{
	struct u64_map m = { 0 };
	uint64_t v = 0;

	(void)state;
	assert_int_equal(u64_map_put(&m, 42, 4200), 0);
	assert_int_equal(u64_map_put(&m, 7, 700), 0);
	assert_true(u64_map_get(&m, 42, &v));
	assert_int_equal(v, 4200);
	assert_true(u64_map_get(&m, 7, &v));
	assert_int_equal(v, 700);
	assert_int_equal(m.count, 2);
	u64_map_free(&m);
}

static void get_of_an_absent_key_is_false_even_on_an_empty_map(void **state)
{
	struct u64_map m = { 0 };
	uint64_t v = 123;

	(void)state;
	assert_false(u64_map_get(&m, 1, &v));
	assert_false(u64_map_take(&m, 1, &v));
	assert_int_equal(v, 123);
	assert_int_equal(u64_map_put(&m, 1, 10), 0);
	assert_false(u64_map_get(&m, 2, &v));
	assert_int_equal(v, 123);
	u64_map_free(&m);
}

static void put_of_an_existing_key_replaces_its_value_without_counting_it_twice(void **state)
{
	struct u64_map m = { 0 };
	uint64_t v = 0;

	(void)state;
	assert_int_equal(u64_map_put(&m, 0x7f0000001000, 16), 0);
	assert_int_equal(u64_map_put(&m, 0x7f0000001000, 32), 0);
	assert_true(u64_map_get(&m, 0x7f0000001000, &v));
	assert_int_equal(v, 32);
	assert_int_equal(m.count, 1);
	u64_map_free(&m);
}

static void take_removes_the_key_and_returns_its_value(void **state)
{
	struct u64_map m = { 0 };
	uint64_t v = 0;

	(void)state;
	assert_int_equal(u64_map_put(&m, 5, 50), 0);
	assert_int_equal(u64_map_put(&m, 6, 60), 0);
	assert_true(u64_map_take(&m, 5, &v));
	assert_int_equal(v, 50);
	assert_int_equal(m.count, 1);
	assert_false(u64_map_get(&m, 5, &v));
	assert_false(u64_map_take(&m, 5, &v));
	/* the value pointer may be NULL */
	assert_true(u64_map_take(&m, 6, NULL));
	assert_int_equal(m.count, 0);
	u64_map_free(&m);
}

static void key_zero_is_rejected_and_never_found(void **state)
{
	struct u64_map m = { 0 };
	uint64_t v = 99;

	(void)state;
	assert_int_equal(u64_map_put(&m, 0, 1), -EINVAL);
	assert_int_equal(m.count, 0);
	assert_int_equal(u64_map_put(&m, 1, 1), 0);
	assert_false(u64_map_get(&m, 0, &v));
	assert_false(u64_map_take(&m, 0, &v));
	assert_int_equal(v, 99);
	assert_int_equal(m.count, 1);
	u64_map_free(&m);
}

#define MANY 100000

static void growth_keeps_every_one_of_100k_keys_retrievable(void **state)
{
	struct u64_map m = { 0 };
	uint64_t *keys = calloc(MANY, sizeof(*keys));
	uint64_t seed = 1, v;

	(void)state;
	assert_non_null(keys);
	/* Half 16-byte-aligned heap-like addresses, half arbitrary 64-bit values. */
	for (size_t i = 0; i < MANY; i++) {
		if (i % 2)
			keys[i] = 0x55550000000ull + 16 * i;
		else
			keys[i] = next_random(&seed) | 1;
		assert_int_equal(u64_map_put(&m, keys[i], i), 0);
	}
	assert_int_equal(m.count, MANY);
	assert_true(m.cap >= MANY);
	assert_int_equal(m.cap & (m.cap - 1), 0);
	for (size_t i = 0; i < MANY; i++) {
		assert_true(u64_map_get(&m, keys[i], &v));
		assert_int_equal(v, i);
	}
	assert_false(u64_map_get(&m, 0x55550000000ull + 16 * MANY + 16, &v));
	free(keys);
	u64_map_free(&m);
}

/* The map's own hash (loader/base/u64_map.c), to pick keys that collide on purpose. */
static size_t home_slot(const struct u64_map *m, uint64_t key)
{
	return u64_map_slot(m, key);
}

/*
 * Keys that a fixed multiplicative hash sent to one slot (multiples of
 * 2^44, as a damaged or hostile trace can hold) spread: the longest run of
 * occupied slots stays short, so lookups stay constant time. Under the old
 * hash all 80,000 formed one run.
 */
static void keys_chosen_to_collide_spread(void **state)
{
	struct u64_map m = { 0 };
	size_t run = 0, longest = 0;

	(void)state;
	for (uint64_t i = 1; i <= 80000; i++)
		assert_int_equal(u64_map_put(&m, i << 44, i), 0);
	for (size_t i = 0; i < 2 * m.cap; i++) {
		run = m.keys[i & (m.cap - 1)] ? run + 1 : 0;
		if (run > longest)
			longest = run;
	}
	if (longest > 1000)
		fail_msg("a run of %zu occupied slots of %zu", longest, m.cap);
	u64_map_free(&m);
}

/*
 * Deleting from the middle of a probe run must not cut the run: every key
 * after the hole must stay findable. Keys are picked to share one home slot
 * (and its neighbour), so they form one long run; a plain array is the
 * reference for what must be in the map.
 */
static void deleting_from_a_collision_run_keeps_the_other_keys_findable(void **state)
{
	struct u64_map m = { 0 };
	uint64_t keys[24], v;
	bool present[24];
	size_t n = 0, target, cap;

	(void)state;
	/* Allocate the table first, so that home slots are known; 24 keys must not grow it. */
	assert_int_equal(u64_map_put(&m, 1, 1), 0);
	assert_true(u64_map_take(&m, 1, NULL));
	cap = m.cap;
	assert_true(cap >= 64);
	target = home_slot(&m, 0x1000);
	for (uint64_t k = 0x1000; n < 24; k += 16) {
		size_t h = home_slot(&m, k);

		/* home slot target or target + 1: one contiguous run, stays under 3/4 load */
		if (h == target || h == ((target + 1) & (cap - 1)))
			keys[n++] = k;
	}
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(u64_map_put(&m, keys[i], keys[i] * 3), 0);
		present[i] = true;
	}
	assert_int_equal(m.cap, cap);
	/* They do form one run: n occupied slots in a row from the common home. */
	for (size_t i = 0; i < n; i++)
		assert_int_not_equal(m.keys[(target + i) & (cap - 1)], 0);
	/* Delete the middle ones, and some near the start of the run, in a mixed order. */
	static const size_t doomed[] = { 12, 3, 13, 11, 0, 20, 1, 7 };

	for (size_t d = 0; d < sizeof(doomed) / sizeof(doomed[0]); d++) {
		assert_true(u64_map_take(&m, keys[doomed[d]], &v));
		assert_int_equal(v, keys[doomed[d]] * 3);
		present[doomed[d]] = false;
		for (size_t i = 0; i < n; i++) {
			bool found = u64_map_get(&m, keys[i], &v);

			assert_int_equal(found, present[i]);
			if (found)
				assert_int_equal(v, keys[i] * 3);
		}
	}
	assert_int_equal(m.count, n - sizeof(doomed) / sizeof(doomed[0]));
	u64_map_free(&m);
}

/* Random puts and takes, compared step by step against a plain array. */
static void random_puts_and_takes_agree_with_a_reference_array(void **state)
{
	enum { KEYS = 3000, STEPS = 200000 };
	struct u64_map m = { 0 };
	uint64_t *ref = calloc(KEYS, sizeof(*ref)); /* 0: absent, else value */
	uint64_t seed = 7, v;
	size_t live = 0;

	(void)state;
	assert_non_null(ref);
	for (size_t step = 0; step < STEPS; step++) {
		uint64_t r = next_random(&seed);
		size_t k = (size_t)(r % KEYS);
		uint64_t key = 0x7f1200000000ull + 16 * k; /* aligned addresses collide more */

		if (r & (1ull << 40)) {
			uint64_t val = (r >> 8) | 1;

			assert_int_equal(u64_map_put(&m, key, val), 0);
			live += !ref[k];
			ref[k] = val;
		} else {
			bool taken = u64_map_take(&m, key, &v);

			assert_int_equal(taken, ref[k] != 0);
			if (taken) {
				assert_int_equal(v, ref[k]);
				ref[k] = 0;
				live--;
			}
		}
		assert_int_equal(m.count, live);
	}
	for (size_t k = 0; k < KEYS; k++) {
		bool found = u64_map_get(&m, 0x7f1200000000ull + 16 * k, &v);

		assert_int_equal(found, ref[k] != 0);
		if (found)
			assert_int_equal(v, ref[k]);
	}
	free(ref);
	u64_map_free(&m);
}

static void clear_empties_the_map_and_it_stays_usable(void **state)
{
	struct u64_map m = { 0 };
	uint64_t v;

	(void)state;
	for (uint64_t k = 1; k <= 1000; k++)
		assert_int_equal(u64_map_put(&m, k, k), 0);
	assert_int_equal(m.count, 1000);
	u64_map_clear(&m);
	assert_int_equal(m.count, 0);
	for (uint64_t k = 1; k <= 1000; k++)
		assert_false(u64_map_get(&m, k, &v));
	assert_int_equal(u64_map_put(&m, 500, 5), 0);
	assert_true(u64_map_get(&m, 500, &v));
	assert_int_equal(v, 5);
	assert_int_equal(m.count, 1);
	u64_map_free(&m);
	assert_int_equal(m.count, 0);
	assert_int_equal(m.cap, 0);
	assert_null(m.keys);
}

static void clear_of_a_never_used_map_is_harmless(void **state)
{
	struct u64_map m = { 0 };

	(void)state;
	u64_map_clear(&m);
	assert_int_equal(m.count, 0);
	u64_map_free(&m);
}

static void count_follows_puts_and_takes(void **state)
{
	struct u64_map m = { 0 };

	(void)state;
	for (uint64_t k = 1; k <= 100; k++) {
		assert_int_equal(u64_map_put(&m, k * 16, k), 0);
		assert_int_equal(m.count, k);
	}
	for (uint64_t k = 1; k <= 100; k += 2)
		assert_true(u64_map_take(&m, k * 16, NULL));
	assert_int_equal(m.count, 50);
	for (uint64_t k = 2; k <= 100; k += 2)
		assert_int_equal(u64_map_put(&m, k * 16, 0), 0); /* replace */
	assert_int_equal(m.count, 50);
	u64_map_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(put_then_get_returns_the_value),
		cmocka_unit_test(get_of_an_absent_key_is_false_even_on_an_empty_map),
		cmocka_unit_test(put_of_an_existing_key_replaces_its_value_without_counting_it_twice),
		cmocka_unit_test(take_removes_the_key_and_returns_its_value),
		cmocka_unit_test(key_zero_is_rejected_and_never_found),
		cmocka_unit_test(growth_keeps_every_one_of_100k_keys_retrievable),
		cmocka_unit_test(deleting_from_a_collision_run_keeps_the_other_keys_findable),
		cmocka_unit_test(random_puts_and_takes_agree_with_a_reference_array),
		cmocka_unit_test(clear_empties_the_map_and_it_stays_usable),
		cmocka_unit_test(clear_of_a_never_used_map_is_harmless),
		cmocka_unit_test(count_follows_puts_and_takes),
		cmocka_unit_test(keys_chosen_to_collide_spread),
	};

	return cmocka_run_group_tests_name("u64_map", tests, NULL, NULL);
}
