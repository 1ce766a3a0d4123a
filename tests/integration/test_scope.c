// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Scopes beyond a command tree: --cgroup traces every process of a fresh
 * cgroup, those already in it and those that join later (and nothing
 * outside it); -a every process; bad scopes are usage errors.
 */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_support.h"

extern char **environ;

/* A fresh cgroup under the cgroup2 mount, named after this test process. */
static void cgroup_make(char *path, size_t size)
{
	char line[512], dir[256] = "";
	FILE *f = fopen("/proc/self/mounts", "r");

	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%*s %255s cgroup2", dir) == 1 && strstr(line, " cgroup2 "))
			break;
		else
			dir[0] = '\0';
	fclose(f);
	if (!dir[0])
		fail_msg("no cgroup2 file system is mounted");
	snprintf(path, size, "%s/memtrack-test-%d", dir, (int)getpid());
	if (mkdir(path, 0755) && errno != EEXIST)
		fail_msg("cannot make cgroup %s: %s", path, strerror(errno));
}

/*
 * Start fixture inside the cgroup: a child that moves itself there, then
 * execs it. Not a shell: between joining and exec, only system calls, so
 * that every allocation the cgroup sees is the fixture's.
 */
static pid_t start_in_cgroup(const char *cgroup, const char *fixture, int stdin_fd)
{
	char procs[600], prog[512];
	char *const argv[] = { prog, NULL };
	pid_t pid;

	snprintf(procs, sizeof(procs), "%s/cgroup.procs", cgroup);
	snprintf(prog, sizeof(prog), "%s", build_path(fixture));
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = open(procs, O_WRONLY | O_CLOEXEC);

		/* "0": the writer itself */
		if (fd < 0 || write(fd, "0", 1) != 1 || close(fd) ||
		    (stdin_fd >= 0 && dup2(stdin_fd, STDIN_FILENO) < 0))
			_exit(126);
		execve(prog, argv, environ);
		_exit(127);
	}
	return pid;
}

/* Wait (up to 10 s) until pid's name is comm: it has exec'd. */
static void wait_for_comm(pid_t pid, const char *comm)
{
	char path[64], name[64];

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	for (int i = 0; i < 1000; i++) {
		FILE *f = fopen(path, "r");
		bool done = f && fgets(name, sizeof(name), f) && strncmp(name, comm, strlen(comm)) == 0;

		if (f)
			fclose(f);
		if (done)
			return;
		usleep(10 * 1000);
	}
	fail_msg("process %d never became %s", (int)pid, comm);
}

static void reap_ok(pid_t pid)
{
	int wstatus;

	assert_int_equal(waitpid(pid, &wstatus, 0), pid);
	assert_true(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0);
}

static void expect_calls(const struct trace *tr, long pid, const char *want)
{
	char *seen = trace_sequence(tr, pid, 0);

	assert_string_equal(seen, want);
	free(seen);
}

