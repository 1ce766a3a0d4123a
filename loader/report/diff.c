// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Two runs compared, location by location (memtrack-report --diff): what
 * a CI job needs to see an allocation regression between two commits.
 * Locations, not stacks: return addresses move with every build, the
 * functions and lines of a stack do not (report_stack_location()).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "grow_array.h"
#include "json_put.h"
#include "leaks.h"
#include "opts.h"
#include "report_stack.h"
#include "u64_map.h"

enum { BASE, NEW };

/* One location's numbers in both runs, and the stack that names it. */
struct change {
	uint64_t alloc_bytes[2], calls[2], live_bytes[2], live_blocks[2];
	int side;	   /* the run whose stack names it: the new one's if it has one */
	size_t proc;	   /* that run's process ... */
	uint64_t stack_id; /* ... and stack (the one with the most bytes allocated there) */
	uint64_t time, named_bytes;
};

struct changes {
	struct change *v;
	size_t n, cap;
	struct u64_map at; /* location (0 for no stack: 1) -> index + 1 */
	struct change total;
};

static int64_t delta(const uint64_t v[2])
{
	return (int64_t)(v[NEW] - v[BASE]);
}

static uint64_t magnitude(const uint64_t v[2])
{
	return v[NEW] > v[BASE] ? v[NEW] - v[BASE] : v[BASE] - v[NEW];
}

/* The change at the location of (side's proc, stack_id); NULL without memory. */
static struct change *change_at(struct memtrack_summary *s, struct changes *c, int side,
				size_t proc, uint64_t stack_id, uint64_t time, uint64_t bytes)
{
	uint64_t location, idx;
	struct change *ch;

	if (report_stack_location(s, s->procs[proc].st.pid, stack_id, time, &location))
		return NULL;
	if (!location)
		location = 1; /* no stack: one place of its own */
	if (!u64_map_get(&c->at, location, &idx)) {
		if (GROW_ARRAY(c->v, c->n, c->cap, 64))
			return NULL;
		c->v[c->n] = (struct change){ .side = -1 };
		idx = ++c->n;
		if (u64_map_put(&c->at, location, idx))
			return NULL;
	}
	ch = &c->v[idx - 1];
	/* named by the new run's stack with the most bytes, else the base's */
	if (ch->side < 0 || (side == NEW && ch->side == BASE) ||
	    (side == ch->side && bytes > ch->named_bytes)) {
		ch->side = side;
		ch->proc = proc;
		ch->stack_id = stack_id;
		ch->time = time;
		ch->named_bytes = bytes;
	}
	return ch;
}

/* Add to a location's numbers in one run, and to the totals. */
static void add_numbers(struct changes *c, struct change *ch, int side, uint64_t alloc_bytes,
			uint64_t calls, uint64_t live_bytes, uint64_t live_blocks)
{
	struct change *to[2] = { ch, &c->total };

	for (size_t i = 0; i < 2; i++) {
		to[i]->alloc_bytes[side] += alloc_bytes;
		to[i]->calls[side] += calls;
		to[i]->live_bytes[side] += live_bytes;
		to[i]->live_blocks[side] += live_blocks;
	}
}

/* One run's sites (allocated bytes and calls) and live blocks, by location. */
static int add_run(struct memtrack_summary *s, struct changes *c, int side)
{
	struct leaks l = { 0 };
	int err = leaks_collect(s, 0, &l);

	for (size_t i = 0; !err && i < s->nsites; i++) {
		const struct site *site = &s->sites[i];
		struct change *ch = change_at(s, c, side, site->proc, site->stack_id, site->first,
					      site->alloc_bytes);

		if (ch)
			add_numbers(c, ch, side, site->alloc_bytes, site->alloc_count, 0, 0);
		else
			err = -ENOMEM;
	}
	for (size_t i = 0; !err && i < l.n; i++) {
		const struct leak *k = &l.v[i];
		struct change *ch = change_at(s, c, side, k->proc, k->stack_id, k->first_time, 0);

		if (ch)
			add_numbers(c, ch, side, 0, 0, k->bytes, k->count);
		else
			err = -ENOMEM;
	}
	leaks_free(&l);
	return err;
}

/* Biggest change first: bytes allocated, then bytes live at the end. */
static int change_cmp(const void *pa, const void *pb)
{
	const struct change *a = pa, *b = pb;

	if (magnitude(a->alloc_bytes) != magnitude(b->alloc_bytes))
		return magnitude(a->alloc_bytes) > magnitude(b->alloc_bytes) ? -1 : 1;
	if (magnitude(a->live_bytes) != magnitude(b->live_bytes))
		return magnitude(a->live_bytes) > magnitude(b->live_bytes) ? -1 : 1;
	return magnitude(a->calls) > magnitude(b->calls) ? -1 : magnitude(a->calls) < magnitude(b->calls);
}

