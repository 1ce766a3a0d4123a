// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * What a run amounts to: per-process heap accounting (the malloc_free
 * columns), every live block with its stack and birth time, allocation
 * totals per stack, the largest request of each process; and the stacks
 * and mappings needed to name those stacks. Fed through its handler, the
 * same way live and from a trace read back; the reports (report.c) read it.
 * The accounting follows THE ACCOUNTING RULES (R1..R9) of
 * bpf/memtrack_events.h, which report-only runs apply in the kernel.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "summary.h"
#include "grow_array.h"

struct memtrack_summary *memtrack_summary_new(void)
{
	return calloc(1, sizeof(struct memtrack_summary));
}

void memtrack_summary_set_sizes(struct memtrack_summary *s, unsigned long long min_size,
				unsigned long long max_size)
{
	s->min_size = min_size;
	s->max_size = max_size;
}

int memtrack_summary_set_debug_dirs(struct memtrack_summary *s, const char *dirs)
{
	char *copy = dirs ? strdup(dirs) : NULL;

	if (dirs && !copy)
		return -ENOMEM;
	free(s->debug_dirs);
	s->debug_dirs = copy;
	return 0;
}

struct symbolizer *summary_symbolizer(struct memtrack_summary *s)
{
	if (!s->sym)
		s->sym = symbolizer_new(s->debug_dirs);
	return s->sym;
}

uint64_t summary_end_time(const struct memtrack_summary *s, const struct proc_entry *e)
{
	return e->end_time ? e->end_time : s->last_time;
}

long long summary_wall_ns(const struct memtrack_summary *s, uint64_t mono)
{
	if (!s->have_anchor)
		return 0;
	/* unsigned: a time before the anchor, or a damaged one, wraps instead of overflowing */
	return (long long)((unsigned long long)s->anchor_wall_ns + (mono - s->anchor_mono));
}

void summary_live_each(const struct memtrack_summary *s, const struct proc_entry *e,
		       void (*fn)(void *ctx, const struct block *b, uint64_t age), void *ctx)
{
	uint64_t end = summary_end_time(s, e);

	for (size_t i = 0; i < e->live.cap; i++) {
		const struct block *b;

		if (!e->live.keys[i])
			continue;
		b = &s->blocks[e->live.vals[i] - 1];
		if (!b->filtered)
			fn(ctx, b, end > b->time ? end - b->time : 0);
	}
}

static struct proc_entry *new_entry(struct memtrack_summary *s, pid_t pid)
{
	struct proc_entry *e;
	uint64_t former = 0;

	if (GROW_ARRAY(s->procs, s->nprocs, s->cap, 16))
		return NULL;
	u64_map_get(&s->by_pid, (uint64_t)pid, &former);
	if (u64_map_put(&s->by_pid, (uint64_t)pid, s->nprocs + 1))
		return NULL;
	e = &s->procs[s->nprocs++];
	memset(e, 0, sizeof(*e));
	e->st.pid = pid;
	e->former_life = former;
	return e;
}

/* The entry of a pid; a new one if it was never seen or its last life has exited. */
static struct proc_entry *entry_of(struct memtrack_summary *s, pid_t pid, bool new_life)
{
	uint64_t idx;

	if (u64_map_get(&s->by_pid, (uint64_t)pid, &idx)) {
		struct proc_entry *e = &s->procs[idx - 1];

		if (!(new_life && e->st.exited))
			return e;
	}
	return new_entry(s, pid);
}

/*
 * The life of pid that had not exited yet at time (R11): what a
 * report-only run's kernel kept, read at the end, is matched to the lives
 * the stream's Fork and Exit records made. The last life if none.
 */
static struct proc_entry *entry_at(struct memtrack_summary *s, pid_t pid, uint64_t time)
{
	struct proc_entry *e = entry_of(s, pid, false);

	while (e && e->former_life) {
		struct proc_entry *former = &s->procs[e->former_life - 1];

		if (former->st.exited && former->end_time < time)
			break;
		e = former;
	}
	return e;
}

/* A block slot, reusing freed ones. Its index + 1, or 0 without memory. */
static uint64_t block_new(struct memtrack_summary *s)
{
	uint64_t idx;

	if (s->free_blocks) {
		idx = s->free_blocks;
		s->free_blocks = s->blocks[idx - 1].next_free;
		return idx;
	}
	if (GROW_ARRAY(s->blocks, s->nblocks, s->cap_blocks, 1024))
		return 0;
	return ++s->nblocks;
}

