// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The reports, live (memtrack-load) and from a trace after the process is
 * gone (memtrack-report), on tests/fixtures/leak_sites: its leaks are at
 * lines marked LEAK_* in its source, with known bytes and counts.
 */
#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "test_support.h"

#define FIXTURE_SRC "tests/fixtures/leak_sites.c"

/* The line of the fixture's source that holds marker. */
static int marker_line(const char *marker)
{
	return source_line(FIXTURE_SRC, marker);
}

/* "leak_sites.c:LINE" for a marker. */
static const char *source_of(const char *marker, char *buf, size_t size)
{
	snprintf(buf, size, "leak_sites.c:%d)", marker_line(marker));
	return buf;
}

/*
 * The text of one leak group, from its "BYTES bytes in N block(s) from"
 * line to the next line that is not a frame; NULL if there is none.
 */
static char *leak_group(const char *report, unsigned bytes, unsigned blocks)
{
	char head[128];
	const char *p, *end;

	snprintf(head, sizeof(head), "\n%u bytes in %u block%s from pid ", bytes, blocks,
		 blocks == 1 ? "" : "s");
	p = strstr(report, head);
	if (!p)
		return NULL;
	p++;
	end = strchr(p, '\n');
	while (end && end[1] == '\t')
		end = strchr(end + 1, '\n');
	return strndup(p, end ? (size_t)(end - p) : strlen(p));
}

/* The group's first frame line (after its head line). */
static const char *first_frame(const char *group)
{
	const char *nl = strchr(group, '\n');

	assert_non_null(nl);
	return nl + 2;
}

static bool line_starts(const char *line, const char *prefix)
{
	return strncmp(line, prefix, strlen(prefix)) == 0;
}

/* The fixture's four leaks, as a text --leaks report shows them. */
static void check_leaks_text(const char *report)
{
	char where[64], *g;
	const char *frame;

	assert_non_null(strstr(report, "memtrack: 5820 bytes in 7 blocks still live, from 4 "
					"locations in 1 process\n"));
	g = leak_group(report, 4096, 1);
	assert_non_null(g);
	frame = first_frame(g);
	assert_true(line_starts(frame, "leak_big+0x"));
	assert_non_null(strstr(frame, source_of("LEAK_BIG", where, sizeof(where))));
	free(g);

	g = leak_group(report, 1024, 1); /* the realloc chain: only its last block */
	assert_non_null(g);
	frame = first_frame(g);
	assert_true(line_starts(frame, "leak_grown+0x"));
	assert_non_null(strstr(frame, source_of("LEAK_GROWN", where, sizeof(where))));
	free(g);

	g = leak_group(report, 400, 2); /* calloc in an inlined helper */
	assert_non_null(g);
	frame = first_frame(g);
	assert_true(line_starts(frame, "[inlined] zeroed ("));
	assert_non_null(strstr(frame, source_of("LEAK_ZEROED", where, sizeof(where))));
	assert_non_null(strstr(frame, "\n\tleak_zeroed+0x"));
	free(g);

	g = leak_group(report, 300, 3);
	assert_non_null(g);
	frame = first_frame(g);
	assert_true(line_starts(frame, "leak_small+0x"));
	assert_non_null(strstr(frame, source_of("LEAK_SMALL", where, sizeof(where))));
	free(g);

	/* most bytes first */
	assert_true(strstr(report, "\n4096 bytes") < strstr(report, "\n1024 bytes"));
	assert_true(strstr(report, "\n1024 bytes") < strstr(report, "\n400 bytes"));
	assert_true(strstr(report, "\n400 bytes") < strstr(report, "\n300 bytes"));
	/* freed blocks, reused addresses and released realloc chains are no leak */
	assert_null(strstr(report, "churn"));
}

/* Trace the fixture (stripped, nodebug: a variant) with opts; its JSONL stays in tr. */
static void trace_fixture(struct trace *tr, const char *variant, const char *const *opts)
{
	char rel[128];
	const char *cmd[2];

	snprintf(rel, sizeof(rel), "tests/fixtures/leak_sites%s%s", variant ? "." : "",
		 variant ? variant : "");
	cmd[0] = build_path(rel);
	cmd[1] = NULL;
	trace_run(tr, opts, cmd);
	assert_int_equal(tr->status, 0);
}

/* memtrack-report with args (NULL-terminated), the trace file last. */
static void report(struct output *o, const char *trace, const char *const *args)
{
	const char *argv[32];
	int n = 0;

	argv[n++] = build_path("memtrack-report");
	for (size_t i = 0; args && args[i]; i++)
		argv[n++] = args[i];
	argv[n++] = trace;
	argv[n] = NULL;
	run_io(argv, NULL, NULL, 0, o);
}

/* memtrack-report with args on a trace, which must succeed with one JSON report named name. */
static struct json_object *report_json(const char *trace, const char *const *args,
				       const char *name)
{
	struct json_object *doc;
	struct output o;

	report(&o, trace, args);
	assert_int_equal(o.status, 0);
	doc = json_tokener_parse(o.out);
	assert_non_null(doc);
	assert_string_equal(jstr(doc, "report"), name);
	output_free(&o);
	return doc;
}

static void test_leaks_live(void **state)
{
	const char *opts[] = { "--source", SOURCE_OF(state), "--leaks", "--no-summary", NULL };
	struct trace tr;

	REQUIRE_BPF();
	trace_fixture(&tr, NULL, opts);
	check_leaks_text(tr.err);
	trace_free(&tr);
}

