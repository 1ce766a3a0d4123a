/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * --unwind dwarf: each object's call-frame information, compiled into rows
 * once (sys/cfi_table.c) and put where the BPF walk finds them
 * (bpf/stack_walk.bpf.h): the rows into the unwind_rows array, mmap'd here;
 * the object, by its file's device and inode, into unwind_objects. Objects
 * are added as they are found: those probed, those a command or process
 * maps or will load, those mapped later (dlopen). A frame in an object
 * not added yet falls back to its frame pointer, and where that fails the
 * cut is counted (no_unwind_table).
 */
#ifndef MEMTRACK_UNWIND_TABLES_H
#define MEMTRACK_UNWIND_TABLES_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "memtrack_events.h"
#include "u64_map.h"

struct memtrack_bpf;

struct unwind_tables {
	bool on;
	pthread_mutex_t lock;	  /* objects are added from the caller's thread, the poller's, the follower's */
	struct mt_unwind_row *rows; /* the BPF array, mmap'd */
	size_t cap, used;	  /* rows */
	size_t nobjects;	  /* objects with rows */
	int objects_fd;		  /* unwind_objects */
	volatile __u32 *gen;	  /* the BPF side's unwind_gen: bumped after each object added */
	struct u64_map done;	  /* files (dev, inode) added, or found without rows */
};

/* Before the BPF object is loaded: on (opts.unwind), the rows' room. 0 or a negative errno. */
int unwind_tables_setup(struct unwind_tables *u, struct memtrack_bpf *skel, bool on);
/* After: map the rows. 0 or a negative errno. */
int unwind_tables_open(struct unwind_tables *u, struct memtrack_bpf *skel);
/*
 * The rows of the file at path (flags: MT_UNWIND_*), once per file. 0, or
 * a negative errno: -ENOENT (no CFI: its frames use frame pointers),
 * -ENOSPC (no room left for rows), -ENOMEM, or what reading it gave.
 */
int unwind_tables_add(struct unwind_tables *u, const char *path, unsigned int flags);
void unwind_tables_close(struct unwind_tables *u);

#endif /* MEMTRACK_UNWIND_TABLES_H */
