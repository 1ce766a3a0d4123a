// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <string.h>

#include "event_context.h"

int event_context_pass_mappings(struct event_context *c, struct memtrack *t, pid_t pid,
				const struct memtrack_trace_handler *h)
{
	struct memtrack_mapping m;
	unsigned long long when;
	uint64_t passed = 0;
	int err;

	u64_map_get(&c->maps, (uint64_t)pid, &passed);
	while (memtrack_mappings(t, pid, passed, &m, &when, 1) == 1) {
		err = h->on_mapping ? h->on_mapping(h->ctx, pid, when, &m) : 0;
		if (err || (err = u64_map_put(&c->maps, (uint64_t)pid, ++passed)))
			return err;
	}
	return 0;
}

int event_context_pass_stack(struct event_context *c, struct memtrack *t, uint64_t id,
			     const struct memtrack_trace_handler *h)
{
	struct mt_stack st;
	uint64_t passed;
	int err;

	/* none, passed already, or lost to a full map */
	if (!id || u64_map_get(&c->stacks, id, &passed) || memtrack_stack(t, id, &st))
		return 0;
	err = h->on_stack ? h->on_stack(h->ctx, id, &st) : 0;
	return err ? err : u64_map_put(&c->stacks, id, 1);
}

int event_context_pass(struct event_context *c, struct memtrack *t, const union mt_event *ev,
		       const struct memtrack_trace_handler *h)
{
	const struct mt_alloc_event *e = &ev->alloc;
	int err;

	if (!mt_is_alloc_event(ev->hdr.type) || !e->stack_id)
		return 0;
	err = event_context_pass_mappings(c, t, (pid_t)e->hdr.pid, h);
	return err ? err : event_context_pass_stack(c, t, e->stack_id, h);
}

void event_context_free(struct event_context *c)
{
	u64_map_free(&c->stacks);
	u64_map_free(&c->maps);
	memset(c, 0, sizeof(*c));
}
