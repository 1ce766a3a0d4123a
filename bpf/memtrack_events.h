/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The records that cross the BPF / user-space boundary.
 *
 * This is the only definition of them: bpf/memtrack.bpf.c writes them into
 * the ring buffer, libmemtrack reads them and hands them to its users as
 * they are (include/memtrack.h includes this file). Fixed-width types, no
 * pointers, explicit padding, a size assertion on every record.
 */
#ifndef MEMTRACK_EVENTS_H
#define MEMTRACK_EVENTS_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* What happened. Names for user space are in loader/format/event_names.c. */
enum mt_event_type {
	MT_EV_MALLOC = 1,
	MT_EV_FREE = 2,
	MT_EV_CALLOC = 3,
	MT_EV_REALLOC = 4,	/* realloc and reallocarray */
	MT_EV_ALIGNED_ALLOC = 5, /* aligned_alloc, posix_memalign, memalign, valloc, pvalloc */
	MT_EV_MMAP = 6,		/* --mmap: an anonymous mmap, or an mremap */
	MT_EV_MUNMAP = 7,	/* --mmap: munmap of anonymous memory */
	MT_EV_BRK = 8,		/* --mmap: brk moving the program break */
	MT_EV_FORK = 9,
	MT_EV_EXEC = 10,
	MT_EV_EXIT = 11,
	MT_EV_TYPE_MAX,
};

/*
 * What kind of record an event type is, the one definition, for the BPF
 * side and user space alike: allocator calls (the heap), --mmap's memory
 * calls, and the process tree.
 */
static inline __attribute__((always_inline)) int mt_is_alloc_event(__u32 type)
{
	switch (type) {
	case MT_EV_MALLOC:
	case MT_EV_FREE:
	case MT_EV_CALLOC:
	case MT_EV_REALLOC:
	case MT_EV_ALIGNED_ALLOC:
		return 1;
	default:
		return 0;
	}
}

static inline __attribute__((always_inline)) int mt_is_memory_call(__u32 type)
{
	return type == MT_EV_MMAP || type == MT_EV_MUNMAP || type == MT_EV_BRK;
}

static inline __attribute__((always_inline)) int mt_is_proc_event(__u32 type)
{
	return type == MT_EV_FORK || type == MT_EV_EXEC || type == MT_EV_EXIT;
}

/* The exact allocator function behind an allocation event. */
enum mt_func {
	MT_FN_MALLOC = 0,
	MT_FN_CALLOC,
	MT_FN_REALLOC,
	MT_FN_REALLOCARRAY,
	MT_FN_FREE,
	MT_FN_ALIGNED_ALLOC,
	MT_FN_POSIX_MEMALIGN,
	MT_FN_MEMALIGN,
	MT_FN_VALLOC,
	MT_FN_PVALLOC,
	/* C++: every variant (nothrow, sized, aligned) is its plain form's call */
	MT_FN_NEW,	    /* operator new: Malloc, or AlignedAlloc for the aligned ones */
	MT_FN_NEW_ARRAY,    /* operator new[] */
	MT_FN_DELETE,	    /* operator delete: Free */
	MT_FN_DELETE_ARRAY, /* operator delete[] */
	/* --mmap: the system calls that bypass malloc */
	MT_FN_MMAP,
	MT_FN_MREMAP,
	MT_FN_MUNMAP,
	MT_FN_BRK,
	MT_FN_MAX,
};

/*
 * The attach cookie of an allocator uprobe: which function it is (enum
 * mt_func in the low byte), and how it takes its arguments.
 */
#define MT_COOKIE_FUNC_MASK  0xffULL
#define MT_COOKIE_SIZE_FIRST (1ULL << 8) /* (size, alignment), not (alignment, size) */

/*
 * The event an allocator function's call makes (0: none): the one mapping,
 * for the BPF side and user space alike. aligned says whether an operator
 * new was given an alignment.
 */
