/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * memtrack-load's live status on a terminal: one line on stderr, redrawn
 * in place about once a second (calls per second, processes, what is live,
 * the largest processes, drops so far), as top or pv show theirs. Off with
 * -q, and whenever stderr is not a terminal.
 */
#ifndef MEMTRACK_STATUS_LINE_H
#define MEMTRACK_STATUS_LINE_H

#include <stdbool.h>
#include <stdint.h>

#include "memtrack.h"

struct status_line {
	bool on;	     /* stderr is a terminal, and -q was not given */
	bool shown;	     /* a line is on the screen now */
	uint64_t last_ns;    /* when it was last drawn */
	uint64_t last_calls; /* the calls counted then */
};

void status_line_init(struct status_line *sl, bool quiet);
/* Is it time to redraw (a second since the last time)? */
bool status_line_due(const struct status_line *sl, uint64_t now_ns);
/* Redraw from the summary, with the drops so far. */
void status_line_draw(struct status_line *sl, const struct memtrack_summary *s,
		      unsigned long long dropped, uint64_t now_ns);
/* Take the line off the screen, before anything else is written to stderr. */
void status_line_clear(struct status_line *sl);

#endif /* MEMTRACK_STATUS_LINE_H */
