// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * memtrack-load: trace a command's (or running processes') heap
 * allocations. A thin client of libmemtrack: parse options, open a
 * tracker, start or attach, poll until the traced processes are gone (or
 * -d, or a signal), then write the Stats record and the summary.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli_options.h"
#include "memtrack.h"

/* Exit statuses (README, memtrack-load(1)). */
enum {
	EXIT_RUNTIME = 1,
	EXIT_USAGE = 2,
	EXIT_NO_PROCESS = 3,
	EXIT_NO_BPF = 4,
	EXIT_NO_ALLOCATOR = 5,
	EXIT_OUTPUT = 6,
	EXIT_DROPPED = 7,
	EXIT_NOT_EXEC = 126,
	EXIT_NOT_FOUND = 127,
};

#define POLL_MS 100
/* After Ctrl-C, how long the command gets to finish before we report without it. */
#define SIGNAL_GRACE_MS 1000

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

/* Handlers, not SIG_IGN: the command gets default dispositions back at exec. */
static void install_signal_handlers(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	/* A closed stdout reader: write() fails with EPIPE and we stop cleanly. */
	sigaction(SIGPIPE, &sa, NULL);
}

struct run {
	struct memtrack_jsonl *out;
	const char *out_path;
	struct memtrack_summary *summary;
	int write_error;
	int verbose;
};

static int on_event(void *ctx, const union mt_event *ev)
{
	struct run *r = ctx;

	if (r->out && !r->write_error)
		r->write_error = memtrack_jsonl_write_event(r->out, ev);
	if (memtrack_summary_add(r->summary, ev))
		r->write_error = -ENOMEM;
	return 0;
}

static void on_log(void *ctx, enum memtrack_log_level level, const char *msg)
{
	(void)ctx;
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

/* The traced command runs as the user who ran sudo, as it would without it. */
static void sudo_identity(struct memtrack_spawn_opts *so)
{
	const char *uid = getenv("SUDO_UID"), *gid = getenv("SUDO_GID");

	so->uid = (uid_t)-1;
	so->gid = (gid_t)-1;
	if (geteuid() != 0 || !uid || !gid)
		return;
	so->uid = (uid_t)strtoul(uid, NULL, 10);
	so->gid = (gid_t)strtoul(gid, NULL, 10);
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

/* Poll until every traced process has exited, the duration is over, a signal, or an error. */
static void trace_loop(struct memtrack *t, struct run *r, struct child *c, double duration)
{
	unsigned long long deadline = duration > 0 ? now_ns() + (unsigned long long)(duration * 1e9)
						   : 0;

	while (!stop_signal && !r->write_error) {
		if (memtrack_poll(t, POLL_MS) < 0) {
			fprintf(stderr, "memtrack-load: %s\n", memtrack_last_error(t)->msg);
			break;
		}
		if (r->out && !r->write_error)
			r->write_error = memtrack_jsonl_flush(r->out);
		reap(c, WNOHANG);
		if (memtrack_tracked_count(t) == 0)
			break;
		if (deadline && now_ns() >= deadline)
			break;
	}
}

static int finish(struct memtrack *t, struct run *r, struct child *c, bool strict)
{
	struct memtrack_counters counters;
	unsigned long long dropped = 0;
	int status = 0;

	memtrack_drain(t);
	if (memtrack_read_counters(t, &counters))
		fprintf(stderr, "memtrack-load: %s\n", memtrack_last_error(t)->msg);
	if (r->out && !r->write_error)
		r->write_error = memtrack_jsonl_write_stats(r->out, &counters, now_ns());
	if (memtrack_jsonl_close(r->out) && !r->write_error)
		r->write_error = -EIO;
	r->out = NULL;
	memtrack_summary_print(r->summary, &counters, stderr);

	if (c->pid > 0 && stop_signal && stop_signal != SIGPIPE) {
		/* Ctrl-C reaches the command too: give it a moment to finish. */
		for (int waited = 0; waited < SIGNAL_GRACE_MS && !c->reaped; waited += 10) {
			usleep(10000);
			reap(c, WNOHANG);
		}
		status = c->reaped ? status_of_wait(c->wstatus) : 128 + stop_signal;
	} else if (c->pid > 0) {
		if (memtrack_tracked_count(t) == 0)
			reap(c, 0);
		status = c->reaped ? status_of_wait(c->wstatus) : 0;
	}
	if (r->write_error) {
		fprintf(stderr, "memtrack-load: cannot write %s: %s\n",
			strcmp(r->out_path, "-") ? r->out_path : "standard output",
			strerror(-r->write_error));
		return EXIT_RUNTIME;
	}
	for (unsigned i = 0; i < MT_DROP_MAX; i++)
		dropped += counters.drops[i];
	if (strict && dropped && status == 0) {
		fprintf(stderr, "memtrack-load: %llu events were dropped (--strict)\n", dropped);
		return EXIT_DROPPED;
	}
	return status;
}

int main(int argc, char **argv)
{
	struct cli_options o;
	struct memtrack_error err = { 0 };
	struct memtrack *t = NULL;
	struct run r = { 0 };
	struct child c = { 0 };
	char msg[256];
	int status;

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
	r.summary = memtrack_summary_new();
	if (!r.summary) {
		fprintf(stderr, "memtrack-load: out of memory\n");
		status = EXIT_RUNTIME;
		goto out;
	}

	struct memtrack_opts opts = {
		.sz = sizeof(opts),
		.no_children = o.no_children,
		.libs = o.libs,
		.ringbuf_size = o.ringbuf_size,
		.on_event = on_event,
		.event_ctx = &r,
		.log_level = (enum memtrack_log_level)(o.verbose > 2 ? 2 : o.verbose),
		.log = on_log,
	};
	if (memtrack_open(&opts, &t, &err)) {
		status = fail(&err);
		goto out;
	}
	install_signal_handlers();
	if (o.argv) {
		struct memtrack_spawn_opts so = { .sz = sizeof(so) };

		sudo_identity(&so);
		if (memtrack_spawn(t, o.argv, &so, &c.pid)) {
			status = fail(memtrack_last_error(t));
			goto out;
		}
	}
	for (size_t i = 0; i < o.npids; i++) {
		if (memtrack_add_pid(t, o.pids[i])) {
			status = fail(memtrack_last_error(t));
			goto out;
		}
	}
	trace_loop(t, &r, &c, o.duration);
	status = finish(t, &r, &c, o.strict);
out:
	memtrack_close(t);
	memtrack_jsonl_close(r.out);
	memtrack_summary_free(r.summary);
	cli_options_free(&o);
	return status;
}
