// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The run as a pprof heap profile: per (process, stack), what it
 * allocated (alloc_objects, alloc_space) and what is still live at the end
 * (inuse_objects, inuse_space), frames symbolized as the reports name them.
 */
#include <errno.h>
#include <stdlib.h>

#include "leaks.h"
#include "pprof.h"
#include "report_stack.h"
#include "grow_array.h"

struct frames {
	struct pprof_frame *v;
	size_t n, cap;
};

static int add_frame(void *ctx, const struct sym_frame *f, uint64_t ip,
		     const struct memtrack_mapping *m)
{
	struct frames *fr = ctx;

	if (GROW_ARRAY(fr->v, fr->n, fr->cap, 64))
		return -ENOMEM;
	/* the strings live as long as the symbolizer and the summary */
	fr->v[fr->n++] = (struct pprof_frame){
		.function = f->function,
		.file = f->file,
		.line = f->line,
		.address = ip,
		.module = m ? m->path : f->module,
		.build_id = m ? m->build_id : NULL,
		.inlined = f->inlined,
		.map_start = m ? m->start : 0,
		.map_limit = m ? m->end : 0,
		.map_offset = m ? m->offset : 0,
	};
	return 0;
}

static int add_stack(struct memtrack_summary *s, struct pprof_builder *b, struct frames *fr,
		     size_t proc, uint64_t stack_id, uint64_t time, const long long *values)
{
	const struct memtrack_proc_stats *st = &s->procs[proc].st;
	int err;

	fr->n = 0;
	err = report_stack_each(s, st->pid, stack_id, time, add_frame, fr);
	if (err && err != -ENOENT)
		return err;
	return pprof_add(b, fr->v, fr->n, values, (int)st->pid, st->comm[0] ? st->comm : NULL);
}

int memtrack_report_pprof(struct memtrack_summary *s, const char *path)
{
	struct pprof_builder *b = pprof_new();
	struct frames fr = { 0 };
	struct leaks l = { 0 };
	/* what the trace covers: from its Header (when it began) to its last event */
	uint64_t begin = s->have_anchor ? s->anchor_mono : s->first_time;
	int err = b ? 0 : -ENOMEM;

	/* equal stacks of a process are summed into one sample: allocations, then what lives */
	for (size_t i = 0; !err && i < s->nsites; i++) {
		const struct site *site = &s->sites[i];
		long long v[PPROF_NR_VALUES] = { 0 };

		v[PPROF_ALLOC_OBJECTS] = (long long)site->alloc_count;
		v[PPROF_ALLOC_SPACE] = (long long)site->alloc_bytes;
		err = add_stack(s, b, &fr, site->proc, site->stack_id, site->first, v);
	}
	err = err ?: leaks_collect(s, 0, &l);
	for (size_t i = 0; !err && i < l.n; i++) {
		long long v[PPROF_NR_VALUES] = { 0 };

		v[PPROF_INUSE_OBJECTS] = (long long)l.v[i].count;
		v[PPROF_INUSE_SPACE] = (long long)l.v[i].bytes;
		err = add_stack(s, b, &fr, l.v[i].proc, l.v[i].stack_id, l.v[i].first_time, v);
	}
	if (!err)
		err = pprof_write(b, path, summary_wall_ns(s, begin),
				  s->last_time > begin ? (long long)(s->last_time - begin) : 0);
	leaks_free(&l);
	free(fr.v);
	pprof_free(b);
	return err;
}
