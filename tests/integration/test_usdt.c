// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The USDT source: the shim's semaphores follow the tracer, the shim stays
 * in the children's LD_PRELOAD (but with --no-children), -p finds
 * probes in a running process, and an application's own annotated
 * allocator is traced.
 */
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_support.h"

extern char **environ;

/* A fixture running with the shim preloaded, its stdin and stdout ours. */
struct preloaded {
	pid_t pid;
	int in;	 /* write end of its stdin */
	FILE *out; /* read end of its stdout */
	char pid_text[16];
};

static void preloaded_start(struct preloaded *p, const char *fixture)
{
	const char *argv[] = { build_path(fixture), NULL };
	char preload[512];
	char *envp[] = { preload, NULL };
	posix_spawn_file_actions_t fa;
	int in[2], out[2];

	snprintf(preload, sizeof(preload), "LD_PRELOAD=%s", build_path("libmemtrack-usdt.so"));
	assert_int_equal(pipe2(in, O_CLOEXEC), 0);
	assert_int_equal(pipe2(out, O_CLOEXEC), 0);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[0], STDIN_FILENO);
	posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
	assert_int_equal(posix_spawn(&p->pid, argv[0], &fa, NULL, (char *const *)argv, envp), 0);
	posix_spawn_file_actions_destroy(&fa);
	close(in[0]);
	close(out[1]);
	p->in = in[1];
	p->out = fdopen(out[0], "r");
	assert_non_null(p->out);
	snprintf(p->pid_text, sizeof(p->pid_text), "%d", (int)p->pid);
}

/* The next line the fixture prints (a hex mask), after sending it a byte if go. */
static unsigned long preloaded_mask(struct preloaded *p, bool go)
{
	char line[64];

	if (go)
		assert_int_equal(write(p->in, "g", 1), 1);
	assert_non_null(fgets(line, sizeof(line), p->out));
	return strtoul(line, NULL, 16);
}

static int preloaded_finish(struct preloaded *p)
{
	int wstatus;

	close(p->in);
	fclose(p->out);
	assert_int_equal(waitpid(p->pid, &wstatus, 0), p->pid);
	return WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
}

/* Idle, every semaphore reads zero; attached, all ten are set; detached, zero again. */
static void test_semaphores_follow_the_tracer(void **state)
{
	struct preloaded p;
	struct trace tr;

	(void)state;
	REQUIRE_BPF();
	preloaded_start(&p, "tests/fixtures/usdt_states");
	assert_int_equal(preloaded_mask(&p, false), 0);

	const char *opts[] = { "-v", "--source", "usdt", "-p", p.pid_text, NULL };
	trace_start(&tr, opts, NULL, -1, 0);
	trace_wait_stderr(&tr, "tracing process", 30000);
	assert_int_equal(preloaded_mask(&p, true), 0x3ff);

	assert_int_equal(kill(tr.pid, SIGINT), 0);
	trace_finish(&tr);
	assert_int_equal(tr.status, 0);
	/*
	 * memtrack-load leaves the kernel's slow removal of its links to a
	 * detacher process, which may still be at it when memtrack-load has
	 * exited: the semaphores go back to zero within moments, not at once.
	 */
	unsigned long mask = preloaded_mask(&p, true);

	for (int i = 0; mask && i < 200; i++) {
		usleep(50 * 1000);
		mask = preloaded_mask(&p, true);
	}
	assert_int_equal(mask, 0);
	assert_int_equal(preloaded_finish(&p), 0);
	trace_free(&tr);
}

