// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The JSONL schema: one event, or the closing Stats record, as one line of JSON. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json_event.h"
#include "json_put.h"
#include "safe_text.h"

/* An snprintf-style builder: len counts what was wanted, even past size. */
struct jbuf {
	char *buf;
	size_t size;
	size_t len;
};

static void jb_printf(struct jbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void jb_printf(struct jbuf *b, const char *fmt, ...)
{
	size_t room = b->len < b->size ? b->size - b->len : 0;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(room ? b->buf + b->len : NULL, room, fmt, ap);
	va_end(ap);
	if (n > 0)
		b->len += (size_t)n;
}

static void jb_putc(struct jbuf *b, char c)
{
	if (b->len + 1 < b->size) {
		b->buf[b->len] = c;
		b->buf[b->len + 1] = '\0';
	}
	b->len++;
}

/* A C string of at most max bytes as a JSON string; bytes that are not UTF-8 become U+FFFD. */
static void jb_string(struct jbuf *b, const char *str, size_t max)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t n = strnlen(str, max);

	jb_putc(b, '"');
	for (size_t i = 0; i < n;) {
		size_t seq = utf8_sequence(s + i, n - i);

		if (s[i] == '"' || s[i] == '\\') {
			jb_putc(b, '\\');
			jb_putc(b, (char)s[i]);
		} else if (s[i] < 0x20) {
			jb_printf(b, "\\u%04x", s[i]);
		} else if (!seq) {
			jb_printf(b, "\\ufffd");
			seq = 1;
		} else {
			for (size_t k = 0; k < seq; k++)
				jb_putc(b, (char)s[i + k]);
		}
		i += seq ? seq : 1;
	}
	jb_putc(b, '"');
}

/*
 * The schema of an event, written once: its fields, in order, handed to a
 * writer. memtrack_event_to_json() writes them as text; -T's JSON builds
 * a json-c object from the same walk (event_json_object()).
 */
struct field_writer {
	void *ctx;
	void (*u64)(void *ctx, const char *key, unsigned long long v);
	/* a string of at most max bytes (not NUL-terminated when it fills them) */
	void (*str)(void *ctx, const char *key, const char *s, size_t max);
};

static void put_u64(const struct field_writer *w, const char *key, unsigned long long v)
{
	w->u64(w->ctx, key, v);
}

static void put_str(const struct field_writer *w, const char *key, const char *s, size_t max)
{
	w->str(w->ctx, key, s, max);
}

static void put_func(const struct field_writer *w, unsigned int func)
{
	const char *name = memtrack_func_name(func);

	put_str(w, "func", name ? name : "unknown", 64);
}

static void alloc_fields(const struct field_writer *w, const struct mt_alloc_event *e)
{
	put_u64(w, "addr", e->addr);
	if (e->hdr.type == MT_EV_FREE) {
		if (e->func != MT_FN_FREE) /* operator delete */
			put_func(w, e->func);
		return;
	}
	put_u64(w, "size", e->size);
	if (e->hdr.type == MT_EV_REALLOC)
		put_u64(w, "old_addr", e->old_addr);
	if (e->hdr.type == MT_EV_REALLOC && e->entered)
		put_u64(w, "entered", e->entered);
	if (e->hdr.type == MT_EV_ALIGNED_ALLOC)
		put_u64(w, "align", e->align);
	/* func where the type groups several functions, and where it is not the type's own */
	if (e->hdr.type == MT_EV_REALLOC || e->hdr.type == MT_EV_ALIGNED_ALLOC ||
	    (e->hdr.type == MT_EV_MALLOC && e->func != MT_FN_MALLOC) ||
	    (e->hdr.type == MT_EV_CALLOC && e->func != MT_FN_CALLOC))
		put_func(w, e->func);
}

/* --mmap's events: the system call's result, and its error if it failed. */
static void memory_call_fields(const struct field_writer *w, const struct mt_alloc_event *e)
{
	put_u64(w, "addr", e->addr);
	if (e->hdr.type == MT_EV_BRK) {
		put_u64(w, "old_addr", e->old_addr);
	} else {
		put_u64(w, "size", e->size);
		if (e->func == MT_FN_MREMAP) {
			put_u64(w, "old_addr", e->old_addr);
			put_u64(w, "old_size", e->align);
		}
	}
	if (e->hdr.type == MT_EV_MMAP)
		put_func(w, e->func);
	if (e->err) {
		const char *name = strerrorname_np((int)e->err);

		if (name)
			put_str(w, "error", name, 64);
		else
			put_u64(w, "error", e->err);
	}
}

/* The stack and the cgroup, if the event has them: after the type's own fields. */
static void stack_id_fields(const struct field_writer *w, const struct mt_alloc_event *e)
{
	if (e->stack_id)
		put_u64(w, "stack_id", e->stack_id);
	if (e->cgroup_id)
		put_u64(w, "cgroup", e->cgroup_id);
}

