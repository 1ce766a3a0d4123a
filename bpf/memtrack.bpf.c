// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * memtrack's BPF side: allocator uprobes and process-tree tracepoints.
 *
 * Uprobes are attached to the allocator object for each traced process
 * (user space gives each new child its own before it runs), or for every
 * process (-a, --cgroup, --system-probes); either way every handler first
 * checks the `tracked` map, which the fork/exec/exit tracepoints keep equal
 * to the set of processes the user asked for and their descendants.
 *
 * An allocator call is recorded at its return, from the arguments its entry
 * saved. Allocator functions call each other (realloc(NULL, n) jumps to
 * malloc, reallocarray to realloc, realloc(p, 0) calls free); only the
 * outermost call, the one the program made, becomes an event.
 *
 * The other source, the memtrack USDT provider (usdt/memtrack_usdt.h, fired
 * by libmemtrack-usdt.so or by an application's own allocator), gives each
 * call in one probe hit with the result; usdt_call turns it into the same
 * events.
 *
 * A report-only run sets `aggregate`: allocation events are then accounted
 * in maps here (aggregate.bpf.h) instead of crossing to user space.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/usdt.bpf.h>
#include "memtrack_events.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Set by user space before load. */
const volatile bool follow_children = true;
const volatile __u64 page_size = 4096;
const volatile __u32 stack_depth = 0; /* frames kept per stack; 0: no stacks */
const volatile bool free_stacks = false; /* Free events get stacks too */
const volatile bool event_cgroups = false; /* allocation events carry their cgroup id */

#define E2BIG 7
#define ENOMEM 12
#define EEXIST 17

/*
 * Scopes beyond a process tree: every process in a cgroup (v2; its
 * descendants too), or every process but memtrack's own. A process in
 * scope joins `tracked` when it forks or execs; those already running are
 * added by user space at the start.
 */
const volatile bool scope_cgroup = false;
const volatile bool scope_all = false;
const volatile __u32 self_tgid = 0;

struct {
	__uint(type, BPF_MAP_TYPE_CGROUP_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} scope_cgroups SEC(".maps");

/* Processes being traced. Key: tgid. Value: its life (mt_life_key, R11). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 32768);
	__type(key, __u32);
	__type(value, __u32);
} tracked SEC(".maps");

/* The last life given; user space numbers its own from MT_LIFE_ADDED. */
__u32 last_life = 0;

/* A session's entry program returns this when the call's return need not be seen. */
#define SKIP_RETURN 1

/* The outermost allocator call a thread is inside of. */
struct call {
	__u64 sp;      /* stack pointer at entry: tells nested calls from new ones */
	__u64 ip;      /* the function's address: which object the allocator is in */
	__u64 args[3]; /* the arguments, as the function's enum mt_func defines them */
	__u32 func;    /* enum mt_func */
	__u32 depth;   /* allocator calls currently open on this thread */
	__u64 start;   /* when the call began: a Realloc's entered (R10) */
	__u32 life;    /* its process's, from the lookup that let it in (R11) */
	__u32 _pad;
};

/* Allocator calls in flight. Key: tid. Value: struct call. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct call);
} calls SEC(".maps");

/*
 * The last block each thread freed, and the stack pointer it was freed at.
 * free has no return probe, so a free() that passes the block on to
 * another probed free() (a wrapper's free calling libc's) is told apart by
 * this: the same block, on the same stack or deeper. An allocation
 * returning that address again ends the record. Key: tid.
 */
struct last_free {
	__u64 ptr;
	__u64 sp;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct last_free);
} frees SEC(".maps");

/*
 * User stacks, each once. Key: a hash of the frames, the stack_id events
 * carry. Value: the frames. Entries are made as stacks are first seen;
 * when the map is full, a new stack is a counted drop (the event keeps
 * stack_id 0). Size set by user space.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u64);
	__type(value, struct mt_stack);
} stacks SEC(".maps");

/*
 * Not used by any program here: user space puts its perf events for mmap
 * records in it (libbpf's raw perf buffer keeps its event fds in such a
 * map). One entry per CPU, sized by libbpf.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} mmap_events SEC(".maps");

/* Events to user space; size set by user space before load. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20);
} events SEC(".maps");

/* Lost events. Key: enum mt_drop_reason. Value: count on this CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MT_DROP_MAX);
	__type(key, __u32);
	__type(value, __u64);
} drops SEC(".maps");

/* Failed allocator calls (NULL, or non-zero from posix_memalign). Key: enum mt_func. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MT_FN_MAX);
	__type(key, __u32);
	__type(value, __u64);
} failures SEC(".maps");

/*
 * One more in a per-CPU counter. Atomic all the same: a uprobe's program
 * can be preempted, and another thread counting on this CPU meanwhile
 * would have its count lost by a plain increment.
 */
static __always_inline void count(void *map, __u32 key)
{
	__u64 *n = bpf_map_lookup_elem(map, &key);

	if (n)
		__sync_fetch_and_add(n, 1);
}

static __always_inline void count_update_error(long err)
{
	if (err == -E2BIG)
		count(&drops, MT_DROP_MAP_FULL);
	else if (err == -ENOMEM)
		count(&drops, MT_DROP_NO_MEMORY);
	else
		count(&drops, MT_DROP_OTHER);
}

static __always_inline bool tgid_tracked(__u32 tgid)
{
	return bpf_map_lookup_elem(&tracked, &tgid) != NULL;
}

/*
 * The life of a traced process, 0 if it is not traced (or no longer): the
 * one lookup a call's probe makes to know both (a life is never 0).
 */
static __always_inline __u32 life_of(__u32 tgid)
{
	__u32 *life = bpf_map_lookup_elem(&tracked, &tgid);

	return life ? *life : 0;
}

#include "aggregate.bpf.h"

/* Is the current task in the scope asked for (--cgroup, -a)? */
static __always_inline bool current_in_scope(void)
{
	if (scope_all)
		return (__u32)(bpf_get_current_pid_tgid() >> 32) != self_tgid;
	return scope_cgroup && bpf_current_task_under_cgroup(&scope_cgroups, 0) == 1;
}

/* Start tracing tgid; false (counted) if the map is full. */
static __always_inline bool track(__u32 tgid)
{
	/* a new life: whatever a former process of this pid left in the maps is not its */
	__u32 life = (__sync_fetch_and_add(&last_life, 1) + 1) & (MT_LIFE_ADDED - 1);
	long err;

	if (!life) /* 0 is "not traced" (life_of()) */
		life = 1;
	err = bpf_map_update_elem(&tracked, &tgid, &life, BPF_ANY);

	if (err)
		count_update_error(err);
	return !err;
}

static __always_inline void fill_hdr(struct mt_event_hdr *hdr, __u32 type, __u32 pid, __u32 tid)
{
	hdr->timestamp = bpf_ktime_get_ns();
	hdr->type = type;
	hdr->pid = pid;
	hdr->tid = tid;
	hdr->_pad = 0;
}

/* ---------------------------------------------------------------------- */
/* Allocator calls                                                          */

/* The file behind one address of the current process, as bpf_find_vma() finds it. */
struct mapped_file {
	bool file; /* false: anonymous or special, such as the uretprobe trampoline's page */
	__u32 dev;
	__u64 ino;
};

static long mapped_file_cb(struct task_struct *task, struct vm_area_struct *vma,
			   struct mapped_file *out)
{
	struct file *f = BPF_CORE_READ(vma, vm_file);

	if (f) {
		out->file = true;
		out->ino = BPF_CORE_READ(f, f_inode, i_ino);
		out->dev = BPF_CORE_READ(f, f_inode, i_sb, s_dev);
	}
	return 0;
}

/* 0, or an error if it cannot tell (no mapping there, or mmap_lock busy). */
static __always_inline long mapped_file_of(__u64 addr, struct mapped_file *out)
{
	out->file = false;
	out->dev = 0;
	out->ino = 0;
	return bpf_find_vma(bpf_get_current_task_btf(), addr, mapped_file_cb, out, 0);
}

/*
 * Is a call made now, with stack pointer sp, part of the open call c?
 *
 * Only while c still runs: then its return address has been replaced by
 * the uretprobe trampoline, on a page no file backs. Finding a file-backed
 * address in that slot means c ended without its return being seen
 * (longjmp, or the kernel set no return probe).
 *
 * And only if the new call comes from c: it runs on c's stack or deeper,
 * and returns into the object c runs in (c called it), or to a trampoline
 * (c, or a function c called, jumped to it). A signal handler interrupting
 * c fails this test; its call is recorded, and c counts as lost.
 */
static __always_inline bool inside_open_call(const struct call *c, __u64 sp)
{
	struct mapped_file caller, callee, slot_file;
	__u64 ra, slot;

	if (sp > c->sp)
		return false;
	if (bpf_probe_read_user(&slot, sizeof(slot), (void *)c->sp) == 0 &&
	    mapped_file_of(slot, &slot_file) == 0 && slot_file.file)
		return false; /* c is over */
	if (bpf_probe_read_user(&ra, sizeof(ra), (void *)sp) || mapped_file_of(ra, &caller))
		return true; /* cannot tell: the usual case */
	if (!caller.file)
		return true; /* jumped to from inside c */
	if (mapped_file_of(c->ip, &callee))
		return true;
	return caller.ino == callee.ino && caller.dev == callee.dev;
}

/*
 * An allocator call's entry: open it, or count it into the open one. Does
 * its return need to be seen? A uprobe session asks (1: no, 0: yes).
 */
static __always_inline int call_enter(struct pt_regs *ctx, enum mt_func func, __u64 a0, __u64 a1,
				      __u64 a2)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	__u64 sp = PT_REGS_SP(ctx);
	__u32 life = life_of(id >> 32);
	struct call *open;
	long err;

	if (!life)
		return SKIP_RETURN;

	open = bpf_map_lookup_elem(&calls, &tid);
	if (open) {
		if (inside_open_call(open, sp)) {
			open->depth++;
			return 0;
		}
		/* The open call is over, but its return was never seen. */
		count(&drops, MT_DROP_LOST_RETURN);
	}

	struct call c = {
		.sp = sp,
		.args = { a0, a1, a2 },
		.func = func,
		.depth = 1,
		.start = bpf_ktime_get_ns(),
		.life = life,
	};
	c.ip = PT_REGS_IP(ctx);
	err = bpf_map_update_elem(&calls, &tid, &c, BPF_ANY);
	if (err) {
		count_update_error(err);
		return SKIP_RETURN;
	}
	return 0;
}

