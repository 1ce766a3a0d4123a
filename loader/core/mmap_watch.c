// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <linux/perf_event.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "grow_array.h"
#include "mmap_watch.h"

#define PAGES_PER_CPU 64 /* 256 KiB of records per CPU between two readings */
/* How long a record of a process we do not know (yet) is kept. */
#define PENDING_NS (10ull * 1000000000ull)

struct pending {
	pid_t pid;
	uint64_t time;
	struct memtrack_mapping m; /* path and build_id owned */
};

/* An exec's beginning, from the kernel's comm record, for any process. */
struct exec_begin {
	pid_t pid;
	uint64_t time;
};

struct mmap_watch {
	struct perf_buffer *pb;
	struct exec_begin *execs; /* recent ones: kept PENDING_NS */
	size_t nexecs;
	struct address_spaces *spaces;
	int tracked_fd;
	struct u64_map windows; /* pid -> exit time (UINT64_MAX: running) */
	struct pending *pending;
	size_t npending;
	uint64_t latest; /* the newest record's time */
	unsigned long long lost;
	void (*on_map)(void *ctx, pid_t pid, const char *path); /* each code mapping of ours */
	void *on_map_ctx;
};

/* The MMAP2 record, as perf_event.h describes it in a comment. */
struct mmap2_record {
	struct perf_event_header header;
	__u32 pid, tid;
	__u64 addr, len, pgoff;
	union {
		struct {
			__u32 maj, min;
			__u64 ino, ino_generation;
		};
		struct {
			__u8 build_id_size;
			__u8 reserved_1;
			__u16 reserved_2;
			__u8 build_id[20];
		};
	};
	__u32 prot, flags;
	char filename[];
	/* then, with sample_id_all: __u32 pid, tid; __u64 time */
};

struct lost_record {
	struct perf_event_header header;
	__u64 id, lost;
};

struct comm_record {
	struct perf_event_header header;
	__u32 pid, tid;
	char comm[];
	/* then, with sample_id_all: __u32 pid, tid; __u64 time */
};

static void exec_began(struct mmap_watch *w, pid_t pid, uint64_t time)
{
	size_t kept = 0;

	for (size_t i = 0; i < w->nexecs; i++)
		if (w->execs[i].time + PENDING_NS >= time)
			w->execs[kept++] = w->execs[i];
	w->nexecs = kept;
	if (APPEND_SLOT(w->execs, w->nexecs))
		return;
	w->execs[w->nexecs++] = (struct exec_begin){ pid, time };
}

uint64_t mmap_watch_exec_began(struct mmap_watch *w, pid_t pid, uint64_t tp_time)
{
	uint64_t best = 0;

	for (size_t i = 0; i < w->nexecs; i++)
		if (w->execs[i].pid == pid && w->execs[i].time <= tp_time && w->execs[i].time > best)
			best = w->execs[i].time;
	return best;
}

/* Is pid ours at time? From what we know, else from the kernel's map now. */
static bool ours(struct mmap_watch *w, pid_t pid, uint64_t time)
{
	uint64_t exit_time;
	__u32 key = (__u32)pid, life;

	if (u64_map_get(&w->windows, (uint64_t)pid, &exit_time))
		return time <= exit_time;
	if (bpf_map_lookup_elem(w->tracked_fd, &key, &life) == 0) {
		u64_map_put(&w->windows, (uint64_t)pid, UINT64_MAX);
		return true;
	}
	return false;
}

static void pending_add(struct mmap_watch *w, pid_t pid, uint64_t time,
			const struct memtrack_mapping *m)
{
	struct pending *p;

	if (APPEND_SLOT(w->pending, w->npending))
		return;
	p = &w->pending[w->npending];
	p->pid = pid;
	p->time = time;
	p->m = *m;
	p->m.path = strdup(m->path);
	p->m.build_id = strdup(m->build_id);
	if (!p->m.path || !p->m.build_id) {
		free((char *)p->m.path);
		free((char *)p->m.build_id);
		return;
	}
	w->npending++;
}

/* A mapping of one of ours: into its address space, and to whoever asked to hear of it. */
static void take(struct mmap_watch *w, pid_t pid, const struct memtrack_mapping *m, uint64_t time)
{
	as_add_recorded(w->spaces, pid, m, time);
	if (w->on_map && m->path && m->path[0] == '/')
		w->on_map(w->on_map_ctx, pid, m->path);
}

void mmap_watch_on_map(struct mmap_watch *w, void (*fn)(void *ctx, pid_t pid, const char *path),
		       void *ctx)
{
	w->on_map = fn;
	w->on_map_ctx = ctx;
}

