// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Each tool's man page and its --help name the same options: every option
 * --help lists has its entry under OPTIONS in docs/TOOL.1, and every
 * option that section names is one --help lists. A man page that forgets
 * a new option, or keeps a removed one, fails here.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_support.h"

#define MAX_OPTIONS 96

struct options {
	char *v[MAX_OPTIONS];
	size_t n;
};

static void add(struct options *o, const char *name, size_t len)
{
	for (size_t i = 0; i < o->n; i++)
		if (strlen(o->v[i]) == len && strncmp(o->v[i], name, len) == 0)
			return;
	assert_true(o->n < MAX_OPTIONS);
	o->v[o->n] = strndup(name, len);
	assert_non_null(o->v[o->n]);
	o->n++;
}

static bool has(const struct options *o, const char *name)
{
	for (size_t i = 0; i < o->n; i++)
		if (strcmp(o->v[i], name) == 0)
			return true;
	return false;
}

static void options_free(struct options *o)
{
	for (size_t i = 0; i < o->n; i++)
		free(o->v[i]);
	o->n = 0;
}

/* Every -x and --name in text that stands as a word of its own. */
static void scan(struct options *o, const char *text)
{
	for (const char *p = text; *p; p++) {
		size_t len;

		if (*p != '-' || (p > text && (isalnum((unsigned char)p[-1]) || p[-1] == '-')))
			continue;
		if (p[1] == '-' && isalpha((unsigned char)p[2])) {
			for (len = 2; isalnum((unsigned char)p[len]) || p[len] == '-'; len++)
				;
			add(o, p, len);
			p += len - 1;
		} else if (isalpha((unsigned char)p[1]) && !isalnum((unsigned char)p[2]) &&
			   p[2] != '-') {
			add(o, p, 2);
			p++;
		}
	}
}

/*
 * --help's options: the lines that start with one, indented two spaces
 * ("  -o, --output FILE") or six ("      --strict"); their descriptions are
 * indented further and not read.
 */
static void help_options(const char *tool, struct options *o)
{
	const char *argv[] = { build_path(tool), "--help", NULL };
	struct output out;
	char *save = NULL;

	run_io(argv, NULL, NULL, 0, &out);
	assert_int_equal(out.status, 0);
	for (char *line = strtok_r(out.out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *dash = line + strspn(line, " "), *gap;

		if (strncmp(line, "  -", 3) != 0 && strncmp(line, "      --", 8) != 0)
			continue;
		/* the option and its value's name, before the description */
		gap = strstr(dash, "  ");
		if (gap)
			*gap = '\0';
		scan(o, dash);
	}
	output_free(&out);
	assert_true(o->n >= 4);
}

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
static void man_options(const char *tool, struct options *o)
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
			scan(o, text);
			tag = false;
		}
	}
	fclose(f);
	assert_true(o->n >= 4);
}

static void same_options(const char *tool)
{
	struct options help = { 0 }, man = { 0 };
	char missing[2048] = "";
	size_t n = 0;

	help_options(tool, &help);
	man_options(tool, &man);
	for (size_t i = 0; i < help.n; i++)
		if (!has(&man, help.v[i]))
			n += (size_t)snprintf(missing + n, n < sizeof(missing) ? sizeof(missing) - n : 0,
					      " %s (in --help, not in docs/%s.1)", help.v[i], tool);
	for (size_t i = 0; i < man.n; i++)
		if (!has(&help, man.v[i]))
			n += (size_t)snprintf(missing + n, n < sizeof(missing) ? sizeof(missing) - n : 0,
					      " %s (in docs/%s.1, not in --help)", man.v[i], tool);
	options_free(&help);
	options_free(&man);
	if (missing[0])
		fail_msg("%s: the man page and --help differ:%s", tool, missing);
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
	struct options o = { 0 };
	char text[256];

	(void)state;
	unroff(".BR \\-\\-leaks \", \" \\-T \", \" \\-\\-min\\-size \" \" \\fIBYTES\\fR", text,
	       sizeof(text));
	scan(&o, text);
	assert_int_equal(o.n, 3);
	assert_true(has(&o, "--leaks") && has(&o, "-T") && has(&o, "--min-size"));
	options_free(&o);
	scan(&o, "  -p, --pid PID[,PID...] and-not-this -no --x2 -- -9");
	assert_int_equal(o.n, 3);
	assert_true(has(&o, "-p") && has(&o, "--pid") && has(&o, "--x2"));
	options_free(&o);
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
