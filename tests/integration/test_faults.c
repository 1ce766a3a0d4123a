// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Faults around a traced run: the command killed by each kind of signal
 * (also while it forks), a command that closes every descriptor and
 * lowers its limits, two tracers of one program at once, and thousands of
 * short-lived processes. After each, memtrack-load -v says what is left
 * of per-process state in the kernel's maps: nothing, once all exited.
 */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_support.h"

#define NOTHING_LEFT                                                                               \
	"state left in the kernel: 0 processes, 0 open calls, 0 frees, 0 system calls, 0 breaks"

static void nothing_left(const struct trace *tr, const char *what)
{
	if (!strstr(tr->err, NOTHING_LEFT))
		fail_msg("%s: per-process state is left in the kernel:\n%s", what, tr->err);
}

/* A copy of /bin/true under a name of this run's own, in dir: "t<pid>" (a comm no one else has). */
static void own_true(char *dir, char *path, size_t size)
{
	const char *cp[] = { "/bin/cp", "/bin/true", path, NULL };

	assert_non_null(mkdtemp(dir));
	snprintf(path, size, "%s/t%d", dir, (int)getpid());
	assert_int_equal(run_quiet(cp), 0);
}

/* Is any process named comm stopped (T) or held by a tracer (t)? */
static bool any_stopped(const char *comm)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	bool found = false;

	assert_non_null(d);
	while (!found && (e = readdir(d))) {
		char path[300], stat[512], *close_paren;
		FILE *f;

		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(stat, sizeof(stat), f) && (close_paren = strrchr(stat, ')')) &&
		    !strncmp(strchr(stat, '(') + 1, comm, strlen(comm)) &&
		    (close_paren[2] == 'T' || close_paren[2] == 't'))
			found = true;
		fclose(f);
	}
	closedir(d);
	return found;
}

/*
 * The command ends by a signal of each kind: one that terminates, one that
 * dumps core, and a stop and continue on its way to a normal exit. Its
 * status comes back as the shell gives it, its Exit event names the
 * signal, and nothing is left in the kernel.
 */
static void test_signal_of_each_kind(void **state)
{
	static const struct {
		const char *script;
		int status, signal;
	} runs[] = {
		{ "kill -TERM $$", 128 + SIGTERM, SIGTERM },
		{ "ulimit -c 0; kill -SEGV $$", 128 + SIGSEGV, SIGSEGV },
		{ "(sleep 0.3; kill -CONT $$) & kill -STOP $$; wait; exit 3", 3, 0 },
		{ "trap '' HUP; kill -HUP $$; exit 4", 4, 0 }, /* ignored: runs on */
	};
	const char *opts[] = { "-v", NULL };

	(void)state;
	REQUIRE_BPF();
	for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
		const char *cmd[] = { "/bin/sh", "-c", runs[i].script, NULL };
		struct json_object *exit_ev;
		struct trace tr;
		long pid;

		trace_run(&tr, opts, cmd);
		if (tr.status != runs[i].status)
			fail_msg("'%s': status %d, not %d:\n%s", runs[i].script, tr.status,
				 runs[i].status, tr.err);
		pid = trace_exec_pid(&tr, "sh");
		exit_ev = pid > 0 ? trace_find(&tr, "Exit", pid) : NULL;
		if (!exit_ev || jint(exit_ev, "signal") != runs[i].signal)
			fail_msg("'%s': no Exit event with signal %d", runs[i].script,
				 runs[i].signal);
		nothing_left(&tr, runs[i].script);
		trace_free(&tr);
	}
}

/*
 * The command is killed while it starts process after process (each is
 * held until its probes are in): memtrack-load ends with 128+9, and none
 * of the command's children is left stopped or held.
 */
