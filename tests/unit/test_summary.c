// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* memtrack_summary_*: per-process heap accounting (loader/report/summary.c) and its report. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "memtrack.h"

#define PID 4242
#define A 0x55550000a010ull
#define B 0x55550000b020ull
#define C 0x55550000c030ull

static unsigned long long clock_ns;

static int setup(void **state)
{
	struct memtrack_summary *s = memtrack_summary_new();

	*state = s;
	return s ? 0 : -1;
}

static int teardown(void **state)
{
	memtrack_summary_free(*state);
	return 0;
}

static void add(struct memtrack_summary *s, const union mt_event *ev)
{
	assert_int_equal(memtrack_summary_add(s, ev), 0);
}

static void alloc_ev(struct memtrack_summary *s, unsigned type, pid_t pid, unsigned long long old,
		     unsigned long long addr, unsigned long long size, unsigned func)
{
	union mt_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.alloc.hdr.timestamp = ++clock_ns;
	ev.alloc.hdr.type = type;
	ev.alloc.hdr.pid = (__u32)pid;
	ev.alloc.hdr.tid = (__u32)pid;
	ev.alloc.addr = addr;
	ev.alloc.size = size;
	ev.alloc.old_addr = old;
	ev.alloc.func = func;
	add(s, &ev);
}

static void do_malloc(struct memtrack_summary *s, pid_t pid, unsigned long long addr,
		      unsigned long long size)
{
	alloc_ev(s, MT_EV_MALLOC, pid, 0, addr, size, MT_FN_MALLOC);
}

static void do_free(struct memtrack_summary *s, pid_t pid, unsigned long long addr)
{
	alloc_ev(s, MT_EV_FREE, pid, 0, addr, 0, MT_FN_FREE);
}

static void do_realloc(struct memtrack_summary *s, pid_t pid, unsigned long long old,
		       unsigned long long addr, unsigned long long size)
{
	alloc_ev(s, MT_EV_REALLOC, pid, old, addr, size, MT_FN_REALLOC);
}

static void proc_ev(struct memtrack_summary *s, unsigned type, pid_t pid, pid_t ppid,
		    const char *comm, unsigned exit_code)
{
	union mt_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.proc.hdr.timestamp = ++clock_ns;
	ev.proc.hdr.type = type;
	ev.proc.hdr.pid = (__u32)pid;
	ev.proc.hdr.tid = (__u32)pid;
	ev.proc.ppid = (__u32)ppid;
	ev.proc.exit_code = exit_code;
	snprintf(ev.proc.comm, sizeof(ev.proc.comm), "%s", comm);
	add(s, &ev);
}

/* The only row, or the i-th. */
static const struct memtrack_proc_stats *row(struct memtrack_summary *s, size_t i)
{
	const struct memtrack_proc_stats *st = memtrack_summary_proc(s, i);

	assert_non_null(st);
	return st;
}

static void malloc_and_free_are_accounted_in_every_column(void **state)
{
	struct memtrack_summary *s = *state;
	const struct memtrack_proc_stats *st;

	do_malloc(s, PID, A, 100);
	do_malloc(s, PID, B, 50);
	do_free(s, PID, A);
	assert_int_equal(memtrack_summary_count(s), 1);
	st = row(s, 0);
	assert_int_equal(st->pid, PID);
	assert_int_equal(st->allocs, 2);
	assert_int_equal(st->frees, 1);
	assert_int_equal(st->alloc_bytes, 150);
	assert_int_equal(st->free_bytes, 100);
	assert_int_equal(st->live_bytes, 50);
	assert_int_equal(st->peak_bytes, 150);
	assert_int_equal(st->max_request, 100);
	assert_int_equal(st->unknown_frees, 0);
	assert_false(st->exited);
}

static void peak_is_the_most_ever_live_not_the_sum_of_requests(void **state)
{
	struct memtrack_summary *s = *state;
	const struct memtrack_proc_stats *st;

	do_malloc(s, PID, A, 100);
	do_free(s, PID, A);
	do_malloc(s, PID, B, 60);
	do_malloc(s, PID, C, 30);
	st = row(s, 0);
	assert_int_equal(st->alloc_bytes, 190);
	assert_int_equal(st->live_bytes, 90);
	assert_int_equal(st->peak_bytes, 100);
	assert_int_equal(st->max_request, 100);
}

