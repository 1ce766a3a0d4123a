// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_options.h"

#ifndef MEMTRACK_VERSION
#define MEMTRACK_VERSION "unknown"
#endif

/* A number in the help text, from its one definition. */
#define STR_(x) #x
#define STR(x) STR_(x)

static const char usage_text[] =
	"Usage: memtrack-load [OPTIONS] [--] COMMAND [ARGS...]\n"
	"       memtrack-load [OPTIONS] -p PID[,PID...] [-p PID...]\n"
	"       memtrack-load [OPTIONS] --cgroup PATH | -a\n"
	"\n"
	"Trace every heap allocation and free of a command, or of running processes,\n"
	"and of every process they start, through uprobes on the allocator.\n"
	"\n"
	"  -o, --output FILE        write every event as JSONL to FILE ('-': stdout,\n"
	"                           and the command's own stdout goes to stderr)\n"
	"  -p, --pid PID[,PID...]   trace running processes; a comma-separated list\n"
	"                           (as pgrep -d, writes one), or repeat -p\n"
	"  -d, --duration TIME      stop tracing after TIME: seconds (fractions allowed)\n"
	"                           or with a unit: 30s, 500ms, 1.5m, 2h\n"
	"      --interval TIME      print the reports every TIME (10s, 1m) while tracing,\n"
	"                           each under a heading with the time; SIGUSR1 prints\n"
	"                           them at once, --interval or not\n"
	"  -q, --quiet              no live status line (shown on a terminal: calls/s,\n"
	"                           processes, what is live, drops)\n"
	"      --cgroup PATH        trace every process of a cgroup (a v2 directory, and\n"
	"                           those under it), including ones started later;\n"
	"                           PATH is absolute or under the cgroup2 mount\n"
	"                           (system.slice/foo.service)\n"
	"  -a, --all                trace every process of the system\n"
	"      --cgroup-ids         every allocation event carries its cgroup id\n"
	"      --no-children        do not follow processes started by traced ones\n"
	"                           (their threads are always followed)\n"
	"      --system-probes      probe the allocator in every process of the system,\n"
	"                           as -a and --cgroup do, not only in traced ones:\n"
	"                           needs no ptrace, but every process pays the traps\n"
	"  -l, --lib PATH           also probe the allocator in PATH (a file or a\n"
	"                           library name); repeat for several\n"
	"      --ringbuf-size BYTES ring buffer size, a power of two from one page to\n"
	"                           1G; K, M and G suffixes (default 8M)\n"
	"      --strict             exit with status 7 if any event was dropped\n"
	"      --stack-depth N      user stack frames kept per allocation, up to " STR(MT_MAX_STACK_DEPTH) "\n"
	"                           (default 64; 0: no stacks)\n"
	"      --unwind HOW         how stacks are walked: dwarf (default), by the\n"
	"                           call-frame information every object has, as gdb\n"
	"                           does; fp, by frame pointers, a little cheaper on\n"
	"                           short stacks, but a stack ends at the first code\n"
	"                           built without them (most of a distribution)\n"
	"      --free-stacks        take stacks of frees too\n"
	"      --max-stacks N       distinct stacks kept (default 16384); past that, a\n"
	"                           new stack is a counted drop\n"
	"      --mmap               also anonymous mmap, mremap, munmap and brk, as\n"
	"                           Mmap, Munmap and Brk events (with -o or -T)\n"
	"      --no-aggregate       stream every event to memtrack-load even when only\n"
	"                           reports are asked for (without -o or -T the kernel\n"
	"                           keeps the totals and live blocks itself: cheaper)\n"
	"      --max-live N         live blocks the kernel keeps without -o (default\n"
	"                           1048576); past that, an allocation is a counted drop\n"
	"      --source SOURCE      uprobe (default): probe the allocator's functions;\n"
	"                           usdt: the memtrack USDT probes, with\n"
	"                           libmemtrack-usdt.so preloaded into the command\n"
	"  -v, --verbose            say what is probed; twice: libbpf's messages too\n"
	"  -h, --help               show this help\n"
	"  -V, --version            show the version\n"
	"\n"
	"%s"
	"\n"
	"At exit, a per-process summary, the drop counts and the reports asked for\n"
	"go to standard error (or --report-file).\n"
	"Exit status: the command's own (128+N if signal N killed it); 0 with -p;\n"
	"1 runtime error, 2 usage, 3 no such process, 4 BPF unavailable, 5 allocator\n"
	"not found, 6 output not writable, 7 events dropped with --strict, 9 more\n"
	"still live than --fail-on-leaks allows, 126 command not executable, 127\n"
	"command not found.\n"
	"\n"
	"Examples:\n"
	"  memtrack-load -- ./server --port 8080     # summary of a command's tree\n"
	"  memtrack-load -o events.jsonl -- make -j2 # every event, as JSONL\n"
	"  memtrack-load -o - ./app | jq 'select(.size > 65536)'\n"
	"  memtrack-load -p 1234 -d 30               # a running process, 30 seconds\n"
	"  memtrack-load -p \"$(pgrep -d, app)\" -d 2m # every process named app\n"
	"  memtrack-load --strict -o ev.jsonl -- ./bench   # fail if an event is lost\n"
	"  memtrack-load -l /usr/lib/x86_64-linux-gnu/libjemalloc.so.2 -- ./app\n"
	"  memtrack-load --source usdt -- ./app     # one cheap probe per call\n"
	"  memtrack-load --cgroup system.slice/foo.service -d 1m --leaks\n"
	"  memtrack-load --leaks --top 10 -- ./app  # the ten stacks leaking most\n"
	"  memtrack-load --folded live.folded -- ./app && flamegraph.pl live.folded\n";

