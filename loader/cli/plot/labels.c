// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Text made safe and measured; labels placed greedily, the highest ranked first. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "labels.h"

#define CHAR_W 0.62 /* average advance of a DejaVu Sans character, in ems */
#define GAP    6.0  /* between a point and its label */

void text_clean(const char *in, char *out, size_t size)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t o = 0;

	while (*s) {
		size_t len = *s < 0x80			? 1
			     : *s >= 0xc2 && *s <= 0xdf ? 2
			     : *s >= 0xe0 && *s <= 0xef ? 3
			     : *s >= 0xf0 && *s <= 0xf4 ? 4
							: 0;
		size_t i;

		for (i = 1; i < len; i++)
			if ((s[i] & 0xc0) != 0x80)
				break;
		if (!len || i < len || (len == 1 && (*s < 0x20 || *s == 0x7f))) {
			len = 1;
			if (o + 1 >= size)
				break;
			out[o++] = '?';
		} else {
			if (o + len >= size)
				break;
			memcpy(out + o, s, len);
			o += len;
		}
		s += len;
	}
	out[o] = '\0';
}

double text_width(const char *s, double size)
{
	size_t chars = 0;

	for (; *s; s++) /* UTF-8: count the first byte of each character */
		chars += ((unsigned char)*s & 0xc0) != 0x80;
	return (double)chars * size * CHAR_W;
}

struct box {
	double x0, y0, x1, y1;
};

static bool overlaps(const struct box *a, const struct box *b)
{
	return a->x0 < b->x1 && b->x0 < a->x1 && a->y0 < b->y1 && b->y0 < a->y1;
}

static int higher_rank_first(const void *a, const void *b)
{
	const struct label *x = *(const struct label *const *)a;
	const struct label *y = *(const struct label *const *)b;

	return (x->rank < y->rank) - (x->rank > y->rank);
}

/* The first of the four places around l's point that is inside the area and free. */
static bool place(struct label *l, double size, const struct box *area, struct box *placed,
		  size_t *nplaced)
{
	double w = text_width(l->text, size);

	for (int c = 0; c < 4; c++) {
		bool right = !(c & 1), above = !(c & 2);
		double ty = above ? l->y - GAP : l->y + GAP + size;
		struct box b = { right ? l->x + GAP : l->x - GAP - w, ty - size, 0,
				 ty + size / 4 /* descenders */ };
		size_t i;

		b.x1 = b.x0 + w;
		if (b.x0 < area->x0 || b.x1 > area->x1 || b.y0 < area->y0 || b.y1 > area->y1)
			continue;
		for (i = 0; i < *nplaced && !overlaps(&b, &placed[i]); i++)
			;
		if (i < *nplaced)
			continue;
		placed[(*nplaced)++] = b;
		l->tx = right ? b.x0 : b.x1;
		l->ty = ty;
		l->anchor = right ? ANCHOR_START : ANCHOR_END;
		return true;
	}
	return false;
}

int labels_place(struct label *l, size_t n, double size, double left, double top, double right,
		 double bottom)
{
	const struct box area = { left, top, right, bottom };
	struct label **order = malloc((n ? n : 1) * sizeof(*order));
	struct box *placed = malloc((n ? n : 1) * sizeof(*placed));
	size_t nplaced = 0;

	if (!order || !placed) {
		free(order);
		free(placed);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		order[i] = &l[i];
	qsort(order, n, sizeof(*order), higher_rank_first);
	for (size_t i = 0; i < n; i++)
		order[i]->shown = place(order[i], size, &area, placed, &nplaced);
	free(order);
	free(placed);
	return 0;
}