/* A process that joins the cgroup after tracing began, and its child; not one outside it. */
static void test_cgroup_joined_later(void **state)
{
	char cgroup[512];
	const char *opts[] = { "-v", "--cgroup", cgroup, "-d", "4", "--by-cgroup", "--cgroup-ids",
			       NULL };
	const char *outside[] = { build_path("tests/fixtures/fork_child"), NULL };
	char row[600];
	struct trace tr;
	struct stat st;
	pid_t inside, other;
	posix_spawn_file_actions_t fa;

	(void)state;
	REQUIRE_BPF();
	cgroup_make(cgroup, sizeof(cgroup));
	trace_start(&tr, opts, NULL, -1, 0);
	trace_wait_stderr(&tr, "probing allocator functions", 30000);
	posix_spawn_file_actions_init(&fa);
	assert_int_equal(posix_spawn(&other, outside[0], &fa, NULL, (char *const *)outside, environ),
			 0);
	posix_spawn_file_actions_destroy(&fa);
	inside = start_in_cgroup(cgroup, "tests/fixtures/fork_child", -1);
	reap_ok(inside);
	reap_ok(other);
	trace_finish(&tr);
	assert_int_equal(stat(cgroup, &st), 0);
	rmdir(cgroup);
	assert_int_equal(tr.status, 0);
	/* events name the cgroup by its id, the inode of its directory; with
	 * --cgroup-ids the allocations too */
	assert_int_equal(jint(trace_find(&tr, "Exec", inside), "cgroup"), (long long)st.st_ino);
	assert_int_equal(jint(trace_find(&tr, "Malloc", inside), "cgroup"), (long long)st.st_ino);
	assert_int_equal(jint(trace_find(&tr, "Free", inside), "cgroup"), (long long)st.st_ino);
	/* --by-cgroup: two processes, three allocations of 666 bytes, all freed */
	snprintf(row, sizeof(row), "%-40s %6d %9d %9d %8d %12d %12d %12d\n",
		 strstr(cgroup, "/memtrack-test-"), 2, 3, 3, 0, 666, 666, 0);
	if (!strstr(tr.err, row))
		fail_msg("no row '%s' in:\n%s", row, tr.err);
	expect_calls(&tr, inside, "Malloc:111 Free Malloc:333 Free");
	expect_calls(&tr, trace_child_of(&tr, inside), "Malloc:222 Free");
	assert_int_equal(trace_count(&tr, "Exec", other), 0);
	expect_calls(&tr, other, "");
	trace_free(&tr);
}

/*
 * A process already in the cgroup when tracing starts is added, as -p would
 * add it. The cgroup is named relative to the cgroup2 mount, as systemd
 * names units (system.slice/foo.service).
 */
static void test_cgroup_already_running(void **state)
{
	char cgroup[512], pid_text[48], relative[64];
	const char *opts[] = { "-v", "--cgroup", relative, "-d", "4", NULL };
	struct trace tr;
	int go[2];
	pid_t waiter;

	(void)state;
	REQUIRE_BPF();
	cgroup_make(cgroup, sizeof(cgroup));
	snprintf(relative, sizeof(relative), "%s", strrchr(cgroup, '/') + 1);
	assert_int_equal(pipe2(go, O_CLOEXEC), 0);
	waiter = start_in_cgroup(cgroup, "tests/fixtures/waiter", go[0]);
	close(go[0]);
	wait_for_comm(waiter, "waiter"); /* it has moved itself in and exec'd */
	snprintf(pid_text, sizeof(pid_text), "tracing process %d", (int)waiter);
	trace_start(&tr, opts, NULL, -1, 0);
	trace_wait_stderr(&tr, pid_text, 30000);
	assert_int_equal(write(go[1], "g", 1), 1);
	close(go[1]);
	reap_ok(waiter);
	trace_finish(&tr);
	rmdir(cgroup);
	assert_int_equal(tr.status, 0);
	expect_calls(&tr, waiter, "Malloc:5555 Free");
	expect_calls(&tr, trace_child_of(&tr, waiter), "Malloc:6666 Free");
	trace_free(&tr);
}

/* A process's row of the --json summary in tr's stderr, by pid or (pid 0) by ppid. */
static struct json_object *summary_row(struct json_object *summary, long pid, long ppid)
{
	struct json_object *procs;

	assert_true(json_object_object_get_ex(summary, "processes", &procs));
	for (size_t i = 0; i < json_object_array_length(procs); i++) {
		struct json_object *p = json_object_array_get_idx(procs, i);

		if (pid ? jint(p, "pid") == pid : jint(p, "ppid") == ppid)
			return p;
	}
	fail_msg("no process %ld (parent %ld) in the summary", pid, ppid);
	return NULL;
}