#include "stack_walk.bpf.h"

static __always_inline void emit_alloc(__u32 type, __u32 func, __u64 addr, __u64 size,
				       __u64 old_addr, __u64 align, __u32 pid, __u32 life, __u32 tid,
				       __u64 stack_id)
{
	struct mt_alloc_event *e;

	if (aggregate) {
		agg_event(type, func, addr, size, old_addr, align, pid, life, stack_id);
		return;
	}
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(&drops, MT_DROP_RINGBUF_FULL);
		return;
	}
	fill_hdr(&e->hdr, type, pid, tid);
	e->addr = addr;
	e->size = size;
	e->old_addr = old_addr;
	e->align = align;
	e->func = func;
	e->err = 0;
	e->stack_id = stack_id;
	e->cgroup_id = event_cgroups ? bpf_get_current_cgroup_id() : 0;
	bpf_ringbuf_submit(e, 0);
}

/* Turn a finished outermost call into an event, or count its failure. */
static __always_inline void call_record(void *ctx, const struct call *c, __u64 ret, __u32 pid,
					__u32 tid)
{
	__u64 addr = ret, size = 0, old_addr = 0, align = 0;
	__u32 type;
	bool failed = ret == 0;

	switch (c->func) {
	case MT_FN_MALLOC:
		size = c->args[0];
		break;
	case MT_FN_CALLOC:
		size = c->args[0] * c->args[1]; /* cannot overflow: calloc succeeded */
		break;
	case MT_FN_REALLOC:
	case MT_FN_REALLOCARRAY:
		old_addr = c->args[0];
		size = c->args[1];
		if (c->func == MT_FN_REALLOCARRAY && size) {
			__u64 limit = ~0ULL / size;

			/* Hide the overflow idiom from clang: it would need a 128-bit multiply. */
			asm volatile("" : "+r"(limit));
			/* nmemb * size overflowing is reallocarray's ENOMEM, not realloc(p, 0) */
			if (c->args[2] > limit) {
				count(&failures, c->func);
				return;
			}
			size *= c->args[2];
		} else if (c->func == MT_FN_REALLOCARRAY) {
			size = 0;
		}
		/* realloc(p, 0) frees p and may return NULL: a release, not a failure. */
		failed = ret == 0 && !(size == 0 && old_addr != 0);
		break;
	case MT_FN_ALIGNED_ALLOC:
	case MT_FN_MEMALIGN:
		align = c->args[0];
		size = c->args[1];
		break;
	case MT_FN_POSIX_MEMALIGN:
		align = c->args[1];
		size = c->args[2];
		failed = (int)ret != 0; /* an error number, and *memptr is untouched */
		if (!failed && bpf_probe_read_user(&addr, sizeof(addr), (void *)c->args[0])) {
			count(&drops, MT_DROP_READ_FAULT);
			return;
		}
		break;
	case MT_FN_VALLOC:
	case MT_FN_PVALLOC:
		align = page_size;
		size = c->args[0];
		break;
	case MT_FN_NEW:
	case MT_FN_NEW_ARRAY:
		/* (size, alignment): the aligned variants pass one, the others 0 */
		size = c->args[0];
		align = c->args[1];
		break;
	default:
		return;
	}
	type = mt_func_event_type(c->func, align != 0);
	if (type == MT_EV_REALLOC)
		align = c->start; /* the event's entered: R10 */

	if (failed) {
		count(&failures, c->func);
		return;
	}
	/* The block can be freed again now: a free of it is a new one. */
	struct last_free *lf = bpf_map_lookup_elem(&frees, &tid);

	if (lf && lf->ptr == addr)
		bpf_map_delete_elem(&frees, &tid);
	/* at the return: the top frame is the caller, where the call returns to */
	emit_alloc(type, c->func, addr, size, old_addr, align, pid, c->life, tid,
		   stack_capture(ctx, false, 0));
}

