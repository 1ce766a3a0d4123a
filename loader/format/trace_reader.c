// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Reading a JSONL trace back (with json-c): every record, in order, as the
 * structures tracing produced them, so that reports work the same on a
 * trace as on a live run.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "memtrack.h"
#include "error.h"
#include "opts.h"

static long long get_int(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) ? (long long)json_object_get_uint64(v) : 0;
}

static const char *get_str(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : NULL;
}

/* The enum value whose name is name, by the names table; -1 if none. */
static int lookup(const char *name, const char *(*name_of)(unsigned int), unsigned int max)
{
	for (unsigned int i = 0; name && i < max; i++) {
		const char *n = name_of(i);

		if (n && strcmp(n, name) == 0)
			return (int)i;
	}
	return -1;
}

static void copy_str(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src ? src : "");
}

/* An errno from its name ("ENOMEM", as json_event.c writes it) or its number; 0 if neither. */
static __u32 errno_of(struct json_object *o)
{
	struct json_object *v;
	const char *name;

	if (!json_object_object_get_ex(o, "error", &v))
		return 0;
	if (json_object_is_type(v, json_type_int))
		return (__u32)json_object_get_int(v);
	name = json_object_get_string(v);
	for (int e = 1; name && e < 4096; e++) {
		const char *n = strerrorname_np(e);

		if (n && strcmp(n, name) == 0)
			return (__u32)e;
	}
	return 0;
}

/* --mmap's records, as json_event.c writes them: an mremap's old size is kept in align. */
static void read_memory_call(struct json_object *o, int type, struct mt_alloc_event *e)
{
	int func = lookup(get_str(o, "func"), memtrack_func_name, MT_FN_MAX);

	e->addr = (__u64)get_int(o, "addr");
	e->old_addr = (__u64)get_int(o, "old_addr");
	e->stack_id = (__u64)get_int(o, "stack_id");
	e->cgroup_id = (__u64)get_int(o, "cgroup");
	e->err = errno_of(o);
	if (type == MT_EV_BRK) {
		e->func = mt_event_default_func((__u32)type);
		return;
	}
	e->size = (__u64)get_int(o, "size");
	e->func = func >= 0 ? (__u32)func : mt_event_default_func((__u32)type);
	if (e->func == MT_FN_MREMAP)
		e->align = (__u64)get_int(o, "old_size");
}

static int read_event(struct json_object *o, int type, const struct memtrack_trace_handler *h)
{
	union mt_event ev;
	int func;

	/* Without a pid and a time an event cannot be placed: the trace is damaged. */
	if (!json_object_object_get_ex(o, "pid", NULL) ||
	    !json_object_object_get_ex(o, "timestamp", NULL))
		return -EINVAL;
	memset(&ev, 0, sizeof(ev));
	ev.hdr.type = (__u32)type;
	ev.hdr.timestamp = (__u64)get_int(o, "timestamp");
	ev.hdr.pid = (__u32)get_int(o, "pid");
	ev.hdr.tid = (__u32)get_int(o, "tid");
	if (mt_is_memory_call((__u32)type)) {
		read_memory_call(o, type, &ev.alloc);
	} else if (mt_is_alloc_event((__u32)type)) {
		ev.alloc.addr = (__u64)get_int(o, "addr");
		ev.alloc.size = (__u64)get_int(o, "size");
		ev.alloc.old_addr = (__u64)get_int(o, "old_addr");
		ev.alloc.align = (__u64)get_int(o, "align");
		if (type == MT_EV_REALLOC)
			ev.alloc.entered = (__u64)get_int(o, "entered");
		ev.alloc.stack_id = (__u64)get_int(o, "stack_id");
		ev.alloc.cgroup_id = (__u64)get_int(o, "cgroup");
		func = lookup(get_str(o, "func"), memtrack_func_name, MT_FN_MAX);
		/* the types that name their function have func; the others imply it */
		ev.alloc.func = func >= 0 ? (__u32)func : mt_event_default_func((__u32)type);
	} else {
		ev.proc.ppid = (__u32)get_int(o, "ppid");
		ev.proc.exit_code = mt_exit_status((__u32)get_int(o, "exit_code"),
						   (__u32)get_int(o, "signal"));
		copy_str(ev.proc.comm, sizeof(ev.proc.comm), get_str(o, "comm"));
		ev.proc.cgroup_id = (__u64)get_int(o, "cgroup");
		copy_str(ev.proc.filename, sizeof(ev.proc.filename), get_str(o, "filename"));
		if (type == MT_EV_EXEC && get_str(o, "untraced"))
			ev.proc.exit_code = MT_EXEC_PRIVILEGED;
	}
	return h->on_event ? h->on_event(h->ctx, &ev) : 0;
}