enum {
	OPT_NO_CHILDREN = 256,
	OPT_RINGBUF_SIZE,
	OPT_STRICT,
	OPT_SOURCE,
	OPT_STACK_DEPTH,
	OPT_FREE_STACKS,
	OPT_MAX_STACKS,
	OPT_NO_AGGREGATE,
	OPT_MMAP,
	OPT_CGROUP,
	OPT_CGROUP_IDS,
	OPT_MAX_LIVE,
	OPT_SYSTEM_PROBES,
	OPT_UNWIND,
	OPT_INTERVAL,
};

#define DEFAULT_STACK_DEPTH 64

static const struct option long_options[] = {
	{ "output", required_argument, NULL, 'o' },
	{ "pid", required_argument, NULL, 'p' },
	{ "duration", required_argument, NULL, 'd' },
	{ "interval", required_argument, NULL, OPT_INTERVAL },
	{ "quiet", no_argument, NULL, 'q' },
	{ "no-children", no_argument, NULL, OPT_NO_CHILDREN },
	{ "lib", required_argument, NULL, 'l' },
	{ "ringbuf-size", required_argument, NULL, OPT_RINGBUF_SIZE },
	{ "strict", no_argument, NULL, OPT_STRICT },
	{ "source", required_argument, NULL, OPT_SOURCE },
	{ "stack-depth", required_argument, NULL, OPT_STACK_DEPTH },
	{ "free-stacks", no_argument, NULL, OPT_FREE_STACKS },
	{ "max-stacks", required_argument, NULL, OPT_MAX_STACKS },
	{ "no-aggregate", no_argument, NULL, OPT_NO_AGGREGATE },
	{ "mmap", no_argument, NULL, OPT_MMAP },
	{ "cgroup", required_argument, NULL, OPT_CGROUP },
	{ "cgroup-ids", no_argument, NULL, OPT_CGROUP_IDS },
	{ "all", no_argument, NULL, 'a' },
	{ "max-live", required_argument, NULL, OPT_MAX_LIVE },
	{ "system-probes", no_argument, NULL, OPT_SYSTEM_PROBES },
	{ "unwind", required_argument, NULL, OPT_UNWIND },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	REPORT_LONG_OPTIONS,
	{ NULL, 0, NULL, 0 },
};

static enum cli_parse_result usage_error(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static enum cli_parse_result usage_error(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return CLI_USAGE;
}

int cli_parse_size(const char *s, size_t *out)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	if (!*s || *s == '-')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -EINVAL;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	default: break;
	}
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end || (shift && v > (SIZE_MAX >> shift)))
		return -EINVAL;
	*out = (size_t)(v << shift);
	return 0;
}

static int parse_pid(const char *s, size_t len, pid_t *pid)
{
	char *end;
	long v;

	if (!len || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end != s + len || v <= 0 || v > INT_MAX)
		return -EINVAL;
	*pid = (pid_t)v;
	return 0;
}

int cli_parse_uint(const char *s, unsigned int max, unsigned int *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || v > max)
		return -EINVAL;
	*out = (unsigned int)v;
	return 0;
}

