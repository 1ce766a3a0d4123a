/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The blocks still live at the end, grouped by (process, allocation
 * stack): what the leak report lists and what the live-bytes flame graph
 * and pprof's inuse values are made of.
 */
#ifndef MEMTRACK_LEAKS_H
#define MEMTRACK_LEAKS_H

#include <stddef.h>
#include <stdint.h>

#include "summary.h"

struct leak {
	size_t proc;	   /* index in the summary's procs[] */
	uint64_t stack_id; /* 0: no stack */
	uint64_t bytes, count;
	uint64_t first_time;	  /* the oldest block's birth: which mappings name the stack */
	uint64_t min_age, max_age; /* at the end of the process */
	uint64_t stacks;	   /* the stacks grouped here (by location: one or more) */
	uint64_t location;	   /* report_stack_location(), once grouped by it */
};

struct leaks {
	struct leak *v; /* most bytes first */
	size_t n;
	uint64_t bytes, blocks;
};

/* Group the live blocks (in the size range) at least min_age ns old. 0 or -ENOMEM. */
int leaks_collect(const struct memtrack_summary *s, uint64_t min_age, struct leaks *l);
/*
 * Merge the groups of one process whose stacks have the same location
 * (report_stack_location()): what a person would call one place. The
 * merged group shows the stack with the most bytes. 0 or -ENOMEM.
 */
int leaks_by_location(struct memtrack_summary *s, struct leaks *l);
void leaks_free(struct leaks *l);

#endif /* MEMTRACK_LEAKS_H */
