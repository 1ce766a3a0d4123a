// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * --peak (loader/report/peak.c): what each process had live, by stack,
 * when its live bytes were highest, read back from the JSON report. A
 * model that copies its whole per-stack table at every new peak is the
 * reference; the summary must agree with it without doing that. And
 * --massif (loader/report/massif.c), which shows that peak and the heap
 * over time as valgrind's massif does: its files read by ms_print.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "memtrack.h"
#include "test_support.h"

#define PID 4242
#define NSTACKS 24

static unsigned long long clock_ns, step_ns = 1; /* events are step_ns apart */

static int setup(void **state)
{
	struct memtrack_summary *s = memtrack_summary_new();

	clock_ns = 1000;
	step_ns = 1;
	*state = s;
	return s ? 0 : -1;
}

static int teardown(void **state)
{
	memtrack_summary_free(*state);
	return 0;
}

static void event(struct memtrack_summary *s, unsigned type, unsigned long long addr,
		  unsigned long long size, unsigned long long stack)
{
	union mt_event ev;

	memset(&ev, 0, sizeof(ev));
	clock_ns += step_ns;
	ev.alloc.hdr.timestamp = clock_ns;
	ev.alloc.hdr.type = type;
	ev.alloc.hdr.pid = PID;
	ev.alloc.hdr.tid = PID;
	ev.alloc.addr = addr;
	ev.alloc.size = size;
	ev.alloc.stack_id = stack;
	ev.alloc.func = type == MT_EV_FREE ? MT_FN_FREE : MT_FN_MALLOC;
	assert_int_equal(memtrack_summary_add(s, &ev), 0);
}

static void do_malloc(struct memtrack_summary *s, unsigned long long addr,
		      unsigned long long size, unsigned long long stack)
{
	event(s, MT_EV_MALLOC, addr, size, stack);
}

static void do_free(struct memtrack_summary *s, unsigned long long addr)
{
	event(s, MT_EV_FREE, addr, 0, 0);
}

/* The --peak --json report, parsed; the caller puts it. */
static struct json_object *peak_report(struct memtrack_summary *s, size_t top)
{
	const struct memtrack_report_opts o = { .sz = sizeof(o), .json = true, .top = top };
	struct json_object *doc;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	assert_int_equal(memtrack_report(s, MEMTRACK_REPORT_PEAK, &o, f), 0);
	assert_int_equal(fclose(f), 0);
	doc = json_tokener_parse(text);
	if (!doc)
		fail_msg("not JSON: %s", text);
	free(text);
	assert_string_equal(jstr(doc, "report"), "peak");
	return doc;
}

/* The one process's entry of the report. */
static struct json_object *the_process(struct json_object *doc)
{
	struct json_object *procs = json_object_object_get(doc, "processes");

	assert_non_null(procs);
	assert_int_equal(json_object_array_length(procs), 1);
	return json_object_array_get_idx(procs, 0);
}

/* bytes and blocks by stack id, from a process's "peak" list; the stacks listed. */
static size_t stacks_of(struct json_object *proc, long long bytes[NSTACKS],
			long long count[NSTACKS])
{
	struct json_object *list = json_object_object_get(proc, "peak");
	long long last = -1;

	assert_non_null(list);
	memset(bytes, 0, NSTACKS * sizeof(bytes[0]));
	memset(count, 0, NSTACKS * sizeof(count[0]));
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		struct json_object *k = json_object_array_get_idx(list, i);
		long long id = jint(k, "stack_id");

		assert_in_range(id, 0, NSTACKS - 1);
		assert_int_equal(bytes[id], 0); /* each stack once */
		bytes[id] = jint(k, "bytes");
		count[id] = jint(k, "count");
		/* most bytes first */
		if (last >= 0)
			assert_true(bytes[id] <= last);
		last = bytes[id];
	}
	return json_object_array_length(list);
}

/*
 * 300 bytes from stack 1 and 50 from stack 2, the peak; stack 1's freed,
 * then 200 from stack 3: the peak is still 350, of stacks 1 and 2.
 */