/* Take in pending records that are now known to be ours; forget old ones. */
static void pending_review(struct mmap_watch *w)
{
	size_t kept = 0;

	for (size_t i = 0; i < w->npending; i++) {
		struct pending *p = &w->pending[i];
		uint64_t exit_time;
		bool known = u64_map_get(&w->windows, (uint64_t)p->pid, &exit_time);

		if (known && p->time <= exit_time)
			take(w, p->pid, &p->m, p->time);
		if (known || p->time + PENDING_NS < w->latest) {
			free((char *)p->m.path);
			free((char *)p->m.build_id);
			continue;
		}
		w->pending[kept++] = *p;
	}
	w->npending = kept;
}

static enum bpf_perf_event_ret on_record(void *ctx, int cpu, struct perf_event_header *hdr)
{
	const struct mmap2_record *r = (const void *)hdr;
	struct mmap_watch *w = ctx;
	char build_id[2 * sizeof(r->build_id) + 1] = "";
	struct memtrack_mapping m;
	uint64_t time;

	(void)cpu;
	if (hdr->type == PERF_RECORD_LOST) {
		w->lost += ((const struct lost_record *)hdr)->lost;
		return LIBBPF_PERF_EVENT_CONT;
	}
	if (hdr->size < sizeof(struct perf_event_header) + sizeof(__u64))
		return LIBBPF_PERF_EVENT_CONT;
	/* sample_id_all: every record ends with the time */
	memcpy(&time, (const char *)hdr + hdr->size - sizeof(time), sizeof(time));
	if (time > w->latest)
		w->latest = time;
	if (hdr->type == PERF_RECORD_COMM && (hdr->misc & PERF_RECORD_MISC_COMM_EXEC)) {
		exec_began(w, (pid_t)((const struct comm_record *)hdr)->pid, time);
		return LIBBPF_PERF_EVENT_CONT;
	}
	if (hdr->type != PERF_RECORD_MMAP2 || hdr->size < sizeof(*r) + sizeof(__u64) ||
	    !(r->prot & PROT_EXEC))
		return LIBBPF_PERF_EVENT_CONT;
	if (hdr->misc & PERF_RECORD_MISC_MMAP_BUILD_ID) {
		for (size_t i = 0; i < r->build_id_size && i < sizeof(r->build_id); i++)
			snprintf(build_id + 2 * i, 3, "%02x", r->build_id[i]);
	}
	m = (struct memtrack_mapping){
		.start = r->addr,
		.end = r->addr + r->len,
		.offset = r->pgoff,
		.path = r->filename,
		.build_id = build_id,
	};
	if (ours(w, (pid_t)r->pid, time))
		take(w, (pid_t)r->pid, &m, time);
	else
		pending_add(w, (pid_t)r->pid, time, &m);
	return LIBBPF_PERF_EVENT_CONT;
}

int mmap_watch_open(struct bpf_map *perf_map, struct bpf_map *tracked,
		    struct address_spaces *spaces, struct mmap_watch **out)
{
	struct perf_event_attr attr = {
		.type = PERF_TYPE_SOFTWARE,
		.config = PERF_COUNT_SW_DUMMY,
		.size = sizeof(attr),
		.sample_type = PERF_SAMPLE_TID | PERF_SAMPLE_TIME,
		.sample_id_all = 1,
		.mmap = 1,
		.mmap2 = 1,
		.comm = 1, /* for the comm records of execs: when each began */
		.comm_exec = 1,
		.build_id = 1,
		.use_clockid = 1,
		.clockid = CLOCK_MONOTONIC, /* the clock of bpf_ktime_get_ns(): events and maps agree */
		.watermark = 1,
		.wakeup_watermark = PAGES_PER_CPU * 4096 / 2,
	};
	struct mmap_watch *w = calloc(1, sizeof(*w));
	int err;

	*out = NULL;
	if (!w)
		return -ENOMEM;
	w->spaces = spaces;
	w->tracked_fd = bpf_map__fd(tracked);
	w->pb = perf_buffer__new_raw(bpf_map__fd(perf_map), PAGES_PER_CPU, &attr, on_record, w,
				     NULL);
	if (!w->pb) {
		err = -errno;
		free(w);
		return err;
	}
	*out = w;
	return 0;
}

int mmap_watch_consume(struct mmap_watch *w)
{
	int err = perf_buffer__consume(w->pb);

	pending_review(w);
	return err < 0 ? err : 0;
}

void mmap_watch_pid(struct mmap_watch *w, pid_t pid, uint64_t exit_time)
{
	u64_map_put(&w->windows, (uint64_t)pid, exit_time);
	pending_review(w);
}

unsigned long long mmap_watch_lost(const struct mmap_watch *w)
{
	return w->lost;
}

void mmap_watch_close(struct mmap_watch *w)
{
	if (!w)
		return;
	perf_buffer__free(w->pb);
	for (size_t i = 0; i < w->npending; i++) {
		free((char *)w->pending[i].m.path);
		free((char *)w->pending[i].m.build_id);
	}
	free(w->pending);
	free(w->execs);
	u64_map_free(&w->windows);
	free(w);
}
