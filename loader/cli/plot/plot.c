// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The layout, written once for every backend (canvas.h). */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "axis.h"
#include "human_bytes.h"
#include "labels.h"
#include "plot.h"

#define FONT	   12.0
#define TITLE_FONT 16.0
#define LINE	   18.0 /* a legend row */
#define TOP	   40.0 /* room for the title */
#define RIGHT	   24.0

#define INK   0x333333
#define GRID  0xe4e4e4
#define FRAME 0x999999
#define PAPER 0xffffff

/* Tableau 10: distinct, and readable on white */
static const uint32_t palette[] = { 0x4e79a7, 0xf28e2b, 0xe15759, 0x76b7b2, 0x59a14f,
				    0xedc948, 0xb07aa1, 0xff9da7, 0x9c755f, 0xbab0ac };
#define NCOLORS (sizeof(palette) / sizeof(palette[0]))

/* Where things go: the plot area and the two axes. */
struct frame {
	double left, top, right, bottom;
	struct axis x, y;
};

static double px(const struct frame *f, double ns)
{
	return f->left + ns / f->x.max * (f->right - f->left);
}

static double py(const struct frame *f, double bytes)
{
	return f->bottom - bytes / f->y.max * (f->bottom - f->top);
}

static void draw_axes(struct canvas *c, const struct frame *f)
{
	const struct canvas_ops *ops = c->ops;
	char buf[64];

	ops->group_begin(c, "axes", NULL, 0);
	for (double v = 0; axis_has(&f->y, v); v += f->y.step) {
		struct point grid[2] = { { f->left, py(f, v) }, { f->right, py(f, v) } };

		ops->polyline(c, grid, 2, GRID, 1);
		axis_label(&f->y, v, buf, sizeof(buf));
		ops->text(c, f->left - 6, py(f, v) + FONT / 3, FONT, ANCHOR_END, INK, buf);
	}
	for (double v = 0; axis_has(&f->x, v); v += f->x.step) {
		struct point grid[2] = { { px(f, v), f->top }, { px(f, v), f->bottom } };

		ops->polyline(c, grid, 2, GRID, 1);
		axis_label(&f->x, v, buf, sizeof(buf));
		ops->text(c, px(f, v), f->bottom + FONT + 4, FONT, ANCHOR_MIDDLE, INK, buf);
	}
	ops->rect(c, f->left, f->top, f->right - f->left, f->bottom - f->top, COLOR_NONE, FRAME);
	snprintf(buf, sizeof(buf), "live heap (%s)", f->y.unit_name);
	ops->text(c, f->left, f->top - 8, FONT, ANCHOR_START, INK, buf);
	snprintf(buf, sizeof(buf), "time since the first event (%s)", f->x.unit_name);
	ops->text(c, (f->left + f->right) / 2, f->bottom + 2 * FONT + 10, FONT, ANCHOR_MIDDLE, INK,
		  buf);
	ops->group_end(c);
}

static void add(struct point *pts, size_t *n, double x, double y)
{
	if (*n && pts[*n - 1].x == x && pts[*n - 1].y == y)
		return;
	pts[(*n)++] = (struct point){ x, y };
}

/*
 * The step line of one series: flat between events, a vertical stroke
 * over everything one pixel column holds (its lowest to its highest
 * value), from 0 at the process's first event to its last one (to the end
 * of the trace if it had not exited).
 */
static int draw_line(struct canvas *c, const struct frame *f, const struct series_set *set,
		     const struct series *s, bool to_end, uint32_t color)
{
	struct point *pts = malloc((s->n * 4 + 2) * sizeof(*pts));
	unsigned long long prev = 0;
	size_t n = 0;

	if (!pts)
		return -ENOMEM;
	for (size_t i = 0; i < s->n;) {
		const struct slot *a = &s->slots[i];
		double x = px(f, (double)(a->k * series_slot_ns(set)));
		unsigned long long min = a->min, max = a->max, last = a->last;

		for (i++; i < s->n; i++) {
			const struct slot *b = &s->slots[i];

			if (floor(px(f, (double)(b->k * series_slot_ns(set)))) != floor(x))
				break;
			min = b->min < min ? b->min : min;
			max = b->max > max ? b->max : max;
			last = b->last;
		}
		add(pts, &n, x, py(f, (double)prev));
		add(pts, &n, x, py(f, (double)min));
		add(pts, &n, x, py(f, (double)max));
		add(pts, &n, x, py(f, (double)last));
		prev = last;
	}
	add(pts, &n, px(f, (double)(to_end ? set->span : s->last_time)), py(f, (double)prev));
	c->ops->polyline(c, pts, n, color, 1.5);
	free(pts);
	return 0;
}

/*
 * Where each peak's value goes: beside its dot where it covers no other,
 * the highest peaks first; with many processes some go without (the
 * legend still has every peak).
 */
static struct label *peak_labels(const struct frame *f, const struct series_set *set)
{
	struct label *l = calloc(set->n ? set->n : 1, sizeof(*l));

	if (!l)
		return NULL;
	for (size_t i = 0; i < set->n; i++) {
		const struct series *s = &set->series[i];

		l[i].x = px(f, (double)s->peak_time);
		l[i].y = py(f, (double)s->peak);
		l[i].rank = (double)s->peak;
		format_bytes(s->peak, l[i].text, sizeof(l[i].text));
	}
	if (labels_place(l, set->n, FONT, f->left, f->top, f->right, f->bottom)) {
		free(l);
		return NULL;
	}
	return l;
}

