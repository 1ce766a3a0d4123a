/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* memtrack-load's command line, parsed into one struct (no globals). */
#ifndef MEMTRACK_CLI_OPTIONS_H
#define MEMTRACK_CLI_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "report_options.h"

struct cli_options {
	const char *output;   /* -o FILE, "-" for stdout; NULL: no event stream */
	pid_t *pids;	      /* -p PID... */
	size_t npids;
	const char **libs;    /* -l PATH..., NULL-terminated */
	size_t nlibs;
	double duration;      /* -d TIME, in seconds; 0: until the traced processes exit */
	unsigned long long interval_ns; /* --interval: reports every so often; 0: at the end only */
	bool quiet;	      /* -q: no live status line on a terminal */
	bool no_children;
	bool system_probes; /* --system-probes: probes in every process, not in traced ones only */
	bool strict;
	size_t ringbuf_size;  /* 0: the library's default */
	int verbose;
	bool usdt;	      /* --source usdt */
	unsigned int stack_depth; /* --stack-depth; frames per stack, 0: none */
	bool dwarf;	      /* --unwind dwarf (the default): by the code's call-frame information */
	bool free_stacks;     /* --free-stacks */
	unsigned int max_stacks; /* --max-stacks; 0: the library's default */
	bool no_aggregate;    /* --no-aggregate: stream events even for reports only */
	bool mmap;	      /* --mmap: anonymous mmap, mremap, munmap and brk too */
	const char *cgroup;   /* --cgroup PATH: every process of the cgroup */
	bool all;	      /* -a: every process of the system */
	bool cgroup_ids;      /* --cgroup-ids: allocation events carry their cgroup id */
	unsigned int max_live; /* --max-live; 0: the library's default */
	struct report_options report; /* what to report at the end, and where */
	char **argv;	      /* the command, NULL-terminated; NULL with -p */
};

enum cli_parse_result {
	CLI_RUN = 0,   /* options are valid: trace */
	CLI_DONE = 1,  /* --help or --version was printed: exit 0 */
	CLI_USAGE = 2, /* invalid: the message is in err */
};

enum cli_parse_result cli_parse(int argc, char **argv, struct cli_options *o, char *err,
				size_t errlen);
void cli_options_free(struct cli_options *o);

/*
 * A report-only run: no -o, no -T, no --no-aggregate. The kernel then
 * keeps the totals and live blocks, and no allocation event is streamed.
 */
bool cli_report_only(const struct cli_options *o);

/* "4096", "64K", "8M", "1G" as bytes; -EINVAL if malformed. */
int cli_parse_size(const char *s, size_t *out);

/*
 * A duration, for -d and --min-age alike: "2" (seconds), "1.5s", "200ms",
 * "30us", "10ns", "1.5m" (or "min"), "2h", as ns (ULLONG_MAX, forever,
 * past what 64 bits of ns hold: -d 1e300); -EINVAL if malformed.
 */
int cli_parse_duration(const char *s, unsigned long long *ns);

/* A decimal number from 0 to max; -EINVAL if malformed or past it. */
int cli_parse_uint(const char *s, unsigned int max, unsigned int *out);

#endif /* MEMTRACK_CLI_OPTIONS_H */
