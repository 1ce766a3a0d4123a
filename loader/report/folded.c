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

/* The lines so far, when lines with the same frames are summed before they are written. */
struct line {
	char *frames; /* "comm;outermost;...;innermost" */
	uint64_t bytes;
};

struct lines {
	struct line *v;
	size_t n, cap;
	bool merge;
};

static int line_cmp(const void *pa, const void *pb)
{
	return strcmp(((const struct line *)pa)->frames, ((const struct line *)pb)->frames);
}

static int write_line(struct memtrack_summary *s, size_t proc, uint64_t stack_id, uint64_t time,
		      uint64_t bytes, struct names *names, struct lines *lines, FILE *out)
{
	const struct memtrack_proc_stats *st = &s->procs[proc].st;
	char comm[sizeof(st->comm) + 1], *text = NULL;
	size_t len = 0;
	FILE *line;
	int err = report_stack_each(s, st->pid, stack_id, time, name_frame, names);

	if (err && err != -ENOENT)
		return err;
	line = lines->merge ? open_memstream(&text, &len) : out;
	if (!line)
		return -ENOMEM;
	snprintf(comm, sizeof(comm), "%.*s", (int)sizeof(st->comm), st->comm[0] ? st->comm : "?");
	frame_name_clean(comm);
	fputs(comm, line);
	if (err == -ENOENT)
		fputs(";[no stack]", line);
	for (size_t i = names->n; i > 0; i--)
		fprintf(line, ";%s", names->v[i - 1]);
	names_clear(names);
	if (!lines->merge) {
		fprintf(out, " %llu\n", (unsigned long long)bytes);
		return 0;
	}
	if (fclose(line) || GROW_ARRAY(lines->v, lines->n, lines->cap, 256)) {
		free(text);
		return -ENOMEM;
	}
	lines->v[lines->n++] = (struct line){ text, bytes };
	return 0;
}

/* The merged lines, each once with the bytes of all its stacks; freed. */
static void write_merged(struct lines *lines, FILE *out)
{
	if (lines->n)
		qsort(lines->v, lines->n, sizeof(*lines->v), line_cmp);
	for (size_t i = 0; i < lines->n; i++) {
		uint64_t bytes = lines->v[i].bytes;

		while (i + 1 < lines->n && !strcmp(lines->v[i].frames, lines->v[i + 1].frames)) {
			free(lines->v[i].frames);
			bytes += lines->v[++i].bytes;
		}
		fprintf(out, "%s %llu\n", lines->v[i].frames, (unsigned long long)bytes);
		free(lines->v[i].frames);
	}
	free(lines->v);
}

int folded_write(struct memtrack_summary *s, bool allocated, bool by_location, FILE *out)
{
	struct names names = { 0 };
	struct lines lines = { .merge = by_location };
	struct leaks l = { 0 };
	int err = 0;

	if (allocated) {
		for (size_t i = 0; !err && i < s->nsites; i++) {
			const struct site *site = &s->sites[i];

			if (site->alloc_bytes)
				err = write_line(s, site->proc, site->stack_id, site->first,
						 site->alloc_bytes, &names, &lines, out);
		}
	} else {
		err = leaks_collect(s, 0, &l);
		for (size_t i = 0; !err && i < l.n; i++)
			err = write_line(s, l.v[i].proc, l.v[i].stack_id, l.v[i].first_time,
					 l.v[i].bytes, &names, &lines, out);
		leaks_free(&l);
	}
	if (err) {
		for (size_t i = 0; i < lines.n; i++)
			free(lines.v[i].frames);
		free(lines.v);
	} else if (by_location) {
		write_merged(&lines, out);
	}
	names_clear(&names);
	free(names.v);
	return err;
}
