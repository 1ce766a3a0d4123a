/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Walking the user stack of an allocation, stored once per distinct stack.
 *
 * Two ways, as user space chose (--unwind):
 * - fp: the frame-pointer chain, cheap, but it ends at the first function
 *   built without frame pointers (most of a distribution's code);
 * - dwarf: by the call-frame information of the code, as a debugger does.
 *   User space compiles each object's CFI into rows (loader/sys/cfi_table.c)
 *   once, into unwind_rows, and says where each object's rows are in
 *   unwind_objects, by the file's device and inode. For each frame, the
 *   mapping its address lies in is found with bpf_find_vma() (kept for the
 *   next frames, which are mostly in the same object), the row with a
 *   binary search, and the row gives the caller's stack pointer (the CFA),
 *   its return address (at CFA - 8) and its rbp. Where an object has no
 *   rows, or a rule cannot be followed, the frame pointer takes the step.
 *
 * Included by memtrack.bpf.c after its maps and counting helpers.
 */
#ifndef MEMTRACK_STACK_WALK_BPF_H
#define MEMTRACK_STACK_WALK_BPF_H

/*
 * Not const: with a constant the verifier would prune the dwarf walk from
 * the fp programs, and 6.18's then fails on the callbacks left without a
 * caller ("No program to jit"). Set by user space before load.
 */
bool dwarf_unwind = false;

/*
 * Where each stack walk ended, when not at the outermost frame: counted,
 * never silent. Key: enum mt_stack_cut. Value: count on this CPU.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MT_STACK_CUT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} stack_cuts SEC(".maps");

/* Rows of every object, each object's contiguous. Sized (and mmap'd) by user space. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct mt_unwind_row);
} unwind_rows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct mt_unwind_key);
	__type(value, struct mt_unwind_object);
} unwind_objects SEC(".maps");

/* One frame of a frame-pointer chain: the caller's frame pointer, then the return address. */
struct frame {
	__u64 next;
	__u64 ret;
};

/* The code mapping bpf_find_vma() found: its bounds, and how its addresses become file offsets. */
struct vma_seen {
	__u64 start, end;
	__u64 bias; /* file offset = address - bias */
	struct mt_unwind_key key;
	bool file;
};

/*
 * A stack walk in progress: bpf_loop()'s context. It lives in the thread's
 * task storage (walk_scratch), not on the BPF stack: the verifier does not follow the values of a
 * map's memory, so the walk's many ways of ending do not become as many
 * states for the code after it to be verified in (on the stack, they made
 * a report-only program take seconds to load).
 */
#define STACK_WINDOW 1024 /* bytes of stack read at once, a power of two */

struct walk {
	struct mt_stack stack; /* the frames kept */
	__u64 fp, sp; /* the frame pointer, and where the last frame ended */
	__u64 id;     /* FNV-1a of the frames so far: equal stacks, equal ids */
	__u32 n;      /* frames kept */
	__u32 cut;    /* why it stopped early; MT_STACK_CUT_MAX: it did not */
	/* dwarf: the frame's address; whether execution is there (not a return address); keep it? */
	__u64 pc;
	bool exact, keep_pc;
	struct vma_seen vma;	     /* the mapping of the last frame looked up */
	struct mt_unwind_object obj; /* its rows, if it has any (a copy: pointers do not last in here) */
	bool has_obj;
	__u64 mm; /* the address space: with an address, the key of what is learnt of it */
	/* the stack read last: win_len bytes from user address win_at */
	__u64 win_at;
	__u32 win_len;
	__u8 win[STACK_WINDOW];
};

static __always_inline void walk_keep(struct walk *w, __u64 ip)
{
	__u32 n = w->n;

	if (n >= MT_MAX_STACK_DEPTH)
		return;
	w->stack.ip[n] = ip;
	w->n = n + 1;
	w->id = (w->id ^ ip) * MT_FNV1A_PRIME;
}

/*
 * len bytes of the user stack at addr, from the window the walk read last,
 * reading the next one if they are not in it. One read brings several
 * frames: a walk's cost is mostly its reads (each a fault-safe copy with
 * its checks), not their size. A window ends at its page's end, so that a
 * read that can fail only fails where the bytes asked for are unreadable.
 */
static __always_inline long stack_read(struct walk *w, __u64 addr, void *dst, __u32 len)
{
	__u64 off = addr - w->win_at;

	if (addr < w->win_at || off + len > w->win_len) {
		__u32 n = 4096 - (addr & 4095);

		if (n < len) /* the bytes cross a page: just them */
			return bpf_probe_read_user(dst, len, (void *)addr);
		if (n > STACK_WINDOW)
			n = STACK_WINDOW;
		w->win_len = 0;
		if (bpf_probe_read_user(w->win, n, (void *)addr))
			return -1;
		w->win_at = addr;
		w->win_len = n;
		off = 0;
	}
	if (off > STACK_WINDOW - len)
		return -1; /* cannot be: for the verifier */
	__builtin_memcpy(dst, w->win + off, len);
	return 0;
}

/*
 * One step up the frame-pointer chain. The kernel's walk (bpf_get_stack)
 * follows whatever a register holds until a read fails: through code
 * built without frame pointers it gathers dozens of garbage frames, and
 * pays for each. Here a frame must lie above the last one, within the
 * stack, 16-byte aligned, with a non-zero return address; else the walk
 * stops there, counted. A chain ends normally at a frame pointer of 0 (the
 * outermost frame clears it). keep: the caller's address is kept here (the
 * fp walk), not by the next step (dwarf).
 */
static __always_inline long fp_step(struct walk *w, bool keep)
{
	struct frame f;

	if (!w->fp)
		return 1; /* the outermost frame */
	if (keep && (w->n >= stack_depth || w->n >= MT_MAX_STACK_DEPTH)) {
		w->cut = MT_STACK_CUT_DEPTH;
		return 1;
	}
	if (w->fp < w->sp || w->fp - w->sp > MT_MAX_FRAME_SPAN || (w->fp & 15)) {
		w->cut = MT_STACK_CUT_NO_FRAME;
		return 1;
	}
	if (stack_read(w, w->fp, &f, sizeof(f))) {
		w->cut = MT_STACK_CUT_UNREADABLE;
		return 1;
	}
	if (!f.ret || (keep && f.next && f.next <= w->fp)) {
		if (f.ret && keep)
			walk_keep(w, f.ret);
		w->cut = MT_STACK_CUT_NO_FRAME;
		return 1;
	}
	if (keep)
		walk_keep(w, f.ret);
	/* dwarf: a chain that ends here may go on by the caller's rows */
	w->sp = w->fp + sizeof(f);
	w->fp = f.next;
	w->pc = f.ret;
	w->exact = false;
	w->keep_pc = true;
	return 0;
}

/* bpf_loop()'s context must be on the stack: it carries the walk in the map. */
struct walk_ref {
	struct walk *w;
};

/* A bpf_loop() callback: verified once, not once per frame. */
static long walk_step(__u32 index, void *ctx)
{
	return fp_step(((struct walk_ref *)ctx)->w, true);
}

static long vma_found(struct task_struct *task, struct vm_area_struct *vma, void *ctx)
{
	struct vma_seen *v = ctx;
	struct file *f = BPF_CORE_READ(vma, vm_file);

	v->start = BPF_CORE_READ(vma, vm_start);
	v->end = BPF_CORE_READ(vma, vm_end);
	v->bias = v->start - (BPF_CORE_READ(vma, vm_pgoff) << 12);
	v->file = f != NULL;
	if (f) {
		v->key.ino = BPF_CORE_READ(f, f_inode, i_ino);
		v->key.dev = BPF_CORE_READ(f, f_inode, i_sb, s_dev);
	}
	return 0;
}

/* A binary search in progress: the rows [lo, hi) left, for the last at or below vaddr. */
struct row_search {
	__u32 lo, hi;
	__u64 vaddr;
};

/*
 * One step of the search: a bpf_loop() callback, so that the verifier
 * checks it once rather than at every place the walk can be.
 */
static long row_search_step(__u32 index, void *ctx)
{
	struct row_search *q = ctx;
	__u32 mid;
	const struct mt_unwind_row *r;

	if (q->lo >= q->hi)
		return 1;
	mid = q->lo + (q->hi - q->lo) / 2;
	r = bpf_map_lookup_elem(&unwind_rows, &mid);
	if (!r) {
		q->hi = q->lo; /* out of the array: nothing found */
		return 1;
	}
	if (r->pc <= q->vaddr)
		q->lo = mid + 1;
	else
		q->hi = mid;
	return 0;
}

/* The last row of obj at or below vaddr; NULL before its first. */
static __always_inline const struct mt_unwind_row *row_at(const struct mt_unwind_object *obj,
							   __u64 vaddr)
{
	struct row_search q = { obj->first, obj->first + obj->n, vaddr };
	__u32 idx;

	if (vaddr > 0xffffffffULL || q.hi < q.lo)
		return NULL;
	bpf_loop(32, row_search_step, &q, 0);
	if (q.lo == obj->first)
		return NULL;
	idx = q.lo - 1;
	return bpf_map_lookup_elem(&unwind_rows, &idx);
}

/*
 * The object of the code at addr, from the mapping found last time if it
 * still holds addr; false if it is not file-backed code with rows.
 */
static __always_inline bool object_at(struct walk *w, __u64 addr)
{
	const struct mt_unwind_object *obj;

	if (addr < w->vma.start || addr >= w->vma.end) {
		struct vma_seen v = {}; /* bpf_find_vma()'s context must be on the stack */

		w->has_obj = false;
		w->vma.start = w->vma.end = 0;
		if (bpf_find_vma(bpf_get_current_task_btf(), addr, vma_found, &v, 0) || !v.file)
			return false;
		w->vma = v;
		obj = bpf_map_lookup_elem(&unwind_objects, &w->vma.key);
		if (obj) {
			w->obj = *obj;
			w->has_obj = true;
		}
	}
	return w->has_obj;
}

/*
 * What the walk learnt of one code address, kept per CPU in a
 * direct-mapped cache: allocation stacks repeat, and a hit spares the
 * mapping's lookup and the binary search. Keyed by the address space (a
 * process's mm; exec makes a new one) and the address; gen is the
 * tables' generation user space bumps when it adds one, so that an
 * address learnt before its object had rows is learnt again.
 */
struct unwind_cached {
	__u64 at;
	__u64 mm;
	__u32 gen;
	__u8 known; /* its object has rows */
	__u8 skip;  /* its frames are not kept */
	__u8 _pad[2];
	struct mt_unwind_row row; /* cfa_rule MT_CFA_NONE: no row */
};

#define UNWIND_CACHE 4096 /* entries per CPU, a power of two */

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, UNWIND_CACHE);
	__type(key, __u32);
	__type(value, struct unwind_cached);
} unwind_cache SEC(".maps");