/* From the JSONL, after the process is gone: the same leaks, as JSON. */
static void test_leaks_from_trace(void **state)
{
	static const struct {
		const char *function, *marker;
		long long bytes, count;
	} want[] = {
		{ "leak_big", "LEAK_BIG", 4096, 1 },
		{ "leak_grown", "LEAK_GROWN", 1024, 1 },
		{ "zeroed", "LEAK_ZEROED", 400, 2 },
		{ "leak_small", "LEAK_SMALL", 300, 3 },
	};
	const char *args[] = { "--json", "--leaks", "--no-summary", NULL };
	struct json_object *doc, *leaks;
	struct trace tr;

	(void)state;
	REQUIRE_BPF();
	trace_fixture(&tr, NULL, NULL);
	doc = report_json(tr.out_path, args, "leaks");
	assert_int_equal(jint(doc, "bytes"), 5820);
	assert_int_equal(jint(doc, "blocks"), 7);
	assert_true(json_object_object_get_ex(doc, "leaks", &leaks));
	assert_int_equal(json_object_array_length(leaks), 4);
	for (size_t i = 0; i < 4; i++) {
		struct json_object *leak = json_object_array_get_idx(leaks, i), *stack, *top;

		assert_int_equal(jint(leak, "bytes"), want[i].bytes);
		assert_int_equal(jint(leak, "count"), want[i].count);
		assert_string_equal(jstr(leak, "comm"), "leak_sites");
		assert_true(jint(leak, "max_age_ns") >= jint(leak, "min_age_ns"));
		assert_true(json_object_object_get_ex(leak, "stack", &stack));
		top = json_object_array_get_idx(stack, 0);
		assert_non_null(top);
		assert_string_equal(jstr(top, "function"), want[i].function);
		assert_int_equal(jint(top, "line"), marker_line(want[i].marker));
		assert_non_null(strstr(jstr(top, "file"), "leak_sites.c"));
	}
	json_object_put(doc);
	trace_free(&tr);
}

/* The lines of a folded file, and the bytes of the first. */
static size_t folded_lines(const char *path, long long *first_bytes)
{
	char line[4096];
	size_t n = 0;
	FILE *f = fopen(path, "r");

	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		const char *sp = strrchr(line, ' ');

		if (!n++ && sp)
			*first_bytes = atoll(sp + 1);
	}
	fclose(f);
	return n;
}

/*
 * Three calls of one function on one line (three return addresses): by
 * location, the default, one leak of three blocks and one folded line;
 * by address, three of each.
 */
static void test_group_by_location(void **state)
{
	char folded[] = "/tmp/memtrack-folded-XXXXXX";
	const char *cmd[] = { build_path("tests/fixtures/same_line"), NULL };
	const char *by_location[] = { "--json", "--leaks", "--no-summary", "--folded", folded, NULL };
	const char *by_address[] = { "--json", "--leaks", "--no-summary", "--folded", folded,
				     "--group-by", "address", NULL };
	struct json_object *doc, *leaks, *leak;
	long long bytes = 0;
	struct trace tr;

	(void)state;
	REQUIRE_BPF();
	close(mkstemp(folded));
	trace_run(&tr, NULL, cmd);
	assert_int_equal(tr.status, 0);
	doc = report_json(tr.out_path, by_location, "leaks");
	assert_string_equal(jstr(doc, "group_by"), "location");
	assert_true(json_object_object_get_ex(doc, "leaks", &leaks));
	assert_int_equal(json_object_array_length(leaks), 1);
	leak = json_object_array_get_idx(leaks, 0);
	assert_int_equal(jint(leak, "bytes"), 300);
	assert_int_equal(jint(leak, "count"), 3);
	assert_int_equal(jint(leak, "stacks"), 3);
	json_object_put(doc);
	assert_int_equal(folded_lines(folded, &bytes), 1);
	assert_int_equal(bytes, 300);

	doc = report_json(tr.out_path, by_address, "leaks");
	assert_string_equal(jstr(doc, "group_by"), "address");
	assert_true(json_object_object_get_ex(doc, "leaks", &leaks));
	assert_int_equal(json_object_array_length(leaks), 3);
	for (size_t i = 0; i < 3; i++) {
		leak = json_object_array_get_idx(leaks, i);
		assert_int_equal(jint(leak, "bytes"), 100);
		assert_int_equal(jint(leak, "stacks"), 1);
	}
	json_object_put(doc);
	assert_int_equal(folded_lines(folded, &bytes), 3);
	assert_int_equal(bytes, 100);
	unlink(folded);
	trace_free(&tr);
}

/*
 * --fail-on-leaks gates a CI job: exit 9 when more bytes than it allows
 * are live at the end (leak_sites keeps 5820), live and from the trace;
 * blocks younger than --min-age do not count; the command's own failure
 * comes first.
 */
static void test_fail_on_leaks(void **state)
{
	static const struct {
		const char *bound, *min_age;
		int status;
	} cases[] = {
		{ "--fail-on-leaks", NULL, 9 },	      { "--fail-on-leaks=5K", NULL, 9 },
		{ "--fail-on-leaks=5820", NULL, 0 }, { "--fail-on-leaks", "1h", 0 },
	};
	char script[256];
	const char *failing[] = { build_path("memtrack-load"), "--fail-on-leaks", "--", "/bin/sh",
				  "-c", script, NULL };
	struct output o;
	struct trace tr;

	(void)state;
	REQUIRE_BPF();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *opts[] = { "--no-summary", cases[i].bound,
				       cases[i].min_age ? "--min-age" : NULL, cases[i].min_age,
				       NULL };

		const char *cmd[] = { build_path("tests/fixtures/leak_sites"), NULL };

		trace_run(&tr, opts, cmd);
		if (tr.status != cases[i].status)
			fail_msg("memtrack-load %s: status %d, not %d:\n%s", cases[i].bound,
				 tr.status, cases[i].status, tr.err);
		if (cases[i].status)
			assert_non_null(strstr(tr.err, "memtrack-load: 5820 bytes in 7 blocks still "
							"live at the end, more than the"));
		report(&o, tr.out_path, opts);
		if (o.status != cases[i].status)
			fail_msg("memtrack-report %s: status %d, not %d:\n%s", cases[i].bound,
				 o.status, cases[i].status, o.err);
		output_free(&o);
		trace_free(&tr);
	}
	/* it leaks, and fails on its own: its status is the one that counts */
	snprintf(script, sizeof(script), "%s; exit 3", build_path("tests/fixtures/leaky"));
	run_io(failing, NULL, "", 0, &o);
	assert_int_equal(o.status, 3);
	output_free(&o);
}

/*
 * --diff: two runs of one program, keeping 2 and then 5 blocks from one
 * line, differ at that location only (their addresses differ all over);
 * the changes of a run against itself are none. It prints the
 * comparison alone.
 */
