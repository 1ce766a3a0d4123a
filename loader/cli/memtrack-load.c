// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * memtrack-load: trace a command's (or running processes') heap
 * allocations. A thin client of libmemtrack: parse options, open a
 * tracker, start or attach, poll until the traced processes are gone (or
 * -d, or a signal), then write the Stats record and the summary.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli_options.h"
#include "exit_status.h"
#include "memtrack.h"
#include "report_options.h"
#include "status_line.h"

#define POLL_MS 100
/* After Ctrl-C, how long the command gets to finish (still traced) before we report. */
#define SIGNAL_GRACE_MS 1000

static volatile sig_atomic_t stop_signal;
/* SIGUSR1: print the reports now (memleak's and massif's habit of snapshots on demand) */
static volatile sig_atomic_t snapshot_asked;

static void on_signal(int sig)
{
	stop_signal = sig;
}

static void on_snapshot_signal(int sig)
{
	(void)sig;
	snapshot_asked = 1;
}

/*
 * Catch what stops a trace, with handlers rather than SIG_IGN so that the
 * command gets the default dispositions back at exec. A signal we were
 * started with ignored (nohup) stays ignored, for us and for the command.
 */
static void install_signal_handlers(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGPIPE };
	struct sigaction sa = { .sa_handler = on_signal }, old;

	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN)
			continue;
		/* SIGPIPE: a closed stdout reader makes write() fail with EPIPE instead. */
		sigaction(sigs[i], &sa, NULL);
	}
	sa.sa_handler = on_snapshot_signal;
	sigaction(SIGUSR1, &sa, NULL);
}

/*
 * Where the records go: one tee of the JSONL writer (-o), the summary
 * every report is made from, and -T's printer (after the summary, whose
 * stacks it names frames with). Each one's failure is its own: a full disk
 * stops the trace, a -T that cannot be written does not.
 */
struct run {
	struct memtrack_jsonl *out;
	const char *out_path;
	struct memtrack_summary *summary;
	struct memtrack_event_printer *printer;
	const struct report_options *rep;
	FILE *report_out; /* the reports' stream: stderr, stdout, or the --report-file's */
	struct report_file report_file;
	struct memtrack_tee *tee;
	int out_at, summary_at, printer_at; /* their places in the tee (-1: none) */
	int write_error;  /* negative errno from writing the JSONL */
	bool out_of_memory;
	bool report_error; /* -T, or the reports, could not be written */
	unsigned long long interval_ns; /* --interval; 0: reports at the end only */
	struct status_line status;
};

/* The status line, for the log callback: it takes the line off before a message. */
static struct status_line *shown_status;

/* Make the tee; -ENOMEM. */
static int run_outputs(struct run *r)
{
	const struct memtrack_report_opts po = { .sz = sizeof(po), .json = r->rep->json };
	struct memtrack_trace_handler h;

	r->out_at = r->printer_at = -1;
	r->tee = memtrack_tee_new();
	if (!r->tee)
		return -ENOMEM;
	if (r->out) {
		h = memtrack_jsonl_handler(r->out);
		r->out_at = memtrack_tee_add(r->tee, &h, 0);
	}
	h = memtrack_summary_handler(r->summary);
	r->summary_at = memtrack_tee_add(r->tee, &h, 0);
	if (r->rep->trace) {
		r->printer = memtrack_event_printer_new(r->summary, &po, r->report_out);
		if (!r->printer)
			return -ENOMEM;
		h = memtrack_event_printer_handler(r->printer);
		r->printer_at = memtrack_tee_add(r->tee, &h, 0);
	}
	return r->out_at < -1 || r->summary_at < 0 || r->printer_at < -1 ? -ENOMEM : 0;
}

/* What failed in the tee so far: recorded once, in the run's own flags. */
static void run_errors(struct run *r)
{
	if (r->out_at >= 0 && memtrack_tee_error(r->tee, (size_t)r->out_at) && !r->write_error)
		r->write_error = memtrack_tee_error(r->tee, (size_t)r->out_at);
	if (memtrack_tee_error(r->tee, (size_t)r->summary_at))
		r->out_of_memory = true;
	if (r->printer_at >= 0 && memtrack_tee_error(r->tee, (size_t)r->printer_at))
		r->report_error = true;
}

static void on_log(void *ctx, enum memtrack_log_level level, const char *msg)
{
	(void)ctx;
	if (shown_status)
		status_line_clear(shown_status);
	fprintf(stderr, "memtrack-load: %s%s\n", level == MEMTRACK_LOG_WARN ? "warning: " : "",
		msg);
}

