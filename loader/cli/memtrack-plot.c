// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * memtrack-plot: a picture of a trace. Live heap bytes over time, one step
 * line per process, each peak marked, as SVG or PNG, from the JSONL that
 * memtrack-load -o writes. A client of libmemtrack's public API only: the
 * trace is read with memtrack_trace_read() and every event accounted by a
 * memtrack_summary, whose live bytes after each event make the lines.
 *
 *	sudo build/memtrack-load -o trace.jsonl -- build/examples/spawn
 *	build/memtrack-plot -o heap.svg trace.jsonl
 *
 * plot/: series.c keeps the lines, plot.c lays the picture
 * out once, canvas_svg.c and canvas_png.c (cairo) draw it.
 */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "canvas.h"
#include "exit_status.h"
#include "memtrack.h"
#include "plot.h"
#include "series.h"

enum format { FORMAT_SVG, FORMAT_PNG };

struct options {
	const char *trace;
	const char *output; /* NULL or "-": standard output */
	enum format format;
	int width, height;
	const char *title;
};

static const char usage_text[] =
	"Usage: memtrack-plot [OPTIONS] TRACE.jsonl\n"
	"\n"
	"Draw the live heap bytes of every process of a trace written by\n"
	"memtrack-load -o ('-': standard input) over time: one step line per\n"
	"process, its peak marked with a dot and its value, and a legend naming\n"
	"each process and its peak. Time runs from the trace's first event.\n"
	"\n"
	"  -o, --output FILE   write the picture to FILE, SVG or PNG by its extension\n"
	"                      (.svg, .png); default: SVG on standard output\n"
	"      --width N       width in pixels, 320 to 8192 (default 960)\n"
	"      --height N      height in pixels, 240 to 8192 (default 540)\n"
	"      --title TEXT    the title (default: \"Live heap over time: TRACE\")\n"
	"  -h, --help          show this help\n"
	"  -V, --version       show the version\n"
	"\n"
	"In the SVG, each process is a <g class=\"series\" data-pid=\"PID\"\n"
	"data-comm=\"COMM\" data-peak-bytes=\"N\" data-peak-ns=\"T\">.\n"
	"\n"
	"Exit status: 0 done, 1 runtime error, 2 usage, 6 output not writable,\n"
	"8 trace unreadable, malformed or without events.\n"
	"\n"
	"Examples:\n"
	"  sudo memtrack-load -o trace.jsonl -- build/examples/spawn\n"
	"  memtrack-plot -o heap.svg trace.jsonl\n"
	"  memtrack-plot -o heap.png --width 1600 --height 900 --title 'spawn' trace.jsonl\n"
	"  sudo memtrack-load -o - -- ./app 2>/dev/null | memtrack-plot - > heap.svg\n";

enum { OPT_WIDTH = 256, OPT_HEIGHT, OPT_TITLE };

static const struct option long_options[] = {
	{ "output", required_argument, NULL, 'o' },
	{ "width", required_argument, NULL, OPT_WIDTH },
	{ "height", required_argument, NULL, OPT_HEIGHT },
	{ "title", required_argument, NULL, OPT_TITLE },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

#define MAX_PIXELS 8192

/* The width or height (what) in s, from min to MAX_PIXELS; false, said, if s is not one. */
static bool parse_pixels(const char *what, const char *s, int min, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > MAX_PIXELS) {
		fprintf(stderr,
			"memtrack-plot: the %s is a number of pixels from %d to %d, not '%s' "
			"(see memtrack-plot --help)\n",
			what, min, MAX_PIXELS, s);
		return false;
	}
	*out = (int)v;
	return true;
}

/* The format -o asks for, by its extension; false if neither. */
static bool output_format(const char *path, enum format *f)
{
	const char *dot = strrchr(path, '.');

	if (strcmp(path, "-") == 0 || (dot && strcasecmp(dot, ".svg") == 0))
		*f = FORMAT_SVG;
	else if (dot && strcasecmp(dot, ".png") == 0)
		*f = FORMAT_PNG;
	else
		return false;
	return true;
}

static int usage_error(const char *what, const char *arg)
{
	fprintf(stderr, "memtrack-plot: %s%s%s%s (see memtrack-plot --help)\n", what, arg ? " '" : "",
		arg ? arg : "", arg ? "'" : "");
	return EXIT_USAGE;
}

