// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The warden process (see warden.h for why). It is forked from the
 * tracker's process and does nothing but ptrace: every thread of a traced
 * process is seized with fork, vfork, clone and exec events on, so the
 * kernel attaches it to each new task too. A new task's first stop, and
 * every exec, are held until the tracker says WARDEN_GO; signals are
 * passed on as they come, group stops are kept with PTRACE_LISTEN.
 *
 * A separate process, not a thread: a tracer in the traced command's
 * parent process would reap the command's exit status from its parent.
 *
 * Two socket pairs connect it to the tracker: requests with their answers
 * (ctl), and what happens to the processes (events). When the tracker's
 * ends close (memtrack_close(), or the process dying any way at all), the
 * warden exits, and the kernel detaches it from every process: with
 * PTRACE_SEIZE, none is left stopped.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "grow_array.h"
#include "proc_status.h"
#include "warden.h"

/* One task the warden traces. */
struct tracee {
	pid_t tid;
	pid_t tgid;
	bool held; /* stopped until WARDEN_GO */
	int sig;   /* a signal to deliver when it goes on */
};

struct tracees {
	struct tracee *v;
	size_t n, cap;
};

static struct tracee *find(struct tracees *ts, pid_t tid)
{
	for (size_t i = 0; i < ts->n; i++)
		if (ts->v[i].tid == tid)
			return &ts->v[i];
	return NULL;
}

static struct tracee *add(struct tracees *ts, pid_t tid, pid_t tgid)
{
	if (GROW_ARRAY(ts->v, ts->n, ts->cap, 64))
		return NULL;
	ts->v[ts->n] = (struct tracee){ .tid = tid, .tgid = tgid };
	return &ts->v[ts->n++];
}

static void forget(struct tracees *ts, struct tracee *tr)
{
	if (tr)
		*tr = ts->v[--ts->n];
}

static void send_msg(int fd, int what, int pid, int arg)
{
	struct warden_msg m = { what, pid, arg };

	while (send(fd, &m, sizeof(m), MSG_NOSIGNAL) < 0 && errno == EINTR)
		;
}

/* A task's thread-group id, from /proc; 0 if it is gone. */
static pid_t tgid_of(pid_t tid)
{
	struct proc_status st;

	return proc_status_read(tid, &st) ? 0 : st.tgid;
}

static void resume(pid_t tid, int sig)
{
	ptrace(PTRACE_CONT, tid, NULL, (void *)(long)sig); /* ESRCH: killed meanwhile */
}

/*
 * Did the exec pid just made give it privileges it did not have (setuid,
 * setgid, file capabilities)? The kernel says so in its auxiliary vector,
 * AT_SECURE. Tracing stops at that boundary.
 */
static bool secure_exec(pid_t pid)
{
	unsigned long av[2];
	char path[64];
	bool secure = false;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/auxv", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	while (read(fd, av, sizeof(av)) == (ssize_t)sizeof(av) && av[0] != AT_NULL) {
		if (av[0] == AT_SECURE) {
			secure = av[1] != 0;
			break;
		}
	}
	close(fd);
	return secure;
}

/*
 * A task the kernel attached us to: a new thread goes on at once (its
 * process has its probes), a new process waits for them.
 */
static void new_task(struct tracees *ts, int events, pid_t tid, int sig)
{
	pid_t tgid = tgid_of(tid);
	struct tracee *tr = tgid ? add(ts, tid, tgid) : NULL;

	if (!tr || tgid != tid) {
		resume(tid, sig);
		return;
	}
	tr->held = true;
	tr->sig = sig;
	send_msg(events, WARDEN_NEW, tid, 0);
}

