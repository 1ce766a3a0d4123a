/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The options a tool's --help lists, as a set of names (-o, --output), for
 * the tests that check what else names them: the man pages, the bash
 * completion.
 */
#ifndef MEMTRACK_HELP_OPTIONS_H
#define MEMTRACK_HELP_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>

#define OPTION_SET_MAX 96

struct option_set {
	char *v[OPTION_SET_MAX];
	size_t n;
};

/* name (len bytes) into o, once. */
void option_set_add(struct option_set *o, const char *name, size_t len);
bool option_set_has(const struct option_set *o, const char *name);
void option_set_free(struct option_set *o);
/* Every -x and --name in text that stands as a word of its own, into o. */
void option_set_scan(struct option_set *o, const char *text);
/* The options tool (built, under $BUILD) lists in its --help, into o. */
void help_options(const char *tool, struct option_set *o);

/*
 * The names one of a and b has and the other lacks, each followed by
 * "(in A, not in B)" with a_name and b_name, into out; empty if none.
 */
void option_set_diff(const struct option_set *a, const char *a_name,
		     const struct option_set *b, const char *b_name, char *out, size_t size);

#endif /* MEMTRACK_HELP_OPTIONS_H */
