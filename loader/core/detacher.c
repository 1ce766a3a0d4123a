// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The detacher process (see detacher.h). Forked from a process with
 * threads, it makes only async-signal-safe calls: sigaction, sigprocmask,
 * open, dup2, poll, read, close_range, _exit.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "detacher.h"

/* How long a detacher waits for its creator's word, if the creator died first. */
#define DETACHER_WAIT_MS 10000

static __attribute__((noreturn)) void detacher_main(int wait_fd)
{
	static const int ends[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
	struct pollfd go = { wait_fd, POLLIN, 0 };
	int null = open("/dev/null", O_RDWR);
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	sigset_t none;
	char c;

	/* a signal that ends a program ends this one: not our creator's handlers, nor its mask */
	for (size_t i = 0; i < sizeof(ends) / sizeof(ends[0]); i++)
		sigaction(ends[i], &dfl, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);

	/* no terminal, no pipe of the application's held open while it waits */
	if (null >= 0) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
	}
	/*
	 * Our creator writes a byte once it has let go of its references.
	 * Not end of file: another detacher forked meanwhile may hold the
	 * pipe's write end too. If the creator dies first, go on after a
	 * while: closing early only means we are not the last to hold a link.
	 */
	while (poll(&go, 1, DETACHER_WAIT_MS) < 0 && errno == EINTR)
		;
	if (go.revents & POLLIN)
		while (read(wait_fd, &c, 1) < 0 && errno == EINTR)
			;
	/* the last references to the links go here: the slow part, on nobody's time */
	syscall(SYS_close_range, 3U, ~0U, 0);
	_exit(0);
}

int detacher_begin(struct detacher *d, bool orphan)
{
	int p[2], err;
	pid_t pid;

	d->go = -1;
	d->pid = 0;
	if (pipe2(p, O_CLOEXEC))
		return -errno;
	pid = fork();
	if (pid == 0) {
		/* fork again, so that the detacher is an orphan: nobody need wait for it */
		if (orphan && fork() != 0)
			_exit(0);
		close(p[1]);
		detacher_main(p[0]);
	}
	err = pid < 0 ? -errno : 0;
	close(p[0]);
	if (err) {
		close(p[1]);
		return err;
	}
	if (orphan)
		detacher_reaped(pid, true); /* the go-between, which exits at once */
	else
		d->pid = pid;
	d->go = p[1];
	return 0;
}

bool detacher_reaped(pid_t pid, bool wait)
{
	pid_t got;

	do
		got = waitpid(pid, NULL, wait ? 0 : WNOHANG);
	while (got < 0 && errno == EINTR);
	return got == pid || (got < 0 && errno == ECHILD);
}

void detacher_finish(struct detacher *d)
{
	if (d->go >= 0) {
		while (write(d->go, "g", 1) < 0 && errno == EINTR)
			;
		close(d->go);
	}
	d->go = -1;
}
