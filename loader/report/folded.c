// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "folded.h"
#include "safe_text.h"
#include "leaks.h"
#include "report_stack.h"
#include "grow_array.h"

/* The names of one stack's frames, innermost first. */
struct names {
	char **v;
	size_t n, cap;
};

/*
 * A name as one frame of a folded line: ';' separates frames, and a
 * newline would end the line; neither may come from what a process calls
 * itself or its code (control characters and bytes not UTF-8: '?').
 */
static void frame_name_clean(char *name)
{
	text_printable(name);
	for (char *p = name; *p; p++)
		if (*p == ';')
			*p = ':';
}

/* A frame's name in a flame graph: its function, else [its file], else [unknown]. */
static int name_frame(void *ctx, const struct sym_frame *f, uint64_t ip,
		      const struct memtrack_mapping *m)
{
	struct names *names = ctx;
	const char *base;
	char *name;
	int len;

	(void)ip;
	(void)m;
	if (GROW_ARRAY(names->v, names->n, names->cap, 64))
		return -ENOMEM;
	base = f->module ? strrchr(f->module, '/') : NULL;
	base = base ? base + 1 : f->module;
	if (f->function)
		len = asprintf(&name, "%s", f->function);
	else
		len = asprintf(&name, "[%s]", base ? base : "unknown");
	if (len < 0)
		return -ENOMEM;
	frame_name_clean(name);
	names->v[names->n++] = name;
	return 0;
}

static void names_clear(struct names *names)
{
	for (size_t i = 0; i < names->n; i++)
		free(names->v[i]);
	names->n = 0;
}

static int write_line(struct memtrack_summary *s, size_t proc, uint64_t stack_id, uint64_t time,
		      uint64_t bytes, struct names *names, FILE *out)
{
	const struct memtrack_proc_stats *st = &s->procs[proc].st;
	char comm[sizeof(st->comm) + 1];
	int err = report_stack_each(s, st->pid, stack_id, time, name_frame, names);

	if (err && err != -ENOENT)
		return err;
	snprintf(comm, sizeof(comm), "%.*s", (int)sizeof(st->comm), st->comm[0] ? st->comm : "?");
	frame_name_clean(comm);
	fputs(comm, out);
	if (err == -ENOENT)
		fputs(";[no stack]", out);
	for (size_t i = names->n; i > 0; i--)
		fprintf(out, ";%s", names->v[i - 1]);
	fprintf(out, " %llu\n", (unsigned long long)bytes);
	names_clear(names);
	return 0;
}

int folded_write(struct memtrack_summary *s, bool allocated, FILE *out)
{
	struct names names = { 0 };
	struct leaks l = { 0 };
	int err = 0;

	if (allocated) {
		for (size_t i = 0; !err && i < s->nsites; i++) {
			const struct site *site = &s->sites[i];

			if (site->alloc_bytes)
				err = write_line(s, site->proc, site->stack_id, site->first,
						 site->alloc_bytes, &names, out);
		}
	} else {
		err = leaks_collect(s, 0, &l);
		for (size_t i = 0; !err && i < l.n; i++)
			err = write_line(s, l.v[i].proc, l.v[i].stack_id, l.v[i].first_time,
					 l.v[i].bytes, &names, out);
		leaks_free(&l);
	}
	names_clear(&names);
	free(names.v);
	return err;
}
