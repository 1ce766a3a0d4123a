// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The tracker's lifecycle: open the skeleton, size its maps, load, attach
 * the process-tree tracepoints, then deliver ring-buffer events until
 * closed. Allocator probes are added per target (add_pid.c, spawn.c).
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "safe_text.h"
#include "detacher.h"
#include "libc_locate.h"
#include "memtrack.skel.h"
#include "tracker.h"
#include "usdt_spec.h"

#define DEFAULT_RINGBUF_SIZE (8u << 20)
#define DEFAULT_MAX_STACKS 16384
/* The kernel's BPF ring buffer is limited to just under 4 GiB; its memory is charged to us. */
#define MAX_RINGBUF_SIZE (1u << 30)
#define POLLER_TIMEOUT_MS 100
/* Pull mode: the poller waits while this many events are unread. */
#define QUEUE_HIGH_MARK 65536

/* libbpf has one print hook per process; it goes to the last tracker that asked for debug. */
static struct memtrack *libbpf_log_target;

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	struct memtrack *t = libbpf_log_target;
	char msg[1024];
	size_t len;

	if (!t || t->log_level < MEMTRACK_LOG_DEBUG || level == LIBBPF_DEBUG)
		return 0;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	len = strlen(msg);
	if (len && msg[len - 1] == '\n')
		msg[len - 1] = '\0';
	tracker_log(t, MEMTRACK_LOG_DEBUG, "libbpf: %s", msg);
	return 0;
}

