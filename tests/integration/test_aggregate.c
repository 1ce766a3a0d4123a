// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Report-only runs: without -o or -T the kernel keeps the totals and live
 * blocks itself (bpf/aggregate.bpf.h) and memtrack-load reads them at the
 * end. Every report must be what the same run gives when every event is
 * streamed (--no-aggregate), and a full live-blocks map must be a counted
 * drop.
 */
#include "test_support.h"

/*
 * Keys whose values differ from run to run: addresses, pids, times, hashes
 * of addresses; and stack_cuts, which count walks that met an object
 * before its unwind rows were loaded, a race with the table loader that a
 * busy machine makes either way (no accounting depends on it).
 */
static const char *const varying[] = {
	"pid",	      "ppid",	    "addr",	  "timestamp", "min_age_ns", "max_age_ns",
	"oldest_ns",  "avg_age_ns", "ip",	  "stack_id",  "ringbuf_peak", "stacks",
	"live_peak",  "max_live",   "stack_cuts",
};

static bool is_varying(const char *key)
{
	for (size_t i = 0; i < sizeof(varying) / sizeof(varying[0]); i++)
		if (strcmp(key, varying[i]) == 0)
			return true;
	return false;
}

static void strip_varying(struct json_object *o)
{
	if (json_object_is_type(o, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(o); i++)
			strip_varying(json_object_array_get_idx(o, i));
		return;
	}
	if (!json_object_is_type(o, json_type_object))
		return;
	/* collect first: deleting while iterating is not allowed */
	const char *gone[32];
	size_t n = 0;

	json_object_object_foreach(o, key, value)
	{
		if (is_varying(key) && n < 32)
			gone[n++] = key;
		else
			strip_varying(value);
	}
	for (size_t i = 0; i < n; i++)
		json_object_object_del(o, gone[i]);
}

/* memtrack-load's JSON reports of cmd, one per line, with what varies taken out. */
static char *reports_of(void **state, const char *const *extra, const char *const *cmd)
{
	const char *argv[32];
	struct output o;
	size_t n = 0, len = 0;
	char *all = NULL, *line, *save = NULL;

	argv[n++] = build_path("memtrack-load");
	argv[n++] = "--source";
	argv[n++] = SOURCE_OF(state);
	argv[n++] = "--json";
	argv[n++] = "--leaks";
	argv[n++] = "-m";
	argv[n++] = "-s";
	for (size_t i = 0; extra && extra[i]; i++)
		argv[n++] = extra[i];
	argv[n++] = "--";
	for (size_t i = 0; cmd[i]; i++)
		argv[n++] = cmd[i];
	argv[n] = NULL;
	run_io(argv, NULL, NULL, 0, &o);
	if (o.status != 0)
		fail_msg("memtrack-load exited %d:\n%s", o.status, o.err);
	for (line = strtok_r(o.err, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct json_object *doc = json_tokener_parse(line);
		const char *text;

		if (!doc)
			fail_msg("not JSON on stderr: %s", line);
		strip_varying(doc);
		text = json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN);
		all = realloc(all, len + strlen(text) + 2);
		assert_non_null(all);
		len += (size_t)sprintf(all + len, "%s\n", text);
		json_object_put(doc);
	}
	output_free(&o);
	assert_non_null(all);
	return all;
}

