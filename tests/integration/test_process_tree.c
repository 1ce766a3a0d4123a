// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The process tree: forked children, exec'd images, threads, --no-children. */
#include <string.h>

#include "test_support.h"

static void expect_sequence(const struct trace *tr, long pid, long tid, const char *expected)
{
	char *seen = trace_sequence(tr, pid, tid);

	assert_string_equal(seen, expected);
	free(seen);
}

static void expect_success(const struct trace *tr)
{
	if (tr->status != 0)
		fail_msg("memtrack-load exited %d; stderr:\n%s", tr->status, tr->err);
}

/* The pid of the one child the trace saw forked, checked to be parent's. */
static long forked_child(const struct trace *tr, long parent)
{
	struct json_object *fork_ev = trace_find(tr, "Fork", -1);

	assert_non_null(fork_ev);
	assert_int_equal(jint(fork_ev, "ppid"), parent);
	return (long)jint(fork_ev, "pid");
}

static void test_fork_child_attributed_to_child(void **state)
{
	const char *opts[] = { "--source", SOURCE_OF(state), NULL };
	const char *cmd[] = { build_path("tests/fixtures/fork_child"), NULL };
	struct json_object *exit_ev;
	struct trace tr;
	long parent, child;

	REQUIRE_BPF();
	trace_run(&tr, opts, cmd);
	expect_success(&tr);
	parent = trace_exec_pid(&tr, "fork_child");
	child = forked_child(&tr, parent);
	assert_true(child != parent);

	expect_sequence(&tr, parent, 0, "Malloc:111 Free Malloc:333 Free");
	expect_sequence(&tr, child, 0, "Malloc:222 Free");
	/* The child's exit is its own event, and it leaves before the parent. */
	exit_ev = trace_find(&tr, "Exit", child);
	assert_non_null(exit_ev);
	assert_int_equal(jint(exit_ev, "exit_code"), 0);
	assert_non_null(trace_find(&tr, "Exit", parent));
	trace_free(&tr);
}

static void test_exec_in_place_keeps_tracing(void **state)
{
	const char *opts[] = { "--source", SOURCE_OF(state), NULL };
	const char *cmd[] = { build_path("tests/fixtures/exec_second"),
			      build_path("tests/fixtures/second"), NULL };
	struct trace tr;
	long pid;

	REQUIRE_BPF();
	trace_run(&tr, opts, cmd);
	expect_success(&tr);
	pid = trace_exec_pid(&tr, "exec_second");
	/* Same process, new image: its allocations continue under the same pid. */
	assert_int_equal(trace_exec_pid(&tr, "/second"), pid);
	assert_int_equal(trace_count(&tr, "Exec", pid), 2);
	expect_sequence(&tr, pid, 0, "Malloc:1111 Free Malloc:4444 Free");
	trace_free(&tr);
}

static void test_fork_and_exec_child(void **state)
{
	const char *opts[] = { "--source", SOURCE_OF(state), NULL };
	const char *cmd[] = { build_path("tests/fixtures/exec_second"), "--fork",
			      build_path("tests/fixtures/second"), NULL };
	struct trace tr;
	long parent, child;

	REQUIRE_BPF();
	trace_run(&tr, opts, cmd);
	expect_success(&tr);
	parent = trace_exec_pid(&tr, "exec_second");
	child = trace_exec_pid(&tr, "/second");
	assert_true(child > 0 && child != parent);
	assert_int_equal(jint(trace_find(&tr, "Fork", child), "ppid"), parent);
	expect_sequence(&tr, parent, 0, "Malloc:1111 Free");
	expect_sequence(&tr, child, 0, "Malloc:4444 Free");
	trace_free(&tr);
}

/*
 * Children started by vfork, posix_spawn (clone with CLONE_VM|CLONE_VFORK)
 * and a bare clone: each traced from its first allocation, its calls its
 * own and nothing of its parent's.
 */
static void spawned_by(void **state, const char *mode, const char *program,
		       const char *child_seq)
{
	const char *opts[] = { "--source", SOURCE_OF(state), NULL };
	const char *cmd[] = { build_path("tests/fixtures/spawn_kinds"), mode, program, NULL };
	struct trace tr;
	long parent, child;

	REQUIRE_BPF();
	trace_run(&tr, opts, cmd);
	expect_success(&tr);
	parent = trace_exec_pid(&tr, "spawn_kinds");
	child = forked_child(&tr, parent);
	expect_sequence(&tr, parent, 0, "Malloc:1111 Free");
	expect_sequence(&tr, child, 0, child_seq);
	trace_free(&tr);
}

static void test_vfork_child(void **state)
{
	spawned_by(state, "vfork", build_path("tests/fixtures/second"), "Malloc:4444 Free");
}

static void test_posix_spawn_child(void **state)
{
	spawned_by(state, "posix_spawn", build_path("tests/fixtures/second"), "Malloc:4444 Free");
}

static void test_clone_child(void **state)
{
	spawned_by(state, "clone", NULL, "Malloc:3333 Free");
}