static int exit_status_for(enum memtrack_error_kind kind)
{
	switch (kind) {
	case MEMTRACK_ERR_USAGE: return EXIT_USAGE;
	case MEMTRACK_ERR_NO_PROCESS: return EXIT_NO_PROCESS;
	case MEMTRACK_ERR_BPF: return EXIT_NO_BPF;
	case MEMTRACK_ERR_ALLOCATOR: return EXIT_NO_ALLOCATOR;
	case MEMTRACK_ERR_OUTPUT: return EXIT_OUTPUT;
	case MEMTRACK_ERR_NOT_EXEC: return EXIT_NOT_EXEC;
	case MEMTRACK_ERR_NOT_FOUND: return EXIT_NOT_FOUND;
	default: return EXIT_RUNTIME;
	}
}

static int fail(const struct memtrack_error *err)
{
	fprintf(stderr, "memtrack-load: %s\n", err->msg);
	return exit_status_for(err->kind);
}

static int status_of_wait(int wstatus)
{
	if (WIFSIGNALED(wstatus))
		return 128 + WTERMSIG(wstatus);
	return WEXITSTATUS(wstatus);
}

static unsigned long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec;
}

/*
 * How the command runs: as the user who ran sudo, as it would without it;
 * and with its stdout on our stderr when our stdout carries the JSONL.
 * SUDO_UID or SUDO_GID that is not an id is refused (false): the command
 * would otherwise run as root, silently.
 */
static bool spawn_options(struct memtrack_spawn_opts *so, const char *output)
{
	const char *uid = getenv("SUDO_UID"), *gid = getenv("SUDO_GID");
	unsigned int u, g;

	so->sz = sizeof(*so);
	if (geteuid() == 0 && uid && gid) {
		/* (uid_t)-1 is no user: setresuid() would leave the id as it is */
		if (cli_parse_uint(uid, UINT_MAX - 1, &u) || cli_parse_uint(gid, UINT_MAX - 1, &g)) {
			fprintf(stderr,
				"memtrack-load: SUDO_UID '%s' or SUDO_GID '%s' is not a user or group "
				"id: unset them to run the command as root\n",
				uid, gid);
			return false;
		}
		so->set_user = true;
		so->uid = (uid_t)u;
		so->gid = (gid_t)g;
	}
	if (output && strcmp(output, "-") == 0)
		so->stdout_fd = STDERR_FILENO;
	return true;
}

struct child {
	pid_t pid; /* 0: tracing -p PIDs */
	bool reaped;
	int wstatus;
};

static void reap(struct child *c, int flags)
{
	if (c->pid > 0 && !c->reaped && waitpid(c->pid, &c->wstatus, flags) == c->pid)
		c->reaped = true;
}

#ifndef MEMTRACK_LIBDIR
#define MEMTRACK_LIBDIR "/usr/local/lib"
#endif

/*
 * libmemtrack-usdt.so, as an absolute path (LD_PRELOAD resolves relative
 * ones against the command's directory): $MEMTRACK_USDT_SHIM, else beside
 * this program (the build tree), else ../lib from it, else where make
 * install put it. NULL if none exists.
 */
static char *find_usdt_shim(void)
{
	static const char *const relative[] = { "libmemtrack-usdt.so", "../lib/libmemtrack-usdt.so" };
	char self[PATH_MAX], candidate[PATH_MAX * 2], *dir;
	const char *env = getenv("MEMTRACK_USDT_SHIM");
	ssize_t len;

	if (env && *env)
		return realpath(env, NULL);
	len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (len > 0) {
		self[len] = '\0';
		dir = dirname(self);
		for (size_t i = 0; i < sizeof(relative) / sizeof(relative[0]); i++) {
			snprintf(candidate, sizeof(candidate), "%s/%s", dir, relative[i]);
			if (access(candidate, R_OK) == 0)
				return realpath(candidate, NULL);
		}
	}
	return realpath(MEMTRACK_LIBDIR "/libmemtrack-usdt.so", NULL);
}

/* One round: deliver events, flush the JSONL, reap the command if it is done. */
static bool poll_round(struct memtrack *t, struct run *r, struct child *c)
{
	if (memtrack_poll(t, POLL_MS) < 0) {
		fprintf(stderr, "memtrack-load: %s\n", memtrack_last_error(t)->msg);
		return false;
	}
	run_errors(r);
	if (r->out && !r->write_error)
		r->write_error = memtrack_jsonl_flush(r->out);
	reap(c, WNOHANG);
	return !r->write_error && !r->out_of_memory;
}

