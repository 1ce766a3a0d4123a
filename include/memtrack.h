/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * libmemtrack: trace every heap allocation and free of processes and their
 * descendants, through uprobes on the allocator and BPF.
 *
 *	struct memtrack *t;
 *	struct memtrack_opts opts = { .sz = sizeof(opts) };
 *	union mt_event ev;
 *	if (memtrack_open(&opts, &t, NULL) == 0 && memtrack_add_pid(t, pid) == 0) {
 *		while (memtrack_tracked_count(t) > 0)
 *			if (memtrack_next(t, &ev, 100) > 0)
 *				handle(&ev);
 *		while (memtrack_next(t, &ev, 0) > 0)	// what is left, up to the Exit
 *			handle(&ev);
 *	}
 *	memtrack_close(t);
 *
 * Or push: give opts.handler (struct memtrack_trace_handler, below) and
 * every record reaches it once, each process's mappings and each stack
 * before the first event that needs them, as memtrack_trace_read() gives
 * a trace back: the JSONL writer, the summary and the -T printer are such
 * handlers (memtrack_jsonl_handler(), memtrack_summary_handler(),
 * memtrack_event_printer_handler()); memtrack_tee feeds several.
 *
 * Functions that can fail return 0 (or a count) on success and a negative
 * errno on failure; memtrack_last_error() then says what failed and what
 * the user can do. Needs root, or CAP_BPF with CAP_PERFMON.
 */
#ifndef MEMTRACK_H
#define MEMTRACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include "memtrack_events.h"