static void test_diff(void **state)
{
	const char *two[] = { build_path("tests/fixtures/keep_n"), "2", NULL };
	const char *five[] = { build_path("tests/fixtures/keep_n"), "5", NULL };
	const char *as_json[] = { "--json", "--diff", NULL, NULL };
	struct json_object *doc, *changes, *change, *stack, *total;
	struct trace base, now;
	struct output o;

	(void)state;
	REQUIRE_BPF();
	trace_run(&base, NULL, two);
	trace_run(&now, NULL, five);
	assert_int_equal(base.status, 0);
	assert_int_equal(now.status, 0);
	as_json[2] = base.out_path;
	doc = report_json(now.out_path, as_json, "diff");
	assert_true(json_object_object_get_ex(doc, "total", &total));
	assert_int_equal(jint(json_object_object_get(total, "alloc_bytes"), "change"), 300);
	assert_int_equal(jint(json_object_object_get(total, "live_blocks"), "base"), 2);
	assert_int_equal(jint(json_object_object_get(total, "live_blocks"), "new"), 5);
	assert_true(json_object_object_get_ex(doc, "changes", &changes));
	if (json_object_array_length(changes) != 1)
		fail_msg("%zu locations changed, not 1: %s", json_object_array_length(changes),
			 json_object_to_json_string(changes));
	change = json_object_array_get_idx(changes, 0);
	assert_int_equal(jint(json_object_object_get(change, "calls"), "change"), 3);
	assert_int_equal(jint(json_object_object_get(change, "live_bytes"), "change"), 300);
	assert_true(json_object_object_get_ex(change, "stack", &stack));
	assert_string_equal(jstr(json_object_array_get_idx(stack, 0), "function"), "main");
	assert_non_null(strstr(jstr(json_object_array_get_idx(stack, 0), "file"), "keep_n.c"));
	json_object_put(doc);

	as_json[2] = now.out_path; /* against itself */
	doc = report_json(now.out_path, as_json, "diff");
	assert_true(json_object_object_get_ex(doc, "changes", &changes));
	assert_int_equal(json_object_array_length(changes), 0);
	json_object_put(doc);
	{
		const char *text[] = { "--diff", base.out_path, NULL };
		const char *refused[] = { "--diff", base.out_path, "--leaks", NULL };
		const char *missing[] = { "--diff", "/nonexistent/base.jsonl", NULL };

		report(&o, now.out_path, text);
		assert_int_equal(o.status, 0);
		assert_non_null(strstr(o.out, "+300 bytes allocated (200 -> 500), +3 calls (2 -> 5), "
					      "+300 bytes live at the end (200 -> 500)"));
		assert_non_null(strstr(o.out, "; 1 location changed\n"));
		output_free(&o);
		report(&o, now.out_path, refused);
		assert_int_equal(o.status, 2);
		assert_non_null(strstr(o.err, "--diff prints the comparison alone, not --leaks"));
		output_free(&o);
		report(&o, now.out_path, missing);
		assert_int_equal(o.status, 8);
		assert_non_null(strstr(o.err, "/nonexistent/base.jsonl"));
		output_free(&o);
	}
	trace_free(&base);
	trace_free(&now);
}

/* The per-process summary, as JSON, from the trace: exact totals. */
static void test_summary_json(void **state)
{
	const char *args[] = { "--json", NULL };
	struct json_object *doc, *procs, *p;
	struct trace tr;

	(void)state;
	REQUIRE_BPF();
	trace_fixture(&tr, NULL, NULL);
	doc = report_json(tr.out_path, args, "summary");
	assert_true(json_object_object_get_ex(doc, "processes", &procs));
	assert_int_equal(json_object_array_length(procs), 1);
	p = json_object_array_get_idx(procs, 0);
	assert_int_equal(jint(p, "alloc_bytes"), 9036);
	assert_int_equal(jint(p, "live_bytes"), 5820);
	assert_int_equal(jint(p, "live_blocks"), 7);
	assert_int_equal(jint(p, "free_bytes"), 9036 - 5820);
	assert_int_equal(jint(p, "max_request"), 4096);
	assert_true(jint(p, "oldest_ns") >= jint(p, "avg_age_ns"));
	assert_true(jint(p, "avg_age_ns") > 0);
	assert_int_equal(jint(doc, "dropped"), 0);
	json_object_put(doc);
	trace_free(&tr);
}

/* Sum the values of a folded file, all of them or those whose stack ends in ";leaf". */
static long long folded_total(const char *path, const char *leaf)
{
	char line[4096];
	long long total = 0;
	FILE *f = fopen(path, "r");

	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		char *sp = strrchr(line, ' ');
		size_t llen = leaf ? strlen(leaf) : 0;

		assert_non_null(sp);
		*sp = '\0';
		if (leaf && (strlen(line) < llen + 1 || line[strlen(line) - llen - 1] != ';' ||
			     strcmp(line + strlen(line) - llen, leaf) != 0))
			continue;
		assert_true(isdigit((unsigned char)sp[1]));
		total += atoll(sp + 1);
		assert_true(line_starts(line, "leak_sites;"));
	}
	fclose(f);
	return total;
}

static void test_folded_totals(void **state)
{
	char live[] = "/tmp/memtrack-folded-XXXXXX", all[] = "/tmp/memtrack-folded-XXXXXX";
	const char *args[] = { "--no-summary", "--folded", live, "--folded-alloc", all, NULL };
	struct output o;
	struct trace tr;

	(void)state;
	REQUIRE_BPF();
	close(mkstemp(live));
	close(mkstemp(all));
	trace_fixture(&tr, NULL, NULL);
	report(&o, tr.out_path, args);
	assert_int_equal(o.status, 0);
	assert_int_equal(folded_total(live, NULL), 5820);
	assert_int_equal(folded_total(live, "leak_big"), 4096);
	assert_int_equal(folded_total(live, "zeroed"), 400); /* the inlined frame is a frame */
	assert_int_equal(folded_total(live, "churn"), 0);
	assert_int_equal(folded_total(all, NULL), 9036);
	assert_int_equal(folded_total(all, "churn"), 2880);
	assert_int_equal(folded_total(all, "leak_grown"), 16 + 64 + 256 + 1024);
	unlink(live);
	unlink(all);
	output_free(&o);
	trace_free(&tr);
}