static int read_stack(struct json_object *o, const struct memtrack_trace_handler *h)
{
	struct json_object *frames;
	struct mt_stack st;
	size_t n;

	if (!h->on_stack)
		return 0;
	memset(&st, 0, sizeof(st));
	if (!json_object_object_get_ex(o, "frames", &frames) ||
	    !json_object_is_type(frames, json_type_array))
		return -EINVAL;
	n = json_object_array_length(frames);
	st.nr = (__u32)(n < MT_MAX_STACK_DEPTH ? n : MT_MAX_STACK_DEPTH);
	for (__u32 i = 0; i < st.nr; i++)
		st.ip[i] = json_object_get_uint64(json_object_array_get_idx(frames, i));
	return h->on_stack(h->ctx, (unsigned long long)get_int(o, "id"), &st);
}

static int read_mapping(struct json_object *o, const struct memtrack_trace_handler *h)
{
	const char *path = get_str(o, "path"), *id = get_str(o, "build_id");
	struct memtrack_mapping m = {
		.start = (unsigned long long)get_int(o, "start"),
		.end = (unsigned long long)get_int(o, "end"),
		.offset = (unsigned long long)get_int(o, "offset"),
		.path = path ? path : "",
		.build_id = id ? id : "",
	};

	if (!h->on_mapping)
		return 0;
	if (!path || m.end <= m.start)
		return -EINVAL;
	return h->on_mapping(h->ctx, (pid_t)get_int(o, "pid"),
			     (unsigned long long)get_int(o, "timestamp"), &m);
}

static bool is_count(struct json_object *v, unsigned long long max);

/*
 * The Header record. Its schema's major number must be one this reader
 * knows (-EPROTONOSUPPORT: *major says which it was); the lists it holds
 * live as long as o does, for the handler's call.
 */
static int read_header(struct json_object *o, const struct memtrack_trace_handler *h,
		       unsigned int *major)
{
	struct memtrack_header hd = { .sz = sizeof(hd) };
	struct json_object *cmd = NULL, *pids = NULL;
	const char *schema = get_str(o, "schema"), *source = get_str(o, "source");
	const char **argv = NULL;
	pid_t *pidv = NULL;
	char *end;
	int err = 0;

	if (!schema || !json_object_is_type(json_object_object_get(o, "schema"), json_type_string))
		return -EINVAL;
	errno = 0;
	*major = (unsigned int)strtoul(schema, &end, 10);
	if (errno || end == schema || *end != '.')
		return -EINVAL;
	if (*major > MEMTRACK_SCHEMA_MAJOR)
		return -EPROTONOSUPPORT;
	hd.schema_major = *major;
	hd.schema_minor = (unsigned int)strtoul(end + 1, NULL, 10);
	if (!h->on_header)
		return 0;
	copy_str(hd.memtrack_version, sizeof(hd.memtrack_version), get_str(o, "memtrack"));
	hd.source = source && !strcmp(source, "usdt") ? MEMTRACK_SOURCE_USDT : MEMTRACK_SOURCE_UPROBE;
	copy_str(hd.host, sizeof(hd.host), get_str(o, "host"));
	copy_str(hd.kernel, sizeof(hd.kernel), get_str(o, "kernel"));
	hd.cgroup = get_str(o, "cgroup_path");
	hd.all = json_object_get_boolean(json_object_object_get(o, "all"));
	hd.monotonic_ns = (unsigned long long)get_int(o, "monotonic_ns");
	hd.realtime_sec = get_int(o, "realtime_sec");
	hd.realtime_nsec = (long)get_int(o, "realtime_nsec");
	if (json_object_object_get_ex(o, "command", &cmd)) {
		size_t n = json_object_is_type(cmd, json_type_array) ? json_object_array_length(cmd) : 0;

		argv = calloc(n + 1, sizeof(*argv));
		if (!argv)
			return -ENOMEM;
		for (size_t i = 0; i < n && !err; i++) {
			struct json_object *a = json_object_array_get_idx(cmd, i);

			argv[i] = json_object_get_string(a);
			err = json_object_is_type(a, json_type_string) ? 0 : -EINVAL;
		}
		err = err ?: json_object_is_type(cmd, json_type_array) ? 0 : -EINVAL;
		hd.command = argv;
	}
	if (!err && json_object_object_get_ex(o, "pids", &pids)) {
		size_t n = json_object_is_type(pids, json_type_array) ? json_object_array_length(pids) : 0;

		pidv = calloc(n ? n : 1, sizeof(*pidv));
		err = pidv ? 0 : -ENOMEM;
		for (size_t i = 0; i < n && !err; i++) {
			struct json_object *p = json_object_array_get_idx(pids, i);

			err = is_count(p, UINT32_MAX) ? 0 : -EINVAL;
			pidv[i] = (pid_t)json_object_get_int64(p);
		}
		err = err ?: json_object_is_type(pids, json_type_array) ? 0 : -EINVAL;
		hd.pids = pidv;
		hd.npids = n;
	}
	err = err ?: h->on_header(h->ctx, &hd);
	free(argv);
	free(pidv);
	return err;
}