int cli_parse_duration(const char *s, unsigned long long *ns)
{
	static const struct {
		const char *suffix;
		double scale;
	} units[] = { { "", 1e9 }, { "s", 1e9 }, { "ms", 1e6 }, { "us", 1e3 }, { "ns", 1 },
		      { "m", 60e9 }, { "min", 60e9 }, { "h", 3600e9 } };
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || !isfinite(v) || v < 0 || *s == '-')
		return -EINVAL;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].suffix) == 0) {
			/* past 584 years: longer than anything runs, so forever */
			*ns = v * units[i].scale >= 1.8e19 ? ULLONG_MAX
							   : (unsigned long long)(v * units[i].scale);
			return 0;
		}
	}
	return -EINVAL;
}

static int push(void *arrp, size_t *n, size_t elem, const void *value, size_t extra)
{
	void **arr = arrp;
	/* the CLI sees only the public API, not base/grow_array.h: its own overflow check */
	char *grown = *n + 1 + extra <= SIZE_MAX / elem
			      ? realloc(*arr, (*n + 1 + extra) * elem)
			      : NULL;

	if (!grown)
		return -ENOMEM;
	memcpy(grown + *n * elem, value, elem);
	memset(grown + (*n + 1) * elem, 0, extra * elem);
	*arr = grown;
	(*n)++;
	return 0;
}

/* -p 12, or -p 12,34,56 as pgrep -d, and perf -p write them: each PID kept, in order. */
static enum cli_parse_result add_pids(struct cli_options *o, const char *arg, char *err,
				      size_t errlen)
{
	const char *at = arg;
	pid_t pid;

	if (!*arg)
		return usage_error(err, errlen,
				   "no PID in -p '' (an empty list: did pgrep find no process?)");
	for (;;) {
		size_t len = strcspn(at, ",");

		if (parse_pid(at, len, &pid)) {
			if (at == arg && !at[len])
				return usage_error(err, errlen, "invalid PID '%s'", arg);
			return usage_error(err, errlen,
					   "invalid PID '%.*s' in '%s' (a list is PIDs "
					   "separated by commas, such as 12,34)",
					   (int)len, at, arg);
		}
		if (push(&o->pids, &o->npids, sizeof(pid), &pid, 0))
			return usage_error(err, errlen, "out of memory");
		if (!at[len])
			return CLI_RUN;
		at += len + 1;
	}
}