static __always_inline int call_exit(struct pt_regs *ctx, __u64 ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	__u64 sp = PT_REGS_SP(ctx); /* the return popped the return address: entry sp + 8 */
	struct call *open, c;

	open = bpf_map_lookup_elem(&calls, &tid);
	if (!open)
		return 0; /* entered before the probes were attached */
	if (sp > open->sp + 8) {
		/* Returning above the open call's frame: its return was lost. */
		bpf_map_delete_elem(&calls, &tid);
		count(&drops, MT_DROP_LOST_RETURN);
		return 0;
	}
	if (--open->depth > 0)
		return 0; /* a nested call returned; the outer one is still running */

	c = *open;
	bpf_map_delete_elem(&calls, &tid);
	call_record(ctx, &c, ret, id >> 32, tid);
	return 0;
}

/* One return program for every allocator: the saved call says which it was. */
SEC("uretprobe")
int BPF_KRETPROBE(alloc_exit, void *ret)
{
	return call_exit(ctx, (__u64)ret);
}

/*
 * free() needs no return probe (SKIP_RETURN): it is recorded at entry,
 * before the block can be reused.
 */
static __always_inline int free_call(struct pt_regs *ctx, void *ptr, __u32 func)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	__u64 sp = PT_REGS_SP(ctx);
	struct last_free *lf, now = { (__u64)ptr, sp };
	struct call *open;
	__u32 life;
	long err;

	if (!ptr) /* free(NULL) is not a free */
		return SKIP_RETURN;
	life = life_of(id >> 32);
	if (!life)
		return SKIP_RETURN;
	open = bpf_map_lookup_elem(&calls, &tid);
	if (open && inside_open_call(open, sp))
		return SKIP_RETURN; /* released inside realloc: the Realloc event says so */
	lf = bpf_map_lookup_elem(&frees, &tid);
	if (lf && lf->ptr == (__u64)ptr && sp <= lf->sp)
		return SKIP_RETURN; /* a wrapper's free passing the block on */
	err = bpf_map_update_elem(&frees, &tid, &now, BPF_ANY);
	if (err)
		count_update_error(err);

	__u64 stack_id = 0, caller = 0;

	if (free_stacks && !bpf_probe_read_user(&caller, sizeof(caller), (void *)sp))
		stack_id = stack_capture(ctx, false, caller);
	emit_alloc(MT_EV_FREE, func, (__u64)ptr, 0, 0, 0, id >> 32, life, tid, stack_id);
	return SKIP_RETURN;
}