static void block_release(struct memtrack_summary *s, uint64_t idx)
{
	s->blocks[idx - 1].next_free = s->free_blocks;
	s->free_blocks = idx;
}

/* The allocation totals of (process, stack); NULL without memory. */
static struct site *site_of(struct memtrack_summary *s, size_t proc, uint64_t stack_id,
			    uint64_t time)
{
	uint64_t key = (stack_id * 0x9e3779b97f4a7c15ull) ^ (proc + 1), idx;

	if (!key)
		key = 1;
	/* on a collision of the mixed key, probe on */
	while (u64_map_get(&s->site_index, key, &idx)) {
		struct site *st = &s->sites[idx - 1];

		if (st->proc == proc && st->stack_id == stack_id)
			return st;
		key = key * 31 + 1;
	}
	struct proc_entry *e = &s->procs[proc];

	if (GROW_ARRAY(s->sites, s->nsites, s->cap_sites, 256) ||
	    GROW_ARRAY(e->site_list, e->nsite_list, e->site_list_cap, 16) ||
	    e->nsite_list >= UINT32_MAX)
		return NULL;
	if (u64_map_put(&s->site_index, key, s->nsites + 1))
		return NULL;
	s->sites[s->nsites] = (struct site){ .proc = proc,
					     .stack_id = stack_id,
					     .first = time,
					     .pos = (uint32_t)e->nsite_list };
	e->site_list[e->nsite_list++] = s->nsites;
	return &s->sites[s->nsites++];
}

static bool filtered(const struct memtrack_summary *s, uint64_t size)
{
	return size < s->min_size || (s->max_size && size > s->max_size);
}

/* A block's life is over: its bytes leave Real (R4, R6, R8). */
static void forget(struct memtrack_summary *s, struct proc_entry *e, uint64_t idx)
{
	struct block *b = &s->blocks[idx - 1];

	if (!b->filtered) {
		e->st.free_bytes += b->size;
		e->st.live_bytes -= b->size;
		e->st.live_blocks--;
	}
	if (!b->filtered && b->site) {
		struct site *site = &s->sites[b->site - 1];

		site->live_bytes -= b->size;
		site->live_count--;
		peak_change(s, e, site, -(int64_t)b->size, -1);
		if (e->timeline)
			timeline_note(e->timeline, s->last_time, e->st.live_bytes);
	}
	block_release(s, idx);
}

/* The program released the block at addr (R4, R5; R3 for a filtered one). */
static void release(struct memtrack_summary *s, struct proc_entry *e, uint64_t addr)
{
	uint64_t idx;

	if (!u64_map_take(&e->live, addr, &idx)) {
		e->st.frees++;
		e->st.unknown_frees++;
		return;
	}
	if (!s->blocks[idx - 1].filtered)
		e->st.frees++;
	forget(s, e, idx);
}

/*
 * A Realloc releases its old block (R4, R5), unless the block at that
 * address now was allocated since the realloc began: another thread got
 * the address after the realloc freed it, and ended the old block (R10).
 */
static void release_old(struct memtrack_summary *s, struct proc_entry *e,
			const struct mt_alloc_event *a)
{
	uint64_t idx;

	if (a->entered && u64_map_get(&e->live, a->old_addr, &idx) &&
	    s->blocks[idx - 1].time > a->entered) {
		if (s->blocks[idx - 1].displaced)
			e->st.frees++; /* the free R6 did not count, once */
		s->blocks[idx - 1].displaced = false;
		return;
	}
	release(s, e, a->old_addr);
}

