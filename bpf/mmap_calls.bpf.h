/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * --mmap: memory that bypasses malloc. Anonymous mmap, mremap, munmap of
 * anonymous memory, and brk, from the system-call tracepoints of traced
 * processes: the arguments are kept at entry, the event is made at exit,
 * failed or not (its errno in err). File mappings are not heap and are
 * left out. The programs are loaded only when asked for.
 *
 * Included by memtrack.bpf.c after its maps and helpers.
 */
#ifndef MEMTRACK_MMAP_CALLS_BPF_H
#define MEMTRACK_MMAP_CALLS_BPF_H

#define MAP_ANONYMOUS 0x20
#define MAX_ERRNO 4095

/* A system call in flight on a thread: what its exit needs. */
struct sys_call {
	__u64 addr, len, new_len;
	__u32 func; /* enum mt_func */
	__u32 _pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct sys_call);
} sys_calls SEC(".maps");

/* Each traced process's program break, as its last brk left it. Key: tgid. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 32768);
	__type(key, __u32);
	__type(value, __u64);
} breaks SEC(".maps");

static __always_inline int sys_enter(__u32 func, __u64 addr, __u64 len, __u64 new_len)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	struct sys_call c = { .addr = addr, .len = len, .new_len = new_len, .func = func };
	long err;

	if (!tgid_tracked(id >> 32))
		return 0;
	err = bpf_map_update_elem(&sys_calls, &tid, &c, BPF_ANY);
	if (err)
		count_update_error(err);
	return 0;
}

static __always_inline void emit_sys(__u32 type, const struct sys_call *c, __u64 addr,
				     __u64 size, __u64 old_addr, __u64 old_size, __u32 err)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct mt_alloc_event *e;

	if (err)
		count(&failures, c->func);
	if (aggregate)
		return; /* the reports are of the heap: nothing to keep */
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(&drops, MT_DROP_RINGBUF_FULL);
		return;
	}
	fill_hdr(&e->hdr, type, id >> 32, (__u32)id);
	e->addr = addr;
	e->size = size;
	e->old_addr = old_addr;
	e->align = old_size;
	e->func = c->func;
	e->err = err;
	e->stack_id = 0;
	e->cgroup_id = event_cgroups ? bpf_get_current_cgroup_id() : 0;
	bpf_ringbuf_submit(e, 0);
}

/* The call's saved arguments, taken off the map; false if it was not ours. */
static __always_inline bool sys_exit(struct sys_call *out)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct sys_call *c = bpf_map_lookup_elem(&sys_calls, &tid);

	if (!c)
		return false;
	*out = *c;
	bpf_map_delete_elem(&sys_calls, &tid);
	return true;
}

static __always_inline __u32 errno_of(long ret)
{
	return ret < 0 && ret >= -MAX_ERRNO ? (__u32)-ret : 0;
}

SEC("tp/syscalls/sys_enter_mmap")
int mmap_enter(struct trace_event_raw_sys_enter *ctx)
{
	if (!(ctx->args[3] & MAP_ANONYMOUS))
		return 0; /* a file's contents, not heap */
	return sys_enter(MT_FN_MMAP, ctx->args[0], ctx->args[1], 0);
}

SEC("tp/syscalls/sys_enter_mremap")
int mremap_enter(struct trace_event_raw_sys_enter *ctx)
{
	struct mapped_file f;

	if (mapped_file_of(ctx->args[0], &f) == 0 && f.file)
		return 0;
	return sys_enter(MT_FN_MREMAP, ctx->args[0], ctx->args[1], ctx->args[2]);
}

SEC("tp/syscalls/sys_enter_munmap")
int munmap_enter(struct trace_event_raw_sys_enter *ctx)
{
	struct mapped_file f;

	/* only what an anonymous mmap made: the mapping is still there to look at */
	if (mapped_file_of(ctx->args[0], &f) == 0 && f.file)
		return 0;
	return sys_enter(MT_FN_MUNMAP, ctx->args[0], ctx->args[1], 0);
}

SEC("tp/syscalls/sys_enter_brk")
int brk_enter(struct trace_event_raw_sys_enter *ctx)
{
	return sys_enter(MT_FN_BRK, ctx->args[0], 0, 0);
}

/* mmap and mremap: the new address, or an error. */
static __always_inline int map_exit(long ret)
{
	__u32 err = errno_of(ret);
	struct sys_call c;

	if (!sys_exit(&c))
		return 0;
	if (c.func == MT_FN_MREMAP)
		emit_sys(MT_EV_MMAP, &c, err ? 0 : (__u64)ret, c.new_len, c.addr, c.len, err);
	else
		emit_sys(MT_EV_MMAP, &c, err ? 0 : (__u64)ret, c.len, 0, 0, err);
	return 0;
}

SEC("tp/syscalls/sys_exit_mmap")
int mmap_exit(struct trace_event_raw_sys_exit *ctx)
{
	return map_exit(ctx->ret);
}

SEC("tp/syscalls/sys_exit_mremap")
int mremap_exit(struct trace_event_raw_sys_exit *ctx)
{
	return map_exit(ctx->ret);
}

SEC("tp/syscalls/sys_exit_munmap")
int munmap_exit(struct trace_event_raw_sys_exit *ctx)
{
	struct sys_call c;

	if (sys_exit(&c))
		emit_sys(MT_EV_MUNMAP, &c, c.addr, c.len, 0, 0, errno_of(ctx->ret));
	return 0;
}

/*
 * brk returns the break it leaves, whatever was asked: brk(0) asks where it
 * is (no event; the answer is kept), a move it could not make leaves it
 * where it was (ENOMEM).
 */
SEC("tp/syscalls/sys_exit_brk")
int brk_exit(struct trace_event_raw_sys_exit *ctx)
{
	__u32 tgid = (__u32)(bpf_get_current_pid_tgid() >> 32);
	__u64 now = (__u64)ctx->ret, *before, old = 0;
	struct sys_call c;

	if (!sys_exit(&c))
		return 0;
	before = bpf_map_lookup_elem(&breaks, &tgid);
	if (before)
		old = *before;
	bpf_map_update_elem(&breaks, &tgid, &now, BPF_ANY);
	if (!c.addr)
		return 0; /* a question */
	if (now != c.addr)
		emit_sys(MT_EV_BRK, &c, now, 0, old, 0, ENOMEM);
	else if (now != old)
		emit_sys(MT_EV_BRK, &c, now, 0, old, 0, 0);
	return 0;
}

#endif /* MEMTRACK_MMAP_CALLS_BPF_H */