static void test_killed_while_forking(void **state)
{
	char dir[] = "/tmp/memtrack-faults-XXXXXX", prog[96], script[256], comm[16];
	const char *cmd[] = { "/bin/sh", "-c", script, NULL };
	const char *opts[] = { "-v", NULL };
	struct trace tr;
	long sh = -1;

	(void)state;
	REQUIRE_BPF();
	own_true(dir, prog, sizeof(prog));
	snprintf(comm, sizeof(comm), "t%d", (int)getpid());
	snprintf(script, sizeof(script), "while :; do %s; done", prog);
	trace_start(&tr, opts, cmd, -1, 0);
	trace_wait_stderr(&tr, "started ", 20000);
	usleep(400000); /* well into the loop */
	{
		char pgrep[64], out[64] = "";
		const char *argv[] = { "/bin/sh", "-c", pgrep, NULL };

		snprintf(pgrep, sizeof(pgrep), "pgrep -P %d -x sh", (int)tr.pid);
		run_capture(argv, out, sizeof(out));
		sh = atol(out);
	}
	assert_true(sh > 0);
	assert_int_equal(kill((pid_t)sh, SIGKILL), 0);
	trace_finish(&tr);
	assert_int_equal(tr.status, 128 + SIGKILL);
	for (int i = 0; i < 50 && any_stopped(comm); i++)
		usleep(100000); /* the last child may still be on its way out */
	if (any_stopped(comm))
		fail_msg("a child of the killed command is left stopped");
	trace_free(&tr);
	unlink(prog);
	rmdir(dir);
}

/*
 * A command that closes every descriptor, reopens only 0-2 on /dev/null,
 * and allows itself three open files: both sources still see exactly its
 * calls and its child's.
 */
static void test_closed_descriptors_and_low_limits(void **state)
{
	const char *cmd[] = { build_path("tests/fixtures/hostile_env"), NULL };
	const char *opts[] = { "-v", "--source", SOURCE_OF(state), NULL };
	struct trace tr;
	long pid;
	char *seen;

	REQUIRE_BPF();
	trace_run(&tr, opts, cmd);
	if (tr.status != 0)
		fail_msg("status %d:\n%s", tr.status, tr.err);
	pid = trace_exec_pid(&tr, "hostile_env");
	seen = trace_sequence(&tr, pid, 0);
	assert_string_equal(seen, "Malloc:1111 Free");
	free(seen);
	seen = trace_sequence(&tr, trace_child_of(&tr, pid), 0);
	assert_string_equal(seen, "Malloc:2222 Free");
	free(seen);
	nothing_left(&tr, "hostile_env");
	trace_free(&tr);
}

/*
 * The shim in a process that may not write to its own code (a seccomp
 * filter refuses mprotect for writing, as SELinux's execmod would): its
 * forked child, whose probe sites the shim cannot repair after fork, runs
 * to its end and is traced all the same.
 */
static void test_shim_in_a_process_that_may_not_write_its_code(void **state)
{
	const char *cmd[] = { build_path("tests/fixtures/no_code_writes"), NULL };
	const char *opts[] = { "--source", "usdt", NULL };
	struct trace tr;
	char *seen;

	(void)state;
	REQUIRE_BPF();
	trace_run(&tr, opts, cmd);
	if (tr.status != 0)
		fail_msg("status %d (1: the child died):\n%s", tr.status, tr.err);
	seen = trace_sequence(&tr, trace_child_of(&tr, trace_exec_pid(&tr, "no_code_writes")), 0);
	assert_string_equal(seen, "Malloc:7777 Free");
	free(seen);
	trace_free(&tr);
}

/*
 * Two tracers of one program at once: two runs of the same command side
 * by side, each seeing its own process only; and one process followed by
 * one tracer and watched by another with --system-probes (per-process
 * probes need ptrace, which the first holds): both exact.
 */
