// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Probes only where memtrack traces: breakpoints in the traced tree's
 * address spaces (every child and exec'd image) and in no other process;
 * system-wide probes, as asked, in every process. And the warden that
 * holds new children never leaves one stopped, whoever is killed.
 */
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test_support.h"

/*
 * The allocator these tests look at: a private copy of the wrapper
 * library, preloaded into the processes they start and named to
 * memtrack-load with -l. A copy of their own, because another tracer's
 * system-wide probes on libc (a second test run beside this one, say)
 * would put breakpoints into every process and say nothing of ours.
 */
struct private_lib {
	char dir[64];
	char path[128];
	char preload[160]; /* LD_PRELOAD=path */
};

static void private_lib_make(struct private_lib *l)
{
	char cmd[512];
	const char *argv[] = { "/bin/sh", "-c", cmd, NULL };

	snprintf(l->dir, sizeof(l->dir), "/tmp/memtrack-scope-XXXXXX");
	assert_non_null(mkdtemp(l->dir));
	snprintf(l->path, sizeof(l->path), "%s/liballoc.so", l->dir);
	snprintf(l->preload, sizeof(l->preload), "LD_PRELOAD=%s", l->path);
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", build_path("tests/fixtures/libwrapper.so"),
		 l->path);
	assert_int_equal(run_quiet(argv), 0);
}

static void private_lib_remove(struct private_lib *l)
{
	unlink(l->path);
	rmdir(l->dir);
}

/* What the breakpoints fixture says of a process started now, outside any trace. */
static void untraced_state(const struct private_lib *l, char *out, size_t size)
{
	const char *argv[] = { "/usr/bin/env", l->preload, build_path("tests/fixtures/breakpoints"),
			       NULL };

	assert_int_equal(run_capture(argv, out, size), 0);
}

/*
 * While memtrack-load traces a waiting command, a process started beside
 * it has breakpoints only if the probes are system-wide.
 */
static void other_process_while_tracing(bool system_probes, const char *expect)
{
	struct private_lib l;
	const char *opts[] = { "-v", "-l", l.path, system_probes ? "--system-probes" : NULL, NULL };
	const char *cmd[] = { "/usr/bin/env", l.preload, build_path("tests/fixtures/waiter"), NULL };
	char state[256];
	struct trace tr;
	int go[2];

	REQUIRE_BPF();
	private_lib_make(&l);
	assert_int_equal(pipe2(go, O_CLOEXEC), 0);
	trace_start(&tr, opts, cmd, go[0], 0);
	close(go[0]);
	trace_wait_stderr(&tr, "started ", 20000);
	untraced_state(&l, state, sizeof(state));
	assert_int_equal(write(go[1], "g", 1), 1);
	close(go[1]);
	trace_finish(&tr);
	assert_int_equal(tr.status, 0);
	assert_string_equal(state, expect);
	trace_free(&tr);
	private_lib_remove(&l);
}

static void test_untraced_process_has_no_probes(void **state)
{
	(void)state;
	other_process_while_tracing(false, "malloc:clean free:clean\n");
}

static void test_system_probes_reach_every_process(void **state)
{
	(void)state;
	other_process_while_tracing(true, "malloc:probed free:probed\n");
}

static char *slurp(const char *path);

/*
 * memtrack-load -p: the process attached to gets the probes, a process
 * started beside it does not.
 */
static void test_attached_process_alone_has_probes(void **state)
{
	struct private_lib l;
	char out_path[] = "/tmp/memtrack-attach-XXXXXX", pid_text[16], state_beside[256];
	const char *argv[] = { "/usr/bin/env", l.preload, build_path("tests/fixtures/breakpoints"),
			       "--wait", out_path, NULL };
	const char *opts[] = { "-v", "-l", l.path, "-p", pid_text, NULL };
	struct trace tr;
	int go, fd, wstatus;
	pid_t pid;

	(void)state;
	REQUIRE_BPF();
	private_lib_make(&l);
	fd = mkstemp(out_path);
	assert_true(fd >= 0);
	close(fd);
	pid = spawn_waiting(argv, &go);
	snprintf(pid_text, sizeof(pid_text), "%d", (int)pid);
	trace_start(&tr, opts, NULL, -1, 0);
	trace_wait_stderr(&tr, "tracing process ", 20000);
	untraced_state(&l, state_beside, sizeof(state_beside));
	assert_int_equal(write(go, "g", 1), 1);
	close(go);
	assert_int_equal(waitpid(pid, &wstatus, 0), pid);
	trace_finish(&tr);
	assert_int_equal(tr.status, 0);
	assert_string_equal(state_beside, "malloc:clean free:clean\n");
	assert_string_equal(slurp(out_path), "malloc:probed free:probed\n");
	unlink(out_path);
	trace_free(&tr);
	private_lib_remove(&l);
}

