// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* What memtrack-load writes: JSONL on stdout with -o -, and the summary on stderr. */
#include <dirent.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_support.h"

extern char **environ;

/* Read all of fd into buf (NUL-terminated); the length. */
static size_t read_all(int fd, char *buf, size_t size)
{
	size_t len = 0;
	ssize_t n;

	while (len + 1 < size && (n = read(fd, buf + len, size - len - 1)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	return len;
}

/*
 * -o - puts only JSONL on stdout: every line parses, the first is the
 * Header (what was traced, and the clock anchor), the last is Stats.
 */
static void test_jsonl_on_stdout(void **state)
{
	const char *argv[] = { build_path("memtrack-load"), "-o", "-", "--",
			       build_path("tests/fixtures/reuse"), NULL };
	char out[65536], *line, *save = NULL;
	struct json_object *last = NULL, *command;
	int events = 0, stacks = 0, mappings = 0, headers = 0;
	struct timespec mono, real;

	(void)state;
	REQUIRE_BPF();
	/* stderr (the summary) is captured too: keep only lines that start with '{' */
	assert_int_equal(run_capture(argv, out, sizeof(out)), 0);
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		const char *type;

		if (line[0] != '{')
			continue;
		if (last)
			json_object_put(last);
		last = json_tokener_parse(line);
		assert_non_null(last);
		type = jstr(last, "type");
		assert_non_null(type);
		if (strcmp(type, "Header") == 0) {
			assert_int_equal(events + stacks + mappings + headers++, 0);
			clock_gettime(CLOCK_MONOTONIC, &mono);
			clock_gettime(CLOCK_REALTIME, &real);
			assert_string_equal(jstr(last, "schema"), "1.0");
			assert_string_equal(jstr(last, "source"), "uprobe");
			assert_true(json_object_object_get_ex(last, "command", &command));
			assert_string_equal(json_object_get_string(json_object_array_get_idx(command, 0)),
					    argv[4]);
			assert_non_null(jstr(last, "host"));
			assert_non_null(jstr(last, "kernel"));
			/* the anchor: the two clocks' difference then is their difference now */
			assert_true(llabs((jint(last, "realtime_sec") - jint(last, "monotonic_ns") / 1000000000) -
					  (real.tv_sec - mono.tv_sec)) <= 2);
		} else if (strcmp(type, "Stack") == 0)
			stacks++;
		else if (strcmp(type, "Mapping") == 0)
			mappings++;
		else if (strcmp(type, "Stats") != 0)
			events++;
	}
	assert_int_equal(headers, 1);
	/* Exec, Malloc, Free, Malloc (the same stack), Free, Exit */
	assert_int_equal(events, 6);
	assert_int_equal(stacks, 2); /* the two malloc calls; the frees take none */
	/* the program, ld.so, libc: files, each mapped executable once */
	assert_int_equal(mappings, 3);
	assert_string_equal(jstr(last, "type"), "Stats");
	assert_int_equal(jint(last, "events"), 6);
	json_object_put(last);
}

/* The summary row of a known fixture, column by column. */
static void test_summary_columns(void **state)
{
	const char *cmd[] = { build_path("tests/fixtures/malloc_free"), NULL };
	char row[256], comm[32];
	unsigned long long allocs, frees, live, alloc, freed, real, peak, req;
	char oldest[16], avg_age[16];
	struct trace tr;
	long pid, ppid;
	const char *p;
	char status[16];

	(void)state;
	REQUIRE_BPF();
	trace_run(&tr, NULL, cmd);
	assert_int_equal(tr.status, 0);
	pid = trace_exec_pid(&tr, "malloc_free");
	assert_non_null(strstr(tr.err, "PID     PPID    Allocs     Frees     Live        Alloc"
				       "         Free         Real     Real.max      Req.max   Oldest"
				       "   AvgAge   Exit  Comm"));
	snprintf(row, sizeof(row), "\n%8ld ", pid);
	p = strstr(tr.err, row);
	assert_non_null(p);
	assert_int_equal(sscanf(p, "%ld %ld %llu %llu %llu %llu %llu %llu %llu %llu %15s %15s %15s %31s",
				&pid, &ppid, &allocs, &frees, &live, &alloc, &freed, &real, &peak,
				&req, oldest, avg_age, status, comm),
			 14);
	/* 100 + 200, then 1000..1099 all live at once */
	assert_int_equal(allocs, 102);
	assert_int_equal(frees, 102);
	assert_int_equal(alloc, 300 + 104950);
	assert_int_equal(freed, alloc);
	assert_int_equal(real, 0);
	assert_int_equal(live, 0);
	assert_string_equal(oldest, "-"); /* no block is live: no age */
	assert_string_equal(avg_age, "-");
	assert_int_equal(peak, 104950);
	assert_int_equal(req, 1099);
	assert_string_equal(status, "0");
	assert_string_equal(comm, "malloc_free");
	assert_non_null(strstr(tr.err, "memtrack: 0 events dropped (ringbuf_full 0, map_full 0, "
				       "no_memory 0, read_fault 0, lost_return 0, stack_full 0, other 0)"));
	trace_free(&tr);
}

/* With -o -, the command's own stdout goes to stderr, so that stdout is pure JSONL. */
static void test_command_output_moves_to_stderr(void **state)
{
	const char *argv[] = { build_path("memtrack-load"), "-o", "-", "--", "/bin/echo",
			       "hello from the command", NULL };
	posix_spawn_file_actions_t fa;
	char out[65536], err[8192], *line, *save = NULL;
	int outp[2], errp[2], wstatus;
	pid_t pid;

	(void)state;
	REQUIRE_BPF();
	assert_int_equal(pipe(outp), 0);
	assert_int_equal(pipe(errp), 0);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, outp[1], STDOUT_FILENO);
	posix_spawn_file_actions_adddup2(&fa, errp[1], STDERR_FILENO);
	assert_int_equal(posix_spawn(&pid, argv[0], &fa, NULL, (char *const *)argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	close(outp[1]);
	close(errp[1]);
	read_all(outp[0], out, sizeof(out)); /* small enough for stderr's pipe meanwhile */
	read_all(errp[0], err, sizeof(err));
	close(outp[0]);
	close(errp[0]);
	assert_int_equal(waitpid(pid, &wstatus, 0), pid);
	assert_int_equal(WEXITSTATUS(wstatus), 0);

	assert_non_null(strstr(err, "hello from the command"));
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct json_object *o = json_tokener_parse(line);

		if (!o)
			fail_msg("stdout has a line that is not JSON: %s", line);
		json_object_put(o);
	}
}

/*
 * The disk fills up mid-run: memtrack-load fails with the real reason, and
 * the file it leaves holds whole lines only.
 */
static void test_full_disk_leaves_whole_lines(void **state)
{
	char dir[] = "/tmp/memtrack-full-XXXXXX", path[64], *text, *line, *save = NULL;
	const char *argv[] = { build_path("memtrack-load"), "-o", path, "--",
			       build_path("tests/fixtures/malloc_free"), NULL };
	char out[8192];
	size_t lines = 0;
	FILE *f;
	long len;

	(void)state;
	REQUIRE_BPF();
	assert_non_null(mkdtemp(dir));
	/* 16 KiB: less than the ~25 KiB of JSONL the fixture makes */
	if (mount("tmpfs", dir, "tmpfs", 0, "size=16k"))
		fail_msg("cannot mount a tmpfs on %s", dir);
	snprintf(path, sizeof(path), "%s/ev.jsonl", dir);
	assert_int_equal(run_capture(argv, out, sizeof(out)), 1);
	assert_non_null(strstr(out, "cannot write"));
	assert_non_null(strstr(out, "No space left on device"));

	f = fopen(path, "r");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	assert_true(len > 0);
	text = calloc(1, (size_t)len + 1);
	assert_int_equal(fread(text, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	assert_int_equal(text[len - 1], '\n');
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct json_object *o = json_tokener_parse(line);

		if (!o)
			fail_msg("line %zu is not whole JSON: %s", lines + 1, line);
		json_object_put(o);
		lines++;
	}
	assert_true(lines > 10);
	free(text);
	umount(dir);
	rmdir(dir);
}

/* The outputs of test_refused_runs_change_nothing, in dir: name, and what it holds before. */
static const char *const kept_outputs[] = { "keep.jsonl", "report.txt", "stacks.folded",
					    "heap.pb.gz" };

static void outputs_prepare(const char *dir)
{
	char path[128];

	for (size_t i = 0; i < 4; i++) {
		FILE *f;

		snprintf(path, sizeof(path), "%s/%s", dir, kept_outputs[i]);
		f = fopen(path, "w");
		assert_non_null(f);
		fprintf(f, "precious %s\n", kept_outputs[i]);
		assert_int_equal(fclose(f), 0);
	}
}

/* Each output as it was, and nothing else in dir (no temporary file, no new output). */
static void outputs_unchanged(const char *dir, const char *what)
{
	char path[128], text[128], want[128];
	struct dirent *e;
	size_t entries = 0;
	DIR *d;

	for (size_t i = 0; i < 4; i++) {
		FILE *f;
		size_t n;

		snprintf(path, sizeof(path), "%s/%s", dir, kept_outputs[i]);
		f = fopen(path, "r");
		if (!f)
			fail_msg("%s removed %s", what, kept_outputs[i]);
		n = fread(text, 1, sizeof(text) - 1, f);
		text[n] = '\0';
		fclose(f);
		snprintf(want, sizeof(want), "precious %s\n", kept_outputs[i]);
		if (strcmp(text, want))
			fail_msg("%s changed %s: \"%s\"", what, kept_outputs[i], text);
	}
	d = opendir(dir);
	assert_non_null(d);
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			entries++;
	closedir(d);
	if (entries != 4)
		fail_msg("%s left %zu files in %s, not 4", what, entries, dir);
}

/*
 * A run refused before it traces (a bad option value, a command that does
 * not exist, a PID that does not) or a report of a damaged trace changes
 * no output that was there and makes none that was not: outputs are
 * checked at the start, but written (or put in place) only by a run.
 */
static void test_refused_runs_change_nothing(void **state)
{
	char dir[] = "/tmp/memtrack-kept-XXXXXX", jsonl[96], rep[96], folded[96], pprof[96],
	     bad[128], fresh[96];
	const char *outputs[] = { "-o", jsonl, "--report-file", rep, "--folded", folded,
				  "--pprof", pprof };
	struct {
		const char *what, *args[3];
		int status;
	} refused[] = {
		{ "--ringbuf-size 1", { "--ringbuf-size", "1", NULL }, 2 },
		{ "a missing command", { "--", "/nonexistent/command", NULL }, 127 },
		{ "a missing PID", { "-p", "2147483646", NULL }, 3 },
	};
	const char *argv[16];
	struct output o;
	FILE *f;

	(void)state;
	REQUIRE_BPF();
	assert_non_null(mkdtemp(dir));
	snprintf(jsonl, sizeof(jsonl), "%s/%s", dir, kept_outputs[0]);
	snprintf(rep, sizeof(rep), "%s/%s", dir, kept_outputs[1]);
	snprintf(folded, sizeof(folded), "%s/%s", dir, kept_outputs[2]);
	snprintf(pprof, sizeof(pprof), "%s/%s", dir, kept_outputs[3]);
	outputs_prepare(dir);
	for (size_t k = 0; k < sizeof(refused) / sizeof(refused[0]); k++) {
		size_t n = 0;

		argv[n++] = build_path("memtrack-load");
		for (size_t i = 0; i < 8; i++)
			argv[n++] = outputs[i];
		for (size_t i = 0; refused[k].args[i]; i++)
			argv[n++] = refused[k].args[i];
		argv[n] = NULL;
		run_io(argv, NULL, NULL, 0, &o);
		if (o.status != refused[k].status)
			fail_msg("%s: exit %d, not %d: %s", refused[k].what, o.status,
				 refused[k].status, o.err);
		output_free(&o);
		outputs_unchanged(dir, refused[k].what);
	}

	/* memtrack-report of a trace damaged at its first line */
	snprintf(bad, sizeof(bad), "%s/../%s-bad.jsonl", dir, strrchr(dir, '/') + 1);
	f = fopen(bad, "w");
	assert_non_null(f);
	fputs("{\"type\":\"Malloc\",\"pid\":0}\n", f);
	assert_int_equal(fclose(f), 0);
	{
		const char *report[] = { build_path("memtrack-report"), "-T", "--report-file", rep,
					 "--folded", folded, "--pprof", pprof, bad, NULL };

		run_io(report, NULL, NULL, 0, &o);
		assert_int_equal(o.status, 8);
		output_free(&o);
		outputs_unchanged(dir, "memtrack-report of a damaged trace");
	}
	unlink(bad);

	/* and an output that was not there is not made by a refused run */
	snprintf(fresh, sizeof(fresh), "%s/fresh.jsonl", dir);
	{
		const char *load[] = { build_path("memtrack-load"), "-o", fresh, "--ringbuf-size",
				       "1", NULL };

		run_io(load, NULL, NULL, 0, &o);
		assert_int_equal(o.status, 2);
		output_free(&o);
		assert_int_equal(access(fresh, F_OK), -1);
	}
	for (size_t i = 0; i < 4; i++) {
		char path[128];

		snprintf(path, sizeof(path), "%s/%s", dir, kept_outputs[i]);
		unlink(path);
	}
	rmdir(dir);
}

/*
 * A stack walk cut short is counted by reason in the Stats record: with
 * --stack-depth 2, leak_sites' allocations (three frames and more, with
 * frame pointers) are cut at the depth, and no stack has more than two
 * frames; with the default depth none is cut there.
 */
static void test_stack_cuts_are_counted(void **state)
{
	const char *cmd[] = { build_path("tests/fixtures/leak_sites"), NULL };
	const char *shallow[] = { "--stack-depth", "2", NULL };
	struct json_object *cuts, *frames;
	struct trace tr;

	(void)state;
	REQUIRE_BPF();
	trace_run(&tr, shallow, cmd);
	assert_int_equal(tr.status, 0);
	assert_true(json_object_object_get_ex(trace_stats(&tr), "stack_cuts", &cuts));
	assert_true(jint(cuts, "depth") > 0);
	for (size_t i = 0; i < tr.nev; i++)
		if (!strcmp(jstr(tr.ev[i], "type"), "Stack") &&
		    json_object_object_get_ex(tr.ev[i], "frames", &frames))
			assert_true(json_object_array_length(frames) <= 2);
	assert_non_null(strstr(tr.err, "stack walks cut short (depth "));
	trace_free(&tr);

	trace_run(&tr, NULL, cmd);
	assert_int_equal(tr.status, 0);
	assert_true(json_object_object_get_ex(trace_stats(&tr), "stack_cuts", &cuts));
	assert_int_equal(jint(cuts, "depth"), 0);
	trace_free(&tr);
}

/*
 * A real interpreter's trace names each mapping of each process once, and
 * each stack once: the records a reader needs, before the first event
 * that needs them, and no more (a trace of python3 once held each of its
 * mappings about 470 times; and a mapping whose kernel record was stamped
 * after an allocation that ran code in it was read from /proc as well).
 */
/* A stack's id: 64 bits, past what jint() (a signed integer) can hold. */
static unsigned long long stack_id(struct json_object *o)
{
	struct json_object *id;

	return json_object_object_get_ex(o, "id", &id) ? json_object_get_uint64(id) : 0;
}

static void test_each_mapping_and_stack_once(void **state)
{
	/* C extensions dlopen'd while it runs: mappings whose kernel records come late */
	const char *cmd[] = { "/usr/bin/python3", "-c",
			      "import json, decimal, sqlite3, ssl; "
			      "print(len(json.dumps(list(range(5000)))))",
			      NULL };
	struct trace tr;
	size_t mappings = 0, stacks = 0;

	(void)state;
	REQUIRE_BPF();
	trace_run(&tr, NULL, cmd);
	assert_int_equal(tr.status, 0);
	for (size_t i = 0; i < tr.nev; i++) {
		const char *type = jstr(tr.ev[i], "type");
		bool mapping = !strcmp(type, "Mapping"), stack = !strcmp(type, "Stack");

		if (!mapping && !stack)
			continue;
		mappings += mapping;
		stacks += stack;
		for (size_t k = 0; k < i; k++) {
			if (strcmp(jstr(tr.ev[k], "type"), type))
				continue;
			if (stack && stack_id(tr.ev[k]) == stack_id(tr.ev[i]))
				fail_msg("stack %llu written twice", stack_id(tr.ev[i]));
			if (mapping && jint(tr.ev[k], "pid") == jint(tr.ev[i], "pid") &&
			    jint(tr.ev[k], "start") == jint(tr.ev[i], "start") &&
			    !strcmp(jstr(tr.ev[k], "path"), jstr(tr.ev[i], "path")))
				fail_msg("mapping of %s at %lld in %lld written twice",
					 jstr(tr.ev[i], "path"), jint(tr.ev[i], "start"),
					 jint(tr.ev[i], "pid"));
		}
	}
	assert_true(mappings > 0 && stacks > 0);
	trace_free(&tr);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_jsonl_on_stdout),
		cmocka_unit_test(test_summary_columns),
		cmocka_unit_test(test_command_output_moves_to_stderr),
		cmocka_unit_test(test_full_disk_leaves_whole_lines),
		cmocka_unit_test(test_refused_runs_change_nothing),
		cmocka_unit_test(test_stack_cuts_are_counted),
		cmocka_unit_test(test_each_mapping_and_stack_once),
	};

	return cmocka_run_group_tests_name("output", tests, NULL, NULL);
}