static void the_peak_shows_the_stacks_live_then_not_at_the_end(void **state)
{
	struct memtrack_summary *s = *state;
	long long bytes[NSTACKS], count[NSTACKS];
	struct json_object *doc, *p;
	unsigned long long peak_at;

	for (int i = 0; i < 3; i++)
		do_malloc(s, 0x1000 + i * 0x100, 100, 1);
	do_malloc(s, 0x2000, 50, 2);
	peak_at = clock_ns;
	for (int i = 0; i < 3; i++)
		do_free(s, 0x1000 + i * 0x100);
	do_malloc(s, 0x3000, 200, 3);

	doc = peak_report(s, 0);
	p = the_process(doc);
	assert_int_equal(jint(p, "pid"), PID);
	assert_int_equal(jint(p, "peak_bytes"), 350);
	assert_int_equal(jint(p, "peak_blocks"), 4);
	assert_int_equal(jint(p, "timestamp"), peak_at);
	assert_int_equal(jint(p, "stacks"), 2);
	assert_int_equal(stacks_of(p, bytes, count), 2);
	assert_int_equal(bytes[1], 300);
	assert_int_equal(count[1], 3);
	assert_int_equal(bytes[2], 50);
	assert_int_equal(count[2], 1);
	assert_int_equal(bytes[3], 0);
	json_object_put(doc);

	/* --top 1: the stack with the most bytes, and how many there were */
	doc = peak_report(s, 1);
	p = the_process(doc);
	assert_int_equal(jint(p, "stacks"), 2);
	assert_int_equal(stacks_of(p, bytes, count), 1);
	assert_int_equal(bytes[1], 300);
	json_object_put(doc);
}

/*
 * Long churn after the peak (far past what the change log holds before it
 * is folded into a snapshot), then a stack first seen after the snapshot,
 * then a new, higher peak that makes the snapshot stale.
 */
static void churn_after_the_peak_leaves_it_as_it_was_until_a_higher_one(void **state)
{
	struct memtrack_summary *s = *state;
	long long bytes[NSTACKS], count[NSTACKS];
	struct json_object *doc, *p;

	do_malloc(s, 0x1000, 1000, 1);
	do_malloc(s, 0x1100, 500, 2);
	do_free(s, 0x1000);
	for (int i = 0; i < 10000; i++) {
		do_malloc(s, 0x5000, 10 + i % 7, 4);
		do_free(s, 0x5000);
	}
	do_malloc(s, 0x6000, 20, 5); /* a new stack, after the snapshot */

	doc = peak_report(s, 0);
	p = the_process(doc);
	assert_int_equal(jint(p, "peak_bytes"), 1500);
	assert_int_equal(stacks_of(p, bytes, count), 2);
	assert_int_equal(bytes[1], 1000);
	assert_int_equal(bytes[2], 500);
	json_object_put(doc);

	do_malloc(s, 0x7000, 2000, 6); /* 500 + 20 + 2000: the new peak */
	doc = peak_report(s, 0);
	p = the_process(doc);
	assert_int_equal(jint(p, "peak_bytes"), 2520);
	assert_int_equal(stacks_of(p, bytes, count), 3);
	assert_int_equal(bytes[2], 500);
	assert_int_equal(bytes[5], 20);
	assert_int_equal(bytes[6], 2000);
	assert_int_equal(bytes[1], 0);
	json_object_put(doc);
}

