// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Per-process heap accounting and its report: the malloc_free columns, and drops. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "memtrack.h"
#include "u64_map.h"

struct proc_entry {
	struct memtrack_proc_stats st;
	struct u64_map live; /* address -> size of the blocks it holds */
};

struct memtrack_summary {
	struct proc_entry *procs;
	size_t nprocs, cap;
	struct u64_map by_pid; /* pid -> index + 1 of its current entry */
};

struct memtrack_summary *memtrack_summary_new(void)
{
	return calloc(1, sizeof(struct memtrack_summary));
}

static struct proc_entry *new_entry(struct memtrack_summary *s, pid_t pid)
{
	struct proc_entry *e;

	if (s->nprocs == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		struct proc_entry *procs = realloc(s->procs, cap * sizeof(*procs));

		if (!procs)
			return NULL;
		s->procs = procs;
		s->cap = cap;
	}
	if (u64_map_put(&s->by_pid, (uint64_t)pid, s->nprocs + 1))
		return NULL;
	e = &s->procs[s->nprocs++];
	memset(e, 0, sizeof(*e));
	e->st.pid = pid;
	return e;
}

/* The entry of a pid; a new one if it was never seen or its last life has exited. */
static struct proc_entry *entry_of(struct memtrack_summary *s, pid_t pid, bool new_life)
{
	uint64_t idx;

	if (u64_map_get(&s->by_pid, (uint64_t)pid, &idx)) {
		struct proc_entry *e = &s->procs[idx - 1];

		if (!(new_life && e->st.exited))
			return e;
	}
	return new_entry(s, pid);
}

static void release(struct proc_entry *e, uint64_t addr)
{
	uint64_t size;

	e->st.frees++;
	if (!u64_map_take(&e->live, addr, &size)) {
		e->st.unknown_frees++;
		return;
	}
	e->st.free_bytes += size;
	e->st.live_bytes -= size;
}

static int allocate(struct proc_entry *e, uint64_t addr, uint64_t size)
{
	uint64_t stale;

	e->st.allocs++;
	e->st.alloc_bytes += size;
	if (size > e->st.max_request)
		e->st.max_request = size;
	/* Still live means its free was lost: that life is over now. */
	if (u64_map_take(&e->live, addr, &stale)) {
		e->st.free_bytes += stale;
		e->st.live_bytes -= stale;
	}
	if (u64_map_put(&e->live, addr, size))
		return -ENOMEM;
	e->st.live_bytes += size;
	if (e->st.live_bytes > e->st.peak_bytes)
		e->st.peak_bytes = e->st.live_bytes;
	return 0;
}

static void set_comm(struct proc_entry *e, const char *comm)
{
	memcpy(e->st.comm, comm, sizeof(e->st.comm));
	e->st.comm[sizeof(e->st.comm) - 1] = '\0';
}

/* exec replaced the image: every block of the old one is gone. */
static void release_all(struct proc_entry *e)
{
	e->st.free_bytes += e->st.live_bytes;
	e->st.live_bytes = 0;
	u64_map_clear(&e->live);
}

int memtrack_summary_add(struct memtrack_summary *s, const union mt_event *ev)
{
	const struct mt_alloc_event *a = &ev->alloc;
	const struct mt_proc_event *p = &ev->proc;
	struct proc_entry *e = entry_of(s, (pid_t)ev->hdr.pid, ev->hdr.type == MT_EV_FORK);

	if (!e)
		return -ENOMEM;
	switch (ev->hdr.type) {
	case MT_EV_MALLOC:
	case MT_EV_CALLOC:
	case MT_EV_ALIGNED_ALLOC:
		return allocate(e, a->addr, a->size);
	case MT_EV_REALLOC:
		if (a->old_addr)
			release(e, a->old_addr);
		return a->addr ? allocate(e, a->addr, a->size) : 0;
	case MT_EV_FREE:
		release(e, a->addr);
		return 0;
	case MT_EV_FORK:
		e->st.ppid = (pid_t)p->ppid;
		set_comm(e, p->comm);
		return 0;
	case MT_EV_EXEC:
		e->st.ppid = (pid_t)p->ppid;
		set_comm(e, p->comm);
		release_all(e);
		return 0;
	case MT_EV_EXIT:
		e->st.ppid = (pid_t)p->ppid;
		set_comm(e, p->comm);
		e->st.exited = true;
		e->st.exit_status = p->exit_code;
		return 0;
	default:
		return 0;
	}
}