static void test_two_tracers_at_once(void **state)
{
	const char *waiter[] = { build_path("tests/fixtures/waiter"), NULL };
	struct trace a, b;
	char pidarg[16], *seen;
	int go;
	pid_t pid;

	(void)state;
	REQUIRE_BPF();
	/* the same program, two commands, two tracers */
	{
		const char *cmd[] = { build_path("tests/fixtures/malloc_free"), NULL };

		trace_start(&a, NULL, cmd, -1, 0);
		trace_start(&b, NULL, cmd, -1, 0);
		trace_finish(&a);
		trace_finish(&b);
		assert_int_equal(a.status, 0);
		assert_int_equal(b.status, 0);
		assert_int_not_equal(trace_exec_pid(&a, "malloc_free"),
				     trace_exec_pid(&b, "malloc_free"));
		for (size_t i = 0; i < b.nev; i++) /* b never saw a's process */
			assert_int_not_equal(jint(b.ev[i], "pid"), trace_exec_pid(&a, "malloc_free"));
		seen = trace_sequence(&a, trace_exec_pid(&a, "malloc_free"), 0);
		{
			char *other = trace_sequence(&b, trace_exec_pid(&b, "malloc_free"), 0);

			assert_string_equal(seen, other);
			assert_true(strlen(seen) > 0);
			free(other);
		}
		free(seen);
		trace_free(&a);
		trace_free(&b);
	}
	/* one process, two tracers */
	pid = spawn_waiting(waiter, &go);
	snprintf(pidarg, sizeof(pidarg), "%d", (int)pid);
	{
		const char *first[] = { "-v", "-p", pidarg, NULL };
		const char *second[] = { "-v", "--system-probes", "-p", pidarg, NULL };

		trace_start(&a, first, NULL, -1, 0);
		trace_wait_stderr(&a, "tracing process", 20000);
		trace_start(&b, second, NULL, -1, 0);
		trace_wait_stderr(&b, "tracing process", 20000);
	}
	assert_int_equal(write(go, "g", 1), 1);
	close(go);
	trace_finish(&a);
	trace_finish(&b);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	assert_int_equal(a.status, 0);
	assert_int_equal(b.status, 0);
	for (int k = 0; k < 2; k++) {
		struct trace *t = k ? &b : &a;

		seen = trace_sequence(t, pid, 0);
		assert_string_equal(seen, "Malloc:5555 Free");
		free(seen);
	}
	trace_free(&a);
	trace_free(&b);
}

/*
 * A traced process, run as an ordinary user (under sudo), execs a setuid
 * root program: tracing stops at the privilege boundary, with each kind
 * of probes. Its Exec says so ("untraced"), memtrack-load warns, and none
 * of the privileged program's calls (its malloc(4321)) is in the trace.
 */
static void test_no_tracing_across_a_setuid_exec(void **state)
{
	char dir[] = "/tmp/memtrack-suid-XXXXXX", prog[96], script[160];
	const char *cmd[] = { "/bin/sh", "-c", script, NULL };
	const char *modes[][2] = { { "-v", NULL }, { "--system-probes", NULL } };

	(void)state;
	REQUIRE_BPF();
	assert_non_null(mkdtemp(dir));
	assert_int_equal(chmod(dir, 0755), 0);
	snprintf(prog, sizeof(prog), "%s/one_pair_suid", dir);
	{
		const char *cp[] = { "/bin/cp", build_path("tests/fixtures/one_pair"), prog, NULL };

		assert_int_equal(run_quiet(cp), 0);
	}
	assert_int_equal(chown(prog, 0, 0), 0);
	assert_int_equal(chmod(prog, 04755), 0);
	snprintf(script, sizeof(script), "exec %s", prog);
	setenv("SUDO_UID", "65534", 1);
	setenv("SUDO_GID", "65534", 1);
	for (size_t m = 0; m < 2; m++) {
		struct json_object *exec_ev = NULL;
		struct trace tr;
		long pid;

		trace_run(&tr, modes[m], cmd);
		assert_int_equal(tr.status, 0);
		pid = trace_exec_pid(&tr, "one_pair_suid");
		for (size_t i = 0; i < tr.nev; i++) {
			if (jint(tr.ev[i], "pid") != pid)
				continue;
			if (exec_ev)
				fail_msg("%s: an event after the privileged exec: %s", modes[m][0],
					 json_object_to_json_string(tr.ev[i]));
			if (!strcmp(jstr(tr.ev[i], "type"), "Exec") &&
			    strstr(jstr(tr.ev[i], "filename"), "one_pair_suid"))
				exec_ev = tr.ev[i];
		}
		if (!exec_ev || !jstr(exec_ev, "untraced") ||
		    strcmp(jstr(exec_ev, "untraced"), "privileged"))
			fail_msg("%s: no Exec marked untraced:\n%s", modes[m][0], tr.err);
		if (!strstr(tr.err, "not traced from there on"))
			fail_msg("%s: no warning:\n%s", modes[m][0], tr.err);
		trace_free(&tr);
	}
	unsetenv("SUDO_UID");
	unsetenv("SUDO_GID");
	unlink(prog);
	rmdir(dir);
}