static void proc_fields(const struct field_writer *w, const struct mt_proc_event *e)
{
	put_u64(w, "ppid", e->ppid);
	put_str(w, "comm", e->comm, sizeof(e->comm));
	if (e->hdr.type == MT_EV_EXEC)
		put_str(w, "filename", e->filename, sizeof(e->filename));
	if (e->hdr.type == MT_EV_EXEC && (e->exit_code & MT_EXEC_PRIVILEGED))
		put_str(w, "untraced", "privileged", 16);
	if (e->hdr.type == MT_EV_EXIT) {
		put_u64(w, "exit_code", mt_exit_code(e->exit_code));
		put_u64(w, "signal", mt_exit_signal(e->exit_code));
	}
	if (e->cgroup_id)
		put_u64(w, "cgroup", e->cgroup_id);
}

static void event_fields(const union mt_event *ev, const struct field_writer *w)
{
	const char *name = memtrack_event_type_name(ev->hdr.type);

	put_str(w, "type", name ? name : "Unknown", 64);
	put_u64(w, "timestamp", ev->hdr.timestamp);
	put_u64(w, "pid", ev->hdr.pid);
	put_u64(w, "tid", ev->hdr.tid);
	if (mt_is_alloc_event(ev->hdr.type)) {
		alloc_fields(w, &ev->alloc);
		stack_id_fields(w, &ev->alloc);
	} else if (mt_is_memory_call(ev->hdr.type)) {
		memory_call_fields(w, &ev->alloc);
		stack_id_fields(w, &ev->alloc);
	} else if (mt_is_proc_event(ev->hdr.type)) {
		proc_fields(w, &ev->proc);
	} else {
		put_u64(w, "raw_type", ev->hdr.type);
	}
}

/* The text writer: ,"key":value after the first field. */
struct text_fields {
	struct jbuf *b;
	bool first;
};

static void text_key(struct text_fields *t, const char *key)
{
	jb_printf(t->b, "%s\"%s\":", t->first ? "" : ",", key);
	t->first = false;
}

static void text_u64(void *ctx, const char *key, unsigned long long v)
{
	text_key(ctx, key);
	jb_printf(((struct text_fields *)ctx)->b, "%llu", v);
}

static void text_str(void *ctx, const char *key, const char *s, size_t max)
{
	text_key(ctx, key);
	jb_string(((struct text_fields *)ctx)->b, s, max);
}

int memtrack_event_to_json(const union mt_event *ev, char *buf, size_t size)
{
	struct jbuf b = { buf, size, 0 };
	struct text_fields t = { &b, true };
	const struct field_writer w = { &t, text_u64, text_str };

	if (size)
		buf[0] = '\0';
	jb_putc(&b, '{');
	event_fields(ev, &w);
	jb_printf(&b, "}\n");
	return (int)b.len;
}

/* The json-c writer: the first failure is kept, and the rest is skipped. */
struct object_fields {
	struct json_object *o;
	int err;
};

static void object_u64(void *ctx, const char *key, unsigned long long v)
{
	struct object_fields *f = ctx;

	f->err = f->err ?: json_put_u64(f->o, key, v);
}

static void object_str(void *ctx, const char *key, const char *s, size_t max)
{
	struct object_fields *f = ctx;
	char *whole = f->err ? NULL : strndup(s, max); /* event strings fill their arrays unended */

	if (!f->err)
		f->err = whole ? json_put_text(f->o, key, whole) : -ENOMEM;
	free(whole);
}

struct json_object *event_json_object(const union mt_event *ev)
{
	struct object_fields f = { json_object_new_object(), 0 };
	const struct field_writer w = { &f, object_u64, object_str };

	if (!f.o)
		return NULL;
	event_fields(ev, &w);
	if (f.err) {
		json_object_put(f.o);
		return NULL;
	}
	return f.o;
}

/* "name":value pairs of one counter array, as a JSON object. */
static void json_counts(struct jbuf *b, const char *key, const unsigned long long *v, unsigned n,
			const char *(*name_of)(unsigned int))
{
	bool first = true;

	jb_printf(b, ",\"%s\":{", key);
	for (unsigned i = 0; i < n; i++) {
		const char *name = name_of(i);

		if (!name)
			continue;
		jb_printf(b, "%s\"%s\":%llu", first ? "" : ",", name, v[i]);
		first = false;
	}
	jb_putc(b, '}');
}

