// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* loader/base/stack_cache: stacks by id, each kept once. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>

#include "stack_cache.h"

static void a_stack_is_kept_once_by_id(void **state)
{
	const uint64_t a[] = { 1, 2, 3 }, b[] = { 9 };
	struct stack_cache c = { 0 };
	const uint64_t *ip;
	uint32_t nr;

	(void)state;
	assert_int_equal(stack_cache_put(&c, 7, a, 3), 0);
	assert_int_equal(stack_cache_put(&c, 7, b, 1), 0); /* ignored */
	ip = stack_cache_get(&c, 7, &nr);
	assert_non_null(ip);
	assert_int_equal(nr, 3);
	assert_memory_equal(ip, a, sizeof(a));
	assert_null(stack_cache_get(&c, 8, &nr));
	assert_int_equal(stack_cache_put(&c, 0, a, 3), -EINVAL);
	stack_cache_free(&c);
}

/*
 * A stack of no frames (a trace's "frames":[], the fuzzer's find) is
 * known: as the first stack it once left frames[] NULL, and get's NULL
 * answer said unknown.
 */
static void an_empty_stack_is_known(void **state)
{
	const uint64_t a[] = { 4, 5 };
	struct stack_cache c = { 0 };
	const uint64_t *ip;
	uint32_t nr = 99;

	(void)state;
	assert_int_equal(stack_cache_put(&c, 1, NULL, 0), 0);
	assert_non_null(stack_cache_get(&c, 1, &nr));
	assert_int_equal(nr, 0);
	assert_int_equal(stack_cache_put(&c, 2, a, 2), 0);
	ip = stack_cache_get(&c, 2, &nr);
	assert_non_null(ip);
	assert_int_equal(nr, 2);
	assert_memory_equal(ip, a, sizeof(a));
	assert_non_null(stack_cache_get(&c, 1, &nr));
	assert_int_equal(nr, 0);
	stack_cache_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_stack_is_kept_once_by_id),
		cmocka_unit_test(an_empty_stack_is_known),
	};

	return cmocka_run_group_tests_name("stack_cache", tests, NULL, NULL);
}
