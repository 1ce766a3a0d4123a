/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Axes with round ticks, for time in ns and for bytes. */
#ifndef VISUALIZE_AXIS_H
#define VISUALIZE_AXIS_H

#include <stddef.h>

/* From 0 to max, a tick every step, labelled in unit. */
struct axis {
	double max, step; /* in the data's own units: ns, bytes */
	double unit;	  /* what a label's 1 is worth */
	const char *unit_name;
	int decimals;
};

/* About 8 ticks over span ns, in s, ms, µs or ns. */
struct axis axis_time(unsigned long long span);
/* About 5 ticks up to peak bytes, in B, KiB, MiB... */
struct axis axis_bytes(unsigned long long peak);
/* The label of the tick at v: a number, the unit is in the axis title. */
void axis_label(const struct axis *a, double v, char *buf, size_t size);
/* Iterate over the ticks: for (v = 0; axis_has(a, v); v += a->step) */
static inline int axis_has(const struct axis *a, double v)
{
	return v <= a->max * (1 + 1e-9);
}

#endif /* VISUALIZE_AXIS_H */
