// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The detacher process (see detacher.h). Forked from a process with
 * threads, it makes only async-signal-safe calls: open, dup2, read,
 * close_range, _exit.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "detacher.h"

static __attribute__((noreturn)) void detacher_main(int wait_fd)
{
	int null = open("/dev/null", O_RDWR);
	char c;

	/* no terminal, no pipe of the application's held open while it waits */
	if (null >= 0) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
	}
	/* end of file: our creator has let go of its references (or died) */
	while (read(wait_fd, &c, 1) < 0 && errno == EINTR)
		;
	/* the last references to the links go here: the slow part, on nobody's time */
	syscall(SYS_close_range, 3U, ~0U, 0);
	_exit(0);
}

int detacher_begin(struct detacher *d)
{
	int p[2], err;
	pid_t pid;

	d->go = -1;
	if (pipe2(p, O_CLOEXEC))
		return -errno;
	pid = fork();
	if (pid == 0) {
		/* fork again, so that the detacher is an orphan: nobody need wait for it */
		if (fork() != 0)
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
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	d->go = p[1];
	return 0;
}

void detacher_finish(struct detacher *d)
{
	if (d->go >= 0)
		close(d->go);
	d->go = -1;
}
