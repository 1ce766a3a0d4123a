// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * allocs: one call of every kind memtrack traces, and two deliberate
 * leaks, so that a trace of it shows the whole event model:
 *
 *	sudo build/memtrack-load -- build/examples/allocs
 *	sudo build/memtrack-load -o - -- build/examples/allocs | jq -c .
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void step(const char *what, void *p)
{
	printf("  %-36s -> %p\n", what, p);
}

int main(void)
{
	void *p, *q, *leak;
	int err;

	printf("allocs: every allocator call memtrack traces\n");
	p = malloc(100);
	step("malloc(100)", p);
	free(p);

	p = calloc(16, 32);
	step("calloc(16, 32)", p);
	p = realloc(p, 4096);
	step("realloc(p, 4096): grow", p);
	p = realloc(p, 64);
	step("realloc(p, 64): shrink", p);
	q = reallocarray(NULL, 10, 24);
	step("reallocarray(NULL, 10, 24)", q);
	free(q);
	free(p);

	p = aligned_alloc(64, 1024);
	step("aligned_alloc(64, 1024)", p);
	free(p);
	p = NULL;
	err = posix_memalign(&p, 256, 2048);
	step(err ? "posix_memalign(&p, 256, 2048) failed" : "posix_memalign(&p, 256, 2048)", p);
	if (!err)
		free(p);
	p = memalign(32, 512);
	step("memalign(32, 512)", p);
	free(p);
	p = valloc(8192);
	step("valloc(8192)", p);
	free(p);
	p = pvalloc(100);
	step("pvalloc(100)", p);
	free(p);

	free(NULL); /* not a free: memtrack shows nothing for it */

	leak = strdup("this string is never freed");
	step("strdup(...): leaked", leak);
	leak = malloc(12345);
	step("malloc(12345): leaked", leak);
	memset(leak, 0, 12345);
	fflush(stdout);
	return 0;
}