#ifdef __cplusplus
extern "C" {
#endif

struct memtrack;

/*
 * Called for each event, in ring-buffer order. Return 0 to go on; a
 * negative value stops the current memtrack_poll() and is returned by it
 * (the event itself counts as delivered).
 */
typedef int (*memtrack_event_fn)(void *ctx, const union mt_event *ev);

enum memtrack_log_level {
	MEMTRACK_LOG_WARN = 0, /* something is not traced, or not as asked */
	MEMTRACK_LOG_INFO = 1, /* what was found and attached (-v) */
	MEMTRACK_LOG_DEBUG = 2 /* libbpf's own messages (-vv) */
};

typedef void (*memtrack_log_fn)(void *ctx, enum memtrack_log_level level, const char *msg);

/* Where events come from. */
enum memtrack_source {
	/* uprobes and uretprobes on the allocator functions: works on any program */
	MEMTRACK_SOURCE_UPROBE = 0,
	/*
	 * the memtrack USDT probes (usdt/memtrack_usdt.h): fired by
	 * libmemtrack-usdt.so, which spawned commands get preloaded, or by a
	 * program's own annotated allocator; one cheap probe per call
	 */
	MEMTRACK_SOURCE_USDT = 1,
};

/* How stacks are walked (memtrack_opts.unwind). */
enum memtrack_unwind {
	/* frame pointers: cheapest, but a stack ends at the first code built without them */
	MEMTRACK_UNWIND_FP = 0,
	/*
	 * the DWARF call-frame information every object carries (.eh_frame),
	 * compiled once per object into tables the BPF side walks; frame
	 * pointers where an object has none
	 */
	MEMTRACK_UNWIND_DWARF = 1,
};

/* Fields past sz (from an older caller) and zero-initialised fields take their defaults. */
struct memtrack_opts {
	size_t sz; /* sizeof(struct memtrack_opts): lets the struct grow */
	/* Do not follow processes forked by traced ones (threads always are). */
	bool no_children;
	/* Allocator objects to probe besides libc: paths or sonames. NULL-terminated; may be NULL. */
	const char *const *libs;
	/* Ring-buffer size in bytes: a power of two, at least one page. 0: 8 MiB. */
	size_t ringbuf_size;
	/*
	 * Event sink: on_event for the events alone, or handler for every
	 * record (mappings, stacks, events, and memtrack_finish()'s). Not
	 * both; neither: events are queued for memtrack_next().
	 */
	memtrack_event_fn on_event;
	void *event_ctx;
	/* Messages up to this level go to log (NULL: stderr, prefixed "memtrack: "). */
	enum memtrack_log_level log_level;
	memtrack_log_fn log;
	void *log_ctx;
	/* Where events come from; with MEMTRACK_SOURCE_USDT, libs name objects with memtrack probes. */
	enum memtrack_source source;
	/* libmemtrack-usdt.so, for memtrack_spawn() with the USDT source. NULL: not available. */
	const char *usdt_shim;
	/* User stack frames kept per allocation (at most MT_MAX_STACK_DEPTH). 0: no stacks. */
	unsigned int stack_depth;
	/* Free events get stacks too (they cost as much as an allocation's). */
	bool free_stacks;
	/* Distinct stacks kept; 0: 16384. Past it, a new stack is a counted drop. */
	unsigned int max_stacks;
	/*
	 * Report-only: allocation events are not delivered; the kernel keeps
	 * the live blocks and the totals of each process and stack, which
	 * memtrack_finish() hands to opts.handler (needed: -EINVAL without it).
	 * Fork, Exec and Exit still are delivered.
	 * Cheaper per allocation than streaming.
	 */
	bool aggregate;
	/* aggregate: live blocks kept (0: 1048576); past it, an allocation is a counted drop. */
	unsigned int max_live;
	/* aggregate: only allocations of min_size..max_size bytes count (0: no bound). */
	unsigned long long min_size, max_size;
	/* Also anonymous mmap, mremap, munmap and brk (Mmap, Munmap, Brk events; streamed only). */
	bool mmap;
	/*
	 * A scope beyond a process tree: every process of this cgroup (a v2
	 * directory, absolute or relative to the cgroup2 mount, such as
	 * "system.slice/foo.service"; its descendants too), or of the whole
	 * system (all).
	 * Processes that fork or exec in it are traced from then on; add those
	 * already in it with memtrack_add_scope().
	 */
	const char *cgroup;
	bool all;
	/* Allocation (and --mmap) events carry the cgroup id of the process that made them. */
	bool event_cgroups;
	/*
	 * Attach the allocator probes once for every process on the system,
	 * as cgroup and all always do, instead of into each traced process.
	 * Every process that maps a probed object then traps into the kernel
	 * on each of its calls, traced or not; but new children need not be
	 * held (ptrace) until their probes are in.
	 */
	bool system_probes;
	/*
	 * Route libbpf's own messages to log, at MEMTRACK_LOG_DEBUG (and drop
	 * them below it), while the tracker is open. libbpf has one print
	 * callback per process: without this it stays the application's.
	 */
	bool libbpf_log;
	/* Where every record goes (see on_event); copied, ctx must outlive the tracker. */
	const struct memtrack_trace_handler *handler;
	/* How stacks are walked (with stack_depth). */
	enum memtrack_unwind unwind;
};

/* What kind of thing failed: lets a caller map failures to exit statuses. */
enum memtrack_error_kind {
	MEMTRACK_ERR_NONE = 0,
	MEMTRACK_ERR_USAGE,	 /* invalid options or arguments */
	MEMTRACK_ERR_NO_PROCESS, /* the PID does not exist, or exited during attach */
	MEMTRACK_ERR_BPF,	 /* BPF unavailable: permission, no BTF, no uprobes */
	MEMTRACK_ERR_ALLOCATOR,	 /* allocator library not found or has no malloc */
	MEMTRACK_ERR_NOT_FOUND,	 /* the command to spawn does not exist */
	MEMTRACK_ERR_NOT_EXEC,	 /* the command exists but cannot be executed */
	MEMTRACK_ERR_OUTPUT,	 /* an output file cannot be opened or written */
	MEMTRACK_ERR_RUNTIME,	 /* anything else */
};

struct memtrack_error {
	enum memtrack_error_kind kind;
	int code;	/* negative errno */
	char msg[512];	/* one line, no trailing newline */
};

/* Totals the BPF side counts, summed over CPUs. */
struct memtrack_counters {
	unsigned long long drops[MT_DROP_MAX];	  /* lost events, by enum mt_drop_reason */
	unsigned long long failures[MT_FN_MAX];	  /* failed calls, by enum mt_func */
	unsigned long long events;		  /* events delivered to the caller */
	unsigned long long by_type[MT_EV_TYPE_MAX]; /* of those, by enum mt_event_type */
	/* How full the BPF side's storage got (0: not known, as in an older trace). */
	unsigned long long ringbuf_size, ringbuf_peak; /* bytes; the fullest seen by the reader */
	unsigned long long stacks, max_stacks;	       /* distinct stacks stored, and the room */
	unsigned long long live_peak, max_live;	       /* report-only mode: live blocks kept */
	/* Stacks that ended before their outermost frame, by enum mt_stack_cut (not lost events). */
	unsigned long long stack_cuts[MT_STACK_CUT_MAX];
};

/* One file mapping of a traced process: what symbolizing its addresses needs. */
struct memtrack_mapping {
	unsigned long long start, end; /* addresses [start, end) */
	unsigned long long offset;     /* the file offset mapped at start */
	const char *path;	       /* the file, as the process names it */
	const char *build_id;	       /* its GNU build-id, lowercase hex; "" if none */
};

/*
 * A trace's first record, Header: what the trace is of, and how its
 * CLOCK_MONOTONIC timestamps map to wall-clock time (realtime was read
 * at monotonic_ns). The schema's major number changes when readers of the
 * old one would misread a trace; its minor one when records or fields are
 * added, which readers skip.
 */
#define MEMTRACK_SCHEMA_MAJOR 1
#define MEMTRACK_SCHEMA_MINOR 0
struct memtrack_header {
	size_t sz; /* sizeof(struct memtrack_header): lets the struct grow */
	unsigned int schema_major, schema_minor;
	char memtrack_version[32];
	enum memtrack_source source;
	const char *const *command; /* the command traced, NULL-terminated; NULL: none */
	const pid_t *pids;	    /* the processes attached to (-p) */
	size_t npids;
	const char *cgroup; /* the cgroup traced (--cgroup), or NULL */
	bool all;	    /* every process (-a) */
	char host[65];	    /* uname's nodename and release */
	char kernel[65];
	unsigned long long monotonic_ns;
	long long realtime_sec; /* CLOCK_REALTIME at monotonic_ns */
	long realtime_nsec;
};

/*
 * Fill the parts of h that describe this machine and this moment (schema,
 * version, host, kernel, the two clocks), leaving what was traced (source,
 * command, pids, cgroup, all) as the caller set it. h->sz must be set.
 * 0, or -EINVAL.
 */
int memtrack_header_init(struct memtrack_header *h);

/* The "Header" record, as memtrack_event_to_json() writes an event. */
int memtrack_header_to_json(const struct memtrack_header *h, char *buf, size_t size);

/*
 * The records of a trace, in order, as tracing made them: what a live
 * tracker (opts.handler) and memtrack_trace_read() both deliver, so that
 * every output is fed the same calls live and from a trace read back.
 * Any member may be NULL; a negative return stops the delivery with it.
 * sz is sizeof(struct memtrack_trace_handler), as in the options structs:
 * members are added at the end, and one this version does not know must
 * be NULL (-EINVAL otherwise).
 */
struct memtrack_trace_handler {
	size_t sz;
	void *ctx;
	/* Malloc, Free, Calloc, Realloc, AlignedAlloc, Mmap, Munmap, Brk, Fork, Exec, Exit */
	int (*on_event)(void *ctx, const union mt_event *ev);
	/* a stack's frames: before the first event that refers to its id */
	int (*on_stack)(void *ctx, unsigned long long id, const struct mt_stack *st);
	/* a code mapping pid made at timestamp: before the first event of pid it names */
	int (*on_mapping)(void *ctx, pid_t pid, unsigned long long timestamp,
			  const struct memtrack_mapping *m);
	/* the closing totals (memtrack_finish(); a trace's Stats record) */
	int (*on_stats)(void *ctx, const struct memtrack_counters *c);
	/*
	 * Report-only runs (opts.aggregate), from memtrack_finish(): what the
	 * kernel kept instead of events, read at timestamp. Each process's
	 * totals (and its mappings before them), then its totals by stack,
	 * then its live blocks; each stack before the first that names it.
	 */
	int (*on_totals)(void *ctx, pid_t pid, unsigned long long timestamp,
			 const struct mt_proc_totals *t);
	int (*on_site)(void *ctx, pid_t pid, unsigned long long stack_id, const struct mt_site *v);
	int (*on_block)(void *ctx, pid_t pid, unsigned long long addr, const struct mt_block *b);
	/* what the trace is of: first, before any other record (a trace read back may have none) */
	int (*on_header)(void *ctx, const struct memtrack_header *h);
	/*
	 * Report-only runs: the on_totals, on_site and on_block calls that
	 * follow, read at timestamp, replace all those before (a snapshot, by
	 * memtrack_snapshot() or memtrack_finish()): a handler that adds them
	 * up starts over.
	 */
	int (*on_snapshot)(void *ctx, unsigned long long timestamp);
};

/*
 * Several handlers fed as one, each call to each of them in the order
 * they were added (a summary before the event printer that names stacks
 * with it). A handler that fails gets nothing more, and its error is kept
 * (memtrack_tee_error()); the others go on, unless it was added with
 * MEMTRACK_TEE_STOP: then the tee fails at once with that error. The tee
 * fails too once every handler has.
 */
struct memtrack_tee;
#define MEMTRACK_TEE_STOP 1
/* NULL without memory. */
struct memtrack_tee *memtrack_tee_new(void);
/* Add a copy of h: its index, or a negative errno (-EINVAL for a bad h->sz). */
int memtrack_tee_add(struct memtrack_tee *tee, const struct memtrack_trace_handler *h, int flags);
/* The first failure of handler i (a negative errno), or 0. */
int memtrack_tee_error(const struct memtrack_tee *tee, size_t i);
/* The handler that feeds every one added (the tee must outlive it). */
struct memtrack_trace_handler memtrack_tee_handler(struct memtrack_tee *tee);
void memtrack_tee_free(struct memtrack_tee *tee);


/*
 * Load the BPF programs and attach them to libc (found from this system's
 * standard locations) and to opts->libs. Nothing is traced until
 * memtrack_add_pid() or memtrack_spawn(). On failure *tracker is NULL and
 * err (if not NULL) says why.
 */
int memtrack_open(const struct memtrack_opts *opts, struct memtrack **tracker,
		  struct memtrack_error *err);

/*
 * Trace a running process (all its threads; a thread id means its process)
 * and, unless no_children, every process it starts from now on. Probes the
 * libc it has mapped (a static executable: its own malloc) if not probed
 * yet; with the USDT source, every mapped object that has memtrack probes
 * (MEMTRACK_ERR_ALLOCATOR if none has).
 */
int memtrack_add_pid(struct memtrack *t, pid_t pid);

/*
 * With opts.cgroup or opts.all: trace every process already in the scope,
 * as memtrack_add_pid() does (those that exit meanwhile, kernel threads,
 * and processes with no allocator to probe are skipped). Returns how many
 * were added, or a negative errno.
 */
int memtrack_add_scope(struct memtrack *t);

/* Zero-initialised fields leave the command as the caller is. */
struct memtrack_spawn_opts {
	size_t sz; /* sizeof(struct memtrack_spawn_opts) */
	/* Run the command as uid:gid with uid's supplementary groups (memtrack-load: SUDO_UID/GID). */
	bool set_user;
	uid_t uid;
	gid_t gid;
	/* If > 0, this descriptor becomes the command's standard output (memtrack-load -o -). */
	int stdout_fd;
};

/*
 * Start argv[0] (searched in PATH when it has no '/') with argv, traced from
 * its first instruction: the child is created stopped, tracked and probed
 * before it execs. The caller reaps it with waitpid(). opts may be NULL.
 * With the USDT source, the command runs with usdt_shim appended to its
 * LD_PRELOAD; the shim puts LD_PRELOAD back as it was for the command's own
 * children.
 */
int memtrack_spawn(struct memtrack *t, char *const argv[], const struct memtrack_spawn_opts *opts,
		   pid_t *pid);

/*
 * Wait up to timeout_ms (-1: forever) for events and deliver them: to
 * on_event, or to the queue read by memtrack_next(). Returns the number
 * delivered.
 */
int memtrack_poll(struct memtrack *t, int timeout_ms);

/*
 * Pull one event into *ev, waiting up to timeout_ms. Returns 1 if an event
 * was stored, 0 on timeout (or, with a background poller, once it has
 * stopped and everything is read). Only without on_event.
 */
int memtrack_next(struct memtrack *t, union mt_event *ev, int timeout_ms);

/* Deliver whatever the ring buffer still holds, without waiting. */
int memtrack_drain(struct memtrack *t);

/*
 * The end of the records, for opts.handler: stop the background poller,
 * deliver what is left, then (report-only) what the kernel kept, then the
 * counters to on_stats. Once, when tracing is over. 0 or a negative errno.
 */
int memtrack_finish(struct memtrack *t);

/*
 * While tracing, from the thread that polls: bring the handler up to now.
 * A report-only run hands it what the kernel holds (on_snapshot, then the
 * totals, and unless MEMTRACK_SNAPSHOT_TOTALS the sites and live blocks,
 * as memtrack_finish() does at the end); a streaming run's handler has it
 * all already. For reports at intervals (memtrack-load --interval).
 * 0, or a negative errno.
 */
#define MEMTRACK_SNAPSHOT_TOTALS 1u /* per-process totals only: cheap, for a status line */
int memtrack_snapshot(struct memtrack *t, unsigned int flags);

/*
 * Poll in a background thread until memtrack_stop() or memtrack_close().
 * on_event is then called from that thread; memtrack_next() may be called
 * from any one other thread.
 */
int memtrack_start(struct memtrack *t);
/* Stop the background thread after a final drain. */
int memtrack_stop(struct memtrack *t);

/* Processes traced right now; 0 once every one of them has exited. */
int memtrack_tracked_count(struct memtrack *t);

/*
 * The executable file mappings of pid, as the kernel reported them while
 * it ran (its mmaps, from before its first instruction for a command
 * started traced; what /proc/PID/maps showed for a process attached to),
 * in the order they came: out[] gets up to max of them from index from,
 * times[] (if not NULL) when each was made, CLOCK_MONOTONIC ns (0: before
 * tracing). Returns how many were copied. Strings live as long as t.
 */
size_t memtrack_mappings(struct memtrack *t, pid_t pid, size_t from, struct memtrack_mapping *out,
			 unsigned long long *times, size_t max);

/*
 * The frames of a stack an event refers to (its stack_id), copied to *out.
 * Stacks are read from the kernel's map the first time and kept. Returns
 * 0, or -ENOENT for an id that is not (or no longer) known.
 */
int memtrack_stack(struct memtrack *t, unsigned long long stack_id, struct mt_stack *out);

/* Drop and failure counters so far, summed over CPUs. */
int memtrack_read_counters(struct memtrack *t, struct memtrack_counters *c);

/* The libc and other objects probed, in the order they were attached. */
size_t memtrack_probed_count(struct memtrack *t);
const char *memtrack_probed_path(struct memtrack *t, size_t i);

/* The error behind the last failing call on t. */
const struct memtrack_error *memtrack_last_error(const struct memtrack *t);

/* Stop polling, detach every probe, free everything. NULL is allowed. */
void memtrack_close(struct memtrack *t);

/*
 * The seed API: trace one or several running processes with default
 * options, a background poller already started. With on_event NULL, read
 * events with memtrack_next(). Returns NULL on failure (err, if not NULL,
 * says why).
 */
struct memtrack *memtrack_track(pid_t pid, memtrack_event_fn on_event, void *ctx,
				struct memtrack_error *err);
struct memtrack *memtrack_track_multiple(const pid_t *pids, size_t n, memtrack_event_fn on_event,
					 void *ctx, struct memtrack_error *err);

/* Names: "Malloc", "realloc", "ringbuf_full", "depth". NULL for values out of range. */
const char *memtrack_event_type_name(unsigned int type);
const char *memtrack_func_name(unsigned int func);
const char *memtrack_drop_reason_name(unsigned int reason);
const char *memtrack_stack_cut_name(unsigned int reason);

/*
 * One event as a JSON object on one line, ending in '\n' (the JSONL schema
 * of the README). Returns the length written, or the length needed (as
 * snprintf does) when it does not fit in size.
 */
int memtrack_event_to_json(const union mt_event *ev, char *buf, size_t size);

/* A "Stack" record: the frames behind an event's stack_id (written before the first such event). */
int memtrack_stack_to_json(unsigned long long id, const struct mt_stack *st, char *buf,
			   size_t size);

/*
 * A "Mapping" record: pid mapped this file at timestamp. With Exec events
 * (which end the mappings made before them), what a reader needs to know
 * what pid had mapped at any time.
 */
int memtrack_mapping_to_json(pid_t pid, unsigned long long timestamp,
			     const struct memtrack_mapping *m, char *buf, size_t size);

/* The closing "Stats" record: event totals, failed calls and drops by reason. */
int memtrack_stats_to_json(const struct memtrack_counters *c, unsigned long long timestamp,
			   char *buf, size_t size);

/*
 * Open an output file as memtrack's own are opened: created or truncated,
 * mode 0644 (or stricter by the umask), and refused (-EACCES) if it is a
 * symlink another user made in a world-writable sticky directory such as
 * /tmp, as the kernel's fs.protected_symlinks would. Returns a file
 * descriptor (close-on-exec), or a negative errno with err saying why.
 */
int memtrack_output_open(const char *path, struct memtrack_error *err);

/*
 * Would memtrack_output_open() accept path? Checked without changing
 * anything: a file the check has to make is removed again. 0, or a
 * negative errno with err saying why. For refusing an output before a run
 * starts, when it is written only later.
 */
int memtrack_output_check(const char *path, struct memtrack_error *err);

/*
 * An output that takes the place of path only once it is whole: written
 * to a temporary file beside path (mode 0644), renamed over path by
 * memtrack_output_end() if nothing failed, removed if something did. A
 * failed or abandoned output leaves what was at path. Where that cannot
 * be (path is an existing device, pipe or /dev/stdout, or its directory
 * cannot take a temporary file), it is opened in place as
 * memtrack_output_open() does. "-" is standard output.
 */
struct memtrack_output {
	int fd;	   /* write here */
	char *tmp; /* the temporary file, or NULL when written in place */
	char *path;
};
int memtrack_output_begin(const char *path, struct memtrack_output *o,
			  struct memtrack_error *err);
/*
 * Close o. failed: a negative errno if writing failed (o is then
 * abandoned), else 0. Returns the first error: failed, or closing's or
 * renaming's.
 */
int memtrack_output_end(struct memtrack_output *o, int failed);

/*
 * A JSONL output file ("-": standard output), written only in whole lines
 * so that a reader never sees half of one. The path is checked on open
 * (memtrack_output_check()) and created or truncated at the first write,
 * so that a run refused before it records anything leaves the file as it
 * was.
 */
struct memtrack_jsonl;
struct memtrack_jsonl *memtrack_jsonl_open(const char *path, struct memtrack_error *err);
int memtrack_jsonl_write_event(struct memtrack_jsonl *w, const union mt_event *ev);
int memtrack_jsonl_write_stats(struct memtrack_jsonl *w, const struct memtrack_counters *c,
			       unsigned long long timestamp);
int memtrack_jsonl_write_stack(struct memtrack_jsonl *w, unsigned long long id,
			       const struct mt_stack *st);
int memtrack_jsonl_write_mapping(struct memtrack_jsonl *w, pid_t pid, unsigned long long timestamp,
				 const struct memtrack_mapping *m);
int memtrack_jsonl_write_header(struct memtrack_jsonl *w, const struct memtrack_header *h);
int memtrack_jsonl_flush(struct memtrack_jsonl *w);
/* Every record handed to this writes its line: the -o output of a tracker or a trace. */
struct memtrack_trace_handler memtrack_jsonl_handler(struct memtrack_jsonl *w);
/* Flush and close; returns the first write error seen, if any. NULL is allowed. */
int memtrack_jsonl_close(struct memtrack_jsonl *w);

/*
 * Read the trace at path ("-": standard input). Records of types this
 * version does not know are skipped; a trace of a newer schema major
 * (its Header says so) is refused (-EPROTONOSUPPORT). Returns 0, or a
 * negative errno with err (if not NULL) naming the file and line.
 */
int memtrack_trace_read(const char *path, const struct memtrack_trace_handler *h,
			struct memtrack_error *err);

/*
 * Per-process heap accounting, fed with events: the malloc_free columns.
 * Blocks are followed by address, so a block freed by another thread or
 * reused after free is accounted to the right life.
 */
struct memtrack_proc_stats {
	pid_t pid;
	pid_t ppid;
	char comm[MT_COMM_LEN];
	unsigned long long allocs;	/* successful allocation calls */
	unsigned long long frees;	/* free() calls and blocks released by realloc */
	unsigned long long alloc_bytes; /* Alloc: bytes allocated */
	unsigned long long free_bytes;	/* Free: bytes released (including by exec) */
	unsigned long long live_bytes;	/* Real: allocated and not yet released */
	unsigned long long live_blocks; /* Live: how many blocks those are */
	unsigned long long peak_bytes;	/* Real.max */
	unsigned long long max_request; /* Req.max: largest single request */
	unsigned long long unknown_frees; /* releases of blocks allocated before tracing */
	unsigned long long cgroup_id;	  /* its cgroup v2 (from Fork, Exec, Exit); 0: unknown */
	bool exited;
	unsigned int exit_status; /* wait(2) status, when exited */
};

struct memtrack_summary;
struct memtrack_summary *memtrack_summary_new(void);
/*
 * Only allocations of min_size..max_size bytes (0: no bound) count, in
 * every report; the others are still followed so that their frees pair.
 * Set before the first event.
 */
void memtrack_summary_set_sizes(struct memtrack_summary *s, unsigned long long min_size,
				unsigned long long max_size);
/*
 * Where separate debug files are looked for, as elfutils' debuginfo_path
 * ("+:.debug:/usr/lib/debug", the default; a build-id directory below each).
 */
int memtrack_summary_set_debug_dirs(struct memtrack_summary *s, const char *dirs);
/* Account one event. -ENOMEM only. */
int memtrack_summary_add(struct memtrack_summary *s, const union mt_event *ev);
/* Keep a stack, and a mapping of a process, that reports name frames with. */
int memtrack_summary_stack(struct memtrack_summary *s, unsigned long long id,
			   const struct mt_stack *st);
int memtrack_summary_mapping(struct memtrack_summary *s, pid_t pid, unsigned long long timestamp,
			     const struct memtrack_mapping *m);
/* The drop and failure counters the statistics report shows. */
void memtrack_summary_set_counters(struct memtrack_summary *s, const struct memtrack_counters *c);
/*
 * The summary as a handler: events, stacks, mappings, the counters, and
 * a report-only run's totals are all accounted. What a tracker's
 * opts.handler, or memtrack_trace_read(), feeds to have every report.
 */
struct memtrack_trace_handler memtrack_summary_handler(struct memtrack_summary *s);
/* Account a whole JSONL trace ("-": standard input); err names the file and line. */
int memtrack_summary_read_trace(struct memtrack_summary *s, const char *path,
				struct memtrack_error *err);
/* Processes seen, in the order they were first seen. */
size_t memtrack_summary_count(const struct memtrack_summary *s);
const struct memtrack_proc_stats *memtrack_summary_proc(const struct memtrack_summary *s,
							size_t i);
/*
 * The per-process table, then the failed-call and drop lines (the drop line
 * is printed even when nothing was dropped). c may be NULL.
 */
void memtrack_summary_print(const struct memtrack_summary *s, const struct memtrack_counters *c,
			    FILE *out);

/* The reports (memtrack-load and memtrack-report print them at the end). */
enum memtrack_report_kind {
	MEMTRACK_REPORT_SUMMARY, /* the per-process table and the drop line */
	MEMTRACK_REPORT_LEAKS,	 /* live blocks by allocation stack, most bytes first */
	MEMTRACK_REPORT_LARGEST, /* the stack of each process's largest request */
	MEMTRACK_REPORT_STATS,	 /* calls by function, failures, drops, utilization */
	MEMTRACK_REPORT_FOLDED_LIVE,  /* folded stacks of live bytes (flamegraph.pl) */
	MEMTRACK_REPORT_FOLDED_ALLOC, /* folded stacks of allocated bytes */
	MEMTRACK_REPORT_CGROUPS,      /* the summary's totals by cgroup */
	/*
	 * per process, what was live when its live bytes were highest, by
	 * allocation stack (not known from a report-only run's totals)
	 */
	MEMTRACK_REPORT_PEAK,
};

struct memtrack_report_opts {
	size_t sz; /* sizeof(struct memtrack_report_opts) */
	/* Leaks: only blocks at least this old (ns) at the end of their process. */
	unsigned long long min_age_ns;
	/* Leaks and peak: the first top stacks (of each process, for peak); 0: all. */
	size_t top;
	/* A JSON document on one line instead of text (not for the folded formats). */
	bool json;
	/*
	 * Leaks and folded stacks: one entry per stack as recorded (return
	 * addresses), instead of per location (each frame's function and
	 * file:line, or module+offset where there is no symbol).
	 */
	bool group_by_address;
};

/*
 * Write one report to out; opts may be NULL. Stacks are symbolized with
 * the mappings each process had when it allocated. 0, or a negative errno
 * (-ENOMEM, a write error, or -EINVAL for opts with fields this version
 * does not know).
 */
int memtrack_report(struct memtrack_summary *s, enum memtrack_report_kind kind,
		    const struct memtrack_report_opts *opts, FILE *out);

/*
 * What is still live at the end, in the size range, counting only blocks
 * at least min_age_ns old (what the leak report lists): a CI gate's
 * number. 0, or -ENOMEM.
 */
int memtrack_summary_leaked(const struct memtrack_summary *s, unsigned long long min_age_ns,
			    unsigned long long *bytes, unsigned long long *blocks);

/*
 * Two runs compared, location by location (each frame's function and
 * file:line: return addresses move between builds): bytes and calls
 * allocated, and bytes and blocks live at the end, in base and in now,
 * the biggest change first (opts: top, json; group_by_address does not
 * apply). Only locations that changed are listed, after the totals.
 * 0, or a negative errno.
 */
int memtrack_report_diff(struct memtrack_summary *base, struct memtrack_summary *now,
			 const struct memtrack_report_opts *opts, FILE *out);

/*
 * -T: each allocation and free as it comes, to out: a line, then its
 * stack (opts->json: its JSONL record with a "stack" of named frames).
 * Stacks are named with what names has been fed: put the printer after
 * names' own handler in a memtrack_tee. opts may be NULL; NULL without
 * memory (errno ENOMEM) or for opts this version does not know (EINVAL). The handler's on_event fails with -EIO once out has an error.
 */
struct memtrack_event_printer;
struct memtrack_event_printer *memtrack_event_printer_new(struct memtrack_summary *names,
							  const struct memtrack_report_opts *opts,
							  FILE *out);
struct memtrack_trace_handler memtrack_event_printer_handler(struct memtrack_event_printer *p);
void memtrack_event_printer_free(struct memtrack_event_printer *p);

/*
 * A pprof profile (gzip'd protobuf; sample types alloc_objects,
 * alloc_space, inuse_objects, inuse_space) at path ("-": standard output).
 */
int memtrack_report_pprof(struct memtrack_summary *s, const char *path);

/*
 * valgrind massif's output (massif.out, for ms_print and massif-visualizer)
 * at path: the first process's heap over time (ms since the trace began),
 * with its allocation tree at its peak (heap_tree=peak) and at the end.
 * Each "%p" in path is replaced by a pid, and then every process that
 * allocated gets its own file. -ENODATA for a report-only run's totals
 * (no events to make a timeline of).
 */
int memtrack_report_massif(struct memtrack_summary *s, const char *path);

void memtrack_summary_free(struct memtrack_summary *s);

#ifdef __cplusplus
}
#endif

#endif /* MEMTRACK_H */
