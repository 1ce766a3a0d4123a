// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>

#include "leaks.h"
#include "report_stack.h"

static int leak_cmp(const void *pa, const void *pb)
{
	const struct leak *a = pa, *b = pb;

	if (a->bytes != b->bytes)
		return a->bytes > b->bytes ? -1 : 1;
	if (a->count != b->count)
		return a->count > b->count ? -1 : 1;
	if (a->proc != b->proc)
		return a->proc < b->proc ? -1 : 1;
	return a->stack_id < b->stack_id ? -1 : a->stack_id > b->stack_id;
}

struct collect {
	struct leaks *l;
	uint64_t min_age;
};

/* Add one live block to the group of its site (the same process and stack). */
static void add_block(void *ctx, const struct block *b, uint64_t age)
{
	struct collect *c = ctx;
	struct leak *k;

	if (age < c->min_age || !b->site)
		return; /* too young, or its site could not be recorded */
	k = &c->l->v[b->site - 1];
	if (!k->count || b->time < k->first_time)
		k->first_time = b->time;
	k->bytes += b->size;
	k->count++;
	if (age < k->min_age)
		k->min_age = age;
	if (age > k->max_age)
		k->max_age = age;
	c->l->bytes += b->size;
	c->l->blocks++;
}

int leaks_collect(const struct memtrack_summary *s, uint64_t min_age, struct leaks *l)
{
	struct collect c = { l, min_age };
	size_t n = 0;

	/* One slot per site, then compacted: a block's group is its site. */
	l->v = calloc(s->nsites ? s->nsites : 1, sizeof(*l->v));
	if (!l->v)
		return -ENOMEM;
	for (size_t i = 0; i < s->nsites; i++)
		l->v[i] = (struct leak){ .proc = s->sites[i].proc,
					 .stack_id = s->sites[i].stack_id,
					 .min_age = UINT64_MAX,
					 .stacks = 1 };
	for (size_t p = 0; p < s->nprocs; p++)
		summary_live_each(s, &s->procs[p], add_block, &c);
	for (size_t i = 0; i < s->nsites; i++)
		if (l->v[i].count)
			l->v[n++] = l->v[i];
	l->n = n;
	qsort(l->v, l->n, sizeof(*l->v), leak_cmp);
	return 0;
}

/* By process, then location, then most bytes first: the group's own stack leads it. */
static int location_cmp(const void *pa, const void *pb)
{
	const struct leak *a = pa, *b = pb;

	if (a->proc != b->proc)
		return a->proc < b->proc ? -1 : 1;
	if (a->location != b->location)
		return a->location < b->location ? -1 : 1;
	return leak_cmp(pa, pb);
}

int leaks_by_location(struct memtrack_summary *s, struct leaks *l)
{
	size_t n = 0;

	for (size_t i = 0; i < l->n; i++) {
		struct leak *k = &l->v[i];
		int err = report_stack_location(s, s->procs[k->proc].st.pid, k->stack_id,
						k->first_time, &k->location);

		if (err)
			return err;
		if (!k->location) /* no stack: only its own stack id groups it */
			k->location = k->stack_id;
	}
	qsort(l->v, l->n, sizeof(*l->v), location_cmp);
	for (size_t i = 0; i < l->n; i++) {
		struct leak *into = n ? &l->v[n - 1] : NULL, *k = &l->v[i];

		if (!into || into->proc != k->proc || into->location != k->location) {
			l->v[n++] = *k;
			continue;
		}
		into->bytes += k->bytes;
		into->count += k->count;
		into->stacks += k->stacks;
		if (k->first_time < into->first_time)
			into->first_time = k->first_time;
		if (k->min_age < into->min_age)
			into->min_age = k->min_age;
		if (k->max_age > into->max_age)
			into->max_age = k->max_age;
	}
	l->n = n;
	qsort(l->v, l->n, sizeof(*l->v), leak_cmp);
	return 0;
}

void leaks_free(struct leaks *l)
{
	free(l->v);
	*l = (struct leaks){ 0 };
}

int memtrack_summary_leaked(const struct memtrack_summary *s, unsigned long long min_age_ns,
			    unsigned long long *bytes, unsigned long long *blocks)
{
	struct leaks l = { 0 };
	int err = leaks_collect(s, min_age_ns, &l);

	*bytes = err ? 0 : l.bytes;
	*blocks = err ? 0 : l.blocks;
	leaks_free(&l);
	return err;
}
