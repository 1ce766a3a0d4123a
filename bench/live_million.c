// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * live_million: allocate N small blocks (default one million), keep every
 * one of them live, and exit without freeing: a tracer then holds N live
 * blocks at once, as in a program with a big heap, and its memory and its
 * drops show whether it keeps up.
 *
 *	live_million [N]
 */
#include <stdio.h>
#include <stdlib.h>

/* global, so the compiler cannot prove the blocks unused and drop the calls */
void **live_blocks;

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000000;
	void **blocks;

	if (n <= 0) {
		fprintf(stderr, "usage: live_million [N]\n");
		return 2;
	}
	/* one big block for the pointers, reachable from a global */
	blocks = live_blocks = malloc((size_t)n * sizeof(*blocks));
	if (!blocks) {
		perror("live_million");
		return 1;
	}
	for (long i = 0; i < n; i++) {
		blocks[i] = malloc(16 + (size_t)(i * 37) % 112);
		if (!blocks[i]) {
			perror("live_million");
			return 1;
		}
	}
	printf("%ld blocks live\n", n);
	return 0;
}
