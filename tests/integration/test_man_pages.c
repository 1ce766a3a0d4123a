// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Each tool's man page and its --help name the same options: every option
 * --help lists has its entry under OPTIONS in docs/TOOL.1, and every
 * option that section names is one --help lists. A man page that forgets
 * a new option, or keeps a removed one, fails here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "help_options.h"
#include "test_support.h"

/* roff text with \- as -, and font changes (\fB, \fR...) and quotes left out */
static void unroff(const char *in, char *out, size_t size)
{
	size_t n = 0;

	for (const char *p = in; *p && n + 1 < size; p++) {
		if (p[0] == '\\' && p[1] == '-') {
			out[n++] = '-';
			p++;
		} else if (p[0] == '\\' && p[1] == 'f' && p[2]) {
			p += 2;
		} else if (*p != '"') {
			out[n++] = *p;
		}
	}
	out[n] = '\0';
}

/*
 * The man page's options: the tag line of each .TP (and .TQ) entry in the
 * OPTIONS section, where a man page names what it describes.
 */
static void man_options(const char *tool, struct option_set *o)
{
	char path[256], line[1024], text[1024];
	bool in_options = false, tag = false;
	FILE *f;

	snprintf(path, sizeof(path), "docs/%s.1", tool);
	f = fopen(path, "r");
	if (!f)
		fail_msg("cannot read %s (run from the source tree)", path);
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, ".SH", 3) == 0) {
			in_options = strstr(line, "OPTIONS") != NULL;
			continue;
		}
		if (!in_options)
			continue;
		if (strncmp(line, ".TP", 3) == 0 || strncmp(line, ".TQ", 3) == 0) {
			tag = true;
			continue;
		}
		if (tag) {
			unroff(line, text, sizeof(text));
			option_set_scan(o, text);
			tag = false;
		}
	}
	fclose(f);
	assert_true(o->n >= 4);
}

static void same_options(const char *tool)
{
	struct option_set help = { 0 }, man = { 0 };
	char page[64], diff[2048];

	snprintf(page, sizeof(page), "docs/%s.1", tool);
	help_options(tool, &help);
	man_options(tool, &man);
	option_set_diff(&help, "--help", &man, page, diff, sizeof(diff));
	option_set_free(&help);
	option_set_free(&man);
	if (diff[0])
		fail_msg("%s: the man page and --help differ:%s", tool, diff);
}

static void test_memtrack_load(void **state)
{
	(void)state;
	same_options("memtrack-load");
}

static void test_memtrack_report(void **state)
{
	(void)state;
	same_options("memtrack-report");
}

static void test_memtrack_plot(void **state)
{
	(void)state;
	same_options("memtrack-plot");
}

/* the parsers themselves: a man page entry of several options, and a --help line */
static void test_parsers_read_what_they_should(void **state)
{
	struct option_set o = { 0 };
	char text[256];

	(void)state;
	unroff(".BR \\-\\-leaks \", \" \\-T \", \" \\-\\-min\\-size \" \" \\fIBYTES\\fR", text,
	       sizeof(text));
	option_set_scan(&o, text);
	assert_int_equal(o.n, 3);
	assert_true(option_set_has(&o, "--leaks") && option_set_has(&o, "-T") &&
		    option_set_has(&o, "--min-size"));
	option_set_free(&o);
	option_set_scan(&o, "  -p, --pid PID[,PID...] and-not-this -no --x2 -- -9");
	assert_int_equal(o.n, 3);
	assert_true(option_set_has(&o, "-p") && option_set_has(&o, "--pid") &&
		    option_set_has(&o, "--x2"));
	option_set_free(&o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parsers_read_what_they_should),
		cmocka_unit_test(test_memtrack_load),
		cmocka_unit_test(test_memtrack_report),
		cmocka_unit_test(test_memtrack_plot),
	};

	return cmocka_run_group_tests_name("man_pages", tests, NULL, NULL);
}