void tracker_log(const struct memtrack *t, enum memtrack_log_level level, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (level > t->log_level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	text_printable(msg); /* it names what traced processes map: one line, no escapes */
	if (t->log)
		t->log(t->log_ctx, level, msg);
	else
		fprintf(stderr, "memtrack: %s%s\n", level == MEMTRACK_LOG_WARN ? "warning: " : "",
			msg);
}

int tracker_fail(struct memtrack *t, enum memtrack_error_kind kind, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	error_set(&t->err, kind, code, fmt, ap);
	va_end(ap);
	return code;
}

static bool is_power_of_two(size_t n)
{
	return n && !(n & (n - 1));
}

/* Is every frame of the stack inside a mapping pid had at time? */
static bool frames_mapped(const struct address_spaces *a, pid_t pid, uint64_t time,
			  const uint64_t *ip, uint32_t nr)
{
	for (uint32_t i = 0; i < nr; i++)
		if (!as_find(a, pid, ip[i], time))
			return false;
	return true;
}

/*
 * An event with a stack: keep the stack (from the kernel's map, the first
 * time), and make sure what the process had mapped then is known: the
 * kernel's mmap records normally tell; if a frame is still outside them
 * (records lost, or a process attached to), /proc/PID/maps while it runs.
 * Errors leave the stack unknown or unsymbolizable, no more.
 */
/* A stack's frames: kept, or read from the kernel's map and kept. With meta_lock. */
static const uint64_t *stack_frames(struct memtrack *t, uint64_t id, uint32_t *nr)
{
	const uint64_t *ip = stack_cache_get(&t->stacks, id, nr);
	struct mt_stack st;

	if (!ip && bpf_map__lookup_elem(t->skel->maps.stacks, &id, sizeof(id), &st, sizeof(st),
					0) == 0 &&
	    stack_cache_put(&t->stacks, id, (const uint64_t *)st.ip, st.nr) == 0)
		ip = stack_cache_get(&t->stacks, id, nr);
	return ip;
}

static void note_stack(struct memtrack *t, pid_t pid, uint64_t time, uint64_t id)
{
	const uint64_t *ip;
	uint32_t nr;

	pthread_mutex_lock(&t->meta_lock);
	ip = stack_frames(t, id, &nr);
	if (ip && !frames_mapped(&t->spaces, pid, time, ip, nr)) {
		mmap_watch_consume(t->mmaps);
		if (!frames_mapped(&t->spaces, pid, time, ip, nr))
			as_read_proc(&t->spaces, pid, time);
	}
	pthread_mutex_unlock(&t->meta_lock);
}

/*
 * Fork, exec and exit change what a pid has mapped, and whether it is ours.
 * An Exec event's time becomes when the exec began (the kernel's comm
 * record of it): the tracepoint fires after the new image is mapped, and
 * its mappings must count as the new image's, here and in a trace read
 * back.
 */
static void note_process(struct memtrack *t, struct mt_proc_event *e)
{
	pid_t pid = (pid_t)e->hdr.pid;
	uint64_t began;

	pthread_mutex_lock(&t->meta_lock);
	switch (e->hdr.type) {
	case MT_EV_FORK:
		/* the parent's mmaps before the fork, still queued, are the child's too */
		mmap_watch_consume(t->mmaps);
		mmap_watch_pid(t->mmaps, pid, UINT64_MAX);
		as_fork(&t->spaces, (pid_t)e->ppid, pid, e->hdr.timestamp);
		break;
	case MT_EV_EXEC:
		mmap_watch_consume(t->mmaps);
		began = mmap_watch_exec_began(t->mmaps, pid, e->hdr.timestamp);
		if (began)
			e->hdr.timestamp = began;
		mmap_watch_pid(t->mmaps, pid, UINT64_MAX);
		as_exec(&t->spaces, pid, e->hdr.timestamp);
		break;
	case MT_EV_EXIT:
		mmap_watch_pid(t->mmaps, pid, e->hdr.timestamp);
		break;
	}
	pthread_mutex_unlock(&t->meta_lock);
}

/* Ring-buffer callback: hand one record to the caller, or queue it for memtrack_next(). */
static int on_record(void *ctx, void *data, size_t size)
{
	struct memtrack *t = ctx;
	union mt_event ev;
	int err;

	if (size < sizeof(ev.hdr))
		return 0;
	/* Records are shorter than the union for small types: copy, never over-read. */
	if (size > sizeof(ev))
		size = sizeof(ev);
	memset(&ev, 0, sizeof(ev));
	memcpy(&ev, data, size);
	/* the peak fill is a sample: take one every so many records */
	if (!(t->delivered++ & 63))
		ringbuf_gauge_sample(&t->rb_gauge);
	if (ev.hdr.type < MT_EV_TYPE_MAX)
		t->by_type[ev.hdr.type]++;
	if (mt_is_proc_event(ev.hdr.type) && size >= sizeof(ev.proc))
		note_process(t, &ev.proc);
	if (ev.hdr.type == MT_EV_EXEC && (ev.proc.exit_code & MT_EXEC_PRIVILEGED))
		tracker_log(t, MEMTRACK_LOG_WARN,
			    "process %d exec'd %.*s, which runs with privileges it did not have "
			    "(setuid, setgid or file capabilities): not traced from there on",
			    (int)ev.hdr.pid, (int)sizeof(ev.proc.filename), ev.proc.filename);
	/* per-process probes: the warden held the process at its exec, and it was probed then */
	else if (ev.hdr.type == MT_EV_EXEC && !t->warden.pid)
		tracker_probe_exec(t, (pid_t)ev.hdr.pid);
	if (mt_is_alloc_event(ev.hdr.type) && size >= sizeof(ev.alloc) && ev.alloc.stack_id)
		note_stack(t, (pid_t)ev.hdr.pid, ev.hdr.timestamp, ev.alloc.stack_id);
	if (t->push) {
		/* on_event alone (the shorthand) takes no mappings or stacks: nothing to track */
		err = t->handler.on_mapping || t->handler.on_stack
			      ? event_context_pass(&t->passed, t, &ev, &t->handler)
			      : 0;
		if (!err && t->handler.on_event)
			err = t->handler.on_event(t->handler.ctx, &ev);
		if (err < 0)
			t->callback_stop = true;
		return err;
	}
	pthread_mutex_lock(&t->lock);
	err = event_queue_push(&t->queue, &ev, size);
	pthread_cond_signal(&t->ready);
	pthread_mutex_unlock(&t->lock);
	return err;
}

/* --mmap's system-call tracepoints are loaded (and so attached) only when asked for. */
static void mmap_calls_setup(struct memtrack_bpf *skel, bool on)
{
	struct bpf_program *progs[] = {
		skel->progs.mmap_enter,	 skel->progs.mmap_exit,	  skel->progs.mremap_enter,
		skel->progs.mremap_exit, skel->progs.munmap_enter, skel->progs.munmap_exit,
		skel->progs.brk_enter,	 skel->progs.brk_exit,
	};

	for (size_t i = 0; i < sizeof(progs) / sizeof(progs[0]); i++)
		bpf_program__set_autoload(progs[i], on);
}

static const char *load_hint(int err)
{
	if (err == -EPERM || err == -EACCES)
		return " (need CAP_BPF and CAP_PERFMON, or root)";
	if (access("/sys/kernel/btf/vmlinux", R_OK))
		return " (this kernel has no BTF: /sys/kernel/btf/vmlinux is missing)";
	return " (run with -v for libbpf's messages)";
}

static int tracker_load(struct memtrack *t, const struct memtrack_opts *opts,
			struct memtrack_error *err)
{
	size_t rb_size = opts->ringbuf_size ? opts->ringbuf_size : DEFAULT_RINGBUF_SIZE;
	long page = sysconf(_SC_PAGESIZE);
	int e;

	/* say which rule it breaks: 1 is a power of two, only too small */
	if (rb_size < (size_t)page || rb_size > MAX_RINGBUF_SIZE)
		return error_fail(err, MEMTRACK_ERR_USAGE, -EINVAL,
				  "ring-buffer size %zu is out of range: a power of two from %ld "
				  "bytes to 1G",
				  rb_size, page);
	if (!is_power_of_two(rb_size))
		return error_fail(err, MEMTRACK_ERR_USAGE, -EINVAL,
				  "ring-buffer size %zu is not a power of two (from %ld bytes to 1G)",
				  rb_size, page);
	if (access("/sys/kernel/btf/vmlinux", R_OK))
		return error_fail(err, MEMTRACK_ERR_BPF, -ENOTSUP,
				 "this kernel has no BTF (/sys/kernel/btf/vmlinux is missing); "
				 "memtrack needs a kernel built with CONFIG_DEBUG_INFO_BTF");

	t->skel = memtrack_bpf__open();
	if (!t->skel)
		return error_fail(err, MEMTRACK_ERR_BPF, -errno, "cannot open BPF object: %s",
				 strerror(errno));
	t->skel->rodata->follow_children = !opts->no_children;
	t->skel->rodata->page_size = (__u64)page;
	if (opts->stack_depth > MT_MAX_STACK_DEPTH)
		return error_fail(err, MEMTRACK_ERR_USAGE, -EINVAL,
				 "stack depth %u is more than the %d frames a stack can have",
				 opts->stack_depth, MT_MAX_STACK_DEPTH);
	t->skel->rodata->stack_depth = opts->stack_depth;
	t->skel->rodata->free_stacks = opts->free_stacks;
	t->skel->rodata->event_cgroups = opts->event_cgroups;
	t->max_stacks = opts->max_stacks ? opts->max_stacks : DEFAULT_MAX_STACKS;
	e = bpf_map__set_max_entries(t->skel->maps.stacks, t->max_stacks);
	if (e)
		return error_fail(err, MEMTRACK_ERR_USAGE, e, "cannot size the stacks map: %s",
				 strerror(-e));
	e = aggregate_setup(t, opts);
	if (e)
		return error_fail(err, MEMTRACK_ERR_USAGE, e, "cannot size the report-only maps: %s",
				 strerror(-e));
	if (opts->unwind != MEMTRACK_UNWIND_FP && opts->unwind != MEMTRACK_UNWIND_DWARF)
		return error_fail(err, MEMTRACK_ERR_USAGE, -EINVAL, "unknown unwinding %d",
				  (int)opts->unwind);
	e = unwind_tables_setup(&t->unwind, t->skel,
				opts->unwind == MEMTRACK_UNWIND_DWARF && opts->stack_depth);
	if (e)
		return error_fail(err, MEMTRACK_ERR_USAGE, e, "cannot size the unwind tables: %s",
				  strerror(-e));
	e = bpf_map__set_max_entries(t->skel->maps.events, (__u32)rb_size);
	if (e)
		return error_fail(err, MEMTRACK_ERR_USAGE, e, "cannot size the ring buffer: %s",
				 strerror(-e));
	mmap_calls_setup(t->skel, opts->mmap);
	/* one link per object and process, if the kernel can: see uprobe_links.c */
	t->multi_links = uprobe_multi_supported();
	t->session_links = uprobe_session_supported();
	if (t->multi_links) {
		bpf_program__set_expected_attach_type(t->skel->progs.alloc_enter,
						      MT_BPF_TRACE_UPROBE_MULTI);
		bpf_program__set_expected_attach_type(t->skel->progs.alloc_exit,
						      MT_BPF_TRACE_UPROBE_MULTI);
	}
	/* sessions: one program for entry and return; else the two, and no session program */
	if (t->session_links)
		bpf_program__set_expected_attach_type(t->skel->progs.alloc_session,
						      MT_BPF_TRACE_UPROBE_SESSION);
	bpf_program__set_autoload(t->skel->progs.alloc_session, t->session_links);
	bpf_program__set_autoload(t->skel->progs.alloc_enter, !t->session_links);
	bpf_program__set_autoload(t->skel->progs.alloc_exit, !t->session_links);
	/* USDT too, with the argument specs written here as usdt.bpf.h lays them out */
	t->own_usdt = t->multi_links && bpf_map__value_size(t->skel->maps.__bpf_usdt_specs) ==
						sizeof(struct usdt_spec);
	if (t->own_usdt)
		bpf_program__set_expected_attach_type(t->skel->progs.usdt_call,
						      MT_BPF_TRACE_UPROBE_MULTI);
	e = scope_setup(t, opts, err);
	if (e)
		return e;
	e = memtrack_bpf__load(t->skel);
	if (e)
		return error_fail(err, MEMTRACK_ERR_BPF, e, "cannot load BPF programs: %s%s",
				 strerror(-e), load_hint(e));
	e = scope_attach(t, err);
	if (e)
		return e;
	e = unwind_tables_open(&t->unwind, t->skel);
	if (e)
		return error_fail(err, MEMTRACK_ERR_BPF, e, "cannot map the unwind tables: %s",
				  strerror(-e));
	/* the shim's own frames are never shown: its object is marked before anything maps it */
	if (t->usdt && t->usdt_shim)
		unwind_tables_add(&t->unwind, t->usdt_shim, MT_UNWIND_SKIP);
	e = memtrack_bpf__attach(t->skel); /* the tracepoints; uprobes have no auto-attach */
	if (e)
		return error_fail(err, MEMTRACK_ERR_BPF, e,
				 "cannot attach the fork/exec/exit tracepoints: %s%s", strerror(-e),
				 load_hint(e));
	t->rb = ring_buffer__new(bpf_map__fd(t->skel->maps.events), on_record, t, NULL);
	if (!t->rb)
		return error_fail(err, MEMTRACK_ERR_BPF, -errno, "cannot open the ring buffer: %s",
				 strerror(errno));
	e = ringbuf_gauge_open(&t->rb_gauge, bpf_map__fd(t->skel->maps.events), rb_size);
	if (e)
		return error_fail(err, MEMTRACK_ERR_BPF, e, "cannot map the ring buffer's positions: %s",
				 strerror(-e));
	e = mmap_watch_open(t->skel->maps.mmap_events, t->skel->maps.tracked, &t->spaces,
			    &t->mmaps);
	if (e)
		return error_fail(err, MEMTRACK_ERR_BPF, e,
				 "cannot open the kernel's mmap records: %s%s", strerror(-e),
				 load_hint(e));
	mmap_watch_on_map(t->mmaps, discover_on_map, t);
	return 0;
}

int memtrack_open(const struct memtrack_opts *caller_opts, struct memtrack **tracker,
		  struct memtrack_error *err)
{
	struct memtrack_opts o, *opts = &o;
	struct memtrack *t;
	int e;

	*tracker = NULL;
	if (opts_copy(&o, sizeof(o), caller_opts))
		return error_fail(err, MEMTRACK_ERR_USAGE, -EINVAL,
				 "struct memtrack_opts: sz must be set to sizeof(struct memtrack_opts), "
				 "and fields this libmemtrack does not know must be 0");
	t = calloc(1, sizeof(*t));
	if (!t)
		return error_fail(err, MEMTRACK_ERR_RUNTIME, -ENOMEM, "out of memory");
	if (opts->handler && opts->on_event) {
		free(t);
		return error_fail(err, MEMTRACK_ERR_USAGE, -EINVAL,
				  "struct memtrack_opts: give on_event or handler, not both");
	}
	if (opts->aggregate && !opts->handler) {
		free(t);
		return error_fail(err, MEMTRACK_ERR_USAGE, -EINVAL,
				  "struct memtrack_opts: aggregate needs a handler, which "
				  "memtrack_finish() gives the kernel's totals");
	}
	if (opts->handler && opts_copy(&t->handler, sizeof(t->handler), opts->handler)) {
		free(t);
		return error_fail(err, MEMTRACK_ERR_USAGE, -EINVAL,
				  "struct memtrack_trace_handler: sz must be set to its size, and "
				  "members this libmemtrack does not know must be NULL");
	}
	if (!opts->handler)
		t->handler = (struct memtrack_trace_handler){ .sz = sizeof(t->handler),
							      .ctx = opts->event_ctx,
							      .on_event = opts->on_event };
	t->push = opts->handler || opts->on_event;
	t->log_level = opts->log_level;
	t->log = opts->log;
	t->log_ctx = opts->log_ctx;
	t->usdt = opts->source == MEMTRACK_SOURCE_USDT;
	/* a cgroup or the whole system: processes join at any time; every process has the probes */
	t->system_probes = opts->system_probes || opts->all || opts->cgroup;
	if (opts->source != MEMTRACK_SOURCE_UPROBE && !t->usdt) {
		free(t);
		return error_fail(err, MEMTRACK_ERR_USAGE, -EINVAL, "unknown event source %d",
				 (int)opts->source);
	}
	if (opts->usdt_shim && !(t->usdt_shim = strdup(opts->usdt_shim))) {
		free(t);
		return error_fail(err, MEMTRACK_ERR_RUNTIME, -ENOMEM, "out of memory");
	}
	pthread_mutex_init(&t->lock, NULL);
	pthread_mutex_init(&t->probe_lock, NULL);
	pthread_mutex_init(&t->meta_lock, NULL);
	pthread_cond_init(&t->ready, NULL);
	pthread_cond_init(&t->exec_done, NULL);

	/* libbpf's print callback is the application's: taken only when asked, given back at close */
	if (opts->libbpf_log) {
		t->libbpf_print_before = libbpf_set_print(libbpf_print);
		t->libbpf_print_taken = true;
		libbpf_log_target = t;
	}

	e = tracker_load(t, opts, err);
	for (const char *const *lib = opts->libs; !e && lib && *lib; lib++) {
		char path[PATH_MAX];

		e = library_locate(*lib, path, sizeof(path));
		if (e)
			tracker_fail(t, MEMTRACK_ERR_ALLOCATOR, e,
				     "cannot find allocator library %s: %s", *lib, strerror(-e));
		else
			e = probes_attach(t, path, PROBE_REQUIRE_MALLOC, &t->err);
		if (e && err)
			*err = t->err;
	}
	if (e) {
		memtrack_close(t);
		return e;
	}
	*tracker = t;
	return 0;
}

int tracker_track_pid(struct memtrack *t, pid_t pid)
{
	__u32 key = (__u32)pid;
	/* lives user space gives are apart from the kernel's (R11) */
	__u32 life = MT_LIFE_ADDED | __atomic_add_fetch(&t->last_added_life, 1, __ATOMIC_RELAXED);

	if (bpf_map__update_elem(t->skel->maps.tracked, &key, sizeof(key), &life, sizeof(life),
				 BPF_ANY))
		return tracker_fail(t, MEMTRACK_ERR_RUNTIME, -errno,
				    "cannot add process %d to the traced set: %s", (int)pid,
				    strerror(errno));
	pthread_mutex_lock(&t->meta_lock);
	mmap_watch_pid(t->mmaps, pid, UINT64_MAX);
	pthread_mutex_unlock(&t->meta_lock);
	return 0;
}

void tracker_read_maps(struct memtrack *t, pid_t pid)
{
	pthread_mutex_lock(&t->meta_lock);
	as_read_proc(&t->spaces, pid, 0);
	pthread_mutex_unlock(&t->meta_lock);
}

void tracker_untrack_pid(struct memtrack *t, pid_t pid)
{
	__u32 key = (__u32)pid;

	bpf_map__delete_elem(t->skel->maps.tracked, &key, sizeof(key), 0);
}

/* A ring-buffer call's result: a count, the callback's stop value, or an error. */
static int ring_result(struct memtrack *t, int n)
{
	if (t->callback_stop) {
		t->callback_stop = false;
		return n; /* the callback's own negative value, as documented */
	}
	if (n == -EINTR)
		return 0;
	if (n < 0)
		return tracker_fail(t, MEMTRACK_ERR_RUNTIME, n, "cannot read the ring buffer: %s",
				    strerror(-n));
	return n;
}

/* Keep the kernel's mmap records flowing in, between events that need them. */
static void take_mmaps(struct memtrack *t)
{
	pthread_mutex_lock(&t->meta_lock);
	mmap_watch_consume(t->mmaps);
	pthread_mutex_unlock(&t->meta_lock);
	discover_new_mappings(t); /* a dlopen'd allocator */
}

int memtrack_poll(struct memtrack *t, int timeout_ms)
{
	int n;

	ringbuf_gauge_sample(&t->rb_gauge);
	n = ring_result(t, ring_buffer__poll(t->rb, timeout_ms));

	take_mmaps(t);
	return n;
}

int memtrack_drain(struct memtrack *t)
{
	ringbuf_gauge_sample(&t->rb_gauge);
	return ring_result(t, ring_buffer__consume(t->rb));
}

/* Keys in a BPF hash map (up to its size: a map being written to may show one twice). */
static size_t map_entries(const struct bpf_map *map)
{
	__u32 key[4], next[4]; /* the widest per-process key: a u32 */
	size_t n = 0, most = bpf_map__max_entries(map);
	int fd = bpf_map__fd(map);
	void *at = NULL;

	while (n < most && bpf_map_get_next_key(fd, at, next) == 0) {
		memcpy(key, next, sizeof(key));
		at = key;
		n++;
	}
	return n;
}

/*
 * What is left of per-process and per-thread state in the kernel's maps.
 * Once every traced process has exited, every count must be 0: the exit
 * tracepoint removes a process's and each thread's entries, also those of
 * a call it died in. Said with -v, so that a leak shows (test_faults).
 */
static void log_kernel_state(struct memtrack *t)
{
	tracker_log(t, MEMTRACK_LOG_INFO,
		    "state left in the kernel: %zu processes, %zu open calls, %zu frees, "
		    "%zu system calls, %zu breaks",
		    map_entries(t->skel->maps.tracked), map_entries(t->skel->maps.calls),
		    map_entries(t->skel->maps.frees), map_entries(t->skel->maps.sys_calls),
		    map_entries(t->skel->maps.breaks));
}

int memtrack_finish(struct memtrack *t)
{
	struct memtrack_counters c;
	int err, stats_err;

	if (!t->push || t->finished)
		return tracker_fail(t, MEMTRACK_ERR_USAGE, -EINVAL,
				    t->push ? "memtrack_finish() was called already"
					    : "memtrack_finish() needs a tracker opened with a handler");
	t->finished = true;
	err = memtrack_stop(t);
	err = err < 0 ? err : memtrack_drain(t);
	if (err >= 0 && t->skel->rodata->aggregate)
		err = aggregate_push(t, false);
	if (t->unwind.on)
		tracker_log(t, MEMTRACK_LOG_INFO, "unwind tables: %zu rows of %zu (%zu objects)",
			    t->unwind.used, t->unwind.cap, t->unwind.nobjects);
	if (t->log_level >= MEMTRACK_LOG_INFO)
		log_kernel_state(t);
	/* the counters, even after a failure: what there is of them says what was lost */
	stats_err = memtrack_read_counters(t, &c);
	if (t->handler.on_stats) {
		int e = t->handler.on_stats(t->handler.ctx, &c);

		if (e < 0 && err >= 0)
			err = tracker_fail(t, MEMTRACK_ERR_RUNTIME, e, "the handler failed: %s",
					   strerror(-e));
	}
	return err < 0 ? err : stats_err;
}

int memtrack_snapshot(struct memtrack *t, unsigned int flags)
{
	if (!t->push || t->finished || (flags & ~MEMTRACK_SNAPSHOT_TOTALS))
		return tracker_fail(t, MEMTRACK_ERR_USAGE, -EINVAL,
				    "memtrack_snapshot() needs a tracker opened with a handler, "
				    "not finished, and known flags");
	if (!t->skel->rodata->aggregate)
		return 0; /* the handler has had every event polled so far */
	return aggregate_push(t, flags & MEMTRACK_SNAPSHOT_TOTALS);
}

struct timespec tracker_deadline(int timeout_ms)
{
	struct timespec at;

	clock_gettime(CLOCK_REALTIME, &at);
	at.tv_sec += timeout_ms / 1000;
	at.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (at.tv_nsec >= 1000000000L) {
		at.tv_sec++;
		at.tv_nsec -= 1000000000L;
	}
	return at;
}

int memtrack_next(struct memtrack *t, union mt_event *ev, int timeout_ms)
{
	struct timespec deadline;
	int got = 0, err = 0;

	if (t->push)
		return tracker_fail(t, MEMTRACK_ERR_USAGE, -EINVAL,
				    "memtrack_next() needs a tracker opened without on_event or handler");
	if (!t->poller_running) {
		pthread_mutex_lock(&t->lock);
		got = event_queue_pop(&t->queue, ev);
		pthread_mutex_unlock(&t->lock);
		if (!got) {
			err = memtrack_poll(t, timeout_ms);
			pthread_mutex_lock(&t->lock);
			got = err >= 0 && event_queue_pop(&t->queue, ev);
			pthread_mutex_unlock(&t->lock);
		}
		return err < 0 ? err : got;
	}

	deadline = tracker_deadline(timeout_ms);
	pthread_mutex_lock(&t->lock);
	while (!(got = event_queue_pop(&t->queue, ev)) && t->poller_running && !err) {
		if (timeout_ms < 0)
			err = pthread_cond_wait(&t->ready, &t->lock);
		else
			err = pthread_cond_timedwait(&t->ready, &t->lock, &deadline);
	}
	pthread_cond_signal(&t->ready); /* room again: wake a waiting poller */
	pthread_mutex_unlock(&t->lock);
	return got;
}

static void *poller_main(void *arg)
{
	struct memtrack *t = arg;
	sigset_t all;

	/* Signals belong to the application's threads, not to this one. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	while (!t->poller_stop) {
		int n;

		if (!t->push) {
			pthread_mutex_lock(&t->lock);
			while (t->queue.len >= QUEUE_HIGH_MARK && !t->poller_stop)
				pthread_cond_wait(&t->ready, &t->lock);
			pthread_mutex_unlock(&t->lock);
		}
		n = memtrack_poll(t, POLLER_TIMEOUT_MS);
		if (n < 0) {
			t->poller_error = n;
			break;
		}
	}
	/* What is left goes out too, unless the callback asked to stop. */
	if (!t->poller_error)
		memtrack_drain(t);
	pthread_mutex_lock(&t->lock);
	t->poller_running = false;
	pthread_cond_broadcast(&t->ready);
	pthread_mutex_unlock(&t->lock);
	return NULL;
}

int memtrack_start(struct memtrack *t)
{
	int err;

	if (t->poller_started)
		return 0;
	t->poller_stop = false;
	t->poller_running = true;
	err = pthread_create(&t->poller, NULL, poller_main, t);
	if (err) {
		t->poller_running = false;
		return tracker_fail(t, MEMTRACK_ERR_RUNTIME, -err,
				    "cannot start the poller thread: %s", strerror(err));
	}
	t->poller_started = true;
	return 0;
}

int memtrack_stop(struct memtrack *t)
{
	if (t->poller_started) {
		pthread_mutex_lock(&t->lock);
		t->poller_stop = true;
		pthread_cond_broadcast(&t->ready);
		pthread_mutex_unlock(&t->lock);
		pthread_join(t->poller, NULL);
		t->poller_started = false;
	}
	return t->poller_error;
}

int memtrack_tracked_count(struct memtrack *t)
{
	int fd = bpf_map__fd(t->skel->maps.tracked);
	__u32 key, next;
	int n = 0;
	void *prev = NULL;

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		n++;
		key = next;
		prev = &key;
	}
	return n;
}

