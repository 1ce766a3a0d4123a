// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_options.h"
#include "report_options.h"

const char report_options_help[] =
	"Reports (at the end; text unless --json):\n"
	"      --leaks              blocks still live at the end, grouped by\n"
	"                           allocation site, most bytes first\n"
	"      --min-age AGE        leaks: only blocks at least AGE old (2s, 500ms)\n"
	"      --top N              leaks, peak: only the N sites with the most bytes\n"
	"      --group-by HOW       what one site of leaks and folded stacks is:\n"
	"                           location (each frame's function and file:line,\n"
	"                           the default) or address (the stack as recorded)\n"
	"      --fail-on-leaks[=BYTES]  exit 9 if more than BYTES (default 0) are\n"
	"                           still live at the end, counting only blocks at\n"
	"                           least --min-age old\n"
	"      --peak               per process, the blocks live when its live bytes\n"
	"                           were highest, by allocation stack (needs every\n"
	"                           event: memtrack-load with -o or --no-aggregate)\n"
	"  -T, --trace              every allocation and free with its stack, as it\n"
	"                           happens\n"
	"  -m, --largest            the stack of each process's largest request\n"
	"  -s, --stats              calls by function, failures, drops by reason, how\n"
	"                           full the ring buffer and the stack map got\n"
	"      --min-size BYTES     count only allocations of at least BYTES (K, M, G)\n"
	"      --max-size BYTES     count only allocations of at most BYTES\n"
	"      --folded FILE        folded stacks of the bytes still live, for\n"
	"                           flamegraph.pl, inferno or speedscope ('-': stdout)\n"
	"      --folded-alloc FILE  folded stacks of all bytes allocated\n"
	"      --pprof FILE         a pprof heap profile (gzip'd protobuf) with\n"
	"                           alloc_space/objects and inuse_space/objects\n"
	"      --massif FILE        valgrind massif's format (ms_print, massif-visualizer):\n"
	"                           the command's heap over time, its stacks at the\n"
	"                           peak; %p in FILE: one file per process, by pid\n"
	"                           (needs every event, as --peak)\n"
	"      --json               reports as one JSON document each, one per line\n"
	"      --report-file FILE   write the reports to FILE\n"
	"      --debug-dir DIR      look for separate debug files under DIR too (a\n"
	"                           .build-id tree or the files' own paths)\n"
	"      --by-cgroup          the summary's totals by cgroup (v2) too\n"
	"      --no-summary         leave out the per-process summary\n";

/* "invalid age 'soon' (such as 2s, 500ms or 10us)": the value, then a hint. */
static int invalid(char *err, size_t errlen, const char *what, const char *arg, const char *hint)
{
	snprintf(err, errlen, "invalid %s '%s' (%s)", what, arg, hint);
	return -1;
}

