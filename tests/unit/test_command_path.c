// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* loader/sys/command_path: finding the file a command name runs, as execvp(3) does. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "command_path.h"

/*
 * A scratch tree under /tmp:
 *   a/tool (0755)  b/tool (0755)  c/tool (0644)  d/tool/ (a directory)
 *   c/only_here (0644)  b/only_here (0755)  c/plain (0644)  cwd/here (0755)
 */
struct tree {
	char root[64];
	char a[96], b[96], c[96], d[96], cwd[96];
	char old_cwd[PATH_MAX];
};

static void make_file(const char *dir, const char *name, mode_t mode)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "#!/bin/sh\nexit 0\n", 17), 17);
	close(fd);
	assert_int_equal(chmod(path, mode), 0);
}

static void make_dir(char *buf, size_t size, const char *root, const char *name)
{
	snprintf(buf, size, "%s/%s", root, name);
	assert_int_equal(mkdir(buf, 0755), 0);
}

static int setup(void **state)
{
	struct tree *t = calloc(1, sizeof(*t));

	if (!t)
		return -1;
	snprintf(t->root, sizeof(t->root), "/tmp/memtrack-cmdpath-XXXXXX");
	if (!mkdtemp(t->root) || !getcwd(t->old_cwd, sizeof(t->old_cwd)))
		return -1;
	make_dir(t->a, sizeof(t->a), t->root, "a");
	make_dir(t->b, sizeof(t->b), t->root, "b");
	make_dir(t->c, sizeof(t->c), t->root, "c");
	make_dir(t->d, sizeof(t->d), t->root, "d");
	make_dir(t->cwd, sizeof(t->cwd), t->root, "cwd");
	make_file(t->a, "tool", 0755);
	make_file(t->b, "tool", 0755);
	make_file(t->c, "tool", 0644);
	make_file(t->c, "only_here", 0644);
	make_file(t->b, "only_here", 0755);
	make_file(t->c, "plain", 0644);
	make_file(t->cwd, "here", 0755);
	{
		char dtool[128];

		snprintf(dtool, sizeof(dtool), "%s/tool", t->d);
		assert_int_equal(mkdir(dtool, 0755), 0);
	}
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct tree *t = *state;
	char cmd[128];

	if (chdir(t->old_cwd))
		return -1;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->root);
	if (system(cmd))
		return -1;
	free(t);
	return 0;
}

/* "dir1:dir2:..." of the given directories. */
static const char *path_of(char *buf, size_t size, const char *d1, const char *d2, const char *d3)
{
	snprintf(buf, size, "%s%s%s%s%s", d1, d2 ? ":" : "", d2 ? d2 : "", d3 ? ":" : "",
		 d3 ? d3 : "");
	return buf;
}