/* Bumped by user space after each object it adds (core/unwind_tables.c). */
__u32 unwind_gen = 0;

/*
 * What is known of the code at at, into e: from the cache, or learnt and
 * put in it (e->row's cfa_rule is MT_CFA_NONE where there is no row).
 *
 * The cache is per CPU, and a uprobe's program can be preempted: another
 * thread's walk on this CPU may fill the same entry meanwhile. So an entry
 * is emptied (at = 0) before it is filled and its key is written last, and
 * a hit is copied, then its key checked again: a copy that another walk
 * changed under it is a miss, not a mix of two entries.
 */
static __always_inline void learn(struct walk *w, __u64 at, struct unwind_cached *e)
{
	__u32 slot = (__u32)((at ^ (at >> 12)) * 0x9e3779b1u) & (UNWIND_CACHE - 1);
	struct unwind_cached *c = bpf_map_lookup_elem(&unwind_cache, &slot);
	const struct mt_unwind_row *row = NULL;
	__u32 gen = unwind_gen;

	if (c) {
		*e = *c;
		if (e->at == at && e->mm == w->mm && e->gen == gen && c->at == at &&
		    c->mm == w->mm && c->gen == gen)
			return;
		c->at = 0;
	}
	e->known = object_at(w, at);
	e->skip = e->known && (w->obj.flags & MT_UNWIND_SKIP);
	if (e->known)
		row = row_at(&w->obj, at - w->vma.bias + w->obj.vaddr_delta);
	if (row)
		e->row = *row;
	else
		e->row.cfa_rule = MT_CFA_NONE;
	e->at = at;
	e->mm = w->mm;
	e->gen = gen;
	if (c) {
		c->known = e->known;
		c->skip = e->skip;
		c->row = e->row;
		c->mm = e->mm;
		c->gen = e->gen;
		c->at = at; /* last: the entry is whole */
	}
}