enum cli_parse_result cli_parse(int argc, char **argv, struct cli_options *o, char *err,
				size_t errlen)
{
	unsigned long long ns;
	int c;

	memset(o, 0, sizeof(*o));
	o->stack_depth = DEFAULT_STACK_DEPTH;
	o->dwarf = true; /* whole stacks: see --unwind */
	/*
	 * '+': stop at the command's name, so its own options are left alone.
	 * ':': we report. optind = 0 makes glibc forget a cluster left half-read.
	 */
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:o:p:d:l:aqvhV" REPORT_SHORT_OPTIONS, long_options, NULL)) != -1) {
		switch (report_option(&o->report, c, optarg, err, errlen)) {
		case 1:
			continue;
		case -1:
			return CLI_USAGE;
		}
		switch (c) {
		case 'o':
			o->output = optarg;
			break;
		case 'p':
			if (add_pids(o, optarg, err, errlen) != CLI_RUN)
				return CLI_USAGE;
			break;
		case 'd':
			if (cli_parse_duration(optarg, &ns) || !ns)
				return usage_error(err, errlen,
						   "invalid duration '%s' (more than 0: seconds, "
						   "or with a unit, such as 30s, 500ms, 1.5m or 2h)",
						   optarg);
			o->duration = (double)ns / 1e9;
			break;
		case OPT_INTERVAL:
			if (cli_parse_duration(optarg, &o->interval_ns) || o->interval_ns < 1000000)
				return usage_error(err, errlen,
						   "invalid interval '%s' (such as 10s or 1m; at "
						   "least 1ms)",
						   optarg);
			break;
		case 'q':
			o->quiet = true;
			break;
		case OPT_NO_CHILDREN:
			o->no_children = true;
			break;
		case OPT_SYSTEM_PROBES:
			o->system_probes = true;
			break;
		case 'l':
			if (!*optarg)
				return usage_error(err, errlen, "empty allocator path for -l");
			if (push(&o->libs, &o->nlibs, sizeof(char *), &optarg, 1))
				return usage_error(err, errlen, "out of memory");
			break;
		case OPT_RINGBUF_SIZE:
			if (cli_parse_size(optarg, &o->ringbuf_size) ||
			    !o->ringbuf_size || (o->ringbuf_size & (o->ringbuf_size - 1)))
				return usage_error(err, errlen,
						   "invalid ring-buffer size '%s' (a power of two "
						   "of at least one page, such as 4M)",
						   optarg);
			break;
		case OPT_STRICT:
			o->strict = true;
			break;
		case OPT_STACK_DEPTH:
			if (cli_parse_uint(optarg, MT_MAX_STACK_DEPTH, &o->stack_depth))
				return usage_error(err, errlen,
						   "invalid stack depth '%s' (0 to %d frames)", optarg,
						   MT_MAX_STACK_DEPTH);
			break;
		case OPT_FREE_STACKS:
			o->free_stacks = true;
			break;
		case OPT_MAX_STACKS:
			if (cli_parse_uint(optarg, 1u << 24, &o->max_stacks) || !o->max_stacks)
				return usage_error(err, errlen,
						   "invalid number of stacks '%s' (1 to 16777216)",
						   optarg);
			break;
		case OPT_NO_AGGREGATE:
			o->no_aggregate = true;
			break;
		case OPT_MMAP:
			o->mmap = true;
			break;
		case OPT_CGROUP:
			o->cgroup = optarg;
			break;
		case OPT_CGROUP_IDS:
			o->cgroup_ids = true;
			break;
		case 'a':
			o->all = true;
			break;
		case OPT_MAX_LIVE:
			if (cli_parse_uint(optarg, 1u << 26, &o->max_live) || !o->max_live)
				return usage_error(err, errlen,
						   "invalid number of live blocks '%s' (1 to 67108864)",
						   optarg);
			break;
		case OPT_SOURCE:
			if (strcmp(optarg, "usdt") != 0 && strcmp(optarg, "uprobe") != 0)
				return usage_error(err, errlen,
						   "unknown source '%s' (uprobe or usdt)", optarg);
			o->usdt = strcmp(optarg, "usdt") == 0;
			break;
		case OPT_UNWIND:
			if (strcmp(optarg, "dwarf") != 0 && strcmp(optarg, "fp") != 0)
				return usage_error(err, errlen,
						   "unknown unwinding '%s' (fp or dwarf)", optarg);
			o->dwarf = strcmp(optarg, "dwarf") == 0;
			break;
		case 'v':
			o->verbose++;
			break;
		case 'h':
			printf(usage_text, report_options_help);
			return CLI_DONE;
		case 'V':
			printf("memtrack-load %s\n", MEMTRACK_VERSION);
			return CLI_DONE;
		case ':':
			return usage_error(err, errlen, "option '%s' needs a value",
					   argv[optind - 1]);
		default: {
			const char *arg = argv[optind - 1];

			/* A long option: optopt is 0 if unknown, else it was given a value it refuses. */
			if (strncmp(arg, "--", 2) == 0 && optopt)
				return usage_error(err, errlen, "option '%.*s' takes no value",
						   (int)strcspn(arg, "="), arg);
			if (strncmp(arg, "--", 2) == 0)
				return usage_error(err, errlen, "unknown option '%s'", arg);
			return usage_error(err, errlen, "unknown option '-%c'", optopt);
		}
		}
	}
	if (optind < argc)
		o->argv = &argv[optind];
	if ((o->cgroup || o->all) && (o->argv || o->npids))
		return usage_error(err, errlen,
				   "--cgroup and -a trace what runs there: no command or -p with them");
	if (o->cgroup && o->all)
		return usage_error(err, errlen, "give --cgroup PATH or -a, not both");
	if (o->argv && o->npids)
		return usage_error(err, errlen, "give a command or -p PID, not both");
	if (!o->argv && !o->npids && !o->cgroup && !o->all)
		return usage_error(err, errlen, "no command to run and no -p PID to trace");
	/* a report-only run's kernel keeps totals, not the history these are made of */
	if (report_needs_events(&o->report) && cli_report_only(o))
		return usage_error(err, errlen,
				   "%s needs every event, which a report-only run keeps in the "
				   "kernel as totals: add --no-aggregate (or -o FILE)",
				   report_needs_events(&o->report));
	return CLI_RUN;
}

bool cli_report_only(const struct cli_options *o)
{
	return !o->output && !o->report.trace && !o->no_aggregate;
}

void cli_options_free(struct cli_options *o)
{
	free(o->pids);
	free(o->libs);
	memset(o, 0, sizeof(*o));
	o->stack_depth = DEFAULT_STACK_DEPTH;
	o->dwarf = true;
}