/* Returns -1 to go on, else the exit status. */
static int parse(int argc, char **argv, struct options *o)
{
	int c;

	*o = (struct options){ .format = FORMAT_SVG, .width = 960, .height = 540 };
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":o:hV", long_options, NULL)) != -1) {
		switch (c) {
		case 'o':
			o->output = optarg;
			if (!output_format(optarg, &o->format))
				return usage_error("cannot tell the format of the output: name it "
						   ".svg or .png, not",
						   optarg);
			break;
		case OPT_WIDTH:
			if (!parse_pixels("width", optarg, 320, &o->width))
				return EXIT_USAGE;
			break;
		case OPT_HEIGHT:
			if (!parse_pixels("height", optarg, 240, &o->height))
				return EXIT_USAGE;
			break;
		case OPT_TITLE:
			o->title = optarg;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		case 'V':
			printf("memtrack-plot %s\n", MEMTRACK_VERSION);
			return 0;
		case ':':
			return usage_error("this option needs a value:", argv[optind - 1]);
		default:
			return usage_error("unknown option", argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		return usage_error(optind == argc ? "no trace file given" : "give one trace file",
				   NULL);
	o->trace = argv[optind];
	return -1;
}

static int on_event(void *ctx, const union mt_event *ev)
{
	return series_event(ctx, ev);
}

/*
 * Every event, through the summary, into the series. Stacks and mappings
 * are left out: the picture names processes, not call sites.
 */
static int read_trace(struct series_set *set, const char *path)
{
	const struct memtrack_trace_handler h = { .sz = sizeof(h), .ctx = set, .on_event = on_event };
	struct memtrack_error err = { 0 };

	if (memtrack_trace_read(path, &h, &err)) {
		fprintf(stderr, "memtrack-plot: %s%s\n", err.msg[0] ? err.msg : "cannot read the trace",
			err.code == -EINVAL ? " (give a trace written by memtrack-load -o)" : "");
		return err.kind == MEMTRACK_ERR_RUNTIME || err.kind == MEMTRACK_ERR_OUTPUT
			       ? EXIT_RUNTIME
			       : EXIT_TRACE;
	}
	if (!set->events) {
		fprintf(stderr,
			"memtrack-plot: %s: no events to draw (give a trace written by "
			"memtrack-load -o)\n",
			path);
		return EXIT_TRACE;
	}
	return 0;
}

/* The picture of set, written to out. */
static int draw(const struct options *o, const struct series_set *set, FILE *out,
		const char *out_name)
{
	struct canvas *c = o->format == FORMAT_PNG ? canvas_png_new(out, o->width, o->height)
						   : canvas_svg_new(out, o->width, o->height);
	char title[512], trace[256];
	int err;

	if (!c) {
		fprintf(stderr, "memtrack-plot: out of memory\n");
		return EXIT_RUNTIME;
	}
	if (!o->title) {
		/* basename() may modify its argument */
		snprintf(trace, sizeof(trace), "%s", o->trace);
		snprintf(title, sizeof(title), "Live heap over time: %s",
			 strcmp(o->trace, "-") == 0 ? "standard input" : basename(trace));
	}
	err = plot_draw(c, set, o->title ? o->title : title);
	if (err) {
		fprintf(stderr, "memtrack-plot: out of memory\n");
		c->ops->destroy(c);
		return EXIT_RUNTIME;
	}
	err = c->ops->finish(c);
	c->ops->destroy(c);
	if (err) {
		fprintf(stderr, "memtrack-plot: cannot write %s: %s\n", out_name, strerror(-err));
		return err == -ENOMEM ? EXIT_RUNTIME : EXIT_OUTPUT;
	}
	return 0;
}

int main(int argc, char **argv)
{
	bool to_stdout;
	struct series_set set;
	struct stat st;
	struct options o;
	const char *out_name;
	FILE *out = stdout;
	int status = parse(argc, argv, &o);

	if (status >= 0)
		return status;
	to_stdout = !o.output || strcmp(o.output, "-") == 0;
	out_name = to_stdout ? "standard output" : o.output;
	/* before the trace is read, which may take long: fail early */
	if (!to_stdout) {
		out = fopen(o.output, "we");
		if (!out) {
			fprintf(stderr, "memtrack-plot: cannot write %s: %s (choose another -o path)\n",
				o.output, strerror(errno));
			return EXIT_OUTPUT;
		}
	}
	/* Two slots per pixel column: the lines lose nothing a pixel could show. */
	if (series_init(&set, 2 * (size_t)o.width)) {
		fprintf(stderr, "memtrack-plot: out of memory\n");
		status = EXIT_RUNTIME;
	} else {
		status = read_trace(&set, o.trace);
		if (!status)
			status = draw(&o, &set, out, out_name);
	}
	series_free(&set);
	if (!to_stdout && fclose(out) && !status) {
		fprintf(stderr, "memtrack-plot: cannot write %s: %s\n", out_name, strerror(errno));
		status = EXIT_OUTPUT;
	}
	/* no half picture left behind (only a plain file: -o may name a device or a link) */
	if (!to_stdout && status && lstat(o.output, &st) == 0 && S_ISREG(st.st_mode))
		unlink(o.output);
	return status;
}