static char *slurp(const char *path)
{
	static char buf[256];
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return "(missing)";
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

/* The command, a forked child and an exec'd image all carry the probes. */
static void test_traced_tree_has_probes(void **state)
{
	char dir[] = "/tmp/memtrack-scope-XXXXXX", script[1024], a[64], b[64], c[64];
	const char *cmd[] = { "/bin/sh", "-c", script, NULL };
	const char *fixture = build_path("tests/fixtures/breakpoints");
	struct trace tr;

	(void)state;
	REQUIRE_BPF();
	assert_non_null(mkdtemp(dir));
	snprintf(a, sizeof(a), "%s/a", dir);
	snprintf(b, sizeof(b), "%s/b", dir);
	snprintf(c, sizeof(c), "%s/c", dir);
	/* a: a child of the shell; b: a grandchild in a subshell; c: the shell's own exec */
	snprintf(script, sizeof(script), "%s %s; (%s %s) & wait; exec %s %s", fixture, a, fixture,
		 b, fixture, c);
	trace_run(&tr, NULL, cmd);
	assert_int_equal(tr.status, 0);
	assert_string_equal(slurp(a), "malloc:probed free:probed\n");
	assert_string_equal(slurp(b), "malloc:probed free:probed\n");
	assert_string_equal(slurp(c), "malloc:probed free:probed\n");
	unlink(a);
	unlink(b);
	unlink(c);
	rmdir(dir);
	trace_free(&tr);
}

static bool wait_for_file(const char *path, int timeout_ms)
{
	struct stat st;

	for (int waited = 0; waited < timeout_ms; waited += 10) {
		if (stat(path, &st) == 0)
			return true;
		usleep(10000);
	}
	return false;
}

/* The pid of memtrack-load's warden child, found by its name; 0 if none. */
static pid_t warden_of(pid_t parent)
{
	char cmd[128], out[64] = "";
	const char *argv[] = { "/bin/sh", "-c", cmd, NULL };

	snprintf(cmd, sizeof(cmd), "pgrep -P %d -x memtrack-warden", (int)parent);
	run_capture(argv, out, sizeof(out));
	return (pid_t)atoi(out);
}

/*
 * A command that starts process after process, while memtrack-load (or
 * its warden) is killed with SIGKILL: the command must run to its end,
 * none of its processes left stopped.
 */
static void killed_midway(bool kill_warden)
{
	char dir[] = "/tmp/memtrack-kill-XXXXXX", script[512], mark[64];
	const char *cmd[] = { "/bin/sh", "-c", script, NULL };
	const char *opts[] = { "-v", NULL };
	struct trace tr;
	pid_t warden;

	REQUIRE_BPF();
	assert_non_null(mkdtemp(dir));
	snprintf(mark, sizeof(mark), "%s/done", dir);
	snprintf(script, sizeof(script),
		 "i=0; while [ $i -lt 400 ]; do /bin/true; i=$((i+1)); done; : > %s", mark);
	trace_start(&tr, opts, cmd, -1, TRACE_OWN_GROUP);
	trace_wait_stderr(&tr, "started ", 20000);
	usleep(300000); /* into the loop: processes are being held and let go */
	warden = warden_of(tr.pid);
	assert_true(warden > 0);
	assert_int_equal(kill(kill_warden ? warden : tr.pid, SIGKILL), 0);
	/* the command was memtrack-load's child: it runs on, orphaned or not */
	assert_true(wait_for_file(mark, 60000));
	trace_finish(&tr);
	if (kill_warden)
		assert_int_equal(tr.status, 0);
	else
		assert_int_equal(tr.status, 128 + SIGKILL);
	unlink(mark);
	rmdir(dir);
	trace_free(&tr);
}

static void test_tracer_killed_leaves_nothing_stopped(void **state)
{
	(void)state;
	killed_midway(false);
}

static void test_warden_killed_leaves_nothing_stopped(void **state)
{
	(void)state;
	killed_midway(true);
}

/* A process's CPU time so far (user and system), in clock ticks; -1 if gone. */
static long long cpu_ticks(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long long utime, stime;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	p = fgets(buf, sizeof(buf), f);
	fclose(f);
	/* after the name in parentheses: state, then 10 fields, then utime and stime */
	if (!p || !(p = strrchr(buf, ')')) ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime,
		   &stime) != 2)
		return -1;
	return (long long)(utime + stime);
}

/*
 * While the traced command sleeps, neither memtrack-load nor its warden
 * spends CPU: the warden waits in poll(), memtrack-load in the ring
 * buffer's epoll. (The warden once polled a closed descriptor and took a
 * whole CPU.) A spinning process gets most of a second in a second, even
 * on a busy machine; the bound is a third.
 */
