// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * track_multiple: the seed API. Two workers already run; one call starts
 * tracing both (and anything they start), and events are pulled from the
 * tracker like items from an iterator, while a background thread polls.
 *
 *	sudo build/examples/track_multiple
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <memtrack.h>

#define NWORKERS 2

/* Where workers publish their blocks, so that the compiler keeps every malloc. */
static void *volatile sink;

/* A worker waits for a byte on its pipe, then allocates id * 10 blocks of id KiB. */
static pid_t start_worker(int id, int *go_fd)
{
	int p[2];
	pid_t pid;

	if (pipe(p))
		return -1;
	pid = fork();
	if (pid == 0) {
		char go;

		close(p[1]);
		if (read(p[0], &go, 1) != 1)
			_exit(1);
		for (int i = 0; i < id * 10; i++) {
			sink = malloc((size_t)id * 1024);
			free(sink);
		}
		_exit(0);
	}
	close(p[0]);
	*go_fd = p[1];
	return pid;
}

int main(void)
{
	pid_t pids[NWORKERS];
	int go[NWORKERS];
	unsigned long long allocs[NWORKERS] = { 0 }, bytes[NWORKERS] = { 0 };
	struct memtrack_error err;
	struct memtrack *t;
	union mt_event ev;

	for (int i = 0; i < NWORKERS; i++) {
		pids[i] = start_worker(i + 1, &go[i]);
		if (pids[i] < 0) {
			perror("track_multiple: fork");
			return 1;
		}
	}
	/* No callback: events are pulled with memtrack_next(). */
	t = memtrack_track_multiple(pids, NWORKERS, NULL, NULL, &err);
	if (!t) {
		fprintf(stderr, "track_multiple: %s\n", err.msg);
		return 1;
	}
	for (int i = 0; i < NWORKERS; i++) {
		if (write(go[i], "g", 1) != 1)
			perror("track_multiple: write");
		close(go[i]);
	}
	/* Until both have exited and every event they made has been read. */
	for (;;) {
		int got = memtrack_next(t, &ev, 100);

		if (got < 0)
			break;
		if (got == 0) {
			if (memtrack_tracked_count(t) > 0)
				continue;
			memtrack_stop(t); /* drains the ring buffer into the queue */
			got = memtrack_next(t, &ev, 0);
			if (got <= 0)
				break;
		}
		for (int i = 0; i < NWORKERS; i++) {
			if ((pid_t)ev.hdr.pid != pids[i] || ev.hdr.type != MT_EV_MALLOC)
				continue;
			allocs[i]++;
			bytes[i] += ev.alloc.size;
		}
	}
	for (int i = 0; i < NWORKERS; i++) {
		waitpid(pids[i], NULL, 0);
		printf("worker %d: %llu mallocs, %llu bytes\n", (int)pids[i], allocs[i], bytes[i]);
	}
	memtrack_close(t);
	return 0;
}