/* -p on a process that runs with the shim: its calls are traced, and its children's. */
static void test_attach_to_preloaded_process(void **state)
{
	struct preloaded p;
	struct trace tr;
	char *seq;

	(void)state;
	REQUIRE_BPF();
	preloaded_start(&p, "tests/fixtures/waiter");
	const char *opts[] = { "-v", "--source", "usdt", "-p", p.pid_text, NULL };
	trace_start(&tr, opts, NULL, -1, 0);
	trace_wait_stderr(&tr, "tracing process", 30000);
	assert_int_equal(write(p.in, "g", 1), 1);
	assert_int_equal(preloaded_finish(&p), 0);
	trace_finish(&tr);
	assert_int_equal(tr.status, 0);
	assert_non_null(strstr(tr.err, "libmemtrack-usdt.so"));
	seq = trace_sequence(&tr, p.pid, 0);
	assert_string_equal(seq, "Malloc:5555 Free");
	free(seq);
	assert_int_equal(trace_count(&tr, "Fork", -1), 1);
	seq = trace_sequence(&tr, (long)jint(trace_find(&tr, "Fork", -1), "pid"), 0);
	assert_string_equal(seq, "Malloc:6666 Free");
	free(seq);
	trace_free(&tr);
}

/* -p on a process without any memtrack probes: refused, saying how to get them. */
static void test_attach_without_probes_is_refused(void **state)
{
	const char *argv[] = { "/bin/sleep", "30", NULL };
	char pid_text[16];
	const char *opts[] = { "--source", "usdt", "-p", pid_text, NULL };
	struct trace tr;
	pid_t pid;

	(void)state;
	REQUIRE_BPF();
	assert_int_equal(posix_spawn(&pid, argv[0], NULL, NULL, (char *const *)argv, environ), 0);
	snprintf(pid_text, sizeof(pid_text), "%d", (int)pid);
	trace_run(&tr, opts, NULL);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	assert_int_equal(tr.status, 5);
	assert_non_null(strstr(tr.err, "has no memtrack USDT probes"));
	assert_non_null(strstr(tr.err, "LD_PRELOAD=libmemtrack-usdt.so"));
	trace_free(&tr);
}

/*
 * The shim stays in the LD_PRELOAD of the command's children, after their
 * own preload, so that the programs they exec are traced too; with
 * --no-children it is the command's alone, and LD_PRELOAD is put back as
 * it was.
 */
static void test_children_keep_the_shim(void **state)
{
	char out[4096], theirs[512], expected[600];
	const char *script = "echo \"[$LD_PRELOAD][$MEMTRACK_USDT_PRELOAD]\"";
	const char *argv[] = { build_path("memtrack-load"), "--source", "usdt", "--", "/bin/sh",
			       "-c", script, NULL };
	const char *alone[] = { build_path("memtrack-load"), "--source", "usdt", "--no-children",
				"--", "/bin/sh", "-c", script, NULL };

	(void)state;
	REQUIRE_BPF();
	unsetenv("LD_PRELOAD");
	assert_int_equal(run_capture(argv, out, sizeof(out)), 0);
	if (!strstr(out, "libmemtrack-usdt.so][]"))
		fail_msg("the shim left the children's LD_PRELOAD:\n%s", out);
	assert_int_equal(run_capture(alone, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "[][]"));

	/* their own preload (a library with no allocator in it) stays, first */
	snprintf(theirs, sizeof(theirs), "%s", build_path("tests/fixtures/libnomalloc.so"));
	setenv("LD_PRELOAD", theirs, 1);
	assert_int_equal(run_capture(argv, out, sizeof(out)), 0);
	snprintf(expected, sizeof(expected), "[%s:", theirs);
	if (!strstr(out, expected) || !strstr(out, "libmemtrack-usdt.so][]"))
		fail_msg("expected %s...libmemtrack-usdt.so in:\n%s", expected, out);
	assert_int_equal(run_capture(alone, out, sizeof(out)), 0);
	unsetenv("LD_PRELOAD");
	snprintf(expected, sizeof(expected), "[%s][]", theirs);
	if (!strstr(out, expected))
		fail_msg("expected %s in:\n%s", expected, out);
}

/*
 * A child that sets its own LD_PRELOAD with the shim, and one that execs
 * with the preload it inherited: both are followed into their programs.
 */
