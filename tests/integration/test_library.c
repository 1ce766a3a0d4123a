// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* libmemtrack used directly: callbacks, pull, the poller thread, options, errors. */
#include <errno.h>
#include <string.h>
#include <sys/wait.h>

#include "memtrack.h"
#include <bpf/libbpf.h>

#include "test_support.h"

struct seen {
	int events;
	int stop_after; /* return -42 from this event on; 0: never */
	unsigned types[MT_EV_TYPE_MAX];
};

static int count_event(void *ctx, const union mt_event *ev)
{
	struct seen *s = ctx;

	s->events++;
	if (ev->hdr.type < MT_EV_TYPE_MAX)
		s->types[ev->hdr.type]++;
	return s->stop_after && s->events >= s->stop_after ? -42 : 0;
}

static struct memtrack *open_tracker(struct memtrack_opts *opts)
{
	struct memtrack_error err;
	struct memtrack *t;

	opts->sz = sizeof(*opts);
	if (memtrack_open(opts, &t, &err))
		fail_msg("memtrack_open: %s", err.msg);
	return t;
}

static pid_t spawn(struct memtrack *t, const char *fixture)
{
	char *argv[] = { (char *)build_path(fixture), NULL };
	pid_t pid;

	if (memtrack_spawn(t, argv, NULL, &pid))
		fail_msg("memtrack_spawn: %s", memtrack_last_error(t)->msg);
	return pid;
}

static int wait_status(pid_t pid)
{
	int wstatus;

	assert_int_equal(waitpid(pid, &wstatus, 0), pid);
	return WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1;
}

/* Callbacks, then the counters: events by type and failed calls. */
static void test_callback_and_counters(void **state)
{
	struct seen seen = { 0 };
	struct memtrack_opts opts = { .on_event = count_event, .event_ctx = &seen };
	struct memtrack_counters c;
	struct memtrack *t;
	pid_t pid;

	(void)state;
	REQUIRE_BPF();
	t = open_tracker(&opts);
	pid = spawn(t, "tests/fixtures/failures");
	while (memtrack_tracked_count(t) > 0)
		assert_true(memtrack_poll(t, 100) >= 0);
	assert_true(memtrack_drain(t) >= 0);
	assert_int_equal(wait_status(pid), 0);
	assert_int_equal(memtrack_read_counters(t, &c), 0);
	/* Exec, Malloc:64, Free, Exit */
	assert_int_equal(seen.events, 4);
	assert_int_equal(c.events, 4);
	assert_int_equal(c.by_type[MT_EV_MALLOC], 1);
	assert_int_equal(c.failures[MT_FN_MALLOC], 1);
	assert_int_equal(c.failures[MT_FN_REALLOCARRAY], 1);
	assert_int_equal(c.drops[MT_DROP_RINGBUF_FULL], 0);
	assert_true(memtrack_probed_count(t) >= 1);
	assert_non_null(strstr(memtrack_probed_path(t, 0), "libc"));
	memtrack_close(t);
}

/* A callback's negative value stops memtrack_poll() and is returned by it: not an error. */
static void test_callback_stop(void **state)
{
	struct seen seen = { .stop_after = 2 };
	struct memtrack_opts opts = { .on_event = count_event, .event_ctx = &seen };
	struct memtrack *t;
	pid_t pid;
	int n = 0;

	(void)state;
	REQUIRE_BPF();
	t = open_tracker(&opts);
	pid = spawn(t, "tests/fixtures/malloc_free");
	assert_int_equal(wait_status(pid), 0);
	while (n >= 0 && seen.events < 2)
		n = memtrack_poll(t, 100);
	assert_int_equal(n, -42);
	assert_int_equal(seen.events, 2);
	assert_int_equal(memtrack_last_error(t)->kind, MEMTRACK_ERR_NONE);
	/* and polling again goes on from the next event */
	seen.stop_after = 0;
	while (memtrack_poll(t, 0) > 0)
		;
	assert_int_equal(seen.events, 206); /* Exec, 204 allocation events, Exit */
	memtrack_close(t);
}