static inline __attribute__((always_inline)) __u32 mt_func_event_type(__u32 func, int aligned)
{
	switch (func) {
	case MT_FN_MALLOC:
		return MT_EV_MALLOC;
	case MT_FN_CALLOC:
		return MT_EV_CALLOC;
	case MT_FN_REALLOC:
	case MT_FN_REALLOCARRAY:
		return MT_EV_REALLOC;
	case MT_FN_FREE:
	case MT_FN_DELETE:
	case MT_FN_DELETE_ARRAY:
		return MT_EV_FREE;
	case MT_FN_ALIGNED_ALLOC:
	case MT_FN_POSIX_MEMALIGN:
	case MT_FN_MEMALIGN:
	case MT_FN_VALLOC:
	case MT_FN_PVALLOC:
		return MT_EV_ALIGNED_ALLOC;
	case MT_FN_NEW:
	case MT_FN_NEW_ARRAY:
		return aligned ? MT_EV_ALIGNED_ALLOC : MT_EV_MALLOC;
	case MT_FN_MMAP:
	case MT_FN_MREMAP:
		return MT_EV_MMAP;
	case MT_FN_MUNMAP:
		return MT_EV_MUNMAP;
	case MT_FN_BRK:
		return MT_EV_BRK;
	default:
		return 0;
	}
}

/*
 * The function an event of this type stands for when it names none: a
 * trace leaves out "func" where the type implies it (json_event.c).
 */
static inline __attribute__((always_inline)) __u32 mt_event_default_func(__u32 type)
{
	switch (type) {
	case MT_EV_MALLOC:
		return MT_FN_MALLOC;
	case MT_EV_CALLOC:
		return MT_FN_CALLOC;
	case MT_EV_FREE:
		return MT_FN_FREE;
	case MT_EV_REALLOC:
		return MT_FN_REALLOC;
	case MT_EV_MUNMAP:
		return MT_FN_MUNMAP;
	case MT_EV_BRK:
		return MT_FN_BRK;
	case MT_EV_MMAP:
		return MT_FN_MMAP;
	default:
		return MT_FN_ALIGNED_ALLOC;
	}
}

/* An Exit event's exit_code is a wait(2) status: its exit code, or the signal that killed it. */
static inline __attribute__((always_inline)) __u32 mt_exit_code(__u32 status)
{
	return (status >> 8) & 0xff;
}

static inline __attribute__((always_inline)) __u32 mt_exit_signal(__u32 status)
{
	return status & 0x7f;
}

static inline __attribute__((always_inline)) __u32 mt_exit_status(__u32 code, __u32 signal)
{
	return (code & 0xff) << 8 | (signal & 0x7f);
}

/*
 * Why an event was lost. Every lost event increments exactly one of these
 * per-CPU counters; user space sums them and always reports them.
 */
enum mt_drop_reason {
	MT_DROP_RINGBUF_FULL = 0, /* bpf_ringbuf_reserve() failed */
	MT_DROP_MAP_FULL,	  /* a map update failed with -E2BIG */
	MT_DROP_NO_MEMORY,	  /* a map update failed with -ENOMEM */
	MT_DROP_READ_FAULT,	  /* user memory could not be read (posix_memalign's result) */
	MT_DROP_LOST_RETURN,	  /* a call's return was never seen (the kernel skipped the uretprobe) */
	MT_DROP_STACK,		  /* the stacks map was full: an event went without its stack */
	MT_DROP_OTHER,		  /* any other map update failure */
	MT_DROP_MAX,
};

/*
 * Why a user stack ended before its outermost frame. Not a lost event: the
 * event keeps the frames walked so far; each cut stack counts once.
 */
enum mt_stack_cut {
	MT_STACK_CUT_DEPTH = 0,	 /* --stack-depth frames taken, and the chain went on */
	MT_STACK_CUT_NO_FRAME,	 /* a frame without a frame pointer (code built without them) */
	MT_STACK_CUT_UNREADABLE, /* a frame's memory could not be read */
	/* --unwind dwarf: a frame in an object whose unwind table is not loaded (yet), nor a frame pointer */
	MT_STACK_CUT_NO_TABLE,
	MT_STACK_CUT_MAX,
};