static void calloc_and_aligned_alloc_are_allocations(void **state)
{
	struct memtrack_summary *s = *state;
	const struct memtrack_proc_stats *st;

	alloc_ev(s, MT_EV_CALLOC, PID, 0, A, 400, MT_FN_CALLOC);
	alloc_ev(s, MT_EV_ALIGNED_ALLOC, PID, 0, B, 512, MT_FN_POSIX_MEMALIGN);
	do_free(s, PID, A);
	st = row(s, 0);
	assert_int_equal(st->allocs, 2);
	assert_int_equal(st->alloc_bytes, 912);
	assert_int_equal(st->frees, 1);
	assert_int_equal(st->free_bytes, 400);
	assert_int_equal(st->live_bytes, 512);
	assert_int_equal(st->max_request, 512);
}

static void a_realloc_chain_moves_the_block(void **state)
{
	struct memtrack_summary *s = *state;
	const struct memtrack_proc_stats *st;

	do_malloc(s, PID, A, 10);
	do_realloc(s, PID, A, B, 20);
	do_realloc(s, PID, B, C, 30);
	st = row(s, 0);
	assert_int_equal(st->allocs, 3);
	assert_int_equal(st->frees, 2);
	assert_int_equal(st->alloc_bytes, 60);
	assert_int_equal(st->free_bytes, 30);
	assert_int_equal(st->live_bytes, 30);
	assert_int_equal(st->peak_bytes, 30);
	assert_int_equal(st->max_request, 30);
	/* the old blocks are released: freeing one again is not a known block */
	do_free(s, PID, C);
	do_free(s, PID, A);
	assert_int_equal(st->live_bytes, 0);
	assert_int_equal(st->free_bytes, 60);
	assert_int_equal(st->unknown_frees, 1);
}

static void a_realloc_in_place_replaces_the_size(void **state)
{
	struct memtrack_summary *s = *state;
	const struct memtrack_proc_stats *st;

	do_malloc(s, PID, A, 10);
	do_realloc(s, PID, A, A, 100);
	st = row(s, 0);
	assert_int_equal(st->live_bytes, 100);
	assert_int_equal(st->free_bytes, 10);
	assert_int_equal(st->peak_bytes, 100);
	do_free(s, PID, A);
	assert_int_equal(st->live_bytes, 0);
	assert_int_equal(st->unknown_frees, 0);
}

static void realloc_to_zero_releases_the_block(void **state)
{
	struct memtrack_summary *s = *state;
	const struct memtrack_proc_stats *st;

	do_malloc(s, PID, A, 64);
	do_realloc(s, PID, A, 0, 0); /* glibc's realloc(p, 0): {old_addr = p, addr = 0} */
	st = row(s, 0);
	assert_int_equal(st->allocs, 1);
	assert_int_equal(st->frees, 1);
	assert_int_equal(st->free_bytes, 64);
	assert_int_equal(st->live_bytes, 0);
	assert_int_equal(st->unknown_frees, 0);
}

static void realloc_of_null_only_allocates(void **state)
{
	struct memtrack_summary *s = *state;
	const struct memtrack_proc_stats *st;

	do_realloc(s, PID, 0, A, 48); /* realloc(NULL, 48) */
	st = row(s, 0);
	assert_int_equal(st->allocs, 1);
	assert_int_equal(st->frees, 0);
	assert_int_equal(st->alloc_bytes, 48);
	assert_int_equal(st->free_bytes, 0);
	assert_int_equal(st->live_bytes, 48);
	assert_int_equal(st->unknown_frees, 0);
}

static void a_free_of_an_unknown_block_is_counted_apart(void **state)
{
	struct memtrack_summary *s = *state;
	const struct memtrack_proc_stats *st;

	do_malloc(s, PID, A, 10);
	do_free(s, PID, B); /* allocated before tracing began */
	st = row(s, 0);
	assert_int_equal(st->unknown_frees, 1);
	assert_int_equal(st->free_bytes, 0);
	assert_int_equal(st->live_bytes, 10);
	/* and a realloc that releases one */
	do_realloc(s, PID, C, B, 5);
	assert_int_equal(st->unknown_frees, 2);
	assert_int_equal(st->free_bytes, 0);
	assert_int_equal(st->live_bytes, 15);
}

