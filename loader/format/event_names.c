// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The one table of names for the enums of bpf/memtrack_events.h. */
#include <stddef.h>

#include "memtrack.h"

static const char *const type_names[MT_EV_TYPE_MAX] = {
	[MT_EV_MALLOC] = "Malloc",   [MT_EV_FREE] = "Free",
	[MT_EV_CALLOC] = "Calloc",   [MT_EV_REALLOC] = "Realloc",
	[MT_EV_ALIGNED_ALLOC] = "AlignedAlloc", [MT_EV_MMAP] = "Mmap",
	[MT_EV_MUNMAP] = "Munmap",   [MT_EV_BRK] = "Brk",
	[MT_EV_FORK] = "Fork",	     [MT_EV_EXEC] = "Exec",
	[MT_EV_EXIT] = "Exit",
};

static const char *const func_names[MT_FN_MAX] = {
	[MT_FN_MALLOC] = "malloc",
	[MT_FN_CALLOC] = "calloc",
	[MT_FN_REALLOC] = "realloc",
	[MT_FN_REALLOCARRAY] = "reallocarray",
	[MT_FN_FREE] = "free",
	[MT_FN_ALIGNED_ALLOC] = "aligned_alloc",
	[MT_FN_POSIX_MEMALIGN] = "posix_memalign",
	[MT_FN_MEMALIGN] = "memalign",
	[MT_FN_VALLOC] = "valloc",
	[MT_FN_PVALLOC] = "pvalloc",
	[MT_FN_NEW] = "operator new",
	[MT_FN_NEW_ARRAY] = "operator new[]",
	[MT_FN_DELETE] = "operator delete",
	[MT_FN_DELETE_ARRAY] = "operator delete[]",
	[MT_FN_MMAP] = "mmap",
	[MT_FN_MREMAP] = "mremap",
	[MT_FN_MUNMAP] = "munmap",
	[MT_FN_BRK] = "brk",
};

static const char *const drop_names[MT_DROP_MAX] = {
	[MT_DROP_RINGBUF_FULL] = "ringbuf_full",
	[MT_DROP_MAP_FULL] = "map_full",
	[MT_DROP_NO_MEMORY] = "no_memory",
	[MT_DROP_READ_FAULT] = "read_fault",
	[MT_DROP_LOST_RETURN] = "lost_return",
	[MT_DROP_STACK] = "stack_full",
	[MT_DROP_OTHER] = "other",
};

static const char *const stack_cut_names[MT_STACK_CUT_MAX] = {
	[MT_STACK_CUT_DEPTH] = "depth",
	[MT_STACK_CUT_NO_FRAME] = "no_frame_pointer",
	[MT_STACK_CUT_UNREADABLE] = "unreadable",
	[MT_STACK_CUT_NO_TABLE] = "no_unwind_table",
};

const char *memtrack_event_type_name(unsigned int type)
{
	return type < MT_EV_TYPE_MAX ? type_names[type] : NULL;
}

const char *memtrack_func_name(unsigned int func)
{
	return func < MT_FN_MAX ? func_names[func] : NULL;
}

const char *memtrack_drop_reason_name(unsigned int reason)
{
	return reason < MT_DROP_MAX ? drop_names[reason] : NULL;
}

const char *memtrack_stack_cut_name(unsigned int reason)
{
	return reason < MT_STACK_CUT_MAX ? stack_cut_names[reason] : NULL;
}
