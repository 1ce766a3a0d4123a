// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The shim under real programs from Debian: the same output and exit
 * status with libmemtrack-usdt.so preloaded (idle) and under
 * memtrack-load --source usdt (listening) as without it, and the traced
 * run sees their allocations.
 */
#include <string.h>
#include <unistd.h>

#include "test_support.h"

struct program {
	const char *name;
	const char *argv[8];
	const char *input;
	bool allocates; /* gzip works in static buffers: it never calls malloc */
};

static const struct program programs[] = {
	{ "python3",
	  { "/usr/bin/python3", "-c",
	    "import json, collections\n"
	    "d = collections.Counter(str(i % 7) for i in range(5000))\n"
	    "print(json.dumps(sorted(d.items())))\n"
	    "print(sum(x * x for x in range(20000)))" },
	  "", true },
	{ "perl",
	  { "/usr/bin/perl", "-e",
	    "my %h; $h{$_} = $_ * 2 for 1 .. 2000;"
	    "print join(',', (sort { $a <=> $b } keys %h)[0 .. 9]), qq(\\n);" },
	  "", true },
	{ "sort", { "/usr/bin/sort", "-r" }, "banana\napple\ncherry\ndate\n", true },
	{ "gzip", { "/bin/gzip", "-n", "-9", "-c" }, "memtrack memtrack memtrack\n", false },
	{ "git", { "/usr/bin/git", "hash-object", "--stdin" }, "what is hashed\n", true },
};

static void run_one(const struct program *p, const char *const *argv, char *const *envp,
		    struct output *o)
{
	run_io(argv, envp, p->input, strlen(p->input), o);
	(void)p;
}

static void expect_same(const struct program *p, const char *how, const struct output *plain,
			const struct output *o)
{
	if (o->status != plain->status)
		fail_msg("%s %s: exit %d, %d without the shim:\n%s", p->name, how, o->status,
			 plain->status, o->err);
	if (o->out_len != plain->out_len || memcmp(o->out, plain->out, o->out_len))
		fail_msg("%s %s: stdout differs from the run without the shim:\n%s\n--- vs ---\n%s",
			 p->name, how, o->out, plain->out);
}

static void test_programs_under_the_shim(void **state)
{
	char preload[512], *envp[] = { preload, "PATH=/usr/bin:/bin", "HOME=/tmp", NULL };
	char *plain_env[] = { "PATH=/usr/bin:/bin", "HOME=/tmp", NULL };

	(void)state;
	REQUIRE_BPF();
	snprintf(preload, sizeof(preload), "LD_PRELOAD=%s", build_path("libmemtrack-usdt.so"));
	for (size_t i = 0; i < sizeof(programs) / sizeof(programs[0]); i++) {
		const struct program *p = &programs[i];
		const char *traced[16] = { build_path("memtrack-load"), "--source", "usdt", "-o",
					   "/tmp/memtrack-shim-programs.jsonl", "--" };
		struct output plain, idle, listening;
		FILE *f;
		char line[512];
		size_t mallocs = 0;

		for (size_t k = 0; p->argv[k]; k++)
			traced[6 + k] = p->argv[k];
		run_one(p, p->argv, plain_env, &plain);
		assert_int_equal(plain.status, 0);
		run_one(p, p->argv, envp, &idle);
		expect_same(p, "with the shim idle", &plain, &idle);
		run_one(p, traced, plain_env, &listening);
		expect_same(p, "traced through the shim", &plain, &listening);

		f = fopen("/tmp/memtrack-shim-programs.jsonl", "r");
		assert_non_null(f);
		while (fgets(line, sizeof(line), f))
			mallocs += strncmp(line, "{\"type\":\"Malloc\"", 16) == 0;
		fclose(f);
		if (p->allocates && mallocs == 0)
			fail_msg("%s: the traced run saw no malloc at all", p->name);
		print_message("%s: same output and status; %zu mallocs traced\n", p->name, mallocs);
		output_free(&plain);
		output_free(&idle);
		output_free(&listening);
	}
	unlink("/tmp/memtrack-shim-programs.jsonl");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_programs_under_the_shim),
	};

	return cmocka_run_group_tests_name("shim_programs", tests, NULL, NULL);
}