/* The program got a block (R1, R2; R3 outside the size range; R6 over a live one). */
static int allocate(struct memtrack_summary *s, struct proc_entry *e,
		    const struct mt_alloc_event *a)
{
	size_t proc = (size_t)(e - s->procs);
	uint64_t idx;
	struct site *site;
	bool skip = filtered(s, a->size);

	bool displaced = false;

	/* Still live means its free was lost (or a realloc freed it, R10): that life is over now. */
	if (u64_map_take(&e->live, a->addr, &idx)) {
		displaced = !s->blocks[idx - 1].filtered;
		forget(s, e, idx);
	}
	idx = block_new(s);
	if (!idx || u64_map_put(&e->live, a->addr, idx))
		return -ENOMEM;
	e = &s->procs[proc];
	s->blocks[idx - 1] = (struct block){ .size = a->size,
					     .stack_id = a->stack_id,
					     .time = a->hdr.timestamp,
					     .filtered = skip,
					     .displaced = displaced };
	if (skip)
		return 0;
	e->st.allocs++;
	e->calls[a->func < MT_FN_MAX ? a->func : MT_FN_MALLOC]++;
	e->st.alloc_bytes += a->size;
	e->st.live_bytes += a->size;
	e->st.live_blocks++;
	if (a->size > e->st.max_request || !e->largest_time) {
		e->st.max_request = a->size;
		e->largest_stack = a->stack_id;
		e->largest_time = a->hdr.timestamp;
		e->largest_addr = a->addr;
	}
	site = site_of(s, proc, a->stack_id, a->hdr.timestamp);
	if (!site)
		return -ENOMEM;
	site->alloc_count++;
	site->alloc_bytes += a->size;
	site->live_count++;
	site->live_bytes += a->size;
	s->blocks[idx - 1].site = (uint64_t)(site - s->sites) + 1;
	peak_change(s, e, site, (int64_t)a->size, 1);
	if (!e->timeline)
		e->timeline = calloc(1, sizeof(*e->timeline));
	if (!e->timeline)
		return -ENOMEM;
	timeline_note(e->timeline, a->hdr.timestamp, e->st.live_bytes);
	if (e->st.live_bytes > e->st.peak_bytes) {
		e->st.peak_bytes = e->st.live_bytes;
		peak_reached(e, a->hdr.timestamp);
	}
	return 0;
}

/* What Fork, Exec and Exit say of a process: its name and its cgroup. */
static void set_identity(struct proc_entry *e, const struct mt_proc_event *p)
{
	const char *comm = p->comm;

	if (p->cgroup_id)
		e->st.cgroup_id = p->cgroup_id;
	memcpy(e->st.comm, comm, sizeof(e->st.comm));
	e->st.comm[sizeof(e->st.comm) - 1] = '\0';
}

/* exec replaced the image: every block of the old one is gone (R8). */
static void release_all(struct memtrack_summary *s, struct proc_entry *e)
{
	for (size_t i = 0; i < e->live.cap; i++)
		if (e->live.keys[i])
			forget(s, e, e->live.vals[i]);
	u64_map_clear(&e->live);
}

int memtrack_summary_add(struct memtrack_summary *s, const union mt_event *ev)
{
	const struct mt_alloc_event *a = &ev->alloc;
	const struct mt_proc_event *p = &ev->proc;
	struct proc_entry *e = entry_of(s, (pid_t)ev->hdr.pid, ev->hdr.type == MT_EV_FORK);

	if (!e)
		return -ENOMEM;
	if (ev->hdr.timestamp > s->last_time)
		s->last_time = ev->hdr.timestamp;
	if (!s->first_time || ev->hdr.timestamp < s->first_time)
		s->first_time = ev->hdr.timestamp;
	switch (ev->hdr.type) {
	case MT_EV_MALLOC:
	case MT_EV_CALLOC:
	case MT_EV_ALIGNED_ALLOC:
		return allocate(s, e, a);
	case MT_EV_REALLOC:
		if (a->old_addr)
			release_old(s, e, a);
		if (a->addr)
			return allocate(s, e, a);
		e->calls[a->func < MT_FN_MAX ? a->func : MT_FN_REALLOC]++; /* realloc(p, 0) */
		return 0;
	case MT_EV_FREE:
		e->calls[a->func < MT_FN_MAX ? a->func : MT_FN_FREE]++;
		release(s, e, a->addr);
		return 0;
	case MT_EV_FORK:
		e->st.ppid = (pid_t)p->ppid;
		set_identity(e, p);
		return 0;
	case MT_EV_EXEC:
		e->st.ppid = (pid_t)p->ppid;
		set_identity(e, p);
		release_all(s, e);
		/* its stacks from now on are in the new image */
		return as_exec(&s->spaces, e->st.pid, ev->hdr.timestamp);
	case MT_EV_EXIT:
		e->st.ppid = (pid_t)p->ppid;
		set_identity(e, p);
		e->st.exited = true;
		e->st.exit_status = p->exit_code;
		e->end_time = ev->hdr.timestamp;
		return 0;
	default:
		return 0;
	}
}

