/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The picture: axes, one step line per process with its peak marked, a legend. */
#ifndef VISUALIZE_PLOT_H
#define VISUALIZE_PLOT_H

#include "canvas.h"
#include "series.h"

/*
 * Draw every series of set on c, under title (any bytes: what is not
 * UTF-8 is replaced). 0, or -ENOMEM; errors of c itself come from its
 * finish().
 */
int plot_draw(struct canvas *c, const struct series_set *set, const char *title);

#endif /* VISUALIZE_PLOT_H */
