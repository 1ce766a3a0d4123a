// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The examples do what their comments promise, traced for real. */
#include <string.h>

#include "test_support.h"

/* allocs: one event of each kind, and two leaks left in the summary. */
static void test_allocs_shows_every_kind(void **state)
{
	const char *cmd[] = { build_path("examples/allocs"), NULL };
	struct trace tr;
	long pid;
	char *funcs;

	(void)state;
	REQUIRE_BPF();
	trace_run(&tr, NULL, cmd);
	assert_int_equal(tr.status, 0);
	pid = trace_exec_pid(&tr, "allocs");
	assert_int_equal(trace_count(&tr, "Calloc", pid), 1);
	assert_int_equal(trace_count(&tr, "Realloc", pid), 3);
	assert_int_equal(trace_count(&tr, "AlignedAlloc", pid), 5);
	funcs = trace_funcs(&tr, pid);
	assert_string_equal(funcs, "realloc realloc reallocarray aligned_alloc posix_memalign "
				   "aligned_alloc valloc pvalloc");
	free(funcs);
	/* the strdup'd string, the 12345-byte block and stdout's buffer are never freed */
	assert_int_equal(trace_check_blocks(&tr, pid), 3);
	trace_free(&tr);
}

/* spawn: three forked workers, each exec'd, each with its own allocations. */
static void test_spawn_follows_fork_and_exec(void **state)
{
	const char *cmd[] = { build_path("examples/spawn"), NULL };
	struct trace tr;
	long parent;

	(void)state;
	REQUIRE_BPF();
	trace_run(&tr, NULL, cmd);
	assert_int_equal(tr.status, 0);
	parent = trace_exec_pid(&tr, "examples/spawn");
	assert_int_equal(trace_count(&tr, "Fork", -1), 3);
	assert_int_equal(trace_count(&tr, "Exec", -1), 4);
	for (size_t i = 0; i < tr.nev; i++) {
		const char *type = jstr(tr.ev[i], "type");
		long child;
		char *seq, expected[128] = "";

		if (strcmp(type, "Fork") != 0)
			continue;
		child = (long)jint(tr.ev[i], "pid");
		assert_int_equal(jint(tr.ev[i], "ppid"), parent);
		seq = trace_sequence(&tr, child, 0);
		/* worker n: n blocks of n KiB, all but one freed, then stdout's buffer */
		for (int n = 1; n <= 3; n++) {
			if (!strstr(seq, n == 1 ? "Malloc:1024" : n == 2 ? "Malloc:2048"
									: "Malloc:3072"))
				continue;
			for (int k = 0; k < n; k++)
				snprintf(expected + strlen(expected),
					 sizeof(expected) - strlen(expected), "Malloc:%d ",
					 n * 1024);
			for (int k = 1; k < n; k++)
				strcat(expected, "Free ");
			strcat(expected, "Malloc:4096");
		}
		assert_string_equal(seq, expected);
		free(seq);
	}
	trace_free(&tr);
}

static void test_library_usage(void **state)
{
	const char *argv[] = { build_path("examples/library_usage"), NULL };
	char out[8192];

	(void)state;
	REQUIRE_BPF();
	assert_int_equal(run_capture(argv, out, sizeof(out)), 0);
	/* 13 allocations of 33356 bytes in all, 3 of them never freed */
	if (!strstr(out, "33356 bytes allocated by") || !strstr(out, "0 events dropped"))
		fail_msg("unexpected output:\n%s", out);
}

static void test_track_multiple(void **state)
{
	const char *argv[] = { build_path("examples/track_multiple"), NULL };
	char out[4096];

	(void)state;
	REQUIRE_BPF();
	assert_int_equal(run_capture(argv, out, sizeof(out)), 0);
	if (!strstr(out, ": 10 mallocs, 10240 bytes") || !strstr(out, ": 20 mallocs, 40960 bytes"))
		fail_msg("unexpected output:\n%s", out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_allocs_shows_every_kind),
		cmocka_unit_test(test_spawn_follows_fork_and_exec),
		cmocka_unit_test(test_library_usage),
		cmocka_unit_test(test_track_multiple),
	};

	return cmocka_run_group_tests_name("examples", tests, NULL, NULL);
}