/*
 * A report-only run's snapshot begins: the totals, sites and blocks that
 * follow replace those imported before. Who the processes are (the
 * stream's Fork, Exec and Exit) and what names their stacks stay.
 */
static int start_snapshot(void *ctx, unsigned long long timestamp)
{
	struct memtrack_summary *s = ctx;

	(void)timestamp;
	for (size_t i = 0; i < s->nprocs; i++) {
		struct proc_entry *e = &s->procs[i];
		struct memtrack_proc_stats *st = &e->st;

		st->allocs = st->frees = st->alloc_bytes = st->free_bytes = 0;
		st->live_bytes = st->live_blocks = st->peak_bytes = st->max_request = 0;
		st->unknown_frees = 0;
		memset(e->calls, 0, sizeof(e->calls));
		e->largest_stack = e->largest_time = e->largest_addr = 0;
		u64_map_clear(&e->live);
	}
	for (size_t i = 0; i < s->nsites; i++)
		s->sites[i].alloc_count = s->sites[i].alloc_bytes = 0;
	s->nblocks = 0;
	s->free_blocks = 0;
	return 0;
}

/*
 * The handler's on_totals, on_site and on_block: what a report-only run's
 * kernel kept. Totals are read at read_at: blocks of a process still
 * running age until then.
 */
static int import_totals(void *ctx, pid_t pid, unsigned long long read_at,
			 const struct mt_proc_totals *t)
{
	struct memtrack_summary *s = ctx;
	struct proc_entry *e = entry_at(s, pid, t->image_time);

	if (!e)
		return -ENOMEM;
	if (read_at > s->last_time)
		s->last_time = read_at;
	e->aggregated = true;
	e->st.allocs += t->allocs;
	e->st.frees += t->frees;
	e->st.alloc_bytes += t->alloc_bytes;
	e->st.free_bytes += t->free_bytes;
	e->st.live_bytes += t->live_bytes;
	e->st.live_blocks += t->live_blocks;
	e->st.unknown_frees += t->unknown_frees;
	if (t->peak_bytes > e->st.peak_bytes)
		e->st.peak_bytes = t->peak_bytes;
	if (t->largest_time && (t->max_request > e->st.max_request || !e->largest_time)) {
		e->st.max_request = t->max_request;
		e->largest_stack = t->largest_stack;
		e->largest_time = t->largest_time;
		e->largest_addr = t->largest_addr;
	}
	for (size_t i = 0; i < MT_FN_MAX; i++)
		e->calls[i] += t->calls[i];
	return 0;
}

static int import_site(void *ctx, pid_t pid, unsigned long long stack_id, const struct mt_site *v)
{
	struct memtrack_summary *s = ctx;
	struct proc_entry *e = entry_at(s, pid, v->first_time);
	struct site *site;

	if (!e)
		return -ENOMEM;
	site = site_of(s, (size_t)(e - s->procs), stack_id, v->first_time);
	if (!site)
		return -ENOMEM;
	site->alloc_count += v->count;
	site->alloc_bytes += v->bytes;
	return 0;
}

static int import_block(void *ctx, pid_t pid, unsigned long long addr, const struct mt_block *b)
{
	struct memtrack_summary *s = ctx;
	struct proc_entry *e = entry_at(s, pid, b->time);
	size_t proc;
	struct site *site;
	uint64_t idx;

	if (!e)
		return -ENOMEM;
	proc = (size_t)(e - s->procs);
	idx = block_new(s);
	if (!idx || u64_map_put(&s->procs[proc].live, addr, idx))
		return -ENOMEM;
	/* its site's totals came with the sites; one lost to a full map starts at 0 */
	site = site_of(s, proc, b->stack_id, b->time);
	if (!site)
		return -ENOMEM;
	s->blocks[idx - 1] = (struct block){ .size = b->size,
					     .stack_id = b->stack_id,
					     .time = b->time,
					     .site = (uint64_t)(site - s->sites) + 1 };
	site->live_count++;
	site->live_bytes += b->size;
	return 0;
}

