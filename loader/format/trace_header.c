// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A trace's Header record: this machine and this moment, for a reader
 * elsewhere and later (json_event.c writes it, trace_reader.c reads it).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>

#include "memtrack.h"
#include "monotonic.h"

int memtrack_header_init(struct memtrack_header *h)
{
	unsigned long long before, after;
	struct utsname u;
	struct timespec real;

	if (!h || h->sz < sizeof(*h))
		return -EINVAL;
	h->schema_major = MEMTRACK_SCHEMA_MAJOR;
	h->schema_minor = MEMTRACK_SCHEMA_MINOR;
	snprintf(h->memtrack_version, sizeof(h->memtrack_version), "%s", MEMTRACK_VERSION);
	h->host[0] = h->kernel[0] = '\0';
	if (uname(&u) == 0) {
		snprintf(h->host, sizeof(h->host), "%s", u.nodename);
		snprintf(h->kernel, sizeof(h->kernel), "%s", u.release);
	}
	/* the wall clock read between two monotonic reads: the anchor is their middle */
	before = monotonic_ns();
	clock_gettime(CLOCK_REALTIME, &real);
	after = monotonic_ns();
	h->monotonic_ns = before + (after - before) / 2;
	h->realtime_sec = (long long)real.tv_sec;
	h->realtime_nsec = real.tv_nsec;
	return 0;
}
