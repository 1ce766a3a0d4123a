// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * arena: an allocator of one's own, visible to memtrack. A fixed-size-class
 * arena (free lists over one big mmap'd region) annotates each allocation
 * and release with the memtrack USDT probes, so its blocks show up like
 * malloc's in memtrack-load --source usdt, in the scripts and in bpftrace:
 *
 *	sudo build/memtrack-load --source usdt -- build/examples/arena
 *	sudo bpftrace -e 'usdt:build/examples/arena:memtrack:malloc { @[arg1] = count(); }' \
 *		-c build/examples/arena
 *
 * It allocates 3 x 100 objects (48, 96 and 192 bytes), releases all but
 * every tenth, and keeps those 30 (a leak, on purpose).
 */
#include <stdio.h>
#include <stddef.h>
#include <sys/mman.h>

#include "memtrack_usdt.h"

MEMTRACK_USDT_DEFINE_SEMAPHORES();

#define CLASSES 3
#define ARENA_SIZE (1 << 20)

struct free_block {
	struct free_block *next;
};

struct arena {
	unsigned char *base, *next, *end;
	struct free_block *free[CLASSES]; /* released blocks, by size class */
};

static const size_t class_size[CLASSES] = { 48, 96, 192 };

static int class_of(size_t size)
{
	for (int c = 0; c < CLASSES; c++)
		if (size <= class_size[c])
			return c;
	return -1;
}

static void *arena_alloc(struct arena *a, size_t size)
{
	int c = class_of(size);
	void *p = NULL;

	if (c >= 0 && a->free[c]) {
		p = a->free[c];
		a->free[c] = a->free[c]->next;
	} else if (c >= 0 && a->next + class_size[c] <= a->end) {
		p = a->next;
		a->next += class_size[c];
	}
	/* memtrack:malloc(p, size, 0, 0, p ? 0 : ENOMEM), if anyone listens */
	MEMTRACK_USDT_ALLOC(p, size);
	return p;
}

static void arena_free(struct arena *a, void *p, size_t size)
{
	struct free_block *b = p;
	int c = class_of(size);

	/* before the block can be handed out again */
	MEMTRACK_USDT_FREE(p);
	b->next = a->free[c];
	a->free[c] = b;
}

int main(void)
{
	struct arena a = { 0 };
	void *objs[CLASSES][100];
	int kept = 0;

	a.base = mmap(NULL, ARENA_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (a.base == MAP_FAILED) {
		perror("arena: mmap");
		return 1;
	}
	a.next = a.base;
	a.end = a.base + ARENA_SIZE;
	for (int c = 0; c < CLASSES; c++)
		for (int i = 0; i < 100; i++)
			objs[c][i] = arena_alloc(&a, class_size[c]);
	for (int c = 0; c < CLASSES; c++)
		for (int i = 0; i < 100; i++) {
			if (i % 10 == 0)
				kept++;
			else
				arena_free(&a, objs[c][i], class_size[c]);
		}
	printf("arena: 300 objects allocated, %d kept\n", kept);
	return 0;
}