/*
 * Every allocator function's entry, told apart by the attach cookie that
 * user space gives each probe: its enum mt_func, and MT_COOKIE_SIZE_FIRST
 * where the size comes before the alignment (mi_malloc_aligned, the
 * aligned operator new). One program for all lets one link per object
 * carry every entry probe (probes.c). Returns SKIP_RETURN where the
 * return needs no probe: frees, processes not traced.
 */
static __always_inline int entry(struct pt_regs *ctx, __u64 a0, __u64 a1, __u64 a2)
{
	__u64 cookie = bpf_get_attach_cookie(ctx);
	__u32 func = (__u32)(cookie & MT_COOKIE_FUNC_MASK);
	bool size_first = cookie & MT_COOKIE_SIZE_FIRST;

	switch (func) {
	case MT_FN_FREE:
	case MT_FN_DELETE:
	case MT_FN_DELETE_ARRAY:
		return free_call(ctx, (void *)a0, func);
	case MT_FN_MALLOC:
	case MT_FN_VALLOC:
	case MT_FN_PVALLOC:
		return call_enter(ctx, func, a0, 0, 0);
	case MT_FN_NEW:
	case MT_FN_NEW_ARRAY:
		/* (size, alignment): the plain variants pass no alignment */
		return call_enter(ctx, func, a0, size_first ? a1 : 0, 0);
	case MT_FN_ALIGNED_ALLOC:
		/* (alignment, size), or mimalloc's (size, alignment) */
		if (size_first)
			return call_enter(ctx, func, a1, a0, 0);
		return call_enter(ctx, func, a0, a1, 0);
	case MT_FN_CALLOC:
	case MT_FN_REALLOC:
	case MT_FN_MEMALIGN:
		return call_enter(ctx, func, a0, a1, 0);
	case MT_FN_REALLOCARRAY:
	case MT_FN_POSIX_MEMALIGN:
		return call_enter(ctx, func, a0, a1, a2);
	default:
		return SKIP_RETURN;
	}
}

