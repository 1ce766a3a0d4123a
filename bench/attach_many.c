// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * attach_many: how long memtrack_add_pid() takes on a process that maps
 * many objects (issue 5's target: 50 objects in under 200 ms), and whether
 * that cost grows with the number of processes sharing them. It starts
 * COPIES waiting processes that each dlopen the same LIBS shared objects
 * (libraries of /usr/lib/x86_64-linux-gnu that load, up to LIBS, leaving
 * out allocators: each of those adds its own probes, about a millisecond
 * each to attach), then times the attach to each, in order, in one run.
 *
 *	attach_many [LIBS [COPIES]]     (as root)
 */
#include <dirent.h>
#include <dlfcn.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <memtrack.h>

#define LIBDIR "/usr/lib/x86_64-linux-gnu"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The child: load up to n libraries, say how many on the pipe, then wait to be killed. */
static void load_and_wait(int n, int out)
{
	DIR *d = opendir(LIBDIR);
	struct dirent *de;
	int loaded = 0;

	while (d && loaded < n && (de = readdir(d)))
		if (strstr(de->d_name, ".so.") && strncmp(de->d_name, "libc.", 5) &&
		    !strstr(de->d_name, "malloc") && !strstr(de->d_name, "stdc++") &&
		    dlopen(strcat(strcpy((char[512]){ 0 }, LIBDIR "/"), de->d_name),
			   RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE))
			loaded++;
	if (write(out, &loaded, sizeof(loaded)) != sizeof(loaded))
		_exit(1);
	pause();
	_exit(0);
}

int main(int argc, char **argv)
{
	int libs = argc > 1 ? atoi(argv[1]) : 50, copies = argc > 2 ? atoi(argv[2]) : 5;
	struct memtrack_opts opts = { .sz = sizeof(opts) };
	struct memtrack_error err;
	struct memtrack *t;
	pid_t pids[64];
	double first = 0;

	if (libs <= 0 || copies <= 0 || copies > 64) {
		fprintf(stderr, "usage: attach_many [LIBS [COPIES (1-64)]]\n");
		return 2;
	}
	for (int i = 0; i < copies; i++) {
		int p[2], loaded = 0;

		if (pipe(p) || (pids[i] = fork()) < 0)
			return 1;
		if (pids[i] == 0)
			load_and_wait(libs, p[1]);
		if (read(p[0], &loaded, sizeof(loaded)) != sizeof(loaded))
			return 1;
		close(p[0]);
		close(p[1]);
		if (i == 0)
			printf("each process maps %d more shared objects\n", loaded);
	}
	if (memtrack_open(&opts, &t, &err)) {
		fprintf(stderr, "attach_many: %s\n", err.msg);
		return 1;
	}
	printf("%-10s %12s %10s\n", "process", "attach ms", "x first");
	for (int i = 0; i < copies; i++) {
		double start = now(), ms;

		if (memtrack_add_pid(t, pids[i])) {
			fprintf(stderr, "attach_many: %s\n", memtrack_last_error(t)->msg);
			return 1;
		}
		ms = (now() - start) * 1e3;
		if (i == 0)
			first = ms;
		printf("%-10d %12.1f %10.2f%s\n", i + 1, ms, ms / first,
		       i == 0 ? (ms < 200 ? "   (target: under 200 ms)" : "   (OVER 200 ms)") : "");
	}
	memtrack_close(t);
	for (int i = 0; i < copies; i++) {
		kill(pids[i], SIGKILL);
		waitpid(pids[i], NULL, 0);
	}
	return 0;
}