/*
 * A pid used twice in one run (pid_reuse makes its second child with the
 * first one's pid): each life is traced, the second too (its per-process
 * probes are its own, not the first life's being let go of), and a report
 * of the trace keeps the two lives apart.
 */
static void test_pid_used_twice(void **state)
{
	const char *cmd[] = { build_path("tests/fixtures/pid_reuse"), NULL };
	const char *opts[] = { "--source", SOURCE_OF(state), NULL };
	struct json_object *report = NULL, *procs;
	struct trace tr;
	struct output o;
	size_t forks = 0, lives = 0;
	long parent, pid;
	char *seen;

	REQUIRE_BPF();
	trace_run(&tr, opts, cmd);
	if (tr.status != 0)
		fail_msg("status %d (3: the pid could not be had again):\n%s", tr.status, tr.err);
	parent = trace_exec_pid(&tr, "pid_reuse");
	pid = trace_child_of(&tr, parent);
	for (size_t i = 0; i < tr.nev; i++)
		forks += !strcmp(jstr(tr.ev[i], "type"), "Fork") && jint(tr.ev[i], "pid") == pid;
	assert_int_equal(forks, 2);
	seen = trace_sequence(&tr, pid, 0);
	assert_string_equal(seen, "Malloc:1111 Free Malloc:2222 Free");
	free(seen);
	{
		const char *argv[] = { build_path("memtrack-report"), "--json", tr.out_path, NULL };

		run_io(argv, NULL, NULL, 0, &o);
		assert_int_equal(o.status, 0);
		report = json_tokener_parse(o.out);
		output_free(&o);
	}
	assert_non_null(report);
	assert_true(json_object_object_get_ex(report, "processes", &procs));
	for (size_t i = 0; i < json_object_array_length(procs); i++) {
		struct json_object *p = json_object_array_get_idx(procs, i);

		if (jint(p, "pid") != pid)
			continue;
		/* the first life, then the second */
		assert_int_equal(jint(p, "alloc_bytes"), lives ? 2222 : 1111);
		lives++;
	}
	assert_int_equal(lives, 2);
	json_object_put(report);
	trace_free(&tr);
}

/*
 * The same, report-only (the kernel keeps the accounting): each life keeps
 * its own totals and its own leak, though both lives' blocks may lie at
 * one address.
 */
