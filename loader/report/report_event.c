// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * -T: every allocation and free as it happened, with its stack. Text: a
 * line per event (seconds since the first event, pid/tid, the function,
 * address, size) and its frames indented below; JSON: the event's JSONL
 * fields, built with json-c, and a "stack" array of named frames. A
 * handler, fed after the summary whose stacks and mappings name frames.
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "json_event.h"
#include "json_put.h"
#include "opts.h"
#include "report_stack.h"

struct memtrack_event_printer {
	struct memtrack_summary *names;
	bool json;
	FILE *out;
};

/* --mmap's events (mt_is_memory_call) are not heap: printed as they are, outside the size filters. */
static bool in_range(const struct memtrack_summary *s, const struct mt_alloc_event *a)
{
	if (mt_is_memory_call(a->hdr.type))
		return true;
	if (a->hdr.type == MT_EV_FREE || (a->hdr.type == MT_EV_REALLOC && !a->addr))
		return true;
	return a->size >= s->min_size && (!s->max_size || a->size <= s->max_size);
}

static int event_text(struct memtrack_summary *s, const struct mt_alloc_event *a, FILE *out)
{
	double secs = (double)(a->hdr.timestamp - s->first_time) / 1e9;
	const char *func = memtrack_func_name(a->func);
	char line[256];
	size_t n = 0;

	/* the line is made first and written once: a failed write then says why (ENOSPC) */
	n += (size_t)snprintf(line, sizeof(line), "%.6f %u/%u %s 0x%llx", secs, a->hdr.pid,
			      a->hdr.tid, func ? func : "?", (unsigned long long)a->addr);
	if (a->hdr.type != MT_EV_FREE && a->hdr.type != MT_EV_BRK && n < sizeof(line))
		n += (size_t)snprintf(line + n, sizeof(line) - n, " size %llu",
				      (unsigned long long)a->size);
	if ((a->hdr.type == MT_EV_REALLOC || a->func == MT_FN_MREMAP || a->hdr.type == MT_EV_BRK) &&
	    n < sizeof(line))
		n += (size_t)snprintf(line + n, sizeof(line) - n, " from 0x%llx",
				      (unsigned long long)a->old_addr);
	if (a->err && n < sizeof(line))
		n += (size_t)snprintf(line + n, sizeof(line) - n, " failed: %s",
				      strerror((int)a->err));
	if (a->hdr.type == MT_EV_ALIGNED_ALLOC && n < sizeof(line))
		snprintf(line + n, sizeof(line) - n, " align %llu", (unsigned long long)a->align);
	if (fprintf(out, "%s\n", line) < 0)
		return write_error();
	if (!a->stack_id)
		return 0;
	return report_stack_text(s, (pid_t)a->hdr.pid, a->stack_id, a->hdr.timestamp, "\t", out);
}

static int event_json(struct memtrack_summary *s, const union mt_event *ev, FILE *out)
{
	struct json_object *o = event_json_object(ev);
	int err = o ? 0 : -ENOMEM;

	if (!err && ev->alloc.stack_id)
		err = json_put(o, "stack", report_stack_json(s, (pid_t)ev->hdr.pid,
							     ev->alloc.stack_id, ev->hdr.timestamp));
	return json_emit(o, err, out);
}

static int print_event(void *ctx, const union mt_event *ev)
{
	struct memtrack_event_printer *p = ctx;
	int err;

	if (!(mt_is_alloc_event(ev->hdr.type) || mt_is_memory_call(ev->hdr.type)) ||
	    !in_range(p->names, &ev->alloc))
		return 0;
	err = p->json ? event_json(p->names, ev, p->out) : event_text(p->names, &ev->alloc, p->out);
	return err ? err : ferror(p->out) ? -EIO : 0;
}

struct memtrack_event_printer *memtrack_event_printer_new(struct memtrack_summary *names,
							  const struct memtrack_report_opts *opts,
							  FILE *out)
{
	struct memtrack_event_printer *p;
	struct memtrack_report_opts o;

	if (opts_copy(&o, sizeof(o), opts)) {
		errno = EINVAL;
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->names = names;
	p->out = out;
	p->json = o.json;
	return p;
}

struct memtrack_trace_handler memtrack_event_printer_handler(struct memtrack_event_printer *p)
{
	return (struct memtrack_trace_handler){ .sz = sizeof(struct memtrack_trace_handler),
						.ctx = p,
						.on_event = print_event };
}

void memtrack_event_printer_free(struct memtrack_event_printer *p)
{
	free(p);
}
