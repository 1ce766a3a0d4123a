// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Probes in traced processes only, the default for a command and for -p.
 *
 * A probe attached for every process puts a breakpoint into every address
 * space that maps the object: with libc probed, each malloc on the host
 * trapped into the kernel while memtrack traced one command. Here each
 * traced process gets links of its own on every probed object, so the
 * kernel puts breakpoints into traced address spaces only; an object found
 * later (an exec'd image's allocator, a dlopen) is linked into each traced
 * process. A link follows its process through exec: the breakpoints come
 * back as the new image maps the object.
 *
 * A process's links are not inherited by its children, so each new child
 * must get its own before it runs: the warden (warden.c) holds it, and the
 * follower thread here links it and lets it go. A process that exits has
 * its links closed, through a detacher process (detacher.c): the kernel
 * takes tens of milliseconds for each, and new children are waiting.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "grow_array.h"
#include "detacher.h"
#include "memtrack.skel.h"
#include "tracker.h"

static struct traced_process *find_proc(struct memtrack *t, pid_t pid)
{
	for (size_t i = 0; i < t->nprocs; i++)
		if (t->procs[i].pid == pid)
			return &t->procs[i];
	return NULL;
}

/* Link the objects p lacks; a process that is gone already needs none. */
static int link_missing(struct memtrack *t, struct traced_process *p, struct memtrack_error *why)
{
	while (p->nlinked < t->nobjects) {
		int err = probes_link(t, &t->objects[p->nlinked], p->pid, &p->links, why);

		if (err == -ESRCH)
			return 0; /* exited: its links go when the warden says so */
		if (err)
			return err;
		p->nlinked++;
	}
	return 0;
}

int procs_catch_up(struct memtrack *t, struct memtrack_error *why)
{
	int err = 0;

	for (size_t i = 0; i < t->nprocs && !err; i++)
		err = link_missing(t, &t->procs[i], why);
	return err;
}

int procs_add(struct memtrack *t, pid_t pid, bool seize, struct memtrack_error *why)
{
	struct traced_process *p = find_proc(t, pid);
	int err;

	if (!p) {
		if (APPEND_SLOT(t->procs, t->nprocs))
			return error_fail(why, MEMTRACK_ERR_RUNTIME, -ENOMEM, "out of memory");
		p = &t->procs[t->nprocs++];
		memset(p, 0, sizeof(*p));
		p->pid = pid;
	}
	err = link_missing(t, p, why);
	if (err || !seize)
		return err;
	err = warden_seize(&t->warden, pid, t->skel->rodata->follow_children);
	if (err == -EPERM)
		return error_fail(why, MEMTRACK_ERR_NO_PROCESS, err,
				  "cannot follow process %d: it is being traced already (by a "
				  "debugger?), or ptrace is not allowed (CAP_SYS_PTRACE, "
				  "kernel.yama.ptrace_scope); --system-probes needs neither",
				  (int)pid);
	if (err)
		return error_fail(why, MEMTRACK_ERR_NO_PROCESS, err, "cannot follow process %d: %s",
				  (int)pid, strerror(-err));
	return 0;
}

/* Reap the detachers that have exited (wait: all of them, however long they take). */
static void reap_detachers(struct memtrack *t, bool wait)
{
	size_t kept = 0;

	for (size_t i = 0; i < t->ndetachers; i++)
		if (!detacher_reaped(t->detachers[i], wait))
			t->detachers[kept++] = t->detachers[i];
	t->ndetachers = kept;
}

static void procs_remove(struct memtrack *t, const pid_t *pids, size_t n)
{
	struct detacher d;

	/* the kernel's waits go to a detacher process, if one can be had */
	reap_detachers(t, false);
	if (detacher_begin(&d, false) == 0 && APPEND_SLOT(t->detachers, t->ndetachers) == 0)
		t->detachers[t->ndetachers++] = d.pid;
	for (size_t i = 0; i < n; i++) {
		struct traced_process *p = find_proc(t, pids[i]);

		if (!p)
			continue;
		probe_links_release(&p->links);
		*p = t->procs[--t->nprocs];
	}
	detacher_finish(&d);
}

/*
 * Exited processes' links are let go of together, by one detacher process,
 * when this many wait or the oldest has waited this long. Each time costs
 * a fork, and taking probes out makes the kernel block every fork on the
 * system for a moment: one batch, not a hundred. Meanwhile a dead link
 * only makes each probe hit in live processes skip one more consumer.
 */
#define GONE_BATCH 32
#define GONE_WAIT_MS 100

/* Milliseconds left until `since` is GONE_WAIT_MS old; 0 once it is. */
static int gone_wait_left(const struct timespec *since)
{
	struct timespec now;
	long waited_ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	waited_ms = (now.tv_sec - since->tv_sec) * 1000 + (now.tv_nsec - since->tv_nsec) / 1000000;
	return waited_ms >= GONE_WAIT_MS ? 0 : GONE_WAIT_MS - (int)waited_ms;
}