static void an_address_reused_after_free_is_two_lives(void **state)
{
	struct memtrack_summary *s = *state;
	const struct memtrack_proc_stats *st;

	do_malloc(s, PID, A, 10);
	do_free(s, PID, A);
	do_malloc(s, PID, A, 20);
	st = row(s, 0);
	assert_int_equal(st->live_bytes, 20);
	do_free(s, PID, A);
	assert_int_equal(st->allocs, 2);
	assert_int_equal(st->frees, 2);
	assert_int_equal(st->alloc_bytes, 30);
	assert_int_equal(st->free_bytes, 30);
	assert_int_equal(st->live_bytes, 0);
	assert_int_equal(st->peak_bytes, 20);
	assert_int_equal(st->unknown_frees, 0);
}

static void a_malloc_of_a_held_address_ends_its_previous_life(void **state)
{
	struct memtrack_summary *s = *state;
	const struct memtrack_proc_stats *st;

	do_malloc(s, PID, A, 10);
	do_malloc(s, PID, A, 20); /* the free of the first was lost */
	st = row(s, 0);
	assert_int_equal(st->allocs, 2);
	assert_int_equal(st->alloc_bytes, 30);
	assert_int_equal(st->free_bytes, 10);
	assert_int_equal(st->live_bytes, 20);
	assert_int_equal(st->peak_bytes, 20);
	do_free(s, PID, A);
	assert_int_equal(st->free_bytes, 30);
	assert_int_equal(st->live_bytes, 0);
	assert_int_equal(st->unknown_frees, 0);
}

/*
 * R10: thread 1's realloc of A begins, frees A inside, and before it
 * returns (with B) thread 2 gets A: thread 2's Malloc comes first and
 * ends A's old life (R6); the Realloc, begun before that Malloc, must not
 * release thread 2's block, and counts the free R6 did not.
 */
static void a_realloc_raced_by_another_thread_keeps_its_block(void **state)
{
	struct memtrack_summary *s = *state;
	const struct memtrack_proc_stats *st;
	unsigned long long entered;
	union mt_event ev;

	do_malloc(s, PID, A, 10);
	entered = ++clock_ns; /* thread 1 enters realloc(A, 20) */
	memset(&ev, 0, sizeof(ev));
	ev.alloc.hdr.timestamp = ++clock_ns; /* thread 2: malloc(30) returns A */
	ev.alloc.hdr.type = MT_EV_MALLOC;
	ev.alloc.hdr.pid = PID;
	ev.alloc.hdr.tid = PID + 1;
	ev.alloc.addr = A;
	ev.alloc.size = 30;
	ev.alloc.func = MT_FN_MALLOC;
	add(s, &ev);
	memset(&ev, 0, sizeof(ev));
	ev.alloc.hdr.timestamp = ++clock_ns; /* thread 1's realloc returns B */
	ev.alloc.hdr.type = MT_EV_REALLOC;
	ev.alloc.hdr.pid = PID;
	ev.alloc.hdr.tid = PID;
	ev.alloc.addr = B;
	ev.alloc.size = 20;
	ev.alloc.old_addr = A;
	ev.alloc.entered = entered;
	ev.alloc.func = MT_FN_REALLOC;
	add(s, &ev);
	st = row(s, 0);
	assert_int_equal(st->allocs, 3);
	assert_int_equal(st->frees, 1);	      /* A's first life, released by the realloc */
	assert_int_equal(st->live_blocks, 2); /* thread 2's A, and B */
	assert_int_equal(st->live_bytes, 50);
	do_free(s, PID, A); /* thread 2 frees its block: known */
	assert_int_equal(st->frees, 2);
	assert_int_equal(st->unknown_frees, 0);
	assert_int_equal(st->live_bytes, 20);
}