/* Pull mode, without and with the background poller: events in order. */
static void pull_all(struct memtrack *t, bool threaded)
{
	const unsigned expected[] = { MT_EV_EXEC, MT_EV_MALLOC, MT_EV_FREE, MT_EV_MALLOC,
				      MT_EV_FREE, MT_EV_EXIT };
	union mt_event ev;
	size_t n = 0;
	pid_t pid = spawn(t, "tests/fixtures/reuse");

	if (threaded)
		assert_int_equal(memtrack_start(t), 0);
	while (n < sizeof(expected) / sizeof(expected[0])) {
		int got = memtrack_next(t, &ev, 5000);

		assert_int_equal(got, 1);
		assert_int_equal(ev.hdr.pid, pid);
		assert_int_equal(ev.hdr.type, expected[n]);
		if (ev.hdr.type == MT_EV_MALLOC)
			assert_int_equal(ev.alloc.size, 48);
		n++;
	}
	assert_int_equal(memtrack_next(t, &ev, 200), 0);
	if (threaded)
		assert_int_equal(memtrack_stop(t), 0);
	assert_int_equal(wait_status(pid), 0);
}

static void test_pull(void **state)
{
	struct memtrack_opts opts = { 0 };
	struct memtrack *t;

	(void)state;
	REQUIRE_BPF();
	t = open_tracker(&opts);
	pull_all(t, false);
	pull_all(t, true);
	memtrack_close(t);
}

/* A zeroed spawn options struct changes nothing: the command runs as we do. */
static void test_spawn_options_default_to_unchanged(void **state)
{
	char *argv[] = { "/bin/sh", "-c", "[ \"$(id -u)\" = \"$PARENT_UID\" ]", NULL };
	struct memtrack_spawn_opts so = { .sz = sizeof(so) };
	struct memtrack_opts opts = { 0 };
	struct memtrack *t;
	char uid[16];
	pid_t pid;

	(void)state;
	REQUIRE_BPF();
	snprintf(uid, sizeof(uid), "%d", (int)getuid());
	setenv("PARENT_UID", uid, 1);
	t = open_tracker(&opts);
	assert_int_equal(memtrack_spawn(t, argv, &so, &pid), 0);
	assert_int_equal(wait_status(pid), 0);
	memtrack_close(t);
	unsetenv("PARENT_UID");
}

static void test_errors(void **state)
{
	struct memtrack_opts no_size = { .sz = 0 };
	struct memtrack_opts opts = { 0 };
	struct memtrack_error err;
	char *missing[] = { "/nonexistent/prog", NULL };
	struct memtrack *t;
	pid_t pid;

	(void)state;
	REQUIRE_BPF();
	assert_int_equal(memtrack_open(&no_size, &t, &err), -EINVAL);
	assert_null(t);
	assert_int_equal(err.kind, MEMTRACK_ERR_USAGE);

	t = open_tracker(&opts);
	assert_int_equal(memtrack_add_pid(t, 0x7ffffff0), -ESRCH);
	assert_int_equal(memtrack_last_error(t)->kind, MEMTRACK_ERR_NO_PROCESS);
	assert_int_equal(memtrack_spawn(t, missing, NULL, &pid), -ENOENT);
	assert_int_equal(memtrack_last_error(t)->kind, MEMTRACK_ERR_NOT_FOUND);
	assert_non_null(strstr(memtrack_last_error(t)->msg, "/nonexistent/prog"));
	memtrack_close(t);
	memtrack_close(NULL);
}

/*
 * The library is a guest in its host: it exports memtrack_* and nothing
 * else, static or shared, so none of its names can clash with the
 * application's; it leaves libbpf's print callback as the application set
 * it, unless asked; and it refuses options it does not know.
 */
static void test_exports_only_the_api(void **state)
{
	const char *libs[] = { "libmemtrack.a", "libmemtrack.so" };
	char cmd[1024], out[65536];
	const char *argv[] = { "/bin/sh", "-c", cmd, NULL };

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		snprintf(cmd, sizeof(cmd),
			 "nm -g --defined-only %s '%s' | awk 'NF == 3 && $2 != \"A\" { print $3 }' | "
			 "grep -v '^memtrack_'; true",
			 i ? "-D" : "", build_path(libs[i]));
		assert_int_equal(run_capture(argv, out, sizeof(out)), 0);
		if (out[0])
			fail_msg("%s exports names outside memtrack_:\n%s", libs[i], out);
	}
}

static int app_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	(void)fmt;
	(void)ap;
	return 0;
}

