/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Folded stacks, the input of flamegraph.pl, inferno and speedscope: one
 * line per stack, "comm;outermost;...;innermost BYTES", of the bytes
 * still live at the end or of all bytes allocated.
 */
#ifndef MEMTRACK_FOLDED_H
#define MEMTRACK_FOLDED_H

#include <stdbool.h>
#include <stdio.h>

#include "summary.h"

/*
 * by_location: lines with the same frames (stacks that differ only in
 * return addresses) are one line, their bytes summed, as a flame graph
 * draws them anyway; otherwise one line per stack. 0, or -ENOMEM.
 */
int folded_write(struct memtrack_summary *s, bool allocated, bool by_location, FILE *out);

#endif /* MEMTRACK_FOLDED_H */