/*
 * The pprof file, read by a real reader: gunzip, then protoc --decode
 * against loader/report/profile.proto (pprof's published format). Returns the sum
 * of each sample value column, in sample_type order.
 */
static void pprof_totals(const char *path, long long totals[4], char *types, size_t types_len)
{
	char cmd[512];
	const char *argv[] = { "/bin/sh", "-c", cmd, NULL };
	struct output o;
	char *line, *save = NULL;
	int col = 0;

	snprintf(cmd, sizeof(cmd),
		 "gzip -dc '%s' | protoc --decode perftools.profiles.Profile -I loader "
		 "loader/report/profile.proto",
		 path);
	run_io(argv, NULL, NULL, 0, &o);
	if (o.status != 0)
		fail_msg("%s failed (%d): %s", cmd, o.status, o.err);
	memset(totals, 0, 4 * sizeof(totals[0]));
	types[0] = '\0';
	for (line = strtok_r(o.out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		long long v;

		while (*line == ' ')
			line++;
		if (strcmp(line, "sample {") == 0)
			col = 0;
		else if (sscanf(line, "value: %lld", &v) == 1 && col < 4)
			totals[col++] += v;
		else if (strncmp(line, "string_table: ", 14) == 0 &&
			 strlen(types) + strlen(line) + 2 < types_len)
			strcat(strcat(types, line + 14), " ");
	}
	output_free(&o);
}

static void test_pprof_totals(void **state)
{
	char path[] = "/tmp/memtrack-pprof-XXXXXX";
	const char *args[] = { "--no-summary", "--pprof", path, NULL };
	char strings[8192];
	long long t[4];
	struct output o;
	struct trace tr;

	(void)state;
	REQUIRE_BPF();
	close(mkstemp(path));
	trace_fixture(&tr, NULL, NULL);
	report(&o, tr.out_path, args);
	assert_int_equal(o.status, 0);
	pprof_totals(path, t, strings, sizeof(strings));
	/* sample types, in order: alloc_objects alloc_space inuse_objects inuse_space */
	assert_non_null(strstr(strings, "\"\" \"alloc_objects\" \"count\" \"alloc_space\" "
					"\"bytes\" \"inuse_objects\" \"inuse_space\""));
	assert_non_null(strstr(strings, "\"leak_big\""));
	assert_non_null(strstr(strings, "leak_sites.c\""));
	assert_int_equal(t[0], 17);   /* every allocation */
	assert_int_equal(t[1], 9036); /* their bytes */
	assert_int_equal(t[2], 7);    /* live at the end */
	assert_int_equal(t[3], 5820);
	unlink(path);
	output_free(&o);
	trace_free(&tr);
}

/*
 * --peak on tests/fixtures/peak_then_free, whose heap peaks before its
 * end: live (it needs --no-aggregate) and from its trace, the same stacks.
 */
static void check_peak(struct json_object *doc)
{
	struct json_object *procs = json_object_object_get(doc, "processes"), *p, *list, *top;

	assert_non_null(procs);
	assert_int_equal(json_object_array_length(procs), 1);
	p = json_object_array_get_idx(procs, 0);
	assert_int_equal(jint(p, "peak_bytes"), 8500);
	assert_int_equal(jint(p, "peak_blocks"), 9);
	assert_int_equal(jint(p, "stacks"), 2);
	list = json_object_object_get(p, "peak");
	assert_int_equal(json_object_array_length(list), 2);
	top = json_object_array_get_idx(list, 0);
	assert_int_equal(jint(top, "bytes"), 8000);
	assert_int_equal(jint(top, "count"), 8);
	top = json_object_array_get_idx(json_object_object_get(top, "stack"), 0);
	assert_string_equal(jstr(top, "function"), "held");
	assert_int_equal(jint(top, "line"), source_line("tests/fixtures/peak_then_free.c",
							"PEAK_HELD"));
	top = json_object_array_get_idx(list, 1);
	assert_int_equal(jint(top, "bytes"), 500);
	top = json_object_array_get_idx(json_object_object_get(top, "stack"), 0);
	assert_string_equal(jstr(top, "function"), "kept");
}

static void test_peak(void **state)
{
	const char *opts[] = { "--no-aggregate", "--peak", "--json", "--no-summary", NULL };
	const char *args[] = { "--peak", "--json", "--no-summary", NULL };
	const char *cmd[] = { build_path("tests/fixtures/peak_then_free"), NULL };
	struct json_object *doc;
	struct trace tr;

	(void)state;
	REQUIRE_BPF();
	trace_command(&tr, opts, cmd);
	doc = trace_report(&tr, "peak");
	check_peak(doc);
	json_object_put(doc);
	doc = report_json(tr.out_path, args, "peak");
	check_peak(doc);
	json_object_put(doc);
	trace_free(&tr);
}

/*
 * --massif, read by valgrind's own ms_print: the peak is the detailed
 * snapshot marked (peak), with held()'s stack at its top, and "%p" makes
 * one file per process.
 */
static void check_massif(const char *path)
{
	const char *argv[] = { "/usr/bin/ms_print", path, NULL };
	char want[128];
	struct output o;

	run_io(argv, NULL, NULL, 0, &o);
	if (o.status != 0)
		fail_msg("ms_print %s failed (%d): %s", path, o.status, o.err);
	assert_non_null(strstr(o.out, "Command:            "));
	assert_non_null(strstr(o.out, " (peak)"));
	assert_non_null(strstr(o.out, "\n100.00% (8,500B) (heap allocation functions)"));
	snprintf(want, sizeof(want), "\n->94.12%% (8,000B) 0x");
	assert_non_null(strstr(o.out, want));
	snprintf(want, sizeof(want), ": held (tests/fixtures/peak_then_free.c:%d)\n",
		 source_line("tests/fixtures/peak_then_free.c", "PEAK_HELD"));
	if (!strstr(o.out, want))
		fail_msg("no '%s' in ms_print's output:\n%s", want, o.out);
	/* the end: kept() and after() */
	assert_non_null(strstr(o.out, "\n100.00% (3,500B) (heap allocation functions)"));
	output_free(&o);
}

static void test_massif(void **state)
{
	char dir[] = "/tmp/memtrack-massif-XXXXXX", path[64], each[64], file[64];
	const char *opts[] = { "--no-aggregate", "--massif", path, "--no-summary", NULL };
	const char *args[] = { "--massif", each, "--no-summary", NULL };
	const char *cmd[] = { build_path("tests/fixtures/peak_then_free"), NULL };
	struct output o;
	struct trace tr;
	long pid;

	(void)state;
	REQUIRE_BPF();
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/massif.out", dir);
	snprintf(each, sizeof(each), "%s/massif.out.%%p", dir);
	pid = trace_command(&tr, opts, cmd);
	check_massif(path);
	unlink(path);
	report(&o, tr.out_path, args);
	assert_int_equal(o.status, 0);
	snprintf(file, sizeof(file), "%s/massif.out.%ld", dir, pid);
	check_massif(file);
	unlink(file);
	output_free(&o);
	trace_free(&tr);
	assert_int_equal(rmdir(dir), 0); /* nothing else was written */
}

/* -m, -s and -T, live. */
static void test_largest_stats_and_trace(void **state)
{
	const char *opts[] = { "-m", "-s", "-T", "--no-summary", NULL };
	char where[64];
	struct trace tr;
	const char *p;

	(void)state;
	REQUIRE_BPF();
	trace_fixture(&tr, NULL, opts);
	p = strstr(tr.err, "(leak_sites): largest request 4096 bytes at 0x");
	assert_non_null(p);
	p = strchr(p, '\n');
	assert_true(line_starts(p + 1, "\tleak_big+0x"));
	assert_non_null(strstr(p, source_of("LEAK_BIG", where, sizeof(where))));
	/* calls by function: 9 mallocs, 2 callocs, 7 reallocs (one of them to 0 bytes), 3 frees */
	assert_non_null(strstr(tr.err, "\nmalloc                        9            0\n"));
	assert_non_null(strstr(tr.err, "\ncalloc                        2            0\n"));
	assert_non_null(strstr(tr.err, "\nrealloc                       7            0\n"));
	assert_non_null(strstr(tr.err, "\nfree                          3            0\n"));
	assert_non_null(strstr(tr.err, "\nstack_full                    0\n"));
	assert_non_null(strstr(tr.err, "\nstack map: 15 of 16384 stacks"));
	assert_non_null(strstr(tr.err, "\nring buffer: 8388608 bytes, fullest seen "));
	/* -T: the calloc, with the inlined helper it was called from */
	p = strstr(tr.err, " calloc 0x");
	assert_non_null(p);
	assert_non_null(strstr(p, " size 200\n\t[inlined] zeroed ("));
	assert_non_null(strstr(tr.err, " realloc 0x"));
	assert_non_null(strstr(tr.err, " free 0x"));
	trace_free(&tr);
}

/* --min-size/--max-size apply to every report; --min-age and --top to leaks. */
static void test_filters(void **state)
{
	const char *big[] = { "--min-size", "1K", "--leaks", "--folded-alloc", "-", "--json",
			      NULL };
	const char *small[] = { "--max-size", "500", "--leaks", "--no-summary", NULL };
	const char *old[] = { "--min-age", "1h", "--leaks", "--no-summary", NULL };
	const char *top[] = { "--top", "2", "--leaks", "--no-summary", NULL };
	struct output o;
	struct trace tr;

	(void)state;
	REQUIRE_BPF();
	trace_fixture(&tr, NULL, NULL);

	report(&o, tr.out_path, big);
	assert_int_equal(o.status, 0);
	assert_non_null(strstr(o.out, "\"alloc_bytes\":7168,")); /* 4096 + 2048 + 1024 */
	assert_non_null(strstr(o.out, "\"report\":\"leaks\",\"bytes\":5120,\"blocks\":2,"));
	assert_non_null(strstr(o.out, ";churn 2048\n"));
	output_free(&o);

	report(&o, tr.out_path, small);
	assert_non_null(strstr(o.out, "memtrack: 700 bytes in 5 blocks still live, from 2 locations"));
	output_free(&o);

	report(&o, tr.out_path, old);
	assert_non_null(strstr(o.out, "memtrack: 0 bytes in 0 blocks still live"));
	output_free(&o);

	report(&o, tr.out_path, top);
	assert_non_null(strstr(o.out, "\n1024 bytes in 1 block from"));
	assert_null(strstr(o.out, "\n400 bytes in"));
	assert_non_null(strstr(o.out, "memtrack: 2 more locations not shown (--top)"));
	output_free(&o);
	trace_free(&tr);
}

/* A stripped binary: named through its separate debug file, found by build-id. */
static void test_stripped_binary_with_debug_file(void **state)
{
	const char *with[] = { "--debug-dir", build_path("tests/debug"), "--leaks", "--no-summary",
			       NULL };
	const char *without[] = { "--leaks", "--no-summary", NULL };
	struct output o;
	struct trace tr;

	(void)state;
	REQUIRE_BPF();
	trace_fixture(&tr, "stripped", NULL);
	report(&o, tr.out_path, with);
	assert_int_equal(o.status, 0);
	check_leaks_text(o.out);
	output_free(&o);
	/* without it, nothing but where in the file */
	report(&o, tr.out_path, without);
	assert_int_equal(o.status, 0);
	assert_null(strstr(o.out, "leak_big"));
	assert_non_null(strstr(o.out, "\n4096 bytes in 1 block from pid "));
	assert_non_null(strstr(o.out, "\tleak_sites.stripped+0x"));
	output_free(&o);
	trace_free(&tr);
}

/* No DWARF at all: function names from the symbol table, no source lines. */
static void test_symbol_table_only(void **state)
{
	const char *opts[] = { "--leaks", "--no-summary", NULL };
	struct trace tr;
	char *g;

	(void)state;
	REQUIRE_BPF();
	trace_fixture(&tr, "nodebug", opts);
	g = leak_group(tr.err, 4096, 1);
	assert_non_null(g);
	assert_true(line_starts(first_frame(g), "leak_big+0x"));
	assert_null(strstr(g, "leak_sites.c"));
	free(g);
	g = leak_group(tr.err, 300, 3);
	assert_non_null(g);
	assert_true(line_starts(first_frame(g), "leak_small+0x"));
	free(g);
	trace_free(&tr);
}

/* memtrack-report's bad input: one line on stderr, the documented status. */
static void test_report_bad_input(void **state)
{
	char bad[] = "/tmp/memtrack-bad-XXXXXX";
	const char *none[] = { build_path("memtrack-report"), NULL };
	const char *unknown[] = { build_path("memtrack-report"), "--frobnicate", "x", NULL };
	const char *unwritable[] = { "--folded", "/nonexistent/dir/f", NULL };
	const char *age[] = { "--min-age", "soon", NULL };
	struct output o;
	int fd;

	(void)state;
	report(&o, "/nonexistent/trace.jsonl", NULL);
	assert_int_equal(o.status, 8);
	assert_non_null(strstr(o.err, "cannot read /nonexistent/trace.jsonl"));
	output_free(&o);

	fd = mkstemp(bad);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "{\"type\":\"Exec\"}\n", 16), 16);
	close(fd);
	report(&o, bad, NULL);
	assert_int_equal(o.status, 8);
	assert_non_null(strstr(o.err, ":1: a record with missing or malformed fields"));
	output_free(&o);

	fd = open(bad, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	dprintf(fd, "{\"type\":\"Exec\",\"timestamp\":1,\"pid\":7,\"comm\":\"x\"}\nnot json\n");
	close(fd);
	report(&o, bad, NULL);
	assert_int_equal(o.status, 8);
	assert_non_null(strstr(o.err, ":2: not a memtrack JSONL record"));
	output_free(&o);

	report(&o, bad, age);
	assert_int_equal(o.status, 2);
	assert_non_null(strstr(o.err, "invalid age 'soon'"));
	output_free(&o);
	unlink(bad);

	run_io(none, NULL, NULL, 0, &o);
	assert_int_equal(o.status, 2);
	assert_non_null(strstr(o.err, "no trace file given"));
	output_free(&o);
	run_io(unknown, NULL, NULL, 0, &o);
	assert_int_equal(o.status, 2);
	assert_non_null(strstr(o.err, "unknown option '--frobnicate'"));
	output_free(&o);

	report(&o, "/dev/null", unwritable); /* an empty trace */
	assert_int_equal(o.status, 6);
	assert_non_null(strstr(o.err, "cannot write /nonexistent/dir/f"));
	output_free(&o);
}

