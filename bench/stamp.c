// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * stamp: write CLOCK_MONOTONIC, in nanoseconds, to FILE, and exit. Run just
 * before a tracer, as the traced command, and just after, it gives the
 * tracer's start-up (until the command's first instruction) and teardown
 * (from the command's exit to the tracer's) on one clock.
 *
 *	stamp FILE
 *
 * Plain system calls, no stdio: nothing allocates after the clock is read,
 * so a tracer that traps allocations does not stretch the stamp itself.
 */
#include <fcntl.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct timespec ts;
	char buf[32];
	int fd, len;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	if (argc != 2) {
		fprintf(stderr, "usage: stamp FILE\n");
		return 2;
	}
	len = snprintf(buf, sizeof(buf), "%lld\n",
		       (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
	fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, buf, (size_t)len) != len || close(fd)) {
		perror(argv[1]);
		return 1;
	}
	return 0;
}
