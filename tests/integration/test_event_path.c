// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * One event path: a live tracker hands its records to a handler, the
 * JSONL writer among them; reading that JSONL back hands the same records
 * to a handler again. Every output (the summary, the reports, -T) is such
 * a handler, so both must see the same calls, with the same arguments, in
 * the same order: each mapping and each stack once, before the first
 * event that needs it.
 */
#include <errno.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "memtrack.h"

#include "test_support.h"

/* Every call a handler got, one line each. */
struct calls {
	char **line;
	size_t n, cap;
};

static int note(struct calls *c, char *line)
{
	if (!line)
		return -ENOMEM;
	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 1024;
		char **more = realloc(c->line, cap * sizeof(*more));

		if (!more) {
			free(line);
			return -ENOMEM;
		}
		c->line = more;
		c->cap = cap;
	}
	c->line[c->n++] = line;
	return 0;
}

static int note_event(void *ctx, const union mt_event *ev)
{
	char buf[1024];

	/* the JSONL fields: what a trace carries of an event */
	memtrack_event_to_json(ev, buf, sizeof(buf));
	return note(ctx, strdup(buf));
}

static int note_stack(void *ctx, unsigned long long id, const struct mt_stack *st)
{
	char buf[4096];

	memtrack_stack_to_json(id, st, buf, sizeof(buf));
	return note(ctx, strdup(buf));
}

static int note_mapping(void *ctx, pid_t pid, unsigned long long timestamp,
			const struct memtrack_mapping *m)
{
	char buf[8192];

	memtrack_mapping_to_json(pid, timestamp, m, buf, sizeof(buf));
	return note(ctx, strdup(buf));
}

static int note_stats(void *ctx, const struct memtrack_counters *c)
{
	char buf[4096];

	memtrack_stats_to_json(c, 0, buf, sizeof(buf));
	return note(ctx, strdup(buf));
}

static struct memtrack_trace_handler recorder(struct calls *c)
{
	return (struct memtrack_trace_handler){ .sz = sizeof(struct memtrack_trace_handler),
						.ctx = c,
						.on_event = note_event,
						.on_stack = note_stack,
						.on_mapping = note_mapping,
						.on_stats = note_stats };
}

static void calls_free(struct calls *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->line[i]);
	free(c->line);
}

static size_t count_type(const struct calls *c, const char *type)
{
	char prefix[64];
	size_t n = 0;

	snprintf(prefix, sizeof(prefix), "{\"type\":\"%s\"", type);
	for (size_t i = 0; i < c->n; i++)
		n += strncmp(c->line[i], prefix, strlen(prefix)) == 0;
	return n;
}

/* Trace the command live into a tee of the recorder and the JSONL writer at path. */
static void trace_live(void **state, char *const *argv, bool mmap, struct calls *live,
		       const char *path)
{
	struct memtrack_error err = { 0 };
	struct memtrack_jsonl *w = memtrack_jsonl_open(path, &err);
	struct memtrack_tee *tee = memtrack_tee_new();
	struct memtrack_trace_handler h = recorder(live);
	struct memtrack *t;
	int wstatus;
	pid_t pid;

	assert_non_null(w);
	assert_non_null(tee);
	assert_int_equal(memtrack_tee_add(tee, &h, MEMTRACK_TEE_STOP), 0);
	h = memtrack_jsonl_handler(w);
	assert_int_equal(memtrack_tee_add(tee, &h, MEMTRACK_TEE_STOP), 1);
	h = memtrack_tee_handler(tee);

	struct memtrack_opts opts = {
		.sz = sizeof(opts),
		.handler = &h,
		.stack_depth = 32,
		.free_stacks = true,
		.mmap = mmap,
		.source = IS_USDT(state) ? MEMTRACK_SOURCE_USDT : MEMTRACK_SOURCE_UPROBE,
		.usdt_shim = IS_USDT(state) ? build_path("libmemtrack-usdt.so") : NULL,
	};
	if (memtrack_open(&opts, &t, &err))
		fail_msg("memtrack_open: %s", err.msg);
	if (memtrack_spawn(t, argv, NULL, &pid))
		fail_msg("memtrack_spawn %s: %s", argv[0], memtrack_last_error(t)->msg);
	while (memtrack_tracked_count(t) > 0)
		assert_true(memtrack_poll(t, 100) >= 0);
	if (memtrack_finish(t))
		fail_msg("memtrack_finish: %s", memtrack_last_error(t)->msg);
	assert_int_equal(memtrack_finish(t), -EINVAL); /* once */
	memtrack_close(t);
	assert_int_equal(waitpid(pid, &wstatus, 0), pid);
	if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus))
		fail_msg("%s did not exit with 0 (wait status %d)", argv[0], wstatus);
	assert_int_equal(memtrack_tee_error(tee, 0), 0);
	assert_int_equal(memtrack_tee_error(tee, 1), 0);
	memtrack_tee_free(tee);
	assert_int_equal(memtrack_jsonl_close(w), 0);
}

/* The command, traced live and its trace read back: the same calls in the same order. */
static void same_calls(void **state, const char *fixture, const char *arg, bool mmap)
{
	char *argv[] = { (char *)build_path(fixture), arg ? (char *)build_path(arg) : NULL, NULL };
	struct calls live = { 0 }, replay = { 0 };
	struct memtrack_error err = { 0 };
	struct memtrack_trace_handler h = recorder(&replay);
	char path[] = "/tmp/memtrack-event-path-XXXXXX";
	int fd;

	REQUIRE_BPF();
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	trace_live(state, argv, mmap, &live, path);
	if (memtrack_trace_read(path, &h, &err))
		fail_msg("memtrack_trace_read: %s", err.msg);
	unlink(path);

	/* something to compare: events, their stacks, the mappings naming them, the Stats */
	if (mmap) { /* system calls: no stacks */
		assert_true(count_type(&live, "Mmap") > 0);
	} else {
		assert_true(count_type(&live, "Malloc") + count_type(&live, "Calloc") > 0);
		assert_true(count_type(&live, "Stack") > 0);
		assert_true(count_type(&live, "Mapping") > 0);
	}
	assert_int_equal(count_type(&live, "Stats"), 1);
	for (size_t i = 0; i < live.n && i < replay.n; i++)
		if (strcmp(live.line[i], replay.line[i]))
			fail_msg("%s: call %zu differs:\n  live:   %s\n  replay: %s", fixture, i,
				 live.line[i], replay.line[i]);
	assert_int_equal(live.n, replay.n);
	calls_free(&live);
	calls_free(&replay);
}

static void test_allocations(void **state)
{
	same_calls(state, "tests/fixtures/calloc_realloc", NULL, false);
}

static void test_process_tree(void **state)
{
	same_calls(state, "tests/fixtures/fork_child", NULL, false);
	same_calls(state, "tests/fixtures/exec_second", "tests/fixtures/second", false);
}

static void test_threads_and_cxx(void **state)
{
	same_calls(state, "tests/fixtures/threads", NULL, false);
	same_calls(state, "tests/fixtures/cxx_new", NULL, false);
}

static void test_memory_calls(void **state)
{
	same_calls(state, "tests/fixtures/mmap_direct", NULL, true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		BOTH_SOURCES(test_allocations),
		BOTH_SOURCES(test_process_tree),
		BOTH_SOURCES(test_threads_and_cxx),
		cmocka_unit_test_prestate(test_memory_calls, (void *)"uprobe"),
	};

	return cmocka_run_group_tests_name("event_path", tests, NULL, NULL);
}
