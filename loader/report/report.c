// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The reports: the per-process summary (malloc_free's columns, plus live
 * blocks and their ages), leaks by allocation stack, the largest request
 * of each process, and call and drop statistics; as text, or as one JSON
 * document per report. They read the summary's state and change nothing.
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "error.h"
#include "json_put.h"
#include "safe_text.h"
#include "opts.h"
#include "folded.h"
#include "leaks.h"
#include "peak.h"
#include "report_cgroups.h"
#include "report_stack.h"
#include "summary.h"

/* "-", "850ns", "12.5us", "3.2ms", "1.25s". */
static const char *duration(uint64_t ns, bool known, char *buf, size_t size)
{
	if (!known)
		snprintf(buf, size, "-");
	else if (ns < 1000)
		snprintf(buf, size, "%lluns", (unsigned long long)ns);
	else if (ns < 1000000)
		snprintf(buf, size, "%.1fus", (double)ns / 1e3);
	else if (ns < 1000000000)
		snprintf(buf, size, "%.1fms", (double)ns / 1e6);
	else
		snprintf(buf, size, "%.2fs", (double)ns / 1e9);
	return buf;
}

static const char *plural(uint64_t n)
{
	return n == 1 ? "" : "s";
}

/*
 * The process's name, into buf: from its events, else from /proc while it
 * still runs. As the process set it: comm_text() for a text report, and
 * json_put_text() for JSON.
 */
static const char *comm_of(const struct memtrack_proc_stats *st, char *buf, size_t size)
{
	char path[64];
	FILE *f;

	if (st->comm[0]) {
		snprintf(buf, size, "%.*s", (int)sizeof(st->comm), st->comm);
		return buf;
	}
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)st->pid);
	f = fopen(path, "re");
	if (!f || !fgets(buf, (int)size, f)) {
		if (f)
			fclose(f);
		snprintf(buf, size, "?");
		return buf;
	}
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	return buf;
}

/* The name for a line of text: a newline or an escape in it would end or recolour the line. */
static const char *comm_text(const struct memtrack_proc_stats *st, char *buf, size_t size)
{
	comm_of(st, buf, size);
	text_printable(buf);
	return buf;
}

static void exit_of(const struct memtrack_proc_stats *st, char *buf, size_t size)
{
	if (!st->exited)
		snprintf(buf, size, "-");
	else if (mt_exit_signal(st->exit_status))
		snprintf(buf, size, "sig%u", mt_exit_signal(st->exit_status));
	else
		snprintf(buf, size, "%u", mt_exit_code(st->exit_status));
}

/* The ages of a process's live blocks at its end: the oldest and the mean. */
struct ages {
	uint64_t oldest, total;
	uint64_t n;
};

static void add_age(void *ctx, const struct block *b, uint64_t age)
{
	struct ages *a = ctx;

	(void)b;
	if (age > a->oldest)
		a->oldest = age;
	a->total += age;
	a->n++;
}

static struct ages live_ages(const struct memtrack_summary *s, const struct proc_entry *e)
{
	struct ages a = { 0 };

	summary_live_each(s, e, add_age, &a);
	return a;
}

/* "memtrack: N what (name n, name n, ...)", always, or (if_any) only when N is not 0. */
static void print_totals(FILE *out, const char *what, const unsigned long long *v, unsigned n,
			 const char *(*name_of)(unsigned int), bool if_any)
{
	unsigned long long total = 0;

	for (unsigned i = 0; i < n; i++)
		total += v[i];
	if (if_any && !total)
		return;
	fprintf(out, "memtrack: %llu %s (", total, what);
	for (unsigned i = 0; i < n; i++)
		fprintf(out, "%s%s %llu", i ? ", " : "", name_of(i), v[i]);
	fprintf(out, ")\n");
}