SEC("uprobe")
int BPF_KPROBE(alloc_enter, __u64 a0, __u64 a1, __u64 a2)
{
	entry(ctx, a0, a1, a2);
	return 0; /* to a uprobe, not 0 asks for its breakpoint to go */
}

/* Is this the return of a session's function (uprobe sessions, Linux 6.13)? */
extern bool bpf_session_is_return(void) __ksym __weak;

/*
 * Where the kernel has uprobe sessions, one program, one link and one
 * consumer per function do both: the entry, then (unless the entry says
 * not: frees, and processes not traced) the return. A traced process's
 * links cost the kernel half as much to put in and take out as an entry
 * and a return link, which a fork-heavy command pays for every process.
 */
SEC("uprobe")
int BPF_KPROBE(alloc_session, __u64 a0, __u64 a1, __u64 a2)
{
	if (bpf_session_is_return())
		return call_exit(ctx, PT_REGS_RC(ctx));
	return entry(ctx, a0, a1, a2);
}

/* One USDT argument; an argument the probe cannot give reads as 0. */
static __always_inline __u64 usdt_arg(struct pt_regs *ctx, __u64 n)
{
	long v = 0;

	bpf_usdt_arg(ctx, n, &v);
	return (__u64)v;
}

/*
 * memtrack:<func>(ptr, size, old_ptr, align, ret), fired after the call;
 * the attach cookie is the enum mt_func of the probe. Each argument read
 * is a spec lookup, so a call reads only the arguments its type uses, and
 * only once its process is known to be traced.
 */
SEC("usdt")
int usdt_call(struct pt_regs *ctx)
{
	__u32 func = (__u32)bpf_usdt_cookie(ctx);
	__u64 id = bpf_get_current_pid_tgid();
	__u64 ptr, size, old_ptr = 0, align = 0;
	__u32 type, life = life_of(id >> 32);
	bool failed;

	if (!life)
		return 0;
	ptr = usdt_arg(ctx, 0);
	size = usdt_arg(ctx, 1);
	/* aligned calls, and operator new whose align argument says it is one */
	if (mt_func_event_type(func, 1) == MT_EV_ALIGNED_ALLOC)
		align = usdt_arg(ctx, 3);
	type = mt_func_event_type(func, align != 0);
	failed = ptr == 0;
	switch (type) {
	case MT_EV_REALLOC:
		old_ptr = usdt_arg(ctx, 2);
		failed = ptr == 0 && !(size == 0 && old_ptr != 0); /* realloc(p, 0) releases p */
		if (!failed)
			align = usdt_arg(ctx, 3); /* the event's entered (R10); 0 if not known */
		break;
	case MT_EV_FREE:
		if (!ptr)
			return 0;
		failed = false;
		break;
	case MT_EV_ALIGNED_ALLOC:
		if (func == MT_FN_POSIX_MEMALIGN)
			failed = (long)usdt_arg(ctx, 4) != 0; /* an error number; *memptr untouched */
		break;
	case MT_EV_MALLOC:
	case MT_EV_CALLOC:
		break;
	default:
		return 0;
	}
	if (failed) {
		count(&failures, func);
		return 0;
	}
	/* skip the shim's frame: the next one is the program's caller */
	emit_alloc(type, func, ptr, size, old_ptr, align, id >> 32, life, (__u32)id,
		   type != MT_EV_FREE || free_stacks ? stack_capture(ctx, true, 0) : 0);
	return 0;
}

