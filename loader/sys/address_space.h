/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What each traced process had mapped, and when: a timeline per pid of
 * executable file mappings, each with the time it was made, cut at each
 * exec. Filled while tracing from the kernel's mmap records (even a
 * process that is gone a moment later is known) and, for a process that
 * already ran, from /proc/PID/maps; or from a trace's Mapping records. A
 * stack taken at time T in pid P is read with the mappings P had at T.
 */
#ifndef MEMTRACK_ADDRESS_SPACE_H
#define MEMTRACK_ADDRESS_SPACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "memtrack.h"
#include "u64_map.h"

struct mapping {
	struct memtrack_mapping m; /* path and build_id are interned: they live as long as the set */
	uint64_t time;		   /* when it was mapped (CLOCK_MONOTONIC ns; 0: before tracing) */
};

struct proc_maps {
	pid_t pid;
	struct mapping *maps; /* in the order they were added */
	size_t n, cap;
	uint64_t *execs; /* when it exec'd, in order */
	size_t nexecs;
};

struct address_spaces {
	struct u64_map by_pid; /* pid -> index + 1 */
	struct proc_maps *procs;
	size_t nprocs, cap;
	struct u64_map strings; /* hash -> index + 1 in strings[]: interned paths and build-ids */
	char **str;
	size_t nstr;
	struct u64_map build_ids; /* (dev, inode) -> index + 1 in str[] */
};

/* Add a mapping of pid made at time (start, end, offset, path, build_id copied). */
int as_add(struct address_spaces *a, pid_t pid, const struct memtrack_mapping *m, uint64_t time);

/*
 * A mapping the kernel recorded at time. If the image pid ran then knows
 * it already (from an earlier record, or a read of /proc/PID/maps made
 * because a stack needed it first), it stays one mapping, made at the
 * earlier of the two times. Else as as_add().
 */
int as_add_recorded(struct address_spaces *a, pid_t pid, const struct memtrack_mapping *m,
		    uint64_t time);

/*
 * Add what /proc/PID/maps shows now (executable file mappings), at time
 * (0: since before tracing). build-ids are read from the files. -ESRCH if gone.
 */
int as_read_proc(struct address_spaces *a, pid_t pid, uint64_t time);
/* The same from maps text; files are opened under root (NULL: "/"). */
int as_read_maps(struct address_spaces *a, pid_t pid, FILE *maps, const char *root,
		 uint64_t time);

/* pid exec'd at time: mappings made before are gone for it from then on. */
int as_exec(struct address_spaces *a, pid_t pid, uint64_t time);
/* child was forked from parent at time: it starts with the parent's mappings. */
int as_fork(struct address_spaces *a, pid_t parent, pid_t child, uint64_t time);

/*
 * The mapping that held ip in pid at time T: the latest one made at or
 * before T, after the last exec at or before T. NULL if none.
 */
const struct memtrack_mapping *as_find(const struct address_spaces *a, pid_t pid, uint64_t ip,
				       uint64_t time);

const struct proc_maps *as_proc(const struct address_spaces *a, pid_t pid);
void as_free(struct address_spaces *a);

#endif /* MEMTRACK_ADDRESS_SPACE_H */
