// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The SVG backend: elements written as they are drawn, groups as <g> with
 * their class and attributes (canvas.h says why this is not cairo's).
 * Text must be valid UTF-8 already (plot.c cleans what comes from a trace).
 */
#include <errno.h>
#include <stdlib.h>

#include "canvas.h"

struct svg {
	struct canvas c;
	FILE *out;
};

static FILE *out_of(struct canvas *c)
{
	return ((struct svg *)c)->out;
}

/* s with XML's special characters as entities, fit for text and attribute values. */
static void put_escaped(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&apos;", f); break;
		default: fputc(*s, f);
		}
	}
}

static void put_color(FILE *f, const char *attr, uint32_t color)
{
	if (color == COLOR_NONE)
		fprintf(f, " %s=\"none\"", attr);
	else
		fprintf(f, " %s=\"#%06x\"", attr, color & 0xffffff);
}

static void svg_group_begin(struct canvas *c, const char *cls, const struct canvas_attr *attrs,
			    size_t n)
{
	FILE *f = out_of(c);

	fputs("<g class=\"", f);
	put_escaped(f, cls);
	fputc('"', f);
	for (size_t i = 0; i < n; i++) {
		fprintf(f, " %s=\"", attrs[i].name);
		put_escaped(f, attrs[i].value);
		fputc('"', f);
	}
	fputs(">\n", f);
}

static void svg_group_end(struct canvas *c)
{
	fputs("</g>\n", out_of(c));
}

static void svg_rect(struct canvas *c, double x, double y, double w, double h, uint32_t fill,
		     uint32_t stroke)
{
	FILE *f = out_of(c);

	fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"", x, y, w, h);
	put_color(f, "fill", fill);
	put_color(f, "stroke", stroke);
	fputs("/>\n", f);
}

static void svg_polyline(struct canvas *c, const struct point *p, size_t n, uint32_t color,
			 double width)
{
	FILE *f = out_of(c);

	fputs("<polyline fill=\"none\"", f);
	put_color(f, "stroke", color);
	fprintf(f, " stroke-width=\"%.1f\" stroke-linejoin=\"round\" points=\"", width);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s%.1f,%.1f", i ? " " : "", p[i].x, p[i].y);
	fputs("\"/>\n", f);
}

static void svg_circle(struct canvas *c, double x, double y, double r, uint32_t fill)
{
	FILE *f = out_of(c);

	fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\"", x, y, r);
	put_color(f, "fill", fill);
	fputs("/>\n", f);
}

static void svg_text(struct canvas *c, double x, double y, double size, enum anchor anchor,
		     uint32_t color, const char *s)
{
	static const char *const anchors[] = { "start", "middle", "end" };
	FILE *f = out_of(c);

	fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"%.1f\" text-anchor=\"%s\"", x, y, size,
		anchors[anchor]);
	put_color(f, "fill", color);
	fputc('>', f);
	put_escaped(f, s);
	fputs("</text>\n", f);
}

static int svg_finish(struct canvas *c)
{
	FILE *f = out_of(c);

	fputs("</svg>\n", f);
	errno = 0;
	if (fflush(f) || ferror(f))
		return errno ? -errno : -EIO;
	return 0;
}

static void svg_destroy(struct canvas *c)
{
	free(c);
}

static const struct canvas_ops svg_ops = {
	.group_begin = svg_group_begin,
	.group_end = svg_group_end,
	.rect = svg_rect,
	.polyline = svg_polyline,
	.circle = svg_circle,
	.text = svg_text,
	.finish = svg_finish,
	.destroy = svg_destroy,
};

struct canvas *canvas_svg_new(FILE *out, int width, int height)
{
	struct svg *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->c = (struct canvas){ .ops = &svg_ops, .width = width, .height = height };
	s->out = out;
	fprintf(out,
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
		"viewBox=\"0 0 %d %d\" font-family=\"DejaVu Sans, Verdana, sans-serif\">\n",
		width, height, width, height);
	return &s->c;
}
