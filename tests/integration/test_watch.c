// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Watching a live process: --interval prints the reports while tracing,
 * each under a heading, with everything live since tracing began (not
 * since the last print); SIGUSR1 prints them at once; on a terminal a
 * status line shows what is live, and -q turns it off. Report-only runs
 * (the kernel's maps) and streaming runs (the summary) alike.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test_support.h"

/*
 * In a --json summary line, is there a keep_n process with this many
 * bytes live? (Its row may count more: the shell's child can allocate
 * before it execs keep_n, and exec releases that.)
 */
static bool kept(struct json_object *summary, long long live_bytes)
{
	struct json_object *procs;

	if (!json_object_object_get_ex(summary, "processes", &procs))
		return false;
	for (size_t i = 0; i < json_object_array_length(procs); i++) {
		struct json_object *p = json_object_array_get_idx(procs, i);

		if (!strcmp(jstr(p, "comm"), "keep_n") && jint(p, "live_bytes") == live_bytes)
			return true;
	}
	return false;
}

/* A summary line of stderr so far with keep_n's 'first' bytes live (and 'also', if > 0). */
static bool summary_with(const char *err, long long first, long long also)
{
	for (const char *p = err; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		const char *end = strchrnul(p, '\n');
		char *line;
		struct json_object *o;
		bool found;

		if (strncmp(p, "{\"report\":\"summary\",", 20))
			continue;
		line = strndup(p, (size_t)(end - p));
		o = line ? json_tokener_parse(line) : NULL;
		found = o && kept(o, first) && (also <= 0 || kept(o, also));
		json_object_put(o);
		free(line);
		if (found)
			return true;
	}
	return false;
}

/* Read memtrack-load's stderr until a summary has keep_n's 'bytes' live (a minute at most). */
static void wait_for_kept(struct trace *tr, long long bytes)
{
	for (int i = 0; i < 300 && !summary_with(tr->err, bytes, 0); i++)
		trace_stderr_within(tr, "\x01never said\x01", 200);
	if (!summary_with(tr->err, bytes, 0))
		fail_msg("no summary with keep_n's %lld bytes live:\n%s", bytes, tr->err);
}

/*
 * A shell keeps 3 blocks (a process of its own), waits for the test, then
 * 4 more, and waits again: snapshots come every 200ms, and one after the
 * second shows both (what is live since tracing began, not since the last
 * print).
 */
static void test_interval_reports_are_cumulative(void **state)
{
	const char *modes[] = { "report-only", "streaming" };
	const char *opts[] = { "--interval", "200ms", "--json", "--leaks", NULL };
	const char *cmd[] = { "/bin/sh", "-c", "\"$0\" 3; read x; \"$0\" 4; read x; true",
			      build_path("tests/fixtures/keep_n"), NULL };

	(void)state;
	REQUIRE_BPF();
	for (size_t m = 0; m < 2; m++) {
		size_t snapshots = 0;
		struct trace tr;
		int go[2];

		assert_int_equal(pipe2(go, O_CLOEXEC), 0); /* the write end is ours alone */
		trace_start(&tr, opts, cmd, go[0], m == 0 ? TRACE_NO_EVENTS : 0);
		close(go[0]);
		wait_for_kept(&tr, 300);
		assert_int_equal(write(go[1], "go\n", 3), 3);
		/* the command waits still: this summary is a snapshot's */
		wait_for_kept(&tr, 400);
		if (!summary_with(tr.err, 400, 300))
			fail_msg("%s: the snapshot after both has not both:\n%s", modes[m], tr.err);
		close(go[1]);
		trace_finish(&tr);
		if (tr.status != 0)
			fail_msg("%s: status %d:\n%s", modes[m], tr.status, tr.err);
		for (const char *p = tr.err; (p = strstr(p, "{\"report\":\"snapshot\",")); p++)
			snapshots++;
		if (snapshots < 2)
			fail_msg("%s: %zu snapshots:\n%s", modes[m], snapshots, tr.err);
		trace_free(&tr);
	}
}

/* Without --interval, each SIGUSR1 prints the reports once, under a heading. */
static void test_sigusr1_prints_a_snapshot(void **state)
{
	const char *opts[] = { "-v", "--leaks", NULL };
	const char *cmd[] = { "/bin/sh", "-c", "\"$0\" 3; read x; true",
			      build_path("tests/fixtures/keep_n"), NULL };
	struct trace tr;
	bool seen = false;
	int go[2];

	(void)state;
	REQUIRE_BPF();
	assert_int_equal(pipe2(go, O_CLOEXEC), 0); /* the write end is ours alone */
	trace_start(&tr, opts, cmd, go[0], TRACE_NO_EVENTS);
	close(go[0]);
	/* its handler is in place once the command has started (before, SIGUSR1 would kill it) */
	trace_wait_stderr(&tr, "started ", 30000);
	/* until keep_n's blocks are in a snapshot: it runs when the machine lets it */
	for (int i = 0; i < 200 && !seen; i++) {
		assert_int_equal(kill(tr.pid, SIGUSR1), 0);
		seen = trace_stderr_within(&tr, "300 bytes in 3 blocks from pid", 300) &&
		       strstr(tr.err, "memtrack: --- ");
	}
	if (!seen)
		fail_msg("no snapshot showed keep_n's blocks:\n%s", tr.err);
	assert_non_null(strstr(tr.err, "memtrack: --- "));
	assert_non_null(strstr(tr.err, "s of tracing ---\n"));
	close(go[1]);
	trace_finish(&tr);
	assert_int_equal(tr.status, 0);
	trace_free(&tr);
}

/* On a terminal (script(1) gives it one), the status line; -q: none. */
static void test_status_line_on_a_terminal(void **state)
{
	char cmd[1024];
	const char *argv[] = { "/usr/bin/script", "-qec", cmd, "/dev/null", NULL };
	struct output o;

	(void)state;
	REQUIRE_BPF();
	for (int quiet = 0; quiet < 2; quiet++) {
		snprintf(cmd, sizeof(cmd), "%s %s --no-summary -- %s 3", build_path("memtrack-load"),
			 quiet ? "-q" : "", build_path("tests/fixtures/keep_n"));
		run_io(argv, NULL, "", 0, &o);
		assert_int_equal(o.status, 0);
		if (quiet)
			assert_null(strstr(o.out, "calls/s"));
		else if (!strstr(o.out, "\r\033[Kmemtrack: ") || !strstr(o.out, " calls/s, "))
			fail_msg("no status line on the terminal:\n%s", o.out);
		output_free(&o);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_interval_reports_are_cumulative),
		cmocka_unit_test(test_sigusr1_prints_a_snapshot),
		cmocka_unit_test(test_status_line_on_a_terminal),
	};

	return cmocka_run_group_tests_name("watch", tests, NULL, NULL);
}
