/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Report-only runs: the kernel keeps the accounting instead of streaming
 * every allocation (the records are in memtrack_events.h).
 *
 * The rules are THE ACCOUNTING RULES in memtrack_events.h, which
 * loader/report/summary.c applies to a stream too, so that a report is the same
 * whichever way its numbers came (R1..R9 below name them).
 *
 * Threads of one process update its totals from several CPUs at once, so
 * counters are atomic adds; the peak and the largest request are updated
 * with compare-and-swap, and the largest request's stack and address may
 * belong to a request of the same size made at the same moment.
 *
 * Included by memtrack.bpf.c after its maps and counting helpers.
 */
#ifndef MEMTRACK_AGGREGATE_BPF_H
#define MEMTRACK_AGGREGATE_BPF_H

const volatile bool aggregate = false;
/* Only these sizes count (0: no bound); the others are followed to pair their frees. */
const volatile __u64 min_size = 0;
const volatile __u64 max_size = 0;

/* Live blocks. Size set by user space (--max-live); full: a counted drop. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1 << 20);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct mt_block_key);
	__type(value, struct mt_block);
} live_blocks SEC(".maps");

/* Totals per (process, stack). Size set by user space. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct mt_site_key);
	__type(value, struct mt_site);
} sites SEC(".maps");

/* Totals per process life (R11). Size set by user space. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 32768);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct mt_life_key);
	__type(value, struct mt_proc_totals);
} proc_totals SEC(".maps");

/* [0]: entries in live_blocks now; [1]: the most there were. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} live_fill SEC(".maps");

/* Raise *p to v unless another CPU raised it further; a few tries bound the loop. */
static __always_inline void atomic_max(__u64 *p, __u64 v)
{
	for (int i = 0; i < 4; i++) {
		__u64 old = *(volatile __u64 *)p;

		if (v <= old || __sync_val_compare_and_swap(p, old, v) == old)
			return;
	}
}

static __always_inline void fill_add(long n)
{
	__u32 now = 0, peak = 1;
	__u64 *cur = bpf_map_lookup_elem(&live_fill, &now), *max;

	if (!cur)
		return;
	if (n < 0) {
		__sync_fetch_and_sub(cur, 1);
		return;
	}
	max = bpf_map_lookup_elem(&live_fill, &peak);
	if (max)
		atomic_max(max, __sync_fetch_and_add(cur, 1) + 1);
}

/* The value under key, made (zeroed, from zero) if it is not there yet; NULL if it cannot be. */
static __always_inline void *lookup_or_make(void *map, const void *key, const void *zero)
{
	void *v = bpf_map_lookup_elem(map, key);
	long err;

	if (v)
		return v;
	err = bpf_map_update_elem(map, key, zero, BPF_NOEXIST);
	if (err && err != -EEXIST) {
		count_update_error(err);
		return NULL;
	}
	return bpf_map_lookup_elem(map, key);
}

/* A life's totals, made at its first call: image_time then tells its blocks from older ones. */
static __always_inline struct mt_proc_totals *totals_of(const struct mt_life_key *lk)
{
	static const struct mt_proc_totals zero;
	struct mt_proc_totals *t = lookup_or_make(&proc_totals, lk, &zero);

	if (t && !t->image_time)
		__sync_val_compare_and_swap(&t->image_time, 0, bpf_ktime_get_ns());
	return t;
}

static __always_inline void count_call(struct mt_proc_totals *t, __u32 func)
{
	/* one register for the check and the index: else clang may test one copy, index with another */
	asm volatile("" : "+r"(func));
	if (func < MT_FN_MAX)
		__sync_fetch_and_add(&t->calls[func], 1);
}

/* A block's life is over: its bytes leave the live total. */
static __always_inline void agg_forget(struct mt_proc_totals *t, __u64 size, bool filtered)
{
	if (filtered)
		return;
	__sync_fetch_and_add(&t->free_bytes, size);
	__sync_fetch_and_sub(&t->live_bytes, size);
	__sync_fetch_and_sub(&t->live_blocks, 1);
}

/* The program released the block at addr. */
static __always_inline void agg_release(struct mt_proc_totals *t, const struct mt_life_key *lk,
					__u64 addr)
{
	struct mt_block_key k = { .pid = lk->pid, .life = lk->life, .addr = addr };
	struct mt_block *b = bpf_map_lookup_elem(&live_blocks, &k);
	bool known = b && b->time >= t->image_time;
	bool filtered = b && b->filtered;
	__u64 size = b ? b->size : 0;

	if (b && bpf_map_delete_elem(&live_blocks, &k) == 0)
		fill_add(-1);
	if (!known) {
		__sync_fetch_and_add(&t->frees, 1);
		__sync_fetch_and_add(&t->unknown_frees, 1);
		return;
	}
	if (!filtered)
		__sync_fetch_and_add(&t->frees, 1);
	agg_forget(t, size, filtered);
}

