// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * --pprof profiles as pprof itself reads them: Debian's golang-go, `go tool
 * pprof`, on the profile of tests/fixtures/leak_sites. Each sample type's
 * total (-top) is the summary's; the profile's time is the Header's (when
 * the trace began), and its mappings carry the ranges, file offsets and
 * build-ids of the trace's Mapping records (-raw). pprof is kept off the
 * network and out of the user's home: -symbolize=none, a HOME and GOCACHE
 * of its own, GOPROXY=off.
 */
#include <limits.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "test_support.h"

struct go_env {
	char dir[64];
	char *envp[8];
};

static void go_env_init(struct go_env *g)
{
	const char *path = getenv("PATH");

	snprintf(g->dir, sizeof(g->dir), "/tmp/memtrack-gopprof-XXXXXX");
	assert_non_null(mkdtemp(g->dir));
	assert_true(asprintf(&g->envp[0], "PATH=%s", path ? path : "/usr/bin:/bin") > 0);
	assert_true(asprintf(&g->envp[1], "HOME=%s", g->dir) > 0);
	assert_true(asprintf(&g->envp[2], "GOCACHE=%s/cache", g->dir) > 0);
	assert_true(asprintf(&g->envp[3], "PPROF_TMPDIR=%s", g->dir) > 0);
	g->envp[4] = strdup("GOPROXY=off");
	g->envp[5] = strdup("GOTOOLCHAIN=local");
	g->envp[6] = strdup("GOFLAGS=");
	g->envp[7] = NULL;
}

static void go_env_free(struct go_env *g)
{
	const char *rm[] = { "/bin/rm", "-rf", g->dir, NULL };

	for (size_t i = 0; g->envp[i]; i++)
		free(g->envp[i]);
	run_quiet(rm);
}

/* go, found in PATH (the test's helpers spawn by path); NULL if it is not there. */
static const char *go_path(void)
{
	static char found[PATH_MAX];
	const char *path = getenv("PATH");
	char *copy = strdup(path ? path : "/usr/bin:/bin"), *save = NULL;

	found[0] = '\0';
	for (char *d = copy ? strtok_r(copy, ":", &save) : NULL; d && !found[0];
	     d = strtok_r(NULL, ":", &save)) {
		snprintf(found, sizeof(found), "%s/go", d);
		if (access(found, X_OK))
			found[0] = '\0';
	}
	free(copy);
	return found[0] ? found : NULL;
}

/* Is `go tool pprof` here? Under CI it must be (tools/deps.sh installs golang-go). */
static bool have_go(void)
{
	const char *argv[] = { go_path(), "version", NULL };

	return argv[0] && run_quiet(argv) == 0;
}

#define REQUIRE_GO()                                                                     \
	do {                                                                             \
		if (!have_go()) {                                                        \
			if (getenv("CI"))                                                \
				fail_msg("go (golang-go) is required under CI");         \
			print_message("skipped: no go (apt-get install golang-go)\n");   \
			skip();                                                          \
		}                                                                        \
	} while (0)

/* go tool pprof with args, then the profile: its standard output (freed by the caller). */
static char *go_pprof(struct go_env *g, const char *const *args, const char *profile)
{
	const char *argv[16];
	struct output o;
	char *out;
	int n = 0;

	argv[n++] = go_path();
	argv[n++] = "tool";
	argv[n++] = "pprof";
	argv[n++] = "-symbolize=none";
	for (size_t i = 0; args[i]; i++)
		argv[n++] = args[i];
	argv[n++] = profile;
	argv[n] = NULL;
	run_io(argv, g->envp, NULL, 0, &o);
	if (o.status != 0)
		fail_msg("go tool pprof %s failed (%d): %s", args[0], o.status, o.err);
	out = strdup(o.out);
	output_free(&o);
	return out;
}

/* -top's "of N total" for a sample type, in its unit (bytes as B, counts bare). */
static long long pprof_total(struct go_env *g, const char *sample_index, const char *profile)
{
	char index[64];
	const char *args[] = { "-top", "-nodecount=1", "-unit=B", index, NULL };
	char *out, *p;
	long long total = -1;

	snprintf(index, sizeof(index), "-sample_index=%s", sample_index);
	out = go_pprof(g, args, profile);
	p = strstr(out, "% of ");
	if (!p || sscanf(p, "%% of %lld", &total) != 1)
		fail_msg("no total in pprof -top -sample_index=%s:\n%s", sample_index, out);
	free(out);
	return total;
}

/* The summary's column, summed over its processes. */
static long long summary_total(struct json_object *summary, const char *key)
{
	struct json_object *procs = json_object_object_get(summary, "processes");
	long long sum = 0;

	assert_non_null(procs);
	for (size_t i = 0; i < json_object_array_length(procs); i++)
		sum += jint(json_object_array_get_idx(procs, i), key);
	return sum;
}

/* The profile of the live run and its trace: summary totals, time, mappings. */
static void test_go_pprof_reads_what_the_summary_says(void **state)
{
	char path[] = "/tmp/memtrack-pprof-XXXXXX", want[256], *raw;
	const char *opts[] = { "--json", "--pprof", path, NULL };
	const char *cmd[] = { build_path("tests/fixtures/leak_sites"), NULL };
	const char *raw_args[] = { "-raw", NULL };
	static const struct {
		const char *index, *column;
	} types[] = {
		{ "alloc_objects", "allocs" },
		{ "alloc_space", "alloc_bytes" },
		{ "inuse_objects", "live_blocks" },
		{ "inuse_space", "live_bytes" },
	};
	struct json_object *summary, *header, *mapping = NULL;
	struct go_env g;
	struct trace tr;
	time_t sec;
	struct tm tm;
	long pid;

	(void)state;
	REQUIRE_BPF();
	REQUIRE_GO();
	close(mkstemp(path));
	go_env_init(&g);
	pid = trace_command(&tr, opts, cmd);
	summary = trace_report(&tr, "summary");

	/* every sample type's total, as pprof adds it up, is the summary's */
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		long long got = pprof_total(&g, types[i].index, path);

		print_message("# %s: pprof %lld, summary %lld\n", types[i].index, got,
			      summary_total(summary, types[i].column));
		assert_int_equal(got, summary_total(summary, types[i].column));
	}
	assert_int_equal(pprof_total(&g, "inuse_space", path), 5820); /* the fixture's leaks */

	raw = go_pprof(&g, raw_args, path);
	/* the time is the Header's anchor: when the trace began, not when it was written */
	header = tr.nev ? tr.ev[0] : NULL;
	assert_non_null(header);
	assert_string_equal(jstr(header, "type"), "Header");
	sec = (time_t)jint(header, "realtime_sec");
	assert_non_null(gmtime_r(&sec, &tm));
	strftime(want, sizeof(want), "\nTime: %Y-%m-%d %H:%M:%S", &tm);
	if (!strstr(raw, want))
		fail_msg("no '%s' in pprof -raw:\n%s", want + 1, raw);
	assert_non_null(strstr(raw, "\nDuration: "));

	/* the fixture's code mapping, as the trace recorded it: range/offset path build-id */
	for (size_t i = 0; i < tr.nev && !mapping; i++) {
		const char *p = jstr(tr.ev[i], "path");

		if (!strcmp(jstr(tr.ev[i], "type"), "Mapping") && jint(tr.ev[i], "pid") == pid &&
		    p && strlen(p) >= 10 && !strcmp(p + strlen(p) - 10, "leak_sites"))
			mapping = tr.ev[i];
	}
	assert_non_null(mapping);
	snprintf(want, sizeof(want), "0x%llx/0x%llx/0x%llx %s %s", jint(mapping, "start"),
		 jint(mapping, "end"), jint(mapping, "offset"), jstr(mapping, "path"),
		 jstr(mapping, "build_id"));
	assert_true(strlen(jstr(mapping, "build_id")) > 0);
	if (!strstr(raw, want))
		fail_msg("no mapping '%s' in pprof -raw:\n%s", want, raw);

	free(raw);
	json_object_put(summary);
	unlink(path);
	go_env_free(&g);
	trace_free(&tr);
}

/*
 * memtrack-report's profile of a trace without a Header (written before
 * there was one): no time is known, so none is claimed; pprof still reads it.
 */
static void test_a_trace_without_header_claims_no_time(void **state)
{
	char path[] = "/tmp/memtrack-pprof-XXXXXX", *raw;
	const char *argv[] = { build_path("memtrack-report"), "--pprof", path,
			       "tests/fixtures/two_procs.jsonl", NULL };
	const char *raw_args[] = { "-raw", NULL };
	struct go_env g;
	struct output o;

	(void)state;
	REQUIRE_GO();
	close(mkstemp(path));
	go_env_init(&g);
	run_io(argv, NULL, NULL, 0, &o);
	assert_int_equal(o.status, 0);
	raw = go_pprof(&g, raw_args, path);
	assert_null(strstr(raw, "\nTime: "));
	assert_non_null(strstr(raw, "\nSamples:"));
	free(raw);
	output_free(&o);
	unlink(path);
	go_env_free(&g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_go_pprof_reads_what_the_summary_says),
		cmocka_unit_test(test_a_trace_without_header_claims_no_time),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