/*
 * One frame: keep its address (unless it is the probe's own, or in an
 * object whose frames are not kept), then step to its caller by its row,
 * or by the frame pointer where there is none.
 */
static long dwarf_step(__u32 index, void *ctx)
{
	struct walk *w = ((struct walk_ref *)ctx)->w;
	__u64 at = w->exact ? w->pc : w->pc - 1; /* a return address is past its call */
	struct unwind_cached e;
	struct mt_unwind_row row;
	bool known;
	__u64 cfa, ra, fp;

	learn(w, at, &e);
	row = e.row;
	known = e.known;
	if (w->keep_pc && !e.skip) {
		if (w->n >= stack_depth || w->n >= MT_MAX_STACK_DEPTH) {
			w->cut = MT_STACK_CUT_DEPTH;
			return 1;
		}
		walk_keep(w, w->pc);
	}
	if (row.cfa_rule == MT_CFA_NONE) {
		/* no rule here: the frame pointer, as far as it goes */
		long stop;

		if (!w->fp) {
			w->cut = known ? MT_STACK_CUT_NO_FRAME : MT_STACK_CUT_NO_TABLE;
			return 1;
		}
		stop = fp_step(w, false);
		if (w->cut == MT_STACK_CUT_NO_FRAME && !known)
			w->cut = MT_STACK_CUT_NO_TABLE;
		return stop;
	}
	switch (row.cfa_rule) {
	case MT_CFA_END:
		return 1; /* the outermost frame */
	case MT_CFA_RSP:
		cfa = w->sp + row.cfa_off;
		break;
	case MT_CFA_RBP:
		cfa = w->fp + row.cfa_off;
		break;
	case MT_CFA_PLT:
		cfa = w->sp + row.cfa_off + ((at & 15) >= 11 ? 8 : 0);
		break;
	default:
		w->cut = MT_STACK_CUT_NO_FRAME;
		return 1;
	}
	/* the caller's frame lies above this one, within the stack */
	if (cfa <= w->sp || cfa - w->sp > MT_MAX_FRAME_SPAN) {
		w->cut = MT_STACK_CUT_NO_FRAME;
		return 1;
	}
	if (row.rbp_off == -2) {
		/* rbp saved just below the return address (push %rbp): both in one read */
		struct frame f;

		if (stack_read(w, cfa - 16, &f, sizeof(f))) {
			w->cut = MT_STACK_CUT_UNREADABLE;
			return 1;
		}
		ra = f.ret;
		w->fp = f.next;
	} else if (stack_read(w, cfa - 8, &ra, sizeof(ra))) {
		w->cut = MT_STACK_CUT_UNREADABLE;
		return 1;
	} else if (row.rbp_off) {
		if (stack_read(w, cfa + 8 * (__s64)row.rbp_off, &fp, sizeof(fp))) {
			w->cut = MT_STACK_CUT_UNREADABLE;
			return 1;
		}
		w->fp = fp;
	}
	if (!ra)
		return 1; /* the outermost frame */
	w->sp = cfa;
	w->pc = ra;
	w->exact = false;
	w->keep_pc = true;
	return 0;
}

