// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "help_options.h"
#include "test_support.h"

void option_set_add(struct option_set *o, const char *name, size_t len)
{
	for (size_t i = 0; i < o->n; i++)
		if (strlen(o->v[i]) == len && strncmp(o->v[i], name, len) == 0)
			return;
	assert_true(o->n < OPTION_SET_MAX);
	o->v[o->n] = strndup(name, len);
	assert_non_null(o->v[o->n]);
	o->n++;
}

bool option_set_has(const struct option_set *o, const char *name)
{
	for (size_t i = 0; i < o->n; i++)
		if (strcmp(o->v[i], name) == 0)
			return true;
	return false;
}

void option_set_free(struct option_set *o)
{
	for (size_t i = 0; i < o->n; i++)
		free(o->v[i]);
	o->n = 0;
}

void option_set_scan(struct option_set *o, const char *text)
{
	for (const char *p = text; *p; p++) {
		size_t len;

		if (*p != '-' || (p > text && (isalnum((unsigned char)p[-1]) || p[-1] == '-')))
			continue;
		if (p[1] == '-' && isalpha((unsigned char)p[2])) {
			for (len = 2; isalnum((unsigned char)p[len]) || p[len] == '-'; len++)
				;
			option_set_add(o, p, len);
			p += len - 1;
		} else if (isalpha((unsigned char)p[1]) && !isalnum((unsigned char)p[2]) &&
			   p[2] != '-') {
			option_set_add(o, p, 2);
			p++;
		}
	}
}

/*
 * --help's options: the lines that start with one, indented two spaces
 * ("  -o, --output FILE") or six ("      --strict"), up to the gap before
 * the description; descriptions are indented further and not read.
 */
void help_options(const char *tool, struct option_set *o)
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
		gap = strstr(dash, "  ");
		if (gap)
			*gap = '\0';
		option_set_scan(o, dash);
	}
	output_free(&out);
	assert_true(o->n >= 4);
}

static size_t missing(const struct option_set *a, const char *a_name,
		      const struct option_set *b, const char *b_name, char *out, size_t size,
		      size_t n)
{
	for (size_t i = 0; i < a->n; i++)
		if (!option_set_has(b, a->v[i]))
			n += (size_t)snprintf(out + n, n < size ? size - n : 0,
					      " %s (in %s, not in %s)", a->v[i], a_name, b_name);
	return n < size ? n : size - 1;
}

void option_set_diff(const struct option_set *a, const char *a_name,
		     const struct option_set *b, const char *b_name, char *out, size_t size)
{
	out[0] = '\0';
	missing(b, b_name, a, a_name, out, size, missing(a, a_name, b, b_name, out, size, 0));
}