static bool changed(const struct change *ch)
{
	return delta(ch->alloc_bytes) || delta(ch->calls) || delta(ch->live_bytes) ||
	       delta(ch->live_blocks);
}

static void text_numbers(const struct change *ch, FILE *out)
{
	fprintf(out,
		"%+lld bytes allocated (%llu -> %llu), %+lld calls (%llu -> %llu), %+lld bytes live "
		"at the end (%llu -> %llu)",
		(long long)delta(ch->alloc_bytes), (unsigned long long)ch->alloc_bytes[BASE],
		(unsigned long long)ch->alloc_bytes[NEW], (long long)delta(ch->calls),
		(unsigned long long)ch->calls[BASE], (unsigned long long)ch->calls[NEW],
		(long long)delta(ch->live_bytes), (unsigned long long)ch->live_bytes[BASE],
		(unsigned long long)ch->live_bytes[NEW]);
}

static int diff_text(struct memtrack_summary *runs[2], const struct changes *c, size_t shown,
		     size_t nchanged, FILE *out)
{
	fputs("memtrack: the new run against the base, by location: ", out);
	text_numbers(&c->total, out);
	fprintf(out, "; %zu location%s changed\n", nchanged, nchanged == 1 ? "" : "s");
	for (size_t i = 0; i < shown; i++) {
		const struct change *ch = &c->v[i];
		struct memtrack_summary *s = runs[ch->side];
		int err;

		text_numbers(ch, out);
		fputs(":\n", out);
		err = report_stack_text(s, s->procs[ch->proc].st.pid, ch->stack_id, ch->time, "\t",
					out);
		if (err)
			return err;
	}
	if (shown < nchanged)
		fprintf(out, "memtrack: %zu more locations not shown (--top)\n", nchanged - shown);
	return 0;
}

/* {"base": b, "new": n, "change": n - b} */
static struct json_object *pair(const uint64_t v[2])
{
	struct json_object *o = json_object_new_object();
	int err = o ? 0 : -ENOMEM;

	err = err ?: json_put_u64(o, "base", v[BASE]);
	err = err ?: json_put_u64(o, "new", v[NEW]);
	err = err ?: json_put(o, "change", json_object_new_int64(delta(v)));
	if (err) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

static int numbers_json(struct json_object *o, const struct change *ch)
{
	int err = json_put(o, "alloc_bytes", pair(ch->alloc_bytes));

	err = err ?: json_put(o, "calls", pair(ch->calls));
	err = err ?: json_put(o, "live_bytes", pair(ch->live_bytes));
	return err ?: json_put(o, "live_blocks", pair(ch->live_blocks));
}

static int diff_json(struct memtrack_summary *runs[2], const struct changes *c, size_t shown,
		     FILE *out)
{
	struct json_object *doc = json_new_report("diff"), *list = json_object_new_array(), *total;
	int err = doc && list ? 0 : -ENOMEM;

	total = err ? NULL : json_object_new_object();
	err = err ?: total ? numbers_json(total, &c->total) : -ENOMEM;
	err = err ?: json_put(doc, "total", total);
	for (size_t i = 0; !err && i < shown; i++) {
		const struct change *ch = &c->v[i];
		struct memtrack_summary *s = runs[ch->side];
		struct json_object *o = json_object_new_object();

		err = o ? numbers_json(o, ch) : -ENOMEM;
		err = err ?: json_put_str(o, "named_by", ch->side == NEW ? "new" : "base");
		err = err ?: json_put(o, "stack", report_stack_json(s, s->procs[ch->proc].st.pid,
								   ch->stack_id, ch->time));
		err = err ? (json_object_put(o), err) : json_push(list, o);
	}
	return json_emit_list(doc, "changes", list, err, out);
}

int memtrack_report_diff(struct memtrack_summary *base, struct memtrack_summary *now,
			 const struct memtrack_report_opts *opts, FILE *out)
{
	struct memtrack_summary *runs[2] = { base, now };
	struct memtrack_report_opts o;
	struct changes c = { 0 };
	size_t nchanged = 0, shown;
	int err;

	if (opts_copy(&o, sizeof(o), opts))
		return -EINVAL;
	err = add_run(base, &c, BASE) ?: add_run(now, &c, NEW);
	for (size_t i = 0; !err && i < c.n; i++)
		if (changed(&c.v[i]))
			c.v[nchanged++] = c.v[i];
	if (!err && nchanged)
		qsort(c.v, nchanged, sizeof(*c.v), change_cmp);
	shown = o.top && o.top < nchanged ? o.top : nchanged;
	if (!err)
		err = o.json ? diff_json(runs, &c, shown, out) : diff_text(runs, &c, shown, nchanged, out);
	free(c.v);
	u64_map_free(&c.at);
	return err;
}