static void test_no_children(void **state)
{
	const char *opts[] = { "--no-children", "--source", SOURCE_OF(state), NULL };
	const char *cmd[] = { build_path("tests/fixtures/fork_child"), NULL };
	struct trace tr;
	long parent;

	REQUIRE_BPF();
	trace_run(&tr, opts, cmd);
	expect_success(&tr);
	parent = trace_exec_pid(&tr, "fork_child");
	expect_sequence(&tr, parent, 0, "Malloc:111 Free Malloc:333 Free");
	/* No Fork, and no event from any other process (Stack records have no pid). */
	assert_int_equal(trace_count(&tr, "Fork", -1), 0);
	for (size_t i = 0; i + 1 < tr.nev; i++)
		if (jint(tr.ev[i], "pid") != -1)
			assert_int_equal(jint(tr.ev[i], "pid"), parent);
	trace_free(&tr);
}

/* Each worker thread's 50 mallocs and 50 frees, attributed to that thread, not mixed up. */
static void test_two_threads(void **state)
{
	const char *opts[] = { "--source", SOURCE_OF(state), NULL };
	const char *cmd[] = { build_path("tests/fixtures/threads"), NULL };
	char expected[2048];
	struct trace tr;
	long pid, tids[2] = { 0, 0 };

	REQUIRE_BPF();
	trace_run(&tr, opts, cmd);
	expect_success(&tr);
	pid = trace_exec_pid(&tr, "threads");
	for (size_t i = 0; i < tr.nev; i++) {
		long long size = jint(tr.ev[i], "size");

		if (size == 2001 || size == 2002) {
			long tid = (long)jint(tr.ev[i], "tid");
			long *slot = &tids[size - 2001];

			assert_int_equal(jint(tr.ev[i], "pid"), pid);
			assert_true(tid != pid); /* not the main thread */
			if (!*slot)
				*slot = tid;
			assert_int_equal(*slot, tid);
		}
	}
	assert_true(tids[0] > 0 && tids[1] > 0 && tids[0] != tids[1]);
	for (int t = 0; t < 2; t++) {
		expected[0] = '\0';
		for (int i = 0; i < 50; i++)
			snprintf(expected + strlen(expected), sizeof(expected) - strlen(expected),
				 "%sMalloc:%d", i ? " " : "", 2001 + t);
		for (int i = 0; i < 50; i++)
			strcat(expected, " Free");
		/*
		 * glibc frees the thread's tcache as the thread exits (it was never
		 * malloc'd). It calls its own free directly: a uprobe on free sees it,
		 * an LD_PRELOAD'ed free does not.
		 */
		if (!IS_USDT(state))
			strcat(expected, " Free");
		expect_sequence(&tr, pid, tids[t], expected);
	}
	trace_free(&tr);
}

/* A statically linked command: its own malloc is probed before it runs. */
static void test_static_command(void **state)
{
	const char *cmd[] = { build_path("tests/fixtures/static_alloc"), NULL };
	struct trace tr;
	long pid;
	char *seq;

	(void)state;
	REQUIRE_BPF();
	trace_run(&tr, NULL, cmd);
	expect_success(&tr);
	pid = trace_exec_pid(&tr, "static_alloc");
	seq = trace_sequence(&tr, pid, 0);
	/* glibc's static startup allocates too; the fixture's pair comes last */
	assert_non_null(strstr(seq, "Malloc:7777 Free"));
	assert_null(strstr(tr.err, "probed only now"));
	free(seq);
	trace_free(&tr);
}

/*
 * A traced process execs a static binary. With probes in traced processes
 * (the default), the warden holds it at its exec until its own malloc is
 * probed: every call is seen. With system-wide probes, its malloc is
 * probed when the Exec event arrives, with a warning that early calls may
 * be missed.
 */
static void exec_into_static_binary(const char *const *opts, bool held)
{
	char script[512];
	const char *cmd[] = { "/bin/sh", "-c", script, NULL };
	struct trace tr;
	long pid;
	char *seq;

	REQUIRE_BPF();
	/* the fixture waits (up to 10 s) for its malloc breakpoint before allocating */
	snprintf(script, sizeof(script), "exec %s %s", build_path("tests/fixtures/static_alloc"),
		 held ? "0" : "10000");
	trace_run(&tr, opts, cmd);
	expect_success(&tr);
	pid = trace_exec_pid(&tr, "static_alloc");
	assert_true(pid > 0);
	if (held)
		assert_null(strstr(tr.err, "probed only now"));
	else /* from the Exec event or from the image's mmap record, whichever is read first */
		assert_non_null(strstr(tr.err, "probed only now"));
	seq = trace_sequence(&tr, pid, 0);
	assert_non_null(strstr(seq, "Malloc:7777 Free"));
	free(seq);
	trace_free(&tr);
}

static void test_exec_into_static_binary(void **state)
{
	(void)state;
	exec_into_static_binary(NULL, true);
}

static void test_exec_into_static_binary_system_probes(void **state)
{
	const char *opts[] = { "--system-probes", NULL };

	(void)state;
	exec_into_static_binary(opts, false);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		BOTH_SOURCES(test_fork_child_attributed_to_child),
		/* exec'd images keep the shim preloaded: both sources follow them */
		BOTH_SOURCES(test_exec_in_place_keeps_tracing),
		BOTH_SOURCES(test_fork_and_exec_child),
		BOTH_SOURCES(test_vfork_child),
		BOTH_SOURCES(test_posix_spawn_child),
		BOTH_SOURCES(test_clone_child),
		BOTH_SOURCES(test_no_children),
		BOTH_SOURCES(test_two_threads),
		cmocka_unit_test(test_static_command),
		cmocka_unit_test(test_exec_into_static_binary),
		cmocka_unit_test(test_exec_into_static_binary_system_probes),
	};

	return cmocka_run_group_tests_name("process_tree", tests, NULL, NULL);
}
