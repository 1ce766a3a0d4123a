// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* memtrack-load -p: attaching to processes that already run, and their new children. */
#include <dirent.h>
#include <fcntl.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_support.h"

struct waiter {
	pid_t pid;
	int go_fd; /* write a byte here to let it allocate */
	char pid_text[16];
};

/* Start the waiter fixture, blocked on its stdin until released. */
static void waiter_start(struct waiter *w)
{
	const char *argv[] = { build_path("tests/fixtures/waiter"), NULL };

	w->pid = spawn_waiting(argv, &w->go_fd);
	snprintf(w->pid_text, sizeof(w->pid_text), "%d", (int)w->pid);
}

static void waiter_release_and_reap(struct waiter *w)
{
	int wstatus;

	assert_int_equal(write(w->go_fd, "g", 1), 1);
	close(w->go_fd);
	assert_int_equal(waitpid(w->pid, &wstatus, 0), w->pid);
	assert_true(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0);
}

static void expect_waiter_events(const struct trace *tr, const struct waiter *w)
{
	char *seq = trace_sequence(tr, w->pid, 0);
	long child;

	/* Only what it did after the attach: its own pair, then its child's. */
	assert_string_equal(seq, "Malloc:5555 Free");
	free(seq);
	child = trace_child_of(tr, w->pid);
	assert_true(child > 0);
	seq = trace_sequence(tr, child, 0);
	assert_string_equal(seq, "Malloc:6666 Free");
	free(seq);
	assert_non_null(trace_find(tr, "Exit", w->pid));
}

static void test_attach_running_process(void **state)
{
	struct waiter w;
	struct trace tr;

	(void)state;
	REQUIRE_BPF();
	waiter_start(&w);
	const char *opts[] = { "-v", "-p", w.pid_text, NULL };
	trace_start(&tr, opts, NULL, -1, 0);
	trace_wait_stderr(&tr, "tracing process", 30000);
	waiter_release_and_reap(&w);
	trace_finish(&tr);
	if (tr.status != 0)
		fail_msg("memtrack-load -p exited %d; stderr:\n%s", tr.status, tr.err);
	expect_waiter_events(&tr, &w);
	trace_free(&tr);
}

static void test_attach_two_processes(void **state)
{
	struct waiter a, b;
	struct trace tr;

	(void)state;
	REQUIRE_BPF();
	waiter_start(&a);
	waiter_start(&b);
	const char *opts[] = { "-v", "-p", a.pid_text, "-p", b.pid_text, NULL };
	trace_start(&tr, opts, NULL, -1, 0);
	trace_wait_stderr(&tr, b.pid_text, 30000);
	trace_wait_stderr(&tr, "tracing process", 30000);
	/* memtrack-load ends only when both are gone */
	waiter_release_and_reap(&a);
	waiter_release_and_reap(&b);
	trace_finish(&tr);
	assert_int_equal(tr.status, 0);
	expect_waiter_events(&tr, &a);
	expect_waiter_events(&tr, &b);
	trace_free(&tr);
}

static void test_duration_ends_attach(void **state)
{
	struct waiter w;
	struct trace tr;

	(void)state;
	REQUIRE_BPF();
	waiter_start(&w);
	const char *opts[] = { "-d", "0.5", "-p", w.pid_text, NULL };
	trace_run(&tr, opts, NULL); /* the waiter is still blocked: -d must end it */
	assert_int_equal(tr.status, 0);
	assert_non_null(trace_stats(&tr));
	assert_non_null(strstr(tr.err, "events dropped"));
	waiter_release_and_reap(&w);
	trace_free(&tr);
}

/* -p with a thread id traces the process the thread belongs to. */
static void test_attach_by_thread_id(void **state)
{
	const char *argv[] = { build_path("tests/fixtures/thread_waiter"), NULL };
	char task_dir[64], tid_text[16] = "";
	struct trace tr;
	struct dirent *d;
	DIR *dir;
	pid_t pid;
	int go;
	char *seq;

	(void)state;
	REQUIRE_BPF();
	pid = spawn_waiting(argv, &go);
	/* Its second thread's id, once it exists. */
	snprintf(task_dir, sizeof(task_dir), "/proc/%d/task", (int)pid);
	for (int tries = 0; !tid_text[0] && tries < 500; tries++) {
		dir = opendir(task_dir);
		assert_non_null(dir);
		while ((d = readdir(dir)))
			if (d->d_name[0] != '.' && atoi(d->d_name) != pid)
				snprintf(tid_text, sizeof(tid_text), "%.15s", d->d_name);
		closedir(dir);
		if (!tid_text[0])
			usleep(10000);
	}
	assert_true(tid_text[0] != '\0');

	const char *opts[] = { "-v", "-p", tid_text, NULL };
	trace_start(&tr, opts, NULL, -1, 0);
	trace_wait_stderr(&tr, "tracing process", 30000);
	assert_int_equal(write(go, "g", 1), 1);
	close(go);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	trace_finish(&tr);
	assert_int_equal(tr.status, 0);
	assert_non_null(strstr(tr.err, "is a thread of process"));
	seq = trace_sequence(&tr, pid, atol(tid_text));
	/* and glibc frees the thread's tcache as it exits */
	assert_string_equal(seq, "Malloc:5555 Free Free");
	free(seq);
	trace_free(&tr);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_attach_running_process),
		cmocka_unit_test(test_attach_two_processes),
		cmocka_unit_test(test_duration_ends_attach),
		cmocka_unit_test(test_attach_by_thread_id),
	};

	return cmocka_run_group_tests_name("attach_pid", tests, NULL, NULL);
}