/* Counts by name under key (absent: none); -EINVAL if they are not an object of counts. */
static int read_counts(struct json_object *o, const char *key, unsigned long long *out,
		       unsigned int max, const char *(*name_of)(unsigned int))
{
	struct json_object *obj;

	if (!json_object_object_get_ex(o, key, &obj))
		return 0;
	if (!json_object_is_type(obj, json_type_object))
		return -EINVAL;
	json_object_object_foreach(obj, name, value)
	{
		int i = lookup(name, name_of, max);

		if (!is_count(value, UINT64_MAX))
			return -EINVAL;
		if (i >= 0)
			out[i] = json_object_get_uint64(value);
	}
	return 0;
}

static int read_stats(struct json_object *o, const struct memtrack_trace_handler *h)
{
	struct memtrack_counters c;

	if (!h->on_stats)
		return 0;
	memset(&c, 0, sizeof(c));
	c.events = (unsigned long long)get_int(o, "events");
	if (read_counts(o, "by_type", c.by_type, MT_EV_TYPE_MAX, memtrack_event_type_name) ||
	    read_counts(o, "failed", c.failures, MT_FN_MAX, memtrack_func_name) ||
	    read_counts(o, "drops", c.drops, MT_DROP_MAX, memtrack_drop_reason_name) ||
	    read_counts(o, "stack_cuts", c.stack_cuts, MT_STACK_CUT_MAX, memtrack_stack_cut_name))
		return -EINVAL; /* a damaged trace, not a crash */
	c.ringbuf_size = (unsigned long long)get_int(o, "ringbuf_size");
	c.ringbuf_peak = (unsigned long long)get_int(o, "ringbuf_peak");
	c.stacks = (unsigned long long)get_int(o, "stacks");
	c.max_stacks = (unsigned long long)get_int(o, "max_stacks");
	c.live_peak = (unsigned long long)get_int(o, "live_peak");
	c.max_live = (unsigned long long)get_int(o, "max_live");
	return h->on_stats(h->ctx, &c);
}

/*
 * The schema's numbers: non-negative integers, those of 32-bit fields
 * within 32 bits. A number of another type or range (a string, -5, 1e30)
 * makes the record damaged instead of a silent 0 or wrap.
 */
static const char *const numbers64[] = {
	"timestamp", "addr", "size", "old_addr", "align", "entered", "old_size", "stack_id", "cgroup",
	"id", "start", "end", "offset", "events", "dropped", "ringbuf_size", "ringbuf_peak",
	"stacks", "max_stacks", "live_peak", "max_live", "monotonic_ns", "realtime_sec",
	"realtime_nsec",
};
static const char *const numbers32[] = { "pid", "tid", "ppid", "exit_code", "signal" };

static bool is_count(struct json_object *v, unsigned long long max)
{
	return json_object_is_type(v, json_type_int) && json_object_get_int64(v) >= 0 &&
	       json_object_get_uint64(v) <= max;
}

static bool numbers_valid(struct json_object *o)
{
	struct json_object *v;

	for (size_t i = 0; i < sizeof(numbers64) / sizeof(numbers64[0]); i++)
		if (json_object_object_get_ex(o, numbers64[i], &v) && !is_count(v, UINT64_MAX))
			return false;
	for (size_t i = 0; i < sizeof(numbers32) / sizeof(numbers32[0]); i++)
		if (json_object_object_get_ex(o, numbers32[i], &v) && !is_count(v, UINT32_MAX))
			return false;
	return true;
}

