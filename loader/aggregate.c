// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Report-only runs: the BPF side accounts allocations in maps
 * (bpf/aggregate.bpf.h) and this file sets that up and reads the maps into
 * a summary at the end, with the stacks and mappings that name them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "memtrack.skel.h"
#include "summary.h"
#include "tracker.h"

#define DEFAULT_MAX_LIVE (1u << 20)
/* Room for the totals of each (process, stack): stacks times a few processes sharing them. */
#define SITES_PER_STACK 4

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
	return err ?: bpf_map__set_max_entries(skel->maps.sites, (__u32)sites);
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

typedef int (*entry_fn)(struct memtrack_summary *s, struct memtrack *t, const void *key,
			const void *value);

/*
 * Call fn for each entry of a map. Read in batches, bucket by bucket: a
 * process still running may delete entries meanwhile, which would send a
 * get-next-key walk back to the start.
 */
static int map_each(struct memtrack *t, struct bpf_map *map, entry_fn fn,
		    struct memtrack_summary *s)
{
	size_t ksz = bpf_map__key_size(map), vsz = bpf_map__value_size(map);
	char *keys = malloc(BATCH * ksz), *values = malloc(BATCH * vsz);
	__u64 token[2] = { 0 }, next[2] = { 0 };
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	bool first = true, done = false;
	int err = keys && values ? 0 : -ENOMEM;

	while (!err && !done) {
		__u32 n = BATCH;

		err = bpf_map_lookup_batch(bpf_map__fd(map), first ? NULL : token, next, keys,
					   values, &n, &opts);
		if (err == -ENOENT) /* the last batch (maybe empty) */
			err = 0, done = true;
		if (err)
			break;
		for (__u32 i = 0; !err && i < n; i++)
			err = fn(s, t, keys + i * ksz, values + i * vsz);
		memcpy(token, next, sizeof(token));
		first = false;
	}
	free(keys);
	free(values);
	if (err && err != -ENOMEM)
		tracker_fail(t, MEMTRACK_ERR_BPF, err, "cannot read map %s: %s",
			     bpf_map__name(map), strerror(-err));
	return err;
}

/* Pass a stack on to the summary, the first time it is needed. */
static int pass_stack(struct memtrack_summary *s, struct memtrack *t, uint64_t id)
{
	struct mt_stack st;
	uint32_t nr;

	if (!id || stack_cache_get(&s->stacks, id, &nr) || memtrack_stack(t, id, &st))
		return 0; /* none, known already, or lost to a full map */
	return memtrack_summary_stack(s, id, &st);
}

static int take_totals(struct memtrack_summary *s, struct memtrack *t, const void *key,
		       const void *value)
{
	const struct mt_proc_totals *v = value;
	pid_t pid = (pid_t)*(const __u32 *)key;
	struct memtrack_mapping m;
	unsigned long long when;
	int err = summary_import_totals(s, pid, v);

	/* every mapping the process had: its stacks are named with them */
	for (size_t i = 0; !err && memtrack_mappings(t, pid, i, &m, &when, 1) == 1; i++)
		err = memtrack_summary_mapping(s, pid, when, &m);
	return err ?: pass_stack(s, t, v->largest_stack);
}

static int take_site(struct memtrack_summary *s, struct memtrack *t, const void *key,
		     const void *value)
{
	const struct mt_site_key *k = key;

	return summary_import_site(s, (pid_t)k->pid, k->stack_id, value) ?:
	       pass_stack(s, t, k->stack_id);
}

static int take_block(struct memtrack_summary *s, struct memtrack *t, const void *key,
		      const void *value)
{
	const struct mt_block_key *k = key;
	const struct mt_block *b = value;
	struct mt_proc_totals totals;
	__u32 pid = k->pid;

	if (b->filtered)
		return 0; /* kept only so its release would pair */
	if (bpf_map__lookup_elem(t->skel->maps.proc_totals, &pid, sizeof(pid), &totals,
				 sizeof(totals), 0) == 0 &&
	    b->time < totals.image_time)
		return 0; /* the image it belonged to was replaced by exec */
	return summary_import_block(s, (pid_t)pid, k->addr, b) ?: pass_stack(s, t, b->stack_id);
}

int memtrack_summary_collect(struct memtrack_summary *s, struct memtrack *t)
{
	struct memtrack_bpf *skel = t->skel;
	struct timespec now;
	uint64_t now_ns;
	int err;

	if (!skel->rodata->aggregate)
		return tracker_fail(t, MEMTRACK_ERR_USAGE, -EINVAL,
				    "memtrack_summary_collect() needs a tracker opened with aggregate");
	/* blocks of a process still running are aged against now */
	clock_gettime(CLOCK_MONOTONIC, &now);
	now_ns = (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
	if (now_ns > s->last_time)
		s->last_time = now_ns;
	/* totals first: they make the entries; then sites, so blocks find theirs */
	err = map_each(t, skel->maps.proc_totals, take_totals, s);
	err = err ?: map_each(t, skel->maps.sites, take_site, s);
	return err ?: map_each(t, skel->maps.live_blocks, take_block, s);
}