/* A fixed-seed xorshift: the same sequence on every machine. */
static uint64_t next_random(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/*
 * Random mallocs and frees over many stacks, with peaks early, late and
 * in between: at every new peak the model copies its table; the report
 * must show that copy.
 */
static void random_runs_agree_with_a_model_that_copies_at_every_peak(void **state)
{
	enum { SLOTS = 64, OPS = 60000 };
	struct memtrack_summary *s = *state;
	uint64_t x = 0x9e3779b97f4a7c15ull, size[SLOTS] = { 0 }, stack_of[SLOTS] = { 0 };
	long long live[NSTACKS] = { 0 }, nlive[NSTACKS] = { 0 };
	long long at_peak[NSTACKS] = { 0 }, n_at_peak[NSTACKS] = { 0 };
	long long bytes[NSTACKS], count[NSTACKS], total = 0, peak = 0;
	struct json_object *doc, *p;

	for (int op = 0; op < OPS; op++) {
		unsigned slot = (unsigned)(next_random(&x) % SLOTS);
		/* phases that grow, then shrink, so that peaks come and go */
		bool grow = (op / 5000) % 2 ? next_random(&x) % 3 == 0 : next_random(&x) % 3 != 0;

		if (size[slot] && !grow) {
			do_free(s, 0x100000 + slot * 0x1000);
			live[stack_of[slot]] -= (long long)size[slot];
			nlive[stack_of[slot]]--;
			total -= (long long)size[slot];
			size[slot] = 0;
		} else if (!size[slot] && grow) {
			size[slot] = 1 + next_random(&x) % 4000;
			stack_of[slot] = 1 + next_random(&x) % (NSTACKS - 1);
			do_malloc(s, 0x100000 + slot * 0x1000, size[slot], stack_of[slot]);
			live[stack_of[slot]] += (long long)size[slot];
			nlive[stack_of[slot]]++;
			total += (long long)size[slot];
			if (total > peak) {
				peak = total;
				memcpy(at_peak, live, sizeof(live));
				memcpy(n_at_peak, nlive, sizeof(nlive));
			}
		}
	}
	doc = peak_report(s, 0);
	p = the_process(doc);
	assert_int_equal(jint(p, "peak_bytes"), peak);
	stacks_of(p, bytes, count);
	for (int i = 0; i < NSTACKS; i++) {
		if (bytes[i] != at_peak[i] || count[i] != n_at_peak[i])
			fail_msg("stack %d: %lld bytes in %lld blocks at the peak, want %lld in %lld",
				 i, bytes[i], count[i], at_peak[i], n_at_peak[i]);
	}
	json_object_put(doc);
}

/* A report-only run's totals have no history: the report says so, and what to do. */
static void kept_totals_say_why_there_are_no_stacks(void **state)
{
	struct memtrack_summary *s = *state;
	const struct memtrack_trace_handler h = memtrack_summary_handler(s);
	struct mt_proc_totals t = { .allocs = 2, .alloc_bytes = 300, .live_bytes = 300,
				    .live_blocks = 2, .peak_bytes = 300 };
	const struct memtrack_report_opts o = { .sz = sizeof(o) };
	struct json_object *doc, *p;
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	assert_int_equal(h.on_totals(h.ctx, PID, 5000, &t), 0);
	doc = peak_report(s, 0);
	p = the_process(doc);
	assert_int_equal(jint(p, "peak_bytes"), 300);
	assert_non_null(strstr(jstr(p, "no_stacks"), "--no-aggregate"));
	assert_null(json_object_object_get(p, "peak"));
	json_object_put(doc);

	f = open_memstream(&text, &len);
	assert_non_null(f);
	assert_int_equal(memtrack_report(s, MEMTRACK_REPORT_PEAK, &o, f), 0);
	assert_int_equal(fclose(f), 0);
	assert_non_null(strstr(text, "peak of pid 4242"));
	assert_non_null(strstr(text, "report-only run"));
	free(text);
}

/*
 * The cost: a million allocations and frees whose live bytes climb to a
 * new peak every few events, over 2,000 stacks, with churn in between.
 */
static void a_million_events_with_a_peak_every_few_stay_cheap(void **state)
{
	enum { N = 500000, STACKS = 2000 };
	struct memtrack_summary *s = *state;
	double secs = -user_cpu_seconds();

	for (unsigned long long i = 0; i < N; i++) {
		do_malloc(s, 0x10000000 + i * 64, 32, 1 + i % STACKS);
		if (i % 3 == 2)
			do_free(s, 0x10000000 + (i - 1) * 64);
	}
	secs += user_cpu_seconds();
	print_message("# %d events: %.3f s of CPU\n", N + N / 3, secs);
	if (time_bounds_checked())
		assert_true(secs < 5.0);
}

/* ---- --massif: massif.out files, read by valgrind's own ms_print ---- */

/* A stack of one frame at ip, so that each stack id is its own tree node. */
static void stack(struct memtrack_summary *s, unsigned long long id, unsigned long long ip)
{
	struct mt_stack st = { .nr = 1 };

	st.ip[0] = ip;
	assert_int_equal(memtrack_summary_stack(s, id, &st), 0);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *text = calloc(1, 1 << 20);
	size_t n;

	assert_non_null(f);
	assert_non_null(text);
	n = fread(text, 1, (1 << 20) - 1, f);
	fclose(f);
	assert_true(n > 0 && n < (1 << 20) - 1);
	return text;
}

/* How many snapshots the file has; their times must never go back. */
static unsigned snapshots_in_order(const char *text)
{
	unsigned long long last = 0;
	unsigned n = 0;

	for (size_t at = 0; strstr(text + at, "\ntime="); at++) {
		unsigned long long t;

		at = (size_t)(strstr(text + at, "\ntime=") - text);
		t = strtoull(text + at + 6, NULL, 10);
		if (t < last)
			fail_msg("snapshot %u at %llu ms, after one at %llu", n, t, last);
		last = t;
		n++;
	}
	return n;
}

/*
 * 9,000 bytes from one stack, 150 bytes from 150 others, then all freed
 * but 1,000, over thousands of events: ms_print reads it, the peak is
 * 9,150 bytes, and the small stacks are one "in 150 places" line.
 */
static void ms_print_reads_the_peak_and_the_folded_small_stacks(void **state)
{
	char path[] = "/tmp/memtrack-massif-XXXXXX";
	const char *argv[] = { "/usr/bin/ms_print", path, NULL };
	struct memtrack_summary *s = *state;
	unsigned snapshots;
	struct output o;
	char *text;

	step_ns = 1000000; /* a millisecond apart */
	close(mkstemp(path));
	stack(s, 1, 0x401000);
	for (unsigned i = 0; i < 150; i++)
		stack(s, 100 + i, 0x402000 + i * 16);
	for (unsigned i = 0; i < 9; i++)
		event(s, MT_EV_MALLOC, 0x10000 + i * 0x1000, 1000, 1);
	for (unsigned i = 0; i < 150; i++)
		event(s, MT_EV_MALLOC, 0x100000 + i * 0x100, 1, 100 + i);
	event(s, MT_EV_FREE, 0x10000 + 8 * 0x1000, 0, 0); /* the peak is past */
	for (unsigned i = 0; i < 3000; i++) { /* churn: the timeline is thinned */
		event(s, MT_EV_MALLOC, 0x900000, 8, 1);
		event(s, MT_EV_FREE, 0x900000, 0, 0);
	}
	for (unsigned i = 1; i < 8; i++)
		event(s, MT_EV_FREE, 0x10000 + i * 0x1000, 0, 0);
	for (unsigned i = 0; i < 150; i++)
		event(s, MT_EV_FREE, 0x100000 + i * 0x100, 0, 0);
	assert_int_equal(memtrack_report_massif(s, path), 0);

	text = slurp(path);
	assert_true(strncmp(text, "desc: ", 6) == 0);
	assert_non_null(strstr(text, "\ntime_unit: ms\n"));
	assert_non_null(strstr(text, "\nheap_tree=peak\nn2: 9150 (heap allocation functions)"));
	assert_non_null(strstr(text, "\n n0: 9000 0x401000: ???\n"));
	assert_non_null(strstr(text, "\n n0: 150 in 150 places, all below massif's threshold (1.00%)\n"));
	/* a bounded number of snapshots, in time order */
	snapshots = snapshots_in_order(text);
	print_message("# %u snapshots\n", snapshots);
	assert_in_range(snapshots, 50, 110);
	free(text);

	run_io(argv, NULL, NULL, 0, &o);
	if (o.status != 0)
		fail_msg("ms_print failed (%d): %s", o.status, o.err);
	assert_non_null(strstr(o.out, "100.00% (9,150B) (heap allocation functions)"));
	assert_non_null(strstr(o.out, "(peak)"));
	assert_non_null(strstr(o.out, "100.00% (1,000B) (heap allocation functions)"));
	output_free(&o);
	unlink(path);
}

/* "%p": a file per process that allocated, named by its pid; none for the others. */
static void a_percent_p_path_makes_one_file_per_process(void **state)
{
	char dir[] = "/tmp/memtrack-massif-XXXXXX", path[64], file[64];
	struct memtrack_summary *s = *state;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/m.%%p.out", dir);
	event(s, MT_EV_MALLOC, 0x1000, 10, 0);
	assert_int_equal(memtrack_report_massif(s, path), 0);
	snprintf(file, sizeof(file), "%s/m.%d.out", dir, PID);
	assert_int_equal(unlink(file), 0);
	assert_int_equal(rmdir(dir), 0);
}

/* A report-only run's totals have no timeline: refused, and nothing written. */
static void kept_totals_are_refused_for_massif(void **state)
{
	struct memtrack_summary *s = *state;
	const struct memtrack_trace_handler h = memtrack_summary_handler(s);
	struct mt_proc_totals t = { .allocs = 1, .alloc_bytes = 10, .peak_bytes = 10 };

	assert_int_equal(h.on_totals(h.ctx, PID, 5000, &t), 0);
	assert_int_equal(memtrack_report_massif(s, "/nonexistent-memtrack/massif.out"), -ENODATA);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(the_peak_shows_the_stacks_live_then_not_at_the_end),
		T(churn_after_the_peak_leaves_it_as_it_was_until_a_higher_one),
		T(random_runs_agree_with_a_model_that_copies_at_every_peak),
		T(kept_totals_say_why_there_are_no_stacks),
		T(a_million_events_with_a_peak_every_few_stay_cheap),
		T(ms_print_reads_the_peak_and_the_folded_small_stacks),
		T(a_percent_p_path_makes_one_file_per_process),
		T(kept_totals_are_refused_for_massif),
	};

	return cmocka_run_group_tests_name("peak and massif", tests, NULL, NULL);
}
