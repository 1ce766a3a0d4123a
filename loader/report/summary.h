/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The analysis state behind every report (summary.c fills it, report.c and
 * the output formats read it): per process, its accounting and live
 * blocks; per (process, stack), its allocation totals; and the stacks and
 * mappings that name those stacks.
 */
#ifndef MEMTRACK_SUMMARY_H
#define MEMTRACK_SUMMARY_H

#include <stdbool.h>
#include <stdint.h>

#include "memtrack.h"
#include "address_space.h"
#include "massif.h"
#include "peak.h"
#include "stack_cache.h"
#include "symbolize.h"
#include "u64_map.h"

/* One live block (or a free slot in the pool). */
struct block {
	uint64_t size;
	uint64_t stack_id; /* 0: no stack */
	uint64_t time;	   /* when it was allocated */
	uint64_t site;	   /* index + 1 in sites[] (0: filtered, no site) */
	uint64_t next_free; /* in the pool's free list: index + 1 of the next slot */
	bool filtered;	   /* outside --min-size/--max-size: kept only to pair its free */
	bool displaced;	   /* it ended an in-range block still live at its address (R6, R10) */
};

/* The allocations one process made from one stack. */
struct site {
	size_t proc; /* index in procs[] */
	uint64_t stack_id;
	uint64_t first; /* the time of its first allocation: which mappings name it */
	uint64_t alloc_count, alloc_bytes;
	uint64_t live_count, live_bytes; /* of its blocks, now */
	uint32_t pos;			 /* its place in its process's site_list */
};

struct proc_entry {
	struct memtrack_proc_stats st;
	struct u64_map live; /* address -> index + 1 in blocks[] */
	unsigned long long calls[MT_FN_MAX]; /* successful allocation calls by function */
	uint64_t largest_stack, largest_time, largest_addr; /* of the Req.max request */
	uint64_t end_time; /* when it exited or exec'd away its blocks (0: still ran at the end) */
	uint64_t former_life; /* the entry of the pid's life before this one: index + 1, or 0 */
	size_t *site_list;    /* its sites: indexes in sites[] */
	size_t nsite_list, site_list_cap;
	struct peak_state peak; /* what was live at its peak (peak.h) */
	struct timeline *timeline; /* its live bytes over time, for massif (made on first use) */
	bool aggregated;	/* its totals are a report-only run's: no events, no peak's stacks */
};

struct memtrack_summary {
	struct proc_entry *procs;
	size_t nprocs, cap;
	struct u64_map by_pid; /* pid -> index + 1 of its current entry */

	struct block *blocks;
	size_t nblocks, cap_blocks;
	uint64_t free_blocks; /* head of the free list: index + 1, or 0 */

	struct site *sites;
	size_t nsites, cap_sites;
	struct u64_map site_index; /* mixed (proc, stack) -> index + 1 */

	struct stack_cache stacks;
	struct address_spaces spaces;
	struct symbolizer *sym; /* made on first use */
	char *debug_dirs;

	unsigned long long min_size, max_size; /* 0: no bound */
	uint64_t first_time, last_time;	       /* of the events seen */

	struct memtrack_counters counters;
	bool have_counters;

	/* The Header's: when the trace began, on both clocks, and the command traced. */
	bool have_anchor;
	uint64_t anchor_mono;	  /* CLOCK_MONOTONIC ns */
	long long anchor_wall_ns; /* CLOCK_REALTIME ns at anchor_mono */
	char *command;		  /* its arguments joined by spaces; NULL: none */
};

/* The symbolizer, made the first time; NULL without memory. */
struct symbolizer *summary_symbolizer(struct memtrack_summary *s);

/* The time a process's live blocks are aged against: its end, else the last event. */
uint64_t summary_end_time(const struct memtrack_summary *s, const struct proc_entry *e);

/*
 * The wall-clock time (ns since the epoch) of a CLOCK_MONOTONIC time, by
 * the Header's anchor; 0 if the trace had no Header.
 */
long long summary_wall_ns(const struct memtrack_summary *s, uint64_t mono);

/* Call fn for each live block of e in the size range, with its age at e's end. */
void summary_live_each(const struct memtrack_summary *s, const struct proc_entry *e,
		       void (*fn)(void *ctx, const struct block *b, uint64_t age), void *ctx);

#endif /* MEMTRACK_SUMMARY_H */