static void a_block_freed_by_another_thread_is_released(void **state)
{
	struct memtrack_summary *s = *state;
	union mt_event ev;

	do_malloc(s, PID, A, 10);
	memset(&ev, 0, sizeof(ev));
	ev.alloc.hdr.type = MT_EV_FREE;
	ev.alloc.hdr.pid = PID;
	ev.alloc.hdr.tid = PID + 1;
	ev.alloc.addr = A;
	add(s, &ev);
	assert_int_equal(memtrack_summary_count(s), 1);
	assert_int_equal(row(s, 0)->live_bytes, 0);
	assert_int_equal(row(s, 0)->unknown_frees, 0);
}

static void blocks_of_different_processes_are_kept_apart(void **state)
{
	struct memtrack_summary *s = *state;

	do_malloc(s, PID, A, 10);
	do_free(s, PID + 1, A); /* same address, another address space */
	assert_int_equal(memtrack_summary_count(s), 2);
	assert_int_equal(row(s, 0)->live_bytes, 10);
	assert_int_equal(row(s, 1)->pid, PID + 1);
	assert_int_equal(row(s, 1)->unknown_frees, 1);
	assert_int_equal(row(s, 1)->free_bytes, 0);
}

static void exec_releases_the_whole_heap_of_the_old_image(void **state)
{
	struct memtrack_summary *s = *state;
	const struct memtrack_proc_stats *st;

	do_malloc(s, PID, A, 10);
	do_malloc(s, PID, B, 20);
	do_free(s, PID, A);
	proc_ev(s, MT_EV_EXEC, PID, 1, "newimage", 0);
	assert_int_equal(memtrack_summary_count(s), 1);
	st = row(s, 0);
	assert_int_equal(st->live_bytes, 0);
	assert_int_equal(st->free_bytes, 30);
	assert_int_equal(st->peak_bytes, 30);
	assert_int_equal(st->ppid, 1);
	assert_string_equal(st->comm, "newimage");
	/* the old image's blocks are gone: a free of one is unknown */
	do_free(s, PID, B);
	assert_int_equal(st->unknown_frees, 1);
	assert_int_equal(st->free_bytes, 30);
	/* the new image accounts from nothing */
	do_malloc(s, PID, B, 7);
	assert_int_equal(st->live_bytes, 7);
}

static void fork_creates_a_row_for_the_child(void **state)
{
	struct memtrack_summary *s = *state;
	const struct memtrack_proc_stats *parent, *child;

	do_malloc(s, PID, A, 10);
	proc_ev(s, MT_EV_FORK, PID + 1, PID, "child", 0);
	do_malloc(s, PID + 1, B, 20);
	assert_int_equal(memtrack_summary_count(s), 2);
	parent = row(s, 0);
	child = row(s, 1);
	assert_int_equal(parent->pid, PID);
	assert_int_equal(parent->live_bytes, 10);
	assert_int_equal(child->pid, PID + 1);
	assert_int_equal(child->ppid, PID);
	assert_string_equal(child->comm, "child");
	assert_int_equal(child->allocs, 1);
	assert_int_equal(child->live_bytes, 20);
	assert_false(child->exited);
	assert_null(memtrack_summary_proc(s, 2));
}

static void exit_marks_the_process_exited_with_its_status(void **state)
{
	struct memtrack_summary *s = *state;
	const struct memtrack_proc_stats *st;

	proc_ev(s, MT_EV_FORK, PID, 1, "app", 0);
	do_malloc(s, PID, A, 10);
	assert_false(row(s, 0)->exited);
	proc_ev(s, MT_EV_EXIT, PID, 1, "app", 0x2a00);
	assert_int_equal(memtrack_summary_count(s), 1);
	st = row(s, 0);
	assert_true(st->exited);
	assert_int_equal(st->exit_status, 0x2a00);
	assert_int_equal(st->allocs, 1);
	assert_int_equal(st->live_bytes, 10); /* what it never freed */
}