static bool is_group_stop(int sig)
{
	return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

static void on_wait(struct tracees *ts, int events, pid_t tid, int status)
{
	struct tracee *tr = find(ts, tid);
	int event = status >> 16, sig;
	unsigned long former;

	if (WIFEXITED(status) || WIFSIGNALED(status)) {
		/* a process's leader is reported last, once its threads are gone */
		if (tr && tr->tgid == tid)
			send_msg(events, WARDEN_GONE, tid, 0);
		forget(ts, tr);
		return;
	}
	if (!WIFSTOPPED(status))
		return;
	sig = WSTOPSIG(status);
	if (!tr) {
		new_task(ts, events, tid, event ? 0 : sig);
		return;
	}
	switch (event) {
	case PTRACE_EVENT_FORK:
	case PTRACE_EVENT_VFORK:
	case PTRACE_EVENT_CLONE:
		resume(tid, 0); /* the new task reports its own first stop */
		break;
	case PTRACE_EVENT_EXEC:
		/* a thread that exec'd took the leader's id */
		if (ptrace(PTRACE_GETEVENTMSG, tid, NULL, &former) == 0 && (pid_t)former != tid)
			forget(ts, find(ts, (pid_t)former));
		tr = find(ts, tid);
		if (!tr) {
			resume(tid, 0);
			break;
		}
		if (secure_exec(tid)) {
			/* privileges it did not have: let go of it, as of one that exited */
			ptrace(PTRACE_DETACH, tid, NULL, NULL);
			forget(ts, tr);
			send_msg(events, WARDEN_GONE, tid, 0);
			break;
		}
		tr->held = true;
		send_msg(events, WARDEN_EXEC, tid, 0);
		break;
	case PTRACE_EVENT_STOP:
		if (is_group_stop(sig))
			ptrace(PTRACE_LISTEN, tid, NULL, NULL);
		else
			resume(tid, 0);
		break;
	default:
		resume(tid, event ? 0 : sig); /* a signal: deliver it */
		break;
	}
}

/* Seize every thread of pid, until no new one appears. 0 or a negative errno. */
static int seize(struct tracees *ts, pid_t pid, bool follow)
{
	long opts = PTRACE_O_TRACEEXEC |
		    (follow ? PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_TRACECLONE : 0);
	char path[64];
	bool more = true;
	int err = 0;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	while (more) {
		DIR *d = opendir(path);
		struct dirent *de;

		if (!d)
			return -errno;
		more = false;
		while ((de = readdir(d))) {
			pid_t tid = (pid_t)atoi(de->d_name);

			if (tid <= 0 || find(ts, tid))
				continue;
			if (ptrace(PTRACE_SEIZE, tid, NULL, (void *)opts)) {
				if (tid == pid && !err)
					err = -errno;
				continue;
			}
			if (!add(ts, tid, pid)) {
				ptrace(PTRACE_DETACH, tid, NULL, NULL);
				err = -ENOMEM;
				break;
			}
			more = true;
		}
		closedir(d);
		if (err)
			return err;
	}
	return 0;
}

static void go(struct tracees *ts, pid_t pid)
{
	struct tracee *tr = find(ts, pid);

	if (tr && tr->held) {
		tr->held = false;
		resume(pid, tr->sig);
		tr->sig = 0;
	}
}

/* Close every file descriptor but these (the tracker's files are not ours to hold open). */
static void close_others(const int *keep, int n)
{
	unsigned int from = 3;
	int left = n;

	for (unsigned int fd = 3; fd < 1024 * 1024 && left; fd++) {
		bool kept = false;

		for (int i = 0; i < n; i++)
			kept |= keep[i] == (int)fd;
		if (!kept)
			continue;
		if (fd > from)
			syscall(SYS_close_range, from, fd - 1, 0);
		from = fd + 1;
		left--;
	}
	syscall(SYS_close_range, from, ~0U, 0);
}

static __attribute__((noreturn)) void warden_main(int ctl, int events)
{
	static const int quiet[] = { SIGINT,  SIGTERM, SIGHUP,  SIGQUIT, SIGPIPE,
				     SIGTSTP, SIGTTIN, SIGTTOU, SIGUSR1, SIGUSR2 };
	struct tracees ts = { 0 };
	sigset_t chld;
	int sfd, null;

	prctl(PR_SET_NAME, "memtrack-warden");
	/* Terminal signals are the tracker's to act on; the warden ends when it does. */
	setpgid(0, 0);
	for (size_t i = 0; i < sizeof(quiet) / sizeof(quiet[0]); i++)
		signal(quiet[i], SIG_IGN);
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, NULL);
	sfd = signalfd(-1, &chld, SFD_NONBLOCK | SFD_CLOEXEC);
	null = open("/dev/null", O_RDWR);
	if (sfd < 0 || null < 0)
		_exit(1);
	dup2(null, 0);
	dup2(null, 1);
	dup2(null, 2);
	close_others((int[]){ ctl, events, sfd }, 3);

	for (;;) {
		struct pollfd p[3] = { { ctl, POLLIN, 0 }, { events, POLLIN, 0 }, { sfd, POLLIN, 0 } };
		struct signalfd_siginfo si;
		struct warden_msg m;
		int status;
		pid_t tid;

		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		while (read(sfd, &si, sizeof(si)) > 0)
			;
		while ((tid = waitpid(-1, &status, __WALL | WNOHANG)) > 0)
			on_wait(&ts, events, tid, status);
		if (p[1].revents & (POLLIN | POLLHUP | POLLERR)) {
			if (recv(events, &m, sizeof(m), 0) != sizeof(m))
				break;
			if (m.what == WARDEN_GO)
				go(&ts, m.pid);
		}
		if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			if (recv(ctl, &m, sizeof(m), 0) != sizeof(m))
				break;
			if (m.what == WARDEN_SEIZE)
				send_msg(ctl, WARDEN_SEIZED, m.pid, seize(&ts, m.pid, m.arg));
		}
	}
	/* Exiting detaches us from every tracee; the held ones run on. */
	_exit(0);
}

