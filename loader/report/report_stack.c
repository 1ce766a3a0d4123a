// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>

#include "error.h"
#include "fnv_hash.h"
#include "json_put.h"
#include "report_stack.h"
#include "safe_text.h"

int report_stack_each(struct memtrack_summary *s, pid_t pid, uint64_t stack_id, uint64_t time,
		      report_frame_fn fn, void *ctx)
{
	struct symbolizer *sym = summary_symbolizer(s);
	const uint64_t *ip;
	uint32_t nr;

	if (!sym)
		return -ENOMEM;
	ip = stack_id ? stack_cache_get(&s->stacks, stack_id, &nr) : NULL;
	if (!ip)
		return -ENOENT;
	for (uint32_t i = 0; i < nr; i++) {
		const struct memtrack_mapping *m = as_find(&s->spaces, pid, ip[i], time);
		const struct sym_frame *frames;
		/* every frame is a return address: the call is the instruction before */
		size_t n = symbolize(sym, m, ip[i], false, &frames);

		for (size_t j = 0; j < n; j++) {
			int err = fn(ctx, &frames[j], ip[i], m);

			if (err)
				return err;
		}
	}
	return 0;
}

static int frame_location(void *ctx, const struct sym_frame *f, uint64_t ip,
			  const struct memtrack_mapping *m)
{
	uint64_t *h = ctx;

	(void)m;
	if (f->function) {
		*h = fnv1a_str(*h, f->function);
		if (f->file && f->line)
			*h = fnv1a_u64(fnv1a_str(fnv1a_u64(*h, 1), f->file), (uint64_t)f->line);
	} else if (f->module) {
		*h = fnv1a_u64(fnv1a_str(fnv1a_u64(*h, 2), f->module), f->module_offset);
	} else {
		*h = fnv1a_u64(fnv1a_u64(*h, 3), ip);
	}
	*h = fnv1a_u64(*h, 0); /* the frame's end: "ab" "c" is not "a" "bc" */
	return 0;
}

int report_stack_location(struct memtrack_summary *s, pid_t pid, uint64_t stack_id, uint64_t time,
			  uint64_t *location)
{
	uint64_t h = FNV1A_SEED;
	int err = report_stack_each(s, pid, stack_id, time, frame_location, &h);

	if (err == -ENOENT) {
		*location = 0;
		return 0;
	}
	*location = h ? h : 1;
	return err;
}

struct text_ctx {
	const char *indent;
	FILE *out;
};

static int frame_text(void *ctx, const struct sym_frame *f, uint64_t ip,
		      const struct memtrack_mapping *m)
{
	struct text_ctx *c = ctx;
	char line[1024];

	(void)m;
	sym_frame_format(f, ip, line, sizeof(line));
	text_printable(line); /* names and paths are the traced program's: one line each */
	if (fprintf(c->out, "%s%s\n", c->indent, line) < 0)
		return write_error();
	return 0;
}

int report_stack_text(struct memtrack_summary *s, pid_t pid, uint64_t stack_id, uint64_t time,
		      const char *indent, FILE *out)
{
	struct text_ctx c = { indent, out };
	int err = report_stack_each(s, pid, stack_id, time, frame_text, &c);

	if (err == -ENOENT)
		return fprintf(out, "%s<no stack>\n", indent) < 0 ? write_error() : 0;
	return err;
}

/* A string field of the traced program's (UTF-8 made valid), left out when there is no value. */
static int add_string(struct json_object *o, const char *key, const char *value)
{
	return value ? json_put_text(o, key, value) : 0;
}

static int frame_json(void *ctx, const struct sym_frame *f, uint64_t ip,
		      const struct memtrack_mapping *m)
{
	struct json_object *o = json_object_new_object();
	int err = o ? 0 : -ENOMEM;

	(void)m;
	err = err ?: json_put_u64(o, "ip", ip);
	err = err ?: add_string(o, "function", f->function);
	if (!err && f->function)
		err = json_put_u64(o, "offset", f->offset);
	err = err ?: add_string(o, "file", f->file);
	if (!err && f->line)
		err = json_put_u64(o, "line", (uint64_t)f->line);
	err = err ?: add_string(o, "module", f->module);
	if (!err && f->module)
		err = json_put_u64(o, "module_offset", f->module_offset);
	if (!err && f->inlined)
		err = json_object_object_add(o, "inlined", json_object_new_boolean(1)) ? -ENOMEM
											: 0;
	if (!err && json_object_array_add(ctx, o))
		err = -ENOMEM;
	if (err)
		json_object_put(o);
	return err;
}

struct json_object *report_stack_json(struct memtrack_summary *s, pid_t pid, uint64_t stack_id,
				      uint64_t time)
{
	struct json_object *a = json_object_new_array();
	int err;

	if (!a)
		return NULL;
	err = report_stack_each(s, pid, stack_id, time, frame_json, a);
	if (err && err != -ENOENT) {
		json_object_put(a);
		return NULL;
	}
	return a;
}