static void a_fork_of_a_pid_whose_last_life_exited_starts_a_new_row(void **state)
{
	struct memtrack_summary *s = *state;
	const struct memtrack_proc_stats *old, *reborn;

	proc_ev(s, MT_EV_FORK, PID, 1, "first", 0);
	do_malloc(s, PID, A, 10);
	proc_ev(s, MT_EV_EXIT, PID, 1, "first", 9);
	proc_ev(s, MT_EV_FORK, PID, 77, "second", 0);
	do_malloc(s, PID, A, 99);
	assert_int_equal(memtrack_summary_count(s), 2);
	old = row(s, 0);
	reborn = row(s, 1);
	assert_int_equal(old->pid, PID);
	assert_int_equal(reborn->pid, PID);
	assert_true(old->exited);
	assert_int_equal(old->exit_status, 9);
	assert_string_equal(old->comm, "first");
	assert_int_equal(old->live_bytes, 10);
	assert_false(reborn->exited);
	assert_int_equal(reborn->ppid, 77);
	assert_string_equal(reborn->comm, "second");
	assert_int_equal(reborn->allocs, 1);
	assert_int_equal(reborn->live_bytes, 99);
	assert_int_equal(reborn->free_bytes, 0); /* A of the first life is not this one's */
}

/*
 * What a report-only run's kernel kept, read at the end, goes to the life
 * of its pid that was running at its time (R11): the stream's Fork and
 * Exit made the lives; totals, sites and blocks come after them all.
 */
static void kept_totals_go_to_the_life_they_were_counted_in(void **state)
{
	struct memtrack_summary *s = *state;
	const struct memtrack_trace_handler h = memtrack_summary_handler(s);
	struct mt_proc_totals t = { .allocs = 1, .alloc_bytes = 10, .live_bytes = 10,
				    .live_blocks = 1 };
	struct mt_site site = { .count = 1, .bytes = 10 };
	struct mt_block b = { .size = 10, .stack_id = 5 };
	unsigned long long first_life, second_life;

	proc_ev(s, MT_EV_FORK, PID, 1, "first", 0);
	first_life = ++clock_ns;
	proc_ev(s, MT_EV_EXIT, PID, 1, "first", 0);
	proc_ev(s, MT_EV_FORK, PID, 1, "second", 0);
	second_life = ++clock_ns;
	/* the second life's first, as a map's order may have it */
	t.image_time = site.first_time = b.time = second_life;
	t.alloc_bytes = t.live_bytes = site.bytes = b.size = 20;
	assert_int_equal(h.on_totals(h.ctx, PID, second_life + 1, &t), 0);
	assert_int_equal(h.on_site(h.ctx, PID, 5, &site), 0);
	assert_int_equal(h.on_block(h.ctx, PID, A, &b), 0);
	t.image_time = site.first_time = b.time = first_life;
	t.alloc_bytes = t.live_bytes = site.bytes = b.size = 10;
	assert_int_equal(h.on_totals(h.ctx, PID, second_life + 1, &t), 0);
	assert_int_equal(h.on_site(h.ctx, PID, 5, &site), 0);
	assert_int_equal(h.on_block(h.ctx, PID, A, &b), 0);
	assert_int_equal(memtrack_summary_count(s), 2);
	assert_string_equal(row(s, 0)->comm, "first");
	assert_int_equal(row(s, 0)->alloc_bytes, 10);
	assert_int_equal(row(s, 0)->live_bytes, 10);
	assert_string_equal(row(s, 1)->comm, "second");
	assert_int_equal(row(s, 1)->alloc_bytes, 20);
	assert_int_equal(row(s, 1)->live_bytes, 20);
	/* and a total from before the first Fork (a process added at the start) is the first's */
	t.image_time = 0;
	assert_int_equal(h.on_totals(h.ctx, PID, second_life + 1, &t), 0);
	assert_int_equal(row(s, 0)->alloc_bytes, 20);
}

/* memtrack_summary_print into a string. */
static char *print(struct memtrack_summary *s, const struct memtrack_counters *c)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	memtrack_summary_print(s, c, f);
	fclose(f);
	assert_non_null(text);
	return text;
}

