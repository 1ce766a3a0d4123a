// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The JSONL schema: one event, or the closing Stats record, as one line of JSON. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "memtrack.h"

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

/*
 * Length of the well-formed UTF-8 sequence at s (at most n bytes), or 0.
 * The second byte's range rules out overlong forms, surrogates and code
 * points past U+10FFFF (Unicode table 3-7).
 */
static size_t utf8_sequence(const unsigned char *s, size_t n)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t len;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4;
	else
		return 0;
	if (s[0] == 0xe0)
		lo = 0xa0;
	else if (s[0] == 0xed)
		hi = 0x9f;
	else if (s[0] == 0xf0)
		lo = 0x90;
	else if (s[0] == 0xf4)
		hi = 0x8f;
	if (len > n || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return len;
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

static void json_func(struct jbuf *b, unsigned int func)
{
	const char *name = memtrack_func_name(func);

	jb_printf(b, ",\"func\":\"%s\"", name ? name : "unknown");
}

static void json_alloc(struct jbuf *b, const struct mt_alloc_event *e)
{
	jb_printf(b, ",\"addr\":%llu", (unsigned long long)e->addr);
	if (e->hdr.type == MT_EV_FREE) {
		if (e->func != MT_FN_FREE) /* operator delete */
			json_func(b, e->func);
		return;
	}
	jb_printf(b, ",\"size\":%llu", (unsigned long long)e->size);
	if (e->hdr.type == MT_EV_REALLOC)
		jb_printf(b, ",\"old_addr\":%llu", (unsigned long long)e->old_addr);
	if (e->hdr.type == MT_EV_ALIGNED_ALLOC)
		jb_printf(b, ",\"align\":%llu", (unsigned long long)e->align);
	/* func where the type groups several functions, and where it is not the type's own */
	if (e->hdr.type == MT_EV_REALLOC || e->hdr.type == MT_EV_ALIGNED_ALLOC ||
	    (e->hdr.type == MT_EV_MALLOC && e->func != MT_FN_MALLOC) ||
	    (e->hdr.type == MT_EV_CALLOC && e->func != MT_FN_CALLOC))
		json_func(b, e->func);
}

/* --mmap's events: the system call's result, and its error if it failed. */
static void json_memory_call(struct jbuf *b, const struct mt_alloc_event *e)
{
	jb_printf(b, ",\"addr\":%llu", (unsigned long long)e->addr);
	if (e->hdr.type == MT_EV_BRK) {
		jb_printf(b, ",\"old_addr\":%llu", (unsigned long long)e->old_addr);
	} else {
		jb_printf(b, ",\"size\":%llu", (unsigned long long)e->size);
		if (e->func == MT_FN_MREMAP)
			jb_printf(b, ",\"old_addr\":%llu,\"old_size\":%llu",
				  (unsigned long long)e->old_addr, (unsigned long long)e->align);
	}
	if (e->hdr.type == MT_EV_MMAP)
		json_func(b, e->func);
	if (e->err) {
		const char *name = strerrorname_np((int)e->err);

		if (name)
			jb_printf(b, ",\"error\":\"%s\"", name);
		else
			jb_printf(b, ",\"error\":%u", e->err);
	}
}

/* The stack and the cgroup, if the event has them: after the type's own fields. */
static void json_stack_id(struct jbuf *b, const struct mt_alloc_event *e)
{
	if (e->stack_id)
		jb_printf(b, ",\"stack_id\":%llu", (unsigned long long)e->stack_id);
	if (e->cgroup_id)
		jb_printf(b, ",\"cgroup\":%llu", (unsigned long long)e->cgroup_id);
}

static void json_proc(struct jbuf *b, const struct mt_proc_event *e)
{
	jb_printf(b, ",\"ppid\":%u,\"comm\":", e->ppid);
	jb_string(b, e->comm, sizeof(e->comm));
	if (e->hdr.type == MT_EV_EXEC) {
		jb_printf(b, ",\"filename\":");
		jb_string(b, e->filename, sizeof(e->filename));
	}
	if (e->hdr.type == MT_EV_EXIT)
		jb_printf(b, ",\"exit_code\":%u,\"signal\":%u", mt_exit_code(e->exit_code),
			  mt_exit_signal(e->exit_code));
	if (e->cgroup_id)
		jb_printf(b, ",\"cgroup\":%llu", (unsigned long long)e->cgroup_id);
}

int memtrack_event_to_json(const union mt_event *ev, char *buf, size_t size)
{
	struct jbuf b = { buf, size, 0 };
	const char *name = memtrack_event_type_name(ev->hdr.type);

	if (size)
		buf[0] = '\0';
	jb_printf(&b, "{\"type\":\"%s\",\"timestamp\":%llu,\"pid\":%u,\"tid\":%u",
		  name ? name : "Unknown", (unsigned long long)ev->hdr.timestamp, ev->hdr.pid,
		  ev->hdr.tid);
	switch (ev->hdr.type) {
	case MT_EV_MALLOC:
	case MT_EV_FREE:
	case MT_EV_CALLOC:
	case MT_EV_REALLOC:
	case MT_EV_ALIGNED_ALLOC:
		json_alloc(&b, &ev->alloc);
		json_stack_id(&b, &ev->alloc);
		break;
	case MT_EV_MMAP:
	case MT_EV_MUNMAP:
	case MT_EV_BRK:
		json_memory_call(&b, &ev->alloc);
		json_stack_id(&b, &ev->alloc);
		break;
	case MT_EV_FORK:
	case MT_EV_EXEC:
	case MT_EV_EXIT:
		json_proc(&b, &ev->proc);
		break;
	default:
		jb_printf(&b, ",\"raw_type\":%u", ev->hdr.type);
		break;
	}
	jb_printf(&b, "}\n");
	return (int)b.len;
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