/*
 * A trace of an Exec and then record: memtrack-report's exit status and
 * standard error (freed by the caller).
 */
static int report_record(const char *record, char **err)
{
	char path[] = "/tmp/memtrack-bad-XXXXXX";
	struct output o;
	int fd = mkstemp(path), status;

	assert_true(fd >= 0);
	dprintf(fd, "{\"type\":\"Exec\",\"timestamp\":1,\"pid\":7,\"comm\":\"x\"}\n%s\n", record);
	close(fd);
	report(&o, path, NULL);
	unlink(path);
	status = o.status;
	*err = strdup(o.err);
	output_free(&o);
	return status;
}

/* A Stats record whose counts are not an object: exit 8 naming the line, never a crash. */
static void test_damaged_stats(void **state)
{
	static const char *const keys[] = { "by_type", "failed", "drops", "stack_cuts" };
	static const char *const values[] = { "null", "[1,2]", "5", "\"x\"" };

	(void)state;
	for (size_t k = 0; k < 4; k++) {
		for (size_t v = 0; v < 4; v++) {
			char rec[128], *err;
			int status;

			snprintf(rec, sizeof(rec), "{\"type\":\"Stats\",\"%s\":%s}", keys[k], values[v]);
			status = report_record(rec, &err);
			if (status != 8 || !strstr(err, ":2: a record with missing or malformed"))
				fail_msg("\"%s\":%s gave status %d: %s", keys[k], values[v], status, err);
			free(err);
		}
	}
}

