// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The layout of loader/ is kept by the build: each role's files are
 * compiled with only the include paths that role allows (loader/README.md).
 * (memtrack-plot's drawing, in loader/cli/plot/, is the cli role's too.)
 * Here the compiler is asked, with each role's own flags (from the
 * Makefile), to include a header of each other part: those the direction
 * cli -> public API -> core -> sys/format/base allows must be found, the
 * others must not.
 */
#include <glob.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "test_support.h"

/* Does a file of role that includes header compile (syntax only)? */
static bool compiles(const char *role, const char *header)
{
	char cmd[1024];
	int status;

	snprintf(cmd, sizeof(cmd),
		 "printf '#include \"%s\"\\n' | ${CC:-cc} -fsyntax-only "
		 "$(make -s --no-print-directory BUILD=%s role-includes-%s) -x c - 2>/dev/null",
		 header, getenv("BUILD") ? getenv("BUILD") : "build", role);
	status = system(cmd);
	assert_true(status != -1 && WIFEXITED(status));
	return WEXITSTATUS(status) == 0;
}

struct rule {
	const char *role;
	const char *allowed[6];
	const char *refused[6];
};

/* For each role: headers of the parts it may use, and of those it may not. */
static const struct rule rules[] = {
	{ "base", { "u64_map.h", "error.h", "memtrack.h" },
	  { "elf_symbols.h", "json_event.h", "tracker.h", "summary.h", "cli_options.h" } },
	{ "sys", { "elf_symbols.h", "address_space.h", "grow_array.h" },
	  { "json_event.h", "tracker.h", "summary.h", "cli_options.h" } },
	{ "format", { "json_event.h", "json_put.h", "error.h" },
	  { "elf_symbols.h", "tracker.h", "summary.h", "cli_options.h" } },
	{ "core", { "tracker.h", "elf_symbols.h", "u64_map.h" },
	  { "json_event.h", "summary.h", "report_stack.h", "cli_options.h" } },
	{ "report", { "summary.h", "json_event.h", "elf_symbols.h", "stack_cache.h" },
	  { "tracker.h", "event_context.h", "cli_options.h" } },
	{ "cli", { "memtrack.h", "cli_options.h", "report_options.h" },
	  { "tracker.h", "summary.h", "json_event.h", "elf_symbols.h", "u64_map.h" } },
	/* memtrack-plot's drawing, loader/cli/plot/: a client as the tools are */
	{ "plot", { "memtrack.h", "canvas.h", "series.h" },
	  { "tracker.h", "summary.h", "json_event.h", "elf_symbols.h", "u64_map.h" } },
};

static void test_roles_include_only_what_they_may(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		const struct rule *r = &rules[i];

		for (size_t k = 0; k < 6 && r->allowed[k]; k++)
			if (!compiles(r->role, r->allowed[k]))
				fail_msg("loader/%s/ cannot include %s", r->role, r->allowed[k]);
		for (size_t k = 0; k < 6 && r->refused[k]; k++)
			if (compiles(r->role, r->refused[k]))
				fail_msg("loader/%s/ can include %s: the layout is not enforced",
					 r->role, r->refused[k]);
	}
}

/*
 * An include path does not stop "../core/tracker.h": no file of loader/
 * names a header by a path, so that the include paths are the whole rule.
 */
static void test_no_include_by_path(void **state)
{
	glob_t g;

	(void)state;
	assert_int_equal(glob("loader/*/*.[ch]", 0, NULL, &g), 0);
	assert_int_equal(glob("loader/*/*/*.[ch]", GLOB_APPEND, NULL, &g), 0);
	assert_true(g.gl_pathc > 40);
	for (size_t i = 0; i < g.gl_pathc; i++) {
		FILE *f = fopen(g.gl_pathv[i], "r");
		char line[512];
		size_t n = 0;

		assert_non_null(f);
		while (fgets(line, sizeof(line), f)) {
			const char *q = strstr(line, "#include \"");

			n++;
			if (q && strchr(q + 10, '/') && strchr(q + 10, '/') < strchr(q + 10, '"'))
				fail_msg("%s:%zu includes a header by its path: %s", g.gl_pathv[i],
					 n, line);
		}
		fclose(f);
	}
	globfree(&g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roles_include_only_what_they_may),
		cmocka_unit_test(test_no_include_by_path),
	};

	return cmocka_run_group_tests_name("layout", tests, NULL, NULL);
}
