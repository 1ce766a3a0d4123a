/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A growable FIFO of events, for the pull API: the ring-buffer callback
 * cannot refuse an event (libbpf consumes it either way), so the queue
 * grows instead; the poller stops polling while it is above its high mark.
 */
#ifndef MEMTRACK_EVENT_QUEUE_H
#define MEMTRACK_EVENT_QUEUE_H

#include <stdbool.h>
#include <stddef.h>

#include "memtrack_events.h"

struct event_queue {
	union mt_event *ring;
	size_t cap;  /* a power of two, or 0 */
	size_t head; /* next to pop */
	size_t len;
};

/* Copy size bytes of a record (at most one union mt_event) to the tail. */
int event_queue_push(struct event_queue *q, const void *rec, size_t size);
bool event_queue_pop(struct event_queue *q, union mt_event *out);
void event_queue_free(struct event_queue *q);

#endif /* MEMTRACK_EVENT_QUEUE_H */