int warden_start(struct warden *w)
{
	int ctl[2], events[2], size = 1 << 20;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ctl))
		return -errno;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, events)) {
		int err = -errno;

		close(ctl[0]);
		close(ctl[1]);
		return err;
	}
	/* Room for many messages: neither side should wait on the other's reading. */
	for (int i = 0; i < 2; i++) {
		setsockopt(events[i], SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
		setsockopt(events[i], SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	}
	pid = fork();
	if (pid < 0) {
		int err = -errno;

		for (int i = 0; i < 2; i++) {
			close(ctl[i]);
			close(events[i]);
		}
		return err;
	}
	if (pid == 0)
		warden_main(ctl[1], events[1]);
	close(ctl[1]);
	close(events[1]);
	w->pid = pid;
	w->ctl = ctl[0];
	w->events = events[0];
	return 0;
}

int warden_seize(struct warden *w, pid_t pid, bool follow_children)
{
	struct warden_msg m = { WARDEN_SEIZE, pid, follow_children };
	ssize_t n;

	if (send(w->ctl, &m, sizeof(m), MSG_NOSIGNAL) != sizeof(m))
		return -EPIPE;
	do
		n = recv(w->ctl, &m, sizeof(m), 0);
	while (n < 0 && errno == EINTR);
	if (n != sizeof(m) || m.what != WARDEN_SEIZED)
		return -EPIPE;
	return m.arg;
}

int warden_next(struct warden *w, struct warden_msg *m)
{
	ssize_t n;

	do
		n = recv(w->events, m, sizeof(*m), 0);
	while (n < 0 && errno == EINTR);
	return n == sizeof(*m) ? 0 : -EPIPE;
}

bool warden_wait(struct warden *w, int timeout_ms)
{
	struct pollfd p = { w->events, POLLIN, 0 };

	return poll(&p, 1, timeout_ms) > 0;
}

void warden_go(struct warden *w, pid_t pid)
{
	send_msg(w->events, WARDEN_GO, pid, 0);
}

void warden_stop(struct warden *w)
{
	if (!w->pid)
		return;
	/* the warden sees its requests end, and exits; the events side then ends too */
	shutdown(w->ctl, SHUT_RDWR);
}

void warden_close(struct warden *w)
{
	if (!w->pid)
		return;
	close(w->ctl);
	close(w->events);
	waitpid(w->pid, NULL, 0); /* ECHILD if our application reaped it: no matter */
	w->pid = 0;
}
