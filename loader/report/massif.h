/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * valgrind massif's output format (massif.out), for ms_print and
 * massif-visualizer: one process's heap over time, as snapshots, with its
 * allocation tree at the peak and at the end. The timeline is sampled
 * while the events come: at most TIMELINE_MAX points per process, one
 * every stride events, the stride doubled (and every other point dropped)
 * whenever they are full, as massif culls its own snapshots.
 */
#ifndef MEMTRACK_MASSIF_H
#define MEMTRACK_MASSIF_H

#include <stddef.h>
#include <stdint.h>

#define TIMELINE_MAX 100

struct timeline {
	struct {
		uint64_t time, bytes;
	} v[TIMELINE_MAX];
	size_t n;
	uint64_t stride, since; /* a point every stride events; events since the last */
};

/* One event changed the live bytes (now bytes) at time. */
void timeline_note(struct timeline *t, uint64_t time, uint64_t bytes);

#endif /* MEMTRACK_MASSIF_H */
