// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * memtrack-report: the reports of memtrack-load, from a JSONL trace it
 * wrote (-o), after the processes are gone and on any machine that has the
 * same binaries: the trace carries the stacks and the mappings that name
 * them. A thin client of libmemtrack, as memtrack-load is.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exit_status.h"
#include "memtrack.h"
#include "report_options.h"

#ifndef MEMTRACK_VERSION
#define MEMTRACK_VERSION "unknown"
#endif

static const char usage_text[] =
	"Usage: memtrack-report [OPTIONS] TRACE.jsonl\n"
	"       memtrack-report --diff BASE.jsonl [--json] [--top N] TRACE.jsonl\n"
	"\n"
	"Read a trace written by memtrack-load -o ('-': standard input) and print\n"
	"its reports: the per-process summary, and those asked for below. Stacks\n"
	"are symbolized from the binaries the trace names, found by path and\n"
	"build-id; separate debug files under /usr/lib/debug/.build-id.\n"
	"\n"
	"%s"
	"      --diff BASE          compare the trace with the run in BASE, by\n"
	"                           location: bytes and calls allocated, bytes live\n"
	"                           at the end, the biggest change first (alone, or\n"
	"                           with --json, --top, sizes and --report-file)\n"
	"  -h, --help               show this help\n"
	"  -V, --version            show the version\n"
	"\n"
	"Exit status: 0 done, 1 runtime error, 2 usage, 6 output not writable,\n"
	"8 trace unreadable or malformed, 9 more still live than --fail-on-leaks allows.\n"
	"\n"
	"Examples:\n"
	"  memtrack-report --leaks trace.jsonl\n"
	"  memtrack-report --folded - trace.jsonl | flamegraph.pl > live.svg\n"
	"  memtrack-report --pprof heap.pb.gz trace.jsonl && go tool pprof heap.pb.gz\n"
	"  memtrack-report --json -s trace.jsonl | jq .drops\n"
	"  memtrack-report --diff before.jsonl after.jsonl    # what a change costs\n";

enum { OPT_DIFF = OPT_REPORT_LAST };

static const struct option long_options[] = {
	REPORT_LONG_OPTIONS,
	{ "diff", required_argument, NULL, OPT_DIFF },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

/* --diff prints the comparison alone: the other reports are a run's, not two runs'. */
static const char *not_with_diff(const struct report_options *r)
{
	return r->leaks ? "--leaks" : r->trace ? "-T" : r->largest ? "-m" : r->stats ? "-s"
	       : r->folded ? "--folded" : r->folded_alloc ? "--folded-alloc"
	       : r->pprof ? "--pprof" : r->by_cgroup ? "--by-cgroup"
	       : r->fail_on_leaks ? "--fail-on-leaks" : NULL;
}

/* Returns -1 to go on, else the exit status. */
static int parse(int argc, char **argv, struct report_options *r, const char **trace,
		 const char **base)
{
	char err[256];
	int c;

	memset(r, 0, sizeof(*r));
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":hV" REPORT_SHORT_OPTIONS, long_options, NULL)) !=
	       -1) {
		switch (report_option(r, c, optarg, err, sizeof(err))) {
		case 1:
			continue;
		case -1:
			fprintf(stderr, "memtrack-report: %s (see memtrack-report --help)\n", err);
			return EXIT_USAGE;
		}
		switch (c) {
		case OPT_DIFF:
			*base = optarg;
			continue;
		case 'h':
			printf(usage_text, report_options_help);
			return 0;
		case 'V':
			printf("memtrack-report %s\n", MEMTRACK_VERSION);
			return 0;
		case ':':
			fprintf(stderr, "memtrack-report: option '%s' needs a value\n",
				argv[optind - 1]);
			return EXIT_USAGE;
		default:
			fprintf(stderr, "memtrack-report: unknown option '%s' (see memtrack-report --help)\n",
				argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "memtrack-report: %s (see memtrack-report --help)\n",
			optind == argc ? "no trace file given" : "give one trace file");
		return EXIT_USAGE;
	}
	*trace = argv[optind];
	if (*base && not_with_diff(r)) {
		fprintf(stderr, "memtrack-report: --diff prints the comparison alone, not %s (run "
				"that report on its own)\n",
			not_with_diff(r));
		return EXIT_USAGE;
	}
	return -1;
}

/*
 * The trace into the summary and, with -T, to the event printer after it
 * (which names frames with the summary's stacks): the tee memtrack-load
 * feeds live, except that here a failure of either stops the reading at
 * its line, as a damaged trace does.
 */