/* Sum one per-CPU counter array into out[0..n). */
static int sum_percpu(struct memtrack *t, struct bpf_map *map, unsigned long long *out, __u32 n)
{
	int ncpu = libbpf_num_possible_cpus();
	__u64 *values;

	if (ncpu <= 0)
		return tracker_fail(t, MEMTRACK_ERR_RUNTIME, ncpu, "cannot count CPUs");
	values = calloc((size_t)ncpu, sizeof(*values));
	if (!values)
		return tracker_fail(t, MEMTRACK_ERR_RUNTIME, -ENOMEM, "out of memory");
	for (__u32 key = 0; key < n; key++) {
		out[key] = 0;
		if (bpf_map__lookup_elem(map, &key, sizeof(key), values,
					 sizeof(*values) * (size_t)ncpu, 0)) {
			int err = -errno;

			free(values);
			return tracker_fail(t, MEMTRACK_ERR_RUNTIME, err,
					    "cannot read the %s counters: %s", bpf_map__name(map),
					    strerror(-err));
		}
		for (int cpu = 0; cpu < ncpu; cpu++)
			out[key] += values[cpu];
	}
	free(values);
	return 0;
}

int memtrack_read_counters(struct memtrack *t, struct memtrack_counters *c)
{
	int err;

	memset(c, 0, sizeof(*c));
	err = sum_percpu(t, t->skel->maps.drops, c->drops, MT_DROP_MAX);
	if (!err)
		err = sum_percpu(t, t->skel->maps.failures, c->failures, MT_FN_MAX);
	if (!err)
		err = sum_percpu(t, t->skel->maps.stack_cuts, c->stack_cuts, MT_STACK_CUT_MAX);
	c->events = t->delivered;
	memcpy(c->by_type, t->by_type, sizeof(c->by_type));
	ringbuf_gauge_sample(&t->rb_gauge);
	c->ringbuf_size = t->rb_gauge.size;
	c->ringbuf_peak = t->rb_gauge.peak;
	if (t->skel->rodata->stack_depth) {
		pthread_mutex_lock(&t->meta_lock);
		c->stacks = t->stacks.nentries;
		pthread_mutex_unlock(&t->meta_lock);
		c->max_stacks = t->max_stacks;
	}
	if (!err && t->skel->rodata->aggregate)
		err = aggregate_fill(t, &c->live_peak, &c->max_live);
	return err;
}