static void expect_totals(struct json_object *row, long allocs, long frees, long bytes)
{
	if (jint(row, "allocs") != allocs || jint(row, "frees") != frees ||
	    jint(row, "alloc_bytes") != bytes || jint(row, "exit_status") != 0)
		fail_msg("process %lld: %s, not %ld allocs, %ld frees, %ld bytes",
			 jint(row, "pid"), json_object_to_json_string(row), allocs, frees, bytes);
}

/*
 * -a: every process, those started after tracing began too. Report-only,
 * as -a is used: a busy machine's every event, streamed and parsed, would
 * make the test as slow as the machine is busy.
 */
static void test_whole_system(void **state)
{
	const char *opts[] = { "-v", "-a", "-d", "4", "--json", NULL };
	const char *argv[] = { build_path("tests/fixtures/fork_child"), NULL };
	posix_spawn_file_actions_t fa;
	struct json_object *summary;
	struct trace tr;
	pid_t pid;

	(void)state;
	REQUIRE_BPF();
	trace_start(&tr, opts, NULL, -1, TRACE_NO_EVENTS);
	trace_wait_stderr(&tr, "probing allocator functions", 30000);
	/* and the processes already running are added before tracing starts */
	trace_wait_stderr(&tr, "tracing process", 30000);
	posix_spawn_file_actions_init(&fa);
	assert_int_equal(posix_spawn(&pid, argv[0], &fa, NULL, (char *const *)argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	reap_ok(pid);
	trace_finish(&tr);
	assert_int_equal(tr.status, 0);
	summary = trace_report(&tr, "summary");
	expect_totals(summary_row(summary, pid, 0), 2, 2, 444);	/* Malloc:111 Free Malloc:333 Free */
	expect_totals(summary_row(summary, 0, pid), 1, 1, 222); /* its child: Malloc:222 Free */
	json_object_put(summary);
	trace_free(&tr);
}

static void expect_usage_error(const char *const *argv, const char *message)
{
	struct output o;

	run_io(argv, NULL, NULL, 0, &o);
	assert_int_equal(o.status, 2);
	if (!strstr(o.err, message))
		fail_msg("expected '%s' in: %s", message, o.err);
	output_free(&o);
}

static void test_bad_scopes(void **state)
{
	const char *with_command[] = { build_path("memtrack-load"), "--cgroup", "/sys", "--",
				       "true", NULL };
	const char *both[] = { build_path("memtrack-load"), "--cgroup", "/sys", "-a", NULL };
	const char *missing[] = { build_path("memtrack-load"), "--cgroup", "/nonexistent/cg",
				  "-d", "1", NULL };
	const char *not_v2[] = { build_path("memtrack-load"), "--cgroup", "/proc", "-d", "1",
				 NULL };
	const char *relative_missing[] = { build_path("memtrack-load"), "--cgroup",
					   "memtrack-no-such-cgroup/x", "-d", "1", NULL };
	const char *empty[] = { build_path("memtrack-load"), "--cgroup", "", "-d", "1", NULL };
	char mount[512], expected[600];

	(void)state;
	expect_usage_error(with_command, "no command or -p with them");
	expect_usage_error(both, "give --cgroup PATH or -a, not both");
	REQUIRE_BPF();
	expect_usage_error(missing, "cannot open cgroup /nonexistent/cg");
	expect_usage_error(not_v2, "/proc is not a cgroup v2 directory");
	expect_usage_error(empty, "the cgroup path is empty");
	/* a relative path is under the cgroup2 mount, and named in full */
	cgroup_make(mount, sizeof(mount));
	rmdir(mount);
	*strrchr(mount, '/') = '\0';
	snprintf(expected, sizeof(expected), "cannot open cgroup %s/memtrack-no-such-cgroup/x",
		 mount);
	expect_usage_error(relative_missing, expected);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cgroup_joined_later),
		cmocka_unit_test(test_cgroup_already_running),
		cmocka_unit_test(test_whole_system),
		cmocka_unit_test(test_bad_scopes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
