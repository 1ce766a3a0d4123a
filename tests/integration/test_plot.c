// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * memtrack-plot: the picture of a trace. On tests/fixtures/two_procs.jsonl,
 * a hand-written trace whose numbers are known: parent 4100 (two_procs)
 * peaks at 5048 bytes 6 ms after the first event; its child 4101 peaks at
 * 16384 at 7 ms, then execs (worker), which releases everything. Then on a
 * real trace of tests/fixtures/fork_child.
 */
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test_support.h"

#define FIXTURE "tests/fixtures/two_procs.jsonl"

/* memtrack-plot with args (NULL-terminated), input on its stdin. */
static void plot(struct output *o, const char *const *args, const char *input)
{
	const char *argv[16];
	int n = 0;

	argv[n++] = build_path("memtrack-plot");
	for (size_t i = 0; args[i]; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	run_io(argv, NULL, input, input ? strlen(input) : 0, o);
}

/* A fresh temporary path ending in suffix (".svg"), the file not yet there. */
static void temp_path(char *path, size_t size, const char *suffix)
{
	int fd;

	snprintf(path, size, "/tmp/memtrack-viz-XXXXXX%s", suffix);
	fd = mkstemps(path, (int)strlen(suffix));
	assert_true(fd >= 0);
	close(fd);
	unlink(path);
}

/* The whole file, NUL-terminated; its length in *len. */
static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (!f)
		fail_msg("cannot open %s", path);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static size_t count(const char *s, const char *needle)
{
	size_t n = 0;

	for (const char *p = strstr(s, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

/* The SVG's group of pid's series, from its <g ...> to its </g>; freed by the caller. */
static char *series_of(const char *svg, long pid)
{
	char head[64];
	const char *p, *end;

	snprintf(head, sizeof(head), "<g class=\"series\" data-pid=\"%ld\"", pid);
	p = strstr(svg, head);
	if (!p)
		fail_msg("no series for pid %ld in:\n%s", pid, svg);
	end = strstr(p, "</g>");
	assert_non_null(end);
	return strndup(p, (size_t)(end - p));
}

/* A numeric attribute of the group's opening tag. */
static long long attr(const char *group, const char *name)
{
	char key[64];
	const char *p, *tag_end = strchr(group, '>');

	snprintf(key, sizeof(key), " %s=\"", name);
	p = strstr(group, key);
	if (!p || p > tag_end)
		fail_msg("no %s in %.*s", name, (int)(tag_end - group + 1), group);
	return strtoll(p + strlen(key), NULL, 10);
}

/* One process's series: its peak in bytes and ns, and the label by its dot. */
static void check_series(const char *svg, long pid, long long peak, long long peak_ns,
			  const char *label)
{
	char *g = series_of(svg, pid), text[64];

	assert_int_equal(attr(g, "data-peak-bytes"), peak);
	if (peak_ns >= 0)
		assert_int_equal(attr(g, "data-peak-ns"), peak_ns);
	assert_int_equal(count(g, "<polyline "), 1);
	assert_int_equal(count(g, "<circle "), 1);
	snprintf(text, sizeof(text), ">%s</text>", label);
	if (!strstr(g, text))
		fail_msg("series %ld has no label %s:\n%s", pid, text, g);
	free(g);
}

/* The SVG parses as XML. */
static void check_well_formed(const char *path)
{
	const char *argv[] = { "/usr/bin/xmllint", "--noout", path, NULL };
	char out[4096];

	if (access(argv[0], X_OK))
		fail_msg("xmllint is missing: install libxml2-utils (tools/deps.sh does)");
	if (run_capture(argv, out, sizeof(out)) != 0)
		fail_msg("xmllint rejects %s:\n%s", path, out);
}

static void check_fixture_svg(const char *svg)
{
	assert_int_equal(count(svg, "<g class=\"series\""), 2);
	check_series(svg, 4100, 5048, 6000000, "4.9 KiB");
	check_series(svg, 4101, 16384, 7000000, "16 KiB");
	/* the legend names each process as it was last, with its peak */
	assert_non_null(strstr(svg, ">4100 two_procs (peak 4.9 KiB)</text>"));
	assert_non_null(strstr(svg, ">4101 worker (peak 16 KiB)</text>"));
}

/*
 * memtrack-plot opts -o FILE FIXTURE, FILE a temporary file ending in suffix,
 * which must succeed silently; FILE's content (an SVG: checked by xmllint).
 */
static char *draw_fixture(const char *const *opts, const char *suffix, size_t *len)
{
	char path[64], *content;
	const char *args[16];
	struct output o;
	size_t n = 0;

	temp_path(path, sizeof(path), suffix);
	for (; opts[n]; n++)
		args[n] = opts[n];
	args[n++] = "-o";
	args[n++] = path;
	args[n++] = FIXTURE;
	args[n] = NULL;
	plot(&o, args, NULL);
	if (o.status != 0 || o.err_len)
		fail_msg("exit %d: %s", o.status, o.err);
	if (strcmp(suffix, ".svg") == 0)
		check_well_formed(path);
	content = slurp(path, len);
	output_free(&o);
	unlink(path);
	return content;
}

static void test_fixture_svg(void **state)
{
	const char *opts[] = { NULL };
	size_t len;
	char *svg = draw_fixture(opts, ".svg", &len);

	(void)state;
	check_fixture_svg(svg);
	free(svg);
}

/* "-": the trace from stdin; no -o: the SVG on stdout. */
static void test_stdin_to_stdout(void **state)
{
	const char *args[] = { "--title", "a <title> & more", "-", NULL };
	size_t len;
	char *trace = slurp(FIXTURE, &len);
	struct output o;

	(void)state;
	plot(&o, args, trace);
	if (o.status != 0)
		fail_msg("exit %d: %s", o.status, o.err);
	assert_true(strncmp(o.out, "<?xml ", 6) == 0);
	check_fixture_svg(o.out);
	assert_non_null(strstr(o.out, ">a &lt;title&gt; &amp; more</text>"));
	free(trace);
	output_free(&o);
}

static unsigned long be32(const unsigned char *p)
{
	return (unsigned long)p[0] << 24 | (unsigned long)p[1] << 16 | (unsigned long)p[2] << 8 |
	       p[3];
}

static void test_fixture_png(void **state)
{
	static const unsigned char signature[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
	const char *opts[] = { "--width", "800", "--height", "600", NULL };
	size_t len;
	char *png = draw_fixture(opts, ".png", &len);

	(void)state;
	assert_true(len > 33);
	assert_memory_equal(png, signature, sizeof(signature));
	/* the IHDR chunk comes first: width, then height */
	assert_memory_equal(png + 12, "IHDR", 4);
	assert_int_equal(be32((unsigned char *)png + 16), 800);
	assert_int_equal(be32((unsigned char *)png + 20), 600);
	free(png);
}

/* Refused with status and one line on stderr that says words. */
static void expect_refusal(const char *const *args, const char *input, int status,
			   const char *words)
{
	struct output o;

	plot(&o, args, input);
	if (o.status != status)
		fail_msg("expected exit %d, got %d; stderr:\n%s", status, o.status, o.err);
	if (!strstr(o.err, words))
		fail_msg("stderr does not say \"%s\":\n%s", words, o.err);
	if (strncmp(o.err, "memtrack-plot: ", 15) != 0 || strchr(o.err, '\n') != o.err + o.err_len - 1)
		fail_msg("expected one line starting 'memtrack-plot: ', got:\n%s", o.err);
	assert_int_equal(o.out_len, 0);
	output_free(&o);
}

static void test_bad_trace(void **state)
{
	const char *missing[] = { "/nonexistent/trace.jsonl", NULL };
	const char *from_stdin[] = { "-", NULL };
	char path[64];
	const char *into_file[] = { "-o", path, "/nonexistent/trace.jsonl", NULL };
	struct stat st;

	(void)state;
	expect_refusal(missing, NULL, 8, "/nonexistent/trace.jsonl");
	expect_refusal(from_stdin,
		       "{\"type\":\"Malloc\",\"timestamp\":1,\"pid\":1,\"tid\":1,\"addr\":16,"
		       "\"size\":8}\nnot json\n",
		       8, "-:2: not a memtrack JSONL record");
	expect_refusal(from_stdin, "{\"type\":\"Malloc\",\"size\":8}\n", 8, "-:1:");
	expect_refusal(from_stdin, "", 8, "no events to draw");
	/* a failed run leaves no half picture behind */
	temp_path(path, sizeof(path), ".svg");
	expect_refusal(into_file, NULL, 8, "/nonexistent/trace.jsonl");
	assert_int_not_equal(stat(path, &st), 0);
}

static void test_usage_and_output_errors(void **state)
{
	const char *none[] = { NULL };
	const char *two[] = { FIXTURE, FIXTURE, NULL };
	const char *unknown[] = { "--frobnicate", FIXTURE, NULL };
	const char *no_value[] = { FIXTURE, "-o", NULL };
	const char *bad_format[] = { "-o", "/tmp/heap.jpg", FIXTURE, NULL };
	const char *bad_width[] = { "--width", "12x", FIXTURE, NULL };
	const char *unwritable[] = { "-o", "/nonexistent/dir/heap.svg", FIXTURE, NULL };
	const char *help[] = { "--help", NULL };
	struct output o;

	(void)state;
	expect_refusal(none, NULL, 2, "no trace file given");
	expect_refusal(two, NULL, 2, "give one trace file");
	expect_refusal(unknown, NULL, 2, "unknown option '--frobnicate'");
	expect_refusal(no_value, NULL, 2, "needs a value");
	expect_refusal(bad_format, NULL, 2, ".svg or .png");
	expect_refusal(bad_width, NULL, 2, "'12x'");
	expect_refusal(unwritable, NULL, 6, "cannot write /nonexistent/dir/heap.svg");

	plot(&o, help, NULL);
	assert_int_equal(o.status, 0);
	assert_true(strncmp(o.out, "Usage: memtrack-plot ", 21) == 0);
	output_free(&o);
}

/* A real trace: one series per traced process, with the fixture's peaks. */
static void test_real_trace(void **state)
{
	const char *cmd[] = { build_path("tests/fixtures/fork_child"), NULL };
	const char *args[3] = { NULL, NULL, NULL };
	struct output o;
	struct trace tr;
	long parent, child, pids[64];
	size_t npids = 0;

	(void)state;
	REQUIRE_BPF();
	trace_run(&tr, NULL, cmd);
	assert_int_equal(tr.status, 0);
	for (size_t i = 0; i < tr.nev; i++) {
		long pid = (long)jint(tr.ev[i], "pid");
		size_t j = 0;

		while (j < npids && pids[j] != pid)
			j++;
		if (pid >= 0 && j == npids && npids < 64)
			pids[npids++] = pid;
	}
	args[0] = tr.out_path;
	plot(&o, args, NULL);
	if (o.status != 0)
		fail_msg("exit %d: %s", o.status, o.err);
	assert_int_equal(count(o.out, "<g class=\"series\""), npids);
	assert_int_equal(npids, 2);
	parent = trace_exec_pid(&tr, "fork_child");
	child = (long)jint(trace_find(&tr, "Fork", -1), "pid");
	/* the parent: 111 bytes, freed, then 333; the child: 222 */
	check_series(o.out, parent, 333, -1, "333 B");
	check_series(o.out, child, 222, -1, "222 B");
	output_free(&o);
	trace_free(&tr);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixture_svg),
		cmocka_unit_test(test_stdin_to_stdout),
		cmocka_unit_test(test_fixture_png),
		cmocka_unit_test(test_bad_trace),
		cmocka_unit_test(test_usage_and_output_errors),
		cmocka_unit_test(test_real_trace),
	};

	return cmocka_run_group_tests_name("plot", tests, NULL, NULL);
}
