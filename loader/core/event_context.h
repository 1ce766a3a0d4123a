/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What a handler of live records needs besides each event to make sense
 * of its stack later: the process's mappings and the stack's frames, each
 * passed on once, before the first event that needs it. The tracker keeps
 * one of these for its handler; a trace read back gives the records in
 * the same order, because the trace was written by such a handler.
 */
#ifndef MEMTRACK_EVENT_CONTEXT_H
#define MEMTRACK_EVENT_CONTEXT_H

#include "memtrack.h"
#include "u64_map.h"

struct event_context {
	struct u64_map stacks; /* stack id -> 1, once passed on */
	struct u64_map maps;   /* pid -> how many of its mappings were passed on */
};

/*
 * Before ev: h->on_mapping for the mappings of its process that t has and c
 * has not passed on yet, then h->on_stack for its stack, the first time.
 */
int event_context_pass(struct event_context *c, struct memtrack *t, const union mt_event *ev,
		       const struct memtrack_trace_handler *h);
/* The same, one part at a time: pid's mappings not passed yet; stack id (0: none) once. */
int event_context_pass_mappings(struct event_context *c, struct memtrack *t, pid_t pid,
				const struct memtrack_trace_handler *h);
int event_context_pass_stack(struct event_context *c, struct memtrack *t, uint64_t id,
			     const struct memtrack_trace_handler *h);
void event_context_free(struct event_context *c);

#endif /* MEMTRACK_EVENT_CONTEXT_H */
