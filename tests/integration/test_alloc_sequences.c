// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Each fixture makes a known sequence of allocator calls; the JSONL of
 * memtrack-load must show exactly that sequence, with consistent addresses.
 */
#include <string.h>

#include "test_support.h"

/* Trace one fixture with one source; return the pid it ran as (from its Exec event). */
static long trace_fixture(struct trace *tr, const char *source, const char *name,
			  const char *const *args)
{
	const char *opts[] = { "--source", source, NULL };
	const char *cmd[8] = { build_path(name) };
	long pid;

	for (int i = 0; args && args[i]; i++)
		cmd[i + 1] = args[i];
	trace_run(tr, opts, cmd);
	if (tr->status != 0)
		fail_msg("memtrack-load exited %d; stderr:\n%s", tr->status, tr->err);
	pid = trace_exec_pid(tr, name);
	assert_true(pid > 0);
	return pid;
}

static void expect_sequence(const struct trace *tr, long pid, const char *expected)
{
	char *seen = trace_sequence(tr, pid, 0);

	assert_string_equal(seen, expected);
	free(seen);
}

static void test_malloc_free_pairs(void **state)
{
	struct trace tr;
	char expected[8192] = "Malloc:100 Free Malloc:200 Free";
	long pid;

	REQUIRE_BPF();
	pid = trace_fixture(&tr, SOURCE_OF(state), "tests/fixtures/malloc_free", NULL);
	/* then 100 mallocs of 1000..1099, then 100 frees */
	for (int i = 0; i < 100; i++)
		snprintf(expected + strlen(expected), sizeof(expected) - strlen(expected),
			 " Malloc:%d", 1000 + i);
	for (int i = 0; i < 100; i++)
		strcat(expected, " Free");
	expect_sequence(&tr, pid, expected);
	assert_int_equal(trace_check_blocks(&tr, pid), 0);
	assert_non_null(trace_stats(&tr));
	assert_int_equal(jint(trace_stats(&tr), "dropped"), 0);
	trace_free(&tr);
}

static void test_calloc_and_realloc(void **state)
{
	struct trace tr;
	struct json_object *to_zero = NULL;
	long pid;
	char *funcs;

	REQUIRE_BPF();
	pid = trace_fixture(&tr, SOURCE_OF(state), "tests/fixtures/calloc_realloc", NULL);
	/* calloc 10x40; malloc; grow; shrink; realloc(NULL, 300); realloc(q, 0); free; reallocarray */
	expect_sequence(&tr, pid,
			"Calloc:400 Free Malloc:100 Realloc:1000 Realloc:50 Realloc:300 Realloc:0 "
			"Free Realloc:128 Free");
	funcs = trace_funcs(&tr, pid);
	assert_string_equal(funcs, "realloc realloc realloc realloc reallocarray");
	free(funcs);
	/* realloc(NULL, n) releases nothing; realloc(p, 0) releases p and returns nothing. */
	for (size_t i = 0; i < tr.nev; i++)
		if (jint(tr.ev[i], "size") == 300)
			assert_int_equal(jint(tr.ev[i], "old_addr"), 0);
		else if (jstr(tr.ev[i], "func") && jint(tr.ev[i], "size") == 0)
			to_zero = tr.ev[i];
	assert_non_null(to_zero);
	assert_int_equal(jint(to_zero, "addr"), 0);
	assert_true(jint(to_zero, "old_addr") > 0);
	/* each says when it began (R10), with either source: before it ended, after the last call */
	for (long long i = 0, last = 0; i < (long long)tr.nev; i++) {
		long long entered = jint(tr.ev[i], "entered"), at = jint(tr.ev[i], "timestamp");

		if (jint(tr.ev[i], "pid") != pid || !json_object_object_get_ex(tr.ev[i], "addr", NULL))
			continue; /* not a call */
		if (!strcmp(jstr(tr.ev[i], "type"), "Realloc") &&
		    (entered <= 0 || entered > at || entered < last))
			fail_msg("Realloc entered %lld, at %lld, after a call at %lld", entered, at,
				 last);
		last = at;
	}
	assert_int_equal(trace_check_blocks(&tr, pid), 0);
	trace_free(&tr);
}