size_t memtrack_probed_count(struct memtrack *t)
{
	size_t n;

	pthread_mutex_lock(&t->probe_lock);
	n = t->nobjects;
	pthread_mutex_unlock(&t->probe_lock);
	return n;
}

/* Paths are never freed before memtrack_close(): the pointer stays valid. */
const char *memtrack_probed_path(struct memtrack *t, size_t i)
{
	const char *path;

	pthread_mutex_lock(&t->probe_lock);
	path = i < t->nobjects ? t->objects[i].path : NULL;
	pthread_mutex_unlock(&t->probe_lock);
	return path;
}

int memtrack_stack(struct memtrack *t, unsigned long long stack_id, struct mt_stack *out)
{
	const uint64_t *ip;
	uint32_t nr;

	pthread_mutex_lock(&t->meta_lock);
	ip = stack_frames(t, stack_id, &nr);
	if (ip) {
		out->nr = nr;
		out->_pad = 0;
		memcpy(out->ip, ip, nr * sizeof(*ip));
	}
	pthread_mutex_unlock(&t->meta_lock);
	return ip ? 0 : -ENOENT;
}

size_t memtrack_mappings(struct memtrack *t, pid_t pid, size_t from, struct memtrack_mapping *out,
			 unsigned long long *times, size_t max)
{
	const struct proc_maps *p;
	size_t n = 0;

	pthread_mutex_lock(&t->meta_lock);
	p = as_proc(&t->spaces, pid);
	for (; p && from + n < p->n && n < max; n++) {
		out[n] = p->maps[from + n].m;
		if (times)
			times[n] = p->maps[from + n].time;
	}
	pthread_mutex_unlock(&t->meta_lock);
	return n;
}

