// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* --mmap: anonymous mmap, mremap, munmap and brk as events; file mappings never. */
#include <string.h>

#include "test_support.h"

/* The events of pid of these types, from index *from on, one at a time. */
static struct json_object *next_of(const struct trace *tr, long pid, size_t *from)
{
	for (; *from < tr->nev; (*from)++) {
		struct json_object *e = tr->ev[*from];
		const char *type = jstr(e, "type");

		if (jint(e, "pid") == pid && type &&
		    (!strcmp(type, "Mmap") || !strcmp(type, "Munmap") || !strcmp(type, "Brk")))
			return tr->ev[(*from)++];
	}
	return NULL;
}

static void test_mmap_events(void **state)
{
	const char *opts[] = { "--mmap", "-T", NULL };
	const char *cmd[] = { build_path("tests/fixtures/mmap_direct"), NULL };
	struct json_object *e, *grown;
	long long one = (1 << 20) + 4096, two = (2 << 20) + 4096, base;
	struct trace tr;
	size_t i = 0;
	long pid;

	(void)state;
	REQUIRE_BPF();
	pid = trace_command(&tr, opts, cmd);
	/* the dynamic loader's own anonymous mappings come first; then the fixture's */
	do
		e = next_of(&tr, pid, &i);
	while (e && jint(e, "size") != one);
	assert_non_null(e);
	assert_string_equal(jstr(e, "type"), "Mmap");
	assert_string_equal(jstr(e, "func"), "mmap");
	assert_null(jstr(e, "error"));

	grown = next_of(&tr, pid, &i);
	assert_non_null(grown);
	assert_string_equal(jstr(grown, "func"), "mremap");
	assert_int_equal(jint(grown, "size"), two);
	assert_int_equal(jint(grown, "old_size"), one);
	assert_int_equal(jint(grown, "old_addr"), jint(e, "addr"));

	e = next_of(&tr, pid, &i);
	assert_string_equal(jstr(e, "type"), "Munmap");
	assert_int_equal(jint(e, "addr"), jint(grown, "addr"));
	assert_int_equal(jint(e, "size"), two);

	e = next_of(&tr, pid, &i);
	assert_string_equal(jstr(e, "type"), "Mmap");
	assert_int_equal(jint(e, "addr"), 0);
	assert_string_equal(jstr(e, "error"), "ENOMEM");

	e = next_of(&tr, pid, &i);
	assert_string_equal(jstr(e, "type"), "Brk");
	base = jint(e, "old_addr");
	assert_int_equal(jint(e, "addr"), base + 65536);
	e = next_of(&tr, pid, &i);
	assert_string_equal(jstr(e, "type"), "Brk");
	assert_int_equal(jint(e, "addr"), base);
	assert_null(next_of(&tr, pid, &i));

	/* the file it mapped and unmapped (4096 bytes) is not there at all */
	for (i = 0; (e = next_of(&tr, pid, &i));)
		assert_true(jint(e, "size") != 4096);
	assert_non_null(strstr(tr.err, "failed calls (not counted as allocations): mmap 1"));
	/* -T prints them too */
	assert_non_null(strstr(tr.err, " mremap 0x"));
	assert_non_null(strstr(tr.err, " size 4611686018427387904 failed: Cannot allocate memory\n"));
	trace_free(&tr);
}

/* Without --mmap, none of it. */
static void test_off_by_default(void **state)
{
	const char *cmd[] = { build_path("tests/fixtures/mmap_direct"), NULL };
	struct trace tr;

	(void)state;
	REQUIRE_BPF();
	trace_run(&tr, NULL, cmd);
	assert_int_equal(tr.status, 0);
	assert_int_equal(trace_count(&tr, "Mmap", -1), 0);
	assert_int_equal(trace_count(&tr, "Munmap", -1), 0);
	assert_int_equal(trace_count(&tr, "Brk", -1), 0);
	trace_free(&tr);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mmap_events),
		cmocka_unit_test(test_off_by_default),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