/*
 * A trace whose mapping names a FIFO (or a device): symbolization reads
 * only regular files, so the report ends, the frame named by its object
 * and offset, where opening the FIFO waited for a writer forever.
 */
static void test_mapping_of_a_fifo(void **state)
{
	char dir[] = "/tmp/memtrack-fifo-XXXXXX", fifo[64], path[64];
	const char *args[] = { "--leaks", NULL };
	struct output o;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(fifo, sizeof(fifo), "%s/lib.so", dir);
	snprintf(path, sizeof(path), "%s/trace.jsonl", dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "{\"type\":\"Mapping\",\"timestamp\":1000,\"pid\":77,\"start\":4096,"
		   "\"end\":8192,\"offset\":0,\"path\":\"%s\",\"build_id\":\"\"}\n"
		   "{\"type\":\"Stack\",\"id\":5,\"frames\":[4200]}\n"
		   "{\"type\":\"Malloc\",\"timestamp\":2000,\"pid\":77,\"tid\":77,"
		   "\"addr\":65536,\"size\":100,\"stack_id\":5}\n",
		fifo);
	assert_int_equal(fclose(f), 0);
	{
		/* bounded: the defect was a hang */
		const char *argv[] = { "/usr/bin/timeout", "30", build_path("memtrack-report"), args[0], path,
				       NULL };

		run_io(argv, NULL, NULL, 0, &o);
	}
	if (o.status != 0)
		fail_msg("exit %d (124: it hung): %s", o.status, o.err);
	assert_non_null(strstr(o.out, "lib.so+0x68"));
	output_free(&o);
	unlink(path);
	unlink(fifo);
	rmdir(dir);
}

/*
 * The reports' disk fills up: each report names the reason (not "Input/output
 * error"), exits 6 (an output that cannot be written), and the report file
 * that was there is left as it was.
 */
