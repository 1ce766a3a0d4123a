// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "event_queue.h"

static int grow(struct event_queue *q)
{
	size_t cap = q->cap ? q->cap * 2 : 256;
	union mt_event *ring = malloc(cap * sizeof(*ring));

	if (!ring)
		return -ENOMEM;
	/* Unwrap the old contents to the start of the new ring. */
	for (size_t i = 0; i < q->len; i++)
		ring[i] = q->ring[(q->head + i) & (q->cap - 1)];
	free(q->ring);
	q->ring = ring;
	q->cap = cap;
	q->head = 0;
	return 0;
}

int event_queue_push(struct event_queue *q, const void *rec, size_t size)
{
	union mt_event *slot;

	if (size > sizeof(*slot))
		return -EINVAL;
	if (q->len == q->cap) {
		int err = grow(q);

		if (err)
			return err;
	}
	slot = &q->ring[(q->head + q->len) & (q->cap - 1)];
	memset(slot, 0, sizeof(*slot));
	memcpy(slot, rec, size);
	q->len++;
	return 0;
}

bool event_queue_pop(struct event_queue *q, union mt_event *out)
{
	if (!q->len)
		return false;
	*out = q->ring[q->head];
	q->head = (q->head + 1) & (q->cap - 1);
	q->len--;
	return true;
}

void event_queue_free(struct event_queue *q)
{
	free(q->ring);
	memset(q, 0, sizeof(*q));
}
