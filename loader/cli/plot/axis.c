// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Round ticks: 1, 2 or 5 times a power of ten of the axis's unit. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "axis.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* 1, 2 or 5 times a power of ten, at least raw. */
static double nice_step(double raw)
{
	double p = pow(10, floor(log10(raw))), f = raw / p;

	return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p;
}

/* About ticks steps from 0 past v, in unit; none finer than min_step (in units). */
static struct axis make_axis(double v, int ticks, double unit, const char *unit_name,
			     double min_step)
{
	struct axis a = { .unit = unit, .unit_name = unit_name };
	double step = nice_step(v / unit / ticks);

	if (step < min_step)
		step = min_step;
	a.step = step * unit;
	a.max = ceil(v / a.step - 1e-9) * a.step;
	a.decimals = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);
	return a;
}

/* The time axis is the longer one: more ticks, less room left unused past the end. */
struct axis axis_time(unsigned long long span)
{
	double v = span ? (double)span : 1000;

	if (v >= 1e9)
		return make_axis(v, 8, 1e9, "s", 0);
	if (v >= 1e6)
		return make_axis(v, 8, 1e6, "ms", 0);
	if (v >= 1e3)
		return make_axis(v, 8, 1e3, "\xc2\xb5s", 0);
	return make_axis(v, 8, 1, "ns", 1);
}

struct axis axis_bytes(unsigned long long peak)
{
	static const char *const names[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = peak ? (double)peak : 1024, unit = 1;
	size_t u = 0;

	while (v >= unit * 1024 && u + 1 < ARRAY_SIZE(names)) {
		unit *= 1024;
		u++;
	}
	/* a byte is the smallest step */
	return make_axis(v, 5, unit, names[u], u ? 0 : 1);
}

void axis_label(const struct axis *a, double v, char *buf, size_t size)
{
	snprintf(buf, size, "%.*f", a->decimals, v / a->unit);
}
