// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* memtrack-load exits as the command did, and --strict fails a run that lost events. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_support.h"

static void run_exit_status(const char *arg, int expected_status, int expected_signal)
{
	const char *cmd[] = { build_path("tests/fixtures/exit_status"), arg, NULL };
	struct json_object *exit_ev;
	struct trace tr;
	long pid;

	trace_run(&tr, NULL, cmd);
	assert_int_equal(tr.status, expected_status);
	pid = trace_exec_pid(&tr, "exit_status");
	exit_ev = trace_find(&tr, "Exit", pid);
	assert_non_null(exit_ev);
	assert_int_equal(jint(exit_ev, "signal"), expected_signal);
	if (!expected_signal)
		assert_int_equal(jint(exit_ev, "exit_code"), expected_status);
	/* The report is written even when the command fails. */
	assert_non_null(trace_stats(&tr));
	assert_non_null(strstr(tr.err, "events dropped"));
	trace_free(&tr);
}

static void test_exit_code_passes_through(void **state)
{
	(void)state;
	REQUIRE_BPF();
	run_exit_status("0", 0, 0);
	run_exit_status("42", 42, 0);
}

static void test_killed_command_is_128_plus_signal(void **state)
{
	(void)state;
	REQUIRE_BPF();
	run_exit_status("-9", 128 + SIGKILL, SIGKILL);
	run_exit_status("-6", 128 + SIGABRT, SIGABRT);
}

/* Wait until a process is a zombie (it exited and nobody reaped it yet). */
static void wait_zombie(long pid)
{
	char path[64], stat[256];

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	for (int i = 0; i < 3000; i++) {
		int fd = open(path, O_RDONLY);
		ssize_t n = fd >= 0 ? read(fd, stat, sizeof(stat) - 1) : -1;

		if (fd >= 0)
			close(fd);
		if (n > 0) {
			stat[n] = '\0';
			if (strstr(stat, ") Z "))
				return;
		}
		usleep(10000);
	}
	fail_msg("process %ld did not finish", pid);
}

/*
 * A one-page ring buffer and a consumer that is stopped while the fixture
 * makes 4000 events: most are dropped, the drops are counted by reason, and
 * --strict turns them into exit status 7.
 */
static void test_strict_fails_on_drops(void **state)
{
	const char *opts[] = { "-v", "--strict", "--ringbuf-size", "4096", NULL };
	const char *cmd[] = { build_path("tests/fixtures/burst"), NULL };
	struct json_object *drops;
	struct trace tr;
	int go[2];
	long pid;
	char *started;

	(void)state;
	REQUIRE_BPF();
	assert_int_equal(pipe2(go, O_CLOEXEC), 0);
	trace_start(&tr, opts, cmd, go[0], 0);
	close(go[0]);
	trace_wait_stderr(&tr, "as process ", 30000);
	started = strstr(tr.err, "as process ");
	pid = strtol(started + strlen("as process "), NULL, 10);
	assert_true(pid > 0);

	assert_int_equal(kill(tr.pid, SIGSTOP), 0);
	assert_int_equal(write(go[1], "g", 1), 1);
	close(go[1]);
	wait_zombie(pid);
	assert_int_equal(kill(tr.pid, SIGCONT), 0);
	trace_finish(&tr);

	assert_int_equal(tr.status, 7);
	assert_non_null(strstr(tr.err, "(--strict)"));
	json_object_object_get_ex(trace_stats(&tr), "drops", &drops);
	assert_true(jint(drops, "ringbuf_full") > 0);
	assert_int_equal(jint(trace_stats(&tr), "dropped"), jint(drops, "ringbuf_full"));
	trace_free(&tr);
}

