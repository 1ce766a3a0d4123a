/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* CLOCK_MONOTONIC in ns: the clock of bpf_ktime_get_ns(), of every timestamp in a trace. */
#ifndef MEMTRACK_MONOTONIC_H
#define MEMTRACK_MONOTONIC_H

#include <stdint.h>
#include <time.h>

static inline uint64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

#endif /* MEMTRACK_MONOTONIC_H */