static int draw_series(struct canvas *c, const struct frame *f, const struct series_set *set)
{
	struct label *labels = peak_labels(f, set);

	if (!labels)
		return -ENOMEM;
	for (size_t i = 0; i < set->n; i++) {
		const struct memtrack_proc_stats *p = memtrack_summary_proc(set->summary, i);
		const struct series *s = &set->series[i];
		char pid[16], comm[64], peak[32], peak_time[32];
		const struct canvas_attr attrs[] = {
			{ "data-pid", pid },
			{ "data-comm", comm },
			{ "data-peak-bytes", peak },
			{ "data-peak-ns", peak_time },
		};
		int err;

		snprintf(pid, sizeof(pid), "%d", (int)p->pid);
		text_clean(p->comm, comm, sizeof(comm));
		snprintf(peak, sizeof(peak), "%llu", s->peak);
		snprintf(peak_time, sizeof(peak_time), "%llu", s->peak_time);
		c->ops->group_begin(c, "series", attrs, sizeof(attrs) / sizeof(attrs[0]));
		err = draw_line(c, f, set, s, !p->exited, palette[i % NCOLORS]);
		if (err) {
			free(labels);
			return err;
		}
		c->ops->circle(c, labels[i].x, labels[i].y, 3.5, palette[i % NCOLORS]);
		if (labels[i].shown)
			c->ops->text(c, labels[i].tx, labels[i].ty, FONT, labels[i].anchor, INK,
				     labels[i].text);
		c->ops->group_end(c);
	}
	free(labels);
	return 0;
}

static void legend_entry(const struct series_set *set, size_t i, char *buf, size_t size)
{
	const struct memtrack_proc_stats *p = memtrack_summary_proc(set->summary, i);
	char comm[64], peak[32];

	text_clean(p->comm, comm, sizeof(comm));
	format_bytes(set->series[i].peak, peak, sizeof(peak));
	snprintf(buf, size, "%d %s (peak %s)", (int)p->pid, comm, peak);
}

/* How many legend rows and columns fit under a plot of this width, at most max_rows rows. */
static void legend_size(const struct series_set *set, double width, size_t max_rows, size_t *rows,
			size_t *cols, double *col_w)
{
	char buf[128];

	*col_w = 0;
	for (size_t i = 0; i < set->n; i++) {
		double w;

		legend_entry(set, i, buf, sizeof(buf));
		w = 16 + text_width(buf, FONT) + 20;
		*col_w = w > *col_w ? w : *col_w;
	}
	*cols = *col_w > 0 && width > *col_w ? (size_t)(width / *col_w) : 1;
	*rows = (set->n + *cols - 1) / *cols;
	if (*rows > max_rows)
		*rows = max_rows;
}

/* One entry per process, in columns; what does not fit is counted on the last one. */
static void draw_legend(struct canvas *c, const struct frame *f, const struct series_set *set,
			size_t rows, size_t cols, double col_w)
{
	size_t shown = set->n <= rows * cols ? set->n : rows * cols - 1;
	double top = f->bottom + 2 * FONT + 26;
	char buf[128];

	c->ops->group_begin(c, "legend", NULL, 0);
	for (size_t i = 0; i < shown; i++) {
		double x = f->left + (double)(i % cols) * col_w,
		       y = top + (double)(i / cols) * LINE;

		c->ops->rect(c, x, y - 10, 10, 10, palette[i % NCOLORS], COLOR_NONE);
		legend_entry(set, i, buf, sizeof(buf));
		c->ops->text(c, x + 16, y, FONT, ANCHOR_START, INK, buf);
	}
	if (shown < set->n) {
		snprintf(buf, sizeof(buf), "and %zu more processes", set->n - shown);
		c->ops->text(c, f->left + (double)(shown % cols) * col_w + 16,
			     top + (double)(shown / cols) * LINE, FONT, ANCHOR_START, INK, buf);
	}
	c->ops->group_end(c);
}

int plot_draw(struct canvas *c, const struct series_set *set, const char *title)
{
	unsigned long long peak = 0;
	struct frame f = { .top = TOP, .right = c->width - RIGHT };
	size_t rows, cols;
	double label_w = 0, col_w;
	char buf[256];
	int err;

	for (size_t i = 0; i < set->n; i++)
		peak = set->series[i].peak > peak ? set->series[i].peak : peak;
	f.x = axis_time(set->span);
	f.y = axis_bytes(peak);
	/* the left margin fits the widest y label */
	for (double v = 0; axis_has(&f.y, v); v += f.y.step) {
		axis_label(&f.y, v, buf, sizeof(buf));
		label_w = text_width(buf, FONT) > label_w ? text_width(buf, FONT) : label_w;
	}
	f.left = label_w + 14 > 40 ? label_w + 14 : 40;
	/* the legend takes at most a third of the height */
	legend_size(set, f.right - f.left, (size_t)(c->height / 3 / LINE) + 1, &rows, &cols,
		    &col_w);
	f.bottom = c->height - (double)rows * LINE - 2 * FONT - 26;

	c->ops->rect(c, 0, 0, c->width, c->height, PAPER, COLOR_NONE);
	text_clean(title, buf, sizeof(buf));
	c->ops->text(c, c->width / 2.0, 24, TITLE_FONT, ANCHOR_MIDDLE, INK, buf);
	draw_axes(c, &f);
	err = draw_series(c, &f, set);
	if (err)
		return err;
	draw_legend(c, &f, set, rows, cols, col_w);
	return 0;
}