/* Ctrl-C ends a -p trace cleanly: status 0, Stats record and summary written. */
static void test_sigint_ends_attach_cleanly(void **state)
{
	const char *waiter[] = { build_path("tests/fixtures/waiter"), NULL };
	char pid_text[16];
	const char *opts[] = { "-v", "-p", pid_text, NULL };
	struct trace tr;
	pid_t pid;
	int go[2];

	(void)state;
	REQUIRE_BPF();
	assert_int_equal(pipe2(go, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(go[0], STDIN_FILENO);
		execv(waiter[0], (char *const *)waiter);
		_exit(127);
	}
	close(go[0]);
	snprintf(pid_text, sizeof(pid_text), "%d", (int)pid);
	trace_start(&tr, opts, NULL, -1, 0);
	trace_wait_stderr(&tr, "tracing process", 30000);
	assert_int_equal(kill(tr.pid, SIGINT), 0);
	trace_finish(&tr);
	assert_int_equal(tr.status, 0);
	assert_non_null(trace_stats(&tr));
	assert_non_null(strstr(tr.err, "Real.max"));
	assert_non_null(strstr(tr.err, "events dropped"));
	assert_int_equal(write(go[1], "g", 1), 1);
	close(go[1]);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	trace_free(&tr);
}

/*
 * SIGTERM to memtrack-load alone: it reports, gives the command a moment,
 * and since the command is still running, exits 128+SIGTERM.
 */
static void test_sigterm_with_command_still_running(void **state)
{
	const char *opts[] = { "-v", NULL };
	const char *cmd[] = { build_path("tests/fixtures/waiter"), NULL };
	struct trace tr;
	int go[2];

	(void)state;
	REQUIRE_BPF();
	assert_int_equal(pipe2(go, O_CLOEXEC), 0);
	trace_start(&tr, opts, cmd, go[0], 0);
	close(go[0]);
	trace_wait_stderr(&tr, "as process ", 30000);
	assert_int_equal(kill(tr.pid, SIGTERM), 0);
	/* The waiter holds memtrack-load's stderr open: release it only once memtrack-load is done. */
	wait_zombie(tr.pid);
	assert_int_equal(write(go[1], "g", 1), 1);
	close(go[1]);
	trace_finish(&tr);
	assert_int_equal(tr.status, 128 + SIGTERM);
	assert_non_null(trace_stats(&tr));
	assert_non_null(strstr(tr.err, "events dropped"));
	trace_free(&tr);
}

/*
 * Under sudo, the command runs as the user who ran sudo: that user's id,
 * group and supplementary groups (not root's), and none of memtrack's
 * capabilities, effective, permitted or ambient.
 */
static void test_command_runs_as_sudo_user(void **state)
{
	const char *cmd[] = {
		"/bin/sh", "-c",
		"[ \"$(id -u):$(id -g):$(id -G)\" = 65534:65534:65534 ] && "
		"grep -Eq '^CapEff:[[:space:]]+0+$' /proc/self/status && "
		"grep -Eq '^CapPrm:[[:space:]]+0+$' /proc/self/status && "
		"grep -Eq '^CapAmb:[[:space:]]+0+$' /proc/self/status",
		NULL
	};
	struct trace tr;

	(void)state;
	REQUIRE_BPF();
	/* Without SUDO_*, it runs as us (root): the check fails. */
	unsetenv("SUDO_UID");
	unsetenv("SUDO_GID");
	trace_run(&tr, NULL, cmd);
	assert_int_equal(tr.status, 1);
	trace_free(&tr);

	setenv("SUDO_UID", "65534", 1);
	setenv("SUDO_GID", "65534", 1);
	trace_run(&tr, NULL, cmd);
	unsetenv("SUDO_UID");
	unsetenv("SUDO_GID");
	if (tr.status != 0)
		fail_msg("the command did not run as 65534:65534, groups 65534, no capabilities "
			 "(status %d):\n%s",
			 tr.status, tr.err);
	trace_free(&tr);
}

/* Has process pid installed a handler for sig? (SigCgt in /proc/PID/status) */
static bool catches(long pid, int sig)
{
	char path[64], line[256];
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/status", pid);
	f = fopen(path, "r");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "SigCgt:", 7) == 0)
			found = (strtoull(line + 7, NULL, 16) >> (sig - 1)) & 1;
	fclose(f);
	return found;
}

