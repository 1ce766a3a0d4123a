/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The report options memtrack-load and memtrack-report share (--leaks,
 * -T, -m, -s, sizes, ages, the folded and pprof files, --json), parsed
 * the same way for both, and the writing of what they ask for at the end.
 */
#ifndef MEMTRACK_REPORT_OPTIONS_H
#define MEMTRACK_REPORT_OPTIONS_H

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

#include "memtrack.h"

struct report_options {
	bool leaks, trace, largest, stats, json, no_summary, by_cgroup, peak;
	bool group_by_address; /* --group-by address: leaks and folded stacks by stack as recorded */
	bool fail_on_leaks;    /* --fail-on-leaks[=BYTES]: a status of its own past fail_leak_bytes */
	unsigned long long fail_leak_bytes;
	unsigned long long min_age_ns, min_size, max_size; /* 0: no bound */
	size_t top;					   /* 0: all */
	const char *folded, *folded_alloc, *pprof;	   /* files; "-": standard output */
	const char *massif; /* massif.out file ("%p": one per process, by pid) */
	const char *report_file; /* NULL: the tool's default stream */
	const char *debug_dirs;	 /* NULL: elfutils' default */
};

enum {
	OPT_REPORT_FIRST = 512,
	OPT_LEAKS = OPT_REPORT_FIRST,
	OPT_MIN_AGE,
	OPT_TOP,
	OPT_MIN_SIZE,
	OPT_MAX_SIZE,
	OPT_FOLDED,
	OPT_FOLDED_ALLOC,
	OPT_PPROF,
	OPT_JSON,
	OPT_REPORT_FILE,
	OPT_DEBUG_DIR,
	OPT_NO_SUMMARY,
	OPT_BY_CGROUP,
	OPT_GROUP_BY,
	OPT_FAIL_ON_LEAKS,
	OPT_PEAK,
	OPT_MASSIF,
	OPT_REPORT_LAST,
};

/* The short report options, for getopt's option string. */
#define REPORT_SHORT_OPTIONS "Tms"

/* Entries for a getopt_long option table. */
#define REPORT_LONG_OPTIONS                                                   \
	{ "leaks", no_argument, NULL, OPT_LEAKS },                            \
	{ "min-age", required_argument, NULL, OPT_MIN_AGE },                  \
	{ "top", required_argument, NULL, OPT_TOP },                          \
	{ "trace", no_argument, NULL, 'T' },                                  \
	{ "largest", no_argument, NULL, 'm' },                                \
	{ "stats", no_argument, NULL, 's' },                                  \
	{ "min-size", required_argument, NULL, OPT_MIN_SIZE },                \
	{ "max-size", required_argument, NULL, OPT_MAX_SIZE },                \
	{ "folded", required_argument, NULL, OPT_FOLDED },                    \
	{ "folded-alloc", required_argument, NULL, OPT_FOLDED_ALLOC },        \
	{ "pprof", required_argument, NULL, OPT_PPROF },                      \
	{ "json", no_argument, NULL, OPT_JSON },                              \
	{ "report-file", required_argument, NULL, OPT_REPORT_FILE },          \
	{ "debug-dir", required_argument, NULL, OPT_DEBUG_DIR },              \
	{ "no-summary", no_argument, NULL, OPT_NO_SUMMARY },                  \
	{ "by-cgroup", no_argument, NULL, OPT_BY_CGROUP },                    \
	{ "group-by", required_argument, NULL, OPT_GROUP_BY },                \
	{ "fail-on-leaks", optional_argument, NULL, OPT_FAIL_ON_LEAKS },      \
	{ "peak", no_argument, NULL, OPT_PEAK },                              \
	{ "massif", required_argument, NULL, OPT_MASSIF }

/* The help text of those options. */
extern const char report_options_help[];

/*
 * Take option c (a getopt_long result) with its argument if it is a report
 * option: 1 if it was, 0 if it is not one, -1 if its value is invalid
 * (err says why).
 */
int report_option(struct report_options *r, int c, const char *arg, char *err, size_t errlen);

/*
 * --fail-on-leaks: did more bytes stay live at the end (blocks at least
 * --min-age old) than it allows? If so, says how many on msg, as tool.
 */
bool report_leaked_too_much(const struct memtrack_summary *s, const struct report_options *r,
			    const char *tool, FILE *msg);

/*
 * The reports that need every event, which a report-only run (the kernel
 * keeps totals) does not stream: the option that asks for one, or NULL.
 */
const char *report_needs_events(const struct report_options *r);


/* Options that need the summary: sizes and debug directories. 0 or -ENOMEM. */
int report_setup(struct memtrack_summary *s, const struct report_options *r);

/*
 * A report file ("-": standard output): a stream whose file takes the
 * place of path only when it is closed without a failure
 * (memtrack_output_begin(): mode 0644, never through another user's
 * symlink in /tmp), so that a failed or refused run leaves what was there.
 */
struct report_file {
	FILE *f;
	struct memtrack_output o;
};
/* 0, or a negative errno with err saying why. */
int report_file_open(const char *path, struct report_file *rf, struct memtrack_error *err);
/* failed: a negative errno if writing failed (the file is then abandoned). The first error. */
int report_file_close(struct report_file *rf, int failed);

/*
 * The reports asked for, to out (summary, stats, largest, leaks), and with
 * files the folded and pprof files. On failure, msg names what failed; returns
 * -errno (-EIO etc. for an output that cannot be written).
 */
int report_write(struct memtrack_summary *s, const struct report_options *r, FILE *out,
		 bool files, char *msg, size_t msglen);

#endif /* MEMTRACK_REPORT_OPTIONS_H */