/* The whitespace-separated words of the n-th line (0-based) of text, joined by one space. */
static void words_of_line(const char *text, int n, char *out, size_t size)
{
	const char *p = text;
	size_t len = 0;

	for (int i = 0; i < n && p; i++) {
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	assert_non_null(p);
	out[0] = '\0';
	while (*p && *p != '\n') {
		size_t w = strcspn(p, " \n");

		if (w) {
			len += (size_t)snprintf(out + len, size - len, "%s%.*s", len ? " " : "",
						(int)w, p);
			assert_true(len < size);
		}
		p += w;
		while (*p == ' ')
			p++;
	}
}

static void the_report_has_a_header_and_one_row_per_process(void **state)
{
	struct memtrack_summary *s = *state;
	char words[512];
	char *text;

	proc_ev(s, MT_EV_FORK, PID, 1, "app", 0);
	do_malloc(s, PID, A, 100);
	do_malloc(s, PID, B, 20);
	do_free(s, PID, A);
	proc_ev(s, MT_EV_EXIT, PID, 1, "app", 0x2a00);
	proc_ev(s, MT_EV_FORK, PID + 1, PID, "killed", 0);
	proc_ev(s, MT_EV_EXIT, PID + 1, PID, "killed", 9);
	proc_ev(s, MT_EV_FORK, PID + 2, PID, "running", 0);
	text = print(s, NULL);
	words_of_line(text, 0, words, sizeof(words));
	assert_string_equal(words,
			    "PID PPID Allocs Frees Live Alloc Free Real Real.max Req.max Oldest AvgAge Exit Comm");
	words_of_line(text, 1, words, sizeof(words));
	assert_string_equal(words, "4242 1 2 1 1 120 100 20 120 100 2ns 2ns 42 app");
	words_of_line(text, 2, words, sizeof(words));
	assert_string_equal(words, "4243 4242 0 0 0 0 0 0 0 0 - - sig9 killed");
	words_of_line(text, 3, words, sizeof(words));
	assert_string_equal(words, "4244 4242 0 0 0 0 0 0 0 0 - - - running");
	/* without counters, no drop line */
	assert_null(strstr(text, "dropped"));
	assert_null(strstr(text, "memtrack:"));
	free(text);
}

static void a_process_without_a_comm_is_named_from_proc(void **state)
{
	struct memtrack_summary *s = *state;
	char words[512], comm[64] = { 0 }, want[128];
	char *text;
	FILE *f = fopen("/proc/self/comm", "r");

	assert_non_null(f);
	assert_non_null(fgets(comm, sizeof(comm), f));
	fclose(f);
	comm[strcspn(comm, "\n")] = '\0';
	do_malloc(s, getpid(), A, 1);
	do_malloc(s, INT_MAX, A, 1); /* no such process */
	text = print(s, NULL);
	words_of_line(text, 1, words, sizeof(words));
	snprintf(want, sizeof(want), "%d 0 1 0 1 1 0 1 1 1 1ns 1ns - %s", (int)getpid(), comm);
	assert_string_equal(words, want);
	words_of_line(text, 2, words, sizeof(words));
	snprintf(want, sizeof(want), "%d 0 1 0 1 1 0 1 1 1 0ns 0ns - ?", INT_MAX);
	assert_string_equal(words, want);
	free(text);
}

static void the_drop_line_is_printed_even_when_nothing_was_dropped(void **state)
{
	struct memtrack_summary *s = *state;
	struct memtrack_counters c;
	char *text;

	memset(&c, 0, sizeof(c));
	do_malloc(s, PID, A, 1);
	text = print(s, &c);
	assert_non_null(strstr(text, "\nmemtrack: 0 events dropped (ringbuf_full 0, map_full 0, "
				     "no_memory 0, read_fault 0, lost_return 0, stack_full 0, other 0)\n"));
	assert_null(strstr(text, "failed calls"));
	free(text);
}

static void drops_are_listed_by_reason_with_their_sum(void **state)
{
	struct memtrack_summary *s = *state;
	struct memtrack_counters c;
	char *text;

	memset(&c, 0, sizeof(c));
	c.drops[MT_DROP_RINGBUF_FULL] = 4;
	c.drops[MT_DROP_OTHER] = 1;
	text = print(s, &c);
	assert_non_null(strstr(text, "memtrack: 5 events dropped (ringbuf_full 4, map_full 0, "
				     "no_memory 0, read_fault 0, lost_return 0, stack_full 0, other 1)\n"));
	assert_null(strstr(text, "failed calls"));
	free(text);
}

static void failed_calls_are_listed_only_when_there_are_some(void **state)
{
	struct memtrack_summary *s = *state;
	struct memtrack_counters c;
	char *text;

	memset(&c, 0, sizeof(c));
	c.failures[MT_FN_MALLOC] = 2;
	c.failures[MT_FN_POSIX_MEMALIGN] = 1;
	text = print(s, &c);
	assert_non_null(strstr(text, "memtrack: 3 failed calls (not counted as allocations): "
				     "malloc 2 posix_memalign 1\n"));
	assert_non_null(strstr(text, "memtrack: 0 events dropped ("));
	free(text);
}

static void unknown_frees_are_reported_in_total(void **state)
{
	struct memtrack_summary *s = *state;
	char *text;

	do_free(s, PID, A);
	do_free(s, PID + 1, B);
	do_free(s, PID + 1, C);
	text = print(s, NULL);
	assert_non_null(strstr(text, "memtrack: 3 releases of blocks allocated before tracing"));
	free(text);
}

static void no_unknown_frees_no_line(void **state)
{
	struct memtrack_summary *s = *state;
	char *text;

	do_malloc(s, PID, A, 1);
	do_free(s, PID, A);
	text = print(s, NULL);
	assert_null(strstr(text, "releases of blocks"));
	free(text);
}

/* Report options from a newer caller: zeros past ours are fine, anything else refused. */
static void report_options_this_version_does_not_know_are_refused(void **state)
{
	struct memtrack_summary *s = *state;
	unsigned char bigger[sizeof(struct memtrack_report_opts) + 8] = { 0 };
	struct memtrack_report_opts *o = (struct memtrack_report_opts *)bigger;
	FILE *out = fopen("/dev/null", "w");

	assert_non_null(out);
	o->sz = sizeof(bigger);
	assert_int_equal(memtrack_report(s, MEMTRACK_REPORT_SUMMARY, o, out), 0);
	bigger[sizeof(bigger) - 1] = 1;
	assert_int_equal(memtrack_report(s, MEMTRACK_REPORT_SUMMARY, o, out), -EINVAL);
	errno = 0;
	assert_null(memtrack_event_printer_new(s, o, out));
	assert_int_equal(errno, EINVAL);
	o->sz = 0; /* not even its own size */
	assert_int_equal(memtrack_report(s, MEMTRACK_REPORT_SUMMARY, o, out), -EINVAL);
	fclose(out);
}

static void free_of_null_is_harmless(void **state)
{
	(void)state;
	memtrack_summary_free(NULL);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(malloc_and_free_are_accounted_in_every_column),
		T(peak_is_the_most_ever_live_not_the_sum_of_requests),
		T(calloc_and_aligned_alloc_are_allocations),
		T(a_realloc_chain_moves_the_block),
		T(a_realloc_in_place_replaces_the_size),
		T(realloc_to_zero_releases_the_block),
		T(realloc_of_null_only_allocates),
		T(a_free_of_an_unknown_block_is_counted_apart),
		T(an_address_reused_after_free_is_two_lives),
		T(a_malloc_of_a_held_address_ends_its_previous_life),
		T(a_realloc_raced_by_another_thread_keeps_its_block),
		T(a_block_freed_by_another_thread_is_released),
		T(blocks_of_different_processes_are_kept_apart),
		T(exec_releases_the_whole_heap_of_the_old_image),
		T(fork_creates_a_row_for_the_child),
		T(exit_marks_the_process_exited_with_its_status),
		T(a_fork_of_a_pid_whose_last_life_exited_starts_a_new_row),
		T(kept_totals_go_to_the_life_they_were_counted_in),
		T(the_report_has_a_header_and_one_row_per_process),
		T(a_process_without_a_comm_is_named_from_proc),
		T(the_drop_line_is_printed_even_when_nothing_was_dropped),
		T(drops_are_listed_by_reason_with_their_sum),
		T(failed_calls_are_listed_only_when_there_are_some),
		T(unknown_frees_are_reported_in_total),
		T(no_unknown_frees_no_line),
		T(report_options_this_version_does_not_know_are_refused),
		cmocka_unit_test(free_of_null_is_harmless),
	};

	return cmocka_run_group_tests_name("summary", tests, NULL, NULL);
}
