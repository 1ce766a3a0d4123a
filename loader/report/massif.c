// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The run as massif.out files: for one process, or one per process when
 * the path has "%p" (valgrind's --massif-out-file does the same). Each is
 * a timeline of empty snapshots, the peak's detailed one (heap_tree=peak)
 * and the end's (heap_tree=detailed), whose trees are the allocation
 * stacks live then, innermost frame first, named as massif names them:
 * "0x4005D0: main (prog.c:10)".
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "grow_array.h"
#include "massif.h"
#include "peak.h"
#include "report_stack.h"
#include "safe_text.h"
#include "summary.h"

void timeline_note(struct timeline *t, uint64_t time, uint64_t bytes)
{
	if (!t->stride)
		t->stride = 1;
	if (++t->since < t->stride)
		return;
	t->since = 0;
	if (t->n == TIMELINE_MAX) {
		for (size_t i = 0; i < TIMELINE_MAX / 2; i++)
			t->v[i] = t->v[2 * i + 1];
		t->n = TIMELINE_MAX / 2;
		t->stride *= 2;
	}
	t->v[t->n].time = time;
	t->v[t->n++].bytes = bytes;
}

/* A node of an allocation tree: one source frame below its parent. */
struct node {
	size_t parent, first_child, next_sibling; /* index + 1; 0: none */
	uint64_t bytes;
	char *label;
};

struct tree {
	struct node *v; /* [0] is the root */
	size_t n, cap;
	struct u64_map index; /* (parent, ip, inline depth) mixed -> index + 1 */
	/* the walk of one stack */
	size_t at;	 /* the node the walk is at */
	uint64_t bytes;	 /* the stack's bytes */
	uint64_t ip;	 /* the frame's address, and which of its inlined frames */
	unsigned depth;
};

static uint64_t mix3(uint64_t a, uint64_t b, uint64_t c)
{
	uint64_t h = (a * 0x9e3779b97f4a7c15ull) ^ (b + 0x7f4a7c159e3779b9ull);

	h = (h ^ (h >> 29)) * 0xbf58476d1ce4e5b9ull;
	h ^= c * 0x94d049bb133111ebull;
	return (h ^ (h >> 31)) | 1;
}

/* "0x4005D0: main (prog.c:10)", "0x4005D0: f (in /lib/libc.so.6)", "0x4005D0: ???". */
static char *label_of(const struct sym_frame *f, uint64_t ip)
{
	char *label = NULL;
	int n;

	if (f->function && f->file)
		n = asprintf(&label, "0x%llX: %s (%s:%d)", (unsigned long long)ip, f->function,
			     f->file, f->line);
	else if (f->function && f->module)
		n = asprintf(&label, "0x%llX: %s (in %s)", (unsigned long long)ip, f->function,
			     f->module);
	else if (f->module)
		n = asprintf(&label, "0x%llX: ??? (in %s)", (unsigned long long)ip, f->module);
	else
		n = asprintf(&label, "0x%llX: ???", (unsigned long long)ip);
	if (n < 0)
		return NULL;
	/* one line each, and no '#', which ms_print takes for a comment */
	text_printable(label);
	for (char *c = label; *c; c++)
		if (*c == '#')
			*c = '_';
	return label;
}

/* The child of t->at for this frame, made if new; the walk moves to it. */
static int tree_frame(void *ctx, const struct sym_frame *f, uint64_t ip,
		      const struct memtrack_mapping *m)
{
	struct tree *t = ctx;
	uint64_t key, idx;

	(void)m;
	t->depth = ip == t->ip ? t->depth + 1 : 0;
	t->ip = ip;
	key = mix3(t->at, ip, t->depth);
	while (u64_map_get(&t->index, key, &idx)) {
		struct node *c = &t->v[idx - 1];

		if (c->parent == t->at + 1) {
			t->at = idx - 1;
			c->bytes += t->bytes;
			return 0;
		}
		key = key * 31 + 7; /* a collision: probe on */
	}
	if (GROW_ARRAY(t->v, t->n, t->cap, 64))
		return -ENOMEM;
	t->v[t->n] = (struct node){ .parent = t->at + 1,
				    .next_sibling = t->v[t->at].first_child,
				    .bytes = t->bytes,
				    .label = label_of(f, ip) };
	if (!t->v[t->n].label || u64_map_put(&t->index, key, t->n + 1))
		return -ENOMEM;
	t->v[t->at].first_child = t->n + 1;
	t->at = t->n++;
	return 0;
}

static void tree_free(struct tree *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->v[i].label);
	free(t->v);
	u64_map_free(&t->index);
}