/*
 * --interval and SIGUSR1: the reports now, what is live since tracing
 * began, under a heading that says when (a JSON document of its own with
 * --json). The files (--folded, --pprof) are written at the end only.
 */
static void report_now(struct memtrack *t, struct run *r, unsigned long long started)
{
	unsigned long long elapsed = now_ns() - started;
	time_t now = time(NULL);
	char msg[512], when[32] = "?";
	struct tm tm;

	status_line_clear(&r->status);
	if (memtrack_snapshot(t, 0) < 0) {
		fprintf(stderr, "memtrack-load: %s\n", memtrack_last_error(t)->msg);
		return;
	}
	run_errors(r);
	if (r->rep->json) {
		if (gmtime_r(&now, &tm))
			strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
		fprintf(r->report_out, "{\"report\":\"snapshot\",\"time\":\"%s\",\"elapsed_ns\":%llu}\n",
			when, elapsed);
	} else {
		if (localtime_r(&now, &tm))
			strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
		fprintf(r->report_out, "memtrack: --- %s, %.1fs of tracing ---\n", when,
			(double)elapsed / 1e9);
	}
	if (report_write(r->summary, r->rep, r->report_out, false, msg, sizeof(msg))) {
		fprintf(stderr, "memtrack-load: %s\n", msg);
		r->report_error = true;
	}
	fflush(r->report_out);
}

/* The live status line, about once a second (report-only runs: the kernel's totals). */
static void status_now(struct memtrack *t, struct run *r, unsigned long long now)
{
	struct memtrack_counters c;
	unsigned long long dropped = 0;

	if (!status_line_due(&r->status, now) || memtrack_snapshot(t, MEMTRACK_SNAPSHOT_TOTALS) < 0)
		return;
	if (memtrack_read_counters(t, &c) == 0)
		for (unsigned i = 0; i < MT_DROP_MAX; i++)
			dropped += c.drops[i];
	status_line_draw(&r->status, r->summary, dropped, now);
}

/*
 * Poll until every traced process has exited (unless tracing a scope, which
 * may start more), the duration is over, a signal, or an error; with
 * --interval and on SIGUSR1, print the reports on the way.
 */
static void trace_loop(struct memtrack *t, struct run *r, struct child *c, double duration,
		       bool scope)
{
	unsigned long long start = now_ns(), deadline = 0, next_report = start + r->interval_ns;

	/* -d 1e300: past what a 64-bit count of nanoseconds holds is forever */
	if (duration > 0)
		deadline = duration * 1e9 < (double)(ULLONG_MAX - start)
				   ? start + (unsigned long long)(duration * 1e9)
				   : ULLONG_MAX;

	while (!stop_signal && poll_round(t, r, c)) {
		unsigned long long now = now_ns();

		if (snapshot_asked || (r->interval_ns && now >= next_report)) {
			snapshot_asked = 0;
			report_now(t, r, start);
			/* the next one an interval after this one's time: no catching up in bursts */
			while (r->interval_ns && next_report <= now)
				next_report += r->interval_ns;
		}
		status_now(t, r, now);
		if (!scope && memtrack_tracked_count(t) == 0)
			break; /* a cgroup or the system may have processes again */
		if (deadline && now >= deadline)
			break;
	}
	status_line_clear(&r->status);
	if (!stop_signal)
		return;
	/* Ctrl-C reaches the command too: keep tracing while it finishes, for a moment. */
	if (c->pid > 0 && stop_signal && stop_signal != SIGPIPE) {
		unsigned long long end = now_ns() + SIGNAL_GRACE_MS * 1000000ull;

		while (!c->reaped && memtrack_tracked_count(t) > 0 && now_ns() < end &&
		       poll_round(t, r, c))
			;
	}
}

/*
 * The end of the records (what is left, a report-only run's totals, the
 * Stats record), then the reports. Returns the total of dropped events.
 */
