/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * How full the BPF ring buffer gets: its producer and consumer positions,
 * mapped read-only and sampled as records are read (libbpf 1.1 has no
 * accessor for them). The peak tells a user whether --ringbuf-size has room.
 */
#ifndef MEMTRACK_RINGBUF_GAUGE_H
#define MEMTRACK_RINGBUF_GAUGE_H

#include <stdint.h>

struct ringbuf_gauge {
	const volatile unsigned long *consumer, *producer;
	long page;
	uint64_t size, peak;
};

/* Map the positions of the ring buffer map_fd of size bytes. -errno. */
int ringbuf_gauge_open(struct ringbuf_gauge *g, int map_fd, uint64_t size);
/* Note how much is waiting to be read now. */
void ringbuf_gauge_sample(struct ringbuf_gauge *g);
void ringbuf_gauge_close(struct ringbuf_gauge *g);

#endif /* MEMTRACK_RINGBUF_GAUGE_H */