int memtrack_stats_to_json(const struct memtrack_counters *c, unsigned long long timestamp,
			   char *buf, size_t size)
{
	struct jbuf b = { buf, size, 0 };
	unsigned long long dropped = 0;

	for (unsigned i = 0; i < MT_DROP_MAX; i++)
		dropped += c->drops[i];
	if (size)
		buf[0] = '\0';
	jb_printf(&b, "{\"type\":\"Stats\",\"timestamp\":%llu,\"events\":%llu", timestamp,
		  c->events);
	json_counts(&b, "by_type", c->by_type, MT_EV_TYPE_MAX, memtrack_event_type_name);
	json_counts(&b, "failed", c->failures, MT_FN_MAX, memtrack_func_name);
	json_counts(&b, "drops", c->drops, MT_DROP_MAX, memtrack_drop_reason_name);
	jb_printf(&b, ",\"dropped\":%llu", dropped);
	if (c->ringbuf_size)
		jb_printf(&b, ",\"ringbuf_size\":%llu,\"ringbuf_peak\":%llu", c->ringbuf_size,
			  c->ringbuf_peak);
	if (c->max_stacks) {
		jb_printf(&b, ",\"stacks\":%llu,\"max_stacks\":%llu", c->stacks, c->max_stacks);
		json_counts(&b, "stack_cuts", c->stack_cuts, MT_STACK_CUT_MAX,
			    memtrack_stack_cut_name);
	}
	if (c->max_live)
		jb_printf(&b, ",\"live_peak\":%llu,\"max_live\":%llu", c->live_peak, c->max_live);
	jb_printf(&b, "}\n");
	return (int)b.len;
}

int memtrack_stack_to_json(unsigned long long id, const struct mt_stack *st, char *buf, size_t size)
{
	struct jbuf b = { buf, size, 0 };

	if (size)
		buf[0] = '\0';
	jb_printf(&b, "{\"type\":\"Stack\",\"id\":%llu,\"frames\":[", id);
	for (__u32 i = 0; i < st->nr && i < MT_MAX_STACK_DEPTH; i++)
		jb_printf(&b, "%s%llu", i ? "," : "", (unsigned long long)st->ip[i]);
	jb_printf(&b, "]}\n");
	return (int)b.len;
}

int memtrack_mapping_to_json(pid_t pid, unsigned long long timestamp,
			     const struct memtrack_mapping *m, char *buf, size_t size)
{
	struct jbuf b = { buf, size, 0 };

	if (size)
		buf[0] = '\0';
	jb_printf(&b,
		  "{\"type\":\"Mapping\",\"timestamp\":%llu,\"pid\":%d,\"start\":%llu,\"end\":%llu,"
		  "\"offset\":%llu,\"path\":",
		  timestamp, (int)pid, m->start, m->end, m->offset);
	jb_string(&b, m->path, 4096);
	jb_printf(&b, ",\"build_id\":");
	jb_string(&b, m->build_id, 256);
	jb_printf(&b, "}\n");
	return (int)b.len;
}

int memtrack_header_to_json(const struct memtrack_header *h, char *buf, size_t size)
{
	const char *source = h->source == MEMTRACK_SOURCE_USDT ? "usdt" : "uprobe";
	struct jbuf b = { buf, size, 0 };
	time_t sec = (time_t)h->realtime_sec;
	char when[32] = "";
	struct tm tm;

	if (size)
		buf[0] = '\0';
	if (gmtime_r(&sec, &tm))
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	jb_printf(&b, "{\"type\":\"Header\",\"schema\":\"%u.%u\",\"memtrack\":", h->schema_major,
		  h->schema_minor);
	jb_string(&b, h->memtrack_version, sizeof(h->memtrack_version));
	jb_printf(&b, ",\"source\":\"%s\"", source);
	if (h->command) {
		jb_printf(&b, ",\"command\":[");
		for (size_t i = 0; h->command[i]; i++) {
			if (i)
				jb_putc(&b, ',');
			jb_string(&b, h->command[i], 4096);
		}
		jb_putc(&b, ']');
	}
	if (h->npids) {
		jb_printf(&b, ",\"pids\":[");
		for (size_t i = 0; i < h->npids; i++)
			jb_printf(&b, "%s%d", i ? "," : "", (int)h->pids[i]);
		jb_putc(&b, ']');
	}
	if (h->cgroup) {
		jb_printf(&b, ",\"cgroup_path\":");
		jb_string(&b, h->cgroup, 4096);
	}
	if (h->all)
		jb_printf(&b, ",\"all\":true");
	jb_printf(&b, ",\"host\":");
	jb_string(&b, h->host, sizeof(h->host));
	jb_printf(&b, ",\"kernel\":");
	jb_string(&b, h->kernel, sizeof(h->kernel));
	/* each timestamp is realtime + (timestamp - monotonic_ns) */
	jb_printf(&b,
		  ",\"monotonic_ns\":%llu,\"realtime\":\"%s.%09ldZ\",\"realtime_sec\":%lld,"
		  "\"realtime_nsec\":%ld}\n",
		  h->monotonic_ns, when, h->realtime_nsec, h->realtime_sec, h->realtime_nsec);
	return (int)b.len;
}