/*
 * The current user stack, stored once: its id, or 0. skip_top drops the
 * top frame (a probe inside a wrapper: the next frame is its caller's);
 * caller, if not 0, replaces the top frame (an entry probe's ip is the
 * callee's first instruction, and a frame-pointer walk from there never
 * sees the caller: its return address is at the stack pointer, passed
 * here; the dwarf walk finds it by the callee's first row).
 */
/*
 * Each thread's walk in storage of its own. Not one per CPU: a uprobe's
 * program runs with migration, not preemption, disabled, so a thread
 * preempted mid-walk and another that walks on the same CPU meanwhile
 * would share the state, and each take the other's frames (seen as
 * stacks with a stranger's first frame on a busy machine).
 */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct walk);
} walk_scratch SEC(".maps");

static __always_inline __u64 stack_capture(void *regs, bool skip_top, __u64 caller)
{
	struct pt_regs *ctx = regs;
	struct task_struct *task = bpf_get_current_task_btf();
	__u32 n, cut;
	struct walk_ref ref;
	struct walk *w;
	__u64 id;
	long err;

	if (!stack_depth)
		return 0;
	w = bpf_task_storage_get(&walk_scratch, task, NULL,
				 BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!w) {
		count(&drops, MT_DROP_NO_MEMORY); /* no room for this thread's walk: no stack */
		return 0;
	}
	w->fp = PT_REGS_FP(ctx);
	w->sp = PT_REGS_SP(ctx);
	w->id = MT_FNV1A_SEED;
	w->n = 0;
	w->cut = MT_STACK_CUT_MAX;
	w->pc = PT_REGS_IP(ctx);
	w->exact = true;
	w->keep_pc = !skip_top && !caller;
	w->vma.start = w->vma.end = 0;
	w->has_obj = false;
	w->win_len = 0;
	ref.w = w;
	if (dwarf_unwind) {
		w->mm = (__u64)task->mm; /* a trusted pointer: a plain load */
		bpf_loop(MT_MAX_STACK_DEPTH + 1, dwarf_step, &ref, 0);
	} else {
		if (!skip_top)
			walk_keep(w, caller ? caller : PT_REGS_IP(ctx));
		bpf_loop(MT_MAX_STACK_DEPTH + 1, walk_step, &ref, 0);
	}
	n = w->n;
	cut = w->cut;
	id = w->id & MT_STACK_ID_MASK;
	if (cut < MT_STACK_CUT_MAX)
		count(&stack_cuts, cut);
	if (!n || n > MT_MAX_STACK_DEPTH)
		return 0;
	w->stack.nr = n;
	w->stack._pad = 0;
	if (!id)
		id = 1;
	/* most stacks are known already: a lookup takes no lock, an insert does */
	if (bpf_map_lookup_elem(&stacks, &id))
		return id;
	err = bpf_map_update_elem(&stacks, &id, &w->stack, BPF_NOEXIST);
	if (err && err != -EEXIST) {
		count(&drops, MT_DROP_STACK);
		return 0;
	}
	return id;
}

#endif /* MEMTRACK_STACK_WALK_BPF_H */
