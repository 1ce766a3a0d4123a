/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What the plot draws with: a few shapes, text and named groups, in pixels
 * from the top left. The layout (plot.c) is written once against this and
 * each output format is a backend:
 *
 * - SVG is written by hand (canvas_svg.c), not with cairo's SVG surface:
 *   cairo 1.16 cannot put ids or classes on what it draws, and each
 *   process's series must be findable in the file, as a
 *   <g class="series" data-pid="..."> (tests count them; scripts can
 *   restyle or hide one process).
 * - PNG is drawn by cairo on an image surface (canvas_png.c).
 *
 * Drawing calls cannot fail: a backend remembers its first error and
 * finish() reports it.
 */
#ifndef VISUALIZE_CANVAS_H
#define VISUALIZE_CANVAS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define COLOR_NONE UINT32_MAX /* for a rect: no fill, or no outline */

enum anchor { ANCHOR_START, ANCHOR_MIDDLE, ANCHOR_END };

struct point {
	double x, y;
};

/* A group's attributes: name="value" in SVG, nothing in PNG. */
struct canvas_attr {
	const char *name, *value;
};

struct canvas;

struct canvas_ops {
	void (*group_begin)(struct canvas *c, const char *cls, const struct canvas_attr *attrs,
			    size_t n);
	void (*group_end)(struct canvas *c);
	/* colors are 0xRRGGBB */
	void (*rect)(struct canvas *c, double x, double y, double w, double h, uint32_t fill,
		     uint32_t stroke);
	void (*polyline)(struct canvas *c, const struct point *p, size_t n, uint32_t color,
			 double width);
	void (*circle)(struct canvas *c, double x, double y, double r, uint32_t fill);
	/* y is the baseline; UTF-8 text */
	void (*text)(struct canvas *c, double x, double y, double size, enum anchor anchor,
		     uint32_t color, const char *s);
	/* Write the picture out (not closing the file): 0, or a negative errno. */
	int (*finish)(struct canvas *c);
	void (*destroy)(struct canvas *c);
};

struct canvas {
	const struct canvas_ops *ops;
	int width, height;
};

/* NULL without memory. The canvas writes to out, which stays the caller's. */
struct canvas *canvas_svg_new(FILE *out, int width, int height);
struct canvas *canvas_png_new(FILE *out, int width, int height);

#endif /* VISUALIZE_CANVAS_H */
