// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * memtrack_tee: several handlers as one. memtrack-load feeds its JSONL
 * writer, its summary and -T's printer so, from the tracker live; a
 * trace read back feeds them the same way.
 */
#include <errno.h>
#include <stddef.h>

#include "memtrack.h"

int memtrack_tee_add(struct memtrack_tee *tee, const struct memtrack_trace_handler *h)
{
	if (tee->n >= MEMTRACK_TEE_MAX)
		return -E2BIG;
	tee->to[tee->n] = *h;
	tee->error[tee->n] = 0;
	return (int)tee->n++;
}

/*
 * Hand one record to each handler that has not failed, through its
 * member (a handler without it takes the record as done). A failure is
 * kept, and that handler gets nothing more; the tee fails once all have.
 */
#define TEE_EACH(tee, member, ...)                                                       \
	do {                                                                             \
		size_t live_ = 0;                                                        \
		for (size_t i_ = 0; i_ < (tee)->n; i_++) {                               \
			const struct memtrack_trace_handler *h_ = &(tee)->to[i_];        \
			if ((tee)->error[i_])                                            \
				continue;                                                \
			if (h_->member) {                                                \
				int e_ = h_->member(h_->ctx, __VA_ARGS__);               \
				if (e_ < 0) {                                            \
					(tee)->error[i_] = e_;                           \
					continue;                                        \
				}                                                        \
			}                                                                \
			live_++;                                                         \
		}                                                                        \
		return live_ || !(tee)->n ? 0 : first_error(tee);                        \
	} while (0)

static int first_error(const struct memtrack_tee *tee)
{
	for (size_t i = 0; i < tee->n; i++)
		if (tee->error[i])
			return tee->error[i];
	return 0;
}

static int tee_event(void *ctx, const union mt_event *ev)
{
	TEE_EACH((struct memtrack_tee *)ctx, on_event, ev);
}

static int tee_stack(void *ctx, unsigned long long id, const struct mt_stack *st)
{
	TEE_EACH((struct memtrack_tee *)ctx, on_stack, id, st);
}

static int tee_mapping(void *ctx, pid_t pid, unsigned long long timestamp,
		       const struct memtrack_mapping *m)
{
	TEE_EACH((struct memtrack_tee *)ctx, on_mapping, pid, timestamp, m);
}

static int tee_stats(void *ctx, const struct memtrack_counters *c)
{
	TEE_EACH((struct memtrack_tee *)ctx, on_stats, c);
}

static int tee_totals(void *ctx, pid_t pid, unsigned long long timestamp,
		      const struct mt_proc_totals *t)
{
	TEE_EACH((struct memtrack_tee *)ctx, on_totals, pid, timestamp, t);
}

static int tee_site(void *ctx, pid_t pid, unsigned long long stack_id, const struct mt_site *v)
{
	TEE_EACH((struct memtrack_tee *)ctx, on_site, pid, stack_id, v);
}

static int tee_block(void *ctx, pid_t pid, unsigned long long addr, const struct mt_block *b)
{
	TEE_EACH((struct memtrack_tee *)ctx, on_block, pid, addr, b);
}

struct memtrack_trace_handler memtrack_tee_handler(struct memtrack_tee *tee)
{
	return (struct memtrack_trace_handler){
		.ctx = tee,
		.on_event = tee_event,
		.on_stack = tee_stack,
		.on_mapping = tee_mapping,
		.on_stats = tee_stats,
		.on_totals = tee_totals,
		.on_site = tee_site,
		.on_block = tee_block,
	};
}
