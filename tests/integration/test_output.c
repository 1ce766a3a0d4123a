// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* What memtrack-load writes: JSONL on stdout with -o -, and the summary on stderr. */
#include <string.h>

#include "test_support.h"

/* -o - puts only JSONL on stdout: every line parses, the last is Stats. */
static void test_jsonl_on_stdout(void **state)
{
	const char *argv[] = { build_path("memtrack-load"), "-o", "-", "--",
			       build_path("tests/fixtures/reuse"), NULL };
	char out[65536], *line, *save = NULL;
	struct json_object *last = NULL;
	int lines = 0;

	(void)state;
	REQUIRE_BPF();
	/* stderr (the summary) is captured too: keep only lines that start with '{' */
	assert_int_equal(run_capture(argv, out, sizeof(out)), 0);
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (line[0] != '{')
			continue;
		if (last)
			json_object_put(last);
		last = json_tokener_parse(line);
		assert_non_null(last);
		lines++;
	}
	/* Exec, 2 x (Malloc, Free), Exit, Stats */
	assert_int_equal(lines, 7);
	assert_string_equal(jstr(last, "type"), "Stats");
	assert_int_equal(jint(last, "events"), 6);
	json_object_put(last);
}

/* The summary row of a known fixture, column by column. */
static void test_summary_columns(void **state)
{
	const char *cmd[] = { build_path("tests/fixtures/malloc_free"), NULL };
	char row[256], comm[32];
	unsigned long long allocs, frees, alloc, freed, real, peak, req;
	struct trace tr;
	long pid, ppid;
	const char *p;
	char status[16];

	(void)state;
	REQUIRE_BPF();
	trace_run(&tr, NULL, cmd);
	assert_int_equal(tr.status, 0);
	pid = trace_exec_pid(&tr, "malloc_free");
	assert_non_null(strstr(tr.err, "PID     PPID    Allocs     Frees        Alloc         Free"
					"         Real     Real.max      Req.max   Exit  Comm"));
	snprintf(row, sizeof(row), "\n%8ld ", pid);
	p = strstr(tr.err, row);
	assert_non_null(p);
	assert_int_equal(sscanf(p, "%ld %ld %llu %llu %llu %llu %llu %llu %llu %15s %31s", &pid,
				&ppid, &allocs, &frees, &alloc, &freed, &real, &peak, &req, status,
				comm),
			 11);
	/* 100 + 200, then 1000..1099 all live at once */
	assert_int_equal(allocs, 102);
	assert_int_equal(frees, 102);
	assert_int_equal(alloc, 300 + 104950);
	assert_int_equal(freed, alloc);
	assert_int_equal(real, 0);
	assert_int_equal(peak, 104950);
	assert_int_equal(req, 1099);
	assert_string_equal(status, "0");
	assert_string_equal(comm, "malloc_free");
	assert_non_null(strstr(tr.err, "memtrack: 0 events dropped (ringbuf_full 0, map_full 0, "
				       "no_memory 0, read_fault 0, lost_return 0, other 0)"));
	trace_free(&tr);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_jsonl_on_stdout),
		cmocka_unit_test(test_summary_columns),
	};

	return cmocka_run_group_tests_name("output", tests, NULL, NULL);
}
