/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A recorded stack as the reports show it: each of its addresses named
 * with the mappings its process had when the stack was taken, inlined
 * frames included; as text lines, as JSON, or frame by frame.
 */
#ifndef MEMTRACK_REPORT_STACK_H
#define MEMTRACK_REPORT_STACK_H

#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>

#include "summary.h"

/*
 * Called per source frame, innermost first, with the address and the
 * mapping it is in (NULL if none); a non-zero return stops the walk with it.
 */
typedef int (*report_frame_fn)(void *ctx, const struct sym_frame *f, uint64_t ip,
			       const struct memtrack_mapping *m);

/*
 * Walk the frames of stack_id, taken in pid at time. -ENOENT if the stack
 * is unknown (no stacks were taken, or it was dropped), -ENOMEM.
 */
int report_stack_each(struct memtrack_summary *s, pid_t pid, uint64_t stack_id, uint64_t time,
		      report_frame_fn fn, void *ctx);

/*
 * The stack's location, as a person reads it: a hash of each frame's
 * function and file:line (the function alone without line information),
 * or its module and offset where there is no symbol. Stacks that differ
 * only in return addresses within the same lines (an unrolled loop's
 * calls) have the same location; 0 for an unknown stack.
 */
int report_stack_location(struct memtrack_summary *s, pid_t pid, uint64_t stack_id, uint64_t time,
			  uint64_t *location);

/* One line per frame, each after indent; "<no stack>" for an unknown one. */
int report_stack_text(struct memtrack_summary *s, pid_t pid, uint64_t stack_id, uint64_t time,
		      const char *indent, FILE *out);

/* [{ "ip", "function", "offset", "file", "line", "module", "inlined" }...]; NULL without memory. */
struct json_object *report_stack_json(struct memtrack_summary *s, pid_t pid, uint64_t stack_id,
				      uint64_t time);

#endif /* MEMTRACK_REPORT_STACK_H */