static unsigned long long report(struct memtrack *t, struct run *r)
{
	struct memtrack_counters counters;
	unsigned long long dropped = 0;
	char msg[512];
	int err;

	err = memtrack_finish(t);
	run_errors(r);
	if (err < 0 && err != -ENOMEM && !r->write_error && !r->out_of_memory)
		fprintf(stderr, "memtrack-load: %s\n", memtrack_last_error(t)->msg);
	err = memtrack_jsonl_close(r->out);
	if (err && !r->write_error)
		r->write_error = err;
	r->out = NULL;
	if (memtrack_read_counters(t, &counters))
		fprintf(stderr, "memtrack-load: %s\n", memtrack_last_error(t)->msg);
	if (report_write(r->summary, r->rep, r->report_out, true, msg, sizeof(msg))) {
		fprintf(stderr, "memtrack-load: %s\n", msg);
		r->report_error = true;
	}
	for (unsigned i = 0; i < MT_DROP_MAX; i++)
		dropped += counters.drops[i];
	return dropped;
}

/*
 * The report outputs, checked before anything starts, so that a path that
 * cannot be written is refused before the command runs, and nothing that
 * is there is changed until the reports are written: the --report-file
 * (which -T writes as it goes) is a temporary file beside it until then.
 */
static int open_report_outputs(const struct report_options *rep, struct run *r)
{
	const char *files[] = { rep->folded, rep->folded_alloc, rep->pprof, rep->massif };
	struct memtrack_error err = { 0 };

	r->report_out = stderr;
	if (rep->report_file) {
		if (report_file_open(rep->report_file, &r->report_file, &err)) {
			fprintf(stderr, "memtrack-load: %s\n", err.msg);
			return EXIT_OUTPUT;
		}
		r->report_out = r->report_file.f;
	}
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		if (files[i] && strcmp(files[i], "-") && memtrack_output_check(files[i], &err)) {
			fprintf(stderr, "memtrack-load: %s\n", err.msg);
			return EXIT_OUTPUT;
		}
	}
	return 0;
}

/*
 * The command's status. If every traced process has exited, so has the
 * command and waitpid() returns at once. Otherwise (after -d) it still
 * runs, untraced: wait for it as a wrapper like time(1) does, unless a
 * signal stopped us.
 */
static int command_status(struct child *c, bool exited)
{
	while (!c->reaped && (exited || !stop_signal)) {
		if (waitpid(c->pid, &c->wstatus, 0) == c->pid)
			c->reaped = true;
		else if (errno != EINTR)
			break;
	}
	if (c->reaped)
		return status_of_wait(c->wstatus);
	return stop_signal ? 128 + stop_signal : EXIT_RUNTIME;
}

/* The trace's Header record, to every output that takes one. */
static int send_header(const struct memtrack_trace_handler *records, const struct cli_options *o)
{
	struct memtrack_header h = {
		.sz = sizeof(h),
		.source = o->usdt ? MEMTRACK_SOURCE_USDT : MEMTRACK_SOURCE_UPROBE,
		.command = (const char *const *)o->argv,
		.pids = o->pids,
		.npids = o->npids,
		.cgroup = o->cgroup,
		.all = o->all,
	};
	int err = memtrack_header_init(&h);

	err = err ?: records->on_header(records->ctx, &h);
	/* a failed output is the tee's to record (its own error, seen at the end) */
	return err == -ENOMEM ? err : 0;
}