static void test_host_callbacks_and_unknown_options(void **state)
{
	unsigned char bigger[sizeof(struct memtrack_opts) + 16];
	struct memtrack_opts opts = { 0 };
	struct memtrack_error err;
	struct memtrack *t;

	(void)state;
	REQUIRE_BPF();
	libbpf_set_print(app_print);
	t = open_tracker(&opts);
	/* still ours: setting it again gives back the one we set */
	assert_ptr_equal(libbpf_set_print(app_print), app_print);
	memtrack_close(t);

	opts.libbpf_log = true;
	t = open_tracker(&opts);
	assert_ptr_not_equal(libbpf_set_print(app_print), app_print); /* taken, as asked */
	memtrack_close(t);
	/* given back at close: the tracker's, that we just set, is not there any more */
	libbpf_set_print(app_print);
	opts.libbpf_log = true;
	t = open_tracker(&opts);
	memtrack_close(t);
	assert_ptr_equal(libbpf_set_print(NULL), app_print);

	/* a newer caller's struct: zero past ours is fine, anything else refused */
	memset(bigger, 0, sizeof(bigger));
	*(size_t *)bigger = sizeof(bigger);
	assert_int_equal(memtrack_open((struct memtrack_opts *)bigger, &t, &err), 0);
	memtrack_close(t);
	bigger[sizeof(bigger) - 1] = 1;
	assert_int_equal(memtrack_open((struct memtrack_opts *)bigger, &t, &err), -EINVAL);
	assert_null(t);
	assert_int_equal(err.kind, MEMTRACK_ERR_USAGE);
}

static int ignore_event(void *ctx, const union mt_event *ev)
{
	(void)ctx;
	(void)ev;
	return 0;
}

/* What cannot work is refused at open, with a reason, not silently not done. */
static void test_handler_options_refused(void **state)
{
	struct memtrack_trace_handler h = { .sz = sizeof(h), .on_event = ignore_event };
	unsigned char bigger[sizeof(h) + 16];
	struct memtrack_opts opts = { .sz = sizeof(opts) };
	struct memtrack_error err;
	struct memtrack *t;

	(void)state;
	REQUIRE_BPF();
	/* report-only totals go to a handler: without one they could never be had */
	opts.aggregate = true;
	opts.on_event = ignore_event;
	assert_int_equal(memtrack_open(&opts, &t, &err), -EINVAL);
	assert_null(t);
	assert_non_null(strstr(err.msg, "aggregate needs a handler"));
	/* not both ways of taking events */
	opts.aggregate = false;
	opts.handler = &h;
	assert_int_equal(memtrack_open(&opts, &t, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "not both"));
	/* a handler without its size, or with members this version does not know */
	opts.on_event = NULL;
	h.sz = 0;
	assert_int_equal(memtrack_open(&opts, &t, &err), -EINVAL);
	memset(bigger, 0, sizeof(bigger));
	memcpy(bigger, &h, sizeof(h));
	((struct memtrack_trace_handler *)bigger)->sz = sizeof(bigger);
	bigger[sizeof(bigger) - 1] = 1;
	opts.handler = (struct memtrack_trace_handler *)bigger;
	assert_int_equal(memtrack_open(&opts, &t, &err), -EINVAL);
	assert_int_equal(memtrack_trace_read("/dev/null", opts.handler, &err), -EINVAL);
	bigger[sizeof(bigger) - 1] = 0;
	assert_int_equal(memtrack_open(&opts, &t, &err), 0);
	memtrack_close(t);
	/* memtrack_finish() needs a handler, and is done once */
	opts.handler = NULL;
	t = open_tracker(&opts);
	assert_int_equal(memtrack_finish(t), -EINVAL);
	assert_int_equal(memtrack_last_error(t)->kind, MEMTRACK_ERR_USAGE);
	memtrack_close(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_callback_and_counters),
		cmocka_unit_test(test_callback_stop),
		cmocka_unit_test(test_pull),
		cmocka_unit_test(test_spawn_options_default_to_unchanged),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_exports_only_the_api),
		cmocka_unit_test(test_host_callbacks_and_unknown_options),
		cmocka_unit_test(test_handler_options_refused),
	};

	return cmocka_run_group_tests_name("library", tests, NULL, NULL);
}
