/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The tracker's state, shared by the files that make up libmemtrack's core. */
#ifndef MEMTRACK_TRACKER_H
#define MEMTRACK_TRACKER_H

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include <bpf/libbpf.h>

#include "memtrack.h"
#include "address_space.h"
#include "error.h"
#include "opts.h"
#include "event_context.h"
#include "event_queue.h"
#include "mmap_watch.h"
#include "ringbuf_gauge.h"
#include "stack_cache.h"
#include "u64_map.h"
#include "unwind_tables.h"
#include "uprobe_links.h"
#include "warden.h"

struct memtrack_bpf;
struct ring_buffer;
struct bpf_link;

/* One allocator object with probes on it, known by device and inode. */
struct probed_object {
	dev_t dev;
	ino_t ino;
	bool usdt; /* memtrack USDT probes, not uprobes on its functions */
	char *path;
	/* Entry probes and their cookies (USDT: the sites, when links are memtrack's own); return probes. */
	size_t *entry_offsets;
	__u64 *entry_cookies;
	size_t nentry;
	size_t *return_offsets;
	size_t nreturn;
	size_t *ref_ctr_offsets; /* USDT sites: each entry's semaphore; NULL for uprobes */
	/* The USDT source: the memtrack probes it has, as bits in probes.c's order. */
	unsigned int usdt_probes;
	/* With system-wide probes: the links, for every process. */
	struct probe_links links;
};

/* A traced process with probes of its own (the per-process default). */
struct traced_process {
	pid_t pid;
	size_t nlinked; /* objects[0..nlinked) are linked into it */
	bool exec_done; /* the warden held it at an exec, and let it go with its probes in */
	struct probe_links links;
};

/* A file a traced process mapped code from (a path this process can open). */
struct new_mapping {
	pid_t pid;
	char *path;
};

struct memtrack {
	struct memtrack_bpf *skel;
	struct ring_buffer *rb;
	struct ringbuf_gauge rb_gauge; /* how full rb gets */
	unsigned int max_stacks;
	bool usdt;	 /* the USDT source: memtrack probes instead of allocator uprobes */
	char *usdt_shim; /* libmemtrack-usdt.so, preloaded into spawned commands */

	/*
	 * Where records go (opts.handler, or opts.on_event alone); without
	 * one, events are queued. passed: the mappings and stacks the handler
	 * has had, so that each goes once, before the first event needing it.
	 */
	struct memtrack_trace_handler handler;
	bool push;
	bool finished; /* memtrack_finish() ran */
	struct event_context passed;
	enum memtrack_log_level log_level;
	memtrack_log_fn log;
	void *log_ctx;
	/* opts.libbpf_log: libbpf's print callback, taken from the application, and its own */
	bool libbpf_print_taken;
	libbpf_print_fn_t libbpf_print_before;

	/* Probed objects: added by the caller's thread and, on exec, the poller's. */
	pthread_mutex_t probe_lock;
	struct probed_object *objects;
	size_t nobjects;
	bool multi_links;   /* uprobe_multi links: the kernel has them, the programs are loaded so */
	bool session_links; /* and uprobe sessions: alloc_session does entries and returns */
	bool system_probes; /* probes for every process, not in each traced one */
	bool own_usdt;	    /* USDT links are memtrack's (uprobe_multi), not libbpf's */
	unsigned int usdt_specs; /* USDT argument specs stored in the BPF map */
	/* Per-process probes: traced processes, and the warden holding new ones. Under probe_lock. */
	struct traced_process *procs;
	size_t nprocs;
	struct warden warden;
	pthread_t follower; /* answers the warden */
	bool follower_started;
	bool follower_gone;	   /* the warden is gone: nothing is held any more */
	pid_t *detachers;	   /* detacher processes started while tracing, to reap */
	size_t ndetachers;
	pthread_cond_t exec_done; /* a traced process's exec was let go (with probe_lock) */

	/* Pull mode: events waiting for memtrack_next(). Guarded by lock. */
	struct event_queue queue;
	pthread_mutex_t lock;
	pthread_cond_t ready;

	/* The background poller, if memtrack_start() was called. */
	pthread_t poller;
	bool poller_started; /* a thread exists and must be joined */
	bool poller_running; /* its loop has not ended: memtrack_next() may wait on it */
	volatile bool poller_stop;
	int poller_error;

	/* Stacks read from the kernel, and what each process had mapped. Guarded by meta_lock. */
	pthread_mutex_t meta_lock;
	struct stack_cache stacks;
	struct address_spaces spaces;
	struct mmap_watch *mmaps;

	struct unwind_tables unwind; /* --unwind dwarf: each object's rows */

	__u32 last_added_life; /* processes user space adds to `tracked`: their lives (R11) */

	char *scope_cgroup; /* opts.cgroup: its processes are traced */
	bool scope_all;	    /* opts.all: every process is */

	/* Code mapped by traced processes since the last poll, to look at for allocators. */
	struct new_mapping *new_maps; /* guarded by meta_lock */
	size_t nnew_maps;
	struct u64_map looked_at; /* objects (dev, inode) looked at: what they turned out to be */
	struct u64_map images_probed; /* executables (dev, inode) an exec was probed for: once */