static void test_idle_trace_is_idle(void **state)
{
	const char *cmd[] = { "/bin/sleep", "3", NULL };
	const char *opts[] = { "-v", NULL };
	long long ticks = sysconf(_SC_CLK_TCK), w0, w1, m0, m1;
	struct trace tr;
	pid_t warden;

	(void)state;
	REQUIRE_BPF();
	trace_start(&tr, opts, cmd, -1, 0);
	trace_wait_stderr(&tr, "started ", 20000);
	warden = warden_of(tr.pid);
	assert_true(warden > 0);
	w0 = cpu_ticks(warden);
	m0 = cpu_ticks(tr.pid);
	sleep(1);
	w1 = cpu_ticks(warden);
	m1 = cpu_ticks(tr.pid);
	trace_finish(&tr);
	assert_int_equal(tr.status, 0);
	assert_true(w0 >= 0 && w1 >= 0 && m0 >= 0 && m1 >= 0);
	if (w1 - w0 > ticks / 3 || m1 - m0 > ticks / 3)
		fail_msg("CPU in a second of an idle trace: warden %lld, memtrack-load %lld ticks "
			 "(of %lld)",
			 w1 - w0, m1 - m0, ticks);
	trace_free(&tr);
}

/*
 * memtrack-load returns the command's status right after the command ends:
 * letting go of the probes (seconds, with the kernel's grace periods) is
 * a detacher process's business. The bound is loose, for a busy machine:
 * closing the links itself took 2 to 5 s.
 */
static void test_status_comes_back_at_once(void **state)
{
	char stamp[] = "/tmp/memtrack-stamp-XXXXXX", script[256], text[64] = "";
	const char *cmd[] = { "/bin/sh", "-c", script, NULL };
	const char *sources[] = { "uprobe", "usdt" };
	struct timespec now;
	long long ended, back;
	struct trace tr;
	int fd;

	(void)state;
	REQUIRE_BPF();
	fd = mkstemp(stamp);
	assert_true(fd >= 0);
	close(fd);
	/* the command's last act: the time, CLOCK_MONOTONIC (/proc/uptime is too coarse) */
	snprintf(script, sizeof(script), "%s %s", build_path("tests/fixtures/monotonic_stamp"),
		 stamp);
	for (size_t i = 0; i < 2; i++) {
		const char *opts[] = { "--source", sources[i], NULL };
		FILE *f;

		trace_run(&tr, opts, cmd);
		clock_gettime(CLOCK_MONOTONIC, &now);
		back = now.tv_sec * 1000000000LL + now.tv_nsec;
		assert_int_equal(tr.status, 0);
		f = fopen(stamp, "r");
		assert_non_null(f);
		assert_non_null(fgets(text, sizeof(text), f));
		fclose(f);
		ended = atoll(text);
		if (back - ended > 1500000000LL)
			fail_msg("%s: %lld ms from the command's end to memtrack-load's", sources[i],
				 (back - ended) / 1000000);
		trace_free(&tr);
	}
	unlink(stamp);
}

/*
 * The same exact sequences, for both sources, with memtrack told to do
 * without a kind of link this kernel has (env=1), as an older kernel must.
 */
static void sequences_without(const char *env)
{
	const char *sources[] = { "uprobe", "usdt" };
	const char *cmd[] = { build_path("tests/fixtures/spawn_kinds"), "posix_spawn",
			      build_path("tests/fixtures/second"), NULL };
	struct trace tr;

	REQUIRE_BPF();
	setenv(env, "1", 1);
	for (size_t i = 0; i < 2; i++) {
		const char *opts[] = { "--source", sources[i], NULL };
		struct json_object *fork_ev;
		char *seq;

		trace_run(&tr, opts, cmd);
		assert_int_equal(tr.status, 0);
		seq = trace_sequence(&tr, trace_exec_pid(&tr, "spawn_kinds"), 0);
		assert_string_equal(seq, "Malloc:1111 Free");
		free(seq);
		fork_ev = trace_find(&tr, "Fork", -1);
		assert_non_null(fork_ev);
		seq = trace_sequence(&tr, (long)jint(fork_ev, "pid"), 0);
		assert_string_equal(seq, "Malloc:4444 Free");
		free(seq);
		trace_free(&tr);
	}
	unsetenv(env);
}

/*
 * Kernels before 6.6 have no uprobe_multi links: each probe is a
 * perf-event uprobe of its own, attached for each process, and the USDT
 * source is libbpf's.
 */
static void test_without_uprobe_multi(void **state)
{
	(void)state;
	sequences_without("MEMTRACK_NO_UPROBE_MULTI");
}

/* Kernels from 6.6 to 6.12 have uprobe_multi links but no sessions: an entry and a return link. */
static void test_without_uprobe_sessions(void **state)
{
	(void)state;
	sequences_without("MEMTRACK_NO_UPROBE_SESSION");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_untraced_process_has_no_probes),
		cmocka_unit_test(test_system_probes_reach_every_process),
		cmocka_unit_test(test_attached_process_alone_has_probes),
		cmocka_unit_test(test_traced_tree_has_probes),
		cmocka_unit_test(test_tracer_killed_leaves_nothing_stopped),
		cmocka_unit_test(test_warden_killed_leaves_nothing_stopped),
		cmocka_unit_test(test_status_comes_back_at_once),
		cmocka_unit_test(test_idle_trace_is_idle),
		cmocka_unit_test(test_without_uprobe_multi),
		cmocka_unit_test(test_without_uprobe_sessions),
	};

	return cmocka_run_group_tests_name("probe_scope", tests, NULL, NULL);
}