size_t memtrack_summary_count(const struct memtrack_summary *s)
{
	return s->nprocs;
}

const struct memtrack_proc_stats *memtrack_summary_proc(const struct memtrack_summary *s, size_t i)
{
	return i < s->nprocs ? &s->procs[i].st : NULL;
}

/* The process's name: from its events, else from /proc while it still runs. */
static const char *comm_of(const struct memtrack_proc_stats *st, char *buf, size_t size)
{
	char path[64];
	FILE *f;

	if (st->comm[0])
		return st->comm;
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)st->pid);
	f = fopen(path, "re");
	if (!f || !fgets(buf, (int)size, f)) {
		if (f)
			fclose(f);
		return "?";
	}
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	return buf;
}

static void exit_of(const struct memtrack_proc_stats *st, char *buf, size_t size)
{
	if (!st->exited)
		snprintf(buf, size, "-");
	else if (st->exit_status & 0x7f)
		snprintf(buf, size, "sig%u", st->exit_status & 0x7f);
	else
		snprintf(buf, size, "%u", (st->exit_status >> 8) & 0xff);
}

static void print_counters(const struct memtrack_counters *c, FILE *out)
{
	unsigned long long dropped = 0, failed = 0;

	for (unsigned i = 0; i < MT_FN_MAX; i++)
		failed += c->failures[i];
	if (failed) {
		fprintf(out, "memtrack: %llu failed calls (not counted as allocations):", failed);
		for (unsigned i = 0; i < MT_FN_MAX; i++)
			if (c->failures[i])
				fprintf(out, " %s %llu", memtrack_func_name(i), c->failures[i]);
		fputc('\n', out);
	}
	for (unsigned i = 0; i < MT_DROP_MAX; i++)
		dropped += c->drops[i];
	fprintf(out, "memtrack: %llu events dropped (", dropped);
	for (unsigned i = 0; i < MT_DROP_MAX; i++)
		fprintf(out, "%s%s %llu", i ? ", " : "", memtrack_drop_reason_name(i), c->drops[i]);
	fprintf(out, ")\n");
}

void memtrack_summary_print(const struct memtrack_summary *s, const struct memtrack_counters *c,
			    FILE *out)
{
	unsigned long long unknown = 0;
	char comm[MT_COMM_LEN + 1], status[16];

	fprintf(out, "%8s %8s %9s %9s %12s %12s %12s %12s %12s %6s  %s\n", "PID", "PPID", "Allocs",
		"Frees", "Alloc", "Free", "Real", "Real.max", "Req.max", "Exit", "Comm");
	for (size_t i = 0; i < s->nprocs; i++) {
		const struct memtrack_proc_stats *st = &s->procs[i].st;

		exit_of(st, status, sizeof(status));
		fprintf(out, "%8d %8d %9llu %9llu %12llu %12llu %12llu %12llu %12llu %6s  %s\n",
			(int)st->pid, (int)st->ppid, st->allocs, st->frees, st->alloc_bytes,
			st->free_bytes, st->live_bytes, st->peak_bytes, st->max_request, status,
			comm_of(st, comm, sizeof(comm)));
		unknown += st->unknown_frees;
	}
	if (unknown)
		fprintf(out,
			"memtrack: %llu releases of blocks allocated before tracing began "
			"(not in Free)\n",
			unknown);
	if (c)
		print_counters(c, out);
}

void memtrack_summary_free(struct memtrack_summary *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nprocs; i++)
		u64_map_free(&s->procs[i].live);
	free(s->procs);
	u64_map_free(&s->by_pid);
	free(s);
}
