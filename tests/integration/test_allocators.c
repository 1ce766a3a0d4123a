// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Allocators besides glibc's, from Debian's packages: jemalloc, tcmalloc
 * and mimalloc linked into a program, preloaded into one, and dlopen'd by
 * one; and C++'s operator new and delete. Each run must show exactly the
 * calls the program made: those of main, after the calls each library's
 * start-up makes (libstdc++'s exception pool of 72704 bytes; tcmalloc's
 * own two one-byte blocks, and two operator new calls of its C++ code).
 */
#include <string.h>

#include "test_support.h"

#define LIBDIR "/usr/lib/x86_64-linux-gnu/"

struct allocator {
	const char *name, *lib;
	const char *startup; /* what the library allocates before main */
};

static const struct allocator allocators[] = {
	{ "jemalloc", LIBDIR "libjemalloc.so.2", "Malloc:72704 " },
	{ "tcmalloc", LIBDIR "libtcmalloc_minimal.so.4",
	  "Malloc:72704 Malloc:1 Free Malloc:1 Free Malloc:16 Malloc:8 " },
	{ "mimalloc", LIBDIR "libmimalloc.so.2", "" },
};

#define FOR_EACH_ALLOCATOR(f, teardown)                                                    \
	{ #f "[jemalloc]", f, NULL, teardown, (void *)&allocators[0] },                   \
	{ #f "[tcmalloc]", f, NULL, teardown, (void *)&allocators[1] },                   \
	{                                                                                  \
		#f "[mimalloc]", f, NULL, teardown, (void *)&allocators[2]                 \
	}

static const struct allocator *allocator_of(void **state)
{
	return *state;
}

/* One traced run of cmd; its process's calls, as "Malloc:100 Free ...". */
static char *calls_of(const char *const *cmd, struct trace *tr)
{
	return trace_sequence(tr, trace_command(tr, NULL, cmd), 0);
}

/* Linked with the allocator: the standard API and its own (mallocx, tc_malloc, mi_malloc). */
static void test_linked(void **state)
{
	const struct allocator *a = allocator_of(state);
	char fixture[64], want[256];
	const char *cmd[2] = { NULL, NULL };
	struct trace tr;
	char *seen;

	REQUIRE_BPF();
	snprintf(fixture, sizeof(fixture), "tests/fixtures/alloc_with_%s", a->name);
	cmd[0] = build_path(fixture);
	snprintf(want, sizeof(want),
		 "%sMalloc:100 Free Calloc:100 Realloc:1000 Free AlignedAlloc:256@64 Free "
		 "Malloc:300 Free",
		 a->startup);
	seen = calls_of(cmd, &tr);
	assert_string_equal(seen, want);
	assert_non_null(strstr(tr.err, "0 events dropped"));
	free(seen);
	trace_free(&tr);
}

/* Preloaded into the same program built for glibc: the same calls. */
static void test_preloaded(void **state)
{
	const struct allocator *a = allocator_of(state);
	const char *cmd[] = { build_path("tests/fixtures/alloc_with_glibc"), NULL };
	char want[256];
	struct trace tr;
	char *seen;

	REQUIRE_BPF();
#ifdef __SANITIZE_ADDRESS__
	/*
	 * The preload is in memtrack-load's environment too, and an ASan
	 * build cannot share its process with another allocator: blocks of
	 * one are freed by the other.
	 */
	skip();
#endif
	snprintf(want, sizeof(want),
		 "%sMalloc:100 Free Calloc:100 Realloc:1000 Free AlignedAlloc:256@64 Free "
		 "Malloc:300 Free",
		 a->startup);
	/* memtrack-load passes its environment on to the command */
	assert_int_equal(setenv("LD_PRELOAD", a->lib, 1), 0);
	seen = calls_of(cmd, &tr);
	assert_string_equal(seen, want);
	free(seen);
	trace_free(&tr);
}

/* A failed test_preloaded must not leave its preload to the tests after it. */
static int forget_preload(void **state)
{
	(void)state;
	return unsetenv("LD_PRELOAD");
}

/* dlopen'd while traced: probed when its mapping is seen, then its calls are too. */
static void test_dlopened(void **state)
{
	const char *cmd[] = { build_path("tests/fixtures/dlopen_alloc"), LIBDIR "libmimalloc.so.2",
			      "mi_malloc", "mi_free", NULL };
	struct trace tr;
	char *seen;
	size_t len;

	(void)state;
	REQUIRE_BPF();
	seen = calls_of(cmd, &tr);
	len = strlen(seen);
	/* dlopen's own calls (glibc's) come first; the fixture's two calls last */
	assert_true(len >= 16);
	assert_string_equal(seen + len - 16, "Malloc:4000 Free");
	if (!strstr(tr.err, "libmimalloc.so.2.0, an allocator: probed only now"))
		fail_msg("no warning that mimalloc was probed late:\n%s", tr.err);
	free(seen);
	trace_free(&tr);
}

/* One process's allocation events as "Type:size[@align]/func", space-separated. */
static char *calls_with_funcs(const struct trace *tr, long pid)
{
	char *out = calloc(1, 4096);
	size_t len = 0;

	assert_non_null(out);
	for (size_t i = 0; i < tr->nev && len < 4000; i++) {
		struct json_object *e = tr->ev[i];
		const char *type = jstr(e, "type"), *func = jstr(e, "func");

		if (jint(e, "pid") != pid || !type || !strstr("Malloc Calloc Realloc AlignedAlloc Free", type))
			continue;
		len += (size_t)snprintf(out + len, 4096 - len, "%s%s", len ? " " : "", type);
		if (jint(e, "size") >= 0)
			len += (size_t)snprintf(out + len, 4096 - len, ":%lld", jint(e, "size"));
		if (jint(e, "align") >= 0)
			len += (size_t)snprintf(out + len, 4096 - len, "@%lld", jint(e, "align"));
		if (func)
			len += (size_t)snprintf(out + len, 4096 - len, "/%s", func);
	}
	return out;
}

/*
 * C++: every kind of operator new and delete is its own call, recorded
 * once (not again as the malloc inside it), and a leaked new is reported
 * at the line of main that made it.
 */
static void test_cxx_new_delete(void **state)
{
	const char *opts[] = { "--leaks", "--no-summary", NULL };
	const char *cmd[] = { build_path("tests/fixtures/cxx_new"), NULL };
	char where[64], *seen;
	struct trace tr;
	const char *leak;
	long pid;

	(void)state;
	REQUIRE_BPF();
	pid = trace_command(&tr, opts, cmd);
	seen = calls_with_funcs(&tr, pid);
	/* libstdc++'s exception pool is malloc'd before main */
	assert_string_equal(seen, "Malloc:72704 Malloc:4/operator new Malloc:100/operator new[] "
				  "AlignedAlloc:128@64/operator new Free/operator delete "
				  "Free/operator delete[] Free/operator delete Malloc:8/operator new");
	free(seen);
	leak = strstr(tr.err, "8 bytes in 1 block from pid ");
	assert_non_null(leak);
	snprintf(where, sizeof(where), "\tmain+0x");
	assert_non_null(strstr(leak, where));
	snprintf(where, sizeof(where), "cxx_new.cc:%d)",
		 source_line("tests/fixtures/cxx_new.cc", "LEAK_NEW"));
	assert_non_null(strstr(leak, where));
	trace_free(&tr);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		FOR_EACH_ALLOCATOR(test_linked, NULL),
		FOR_EACH_ALLOCATOR(test_preloaded, forget_preload),
		cmocka_unit_test(test_dlopened),
		cmocka_unit_test(test_cxx_new_delete),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
