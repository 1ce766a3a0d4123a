// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Report-only runs: the BPF side accounts allocations in maps
 * (bpf/aggregate.bpf.h); this file sets that up and, at the end, hands
 * what the maps hold to the tracker's handler, with the stacks and
 * mappings that name it (the summary's handler imports it).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "memtrack.skel.h"
#include "monotonic.h"
#include "tracker.h"

#define DEFAULT_MAX_LIVE (1u << 20)
/* Room for the totals of each (process, stack): stacks times a few processes sharing them. */
#define SITES_PER_STACK 4
/*
 * Totals are kept per process life, and kept after it exits, for the
 * report: room for this many lives (a run of more processes loses the
 * totals of the later ones, counted as map_full drops).
 */
#define MAX_LIVES (1u << 17)

int aggregate_setup(struct memtrack *t, const struct memtrack_opts *opts)
{
	struct memtrack_bpf *skel = t->skel;
	unsigned long long sites = (unsigned long long)t->max_stacks * SITES_PER_STACK;
	int err;

	skel->rodata->aggregate = opts->aggregate;
	skel->rodata->min_size = opts->min_size;
	skel->rodata->max_size = opts->max_size;
	if (!opts->aggregate) /* the maps stay empty: the smallest they can be */
		return bpf_map__set_max_entries(skel->maps.live_blocks, 1) ?:
		       bpf_map__set_max_entries(skel->maps.sites, 1) ?:
		       bpf_map__set_max_entries(skel->maps.proc_totals, 1);
	if (sites < 65536)
		sites = 65536;
	if (sites > 1u << 24)
		sites = 1u << 24;
	err = bpf_map__set_max_entries(skel->maps.live_blocks,
				       opts->max_live ? opts->max_live : DEFAULT_MAX_LIVE);
	return err ?: bpf_map__set_max_entries(skel->maps.sites, (__u32)sites) ?:
		      bpf_map__set_max_entries(skel->maps.proc_totals, MAX_LIVES);
}

int aggregate_fill(struct memtrack *t, unsigned long long *peak, unsigned long long *max)
{
	__u32 key = 1;
	__u64 v = 0;
	int err = bpf_map__lookup_elem(t->skel->maps.live_fill, &key, sizeof(key), &v, sizeof(v), 0);

	if (err)
		return tracker_fail(t, MEMTRACK_ERR_BPF, err, "cannot read the live blocks' fill: %s",
				    strerror(-err));
	*peak = v;
	*max = bpf_map__max_entries(t->skel->maps.live_blocks);
	return 0;
}

#define BATCH 4096

/* One entry of a map, handed on to the handler; read_at: when the maps were read. */
struct push {
	struct memtrack *t;
	uint64_t read_at;
};

typedef int (*entry_fn)(const struct push *p, const void *key, const void *value);

/*
 * Call fn for each entry of a map. Read in batches, bucket by bucket: a
 * process still running may delete entries meanwhile, which would send a
 * get-next-key walk back to the start.
 */
static int map_each(const struct push *p, struct bpf_map *map, entry_fn fn)
{
	size_t ksz = bpf_map__key_size(map), vsz = bpf_map__value_size(map);
	char *keys = malloc(BATCH * ksz), *values = malloc(BATCH * vsz);
	__u64 token[2] = { 0 }, next[2] = { 0 };
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	bool first = true, done = false, read_error = false;
	int err = keys && values ? 0 : -ENOMEM;

	while (!err && !done) {
		__u32 n = BATCH;

		err = bpf_map_lookup_batch(bpf_map__fd(map), first ? NULL : token, next, keys,
					   values, &n, &opts);
		if (err == -ENOENT) /* the last batch (maybe empty) */
			err = 0, done = true;
		if (err) {
			read_error = true;
			break;
		}
		for (__u32 i = 0; !err && i < n; i++)
			err = fn(p, keys + i * ksz, values + i * vsz);
		memcpy(token, next, sizeof(token));
		first = false;
	}
	free(keys);
	free(values);
	if (read_error)
		return tracker_fail(p->t, MEMTRACK_ERR_BPF, err, "cannot read map %s: %s",
				    bpf_map__name(map), strerror(-err));
	if (err && err != -ENOMEM)
		tracker_fail(p->t, MEMTRACK_ERR_RUNTIME, err, "the handler failed on map %s: %s",
			     bpf_map__name(map), strerror(-err));
	return err;
}

static int push_totals(const struct push *p, const void *key, const void *value)
{
	struct memtrack *t = p->t;
	const struct mt_proc_totals *v = value;
	pid_t pid = (pid_t)((const struct mt_life_key *)key)->pid;
	const struct memtrack_trace_handler *h = &t->handler;

	/* every mapping the process had, and its largest request's stack, name what follows */
	int err = event_context_pass_mappings(&t->passed, t, pid, h) ?:
		  event_context_pass_stack(&t->passed, t, v->largest_stack, h);

	return err ?: h->on_totals ? h->on_totals(h->ctx, pid, p->read_at, v) : 0;
}

static int push_site(const struct push *p, const void *key, const void *value)
{
	const struct mt_site_key *k = key;
	const struct memtrack_trace_handler *h = &p->t->handler;
	int err = event_context_pass_stack(&p->t->passed, p->t, k->stack_id, h);

	return err ?: h->on_site ? h->on_site(h->ctx, (pid_t)k->pid, k->stack_id, value) : 0;
}

static int push_block(const struct push *p, const void *key, const void *value)
{
	const struct mt_block_key *k = key;
	const struct mt_block *b = value;
	const struct memtrack_trace_handler *h = &p->t->handler;
	struct mt_life_key life = { .pid = k->pid, .life = k->life };
	struct mt_proc_totals totals;
	int err;

	if (b->filtered)
		return 0; /* kept only so its release would pair */
	if (bpf_map__lookup_elem(p->t->skel->maps.proc_totals, &life, sizeof(life), &totals,
				 sizeof(totals), 0) == 0 &&
	    b->time < totals.image_time)
		return 0; /* the image it belonged to was replaced by exec */
	err = event_context_pass_stack(&p->t->passed, p->t, b->stack_id, h);
	return err ?: h->on_block ? h->on_block(h->ctx, (pid_t)k->pid, k->addr, b) : 0;
}

int aggregate_push(struct memtrack *t, bool totals_only)
{
	struct memtrack_bpf *skel = t->skel;
	const struct memtrack_trace_handler *h = &t->handler;
	/* blocks of a process still running are aged against now */
	struct push p = { t, monotonic_ns() };
	int err = 0;

	if (h->on_snapshot)
		err = h->on_snapshot(h->ctx, p.read_at);
	if (err)
		return tracker_fail(t, MEMTRACK_ERR_RUNTIME, err, "the handler failed: %s",
				    strerror(-err));
	/* totals first: they make the entries; then sites, so blocks find theirs */
	err = map_each(&p, skel->maps.proc_totals, push_totals);
	if (totals_only)
		return err;
	err = err ?: map_each(&p, skel->maps.sites, push_site);
	return err ?: map_each(&p, skel->maps.live_blocks, push_block);
}
