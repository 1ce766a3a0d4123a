// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * alloc_loop: the microbenchmark of SPEC.md section 6. N pairs of
 * malloc(16..4096) + free, timed inside the program (start-up and the
 * tracer's attach are not counted); prints nanoseconds per pair.
 *
 *	alloc_loop [PAIRS [CPU]]
 *
 * With CPU, it pins itself there (a tracer's reader then has the other CPU;
 * pinning from outside, with taskset, would be an exec that a preloaded
 * shim does not follow).
 */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static void *volatile sink;

int main(int argc, char **argv)
{
	long pairs = argc > 1 ? atol(argv[1]) : 1000000;
	struct timespec start, end;
	double ns;

	if (pairs <= 0) {
		fprintf(stderr, "usage: alloc_loop [PAIRS [CPU]]\n");
		return 2;
	}
	if (argc > 2) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(atoi(argv[2]), &set);
		if (sched_setaffinity(0, sizeof(set), &set))
			perror("alloc_loop: sched_setaffinity");
	}
	/* warm up: the first calls set up the arena and the tcache */
	for (long i = 0; i < 1000; i++) {
		sink = malloc(16 + (size_t)(i * 37) % 4080);
		free(sink);
	}
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (long i = 0; i < pairs; i++) {
		sink = malloc(16 + (size_t)(i * 37) % 4080);
		free(sink);
	}
	clock_gettime(CLOCK_MONOTONIC, &end);
	ns = (double)(end.tv_sec - start.tv_sec) * 1e9 + (double)(end.tv_nsec - start.tv_nsec);
	printf("%.2f\n", ns / (double)pairs);
	return 0;
}
