// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * completions/memtrack.bash: what TAB offers for each tool. Its options
 * are each tool's --help options, no more and no fewer; fixed values,
 * files, PIDs (in a comma list too) where an option takes them. The
 * completion function is called as bash calls it, with COMP_WORDS and
 * COMP_CWORD set, and COMPREPLY read back.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "help_options.h"
#include "test_support.h"

#define SCRIPT                                                                         \
	"source completions/memtrack.bash || exit 1; COMP_WORDS=(\"$@\"); "           \
	"COMP_CWORD=$(($# - 1)); COMP_LINE=\"$*\"; COMP_POINT=${#COMP_LINE}; "        \
	"_memtrack \"$1\"; printf '%s\\n' \"${COMPREPLY[@]}\""

/* What TAB offers after words (NULL-terminated, the last the word being completed). */
static void complete(struct option_set *offered, const char *const *words)
{
	const char *argv[32] = { "/bin/bash", "-c", SCRIPT, "bash" };
	size_t n = 4;
	struct output o;
	char *save = NULL;

	for (size_t i = 0; words[i]; i++) {
		assert_true(n < 31);
		argv[n++] = words[i];
	}
	argv[n] = NULL;
	run_io(argv, NULL, NULL, 0, &o);
	if (o.status != 0)
		fail_msg("the completion failed (status %d): %s", o.status, o.err);
	for (char *w = strtok_r(o.out, "\n", &save); w; w = strtok_r(NULL, "\n", &save))
		option_set_add(offered, w, strlen(w));
	output_free(&o);
}

static void expect_exactly(const char *const *words, const char *const *want)
{
	struct option_set offered = { 0 }, wanted = { 0 };
	char diff[1024];

	complete(&offered, words);
	for (size_t i = 0; want[i]; i++)
		option_set_add(&wanted, want[i], strlen(want[i]));
	option_set_diff(&offered, "what TAB offers", &wanted, "what was expected", diff,
			sizeof(diff));
	option_set_free(&offered);
	option_set_free(&wanted);
	if (diff[0])
		fail_msg("after '%s ... %s':%s", words[0], words[1], diff);
}

/* "TOOL -" offers every option of TOOL --help, and nothing else */
static void same_options(const char *tool)
{
	const char *words[] = { tool, "-", NULL };
	struct option_set help = { 0 }, offered = { 0 };
	char diff[2048];

	help_options(tool, &help);
	complete(&offered, words);
	option_set_diff(&help, "--help", &offered, "the completion", diff, sizeof(diff));
	option_set_free(&help);
	option_set_free(&offered);
	if (diff[0])
		fail_msg("%s: --help and the completion differ:%s", tool, diff);
}

static void test_options_are_those_of_help(void **state)
{
	(void)state;
	same_options("memtrack-load");
	same_options("memtrack-report");
	same_options("memtrack-plot");
}

static void test_fixed_values(void **state)
{
	(void)state;
	expect_exactly((const char *[]){ "memtrack-load", "--source", "", NULL },
		       (const char *[]){ "uprobe", "usdt", NULL });
	expect_exactly((const char *[]){ "memtrack-load", "--unwind", "d", NULL },
		       (const char *[]){ "dwarf", NULL });
	/* --opt=value, which bash splits at the '=' */
	expect_exactly((const char *[]){ "memtrack-load", "--source", "=", "us", NULL },
		       (const char *[]){ "usdt", NULL });
	expect_exactly((const char *[]){ "memtrack-load", "--lea", NULL },
		       (const char *[]){ "--leaks", NULL });
	/* a number: nothing to offer */
	expect_exactly((const char *[]){ "memtrack-load", "--stack-depth", "", NULL },
		       (const char *[]){ NULL });
}

/* -p offers running PIDs, this one among them, after a comma too */
static void test_pids(void **state)
{
	char self[32], list[48];
	struct option_set offered = { 0 };

	(void)state;
	snprintf(self, sizeof(self), "%d", (int)getpid());
	snprintf(list, sizeof(list), "1,%d", (int)getpid());
	complete(&offered, (const char *[]){ "memtrack-load", "-p", self, NULL });
	assert_true(option_set_has(&offered, self));
	option_set_free(&offered);
	complete(&offered, (const char *[]){ "memtrack-load", "--pid", list, NULL });
	assert_true(option_set_has(&offered, list));
	for (size_t i = 0; i < offered.n; i++)
		if (strncmp(offered.v[i], "1,", 2) != 0)
			fail_msg("-p 1,N offered %s", offered.v[i]);
	option_set_free(&offered);
}

/* file options and the trace operand offer files */
static void test_files(void **state)
{
	char dir[] = "/tmp/memtrack-completion-XXXXXX", file[64], prefix[64];
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(file, sizeof(file), "%s/trace.jsonl", dir);
	snprintf(prefix, sizeof(prefix), "%s/tr", dir);
	f = fopen(file, "w");
	assert_non_null(f);
	fclose(f);
	expect_exactly((const char *[]){ "memtrack-load", "-o", prefix, NULL },
		       (const char *[]){ file, NULL });
	expect_exactly((const char *[]){ "memtrack-report", "--leaks", prefix, NULL },
		       (const char *[]){ file, NULL });
	expect_exactly((const char *[]){ "memtrack-plot", "--output", prefix, NULL },
		       (const char *[]){ file, NULL });
	expect_exactly((const char *[]){ "memtrack-report", "--pprof", prefix, NULL },
		       (const char *[]){ file, NULL });
	unlink(file);
	rmdir(dir);
}

/* memtrack-load's command: a command name, past the options and their values */
static void test_command(void **state)
{
	struct option_set offered = { 0 };

	(void)state;
	complete(&offered, (const char *[]){ "memtrack-load", "-d", "3", "--leaks", "bas", NULL });
	assert_true(option_set_has(&offered, "bash"));
	option_set_free(&offered);
	complete(&offered, (const char *[]){ "memtrack-load", "--", "bas", NULL });
	assert_true(option_set_has(&offered, "bash"));
	option_set_free(&offered);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_options_are_those_of_help),
		cmocka_unit_test(test_fixed_values),
		cmocka_unit_test(test_pids),
		cmocka_unit_test(test_files),
		cmocka_unit_test(test_command),
	};

	return cmocka_run_group_tests_name("completion", tests, NULL, NULL);
}
