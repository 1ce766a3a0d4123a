// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Live heap bytes over time per process, kept in slots that widen as the trace grows. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "series.h"

int series_init(struct series_set *set, size_t max_slots)
{
	memset(set, 0, sizeof(*set));
	set->max_slots = max_slots < 2 ? 2 : max_slots;
	set->summary = memtrack_summary_new();
	return set->summary ? 0 : -ENOMEM;
}

void series_free(struct series_set *set)
{
	for (size_t i = 0; i < set->n; i++)
		free(set->series[i].slots);
	free(set->series);
	free(set->pid_keys);
	free(set->pid_vals);
	memtrack_summary_free(set->summary);
	memset(set, 0, sizeof(*set));
}

/* Grow *arr (of *cap elements of size) to hold at least need; new room is zeroed. */
static int grow(void *arr, size_t *cap, size_t need, size_t size)
{
	size_t n = *cap ? *cap : 16;
	void *p;

	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	p = realloc(*(void **)arr, n * size);
	if (!p)
		return -ENOMEM;
	memset((char *)p + *cap * size, 0, (n - *cap) * size);
	*(void **)arr = p;
	*cap = n;
	return 0;
}

static size_t pid_hash(const struct series_set *set, unsigned long long key)
{
	return (size_t)((key * 0x9e3779b97f4a7c15ull) >> 32) & (set->pid_cap - 1);
}

static bool pid_get(const struct series_set *set, pid_t pid, size_t *idx)
{
	unsigned long long key = (unsigned long long)pid + 1;

	if (!set->pid_cap)
		return false;
	for (size_t h = pid_hash(set, key); set->pid_keys[h]; h = (h + 1) & (set->pid_cap - 1))
		if (set->pid_keys[h] == key) {
			*idx = set->pid_vals[h];
			return true;
		}
	return false;
}

static void pid_insert(struct series_set *set, unsigned long long key, size_t idx)
{
	size_t h = pid_hash(set, key);

	while (set->pid_keys[h] && set->pid_keys[h] != key)
		h = (h + 1) & (set->pid_cap - 1);
	if (!set->pid_keys[h])
		set->pid_used++;
	set->pid_keys[h] = key;
	set->pid_vals[h] = idx;
}

/* pid's events go to series idx from now on (a reused pid is a new life). */
static int pid_put(struct series_set *set, pid_t pid, size_t idx)
{
	if ((set->pid_used + 1) * 2 > set->pid_cap) {
		unsigned long long *keys = set->pid_keys;
		size_t *vals = set->pid_vals, cap = set->pid_cap;

		set->pid_cap = cap ? cap * 2 : 64;
		set->pid_keys = calloc(set->pid_cap, sizeof(*keys));
		set->pid_vals = calloc(set->pid_cap, sizeof(*vals));
		if (!set->pid_keys || !set->pid_vals) {
			free(set->pid_keys);
			free(set->pid_vals);
			set->pid_keys = keys;
			set->pid_vals = vals;
			set->pid_cap = cap;
			return -ENOMEM;
		}
		set->pid_used = 0;
		for (size_t i = 0; i < cap; i++)
			if (keys[i])
				pid_insert(set, keys[i], vals[i]);
		free(keys);
		free(vals);
	}
	pid_insert(set, (unsigned long long)pid + 1, idx);
	return 0;
}

/* Slots twice as wide: neighbours merge, keeping their extremes and the later last value. */
static void coarsen(struct series_set *set)
{
	set->shift++;
	for (size_t i = 0; i < set->n; i++) {
		struct series *s = &set->series[i];
		size_t out = 0;

		for (size_t j = 0; j < s->n; j++) {
			struct slot v = s->slots[j];
			struct slot *prev = out ? &s->slots[out - 1] : NULL;

			v.k >>= 1;
			if (prev && prev->k == v.k) {
				prev->min = v.min < prev->min ? v.min : prev->min;
				prev->max = v.max > prev->max ? v.max : prev->max;
				prev->last = v.last;
			} else {
				s->slots[out++] = v;
			}
		}
		s->n = out;
	}
}

static int add_point(struct series_set *set, struct series *s, unsigned long long time,
		     unsigned long long live)
{
	unsigned long long rel = time > set->t0 ? time - set->t0 : 0, k;
	struct slot *last;

	/*
	 * The ring buffer is filled by every CPU, so a record may come a
	 * little after a later one: a process's series never goes back.
	 */
	if (s->n && rel < s->last_time)
		rel = s->last_time;
	if (rel > set->span)
		set->span = rel;
	while ((rel >> set->shift) >= set->max_slots)
		coarsen(set);
	k = rel >> set->shift;
	if (!s->n || live > s->peak) {
		s->peak = live;
		s->peak_time = rel;
	}
	s->last_time = rel;
	last = s->n ? &s->slots[s->n - 1] : NULL;
	if (last && last->k == k) {
		last->min = live < last->min ? live : last->min;
		last->max = live > last->max ? live : last->max;
		last->last = live;
		return 0;
	}
	if (grow(&s->slots, &s->cap, s->n + 1, sizeof(*s->slots)))
		return -ENOMEM;
	s->slots[s->n++] = (struct slot){ .k = k, .min = live, .max = live, .last = live };
	return 0;
}

int series_event(struct series_set *set, const union mt_event *ev)
{
	size_t known = memtrack_summary_count(set->summary), count, idx;
	int err = memtrack_summary_add(set->summary, ev);

	if (err)
		return err;
	/* The summary appends a process when it first sees it, or sees its pid live again. */
	count = memtrack_summary_count(set->summary);
	if (grow(&set->series, &set->cap, count, sizeof(*set->series)))
		return -ENOMEM;
	for (; known < count; known++)
		if (pid_put(set, memtrack_summary_proc(set->summary, known)->pid, known))
			return -ENOMEM;
	set->n = count;
	if (!set->events++)
		set->t0 = ev->hdr.timestamp;
	if (!pid_get(set, (pid_t)ev->hdr.pid, &idx))
		return -EINVAL; /* the summary accounted an event to no process */
	return add_point(set, &set->series[idx], ev->hdr.timestamp,
			 memtrack_summary_proc(set->summary, idx)->live_bytes);
}