/* The most a frame pointer may move up the stack in one frame: more is not a frame. */
#define MT_MAX_FRAME_SPAN (1ULL << 20)

#define MT_COMM_LEN 16
#define MT_FILENAME_LEN 256
/* The kernel's default kernel.perf_event_max_stack: the deepest stack kept. */
#define MT_MAX_STACK_DEPTH 127

/*
 * DWARF unwinding (--unwind dwarf). User space compiles each object's
 * call-frame information (.eh_frame, .debug_frame) into rows, sorted by
 * address: from its pc to the next row's, how to find the caller's frame.
 * x86-64 keeps the return address at CFA - 8 (the call pushed it).
 */
enum mt_cfa_rule {
	MT_CFA_NONE = 0, /* no CFI here (or a rule the BPF side cannot follow): frame pointer */
	MT_CFA_RSP = 1,	 /* CFA = rsp + cfa_off */
	MT_CFA_RBP = 2,	 /* CFA = rbp + cfa_off */
	MT_CFA_PLT = 3,	 /* a PLT entry: rsp + cfa_off, + 8 from its 11th byte on */
	MT_CFA_END = 4,	 /* the return address is undefined: the outermost frame */
};

struct mt_unwind_row {
	__u32 pc;      /* the object's virtual address (as in its ELF file) where the row begins */
	__u16 cfa_off; /* bytes added to the CFA's register */
	__s8 rbp_off;  /* rbp saved at CFA + 8 * rbp_off; 0: rbp is unchanged */
	__u8 cfa_rule; /* enum mt_cfa_rule */
};
_Static_assert(sizeof(struct mt_unwind_row) == 8, "mt_unwind_row layout");

/*
 * The objects with unwind rows, by the file a code mapping is of: its
 * device (the kernel's dev_t, major << 20 | minor) and inode.
 */
struct mt_unwind_key {
	__u64 dev;
	__u64 ino;
};

#define MT_UNWIND_SKIP 1 /* frames in this object are not kept (the USDT shim's own) */

struct mt_unwind_object {
	__u32 first;	   /* its rows in the unwind_rows array: [first, first + n) */
	__u32 n;
	__s64 vaddr_delta; /* its code's p_vaddr - p_offset: vaddr = file offset + this */
	__u32 flags;	   /* MT_UNWIND_* */
	__u32 _pad;
};

/*
 * FNV-1a, the one hash: the BPF side folds each frame into a stack's id
 * with it; user space hashes strings and keys with it (loader/base/fnv_hash.h).
 */
#define MT_FNV1A_SEED 0xcbf29ce484222325ULL
#define MT_FNV1A_PRIME 0x100000001b3ULL

/*
 * A stack's id is its hash cut to 53 bits (0 is no stack): readers that
 * hold JSON numbers as doubles (jq 1.6, JavaScript) keep it exact. A
 * million stacks share an id with odds of about 1 in 18,000.
 */
#define MT_STACK_ID_BITS 53
#define MT_STACK_ID_MASK ((1ULL << MT_STACK_ID_BITS) - 1)

/* Common to every record: what, when (CLOCK_MONOTONIC ns) and who. */
struct mt_event_hdr {
	__u64 timestamp;
	__u32 type; /* enum mt_event_type */
	__u32 pid;  /* thread-group id, as user space calls a pid */
	__u32 tid;
	__u32 _pad;
};
_Static_assert(sizeof(struct mt_event_hdr) == 24, "mt_event_hdr layout");