const struct memtrack_error *memtrack_last_error(const struct memtrack *t)
{
	return &t->err;
}

void memtrack_close(struct memtrack *t)
{
	struct detacher d;

	if (!t)
		return;
	memtrack_stop(t);
	/* the kernel's slow part of letting go of the probes happens in a detacher process */
	detacher_begin(&d, true);
	procs_stop(t);
	probes_detach_all(t);
	ring_buffer__free(t->rb);
	ringbuf_gauge_close(&t->rb_gauge);
	memtrack_bpf__destroy(t->skel);
	detacher_finish(&d);
	if (t->libbpf_print_taken && libbpf_log_target == t) {
		libbpf_set_print(t->libbpf_print_before);
		libbpf_log_target = NULL;
	}
	event_queue_free(&t->queue);
	event_context_free(&t->passed);
	unwind_tables_close(&t->unwind);
	mmap_watch_close(t->mmaps);
	stack_cache_free(&t->stacks);
	as_free(&t->spaces);
	for (size_t i = 0; i < t->nnew_maps; i++)
		free(t->new_maps[i].path);
	free(t->new_maps);
	u64_map_free(&t->looked_at);
	u64_map_free(&t->images_probed);
	free(t->scope_cgroup);
	pthread_mutex_destroy(&t->meta_lock);
	free(t->usdt_shim);
	pthread_cond_destroy(&t->ready);
	pthread_cond_destroy(&t->exec_done);
	pthread_mutex_destroy(&t->probe_lock);
	pthread_mutex_destroy(&t->lock);
	free(t);
}
