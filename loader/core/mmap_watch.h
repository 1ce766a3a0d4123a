/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Following what traced processes map, the way perf does: a dummy software
 * event on every CPU asks the kernel for an mmap record (with the file's
 * build-id) each time any process maps code. Records of traced processes
 * go into the address spaces, even when the process is gone before its
 * events are read. The records and the allocation events come through
 * different buffers, so a record may arrive before we know its process is
 * ours: it waits a while.
 */
#ifndef MEMTRACK_MMAP_WATCH_H
#define MEMTRACK_MMAP_WATCH_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "address_space.h"

struct mmap_watch;
struct bpf_map;

/* perf_map: a BPF_MAP_TYPE_PERF_EVENT_ARRAY; tracked: the map of traced tgids. */
int mmap_watch_open(struct bpf_map *perf_map, struct bpf_map *tracked,
		    struct address_spaces *spaces, struct mmap_watch **out);
/* Take in every record the kernel has made so far. */
int mmap_watch_consume(struct mmap_watch *w);
/* pid is (or was, until exit_time; UINT64_MAX: still) one of ours. */
void mmap_watch_pid(struct mmap_watch *w, pid_t pid, uint64_t exit_time);
/*
 * When the exec of pid that the kernel's exec tracepoint saw at tp_time
 * began (the kernel's comm record of it), 0 if unknown. Earlier than the
 * tracepoint: the new image's mappings are made in between.
 */
uint64_t mmap_watch_exec_began(struct mmap_watch *w, pid_t pid, uint64_t tp_time);
/* Call fn with each file mapping of code taken in for one of ours (a dlopen, say). */
void mmap_watch_on_map(struct mmap_watch *w, void (*fn)(void *ctx, pid_t pid, const char *path),
		       void *ctx);
/* Records the kernel could not deliver (its buffer was full). */
unsigned long long mmap_watch_lost(const struct mmap_watch *w);
void mmap_watch_close(struct mmap_watch *w);

#endif /* MEMTRACK_MMAP_WATCH_H */
