/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The exit statuses of memtrack's tools (README, their man pages): one
 * number per kind of failure, the same in every tool that can meet it.
 */
#ifndef MEMTRACK_EXIT_STATUS_H
#define MEMTRACK_EXIT_STATUS_H

enum {
	EXIT_RUNTIME = 1,      /* reading, writing, memory */
	EXIT_USAGE = 2,	       /* the command line */
	EXIT_NO_PROCESS = 3,   /* memtrack-load: no such process, or not followable */
	EXIT_NO_BPF = 4,       /* memtrack-load: BPF unavailable */
	EXIT_NO_ALLOCATOR = 5, /* memtrack-load: no allocator to probe */
	EXIT_OUTPUT = 6,       /* an output cannot be written */
	EXIT_DROPPED = 7,      /* memtrack-load --strict: events were dropped */
	EXIT_TRACE = 8,	       /* memtrack-report, memtrack-plot: the trace is unreadable */
	EXIT_LEAKED = 9,       /* --fail-on-leaks: more was still live at the end than it allows */
	EXIT_NOT_EXEC = 126,   /* memtrack-load: the command cannot be executed */
	EXIT_NOT_FOUND = 127,  /* memtrack-load: the command was not found */
};

#endif /* MEMTRACK_EXIT_STATUS_H */
