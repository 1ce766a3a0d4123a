// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The PNG backend: cairo draws on an image surface, written out at the
 * end. Groups mean nothing in a bitmap and are ignored. cairo keeps its
 * first error in the context (and then draws nothing more): finish() reads it.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include <cairo.h>

#include "canvas.h"

struct png {
	struct canvas c;
	FILE *out;
	cairo_surface_t *surface;
	cairo_t *cr;
	int write_errno; /* why the last write to out failed */
};

static cairo_t *cr_of(struct canvas *c)
{
	return ((struct png *)c)->cr;
}

static void set_color(cairo_t *cr, uint32_t color)
{
	cairo_set_source_rgb(cr, ((color >> 16) & 0xff) / 255.0, ((color >> 8) & 0xff) / 255.0,
			     (color & 0xff) / 255.0);
}

static void png_group_begin(struct canvas *c, const char *cls, const struct canvas_attr *attrs,
			    size_t n)
{
	(void)c, (void)cls, (void)attrs, (void)n;
}

static void png_group_end(struct canvas *c)
{
	(void)c;
}

static void png_rect(struct canvas *c, double x, double y, double w, double h, uint32_t fill,
		     uint32_t stroke)
{
	cairo_t *cr = cr_of(c);

	cairo_rectangle(cr, x, y, w, h);
	if (fill != COLOR_NONE) {
		set_color(cr, fill);
		cairo_fill_preserve(cr);
	}
	if (stroke != COLOR_NONE) {
		set_color(cr, stroke);
		cairo_set_line_width(cr, 1);
		cairo_stroke_preserve(cr);
	}
	cairo_new_path(cr);
}

static void png_polyline(struct canvas *c, const struct point *p, size_t n, uint32_t color,
			 double width)
{
	cairo_t *cr = cr_of(c);

	if (n < 2)
		return;
	cairo_move_to(cr, p[0].x, p[0].y);
	for (size_t i = 1; i < n; i++)
		cairo_line_to(cr, p[i].x, p[i].y);
	set_color(cr, color);
	cairo_set_line_width(cr, width);
	cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
	cairo_stroke(cr);
}

static void png_circle(struct canvas *c, double x, double y, double r, uint32_t fill)
{
	cairo_t *cr = cr_of(c);

	cairo_new_sub_path(cr);
	cairo_arc(cr, x, y, r, 0, 2 * M_PI);
	set_color(cr, fill);
	cairo_fill(cr);
}

static void png_text(struct canvas *c, double x, double y, double size, enum anchor anchor,
		     uint32_t color, const char *s)
{
	cairo_t *cr = cr_of(c);
	cairo_text_extents_t ext;

	/* the family the SVG names first, so both formats look alike */
	cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL,
			       CAIRO_FONT_WEIGHT_NORMAL);
	cairo_set_font_size(cr, size);
	if (anchor != ANCHOR_START) {
		cairo_text_extents(cr, s, &ext);
		x -= anchor == ANCHOR_END ? ext.x_advance : ext.x_advance / 2;
	}
	set_color(cr, color);
	cairo_move_to(cr, x, y);
	cairo_show_text(cr, s);
	cairo_new_path(cr);
}

static cairo_status_t write_out(void *closure, const unsigned char *data, unsigned int length)
{
	struct png *p = closure;

	if (fwrite(data, 1, length, p->out) != length) {
		p->write_errno = errno ? errno : EIO;
		return CAIRO_STATUS_WRITE_ERROR;
	}
	return CAIRO_STATUS_SUCCESS;
}

static int status_errno(const struct png *p, cairo_status_t st)
{
	switch (st) {
	case CAIRO_STATUS_SUCCESS: return 0;
	case CAIRO_STATUS_NO_MEMORY: return -ENOMEM;
	case CAIRO_STATUS_WRITE_ERROR: return p->write_errno ? -p->write_errno : -EIO;
	default: return -EIO;
	}
}

static int png_finish(struct canvas *c)
{
	struct png *p = (struct png *)c;
	int err = status_errno(p, cairo_status(p->cr));

	if (err)
		return err;
	cairo_surface_flush(p->surface);
	errno = 0;
	err = status_errno(p, cairo_surface_write_to_png_stream(p->surface, write_out, p));
	if (!err && (fflush(p->out) || ferror(p->out)))
		err = errno ? -errno : -EIO;
	return err;
}

static void png_destroy(struct canvas *c)
{
	struct png *p = (struct png *)c;

	cairo_destroy(p->cr);
	cairo_surface_destroy(p->surface);
	free(p);
}

static const struct canvas_ops png_ops = {
	.group_begin = png_group_begin,
	.group_end = png_group_end,
	.rect = png_rect,
	.polyline = png_polyline,
	.circle = png_circle,
	.text = png_text,
	.finish = png_finish,
	.destroy = png_destroy,
};

struct canvas *canvas_png_new(FILE *out, int width, int height)
{
	struct png *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->c = (struct canvas){ .ops = &png_ops, .width = width, .height = height };
	p->out = out;
	/* cairo hands back inert objects rather than NULL: their status says */
	p->surface = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, width, height);
	p->cr = cairo_create(p->surface);
	if (cairo_surface_status(p->surface) != CAIRO_STATUS_SUCCESS ||
	    cairo_status(p->cr) != CAIRO_STATUS_SUCCESS) {
		png_destroy(&p->c);
		return NULL;
	}
	return &p->c;
}