/* Take pid out of the batch of gone processes; was it there? */
static bool forget_gone(pid_t *gone, size_t *ngone, pid_t pid)
{
	for (size_t i = 0; i < *ngone; i++) {
		if (gone[i] == pid) {
			gone[i] = gone[--*ngone];
			return true;
		}
	}
	return false;
}

/* Answer the warden: link a new process, probe a new image, forget one that exited. */
static void *follower_main(void *arg)
{
	struct memtrack *t = arg;
	pid_t gone[GONE_BATCH];
	struct timespec first_gone; /* when gone[0] exited */
	struct traced_process *p;
	struct warden_msg m;
	size_t ngone = 0;
	sigset_t all;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	while (warden_next(&t->warden, &m) == 0) {
		struct memtrack_error err = { 0 };

		switch (m.what) {
		case WARDEN_NEW:
			pthread_mutex_lock(&t->probe_lock);
			/*
			 * A pid used again, its last life's links not let go of yet:
			 * they are bound to that life's task and never fire for this
			 * one, and letting go of them later would take this life's.
			 */
			if (forget_gone(gone, &ngone, m.pid))
				procs_remove(t, &m.pid, 1);
			/* a failure here is not the caller's: it goes to err, not t->err */
			if (procs_add(t, m.pid, false, &err))
				tracker_log(t, MEMTRACK_LOG_WARN,
					    "process %d is not fully probed: %s", m.pid, err.msg);
			pthread_mutex_unlock(&t->probe_lock);
			warden_go(&t->warden, m.pid);
			break;
		case WARDEN_EXEC:
			tracker_probe_exec(t, m.pid);
			warden_go(&t->warden, m.pid);
			pthread_mutex_lock(&t->probe_lock);
			if ((p = find_proc(t, m.pid)))
				p->exec_done = true;
			pthread_cond_broadcast(&t->exec_done);
			pthread_mutex_unlock(&t->probe_lock);
			break;
		case WARDEN_GONE:
			/* those that exited together are let go of together: each time costs a fork */
			if (!ngone)
				clock_gettime(CLOCK_MONOTONIC, &first_gone);
			gone[ngone++] = m.pid;
			break;
		}
		/*
		 * let go when many wait, or when the oldest has waited long enough,
		 * however many other messages came meanwhile
		 */
		if (ngone && (ngone == GONE_BATCH ||
			      !warden_wait(&t->warden, gone_wait_left(&first_gone)))) {
			pthread_mutex_lock(&t->probe_lock);
			procs_remove(t, gone, ngone);
			pthread_mutex_unlock(&t->probe_lock);
			ngone = 0;
		}
	}
	pthread_mutex_lock(&t->probe_lock);
	t->follower_gone = true;
	pthread_cond_broadcast(&t->exec_done);
	pthread_mutex_unlock(&t->probe_lock);
	return NULL;
}

void procs_wait_exec(struct memtrack *t, pid_t pid, int timeout_ms)
{
	struct timespec until = tracker_deadline(timeout_ms);
	struct traced_process *p;

	pthread_mutex_lock(&t->probe_lock);
	while (t->follower_started && !t->follower_gone && (p = find_proc(t, pid)) &&
	       !p->exec_done)
		if (pthread_cond_timedwait(&t->exec_done, &t->probe_lock, &until))
			break;
	pthread_mutex_unlock(&t->probe_lock);
}

int procs_hold_start(struct memtrack *t)
{
	int err;

	if (t->warden.pid)
		return 0;
	err = warden_start(&t->warden);
	if (err)
		return tracker_fail(t, MEMTRACK_ERR_RUNTIME, err,
				    "cannot start the process that holds new children: %s",
				    strerror(-err));
	err = pthread_create(&t->follower, NULL, follower_main, t);
	if (err) {
		warden_stop(&t->warden);
		warden_close(&t->warden);
		return tracker_fail(t, MEMTRACK_ERR_RUNTIME, -err, "cannot start a thread: %s",
				    strerror(err));
	}
	t->follower_started = true;
	return 0;
}

void procs_stop(struct memtrack *t)
{
	warden_stop(&t->warden);
	if (t->follower_started)
		pthread_join(t->follower, NULL);
	t->follower_started = false;
	warden_close(&t->warden);
	/* memtrack_close() has a detacher holding these: quick */
	for (size_t i = 0; i < t->nprocs; i++)
		probe_links_release(&t->procs[i].links);
	/* those still at work are left to finish on their own (then init reaps them) */
	reap_detachers(t, false);
	free(t->detachers);
	t->detachers = NULL;
	t->ndetachers = 0;
	free(t->procs);
	t->procs = NULL;
	t->nprocs = 0;
}