int report_option(struct report_options *r, int c, const char *arg, char *err, size_t errlen)
{
	size_t n;

	switch (c) {
	case OPT_LEAKS: r->leaks = true; return 1;
	case 'T': r->trace = true; return 1;
	case 'm': r->largest = true; return 1;
	case 's': r->stats = true; return 1;
	case OPT_JSON: r->json = true; return 1;
	case OPT_NO_SUMMARY: r->no_summary = true; return 1;
	case OPT_BY_CGROUP: r->by_cgroup = true; return 1;
	case OPT_PEAK: r->peak = true; return 1;
	case OPT_MASSIF: r->massif = arg; return 1;
	case OPT_FOLDED: r->folded = arg; return 1;
	case OPT_FOLDED_ALLOC: r->folded_alloc = arg; return 1;
	case OPT_PPROF: r->pprof = arg; return 1;
	case OPT_REPORT_FILE: r->report_file = arg; return 1;
	case OPT_DEBUG_DIR: r->debug_dirs = arg; return 1;
	case OPT_GROUP_BY:
		if (strcmp(arg, "location") && strcmp(arg, "address"))
			return invalid(err, errlen, "--group-by", arg, "location or address");
		r->group_by_address = !strcmp(arg, "address");
		return 1;
	case OPT_FAIL_ON_LEAKS:
		r->fail_on_leaks = true;
		if (arg && cli_parse_size(arg, &n))
			return invalid(err, errlen, "size for --fail-on-leaks", arg,
				       "bytes, with K, M or G");
		r->fail_leak_bytes = arg ? n : 0;
		return 1;
	case OPT_MIN_AGE:
		if (cli_parse_duration(arg, &r->min_age_ns))
			return invalid(err, errlen, "age", arg, "such as 2s, 500ms, 10us or 1h");
		return 1;
	case OPT_TOP:
		if (cli_parse_size(arg, &n) || !n)
			return invalid(err, errlen, "number of stacks for --top", arg, "1 or more");
		r->top = n;
		return 1;
	case OPT_MIN_SIZE:
	case OPT_MAX_SIZE:
		if (cli_parse_size(arg, &n))
			return invalid(err, errlen, "size", arg, "bytes, with K, M or G");
		if (c == OPT_MIN_SIZE)
			r->min_size = n;
		else if (!n)
			return invalid(err, errlen, "size for --max-size", arg, "more than 0");
		else
			r->max_size = n;
		if (r->max_size && r->min_size > r->max_size) {
			snprintf(err, errlen, "--min-size %llu is more than --max-size %llu",
				 r->min_size, r->max_size);
			return -1;
		}
		return 1;
	default:
		return 0;
	}
}

const char *report_needs_events(const struct report_options *r)
{
	return r->peak ? "--peak" : r->massif ? "--massif" : NULL;
}

/*
 * DIRS (colon-separated) after elfutils' default places, each made
 * absolute: elfutils looks for build-ids only under absolute directories.
 */
static char *debug_path(const char *dirs)
{
	char *copy = strdup(dirs), *path = strdup("+:.debug:/usr/lib/debug"), *save = NULL;

	for (char *d = copy ? strtok_r(copy, ":", &save) : NULL; d && path;
	     d = strtok_r(NULL, ":", &save)) {
		char *abs = realpath(d, NULL), *longer;

		if (asprintf(&longer, "%s:%s", path, abs ? abs : d) < 0)
			longer = NULL;
		free(abs);
		free(path);
		path = longer;
	}
	if (!copy) {
		free(path);
		path = NULL;
	}
	free(copy);
	return path;
}

int report_setup(struct memtrack_summary *s, const struct report_options *r)
{
	char *dirs;
	int err;

	memtrack_summary_set_sizes(s, r->min_size, r->max_size);
	if (!r->debug_dirs)
		return 0;
	dirs = debug_path(r->debug_dirs);
	if (!dirs)
		return -ENOMEM;
	err = memtrack_summary_set_debug_dirs(s, dirs);
	free(dirs);
	return err;
}

int report_file_open(const char *path, struct report_file *rf, struct memtrack_error *err)
{
	int r, fd;

	memset(rf, 0, sizeof(*rf));
	rf->o.fd = -1;
	if (!strcmp(path, "-")) {
		rf->f = stdout;
		return 0;
	}
	r = memtrack_output_begin(path, &rf->o, err);
	if (r)
		return r;
	/* the stream has its own descriptor: fclose() closes it, memtrack_output_end() the file */
	fd = fcntl(rf->o.fd, F_DUPFD_CLOEXEC, 0);
	rf->f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!rf->f) {
		r = -errno;
		snprintf(err->msg, sizeof(err->msg), "cannot write %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		memtrack_output_end(&rf->o, r);
	}
	return r;
}

int report_file_close(struct report_file *rf, int failed)
{
	int err = failed;

	if (!rf->f || rf->f == stdout)
		return err; /* standard output: flushed at exit, or by the caller */
	if (fclose(rf->f) && !err)
		err = -errno;
	rf->f = NULL;
	return memtrack_output_end(&rf->o, err);
}

