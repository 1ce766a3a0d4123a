// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <string.h>

#include "event_context.h"

int event_context_pass(struct event_context *c, struct memtrack *t, const union mt_event *ev,
		       const struct memtrack_trace_handler *h)
{
	const struct mt_alloc_event *e = &ev->alloc;
	struct memtrack_mapping m;
	unsigned long long when;
	struct mt_stack st;
	uint64_t passed = 0;
	int err;

	if (!mt_is_alloc_event(ev->hdr.type) || !e->stack_id)
		return 0;
	u64_map_get(&c->maps, e->hdr.pid, &passed);
	while (memtrack_mappings(t, (pid_t)e->hdr.pid, passed, &m, &when, 1) == 1) {
		err = h->on_mapping ? h->on_mapping(h->ctx, (pid_t)e->hdr.pid, when, &m) : 0;
		if (err || (err = u64_map_put(&c->maps, e->hdr.pid, ++passed)))
			return err;
	}
	if (u64_map_get(&c->stacks, e->stack_id, &passed) || memtrack_stack(t, e->stack_id, &st))
		return 0;
	err = h->on_stack ? h->on_stack(h->ctx, e->stack_id, &st) : 0;
	return err ? err : u64_map_put(&c->stacks, e->stack_id, 1);
}

void event_context_free(struct event_context *c)
{
	u64_map_free(&c->stacks);
	u64_map_free(&c->maps);
	memset(c, 0, sizeof(*c));
}
