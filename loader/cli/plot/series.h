/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Live heap bytes over time, one step series per process: what
 * memtrack_summary says a process holds after each of its events.
 *
 * Points are kept in time slots of 2^shift ns, each with the lowest, the
 * highest and the last value seen in it. While a trace is read, whenever
 * its time span needs more than max_slots slots, the slots double in width
 * and merge, so a trace of any length costs at most max_slots slots per
 * process and no peak is lost: a slot keeps its highest value.
 */
#ifndef VISUALIZE_SERIES_H
#define VISUALIZE_SERIES_H

#include <stddef.h>

#include <memtrack.h>

struct slot {
	unsigned long long k;	     /* the slot: time since the first event >> shift */
	unsigned long long min, max; /* live bytes within it */
	unsigned long long last;     /* live bytes at its end */
};

struct series {
	struct slot *slots;
	size_t n, cap;
	unsigned long long peak;      /* the highest live bytes, exactly */
	unsigned long long peak_time; /* when it was first reached, ns since the first event */
	unsigned long long last_time; /* its last event, ns since the first event */
};

struct series_set {
	struct memtrack_summary *summary; /* accounts every event; series i is its process i */
	struct series *series;
	size_t n, cap;
	unsigned long long t0;	 /* the first event's timestamp */
	unsigned long long span; /* the last event, ns since the first */
	unsigned long long events;
	unsigned int shift;
	size_t max_slots;
	/* pid -> the index of its latest life, as the summary keeps it (open addressing) */
	unsigned long long *pid_keys; /* pid + 1; 0: empty */
	size_t *pid_vals, pid_cap, pid_used;
};

/* max_slots: the time resolution kept, in slots over the whole trace. */
int series_init(struct series_set *set, size_t max_slots);
void series_free(struct series_set *set);

/* Account one event of the trace, in order, and add its process's point. 0 or -ENOMEM. */
int series_event(struct series_set *set, const union mt_event *ev);

/* The width of a slot, in ns. */
static inline unsigned long long series_slot_ns(const struct series_set *set)
{
	return 1ull << set->shift;
}

#endif /* VISUALIZE_SERIES_H */