/* One file output: open it ("-": stdout), write it, close it, say what failed. */
static int to_file(struct memtrack_summary *s, enum memtrack_report_kind kind,
		   const struct memtrack_report_opts *o, const char *path, char *msg, size_t msglen)
{
	struct memtrack_error why = { 0 };
	struct report_file rf;
	int err = report_file_open(path, &rf, &why);

	if (err) {
		snprintf(msg, msglen, "%s", why.msg);
		return err;
	}
	err = report_file_close(&rf, memtrack_report(s, kind, o, rf.f));
	if (err)
		snprintf(msg, msglen, "cannot write %s: %s",
			 strcmp(path, "-") ? path : "standard output", strerror(-err));
	return err;
}

bool report_leaked_too_much(const struct memtrack_summary *s, const struct report_options *r,
			    const char *tool, FILE *msg)
{
	unsigned long long bytes = 0, blocks = 0;

	if (!r->fail_on_leaks)
		return false;
	if (memtrack_summary_leaked(s, r->min_age_ns, &bytes, &blocks)) {
		fprintf(msg, "%s: out of memory counting what is still live (--fail-on-leaks)\n",
			tool);
		return true;
	}
	if (bytes <= r->fail_leak_bytes)
		return false;
	fprintf(msg, "%s: %llu bytes in %llu block%s still live at the end%s, more than the %llu "
		     "--fail-on-leaks allows\n",
		tool, bytes, blocks, blocks == 1 ? "" : "s", r->min_age_ns ? " (--min-age)" : "",
		r->fail_leak_bytes);
	return true;
}

int report_write(struct memtrack_summary *s, const struct report_options *r, FILE *out,
		 bool files, char *msg, size_t msglen)
{
	const struct memtrack_report_opts o = {
		.sz = sizeof(o),
		.min_age_ns = r->min_age_ns,
		.top = r->top,
		.json = r->json,
		.group_by_address = r->group_by_address,
	};
	const struct {
		bool wanted;
		enum memtrack_report_kind kind;
	} reports[] = {
		{ !r->no_summary, MEMTRACK_REPORT_SUMMARY },
		{ r->by_cgroup, MEMTRACK_REPORT_CGROUPS },
		{ r->stats, MEMTRACK_REPORT_STATS },
		{ r->largest, MEMTRACK_REPORT_LARGEST },
		{ r->leaks, MEMTRACK_REPORT_LEAKS },
		{ r->peak, MEMTRACK_REPORT_PEAK },
	};
	int err = 0;

	for (size_t i = 0; !err && i < sizeof(reports) / sizeof(reports[0]); i++) {
		if (!reports[i].wanted)
			continue;
		err = memtrack_report(s, reports[i].kind, &o, out);
		if (err)
			snprintf(msg, msglen, "cannot write the reports: %s", strerror(-err));
	}
	if (!files)
		return err;
	if (!err && r->folded)
		err = to_file(s, MEMTRACK_REPORT_FOLDED_LIVE, &o, r->folded, msg, msglen);
	if (!err && r->folded_alloc)
		err = to_file(s, MEMTRACK_REPORT_FOLDED_ALLOC, &o, r->folded_alloc, msg, msglen);
	if (!err && r->massif) {
		err = memtrack_report_massif(s, r->massif);
		if (err == -ENODATA)
			snprintf(msg, msglen, "cannot write the massif profile %s: a report-only run "
					      "keeps no timeline (trace with --no-aggregate or -o)",
				 r->massif);
		else if (err)
			snprintf(msg, msglen, "cannot write the massif profile %s: %s", r->massif,
				 strerror(-err));
	}
	if (!err && r->pprof) {
		err = memtrack_report_pprof(s, r->pprof);
		if (err)
			snprintf(msg, msglen, "cannot write the pprof profile %s: %s", r->pprof,
				 strerror(-err));
	}
	return err;
}