/*
 * Malloc, Calloc, Realloc, AlignedAlloc and Free.
 *
 * Only successful calls become events; failures are counted per function.
 * Realloc means: old_addr (if not 0) was released, addr (if not 0) now
 * holds size bytes. realloc(p, 0) is therefore {old_addr = p, addr = 0}.
 *
 * With --mmap, also Mmap (func mmap: addr, size; func mremap: old_addr and
 * align = the old size moved to addr, size), Munmap (addr, size) and Brk
 * (addr = the new break, old_addr = the one before, 0 if unknown). These
 * become events failed or not: err is the errno of a failed one.
 */
struct mt_alloc_event {
	struct mt_event_hdr hdr;
	__u64 addr;	/* the block returned (Free: the block released) */
	__u64 size;	/* bytes requested; calloc and reallocarray: nmemb * size */
	__u64 old_addr; /* Realloc only */
	union {
		__u64 align;   /* AlignedAlloc; and mremap's old size */
		__u64 entered; /* Realloc: when the call began (ns); 0: not known (USDT) */
	};
	__u32 func;	/* enum mt_func */
	__u32 err;	/* Mmap, Munmap, Brk: the errno if the call failed; else 0 */
	__u64 stack_id; /* the user stack, a key of the stacks map; 0: none */
	__u64 cgroup_id; /* with --cgroup-ids: the caller's cgroup (v2) id; else 0 */
};
_Static_assert(sizeof(struct mt_alloc_event) == 80, "mt_alloc_event layout");

/*
 * A user call stack, stored once in the stacks map under its id (a hash of
 * its frames). ip[0] is the allocator's caller, then its callers.
 */
struct mt_stack {
	__u32 nr; /* frames used */
	__u32 _pad;
	__u64 ip[MT_MAX_STACK_DEPTH];
};
_Static_assert(sizeof(struct mt_stack) == 8 + 8 * MT_MAX_STACK_DEPTH, "mt_stack layout");

/*
 * An Exec that gave the process privileges it did not have (setuid,
 * setgid, file capabilities: the kernel's secure exec). It is the last
 * event of that process: tracing stops at the privilege boundary.
 */
#define MT_EXEC_PRIVILEGED 1u

/* Fork, Exec and Exit of a tracked process. */
struct mt_proc_event {
	struct mt_event_hdr hdr;
	__u32 ppid;	 /* Fork: the parent; Exec, Exit: the current parent */
	__u32 exit_code; /* Exit: wait(2) status: (code << 8) | signal; Exec: MT_EXEC_* flags */
	__u64 cgroup_id; /* its cgroup (v2): the inode number of the cgroup's directory */
	char comm[MT_COMM_LEN];
	char filename[MT_FILENAME_LEN]; /* Exec only: the path passed to execve */
};
_Static_assert(sizeof(struct mt_proc_event) == 24 + 8 + 8 + 16 + 256, "mt_proc_event layout");