/*
 * Ctrl-C from a terminal reaches memtrack-load and the command together.
 * The command cleans up (100 allocations) and exits 0: all of it is traced,
 * and the status is the command's.
 */
static void test_ctrl_c_traces_the_command_to_its_end(void **state)
{
	const char *opts[] = { "-v", NULL };
	const char *cmd[] = { build_path("tests/fixtures/sigint_allocs"), NULL };
	struct trace tr;
	long pid;
	char *seq, expected[2048] = "";

	(void)state;
	REQUIRE_BPF();
	trace_start(&tr, opts, cmd, -1, TRACE_OWN_GROUP);
	trace_wait_stderr(&tr, "as process ", 30000);
	pid = strtol(strstr(tr.err, "as process ") + strlen("as process "), NULL, 10);
	for (int i = 0; i < 3000 && !catches(pid, SIGINT); i++)
		usleep(1000);
	assert_true(catches(pid, SIGINT));
	assert_int_equal(kill(-tr.pid, SIGINT), 0); /* the whole job, as the terminal does */
	trace_finish(&tr);
	if (tr.status != 0)
		fail_msg("memtrack-load exited %d:\n%s", tr.status, tr.err);
	for (int i = 0; i < 100; i++)
		strcat(expected, i ? " Malloc:300 Free" : "Malloc:300 Free");
	seq = trace_sequence(&tr, pid, 0);
	assert_string_equal(seq, expected);
	free(seq);
	assert_non_null(trace_find(&tr, "Exit", pid));
	trace_free(&tr);
}

/* -d ends the trace, not the command: memtrack-load still exits with its status. */
static void test_duration_then_command_status(void **state)
{
	const char *opts[] = { "-d", "0.3", NULL };
	const char *cmd[] = { "/bin/sh", "-c", "sleep 1; exit 4", NULL };
	struct trace tr;

	(void)state;
	REQUIRE_BPF();
	trace_run(&tr, opts, cmd);
	assert_int_equal(tr.status, 4);
	assert_non_null(trace_stats(&tr));
	/* the trace stopped at 0.3 s: the shell's exit is not in it */
	assert_null(trace_find(&tr, "Exit", -1));
	trace_free(&tr);
}

/* A signal ignored when memtrack-load starts (nohup) stays ignored for the command. */
static void test_ignored_signal_stays_ignored(void **state)
{
	const char *cmd[] = { "/bin/sh", "-c", "kill -HUP $$; exit 0", NULL };
	struct trace tr;

	(void)state;
	REQUIRE_BPF();
	trace_run(&tr, NULL, cmd);
	assert_int_equal(tr.status, 128 + SIGHUP); /* the control: SIGHUP kills the shell */
	trace_free(&tr);

	signal(SIGHUP, SIG_IGN);
	trace_run(&tr, NULL, cmd);
	signal(SIGHUP, SIG_DFL);
	assert_int_equal(tr.status, 0);
	trace_free(&tr);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exit_code_passes_through),
		cmocka_unit_test(test_killed_command_is_128_plus_signal),
		cmocka_unit_test(test_strict_fails_on_drops),
		cmocka_unit_test(test_sigint_ends_attach_cleanly),
		cmocka_unit_test(test_sigterm_with_command_still_running),
		cmocka_unit_test(test_command_runs_as_sudo_user),
		cmocka_unit_test(test_ctrl_c_traces_the_command_to_its_end),
		cmocka_unit_test(test_duration_then_command_status),
		cmocka_unit_test(test_ignored_signal_stays_ignored),
	};

	return cmocka_run_group_tests_name("exit_status", tests, NULL, NULL);
}