#include "mmap_calls.bpf.h"

/* ---------------------------------------------------------------------- */
/* The process tree                                                         */

static __always_inline void emit_proc(__u32 type, struct task_struct *task, __u32 ppid)
{
	struct mt_proc_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e) {
		count(&drops, MT_DROP_RINGBUF_FULL);
		return;
	}
	fill_hdr(&e->hdr, type, BPF_CORE_READ(task, tgid), BPF_CORE_READ(task, pid));
	e->ppid = ppid;
	e->exit_code = 0;
	e->cgroup_id = bpf_get_current_cgroup_id(); /* at fork, the parent's is the child's */
	BPF_CORE_READ_STR_INTO(&e->comm, task, comm);
	e->filename[0] = '\0';
	bpf_ringbuf_submit(e, 0);
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(on_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 ptgid = BPF_CORE_READ(parent, tgid);
	__u32 ctgid = BPF_CORE_READ(child, tgid);

	if (ctgid == ptgid)
		return 0; /* a new thread: it is traced with its process */
	/* the parent's cgroup is the child's, at fork */
	if (tgid_tracked(ptgid) ? !follow_children : !current_in_scope())
		return 0;
	if (!track(ctgid))
		return 0; /* the child's events will all be lost */
	emit_proc(MT_EV_FORK, child, ptgid);
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(on_exec, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm)
{
	__u32 tgid = BPF_CORE_READ(task, tgid);
	bool secure = BPF_CORE_READ_BITFIELD_PROBED(bprm, secureexec);
	struct mt_proc_event *e;

	/* a process moved into the cgroup, then exec'd: ours from now on */
	if (!tgid_tracked(tgid) && !(current_in_scope() && track(tgid)))
		return 0;
	agg_exec(tgid, bpf_ktime_get_ns());
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(&drops, MT_DROP_RINGBUF_FULL);
		return 0;
	}
	fill_hdr(&e->hdr, MT_EV_EXEC, tgid, BPF_CORE_READ(task, pid));
	e->ppid = BPF_CORE_READ(task, real_parent, tgid);
	e->exit_code = secure ? MT_EXEC_PRIVILEGED : 0;
	e->cgroup_id = bpf_get_current_cgroup_id();
	BPF_CORE_READ_STR_INTO(&e->comm, task, comm);
	bpf_probe_read_kernel_str(e->filename, sizeof(e->filename), BPF_CORE_READ(bprm, filename));
	bpf_ringbuf_submit(e, 0);
	if (secure) {
		/* a privileged program: not traced past the boundary, nor its children */
		bpf_map_delete_elem(&tracked, &tgid);
		bpf_map_delete_elem(&breaks, &tgid);
	}
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(on_exit, struct task_struct *task)
{
	__u32 tgid = BPF_CORE_READ(task, tgid);
	__u32 tid = BPF_CORE_READ(task, pid);
	struct mt_proc_event *e;

	/* A thread killed inside an allocator call never returns from it. */
	bpf_map_delete_elem(&calls, &tid);
	bpf_map_delete_elem(&frees, &tid);
	bpf_map_delete_elem(&sys_calls, &tid);

	if (!tgid_tracked(tgid))
		return 0;
	/* signal->live was decremented just before: zero means the last thread is going. */
	if (BPF_CORE_READ(task, signal, live.counter) != 0)
		return 0;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (e) {
		fill_hdr(&e->hdr, MT_EV_EXIT, tgid, tid);
		e->ppid = BPF_CORE_READ(task, real_parent, tgid);
		e->exit_code = BPF_CORE_READ(task, exit_code);
		e->cgroup_id = bpf_get_current_cgroup_id();
		BPF_CORE_READ_STR_INTO(&e->comm, task, comm);
		e->filename[0] = '\0';
		bpf_ringbuf_submit(e, 0);
	} else {
		count(&drops, MT_DROP_RINGBUF_FULL);
	}
	bpf_map_delete_elem(&tracked, &tgid);
	bpf_map_delete_elem(&breaks, &tgid);
	return 0;
}