int main(int argc, char **argv)
{
	struct cli_options o;
	struct memtrack_error err = { 0 };
	struct memtrack *t = NULL;
	struct run r = { .rep = &o.report, .report_out = stderr };
	struct memtrack_trace_handler records;
	struct child c = { 0 };
	unsigned long long dropped;
	bool all_exited;
	char msg[256], *shim = NULL;
	int status, closed;

	switch (cli_parse(argc, argv, &o, msg, sizeof(msg))) {
	case CLI_DONE:
		return 0;
	case CLI_USAGE:
		fprintf(stderr, "memtrack-load: %s (see memtrack-load --help)\n", msg);
		cli_options_free(&o);
		return EXIT_USAGE;
	case CLI_RUN:
		break;
	}

	/* Refuse an unwritable output before anything starts. */
	if (o.output) {
		r.out = memtrack_jsonl_open(o.output, &err);
		if (!r.out) {
			status = fail(&err);
			goto out;
		}
		r.out_path = o.output;
	}
	status = open_report_outputs(&o.report, &r);
	if (status)
		goto out;
	r.interval_ns = o.interval_ns;
	/* on a terminal; not beside -T's events on the same stream */
	status_line_init(&r.status, o.quiet || (o.report.trace && r.report_out == stderr));
	shown_status = &r.status;
	r.summary = memtrack_summary_new();
	if (!r.summary || report_setup(r.summary, &o.report) || run_outputs(&r)) {
		fprintf(stderr, "memtrack-load: out of memory\n");
		status = EXIT_RUNTIME;
		goto out;
	}

	records = memtrack_tee_handler(r.tee);
	struct memtrack_opts opts = {
		.sz = sizeof(opts),
		.no_children = o.no_children,
		.system_probes = o.system_probes,
		.libbpf_log = true, /* quiet, and shown with -vv */
		.libs = o.libs,
		.ringbuf_size = o.ringbuf_size,
		.handler = &records,
		.log_level = (enum memtrack_log_level)(o.verbose > 2 ? 2 : o.verbose),
		.log = on_log,
		.source = o.usdt ? MEMTRACK_SOURCE_USDT : MEMTRACK_SOURCE_UPROBE,
		.usdt_shim = shim = o.usdt ? find_usdt_shim() : NULL,
		.stack_depth = o.stack_depth,
		.unwind = o.dwarf ? MEMTRACK_UNWIND_DWARF : MEMTRACK_UNWIND_FP,
		.free_stacks = o.free_stacks,
		.max_stacks = o.max_stacks,
		/* reports only: the kernel keeps the totals, no event crosses over */
		.aggregate = cli_report_only(&o),
		.max_live = o.max_live,
		.min_size = o.report.min_size,
		.max_size = o.report.max_size,
		.mmap = o.mmap,
		.cgroup = o.cgroup,
		.all = o.all,
		.event_cgroups = o.cgroup_ids,
	};
	if (memtrack_open(&opts, &t, &err)) {
		status = fail(&err);
		goto out;
	}
	/* before any record, now that the run will happen: what it is of */
	if (send_header(&records, &o)) {
		fprintf(stderr, "memtrack-load: out of memory\n");
		status = EXIT_RUNTIME;
		goto out;
	}
	install_signal_handlers();
	if (o.argv) {
		struct memtrack_spawn_opts so = { 0 };

		if (!spawn_options(&so, o.output)) {
			status = EXIT_USAGE;
			goto out;
		}
		if (memtrack_spawn(t, o.argv, &so, &c.pid)) {
			status = fail(memtrack_last_error(t));
			goto out;
		}
	}
	if ((o.cgroup || o.all) && memtrack_add_scope(t) < 0) {
		status = fail(memtrack_last_error(t));
		goto out;
	}
	for (size_t i = 0; i < o.npids; i++) {
		if (memtrack_add_pid(t, o.pids[i])) {
			status = fail(memtrack_last_error(t));
			goto out;
		}
	}

	trace_loop(t, &r, &c, o.duration, o.cgroup || o.all);
	dropped = report(t, &r);
	/* the reports are whole: the --report-file takes its path's place now */
	closed = report_file_close(&r.report_file, r.report_error ? -EIO : 0);
	if (closed && !r.report_error) {
		fprintf(stderr, "memtrack-load: cannot write %s: %s\n", o.report.report_file,
			strerror(-closed));
		r.report_error = true;
	}
	all_exited = memtrack_tracked_count(t) == 0;
	memtrack_close(t); /* detach now: the command may run on after -d */
	t = NULL;

	/* Say what went wrong now, not after an untraced command has finished. */
	if (r.out_of_memory)
		fprintf(stderr, "memtrack-load: out of memory: the summary is incomplete\n");
	else if (r.write_error)
		fprintf(stderr, "memtrack-load: cannot write %s: %s\n",
			strcmp(r.out_path, "-") ? r.out_path : "standard output",
			strerror(-r.write_error));
	status = c.pid > 0 ? command_status(&c, all_exited) : 0;
	if (r.report_error && !r.out_of_memory && !r.write_error)
		fprintf(stderr, "memtrack-load: the reports could not be written in full\n");
	if (r.out_of_memory || r.write_error || r.report_error) {
		status = EXIT_RUNTIME;
	} else if (o.strict && dropped && status == 0) {
		fprintf(stderr, "memtrack-load: %llu events were dropped (--strict)\n", dropped);
		status = EXIT_DROPPED;
	} else if (status == 0 &&
		   report_leaked_too_much(r.summary, &o.report, "memtrack-load", stderr)) {
		status = EXIT_LEAKED;
	}
out:
	memtrack_close(t);
	memtrack_jsonl_close(r.out);
	memtrack_event_printer_free(r.printer);
	memtrack_tee_free(r.tee);
	memtrack_summary_free(r.summary);
	report_file_close(&r.report_file, -ECANCELED); /* a refused run: what was there stays */
	cli_options_free(&o);
	free(shim);
	return status;
}
