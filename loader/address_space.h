/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What each traced process had mapped, by pid: read from /proc/PID/maps
 * while it runs, or from a trace's Maps records, so that its stacks can be
 * symbolized after it is gone, even elsewhere (build-ids name the files).
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

struct address_space {
	pid_t pid;
	unsigned int generation; /* bumped at each new set of mappings */
	struct memtrack_mapping *maps; /* sorted by start */
	size_t n;
};

struct address_spaces {
	struct u64_map by_pid; /* pid -> index + 1 */
	struct address_space *spaces;
	size_t n, cap;
	struct u64_map build_ids; /* (dev, inode) -> index + 1 in ids[] */
	char **ids;
	size_t nids;
};

/* Read /proc/PID/maps now (file mappings only) as pid's mappings. -ESRCH if it is gone. */
int as_read_proc(struct address_spaces *a, pid_t pid);
/* Parse maps text (as /proc/PID/maps has it) into pid's mappings; build-ids via root/ */
int as_read_maps(struct address_spaces *a, pid_t pid, FILE *maps, const char *root);
/* Set pid's mappings (copies them). */
int as_set(struct address_spaces *a, pid_t pid, const struct memtrack_mapping *maps, size_t n);
const struct address_space *as_get(const struct address_spaces *a, pid_t pid);
/* The mapping holding ip, or NULL. */
const struct memtrack_mapping *as_find(const struct address_space *s, uint64_t ip);
/* pid exec'd: its mappings are no longer what its next stacks need. */
void as_forget(struct address_spaces *a, pid_t pid);
void as_free(struct address_spaces *a);

#endif /* MEMTRACK_ADDRESS_SPACE_H */