static void test_full_disk_names_the_reason(void **state)
{
	char dir[] = "/tmp/memtrack-rfull-XXXXXX", trace[64], rep[96];
	static const char *const modes[][4] = {
		{ "--leaks", NULL },
		{ "--leaks", "--json", NULL },
		{ "-T", NULL },
		{ "-T", "--json", NULL },
	};
	struct output o;
	FILE *f;

	(void)state;
	REQUIRE_BPF(); /* root, to mount */
	assert_non_null(mkdtemp(dir));
	snprintf(trace, sizeof(trace), "%s.jsonl", dir);
	f = fopen(trace, "w");
	assert_non_null(f);
	for (int i = 1; i <= 3000; i++) /* some 200 KiB of reports: more than the disk */
		fprintf(f, "{\"type\":\"Malloc\",\"timestamp\":%d,\"pid\":%d,\"tid\":%d,"
			   "\"addr\":%d,\"size\":100}\n", 1000 + i, i, i, 4096 * i);
	assert_int_equal(fclose(f), 0);
	if (mount("tmpfs", dir, "tmpfs", 0, "size=16k"))
		fail_msg("cannot mount a tmpfs on %s", dir);
	snprintf(rep, sizeof(rep), "%s/report.txt", dir);
	f = fopen(rep, "w");
	assert_non_null(f);
	fputs("precious\n", f);
	assert_int_equal(fclose(f), 0);
	for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
		const char *args[8];
		size_t n = 0;
		char kept[16] = "";

		for (size_t k = 0; modes[m][k]; k++)
			args[n++] = modes[m][k];
		args[n++] = "--report-file";
		args[n++] = rep;
		args[n] = NULL;
		report(&o, trace, args);
		if (o.status != 6 || !strstr(o.err, "No space left on device"))
			fail_msg("%s: exit %d: %s", modes[m][0], o.status, o.err);
		output_free(&o);
		f = fopen(rep, "r");
		assert_non_null(f);
		assert_non_null(fgets(kept, sizeof(kept), f));
		fclose(f);
		assert_string_equal(kept, "precious\n");
	}
	umount(dir);
	rmdir(dir);
	unlink(trace);
}

/* No control character but newline and tab, and nothing that is not UTF-8, in len bytes of text. */
static void assert_clean_text(const char *what, const char *text, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];

		if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f || c == 0xff)
			fail_msg("%s: byte 0x%02x at %zu:\n%.*s", what, c, i, (int)len, text);
	}
}

/*
 * A process that names itself, and a file it maps, with a newline, ';',
 * a terminal escape and bytes that are not UTF-8: each text report keeps
 * one line per process and frame (the bytes shown as '?'), the folded
 * line keeps its frames, and the JSON reports stay valid UTF-8.
 */
static void test_hostile_names(void **state)
{
	char path[] = "/tmp/memtrack-hostile-XXXXXX";
	const char *text_args[] = { "--leaks", NULL }, *folded_args[] = { "--no-summary", "--folded", "-", NULL },
		   *json_args[] = { "--leaks", "--json", NULL };
	struct output o;
	int fd;
	FILE *f;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fputs("{\"type\":\"Exec\",\"timestamp\":1000,\"pid\":77,\"tid\":77,\"ppid\":1,"
	      "\"comm\":\"ev\\nil;\\u001b[31m\xff\",\"filename\":\"/x\"}\n"
	      "{\"type\":\"Mapping\",\"timestamp\":1000,\"pid\":77,\"start\":4096,"
	      "\"end\":8192,\"offset\":0,\"path\":\"/no/such/li\\nb;x\\u001b[2J\xfe.so\","
	      "\"build_id\":\"\"}\n"
	      "{\"type\":\"Stack\",\"id\":5,\"frames\":[4200]}\n"
	      "{\"type\":\"Malloc\",\"timestamp\":2000,\"pid\":77,\"tid\":77,\"addr\":65536,"
	      "\"size\":100,\"stack_id\":5}\n",
	      f);
	assert_int_equal(fclose(f), 0);

	report(&o, path, text_args);
	assert_int_equal(o.status, 0);
	assert_clean_text("the text reports", o.out, o.out_len);
	assert_non_null(strstr(o.out, "ev?il;?[31m?\n"));	/* the summary's row, whole */
	assert_non_null(strstr(o.out, "(ev?il;?[31m?)"));	/* the leak's heading */
	assert_non_null(strstr(o.out, "li?b;x?[2J?.so"));	/* the frame's object */
	output_free(&o);

	report(&o, path, folded_args);
	assert_int_equal(o.status, 0);
	assert_clean_text("the folded stacks", o.out, o.out_len);
	assert_string_equal(o.out, "ev?il:?[31m?;[li?b:x?[2J?.so] 100\n");
	output_free(&o);

	report(&o, path, json_args);
	assert_int_equal(o.status, 0);
	assert_clean_text("the JSON reports", o.out, o.out_len);
	assert_non_null(strstr(o.out, "\"comm\":\"ev\\nil;\\u001b[31m\xef\xbf\xbd\""));
	output_free(&o);
	unlink(path);
}

/*
 * Records no tracer writes are a damaged trace, exit 8 naming the line:
 * numbers of the wrong type or range, a process or an allocated address of
 * 0, text after the record. Not a silent 0, a wrapped number, or "Cannot
 * allocate memory".
 */
