// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* -l PATH: probing an allocator that is not libc's. */
#include <string.h>

#include "test_support.h"

/*
 * The command runs with libsymbols.so preloaded, a bump allocator whose
 * malloc and free replace libc's: its calls reach libc only through -l.
 */
static void run_preloaded(struct trace *tr, bool probe_lib)
{
	static char preload[512];
	const char *opts[] = { "-v", "-l", build_path("tests/fixtures/libsymbols.so"), NULL };
	const char *cmd[] = { "/usr/bin/env", preload, build_path("tests/fixtures/exit_status"),
			      NULL };

	snprintf(preload, sizeof(preload), "LD_PRELOAD=%s",
		 build_path("tests/fixtures/libsymbols.so"));
	trace_run(tr, probe_lib ? opts : NULL, cmd);
	if (tr->status != 0)
		fail_msg("memtrack-load exited %d:\n%s", tr->status, tr->err);
}

/* exit_status's one malloc(10) and its free, after its Exec. */
static size_t count_fixture_pair(const struct trace *tr)
{
	long pid = trace_exec_pid(tr, "exit_status");
	bool after_exec = false;
	size_t pairs = 0;
	long long addr = 0;

	for (size_t i = 0; i < tr->nev; i++) {
		const char *type = jstr(tr->ev[i], "type");

		if (jint(tr->ev[i], "pid") != pid)
			continue;
		if (!strcmp(type, "Exec"))
			after_exec = strstr(jstr(tr->ev[i], "filename"), "exit_status") != NULL;
		else if (after_exec && !strcmp(type, "Malloc") && jint(tr->ev[i], "size") == 10)
			addr = jint(tr->ev[i], "addr");
		else if (after_exec && !strcmp(type, "Free") && addr &&
			 jint(tr->ev[i], "addr") == addr)
			pairs++;
	}
	return pairs;
}

static void test_lib_probes_a_preloaded_allocator(void **state)
{
	struct trace tr;

	(void)state;
	REQUIRE_BPF();
	run_preloaded(&tr, true);
	assert_non_null(strstr(tr.err, "libsymbols.so"));
	assert_int_equal(count_fixture_pair(&tr), 1);
	trace_free(&tr);
}

/* The control: without -l, libc's probes never see the preloaded allocator's calls. */
static void test_without_lib_the_allocator_is_unseen(void **state)
{
	struct trace tr;

	(void)state;
	REQUIRE_BPF();
	run_preloaded(&tr, false);
	assert_int_equal(count_fixture_pair(&tr), 0);
	trace_free(&tr);
}

/*
 * A wrapper whose calloc calls its own malloc, which tail-jumps to libc's:
 * probed on top of libc, one call of the program is still one event.
 */
static void test_wrapper_calls_are_one_event(void **state)
{
	static char preload[512];
	const char *opts[] = { "-l", build_path("tests/fixtures/libwrapper.so"), NULL };
	const char *cmd[] = { "/usr/bin/env", preload, build_path("tests/fixtures/wrapped"), NULL };
	struct json_object *drops;
	bool after_exec = false;
	char seq[256] = "";
	struct trace tr;
	long pid;

	(void)state;
	REQUIRE_BPF();
	snprintf(preload, sizeof(preload), "LD_PRELOAD=%s",
		 build_path("tests/fixtures/libwrapper.so"));
	trace_run(&tr, opts, cmd);
	assert_int_equal(tr.status, 0);
	pid = trace_exec_pid(&tr, "fixtures/wrapped");
	for (size_t i = 0; i < tr.nev; i++) {
		const char *type = jstr(tr.ev[i], "type");

		if (jint(tr.ev[i], "pid") != pid)
			continue;
		if (!strcmp(type, "Exec"))
			after_exec = strstr(jstr(tr.ev[i], "filename"), "fixtures/wrapped") != NULL;
		else if (after_exec && strcmp(type, "Exit") && strcmp(type, "Mapping") &&
			 strcmp(type, "Stack"))
			snprintf(seq + strlen(seq), sizeof(seq) - strlen(seq), "%s%s:%lld",
				 seq[0] ? " " : "", type, jint(tr.ev[i], "size"));
	}
	assert_string_equal(seq, "Calloc:330 Free:-1 Malloc:77 Free:-1");
	json_object_object_get_ex(trace_stats(&tr), "drops", &drops);
	assert_int_equal(jint(drops, "lost_return"), 0);
	trace_free(&tr);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lib_probes_a_preloaded_allocator),
		cmocka_unit_test(test_without_lib_the_allocator_is_unseen),
		cmocka_unit_test(test_wrapper_calls_are_one_event),
	};

	return cmocka_run_group_tests_name("allocator_lib", tests, NULL, NULL);
}
