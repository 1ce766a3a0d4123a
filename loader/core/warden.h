/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The warden: a small process of ours that ptraces the traced processes,
 * so that a new child (fork, vfork, clone, posix_spawn) and a new image
 * (exec) wait, stopped, until the tracker has put their probes in. It
 * uses PTRACE_SEIZE, so that no path leaves a process stopped: if the
 * warden goes (memtrack's exit, crash or SIGKILL closes its sockets, and
 * it exits), the kernel detaches it from every process and they run on.
 */
#ifndef MEMTRACK_WARDEN_H
#define MEMTRACK_WARDEN_H

#include <stdbool.h>
#include <sys/types.h>

/* What the warden tells the tracker, and the tracker answers. */
enum warden_what {
	WARDEN_NEW = 1, /* pid is a new process (arg: its parent), held until WARDEN_GO */
	WARDEN_EXEC,	/* pid exec'd, held until WARDEN_GO */
	WARDEN_GONE,	/* pid exited */
	WARDEN_GO,	/* tracker to warden: let pid run */
	WARDEN_SEIZE,	/* tracker to warden: trace pid, every thread (arg: follow children) */
	WARDEN_SEIZED,	/* warden to tracker: done (arg: 0 or a negative errno) */
};

struct warden_msg {
	int what; /* enum warden_what */
	int pid;
	int arg;
};

struct warden {
	pid_t pid;  /* 0: not started */
	int ctl;    /* requests and their answers (WARDEN_SEIZE) */
	int events; /* what happens to traced processes, and WARDEN_GO */
};

/* Start the warden process. 0, or a negative errno. */
int warden_start(struct warden *w);

/*
 * Have the warden trace every thread of pid (and, with follow_children,
 * hold each process pid starts). 0, or a negative errno: -EPERM if pid
 * is being traced already (by a debugger, say).
 */
int warden_seize(struct warden *w, pid_t pid, bool follow_children);

/* The next thing that happened; 0, or -EPIPE once the warden is gone. */
int warden_next(struct warden *w, struct warden_msg *m);

/* Wait up to timeout_ms for a message: is one waiting (warden_next() would not block)? */
bool warden_wait(struct warden *w, int timeout_ms);

/* Let a held process run. */
void warden_go(struct warden *w, pid_t pid);

/* Ask the warden to end: it detaches from every process, held ones run on. */
void warden_stop(struct warden *w);
/* Then, once nobody reads its events any more: close our ends and reap it. */
void warden_close(struct warden *w);

#endif /* MEMTRACK_WARDEN_H */
