// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * memtrack_tee: several handlers as one. memtrack-load feeds its JSONL
 * writer, its summary and -T's printer so, from the tracker live; a
 * trace read back feeds them the same way.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>

#include "grow_array.h"
#include "memtrack.h"
#include "opts.h"

struct memtrack_tee {
	size_t n, cap;
	struct tee_member {
		struct memtrack_trace_handler h;
		int flags;
		int error; /* its first failure: it gets nothing more */
	} *to;
};

struct memtrack_tee *memtrack_tee_new(void)
{
	return calloc(1, sizeof(struct memtrack_tee));
}

int memtrack_tee_add(struct memtrack_tee *tee, const struct memtrack_trace_handler *h, int flags)
{
	struct tee_member m = { .flags = flags };

	if (!h || opts_copy(&m.h, sizeof(m.h), h) || (flags & ~MEMTRACK_TEE_STOP))
		return -EINVAL;
	if (GROW_ARRAY(tee->to, tee->n, tee->cap, 4))
		return -ENOMEM;
	tee->to[tee->n] = m;
	return (int)tee->n++;
}

int memtrack_tee_error(const struct memtrack_tee *tee, size_t i)
{
	return i < tee->n ? tee->to[i].error : 0;
}

void memtrack_tee_free(struct memtrack_tee *tee)
{
	if (!tee)
		return;
	free(tee->to);
	free(tee);
}

static int first_error(const struct memtrack_tee *tee)
{
	for (size_t i = 0; i < tee->n; i++)
		if (tee->to[i].error)
			return tee->to[i].error;
	return 0;
}

/*
 * Hand one record to each handler that has not failed, through its
 * member (a handler without it takes the record as done). A failure is
 * kept, and that handler gets nothing more; the tee fails at once if the
 * handler was added with MEMTRACK_TEE_STOP, else once all have failed.
 */
#define TEE_EACH(tee, member, ...)                                                       \
	do {                                                                             \
		size_t live_ = 0;                                                        \
		for (size_t i_ = 0; i_ < (tee)->n; i_++) {                               \
			struct tee_member *m_ = &(tee)->to[i_];                          \
			if (m_->error)                                                   \
				continue;                                                \
			if (m_->h.member) {                                              \
				int e_ = m_->h.member(m_->h.ctx, __VA_ARGS__);           \
				if (e_ < 0) {                                            \
					m_->error = e_;                                  \
					if (m_->flags & MEMTRACK_TEE_STOP)               \
						return e_;                               \
					continue;                                        \
				}                                                        \
			}                                                                \
			live_++;                                                         \
		}                                                                        \
		return live_ || !(tee)->n ? 0 : first_error(tee);                        \
	} while (0)

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

static int tee_header(void *ctx, const struct memtrack_header *h)
{
	TEE_EACH((struct memtrack_tee *)ctx, on_header, h);
}

static int tee_snapshot(void *ctx, unsigned long long timestamp)
{
	TEE_EACH((struct memtrack_tee *)ctx, on_snapshot, timestamp);
}

struct memtrack_trace_handler memtrack_tee_handler(struct memtrack_tee *tee)
{
	return (struct memtrack_trace_handler){
		.sz = sizeof(struct memtrack_trace_handler),
		.ctx = tee,
		.on_event = tee_event,
		.on_stack = tee_stack,
		.on_mapping = tee_mapping,
		.on_stats = tee_stats,
		.on_totals = tee_totals,
		.on_site = tee_site,
		.on_block = tee_block,
		.on_header = tee_header,
		.on_snapshot = tee_snapshot,
	};
}
