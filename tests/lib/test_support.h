/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What the tests share: cmocka, running memtrack-load on a fixture and
 * reading back its JSONL, and the rule that a test needing BPF skips with
 * a reason outside CI but fails inside it.
 */
#ifndef MEMTRACK_TEST_SUPPORT_H
#define MEMTRACK_TEST_SUPPORT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <cmocka.h>
#include <json-c/json.h>

/* $BUILD/rel (BUILD defaults to "build"); a fresh string each call, freed at exit. */
const char *build_path(const char *rel);

/*
 * Whether a test should hold its time bounds: not when MEMTRACK_TEST_UNTIMED
 * is set, as test_real_suites sets it for the unit tests it runs traced,
 * where each allocator call costs microseconds more on purpose. The work
 * and its results are checked all the same.
 */
bool time_bounds_checked(void);

/*
 * The CPU time this process has spent in user space, in seconds: what a
 * time bound measures. Not wall time, which other work on a busy machine
 * stretches; not system time either, since another tracer probing every
 * process's malloc (a second test run) makes each call trap into the kernel.
 */
double user_cpu_seconds(void);

/* Why BPF tracing cannot run here, or NULL if it can. */
const char *bpf_unavailable_reason(void);

#define REQUIRE_BPF()                                                                   \
	do {                                                                            \
		const char *why_ = bpf_unavailable_reason();                            \
		if (why_) {                                                             \
			if (getenv("CI"))                                               \
				fail_msg("BPF is required under CI, but %s", why_);     \
			print_message("skipped: %s\n", why_);                           \
			skip();                                                         \
		}                                                                       \
	} while (0)

/*
 * A test that must hold for both event sources, run once with each: the
 * test's state is the source's name, for memtrack-load --source.
 */
#define BOTH_SOURCES(f)                                                                    \
	{ #f "[uprobe]", f, NULL, NULL, (void *)"uprobe" },                                \
	{                                                                                  \
		#f "[usdt]", f, NULL, NULL, (void *)"usdt"                                 \
	}
#define SOURCE_OF(state) ((const char *)*(state))
#define IS_USDT(state) (strcmp(SOURCE_OF(state), "usdt") == 0)

/* One run of memtrack-load. */
struct trace {
	pid_t pid;		 /* memtrack-load itself, while it runs */
	int err_fd;		 /* read end of its stderr, while it runs */
	int status;		 /* its exit status (128+N if signal N killed it) */
	char *err;		 /* everything it wrote on stderr */
	size_t err_len;
	char out_path[64];	 /* the JSONL file given with -o */
	struct json_object **ev; /* every line of it, parsed */
	size_t nev;
};

/* trace_start flags */
#define TRACE_OWN_GROUP 1 /* in a process group of its own, as a shell job: kill(-tr->pid) */
/*
 * Report-only: no "-o FILE", no events (the kernel keeps the totals; the
 * reports are in tr->err). For runs that see the whole machine (-a), whose
 * events a busy machine makes too many to stream and parse.
 */
#define TRACE_NO_EVENTS 2

/*
 * Start memtrack-load with opts (NULL-terminated; "-o FILE" is added) and,
 * if cmd is not NULL, "--" and cmd. stdin_fd, if >= 0, becomes its stdin.
 */
void trace_start(struct trace *tr, const char *const *opts, const char *const *cmd, int stdin_fd,
		 int flags);
/* Read its stderr until text appears (fails the test after timeout_ms). */
void trace_wait_stderr(struct trace *tr, const char *text, int timeout_ms);
/* The same, but false after timeout_ms instead of failing. */
bool trace_stderr_within(struct trace *tr, const char *text, int timeout_ms);
/* Wait for it to exit, then read its stderr and JSONL. */
void trace_finish(struct trace *tr);
/* trace_start + trace_finish. */
void trace_run(struct trace *tr, const char *const *opts, const char *const *cmd);
void trace_free(struct trace *tr);

/*
 * trace_run, which must succeed (exit status 0; else the test fails with
 * memtrack-load's stderr); the pid of the command, from its Exec event.
 */
long trace_command(struct trace *tr, const char *const *opts, const char *const *cmd);

/* The first child parent forked, from its Fork event; -1 if none. */
long trace_child_of(const struct trace *tr, long parent);
/* The pid of the first Exec event whose filename ends with suffix, or -1. */
long trace_exec_pid(const struct trace *tr, const char *suffix);
/* The first event of this type (and pid, unless pid is -1), or NULL. */
struct json_object *trace_find(const struct trace *tr, const char *type, long pid);
size_t trace_count(const struct trace *tr, const char *type, long pid);
/* The closing Stats record, or NULL if the last line is not one. */
struct json_object *trace_stats(const struct trace *tr);
/*
 * A --json report memtrack-load wrote to stderr: the line that begins
 * {"report":"NAME", parsed (the caller puts it); the test fails without one.
 */
struct json_object *trace_report(const struct trace *tr, const char *name);

/*
 * One process's (and, if tid > 0, one thread's) allocation events as text,
 * space-separated: "Malloc:100 Free Calloc:400 Realloc:1000 AlignedAlloc:512@128".
 * Freed by the caller.
 */
char *trace_sequence(const struct trace *tr, long pid, long tid);
/*
 * The same for a program: the calls of the first process that exec'd a file
 * whose name ends with suffix, from that Exec to its next. What a shell's
 * child does between its fork and its exec is the shell's (dash allocates
 * there, or not, depending on the sizes of its environment and command line).
 */
char *trace_program_sequence(const struct trace *tr, const char *suffix);
/* The same, with the func of every Realloc and AlignedAlloc: "realloc aligned_alloc ...". */
char *trace_funcs(const struct trace *tr, long pid);

/*
 * Replay one process's events by address: every Free and Realloc must
 * release a block that process holds. Returns the blocks still held at the
 * end; fails the test on a release of an unknown block.
 */
long trace_check_blocks(const struct trace *tr, long pid);

/* An integer field (-1 if absent) and a string field (NULL if absent). */
long long jint(struct json_object *o, const char *key);
const char *jstr(struct json_object *o, const char *key);

/* The number of the first line of the file at path that holds marker (fails the test if none). */
int source_line(const char *path, const char *marker);

/*
 * Start argv (with our environment) reading its stdin from a new pipe, so
 * that a fixture can wait there until released: its pid; *go_fd is the
 * pipe's write end (write a byte to release it, close it when done).
 */
pid_t spawn_waiting(const char *const *argv, int *go_fd);

/* Run a command to completion, stdout and stderr to /dev/null; its exit status. */
int run_quiet(const char *const *argv);
/* Run a command to completion, its stdout and stderr (together) into out; its exit status. */
int run_capture(const char *const *argv, char *out, size_t size);

/* A command's output, kept apart. */
struct output {
	char *out, *err; /* NUL-terminated, but may hold NULs: use the lengths */
	size_t out_len, err_len;
	int status;
};

/*
 * Run argv with environment envp (NULL: ours) and input on its stdin, until
 * it exits; its stdout and stderr into o (free with output_free).
 */
void run_io(const char *const *argv, char *const *envp, const char *input, size_t input_len,
	    struct output *o);
void output_free(struct output *o);

#endif /* MEMTRACK_TEST_SUPPORT_H */
