/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Text: made safe to draw, its width estimated (an SVG file cannot measure
 * its text; the estimate is for DejaVu Sans, the font both backends ask
 * for first), and labels placed so that none covers another.
 */
#ifndef VISUALIZE_LABELS_H
#define VISUALIZE_LABELS_H

#include <stdbool.h>
#include <stddef.h>

#include "canvas.h"

/*
 * in, as valid UTF-8 without control characters (a comm holds whatever
 * bytes a program chose, and cairo refuses to draw invalid UTF-8), cut
 * between characters to fit size.
 */
void text_clean(const char *in, char *out, size_t size);
/* Roughly how wide s is at this font size, in pixels. */
double text_width(const char *s, double size);

/* A label beside a point, if there is room for it. */
struct label {
	double x, y; /* the point */
	double rank; /* higher ones are placed first */
	char text[32];
	bool shown;	    /* out: there was room */
	double tx, ty;	    /* out: where the text goes (ty: its baseline) */
	enum anchor anchor; /* out */
};

/*
 * Place each label above or below, right or left of its point, inside the
 * area and over no other label; a label with no room is not shown.
 * 0 or -ENOMEM.
 */
int labels_place(struct label *l, size_t n, double size, double left, double top, double right,
		 double bottom);

#endif /* VISUALIZE_LABELS_H */