int memtrack_summary_stack(struct memtrack_summary *s, unsigned long long id,
			   const struct mt_stack *st)
{
	return stack_cache_put(&s->stacks, id, (const uint64_t *)st->ip, st->nr);
}

int memtrack_summary_mapping(struct memtrack_summary *s, pid_t pid, unsigned long long timestamp,
			     const struct memtrack_mapping *m)
{
	return as_add(&s->spaces, pid, m, timestamp);
}

void memtrack_summary_set_counters(struct memtrack_summary *s, const struct memtrack_counters *c)
{
	s->counters = *c;
	s->have_counters = true;
}

/* The summary as a handler: one adapter, for live tracers and traces read back alike. */
static int feed_stack(void *ctx, unsigned long long id, const struct mt_stack *st)
{
	return memtrack_summary_stack(ctx, id, st);
}

static int feed_mapping(void *ctx, pid_t pid, unsigned long long timestamp,
			const struct memtrack_mapping *m)
{
	return memtrack_summary_mapping(ctx, pid, timestamp, m);
}

static int feed_event(void *ctx, const union mt_event *ev)
{
	return memtrack_summary_add(ctx, ev);
}

/* The Header: the clock anchor and the command, for the profiles' times and names. */
static int feed_header(void *ctx, const struct memtrack_header *h)
{
	struct memtrack_summary *s = ctx;
	char *cmd = NULL;
	size_t len = 0;
	FILE *f;

	/* a damaged trace's clock is no clock (and must not overflow the sum) */
	s->have_anchor = h->realtime_sec >= 0 && h->realtime_sec < LLONG_MAX / 1000000000LL - 1 &&
			 h->realtime_nsec >= 0 && h->realtime_nsec < 1000000000L;
	s->anchor_mono = h->monotonic_ns;
	s->anchor_wall_ns = s->have_anchor ? h->realtime_sec * 1000000000LL + h->realtime_nsec : 0;
	if (!h->command || !h->command[0])
		return 0;
	f = open_memstream(&cmd, &len);
	if (!f)
		return -ENOMEM;
	for (size_t i = 0; h->command[i]; i++)
		fprintf(f, "%s%s", i ? " " : "", h->command[i]);
	if (fclose(f)) {
		free(cmd);
		return -ENOMEM;
	}
	free(s->command);
	s->command = cmd;
	return 0;
}

static int feed_stats(void *ctx, const struct memtrack_counters *c)
{
	memtrack_summary_set_counters(ctx, c);
	return 0;
}

struct memtrack_trace_handler memtrack_summary_handler(struct memtrack_summary *s)
{
	return (struct memtrack_trace_handler){
		.sz = sizeof(struct memtrack_trace_handler),
		.ctx = s,
		.on_event = feed_event,
		.on_stack = feed_stack,
		.on_mapping = feed_mapping,
		.on_stats = feed_stats,
		.on_totals = import_totals,
		.on_site = import_site,
		.on_block = import_block,
		.on_snapshot = start_snapshot,
		.on_header = feed_header,
	};
}

int memtrack_summary_read_trace(struct memtrack_summary *s, const char *path,
				struct memtrack_error *err)
{
	const struct memtrack_trace_handler h = memtrack_summary_handler(s);

	return memtrack_trace_read(path, &h, err);
}

size_t memtrack_summary_count(const struct memtrack_summary *s)
{
	return s->nprocs;
}

const struct memtrack_proc_stats *memtrack_summary_proc(const struct memtrack_summary *s, size_t i)
{
	return i < s->nprocs ? &s->procs[i].st : NULL;
}

void memtrack_summary_free(struct memtrack_summary *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nprocs; i++) {
		u64_map_free(&s->procs[i].live);
		free(s->procs[i].site_list);
		free(s->procs[i].timeline);
		peak_free(&s->procs[i].peak);
	}
	free(s->procs);
	u64_map_free(&s->by_pid);
	free(s->blocks);
	free(s->sites);
	u64_map_free(&s->site_index);
	stack_cache_free(&s->stacks);
	as_free(&s->spaces);
	symbolizer_free(s->sym);
	free(s->debug_dirs);
	free(s->command);
	free(s);
}