static __always_inline void agg_site(const struct mt_life_key *lk, __u64 stack_id, __u64 size,
				     __u64 now)
{
	static const struct mt_site zero;
	struct mt_site_key k = { .pid = lk->pid, .life = lk->life, .stack_id = stack_id };
	struct mt_site *s = lookup_or_make(&sites, &k, &zero);

	if (!s)
		return;
	__sync_fetch_and_add(&s->count, 1);
	__sync_fetch_and_add(&s->bytes, size);
	if (!s->first_time)
		__sync_val_compare_and_swap(&s->first_time, 0, now);
}

/* The program got size bytes at addr. */
static __always_inline void agg_allocate(struct mt_proc_totals *t, const struct mt_life_key *lk,
					 __u32 func, __u64 addr, __u64 size, __u64 stack_id)
{
	struct mt_block_key k = { .pid = lk->pid, .life = lk->life, .addr = addr };
	struct mt_block *old = bpf_map_lookup_elem(&live_blocks, &k);
	bool skip = size < min_size || (max_size && size > max_size);
	struct mt_block b = {
		.size = size,
		.stack_id = stack_id,
		.time = bpf_ktime_get_ns(),
		.filtered = skip,
		.func = func,
	};
	__u64 live;
	long err;

	/* Still live means its free was lost (or a realloc freed it, R10): that life is over now. */
	if (old && old->time >= t->image_time) {
		agg_forget(t, old->size, old->filtered);
		b.displaced = !old->filtered;
	}
	err = bpf_map_update_elem(&live_blocks, &k, &b, BPF_ANY);
	if (err) {
		count_update_error(err); /* the allocation is lost, as a dropped event is */
		if (old && bpf_map_delete_elem(&live_blocks, &k) == 0)
			fill_add(-1);
		return;
	}
	if (!old)
		fill_add(1);
	if (skip)
		return;
	__sync_fetch_and_add(&t->allocs, 1);
	count_call(t, func);
	__sync_fetch_and_add(&t->alloc_bytes, size);
	__sync_fetch_and_add(&t->live_blocks, 1);
	live = __sync_fetch_and_add(&t->live_bytes, size) + size;
	atomic_max(&t->peak_bytes, live);
	if (!t->largest_time || size > t->max_request) {
		t->max_request = size;
		t->largest_stack = stack_id;
		t->largest_time = b.time;
		t->largest_addr = addr;
	}
	agg_site(lk, stack_id, size, b.time);
}

/*
 * A realloc that began at entered releases its old block at addr, unless
 * the block there now was allocated since: then another thread got the
 * address after the realloc freed it, and ended the old block (R10).
 */
static __always_inline void agg_release_old(struct mt_proc_totals *t,
					    const struct mt_life_key *lk, __u64 addr, __u64 entered)
{
	struct mt_block_key k = { .pid = lk->pid, .life = lk->life, .addr = addr };
	struct mt_block *b = bpf_map_lookup_elem(&live_blocks, &k);

	if (b && entered && b->time > entered) {
		/* the free R6 did not count, once */
		if (__sync_val_compare_and_swap(&b->displaced, 1, 0) == 1)
			__sync_fetch_and_add(&t->frees, 1);
		return;
	}
	agg_release(t, lk, addr);
}

/* One allocation event, accounted here instead of streamed (the event's own fields). */
static __always_inline void agg_event(__u32 type, __u32 func, __u64 addr, __u64 size,
				      __u64 old_addr, __u64 entered, __u32 pid, __u32 life,
				      __u64 stack_id)
{
	struct mt_life_key lk = { .pid = pid, .life = life };
	struct mt_proc_totals *t = totals_of(&lk);

	if (!t)
		return;
	switch (type) {
	case MT_EV_FREE:
		count_call(t, func);
		agg_release(t, &lk, addr);
		return;
	case MT_EV_REALLOC:
		if (old_addr)
			agg_release_old(t, &lk, old_addr, entered);
		if (!addr) {
			count_call(t, func); /* realloc(p, 0) */
			return;
		}
		break;
	}
	agg_allocate(t, &lk, func, addr, size, stack_id);
}

/* exec: every block of the old image is released; the process's totals go on. */
static __always_inline void agg_exec(__u32 pid, __u64 now)
{
	struct mt_life_key lk = { .pid = pid, .life = life_of(pid) };
	struct mt_proc_totals *t = bpf_map_lookup_elem(&proc_totals, &lk);
	__u64 live;

	if (!aggregate || !t)
		return;
	live = __sync_fetch_and_and(&t->live_bytes, 0);
	__sync_fetch_and_add(&t->free_bytes, live);
	__sync_fetch_and_and(&t->live_blocks, 0);
	t->image_time = now;
}

#endif /* MEMTRACK_AGGREGATE_BPF_H */