static void test_exec_d_children_are_traced(void **state)
{
	char script[1024], shim[512];
	const char *opts[] = { "--source", "usdt", NULL };
	const char *cmd[] = { "/bin/sh", "-c", script, NULL };
	struct trace tr;
	char *seq;

	(void)state;
	REQUIRE_BPF();
	assert_non_null(realpath(build_path("libmemtrack-usdt.so"), shim));
	snprintf(script, sizeof(script), "LD_PRELOAD=%s %s; %s", shim,
		 build_path("tests/fixtures/reuse"), build_path("tests/fixtures/second"));
	trace_run(&tr, opts, cmd);
	assert_int_equal(tr.status, 0);
	/* the programs' own calls: the shell's child may allocate before its exec */
	seq = trace_program_sequence(&tr, "fixtures/reuse");
	assert_string_equal(seq, "Malloc:48 Free Malloc:48 Free");
	free(seq);
	seq = trace_program_sequence(&tr, "fixtures/second");
	assert_string_equal(seq, "Malloc:4444 Free");
	free(seq);
	trace_free(&tr);
}

/* An application's own allocator, annotated with usdt/memtrack_usdt.h, is traced. */
static void test_annotated_arena_is_seen(void **state)
{
	const char *opts[] = { "--source", "usdt", NULL };
	const char *cmd[] = { build_path("examples/arena"), NULL };
	size_t sizes[3] = { 0 };
	struct trace tr;
	long pid;

	(void)state;
	REQUIRE_BPF();
	trace_run(&tr, opts, cmd);
	assert_int_equal(tr.status, 0);
	pid = trace_exec_pid(&tr, "examples/arena");
	for (size_t i = 0; i < tr.nev; i++) {
		long long size = jint(tr.ev[i], "size");

		if (jint(tr.ev[i], "pid") != pid || strcmp(jstr(tr.ev[i], "type"), "Malloc"))
			continue;
		sizes[0] += size == 48;
		sizes[1] += size == 96;
		sizes[2] += size == 192;
	}
	assert_int_equal(sizes[0], 100);
	assert_int_equal(sizes[1], 100);
	assert_int_equal(sizes[2], 100);
	/* 270 released, 30 kept: and the stdout buffer the shim saw, never freed */
	assert_int_equal(trace_count(&tr, "Free", pid), 270);
	assert_int_equal(trace_check_blocks(&tr, pid), 31);
	trace_free(&tr);
}

/* The shim's corners, checked by the fixture itself: idle, and with a tracer listening. */
static void test_shim_keeps_allocator_semantics(void **state)
{
	const char *opts[] = { "--source", "usdt", NULL };
	const char *cmd[] = { build_path("tests/fixtures/shim_edge"), NULL };
	char preload[512];
	const char *plain[] = { "/usr/bin/env", preload, build_path("tests/fixtures/shim_edge"),
				NULL };
	struct json_object *failed;
	struct trace tr;

	(void)state;
	REQUIRE_BPF();
	snprintf(preload, sizeof(preload), "LD_PRELOAD=%s", build_path("libmemtrack-usdt.so"));
	assert_int_equal(run_quiet(plain), 0);
	trace_run(&tr, opts, cmd);
	if (tr.status != 0)
		fail_msg("shim_edge failed under the tracer:\n%s", tr.err);
	json_object_object_get_ex(trace_stats(&tr), "failed", &failed);
	assert_int_equal(jint(failed, "malloc"), 1);
	assert_int_equal(jint(failed, "calloc"), 1);
	assert_int_equal(jint(failed, "reallocarray"), 1);
	assert_int_equal(jint(failed, "posix_memalign"), 1);
	trace_free(&tr);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_semaphores_follow_the_tracer),
		cmocka_unit_test(test_attach_to_preloaded_process),
		cmocka_unit_test(test_attach_without_probes_is_refused),
		cmocka_unit_test(test_children_keep_the_shim),
		cmocka_unit_test(test_exec_d_children_are_traced),
		cmocka_unit_test(test_annotated_arena_is_seen),
		cmocka_unit_test(test_shim_keeps_allocator_semantics),
	};

	return cmocka_run_group_tests_name("usdt", tests, NULL, NULL);
}