static void test_aligned_family(void **state)
{
	struct trace tr;
	struct json_object *failed;
	long pid;
	char *funcs;

	REQUIRE_BPF();
	pid = trace_fixture(&tr, SOURCE_OF(state), "tests/fixtures/aligned", NULL);
	/* posix_memalign(&p, 3, 100) fails with EINVAL: no event, and malloc(77) still follows */
	expect_sequence(&tr, pid,
			"AlignedAlloc:256@64 Free AlignedAlloc:512@128 Free Malloc:77 Free "
			"AlignedAlloc:96@32 Free AlignedAlloc:1000@4096 Free "
			"AlignedAlloc:5000@4096 Free");
	/*
	 * glibc 2.36's memalign is its aligned_alloc: to uprobes, one function,
	 * reported by that name; the shim knows which name the program called.
	 */
	funcs = trace_funcs(&tr, pid);
	assert_string_equal(funcs, IS_USDT(state)
					   ? "aligned_alloc posix_memalign memalign valloc pvalloc"
					   : "aligned_alloc posix_memalign aligned_alloc valloc pvalloc");
	free(funcs);
	for (size_t i = 0; i < tr.nev; i++)
		if (jint(tr.ev[i], "align") > 0)
			assert_int_equal(jint(tr.ev[i], "addr") % jint(tr.ev[i], "align"), 0);
	assert_int_equal(trace_check_blocks(&tr, pid), 0);
	json_object_object_get_ex(trace_stats(&tr), "failed", &failed);
	assert_int_equal(jint(failed, "posix_memalign"), 1);
	trace_free(&tr);
}

static void test_failures_are_not_allocations(void **state)
{
	struct trace tr;
	struct json_object *failed;
	long pid;

	REQUIRE_BPF();
	pid = trace_fixture(&tr, SOURCE_OF(state), "tests/fixtures/failures", NULL);
	/*
	 * malloc(huge), calloc overflow, realloc(p, huge) and reallocarray overflow
	 * fail (the last is not realloc(p, 0): p stays live); free(NULL) is no free
	 */
	expect_sequence(&tr, pid, "Malloc:64 Free");
	assert_int_equal(trace_check_blocks(&tr, pid), 0);
	json_object_object_get_ex(trace_stats(&tr), "failed", &failed);
	assert_int_equal(jint(failed, "malloc"), 1);
	assert_int_equal(jint(failed, "calloc"), 1);
	assert_int_equal(jint(failed, "realloc"), 1);
	assert_int_equal(jint(failed, "reallocarray"), 1);
	assert_non_null(strstr(tr.err, "4 failed calls"));
	trace_free(&tr);
}

static void test_reused_address(void **state)
{
	struct trace tr;
	long long first = 0, second = 0;
	long pid;

	REQUIRE_BPF();
	pid = trace_fixture(&tr, SOURCE_OF(state), "tests/fixtures/reuse", NULL);
	expect_sequence(&tr, pid, "Malloc:48 Free Malloc:48 Free");
	for (size_t i = 0; i < tr.nev; i++) {
		if (jint(tr.ev[i], "size") != 48)
			continue;
		if (!first)
			first = jint(tr.ev[i], "addr");
		else
			second = jint(tr.ev[i], "addr");
	}
	assert_true(first != 0);
	assert_int_equal(first, second); /* the same address, two lives */
	assert_int_equal(trace_check_blocks(&tr, pid), 0);
	trace_free(&tr);
}

/* A call whose return is never seen is counted, and hides nothing after it. */
static void test_lost_return_is_counted_and_contained(void **state)
{
	struct json_object *drops;
	struct trace tr;
	long pid;

	REQUIRE_BPF();
	pid = trace_fixture(&tr, SOURCE_OF(state), "tests/fixtures/lost_return", NULL);
	expect_sequence(&tr, pid,
			"Malloc:16 Malloc:4 Free Malloc:4 Free Malloc:4 Free Malloc:200 Free "
			"Malloc:200 Free Malloc:200 Free Malloc:200 Free Malloc:200 Free Free");
	json_object_object_get_ex(trace_stats(&tr), "drops", &drops);
	assert_int_equal(jint(drops, "lost_return"), 1);
	assert_int_equal(jint(trace_stats(&tr), "dropped"), 1);
	trace_free(&tr);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		BOTH_SOURCES(test_malloc_free_pairs),
		BOTH_SOURCES(test_calloc_and_realloc),
		BOTH_SOURCES(test_aligned_family),
		BOTH_SOURCES(test_failures_are_not_allocations),
		BOTH_SOURCES(test_reused_address),
		/* a uretprobe matter: the shim's probes fire after the call, in one hit */
		cmocka_unit_test_prestate(test_lost_return_is_counted_and_contained, "uprobe"),
	};

	return cmocka_run_group_tests_name("alloc_sequences", tests, NULL, NULL);
}