static int read_trace(struct memtrack_summary *s, const struct report_options *r, FILE *out,
		      const char *path, struct memtrack_error *err)
{
	const struct memtrack_report_opts po = { .sz = sizeof(po), .json = r->json };
	struct memtrack_event_printer *printer = NULL;
	struct memtrack_tee *tee = memtrack_tee_new();
	struct memtrack_trace_handler h = memtrack_summary_handler(s);
	int status = tee ? memtrack_tee_add(tee, &h, MEMTRACK_TEE_STOP) : -ENOMEM, at = -1;

	if (status >= 0 && r->trace) {
		printer = memtrack_event_printer_new(s, &po, out);
		h = printer ? memtrack_event_printer_handler(printer) : h;
		status = at = printer ? memtrack_tee_add(tee, &h, MEMTRACK_TEE_STOP) : -ENOMEM;
	}
	if (status >= 0) {
		h = memtrack_tee_handler(tee);
		status = memtrack_trace_read(path, &h, err);
		/* the events could not be written: an output's failure, not the trace's */
		if (status && at >= 0 && memtrack_tee_error(tee, (size_t)at)) {
			snprintf(err->msg, sizeof(err->msg), "cannot write the events (-T) to %s: %s",
				 r->report_file && strcmp(r->report_file, "-") ? r->report_file
									 : "standard output",
				 strerror(-memtrack_tee_error(tee, (size_t)at)));
			err->kind = MEMTRACK_ERR_OUTPUT;
		}
	} else {
		snprintf(err->msg, sizeof(err->msg), "out of memory");
		err->kind = MEMTRACK_ERR_RUNTIME;
	}
	memtrack_event_printer_free(printer);
	memtrack_tee_free(tee);
	return status;
}

/* --diff: the trace against the base run; the exit status. */
static int report_diff(struct memtrack_summary *base, struct memtrack_summary *s,
		       const struct report_options *r, FILE *out)
{
	const struct memtrack_report_opts o = { .sz = sizeof(o), .top = r->top, .json = r->json };
	int err = memtrack_report_diff(base, s, &o, out);

	errno = 0;
	if (!err && (fflush(out) || ferror(out)))
		err = errno ? -errno : -EIO;
	if (!err)
		return 0;
	fprintf(stderr, "memtrack-report: cannot write the comparison: %s\n", strerror(-err));
	return err == -ENOMEM ? EXIT_RUNTIME : EXIT_OUTPUT;
}

int main(int argc, char **argv)
{
	struct memtrack_error err = { 0 };
	struct memtrack_summary *s = NULL;
	struct report_options r;
	const char *trace = NULL, *base = NULL;
	struct memtrack_summary *base_run = NULL;
	struct report_file rf = { .o.fd = -1 };
	FILE *out = stdout;
	char msg[512];
	int closed, status = parse(argc, argv, &r, &trace, &base);

	if (status >= 0)
		return status;
	/*
	 * A profile on standard output owns it: the reports go to standard
	 * error then (a gzip stream with a summary in it decodes as nothing),
	 * unless --report-file says where. Folded stacks, text, share it.
	 */
	if (!r.report_file && r.pprof && !strcmp(r.pprof, "-"))
		out = stderr;
	if (r.report_file && strcmp(r.report_file, "-") != 0) {
		if (report_file_open(r.report_file, &rf, &err)) {
			fprintf(stderr, "memtrack-report: %s\n", err.msg);
			return EXIT_OUTPUT;
		}
		out = rf.f;
	}
	s = memtrack_summary_new();
	if (!s || report_setup(s, &r)) {
		fprintf(stderr, "memtrack-report: out of memory\n");
		status = EXIT_RUNTIME;
		goto out;
	}
	if (base) {
		base_run = memtrack_summary_new();
		if (!base_run || report_setup(base_run, &r)) {
			fprintf(stderr, "memtrack-report: out of memory\n");
			status = EXIT_RUNTIME;
			goto out;
		}
	}
	if ((base_run && read_trace(base_run, &r, out, base, &err)) ||
	    read_trace(s, &r, out, trace, &err)) {
		fprintf(stderr, "memtrack-report: %s\n", err.msg[0] ? err.msg : "cannot read the trace");
		status = err.kind == MEMTRACK_ERR_OUTPUT    ? EXIT_OUTPUT
			 : err.kind == MEMTRACK_ERR_RUNTIME ? EXIT_RUNTIME
							    : EXIT_TRACE;
		goto out;
	}
	status = 0;
	if (base_run) {
		status = report_diff(base_run, s, &r, out);
		goto out;
	}
	if (report_write(s, &r, out, true, msg, sizeof(msg))) {
		fprintf(stderr, "memtrack-report: %s\n", msg);
		status = EXIT_OUTPUT;
	} else if (report_leaked_too_much(s, &r, "memtrack-report", stderr)) {
		status = EXIT_LEAKED;
	}
out:
	memtrack_summary_free(base_run);
	memtrack_summary_free(s);
	/* the --report-file takes its path's place only if all went well */
	closed = report_file_close(&rf, status ? -ECANCELED : 0);
	if (closed && !status) {
		fprintf(stderr, "memtrack-report: cannot write %s: %s\n", r.report_file,
			strerror(-closed));
		status = EXIT_OUTPUT;
	}
	return status;
}