static void test_damaged_numbers(void **state)
{
	static const char *const bad[] = {
		"{\"type\":\"Malloc\",\"timestamp\":1,\"pid\":7,\"tid\":7,\"addr\":0,\"size\":5}",
		"{\"type\":\"Malloc\",\"timestamp\":1,\"pid\":0,\"tid\":7,\"addr\":9,\"size\":5}",
		"{\"type\":\"Malloc\",\"timestamp\":1,\"pid\":7,\"tid\":7,\"addr\":9,\"size\":\"abc\"}",
		"{\"type\":\"Malloc\",\"timestamp\":1,\"pid\":7,\"tid\":7,\"addr\":9,\"size\":-5}",
		"{\"type\":\"Malloc\",\"timestamp\":1,\"pid\":7,\"tid\":7,\"addr\":9,\"size\":1e30}",
		"{\"type\":\"Malloc\",\"timestamp\":1,\"pid\":4294967296,\"tid\":7,\"addr\":9,\"size\":5}",
		"{\"type\":\"Free\",\"timestamp\":1,\"pid\":7,\"tid\":7,\"addr\":0}",
		"{\"type\":\"Mapping\",\"timestamp\":1,\"pid\":7,\"start\":-1,\"end\":2,\"offset\":0,\"path\":\"/x\",\"build_id\":\"\"}",
		"{\"type\":\"Stats\",\"events\":1,\"drops\":{\"ringbuf_full\":\"many\"}}",
		"{\"type\":\"Malloc\",\"timestamp\":1,\"pid\":7,\"tid\":7,\"addr\":9,\"size\":5} garbage",
	};
	static const char *const good[] = {
		"{\"type\":\"Malloc\",\"timestamp\":1,\"pid\":7,\"tid\":7,\"addr\":9,\"size\":5}  ",
		/* realloc(p, 0) may return NULL */
		"{\"type\":\"Realloc\",\"timestamp\":1,\"pid\":7,\"tid\":7,\"addr\":0,\"size\":0,"
		"\"old_addr\":9,\"func\":\"realloc\"}",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]) + sizeof(good) / sizeof(good[0]); i++) {
		bool damaged = i < sizeof(bad) / sizeof(bad[0]);
		const char *rec = damaged ? bad[i] : good[i - sizeof(bad) / sizeof(bad[0])];
		char *err;
		int status = report_record(rec, &err);

		if (damaged ? status != 8 || !strstr(err, ":2: ") : status != 0)
			fail_msg("%s: status %d: %s", rec, status, err);
		free(err);
	}
}

/*
 * A --pprof write that fails removes nothing: not a device given as the
 * path (--pprof /dev/full once deleted the machine's /dev/full), not a
 * symlink; and a profile that is written replaces the file whole.
 */
static void test_pprof_failure_removes_nothing(void **state)
{
	char dir[] = "/tmp/memtrack-pprof-XXXXXX", full[64], link[64], file[64];
	const char *to_full[] = { "--pprof", full, NULL }, *to_link[] = { "--pprof", link, NULL },
		   *to_file[] = { "--pprof", file, NULL };
	struct stat st;
	struct output o;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(full, sizeof(full), "%s/full", dir);
	snprintf(link, sizeof(link), "%s/link", dir);
	snprintf(file, sizeof(file), "%s/heap.pb.gz", dir);
	assert_int_equal(mknod(full, S_IFCHR | 0666, makedev(1, 7)), 0); /* as /dev/full */
	assert_int_equal(symlink(full, link), 0);
	for (int i = 0; i < 2; i++) {
		report(&o, "tests/fixtures/two_procs.jsonl", i ? to_link : to_full);
		assert_int_equal(o.status, 6);
		output_free(&o);
		assert_int_equal(stat(full, &st), 0);
		assert_true(S_ISCHR(st.st_mode));
		assert_int_equal(lstat(link, &st), 0);
		assert_true(S_ISLNK(st.st_mode));
	}
	assert_int_equal(symlink("nowhere", file), 0); /* replaced, not followed */
	report(&o, "tests/fixtures/two_procs.jsonl", to_file);
	assert_int_equal(o.status, 0);
	output_free(&o);
	assert_int_equal(lstat(file, &st), 0);
	assert_true(S_ISREG(st.st_mode) && st.st_size > 0 && (st.st_mode & 0777) == 0644);
	unlink(file);
	unlink(link);
	unlink(full);
	rmdir(dir);
}

/* --pprof -: standard output holds the profile alone; the summary goes to standard error. */
static void test_pprof_to_stdout_alone(void **state)
{
	const char *args[] = { "--pprof", "-", NULL };
	struct output o;

	(void)state;
	report(&o, "tests/fixtures/two_procs.jsonl", args);
	assert_int_equal(o.status, 0);
	assert_true(o.out_len > 2);
	assert_int_equal((unsigned char)o.out[0], 0x1f); /* gzip, from its first byte */
	assert_int_equal((unsigned char)o.out[1], 0x8b);
	assert_null(memmem(o.out, o.out_len, "Allocs", 6));
	assert_non_null(strstr(o.err, "Allocs"));
	output_free(&o);
}

/* Report files are 0644 at most, whatever the umask: never writable by others. */
static void test_report_files_mode(void **state)
{
	char dir[] = "/tmp/memtrack-mode-XXXXXX", rep[64], folded[64];
	const char *args[] = { "--report-file", rep, "--folded", folded, NULL };
	struct output o;
	struct stat st;
	mode_t old = umask(0);

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(rep, sizeof(rep), "%s/report.txt", dir);
	snprintf(folded, sizeof(folded), "%s/live.folded", dir);
	report(&o, "tests/fixtures/two_procs.jsonl", args);
	umask(old);
	assert_int_equal(o.status, 0);
	output_free(&o);
	assert_int_equal(stat(rep, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	assert_int_equal(stat(folded, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	unlink(rep);
	unlink(folded);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		BOTH_SOURCES(test_leaks_live),
		cmocka_unit_test(test_leaks_from_trace),
		cmocka_unit_test(test_summary_json),
		cmocka_unit_test(test_group_by_location),
		cmocka_unit_test(test_fail_on_leaks),
		cmocka_unit_test(test_diff),
		cmocka_unit_test(test_folded_totals),
		cmocka_unit_test(test_pprof_totals),
		cmocka_unit_test(test_peak),
		cmocka_unit_test(test_massif),
		cmocka_unit_test(test_largest_stats_and_trace),
		cmocka_unit_test(test_filters),
		cmocka_unit_test(test_stripped_binary_with_debug_file),
		cmocka_unit_test(test_symbol_table_only),
		cmocka_unit_test(test_report_bad_input),
		cmocka_unit_test(test_damaged_stats),
		cmocka_unit_test(test_damaged_numbers),
		cmocka_unit_test(test_hostile_names),
		cmocka_unit_test(test_mapping_of_a_fifo),
		cmocka_unit_test(test_full_disk_names_the_reason),
		cmocka_unit_test(test_pprof_failure_removes_nothing),
		cmocka_unit_test(test_report_files_mode),
		cmocka_unit_test(test_pprof_to_stdout_alone),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
