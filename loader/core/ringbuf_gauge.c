// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ringbuf_gauge.h"

int ringbuf_gauge_open(struct ringbuf_gauge *g, int map_fd, uint64_t size)
{
	void *cons, *prod;

	g->page = sysconf(_SC_PAGESIZE);
	g->size = size;
	g->peak = 0;
	/* the kernel's layout: the consumer page, then the producer page, then the data */
	cons = mmap(NULL, (size_t)g->page, PROT_READ, MAP_SHARED, map_fd, 0);
	if (cons == MAP_FAILED)
		return -errno;
	prod = mmap(NULL, (size_t)g->page, PROT_READ, MAP_SHARED, map_fd, g->page);
	if (prod == MAP_FAILED) {
		int err = -errno;

		munmap(cons, (size_t)g->page);
		return err;
	}
	g->consumer = cons;
	g->producer = prod;
	return 0;
}

void ringbuf_gauge_sample(struct ringbuf_gauge *g)
{
	uint64_t fill;

	if (!g->producer)
		return;
	fill = (uint64_t)(__atomic_load_n(g->producer, __ATOMIC_ACQUIRE) -
			  __atomic_load_n(g->consumer, __ATOMIC_ACQUIRE));
	if (fill > g->size)
		fill = g->size; /* read between the two loads: cannot be more */
	if (fill > g->peak)
		g->peak = fill;
}

void ringbuf_gauge_close(struct ringbuf_gauge *g)
{
	if (g->producer)
		munmap((void *)g->producer, (size_t)g->page);
	if (g->consumer)
		munmap((void *)g->consumer, (size_t)g->page);
	g->producer = g->consumer = NULL;
}