	bool callback_stop; /* on_event asked to stop: not a ring-buffer error */
	unsigned long long delivered;
	unsigned long long by_type[MT_EV_TYPE_MAX];
	struct memtrack_error err;
};


/*
 * Record an error on t (and return code, a negative errno): for the
 * caller's own calls. What the tracker's threads do on the caller's behalf
 * (probing a dlopen'd library, a new child, an exec'd image) passes a
 * struct memtrack_error of its own down instead ("why"), so that t->err
 * only ever says why one of the caller's calls failed.
 */
int tracker_fail(struct memtrack *t, enum memtrack_error_kind kind, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/*
 * aggregate.c: report-only runs. Set the BPF side's mode, size range and
 * map sizes before load (0 or a negative errno); read how full the live
 * blocks map got.
 */
int aggregate_setup(struct memtrack *t, const struct memtrack_opts *opts);
int aggregate_fill(struct memtrack *t, unsigned long long *peak, unsigned long long *max);
/* Hand what the kernel kept to t->handler (memtrack_finish()), with what names it. */
int aggregate_push(struct memtrack *t, bool totals_only);

/* CLOCK_REALTIME timeout_ms from now, for pthread_cond_timedwait(). */
struct timespec tracker_deadline(int timeout_ms);

void tracker_log(const struct memtrack *t, enum memtrack_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * probes.c: put the allocator probes on one object (once per device and
 * inode): uprobes on its functions, or its memtrack USDT probes, or
 * whichever the tracker's source is. Without PROBE_REQUIRE_MALLOC, an
 * object with nothing to probe is a quiet -ENOENT.
 */
#define PROBE_REQUIRE_MALLOC 1 /* fail with MEMTRACK_ERR_ALLOCATOR if there is nothing to probe */
int probes_attach_object(struct memtrack *t, const char *path, int flags,
			 struct memtrack_error *why);
int probes_attach_usdt(struct memtrack *t, const char *path, int flags,
		       struct memtrack_error *why);
int probes_attach(struct memtrack *t, const char *path, int flags, struct memtrack_error *why);
/* Link obj's probes for pid (-1: every process) into links. With probe_lock. */
int probes_link(struct memtrack *t, const struct probed_object *obj, pid_t pid,
		struct probe_links *links, struct memtrack_error *why);

/*
 * process_probes.c: probes in traced processes only. Each traced process
 * gets links of its own on every probed object; the warden (warden.c)
 * holds a new child, or an exec'd image, until they are in. All with
 * probe_lock held, but procs_hold_start() and procs_stop().
 */
int procs_hold_start(struct memtrack *t);
/* Trace pid with probes of its own; hold its new children (the warden), unless no_children. */
int procs_add(struct memtrack *t, pid_t pid, bool seize, struct memtrack_error *why);
/* Link the objects a traced process lacks into it. */
int procs_catch_up(struct memtrack *t, struct memtrack_error *why);
/* Wait (up to timeout_ms) until pid has exec'd and runs its new image with its probes in. */
void procs_wait_exec(struct memtrack *t, pid_t pid, int timeout_ms);
/* Let every held process go, and detach from all of them. */
void procs_stop(struct memtrack *t);

/*
 * discover.c: allocators besides libc (with the USDT source: objects with
 * memtrack probes). Probe those pid maps now (found: how many it has);
 * those exe will load at start, given the environment it will run with;
 * and, from the poller, those mapped since the last poll (a dlopen), which
 * discover_on_map() (an mmap_watch hook, with meta_lock held) queued.
 */
int discover_mapped(struct memtrack *t, pid_t pid, int *found, struct memtrack_error *why);
/*
 * A file's key in the sets of files looked at: its device and inode (a
 * path can name another file later), never 0. false if it cannot be read.
 */
bool file_key(const char *path, uint64_t *key);

/* scope.c: --cgroup and -a. Before the BPF object is loaded; after. */
int scope_setup(struct memtrack *t, const struct memtrack_opts *opts, struct memtrack_error *err);
int scope_attach(struct memtrack *t, struct memtrack_error *err);
int discover_needed(struct memtrack *t, const char *exe, char *const *envp,
		    struct memtrack_error *why);
/*
 * --unwind dwarf: rows for what exe runs before anything tells us: itself,
 * its interpreter, and (the USDT source) the libraries it loads.
 */
void discover_unwind(struct memtrack *t, const char *exe, char *const *envp);
void discover_on_map(void *ctx, pid_t pid, const char *path);
void discover_new_mappings(struct memtrack *t);
void probes_detach_all(struct memtrack *t);

/* A traced process exec'd: probe its new image's allocator if it is new (add_pid.c). */
void tracker_probe_exec(struct memtrack *t, pid_t pid);

/* Put pid in the BPF map of traced processes. */
int tracker_track_pid(struct memtrack *t, pid_t pid);
/* What a process traced while it ran already has mapped: from /proc/PID/maps. */
void tracker_read_maps(struct memtrack *t, pid_t pid);
void tracker_untrack_pid(struct memtrack *t, pid_t pid);

#endif /* MEMTRACK_TRACKER_H */