/* The stacks of one process, with their bytes, as a tree under a root of their total. */
static int tree_build(struct memtrack_summary *s, const struct proc_entry *e,
		      const struct peak_stack *v, size_t n, struct tree *t)
{
	memset(t, 0, sizeof(*t));
	if (GROW_ARRAY(t->v, 0, t->cap, 64))
		return -ENOMEM;
	t->v[0] = (struct node){ 0 };
	t->n = 1;
	for (size_t i = 0; i < n; i++) {
		const struct site *site = &s->sites[v[i].site];
		int err;

		t->at = 0;
		t->bytes = v[i].bytes;
		t->ip = 0;
		t->depth = 0;
		t->v[0].bytes += v[i].bytes;
		err = report_stack_each(s, e->st.pid, site->stack_id, site->first, tree_frame, t);
		if (err && err != -ENOENT)
			return err;
	}
	return 0;
}

static int node_cmp(const void *pa, const void *pb, void *ctx)
{
	const struct node *v = ctx;
	uint64_t a = v[*(const size_t *)pa].bytes, b = v[*(const size_t *)pb].bytes;

	return a > b ? -1 : a < b;
}

/*
 * A node and its children, most bytes first, each a space deeper; those
 * under 1% of the snapshot's total folded into one line, as massif does.
 */
static int tree_print(const struct tree *t, size_t i, unsigned indent, uint64_t total, FILE *out)
{
	size_t *kids = NULL, nkids = 0, shown = 0, small = 0;
	uint64_t small_bytes = 0;
	int err = 0;

	for (size_t c = t->v[i].first_child; c; c = t->v[c - 1].next_sibling)
		nkids++;
	if (nkids && !(kids = calloc(nkids, sizeof(*kids))))
		return -ENOMEM;
	nkids = 0;
	for (size_t c = t->v[i].first_child; c; c = t->v[c - 1].next_sibling)
		kids[nkids++] = c - 1;
	if (nkids)
		qsort_r(kids, nkids, sizeof(*kids), node_cmp, t->v);
	for (size_t k = 0; k < nkids; k++) {
		if (t->v[kids[k]].bytes * 100 >= total)
			shown++;
		else {
			small++;
			small_bytes += t->v[kids[k]].bytes;
		}
	}
	fprintf(out, "%*sn%zu: %llu %s\n", (int)indent, "", shown + (small > 0),
		(unsigned long long)t->v[i].bytes,
		i ? t->v[i].label
		  : "(heap allocation functions) malloc/new/new[], --alloc-fns, etc.");
	for (size_t k = 0; !err && k < shown; k++)
		err = tree_print(t, kids[k], indent + 1, total, out);
	if (!err && small)
		fprintf(out, "%*sn0: %llu in %zu place%s, %s below massif's threshold (1.00%%)\n",
			(int)indent + 1, "", (unsigned long long)small_bytes, small,
			small == 1 ? "" : "s", small == 1 ? "" : "all");
	free(kids);
	return err;
}

/* ms since the trace began. */
static uint64_t ms_of(const struct memtrack_summary *s, uint64_t t)
{
	uint64_t start = s->have_anchor ? s->anchor_mono : s->first_time;

	return t > start ? (t - start + 500000) / 1000000 : 0;
}

static void snapshot_head(FILE *out, unsigned n, uint64_t time, uint64_t bytes, const char *tree)
{
	fprintf(out,
		"#-----------\nsnapshot=%u\n#-----------\ntime=%llu\nmem_heap_B=%llu\n"
		"mem_heap_extra_B=0\nmem_stacks_B=0\nheap_tree=%s\n",
		n, (unsigned long long)time, (unsigned long long)bytes, tree);
}

/* The stacks live now, from each site's live values, most bytes first. */
static int live_stacks(const struct memtrack_summary *s, const struct proc_entry *e,
		       struct peak_stack **v, size_t *n)
{
	*n = 0;
	*v = calloc(e->nsite_list ? e->nsite_list : 1, sizeof(**v));
	if (!*v)
		return -ENOMEM;
	for (size_t i = 0; i < e->nsite_list; i++) {
		const struct site *site = &s->sites[e->site_list[i]];

		if (site->live_count)
			(*v)[(*n)++] = (struct peak_stack){ e->site_list[i], site->live_bytes,
							    site->live_count };
	}
	return 0;
}

