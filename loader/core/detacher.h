/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Letting go of links without waiting for the kernel. Closing the last
 * reference to a uprobe link waits for RCU grace periods: about 40 ms per
 * uprobe_multi link and 100 ms per perf-event uprobe here, for each, one
 * after the other. A process whose links go when it exits, or a tracker
 * closing, must not pay that where anybody waits.
 *
 * So a throw-away process takes the last references: detacher_begin()
 * forks it (its copies of our descriptors keep every link alive), the
 * caller then releases what it wants to (quickly: the kernel only drops a
 * count), and detacher_finish() tells it to close its copies and exit,
 * which is where the waiting happens. It keeps no terminal or pipe of ours
 * open: only the descriptors it must close. One that may outlive us is an
 * orphan from the start, for init to reap (a PID 1 that does not reap, as
 * in a container started without an init, keeps it as a zombie).
 */
#ifndef MEMTRACK_DETACHER_H
#define MEMTRACK_DETACHER_H

#include <stdbool.h>
#include <sys/types.h>

struct detacher {
	int go;	   /* a byte written here lets the process go on; -1: none was started */
	pid_t pid; /* a child to reap with detacher_reaped(); 0: an orphan, init's to reap */
};

/*
 * Start it: an orphan if it may outlive us (a tracker closing), else our
 * child (while tracing), which the caller reaps. 0, or a negative errno
 * (then the caller's releases are slow, but happen).
 */
int detacher_begin(struct detacher *d, bool orphan);

/* Has this child detacher exited (reaped now)? wait: until it has. */
bool detacher_reaped(pid_t pid, bool wait);

/* The caller has dropped its references: the process may close its own, and exit. */
void detacher_finish(struct detacher *d);

#endif /* MEMTRACK_DETACHER_H */