/* The fixtures, each traced report-only and streamed: the same reports. */
static void test_same_reports_as_streaming(void **state)
{
	static const char *const filter[] = { "--min-size", "150", "--max-size", "2000", NULL };
	const struct {
		const char *fixture, *arg;
		const char *const *extra;
	} runs[] = {
		{ "leak_sites", NULL, NULL },  { "leak_sites", NULL, filter },
		{ "leaky", NULL, NULL },       { "fork_child", NULL, NULL },
		{ "calloc_realloc", NULL, NULL }, { "aligned", NULL, NULL },
		{ "reuse", NULL, NULL },       { "exec_keeps", "tests/fixtures/leaky", NULL },
	};

	REQUIRE_BPF();
	for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
		char fixture[64];
		const char *cmd[] = { NULL, runs[i].arg ? build_path(runs[i].arg) : NULL, NULL };
		const char *extra[8] = { "--no-aggregate" };
		char *kernel, *streamed;

		snprintf(fixture, sizeof(fixture), "tests/fixtures/%s", runs[i].fixture);
		cmd[0] = build_path(fixture);
		for (size_t j = 0; runs[i].extra && runs[i].extra[j]; j++)
			extra[j + 1] = runs[i].extra[j];
		kernel = reports_of(state, runs[i].extra, cmd);
		streamed = reports_of(state, extra, cmd);
		if (strcmp(kernel, streamed) != 0) {
			size_t at = 0;

			while (kernel[at] && kernel[at] == streamed[at])
				at++;
			at = at > 120 ? at - 120 : 0; /* where they part, with what comes before */
			fail_msg("%s%s: report-only and streamed reports differ:\n%.300s\n---\n%.300s",
				 runs[i].fixture, runs[i].extra ? " (sizes)" : "", kernel + at,
				 streamed + at);
		}
		print_message("%s%s: the same\n", runs[i].fixture, runs[i].extra ? " (sizes)" : "");
		free(kernel);
		free(streamed);
	}
}

/*
 * exec releases the old image's blocks: only the new image's leaks are
 * left. (With the USDT source the shim takes itself out of the exec'd
 * program's LD_PRELOAD, so only the uprobe source sees the new image.)
 */
static void test_exec_releases_blocks(void **state)
{
	const char *cmd[] = { build_path("tests/fixtures/exec_keeps"),
			      build_path("tests/fixtures/leaky"), NULL };
	char *r;

	REQUIRE_BPF();
	r = reports_of(state, NULL, cmd);
	/* leaky keeps 15769 bytes in 5 blocks; the 500 before exec are freed */
	assert_non_null(strstr(r, "{\"report\":\"leaks\",\"bytes\":15769,\"blocks\":5,"));
	assert_non_null(strstr(r, "\"alloc_bytes\":16874,")); /* 500 + leaky's 16374 */
	assert_non_null(strstr(r, "\"live_bytes\":15769,"));
	free(r);
}

/* A live-blocks map that fills up drops allocations, counted; --strict fails. */
static void test_full_map_is_a_counted_drop(void **state)
{
	const char *argv[] = { build_path("memtrack-load"), "--source", SOURCE_OF(state),
			       "--max-live", "3", "-s", "--strict", "--",
			       build_path("tests/fixtures/leak_sites"), NULL };
	struct output o;

	REQUIRE_BPF();
	run_io(argv, NULL, NULL, 0, &o);
	assert_int_equal(o.status, 7);
	assert_non_null(strstr(o.err, "live-block map: fullest 3 of 3 blocks (100.0%)"));
	assert_null(strstr(o.err, "map_full 0,"));
	assert_non_null(strstr(o.err, "events were dropped (--strict)"));
	output_free(&o);
}

/* Out-of-range --max-live is a usage error naming the value. */
static void test_max_live_usage(void **state)
{
	const char *argv[] = { build_path("memtrack-load"), "--max-live", "0", "--", "true", NULL };
	struct output o;

	(void)state;
	run_io(argv, NULL, NULL, 0, &o);
	assert_int_equal(o.status, 2);
	assert_non_null(strstr(o.err, "invalid number of live blocks '0'"));
	output_free(&o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		BOTH_SOURCES(test_same_reports_as_streaming),
		{ "test_exec_releases_blocks", test_exec_releases_blocks, NULL, NULL,
		  (void *)"uprobe" },
		BOTH_SOURCES(test_full_map_is_a_counted_drop),
		cmocka_unit_test(test_max_live_usage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
