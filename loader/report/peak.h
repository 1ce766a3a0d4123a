/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What each process had live when its live bytes were highest: bytes and
 * blocks by allocation stack at its peak, for --peak and massif's peak
 * snapshot, kept cheaply while the events come.
 *
 * Each site (process, stack) keeps its live bytes and blocks as they
 * change. At a new peak the current state is the peak's, and nothing is
 * copied. After it, each change is logged (site, delta), so that the
 * peak's state is the current one minus the log; once the log holds more
 * entries than twice the process's sites (at least PEAK_LOG_MIN), the
 * peak's state is computed once into a snapshot and logging stops until
 * the next peak. Every event thus costs O(1) amortized, and memory stays
 * within a few entries per site, however long the run after its peak.
 */
#ifndef MEMTRACK_PEAK_H
#define MEMTRACK_PEAK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct memtrack_summary;
struct proc_entry;
struct site;

#define PEAK_LOG_MIN 1024

struct peak_change {
	uint32_t pos;	/* the site's place in its process's site list */
	int32_t count;	/* +1 or -1 */
	int64_t bytes;	/* + or - its size */
};

struct peak_value {
	uint64_t bytes, count;
};

struct peak_state {
	bool reached;		/* it had one: time is when */
	uint64_t time;
	struct peak_change *log; /* the changes since the peak, unless snapped */
	size_t nlog, log_cap;
	struct peak_value *snap; /* the peak's values by site position, once snapped */
	size_t nsnap, snap_cap;
	bool snapped;
	bool lost; /* out of memory on the way: the stacks at the peak are not known */
};

/* A site of e's changed by (bytes, count) (after its live values were updated). */
void peak_change(struct memtrack_summary *s, struct proc_entry *e, const struct site *site,
		 int64_t bytes, int32_t count);
/* e's live bytes reached a new peak at time: the current state is the peak's. */
void peak_reached(struct proc_entry *e, uint64_t time);
void peak_free(struct peak_state *p);

/* One stack's share of a process's peak. */
struct peak_stack {
	size_t site; /* index in the summary's sites[] */
	uint64_t bytes, count;
};

/*
 * The stacks live at e's peak, most bytes first, into *out (n of them;
 * free()d by the caller). 0, -ENOMEM, or -ENODATA when the peak's stacks
 * are not known (out of memory while tracing).
 */
int peak_stacks(const struct memtrack_summary *s, const struct proc_entry *e,
		struct peak_stack **out, size_t *n);

#endif /* MEMTRACK_PEAK_H */