/* A detailed snapshot: its head, then its tree. */
static int detailed(struct memtrack_summary *s, const struct proc_entry *e, unsigned num,
		    uint64_t time, const struct peak_stack *v, size_t n, const char *kind,
		    FILE *out)
{
	struct tree t;
	int err = tree_build(s, e, v, n, &t);

	if (!err) {
		snapshot_head(out, num, time, t.v[0].bytes, kind);
		err = tree_print(&t, 0, 0, t.v[0].bytes, out);
	}
	tree_free(&t);
	return err;
}

static int massif_write(struct memtrack_summary *s, const struct proc_entry *e, FILE *out)
{
	const struct timeline *tl = e->timeline;
	struct peak_stack *pv = NULL, *lv = NULL;
	size_t np = 0, nl = 0, i = 0;
	uint64_t end = ms_of(s, summary_end_time(s, e)), last = 0, peak_ms = ms_of(s, e->peak.time);
	unsigned num = 0;
	bool peak_done = false;
	char comm[MT_COMM_LEN + 1];
	int err = peak_stacks(s, e, &pv, &np);

	err = err ?: live_stacks(s, e, &lv, &nl);
	if (err)
		goto out;
	snprintf(comm, sizeof(comm), "%.*s", (int)sizeof(e->st.comm), e->st.comm);
	text_printable(comm);
	fprintf(out, "desc: memtrack (the heap as traced: mem_heap_extra_B and mem_stacks_B are not measured)\n");
	if (s->command && e == &s->procs[0])
		fprintf(out, "cmd: %s\n", s->command);
	else
		fprintf(out, "cmd: %s (pid %d)\n", comm[0] ? comm : "?", (int)e->st.pid);
	fprintf(out, "time_unit: ms\n");
	snapshot_head(out, num++, 0, 0, "empty");
	/* the sampled points in time order, the peak's detailed snapshot in its place */
	for (i = 0; !err && tl && i < tl->n; i++) {
		uint64_t t = ms_of(s, tl->v[i].time);

		if (!peak_done && e->peak.time <= tl->v[i].time) {
			err = detailed(s, e, num++, peak_ms, pv, np, "peak", out);
			peak_done = true;
			last = peak_ms;
		}
		if (tl->v[i].time == e->peak.time)
			continue;
		snapshot_head(out, num++, t > last ? t : last, tl->v[i].bytes, "empty");
		last = t > last ? t : last;
	}
	if (!err && !peak_done) {
		err = detailed(s, e, num++, peak_ms, pv, np, "peak", out);
		last = peak_ms > last ? peak_ms : last;
	}
	/* the end: what was still live, at a time after 0 (ms_print divides by it) */
	end = end > last ? end : last;
	if (!err)
		err = detailed(s, e, num++, end ? end : 1, lv, nl, "detailed", out);
out:
	free(pv);
	free(lv);
	return err == -ENODATA ? -ENOMEM : err;
}

/* path with each "%p" replaced by pid. NULL without memory. */
static char *path_for(const char *path, pid_t pid)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	if (!f)
		return NULL;
	for (const char *c = path; *c; c++) {
		if (c[0] == '%' && c[1] == 'p') {
			fprintf(f, "%d", (int)pid);
			c++;
		} else {
			fputc(*c, f);
		}
	}
	if (fclose(f)) {
		free(out);
		return NULL;
	}
	return out;
}

/* One process's file, whole or not at all (memtrack_output_begin()). */
static int massif_file(struct memtrack_summary *s, const struct proc_entry *e, const char *path)
{
	struct memtrack_output o;
	FILE *f;
	int fd, err = memtrack_output_begin(path, &o, NULL);

	if (err)
		return err;
	fd = fcntl(o.fd, F_DUPFD_CLOEXEC, 0);
	f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!f) {
		err = -errno;
		if (fd >= 0)
			close(fd);
		return memtrack_output_end(&o, err);
	}
	err = massif_write(s, e, f);
	errno = 0;
	if (fflush(f) || ferror(f))
		err = err ?: write_error();
	if (fclose(f))
		err = err ?: -errno;
	return memtrack_output_end(&o, err);
}

int memtrack_report_massif(struct memtrack_summary *s, const char *path)
{
	bool each = strstr(path, "%p") != NULL;
	int err = 0;

	for (size_t i = 0; !err && i < s->nprocs; i++) {
		const struct proc_entry *e = &s->procs[i];
		char *p;

		if (e->aggregated)
			return -ENODATA; /* totals: no timeline, no peak's stacks */
		if (!each && i > 0)
			break; /* massif profiles one process: the first, the command */
		if (each && !e->st.allocs)
			continue;
		p = each ? path_for(path, e->st.pid) : strdup(path);
		err = p ? massif_file(s, e, p) : -ENOMEM;
		free(p);
	}
	return err;
}