static void a_name_with_a_slash_is_used_as_it_is(void **state)
{
	struct tree *t = *state;
	char path[256], buf[256], env[512];

	snprintf(path, sizeof(path), "%s/tool", t->b);
	/* even though a PATH directory has an executable of that name first */
	assert_int_equal(command_resolve(path, path_of(env, sizeof(env), t->a, NULL, NULL), buf,
					 sizeof(buf)),
			 0);
	assert_string_equal(buf, path);
	/* a relative path with a slash is not searched in PATH either */
	assert_int_equal(chdir(t->root), 0);
	assert_int_equal(command_resolve("a/tool", t->b, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "a/tool");
	assert_int_equal(command_resolve("./tool", t->a, buf, sizeof(buf)), -ENOENT);
}

static void path_entries_are_searched_in_order(void **state)
{
	struct tree *t = *state;
	char buf[256], env[512], want[256];

	assert_int_equal(command_resolve("tool", path_of(env, sizeof(env), t->a, t->b, NULL), buf,
					 sizeof(buf)),
			 0);
	snprintf(want, sizeof(want), "%s/tool", t->a);
	assert_string_equal(buf, want);
	assert_int_equal(command_resolve("tool", path_of(env, sizeof(env), t->b, t->a, NULL), buf,
					 sizeof(buf)),
			 0);
	snprintf(want, sizeof(want), "%s/tool", t->b);
	assert_string_equal(buf, want);
}

static void an_empty_path_entry_is_the_current_directory(void **state)
{
	struct tree *t = *state;
	char buf[256], env[512];

	assert_int_equal(chdir(t->cwd), 0);
	/* empty in the middle, at the start and at the end */
	snprintf(env, sizeof(env), "%s::%s", t->a, t->b);
	assert_int_equal(command_resolve("here", env, buf, sizeof(buf)), 0);
	assert_int_equal(access(buf, X_OK), 0);
	snprintf(env, sizeof(env), ":%s", t->a);
	assert_int_equal(command_resolve("here", env, buf, sizeof(buf)), 0);
	snprintf(env, sizeof(env), "%s:", t->a);
	assert_int_equal(command_resolve("here", env, buf, sizeof(buf)), 0);
	/* and the current directory takes its place in the order */
	snprintf(env, sizeof(env), "%s:", t->a);
	assert_int_equal(chdir(t->b), 0);
	assert_int_equal(command_resolve("tool", env, buf, sizeof(buf)), 0);
	assert_non_null(strstr(buf, "/a/tool"));
	/* without an empty entry the current directory is not searched */
	assert_int_equal(chdir(t->cwd), 0);
	assert_int_equal(command_resolve("here", t->a, buf, sizeof(buf)), -ENOENT);
}

static void a_non_executable_candidate_gives_eacces(void **state)
{
	struct tree *t = *state;
	char buf[256], env[512];

	assert_int_equal(command_resolve("plain", t->c, buf, sizeof(buf)), -EACCES);
	assert_int_equal(command_resolve("plain", path_of(env, sizeof(env), t->a, t->c, t->b), buf,
					 sizeof(buf)),
			 -EACCES);
	snprintf(env, sizeof(env), "%s/plain", t->c);
	assert_int_equal(command_resolve(env, NULL, buf, sizeof(buf)), -EACCES);
}

static void a_later_executable_wins_over_an_earlier_non_executable_one(void **state)
{
	struct tree *t = *state;
	char buf[256], env[512], want[256];

	assert_int_equal(command_resolve("only_here", path_of(env, sizeof(env), t->c, t->a, t->b),
					 buf, sizeof(buf)),
			 0);
	snprintf(want, sizeof(want), "%s/only_here", t->b);
	assert_string_equal(buf, want);
	/* a directory of that name earlier in PATH is skipped too */
	assert_int_equal(command_resolve("tool", path_of(env, sizeof(env), t->d, t->c, t->b), buf,
					 sizeof(buf)),
			 0);
	snprintf(want, sizeof(want), "%s/tool", t->b);
	assert_string_equal(buf, want);
}

static void a_directory_named_by_path_gives_eisdir(void **state)
{
	struct tree *t = *state;
	char buf[256], path[256];

	snprintf(path, sizeof(path), "%s/tool", t->d);
	assert_int_equal(command_resolve(path, NULL, buf, sizeof(buf)), -EISDIR);
	assert_int_equal(command_resolve(t->root, NULL, buf, sizeof(buf)), -EISDIR);
	/* found only as a directory through PATH: not executable, as execvp says */
	assert_int_equal(command_resolve("tool", t->d, buf, sizeof(buf)), -EACCES);
}

static void a_missing_command_gives_enoent(void **state)
{
	struct tree *t = *state;
	char buf[256], env[512], path[256];

	assert_int_equal(command_resolve("no-such-command-memtrack",
					 path_of(env, sizeof(env), t->a, t->b, t->c), buf,
					 sizeof(buf)),
			 -ENOENT);
	snprintf(path, sizeof(path), "%s/missing", t->a);
	assert_int_equal(command_resolve(path, NULL, buf, sizeof(buf)), -ENOENT);
	snprintf(path, sizeof(path), "%s/nodir/x", t->root);
	assert_int_equal(command_resolve(path, NULL, buf, sizeof(buf)), -ENOENT);
	assert_int_equal(command_resolve("", t->a, buf, sizeof(buf)), -ENOENT);
	/* PATH directories that do not exist are skipped */
	assert_int_equal(command_resolve("tool", "/nonexistent-memtrack-dir", buf, sizeof(buf)),
			 -ENOENT);
}

static void a_null_path_searches_bin_and_usr_bin(void **state)
{
	char buf[256];

	(void)state;
	assert_int_equal(command_resolve("sh", NULL, buf, sizeof(buf)), 0);
	assert_true(strcmp(buf, "/bin/sh") == 0 || strcmp(buf, "/usr/bin/sh") == 0);
	assert_int_equal(access(buf, X_OK), 0);
	assert_int_equal(command_resolve("no-such-command-memtrack", NULL, buf, sizeof(buf)),
			 -ENOENT);
}

static void a_path_too_long_for_the_buffer_is_not_found_truncated(void **state)
{
	struct tree *t = *state;
	char buf[8], path[256];

	snprintf(path, sizeof(path), "%s/tool", t->a);
	assert_int_equal(command_resolve(path, NULL, buf, sizeof(buf)), -ENAMETOOLONG);
	/* a PATH candidate that does not fit is not tried */
	assert_int_not_equal(command_resolve("tool", t->a, buf, sizeof(buf)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(a_name_with_a_slash_is_used_as_it_is, setup,
						teardown),
		cmocka_unit_test_setup_teardown(path_entries_are_searched_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(an_empty_path_entry_is_the_current_directory, setup,
						teardown),
		cmocka_unit_test_setup_teardown(a_non_executable_candidate_gives_eacces, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			a_later_executable_wins_over_an_earlier_non_executable_one, setup, teardown),
		cmocka_unit_test_setup_teardown(a_directory_named_by_path_gives_eisdir, setup,
						teardown),
		cmocka_unit_test_setup_teardown(a_missing_command_gives_enoent, setup, teardown),
		cmocka_unit_test(a_null_path_searches_bin_and_usr_bin),
		cmocka_unit_test_setup_teardown(
			a_path_too_long_for_the_buffer_is_not_found_truncated, setup, teardown),
	};

	return cmocka_run_group_tests_name("command_path", tests, NULL, NULL);
}