static void print_counters(const struct memtrack_counters *c, FILE *out)
{
	unsigned long long failed = 0;

	for (unsigned i = 0; i < MT_FN_MAX; i++)
		failed += c->failures[i];
	if (failed) {
		fprintf(out, "memtrack: %llu failed calls (not counted as allocations):", failed);
		for (unsigned i = 0; i < MT_FN_MAX; i++)
			if (c->failures[i])
				fprintf(out, " %s %llu", memtrack_func_name(i), c->failures[i]);
		fputc('\n', out);
	}
	print_totals(out, "events dropped", c->drops, MT_DROP_MAX, memtrack_drop_reason_name, false);
	print_totals(out, "stack walks cut short", c->stack_cuts, MT_STACK_CUT_MAX,
		     memtrack_stack_cut_name, true);
}

void memtrack_summary_print(const struct memtrack_summary *s, const struct memtrack_counters *c,
			    FILE *out)
{
	unsigned long long unknown = 0;
	char comm[MT_COMM_LEN + 1], status[16], oldest[16], avg[16];

	fprintf(out, "%8s %8s %9s %9s %8s %12s %12s %12s %12s %12s %8s %8s %6s  %s\n", "PID",
		"PPID", "Allocs", "Frees", "Live", "Alloc", "Free", "Real", "Real.max", "Req.max",
		"Oldest", "AvgAge", "Exit", "Comm");
	for (size_t i = 0; i < s->nprocs; i++) {
		const struct memtrack_proc_stats *st = &s->procs[i].st;
		struct ages a = live_ages(s, &s->procs[i]);

		exit_of(st, status, sizeof(status));
		fprintf(out,
			"%8d %8d %9llu %9llu %8llu %12llu %12llu %12llu %12llu %12llu %8s %8s %6s  "
			"%s\n",
			(int)st->pid, (int)st->ppid, st->allocs, st->frees, st->live_blocks,
			st->alloc_bytes, st->free_bytes, st->live_bytes, st->peak_bytes,
			st->max_request, duration(a.oldest, a.n, oldest, sizeof(oldest)),
			duration(a.n ? a.total / a.n : 0, a.n, avg, sizeof(avg)), status,
			comm_text(st, comm, sizeof(comm)));
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


/* {"ringbuf_full": 0, ...} of a counter array with names. */
static struct json_object *named_counts(const unsigned long long *v, unsigned int n,
					const char *(*name_of)(unsigned int))
{
	struct json_object *o = json_object_new_object();

	for (unsigned int i = 0; o && i < n; i++) {
		if (name_of(i) && json_put_u64(o, name_of(i), v[i])) {
			json_object_put(o);
			return NULL;
		}
	}
	return o;
}


/* A report's document and the list emit_list() will hang on it: 0 or -ENOMEM. */
static int new_report_list(const char *name, struct json_object **doc, struct json_object **list)
{
	*doc = json_new_report(name);
	*list = json_object_new_array();
	return *doc && *list ? 0 : -ENOMEM;
}

static int proc_json(const struct memtrack_summary *s, const struct proc_entry *e,
		     struct json_object *o)
{
	const struct memtrack_proc_stats *st = &e->st;
	struct ages a = live_ages(s, e);
	char comm[MT_COMM_LEN + 1];
	int err = 0;

	err = err ?: json_put_u64(o, "pid", (uint64_t)st->pid);
	err = err ?: json_put_u64(o, "ppid", (uint64_t)st->ppid);
	err = err ?: json_put_text(o, "comm", comm_of(st, comm, sizeof(comm)));
	err = err ?: json_put_u64(o, "allocs", st->allocs);
	err = err ?: json_put_u64(o, "frees", st->frees);
	err = err ?: json_put_u64(o, "live_blocks", st->live_blocks);
	err = err ?: json_put_u64(o, "alloc_bytes", st->alloc_bytes);
	err = err ?: json_put_u64(o, "free_bytes", st->free_bytes);
	err = err ?: json_put_u64(o, "live_bytes", st->live_bytes);
	err = err ?: json_put_u64(o, "peak_bytes", st->peak_bytes);
	err = err ?: json_put_u64(o, "max_request", st->max_request);
	err = err ?: json_put_u64(o, "unknown_frees", st->unknown_frees);
	if (a.n) {
		err = err ?: json_put_u64(o, "oldest_ns", a.oldest);
		err = err ?: json_put_u64(o, "avg_age_ns", a.total / a.n);
	}
	if (st->exited)
		err = err ?: json_put_u64(o, "exit_status", st->exit_status);
	return err;
}

static int counters_json(const struct memtrack_counters *c, struct json_object *doc)
{
	unsigned long long dropped = 0;
	int err = 0;

	for (unsigned i = 0; i < MT_DROP_MAX; i++)
		dropped += c->drops[i];
	err = err ?: json_put_u64(doc, "dropped", dropped);
	err = err ?: json_put(doc, "drops", named_counts(c->drops, MT_DROP_MAX,
						    memtrack_drop_reason_name));
	err = err ?: json_put(doc, "failed", named_counts(c->failures, MT_FN_MAX, memtrack_func_name));
	err = err ?: json_put(doc, "stack_cuts", named_counts(c->stack_cuts, MT_STACK_CUT_MAX,
							 memtrack_stack_cut_name));
	return err;
}

static int summary_json(const struct memtrack_summary *s, FILE *out)
{
	struct json_object *doc = json_new_report("summary"), *procs = json_object_new_array();
	int err = doc && procs ? 0 : -ENOMEM;

	for (size_t i = 0; !err && i < s->nprocs; i++) {
		struct json_object *p = json_object_new_object();

		err = p ? proc_json(s, &s->procs[i], p) : -ENOMEM;
		err = err ? (json_object_put(p), err) : json_push(procs, p);
	}
	if (!err && s->have_counters)
		err = counters_json(&s->counters, doc);
	return json_emit_list(doc, "processes", procs, err, out);
}

/* ---- leaks ---- */

static int leaks_text(struct memtrack_summary *s, const struct leaks *l, size_t shown,
		      bool by_address, FILE *out)
{
	char comm[MT_COMM_LEN + 1], young[16], old[16];
	size_t nprocs = 0;

	for (size_t p = 0; p < s->nprocs; p++)
		nprocs += s->procs[p].st.live_blocks > 0;
	fprintf(out, "memtrack: %llu bytes in %llu block%s still live, from %zu %s%s in %zu "
		     "process%s\n",
		(unsigned long long)l->bytes, (unsigned long long)l->blocks, plural(l->blocks),
		l->n, by_address ? "stack" : "location", plural(l->n), nprocs,
		nprocs == 1 ? "" : "es");
	for (size_t i = 0; i < shown; i++) {
		const struct leak *k = &l->v[i];
		const struct memtrack_proc_stats *st = &s->procs[k->proc].st;
		int err;

		fprintf(out, "%llu bytes in %llu block%s from pid %d (%s), age %s to %s",
			(unsigned long long)k->bytes, (unsigned long long)k->count,
			plural(k->count), (int)st->pid,
			comm_text(st, comm, sizeof(comm)), duration(k->min_age, true, young, sizeof(young)),
			duration(k->max_age, true, old, sizeof(old)));
		if (k->stacks > 1) /* the one shown has the most bytes */
			fprintf(out, ", from %llu stacks at this location",
				(unsigned long long)k->stacks);
		fputs(":\n", out);
		err = report_stack_text(s, st->pid, k->stack_id, k->first_time, "\t", out);
		if (err)
			return err;
	}
	if (shown < l->n)
		fprintf(out, "memtrack: %zu more %ss not shown (--top)\n", l->n - shown,
			by_address ? "stack" : "location");
	return 0;
}

static int leaks_json(struct memtrack_summary *s, const struct leaks *l, size_t shown,
		      bool by_address, FILE *out)
{
	struct json_object *doc = json_new_report("leaks"), *list = json_object_new_array();
	int err = doc && list ? 0 : -ENOMEM;

	err = err ?: json_put_u64(doc, "bytes", l->bytes);
	err = err ?: json_put_u64(doc, "blocks", l->blocks);
	err = err ?: json_put_u64(doc, "stacks", l->n);
	err = err ?: json_put_str(doc, "group_by", by_address ? "address" : "location");
	for (size_t i = 0; !err && i < shown; i++) {
		const struct leak *k = &l->v[i];
		const struct memtrack_proc_stats *st = &s->procs[k->proc].st;
		struct json_object *o = json_object_new_object();
		char comm[MT_COMM_LEN + 1];

		err = o ? 0 : -ENOMEM;
		err = err ?: json_put_u64(o, "pid", (uint64_t)st->pid);
		err = err ?: json_put_text(o, "comm", comm_of(st, comm, sizeof(comm)));
		err = err ?: json_put_u64(o, "bytes", k->bytes);
		err = err ?: json_put_u64(o, "count", k->count);
		err = err ?: json_put_u64(o, "min_age_ns", k->min_age);
		err = err ?: json_put_u64(o, "max_age_ns", k->max_age);
		err = err ?: json_put_u64(o, "stack_id", k->stack_id);
		err = err ?: json_put_u64(o, "stacks", k->stacks);
		err = err ?: json_put(o, "stack", report_stack_json(s, st->pid, k->stack_id, k->first_time));
		err = err ? (json_object_put(o), err) : json_push(list, o);
	}
	return json_emit_list(doc, "leaks", list, err, out);
}

static int report_leaks(struct memtrack_summary *s, const struct memtrack_report_opts *o,
			FILE *out)
{
	struct leaks l = { 0 };
	size_t shown;
	int err = leaks_collect(s, o->min_age_ns, &l);

	if (!err && !o->group_by_address)
		err = leaks_by_location(s, &l);
	shown = o->top && o->top < l.n ? o->top : l.n;
	if (!err)
		err = o->json ? leaks_json(s, &l, shown, o->group_by_address, out)
			      : leaks_text(s, &l, shown, o->group_by_address, out);
	leaks_free(&l);
	return err;
}

/* ---- what was live at each process's peak ---- */

/* "2026-12-01 03:32:07.790 UTC" of a CLOCK_MONOTONIC time, if the trace has a Header. */
static const char *wall_text(const struct memtrack_summary *s, uint64_t mono, char *buf,
			     size_t size)
{
	long long ns = summary_wall_ns(s, mono);
	time_t sec = (time_t)(ns / 1000000000LL);
	struct tm tm;
	size_t n;

	buf[0] = '\0';
	if (!s->have_anchor || ns < 0 || !gmtime_r(&sec, &tm))
		return buf;
	n = strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm);
	if (n)
		snprintf(buf + n, size - n, ".%03lld UTC", ns % 1000000000LL / 1000000);
	return buf;
}

/* The time of the peak since the trace began: its Header, else its first event. */
static uint64_t since_start(const struct memtrack_summary *s, uint64_t t)
{
	uint64_t start = s->have_anchor ? s->anchor_mono : s->first_time;

	return t > start ? t - start : 0;
}

/* Why a process has no stacks at its peak; NULL if it has them. */
static const char *peak_unknown(const struct proc_entry *e, int err)
{
	if (e->aggregated)
		return "a report-only run keeps totals in the kernel, not the events: trace with "
		       "--no-aggregate (or -o FILE) for the stacks at the peak";
	if (err == -ENODATA)
		return "memtrack ran out of memory while keeping them";
	return NULL;
}

static int peak_text(struct memtrack_summary *s, const struct proc_entry *e,
		     const struct peak_stack *v, size_t n, size_t shown, int why, FILE *out)
{
	const struct memtrack_proc_stats *st = &e->st;
	char comm[MT_COMM_LEN + 1], at[16], wall[64];
	const char *unknown = peak_unknown(e, why);
	uint64_t blocks = 0;

	for (size_t i = 0; i < n; i++)
		blocks += v[i].count;
	comm_text(st, comm, sizeof(comm));
	if (unknown) {
		fprintf(out, "memtrack: peak of pid %d (%s): %llu bytes; no stacks: %s\n",
			(int)st->pid, comm, st->peak_bytes, unknown);
		return 0;
	}
	wall_text(s, e->peak.time, wall, sizeof(wall));
	fprintf(out,
		"memtrack: peak of pid %d (%s): %llu bytes in %llu block%s, %s into the "
		"trace%s%s%s, from %zu stack%s\n",
		(int)st->pid, comm, st->peak_bytes, (unsigned long long)blocks, plural(blocks),
		duration(since_start(s, e->peak.time), true, at, sizeof(at)), wall[0] ? " (" : "",
		wall, wall[0] ? ")" : "", n, plural(n));
	for (size_t i = 0; i < shown; i++) {
		const struct site *site = &s->sites[v[i].site];
		int err;

		fprintf(out, "%llu bytes in %llu block%s at the peak of pid %d:\n",
			(unsigned long long)v[i].bytes, (unsigned long long)v[i].count,
			plural(v[i].count), (int)st->pid);
		err = report_stack_text(s, st->pid, site->stack_id, site->first, "\t", out);
		if (err)
			return err;
	}
	if (shown < n)
		fprintf(out, "memtrack: %zu more stacks not shown (--top)\n", n - shown);
	return 0;
}

static int peak_json(struct memtrack_summary *s, const struct proc_entry *e,
		     const struct peak_stack *v, size_t n, size_t shown, int why,
		     struct json_object *o)
{
	const struct memtrack_proc_stats *st = &e->st;
	const char *unknown = peak_unknown(e, why);
	struct json_object *list;
	char comm[MT_COMM_LEN + 1], wall[64];
	uint64_t blocks = 0;
	int err = 0;

	for (size_t i = 0; i < n; i++)
		blocks += v[i].count;
	err = err ?: json_put_u64(o, "pid", (uint64_t)st->pid);
	err = err ?: json_put_text(o, "comm", comm_of(st, comm, sizeof(comm)));
	err = err ?: json_put_u64(o, "peak_bytes", st->peak_bytes);
	if (unknown)
		return err ?: json_put_str(o, "no_stacks", unknown);
	err = err ?: json_put_u64(o, "peak_blocks", blocks);
	err = err ?: json_put_u64(o, "timestamp", e->peak.time);
	if (!err && *wall_text(s, e->peak.time, wall, sizeof(wall)))
		err = json_put_str(o, "realtime", wall);
	err = err ?: json_put_u64(o, "stacks", n);
	list = err ? NULL : json_object_new_array();
	err = err ?: list ? 0 : -ENOMEM;
	for (size_t i = 0; !err && i < shown; i++) {
		const struct site *site = &s->sites[v[i].site];
		struct json_object *k = json_object_new_object();

		err = k ? 0 : -ENOMEM;
		err = err ?: json_put_u64(k, "bytes", v[i].bytes);
		err = err ?: json_put_u64(k, "count", v[i].count);
		err = err ?: json_put_u64(k, "stack_id", site->stack_id);
		err = err ?: json_put(k, "stack",
				      report_stack_json(s, st->pid, site->stack_id, site->first));
		err = err ? (json_object_put(k), err) : json_push(list, k);
	}
	if (err) {
		json_object_put(list);
		return err;
	}
	return json_put(o, "peak", list);
}

static int report_peak(struct memtrack_summary *s, const struct memtrack_report_opts *o, FILE *out)
{
	struct json_object *doc = NULL, *list = NULL;
	int err = o->json ? new_report_list("peak", &doc, &list) : 0;

	for (size_t p = 0; !err && p < s->nprocs; p++) {
		const struct proc_entry *e = &s->procs[p];
		struct peak_stack *v;
		struct json_object *j;
		size_t n, shown;
		int why;

		if (!e->st.peak_bytes)
			continue; /* nothing was ever live (in the size range) */
		why = peak_stacks(s, e, &v, &n);
		if (why == -ENOMEM) {
			err = why;
			break;
		}
		shown = o->top && o->top < n ? o->top : n;
		if (!o->json) {
			err = peak_text(s, e, v, n, shown, why, out);
		} else {
			j = json_object_new_object();
			err = j ? peak_json(s, e, v, n, shown, why, j) : -ENOMEM;
			err = err ? (json_object_put(j), err) : json_push(list, j);
		}
		free(v);
	}
	if (!o->json)
		return err;
	return json_emit_list(doc, "processes", list, err, out);
}

/* ---- the largest request of each process ---- */

static int report_largest(struct memtrack_summary *s, const struct memtrack_report_opts *o,
			  FILE *out)
{
	struct json_object *doc = NULL, *list = NULL;
	char comm[MT_COMM_LEN + 1];
	int err = o->json ? new_report_list("largest", &doc, &list) : 0;

	for (size_t p = 0; !err && p < s->nprocs; p++) {
		const struct proc_entry *e = &s->procs[p];
		const struct memtrack_proc_stats *st = &e->st;
		struct json_object *j;

		if (!e->largest_time)
			continue; /* it allocated nothing (in the size range) */
		if (!o->json) {
			fprintf(out, "pid %d (%s): largest request %llu bytes at 0x%llx:\n",
				(int)st->pid, comm_text(st, comm, sizeof(comm)), st->max_request,
				(unsigned long long)e->largest_addr);
			err = report_stack_text(s, st->pid, e->largest_stack, e->largest_time, "\t",
						out);
			continue;
		}
		j = json_object_new_object();
		err = j ? 0 : -ENOMEM;
		err = err ?: json_put_u64(j, "pid", (uint64_t)st->pid);
		err = err ?: json_put_text(j, "comm", comm_of(st, comm, sizeof(comm)));
		err = err ?: json_put_u64(j, "size", st->max_request);
		err = err ?: json_put_u64(j, "addr", e->largest_addr);
		err = err ?: json_put_u64(j, "timestamp", e->largest_time);
		err = err ?: json_put_u64(j, "stack_id", e->largest_stack);
		err = err ?: json_put(j, "stack", report_stack_json(s, st->pid, e->largest_stack,
							      e->largest_time));
		err = err ? (json_object_put(j), err) : json_push(list, j);
	}
	if (!o->json)
		return err;
	return json_emit_list(doc, "largest", list, err, out);
}

/* ---- statistics ---- */

static void calls_by_function(const struct memtrack_summary *s, unsigned long long *calls)
{
	memset(calls, 0, MT_FN_MAX * sizeof(*calls));
	for (size_t p = 0; p < s->nprocs; p++)
		for (unsigned f = 0; f < MT_FN_MAX; f++)
			calls[f] += s->procs[p].calls[f];
}

static double percent(unsigned long long part, unsigned long long whole)
{
	return whole ? 100.0 * (double)part / (double)whole : 0;
}

static void stats_text(const struct memtrack_summary *s, const unsigned long long *calls,
		       FILE *out)
{
	const struct memtrack_counters *c = &s->counters;

	fprintf(out, "%-18s %12s %12s\n", "Function", "Calls", "Failed");
	for (unsigned f = 0; f < MT_FN_MAX; f++) {
		unsigned long long failed = s->have_counters ? c->failures[f] : 0;

		if (calls[f] || failed)
			fprintf(out, "%-18s %12llu %12llu\n", memtrack_func_name(f), calls[f], failed);
	}
	if (!s->have_counters) {
		fprintf(out, "memtrack: no counters (the trace has no Stats record)\n");
		return;
	}
	fprintf(out, "%-18s %12s\n", "Drop reason", "Events");
	for (unsigned i = 0; i < MT_DROP_MAX; i++)
		fprintf(out, "%-18s %12llu\n", memtrack_drop_reason_name(i), c->drops[i]);
	if (c->ringbuf_size)
		fprintf(out, "ring buffer: %llu bytes, fullest seen %llu bytes (%.1f%%)\n",
			c->ringbuf_size, c->ringbuf_peak, percent(c->ringbuf_peak, c->ringbuf_size));
	if (c->max_stacks) {
		fprintf(out, "stack map: %llu of %llu stacks (%.1f%%)\n", c->stacks, c->max_stacks,
			percent(c->stacks, c->max_stacks));
		fprintf(out, "%-18s %12s\n", "Stack cut at", "Stacks");
		for (unsigned i = 0; i < MT_STACK_CUT_MAX; i++)
			fprintf(out, "%-18s %12llu\n", memtrack_stack_cut_name(i), c->stack_cuts[i]);
	}
	if (c->max_live)
		fprintf(out, "live-block map: fullest %llu of %llu blocks (%.1f%%)\n", c->live_peak,
			c->max_live, percent(c->live_peak, c->max_live));
}

static int stats_json(const struct memtrack_summary *s, const unsigned long long *calls,
		      FILE *out)
{
	const struct memtrack_counters *c = &s->counters;
	struct json_object *doc = json_new_report("stats");
	int err = doc ? 0 : -ENOMEM;

	err = err ?: json_put(doc, "calls", named_counts(calls, MT_FN_MAX, memtrack_func_name));
	if (s->have_counters) {
		err = err ?: counters_json(c, doc);
		err = err ?: json_put_u64(doc, "ringbuf_size", c->ringbuf_size);
		err = err ?: json_put_u64(doc, "ringbuf_peak", c->ringbuf_peak);
		err = err ?: json_put_u64(doc, "stacks", c->stacks);
		err = err ?: json_put_u64(doc, "max_stacks", c->max_stacks);
		if (c->max_live) {
			err = err ?: json_put_u64(doc, "live_peak", c->live_peak);
			err = err ?: json_put_u64(doc, "max_live", c->max_live);
		}
	}
	return json_emit(doc, err, out);
}

int memtrack_report(struct memtrack_summary *s, enum memtrack_report_kind kind,
		    const struct memtrack_report_opts *opts, FILE *out)
{
	struct memtrack_report_opts o;
	unsigned long long calls[MT_FN_MAX];
	int err;

	if (opts_copy(&o, sizeof(o), opts))
		return -EINVAL;
	switch (kind) {
	case MEMTRACK_REPORT_SUMMARY:
		if (o.json) {
			err = summary_json(s, out);
			break;
		}
		memtrack_summary_print(s, s->have_counters ? &s->counters : NULL, out);
		err = 0;
		break;
	case MEMTRACK_REPORT_LEAKS:
		err = report_leaks(s, &o, out);
		break;
	case MEMTRACK_REPORT_CGROUPS:
		err = report_cgroups(s, o.json, out);
		break;
	case MEMTRACK_REPORT_LARGEST:
		err = report_largest(s, &o, out);
		break;
	case MEMTRACK_REPORT_PEAK:
		err = report_peak(s, &o, out);
		break;
	case MEMTRACK_REPORT_STATS:
		calls_by_function(s, calls);
		if (o.json)
			err = stats_json(s, calls, out);
		else {
			stats_text(s, calls, out);
			err = 0;
		}
		break;
	case MEMTRACK_REPORT_FOLDED_LIVE:
		err = folded_write(s, false, !o.group_by_address, out);
		break;
	case MEMTRACK_REPORT_FOLDED_ALLOC:
		err = folded_write(s, true, !o.group_by_address, out);
		break;
	default:
		return -EINVAL;
	}
	/*
	 * The write's own error (ENOSPC, EPIPE) where the flush fails, saying
	 * why; -EIO only where the stream remembers an earlier failure and no
	 * longer its reason.
	 */
	if (!err) {
		errno = 0;
		if (fflush(out) || ferror(out))
			err = write_error();
	}
	return err;
}
