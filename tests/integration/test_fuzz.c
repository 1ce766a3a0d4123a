// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The fuzzing harnesses of tests/fuzz/, each run for a fixed number of
 * inputs from its seed corpus: a crash, a leak, a sanitizer's report or an
 * input that hangs fails the test, with libFuzzer's output. Runs, not
 * time, are fixed (and the seed too), so that a busy machine runs the
 * same inputs, only slower. Every crash found once is in the corpus, so
 * each run replays it first.
 */
#include <ftw.h>
#include <stdio.h>
#include <unistd.h>

#include "test_support.h"

#ifdef __SANITIZE_ADDRESS__
/*
 * The sanitizer build's pass (make SANITIZE=1) builds no fuzzers: they
 * carry ASan and UBSan already, and the plain pass runs them. One test
 * says so, not eleven.
 */
static void fuzzers_run_in_the_plain_build(void **state)
{
	(void)state;
	print_message("skipped: the fuzzers are sanitized already; the plain build's "
		      "test_fuzz runs them\n");
	skip();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fuzzers_run_in_the_plain_build),
	};

	return cmocka_run_group_tests_name("fuzz", tests, NULL, NULL);
}
#else

/* The harness and how many inputs it runs: about 7 s each on an idle 2-CPU machine. */
struct harness {
	const char *name;
	unsigned int runs;
};

/* One input may take this long under a second test run before it counts as a hang. */
#define INPUT_TIMEOUT_S 25
#define RSS_LIMIT_MB	2048
/* What a failure shows of libFuzzer's output without a report in it: its end. */
#define SHOWN_TAIL 4000

/* How a sanitizer's or libFuzzer's own report begins. */
static const char *const report_starts[] = { "==ERROR", "runtime error:", "ERROR: libFuzzer",
					     "ALARM: working on the last Unit" };

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Where in libFuzzer's output (err, NUL-terminated) the report begins, at its line's start. */
static const char *report_of(const char *err, size_t len)
{
	const char *first = NULL;

	for (size_t i = 0; i < sizeof(report_starts) / sizeof(report_starts[0]); i++) {
		const char *p = strstr(err, report_starts[i]);

		if (p && (!first || p < first))
			first = p;
	}
	if (!first)
		return len > SHOWN_TAIL ? err + len - SHOWN_TAIL : err;
	while (first > err && first[-1] != '\n')
		first--;
	return first;
}

static void fuzz(void **state)
{
	const struct harness *h = *state;
	char fuzzer[256], corpus[256], runs[32], timeout[32], rss[32], artifacts[64];
	char rel[64];
	char dir[] = "/tmp/memtrack-fuzz-XXXXXX";
	struct output o;
	const char *err;

	snprintf(rel, sizeof(rel), "fuzz/fuzz_%s", h->name);
	snprintf(fuzzer, sizeof(fuzzer), "%s", build_path(rel));
	snprintf(corpus, sizeof(corpus), "tests/fuzz/corpus/%s", h->name);
	if (access(fuzzer, X_OK))
		fail_msg("%s is not built: make fuzz (clang, libclang-rt-14-dev)", fuzzer);
	if (access(corpus, R_OK))
		fail_msg("no seed corpus %s (run the tests from the source tree)", corpus);
	assert_non_null(mkdtemp(dir));
	snprintf(runs, sizeof(runs), "-runs=%u", h->runs);
	snprintf(timeout, sizeof(timeout), "-timeout=%d", INPUT_TIMEOUT_S);
	snprintf(rss, sizeof(rss), "-rss_limit_mb=%d", RSS_LIMIT_MB);
	snprintf(artifacts, sizeof(artifacts), "-artifact_prefix=%s/", dir);
	{
		/*
		 * libFuzzer writes the inputs it finds into its first corpus
		 * directory only: a fresh one here, so that the committed
		 * corpus (the second) is read and never written.
		 */
		const char *argv[] = { fuzzer, runs, "-seed=1", timeout, rss, artifacts,
				       dir, corpus, NULL };

		run_io(argv, NULL, NULL, 0, &o);
	}
	err = report_of(o.err, o.err_len);
	/* cmocka cuts a message at 1 KiB: the report goes out before it, whole */
	if (o.status != 0 || !strstr(o.err, "Done ")) {
		nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
		print_message("%s\n", err);
		fail_msg("fuzz_%s exited %d without finishing its runs: a crash, leak, UB or "
			 "hang (libFuzzer's report above; the input is in it: rerun it with "
			 "%s FILE)",
			 h->name, o.status, fuzzer);
	}
	output_free(&o);
	assert_int_equal(nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS), 0);
}

/* A test named after its harness, with the harness as its state. */
#define HARNESS(h) { "fuzz_" #h, fuzz, NULL, NULL, (void *)&h }

static const struct harness trace_reader = { "trace_reader", 60000 };
static const struct harness proc_maps = { "proc_maps", 120000 };
static const struct harness proc_status = { "proc_status", 300000 };
static const struct harness cgroup_mount = { "cgroup_mount", 240000 };
static const struct harness command_path = { "command_path", 800000 };
static const struct harness elf_symbols = { "elf_symbols", 60000 };
static const struct harness usdt_notes = { "usdt_notes", 150000 };
static const struct harness usdt_spec = { "usdt_spec", 800000 };
static const struct harness cfi_table = { "cfi_table", 150000 };
static const struct harness options = { "options", 400000 };
static const struct harness probe_site = { "probe_site", 250000 };

int main(void)
{
	const struct CMUnitTest tests[] = {
		HARNESS(trace_reader), HARNESS(proc_maps),    HARNESS(proc_status),
		HARNESS(cgroup_mount), HARNESS(command_path), HARNESS(elf_symbols),
		HARNESS(usdt_notes),   HARNESS(usdt_spec),    HARNESS(cfi_table),
		HARNESS(options),      HARNESS(probe_site),
	};

	return cmocka_run_group_tests_name("fuzz", tests, NULL, NULL);
}
#endif /* __SANITIZE_ADDRESS__ */