static void test_pid_used_twice_report_only(void **state)
{
	const char *cmd[] = { build_path("tests/fixtures/pid_reuse"), "leak", NULL };
	const char *opts[] = { "--source", SOURCE_OF(state), "--json", "--leaks", NULL };
	struct json_object *summary, *leaks, *procs, *list, *life[2] = { NULL, NULL };
	long parent = -1, pid = -1, tracer;
	size_t lives = 0, leaked[2] = { 0, 0 };
	struct trace tr;

	REQUIRE_BPF();
	trace_start(&tr, opts, cmd, -1, TRACE_NO_EVENTS);
	tracer = tr.pid;
	trace_finish(&tr);
	if (tr.status != 0)
		fail_msg("status %d (3: the pid could not be had again):\n%s", tr.status, tr.err);
	summary = trace_report(&tr, "summary");
	leaks = trace_report(&tr, "leaks");
	assert_true(json_object_object_get_ex(summary, "processes", &procs));
	for (size_t i = 0; i < json_object_array_length(procs); i++) {
		struct json_object *p = json_object_array_get_idx(procs, i);

		if (jint(p, "ppid") == tracer)
			parent = jint(p, "pid");
	}
	for (size_t i = 0; i < json_object_array_length(procs); i++) {
		struct json_object *p = json_object_array_get_idx(procs, i);

		if (jint(p, "ppid") != parent || parent < 0)
			continue;
		if (lives == 2 || (pid >= 0 && jint(p, "pid") != pid))
			fail_msg("more children than the two lives of one pid:\n%s", tr.err);
		pid = jint(p, "pid");
		life[lives++] = p;
	}
	if (lives != 2)
		fail_msg("%zu lives of the children's pid, not 2:\n%s", lives, tr.err);
	for (size_t i = 0; i < 2; i++) {
		long long size = i ? 2222 : 1111;

		if (jint(life[i], "allocs") != 1 || jint(life[i], "frees") != 0 ||
		    jint(life[i], "alloc_bytes") != size || jint(life[i], "live_bytes") != size ||
		    jint(life[i], "live_blocks") != 1 || jint(life[i], "unknown_frees") != 0)
			fail_msg("life %zu of pid %ld: %s", i + 1, pid,
				 json_object_to_json_string(life[i]));
	}
	assert_true(json_object_object_get_ex(leaks, "leaks", &list));
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		struct json_object *k = json_object_array_get_idx(list, i);

		if (jint(k, "pid") != pid)
			continue;
		leaked[0] += jint(k, "bytes") == 1111;
		leaked[1] += jint(k, "bytes") == 2222;
	}
	if (leaked[0] != 1 || leaked[1] != 1)
		fail_msg("not one leak of 1111 and one of 2222 bytes for pid %ld:\n%s", pid, tr.err);
	json_object_put(summary);
	json_object_put(leaks);
	trace_free(&tr);
}

/*
 * Ten thousand short-lived processes in one run (report-only, as a long
 * run is): each one's totals exact, one malloc(4321) and its free, and
 * nothing of theirs left in the kernel's maps at the end.
 */
static void test_ten_thousand_processes(void **state)
{
	const char *cmd[] = { build_path("tests/fixtures/spawn_many"), "10000",
			      build_path("tests/fixtures/one_pair"), NULL };
	const char *opts[] = { "-v", "--json", NULL };
	struct json_object *summary, *procs;
	struct trace tr;
	size_t n = 0;

	(void)state;
	REQUIRE_BPF();
	trace_start(&tr, opts, cmd, -1, TRACE_NO_EVENTS);
	trace_finish(&tr);
	assert_int_equal(tr.status, 0);
	nothing_left(&tr, "10,000 processes");
	summary = trace_report(&tr, "summary");
	assert_int_equal(jint(summary, "dropped"), 0);
	assert_true(json_object_object_get_ex(summary, "processes", &procs));
	for (size_t i = 0; i < json_object_array_length(procs); i++) {
		struct json_object *p = json_object_array_get_idx(procs, i);

		if (strcmp(jstr(p, "comm"), "one_pair"))
			continue;
		n++;
		if (jint(p, "allocs") != 1 || jint(p, "frees") != 1 ||
		    jint(p, "alloc_bytes") != 4321 || jint(p, "exit_status") != 0)
			fail_msg("process %lld: %s", jint(p, "pid"), json_object_to_json_string(p));
	}
	if (n != 10000)
		fail_msg("%zu processes of one_pair in the summary, not 10000", n);
	json_object_put(summary);
	trace_free(&tr);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_signal_of_each_kind),
		cmocka_unit_test(test_killed_while_forking),
		BOTH_SOURCES(test_closed_descriptors_and_low_limits),
		cmocka_unit_test(test_shim_in_a_process_that_may_not_write_its_code),
		cmocka_unit_test(test_two_tracers_at_once),
		cmocka_unit_test(test_no_tracing_across_a_setuid_exec),
		BOTH_SOURCES(test_pid_used_twice),
		BOTH_SOURCES(test_pid_used_twice_report_only),
		cmocka_unit_test(test_ten_thousand_processes),
	};

	return cmocka_run_group_tests_name("faults", tests, NULL, NULL);
}