/*
 * Report-only runs (memtrack_opts.aggregate): instead of streaming every
 * allocation, the kernel keeps the live blocks, the totals of each
 * (process, stack) and of each process in these maps; user space reads
 * them once, at the end. Fork, exec and exit are still streamed.
 *
 * THE ACCOUNTING RULES. A report must be the same whichever way its
 * numbers came, so bpf/aggregate.bpf.h (in the kernel) and
 * loader/report/summary.c (from a stream of events) both apply these, and
 * test_aggregate runs every report both ways and compares them:
 *  R1 An allocation (Malloc, Calloc, AlignedAlloc, a Realloc's new block)
 *     of size in [min_size, max_size] (0: no bound) counts: allocs, its
 *     function's calls, alloc_bytes, live_bytes and live_blocks go up, the
 *     peak follows live_bytes, and its (process, stack) site counts it;
 *     the first time a site is seen is when its stack is named from.
 *  R2 The largest request is the first largest in range: a later one
 *     replaces it only if it is strictly larger.
 *  R3 A block outside the size range is still followed, only so that its
 *     release pairs; it counts nowhere, and its release neither.
 *  R4 Releasing a followed block in range (Free, a Realloc's old block)
 *     counts a free and its bytes; it leaves the live bytes and blocks.
 *  R5 Releasing an address not followed (allocated before tracing, or
 *     its allocation was lost) counts a free and an unknown free, no bytes.
 *  R6 An allocation at an address still live ends that block's life (its
 *     free was lost): its bytes leave live and count as freed, with no
 *     free counted.
 *  R7 realloc(p, 0) that returns NULL releases p and counts a realloc call.
 *  R8 exec releases every block of the old image (as R4 without counting
 *     frees); blocks made before the last exec are not reported live.
 *  R9 A failed call is no event: it allocates and releases nothing, and
 *     counts only among the failures by function. Every Free call counts
 *     its function's call, whatever it releases.
 * R10 A Realloc that began (entered) before the block now live at its old
 *     address was allocated does not release that block: the realloc
 *     freed its old block inside, another thread got the address before
 *     the realloc returned, and that allocation ended the old block (R6,
 *     marking itself as having displaced an in-range block). The Realloc
 *     counts the free R6 did not (if the old block was in range); the
 *     newer block stays live. With entered 0, the block at old_addr is
 *     released, as before.
 * R11 A pid may be used again within one run (after its process exited):
 *     each life of it is accounted apart. The kernel keys its maps by
 *     (pid, life); a record read back belongs to the life of its pid that
 *     had not yet exited at the record's time (a totals' image_time, a
 *     site's first_time, a block's time).
 */

/*
 * One life of a process: its pid, and a number the kernel gave it when it
 * began to be traced (fork, or exec into the scope; MT_LIFE_ADDED and up:
 * user space added it). Two lives of one pid never share a number.
 */
struct mt_life_key {
	__u32 pid;
	__u32 life;
};
_Static_assert(sizeof(struct mt_life_key) == 8, "mt_life_key layout");
#define MT_LIFE_ADDED 0x80000000u

/* live_blocks: one entry per block a process has allocated and not released. */
struct mt_block_key {
	__u32 pid;
	__u32 life;
	__u64 addr;
};
_Static_assert(sizeof(struct mt_block_key) == 16, "mt_block_key layout");

struct mt_block {
	__u64 size;
	__u64 stack_id;
	__u64 time;	 /* when it was allocated */
	__u16 filtered;	 /* outside the size range: kept only so its release pairs */
	__u16 func;	 /* enum mt_func */
	__u32 displaced; /* it ended an in-range block still live at its address (R6, R10) */
};
_Static_assert(sizeof(struct mt_block) == 32, "mt_block layout");

/* sites: what one process allocated from one stack (in the size range). */
struct mt_site_key {
	__u32 pid;
	__u32 life;
	__u64 stack_id;
};
_Static_assert(sizeof(struct mt_site_key) == 16, "mt_site_key layout");

struct mt_site {
	__u64 count;
	__u64 bytes;
	__u64 first_time; /* its first allocation: which mappings name the stack */
};
_Static_assert(sizeof(struct mt_site) == 24, "mt_site layout");

/* proc_totals: a process's accounting, as the per-process summary shows it. Key: mt_life_key. */
struct mt_proc_totals {
	__u64 allocs, frees;
	__u64 alloc_bytes, free_bytes;
	__u64 live_bytes, live_blocks, peak_bytes;
	__u64 max_request, largest_stack, largest_time, largest_addr;
	__u64 unknown_frees;   /* releases of blocks allocated before tracing */
	__u64 image_time;      /* its first call, or its last exec: older blocks are not its */
	__u64 calls[MT_FN_MAX]; /* successful calls by function */
};
_Static_assert(sizeof(struct mt_proc_totals) == 8 * (13 + MT_FN_MAX), "mt_proc_totals layout");

/* Any record, as the ring buffer delivers it; hdr.type says which member. */
union mt_event {
	struct mt_event_hdr hdr;
	struct mt_alloc_event alloc;
	struct mt_proc_event proc;
};

#endif /* MEMTRACK_EVENTS_H */
