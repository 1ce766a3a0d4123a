// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "grow_array.h"
#include "peak.h"
#include "summary.h"

/* The peak's values of e's sites, from the current ones minus the log since the peak. */
static void peak_values(const struct memtrack_summary *s, const struct proc_entry *e,
			struct peak_value *v)
{
	const struct peak_state *p = &e->peak;

	for (size_t i = 0; i < e->nsite_list; i++) {
		const struct site *site = &s->sites[e->site_list[i]];

		v[i] = (struct peak_value){ site->live_bytes, site->live_count };
	}
	for (size_t i = p->nlog; i-- > 0;) {
		v[p->log[i].pos].bytes -= (uint64_t)p->log[i].bytes;
		v[p->log[i].pos].count -= (uint64_t)(int64_t)p->log[i].count;
	}
}

/* The log is long enough: compute the peak's values once, and log no more until the next peak. */
static void snap(struct memtrack_summary *s, struct proc_entry *e)
{
	struct peak_state *p = &e->peak;

	if (RESERVE_ARRAY(p->snap, e->nsite_list, p->snap_cap, 64)) {
		p->lost = true;
		return;
	}
	peak_values(s, e, p->snap);
	p->nsnap = e->nsite_list;
	p->snapped = true;
	p->nlog = 0;
}

void peak_change(struct memtrack_summary *s, struct proc_entry *e, const struct site *site,
		 int64_t bytes, int32_t count)
{
	struct peak_state *p = &e->peak;
	size_t bound = 2 * e->nsite_list > PEAK_LOG_MIN ? 2 * e->nsite_list : PEAK_LOG_MIN;

	if (p->snapped || p->lost || !p->reached)
		return; /* the peak is kept already, cannot be, or has not come yet */
	if (GROW_ARRAY(p->log, p->nlog, p->log_cap, 256)) {
		p->lost = true;
		return;
	}
	/* logged first: the site's values include this change already */
	p->log[p->nlog++] = (struct peak_change){ site->pos, count, bytes };
	if (p->nlog >= bound)
		snap(s, e);
}

void peak_reached(struct proc_entry *e, uint64_t time)
{
	e->peak.reached = true;
	e->peak.time = time;
	e->peak.nlog = 0;
	e->peak.snapped = false;
}

void peak_free(struct peak_state *p)
{
	free(p->log);
	free(p->snap);
	memset(p, 0, sizeof(*p));
}

static int stack_cmp(const void *pa, const void *pb)
{
	const struct peak_stack *a = pa, *b = pb;

	if (a->bytes != b->bytes)
		return a->bytes > b->bytes ? -1 : 1;
	if (a->count != b->count)
		return a->count > b->count ? -1 : 1;
	return a->site < b->site ? -1 : a->site > b->site;
}

int peak_stacks(const struct memtrack_summary *s, const struct proc_entry *e,
		struct peak_stack **out, size_t *n)
{
	const struct peak_state *p = &e->peak;
	struct peak_value *v;
	size_t k = 0;

	*out = NULL;
	*n = 0;
	if (p->lost)
		return -ENODATA;
	if (!e->nsite_list)
		return 0;
	v = calloc(e->nsite_list, sizeof(*v));
	*out = calloc(e->nsite_list, sizeof(**out));
	if (!v || !*out) {
		free(v);
		free(*out);
		*out = NULL;
		return -ENOMEM;
	}
	if (p->snapped && p->nsnap) /* sites made since the snapshot had nothing live at the peak */
		memcpy(v, p->snap, p->nsnap * sizeof(*v));
	else
		peak_values(s, e, v);
	for (size_t i = 0; i < e->nsite_list; i++)
		if (v[i].count || v[i].bytes)
			(*out)[k++] = (struct peak_stack){ e->site_list[i], v[i].bytes, v[i].count };
	free(v);
	*n = k;
	qsort(*out, k, sizeof(**out), stack_cmp);
	return 0;
}