/*
 * What no tracer writes: a process 0, or an allocation or free of address
 * 0 (failed calls are not events; realloc(p, 0) may return NULL).
 */
static bool event_placeable(struct json_object *o, int type)
{
	if (get_int(o, "pid") == 0)
		return false;
	switch (type) {
	case MT_EV_MALLOC:
	case MT_EV_CALLOC:
	case MT_EV_ALIGNED_ALLOC:
	case MT_EV_FREE:
		return get_int(o, "addr") != 0;
	default:
		return true;
	}
}

/* first: no record came before this one (a Header may come only there). */
static int read_record(struct json_object *o, const struct memtrack_trace_handler *h, bool first,
		       unsigned int *major)
{
	const char *type = get_str(o, "type");
	int ev;

	if (!type || !numbers_valid(o))
		return -EINVAL;
	if (strcmp(type, "Header") == 0)
		return first ? read_header(o, h, major) : -EINVAL;
	if (strcmp(type, "Stack") == 0)
		return read_stack(o, h);
	if (strcmp(type, "Mapping") == 0)
		return read_mapping(o, h);
	if (strcmp(type, "Stats") == 0)
		return read_stats(o, h);
	ev = lookup(type, memtrack_event_type_name, MT_EV_TYPE_MAX);
	if (ev <= 0)
		return 0; /* a record this version does not know: skip it */
	if (!event_placeable(o, ev))
		return -EINVAL;
	return read_event(o, ev, h);
}

int memtrack_trace_read(const char *path, const struct memtrack_trace_handler *caller_h,
			struct memtrack_error *err)
{
	struct memtrack_trace_handler handler, *h = &handler;
	struct json_tokener *tok;
	char *line = NULL;
	size_t cap = 0, lineno = 0, records = 0;
	unsigned int major = 0;
	ssize_t len;
	int ret = 0;
	FILE *f;

	if (!caller_h || opts_copy(&handler, sizeof(handler), caller_h))
		return error_fail(err, MEMTRACK_ERR_USAGE, -EINVAL,
				  "struct memtrack_trace_handler: sz must be set to its size, and "
				  "members this libmemtrack does not know must be NULL");
	f = strcmp(path, "-") == 0 ? stdin : fopen(path, "re");
	if (!f)
		return error_fail(err, MEMTRACK_ERR_USAGE, -errno, "cannot read %s: %s", path,
				 strerror(errno));
	tok = json_tokener_new();
	if (!tok) {
		ret = error_fail(err, MEMTRACK_ERR_RUNTIME, -ENOMEM, "out of memory");
		goto out;
	}
	while (!ret && (len = getline(&line, &cap, f)) > 0) {
		struct json_object *o;

		lineno++;
		if (len == 1 && line[0] == '\n')
			continue;
		json_tokener_reset(tok);
		o = json_tokener_parse_ex(tok, line, (int)len);
		/* one record per line, and nothing after it but the line's end */
		if (o && strspn(line + json_tokener_get_parse_end(tok), " \t\r\n") !=
			     (size_t)len - json_tokener_get_parse_end(tok)) {
			json_object_put(o);
			o = NULL;
		}
		if (!o || !json_object_is_type(o, json_type_object)) {
			ret = error_fail(err, MEMTRACK_ERR_USAGE, -EINVAL,
					"%s:%zu: not a memtrack JSONL record", path, lineno);
		} else {
			ret = read_record(o, h, records++ == 0, &major);
			if (ret == -EPROTONOSUPPORT)
				error_fail(err, MEMTRACK_ERR_USAGE, ret,
					  "%s:%zu: a trace of schema %u.x, newer than this reader's "
					  "(%u.x): read it with the memtrack that wrote it, or a newer one",
					  path, lineno, major, MEMTRACK_SCHEMA_MAJOR);
			else if (ret == -EINVAL)
				error_fail(err, MEMTRACK_ERR_USAGE, ret,
					  "%s:%zu: a record with missing or malformed fields", path,
					  lineno);
			else if (ret)
				error_fail(err, MEMTRACK_ERR_RUNTIME, ret, "%s:%zu: %s", path,
					  lineno, strerror(-ret));
		}
		json_object_put(o);
	}
	if (!ret && ferror(f))
		ret = error_fail(err, MEMTRACK_ERR_USAGE, -EIO, "cannot read %s: %s", path,
				strerror(errno));
	json_tokener_free(tok);
out:
	free(line);
	if (f != stdin)
		fclose(f);
	return ret;
}
