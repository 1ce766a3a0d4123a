// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * spawn: a process tree. The parent forks three children; each execs this
 * program again as a worker that allocates its own amount, and the parent
 * waits for them. memtrack follows every fork and exec:
 *
 *	sudo build/memtrack-load -- build/examples/spawn
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define WORKERS 3

/* A worker allocates n blocks of n KiB and frees all but one. */
static int worker(int n)
{
	void *blocks[WORKERS + 1];

	for (int i = 0; i < n; i++)
		blocks[i] = malloc((size_t)n * 1024);
	for (int i = 1; i < n; i++)
		free(blocks[i]);
	printf("  worker %d (pid %d): %d blocks of %d KiB, one kept\n", n, (int)getpid(), n, n);
	return 0;
}

int main(int argc, char **argv)
{
	pid_t children[WORKERS];
	char arg[16], self[4096];
	int failed = 0;
	ssize_t len;

	if (argc == 3 && strcmp(argv[1], "--worker") == 0)
		return worker(atoi(argv[2]));

	/* Exec the file itself (not /proc/self/exe), so workers keep this program's name. */
	len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (len < 0) {
		perror("spawn: /proc/self/exe");
		return 1;
	}
	self[len] = '\0';
	printf("spawn: parent %d starts %d workers\n", (int)getpid(), WORKERS);
	fflush(stdout);
	for (int i = 0; i < WORKERS; i++) {
		children[i] = fork();
		if (children[i] < 0) {
			perror("spawn: fork");
			return 1;
		}
		if (children[i] == 0) {
			snprintf(arg, sizeof(arg), "%d", i + 1);
			execl(self, argv[0], "--worker", arg, (char *)NULL);
			perror("spawn: exec");
			_exit(127);
		}
	}
	for (int i = 0; i < WORKERS; i++) {
		int status;

		if (waitpid(children[i], &status, 0) < 0 || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0)
			failed++;
	}
	return failed ? 1 : 0;
}
