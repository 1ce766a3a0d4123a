// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* loader/sys/libc_locate: the one place that finds the C library. */
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

#include "libc_locate.h"

static const char *build_dir(void)
{
	const char *b = getenv("BUILD");

	return b && *b ? b : "build";
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

static void libc_names_are_recognised(void **state)
{
	(void)state;
	assert_true(libc_is_libc_name("libc.so.6"));
	assert_true(libc_is_libc_name("libc-2.31.so"));
	assert_true(libc_is_libc_name("libc-2.17.so"));
	assert_true(libc_is_libc_name("ld-musl-x86_64.so.1"));
	assert_true(libc_is_libc_name("ld-musl-aarch64.so.1"));
}

static void other_names_are_not_libc(void **state)
{
	(void)state;
	assert_false(libc_is_libc_name("libcrypt.so.1"));
	assert_false(libc_is_libc_name("libc.so"));
	assert_false(libc_is_libc_name("libc-foo.so"));
	assert_false(libc_is_libc_name("libc-2.31.so.debug"));
	assert_false(libc_is_libc_name("libc.so.6.bak"));
	assert_false(libc_is_libc_name("libcap.so.2"));
	assert_false(libc_is_libc_name("ld-linux-x86-64.so.2"));
	assert_false(libc_is_libc_name(""));
}

/* libc_from_maps on a text, as /proc/PID/maps would give it. */
static int from_maps(const char *text, char *buf, size_t size)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	int err;

	assert_non_null(f);
	err = libc_from_maps(f, buf, size);
	fclose(f);
	return err;
}

static void the_first_libc_mapping_wins(void **state)
{
	static const char maps[] =
		"55d0c0a00000-55d0c0a02000 r--p 00000000 fd:01 1234   /usr/bin/cat\n"
		"55d0c1000000-55d0c1021000 rw-p 00000000 00:00 0      [heap]\n"
		"7f1c29f00000-7f1c29f10000 r--p 00000000 fd:01 777    "
		"/usr/lib/x86_64-linux-gnu/libcrypt.so.1\n"
		"7f1c2a000000-7f1c2a022000 r--p 00000000 fd:01 456    "
		"/usr/lib/x86_64-linux-gnu/libc.so.6\n"
		"7f1c2a022000-7f1c2a197000 r-xp 00022000 fd:01 456    "
		"/usr/lib/x86_64-linux-gnu/libc.so.6\n"
		"7f1c2b000000-7f1c2b022000 r--p 00000000 fd:01 999    /opt/other/libc.so.6\n"
		"7ffd1e000000-7ffd1e021000 rw-p 00000000 00:00 0      [stack]\n";
	char buf[256];

	(void)state;
	assert_int_equal(from_maps(maps, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/usr/lib/x86_64-linux-gnu/libc.so.6");
}

static void deleted_mappings_are_skipped(void **state)
{
	static const char maps[] =
		"7f1c2a000000-7f1c2a022000 r--p 00000000 fd:01 456    "
		"/usr/lib/x86_64-linux-gnu/libc.so.6 (deleted)\n"
		"7f1c2b000000-7f1c2b022000 r--p 00000000 fd:01 457    "
		"/lib/x86_64-linux-gnu/libc-2.31.so\n";
	static const char only_deleted[] =
		"7f1c2a000000-7f1c2a022000 r--p 00000000 fd:01 456    "
		"/usr/lib/x86_64-linux-gnu/libc.so.6 (deleted)\n";
	char buf[256];

	(void)state;
	assert_int_equal(from_maps(maps, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/lib/x86_64-linux-gnu/libc-2.31.so");
	assert_int_equal(from_maps(only_deleted, buf, sizeof(buf)), -ENOENT);
}

static void maps_without_a_libc_give_enoent(void **state)
{
	static const char static_binary[] =
		"00400000-00401000 r--p 00000000 fd:01 1234   /usr/sbin/ldconfig\n"
		"00401000-00480000 r-xp 00001000 fd:01 1234   /usr/sbin/ldconfig\n"
		"01a5e000-01a81000 rw-p 00000000 00:00 0      [heap]\n"
		"7ffd1e000000-7ffd1e021000 rw-p 00000000 00:00 0      [stack]\n"
		"7ffd1e1f0000-7ffd1e1f4000 r--p 00000000 00:00 0      [vvar]\n";
	char buf[256] = "untouched";

	(void)state;
	assert_int_equal(from_maps(static_binary, buf, sizeof(buf)), -ENOENT);
	assert_int_equal(from_maps("", buf, sizeof(buf)), -ENOENT);
	assert_string_equal(buf, "untouched");
}

static void lines_without_a_path_are_ignored(void **state)
{
	static const char maps[] =
		"7f1c29000000-7f1c29100000 rw-p 00000000 00:00 0\n"
		"7f1c29100000-7f1c29200000 ---p 00000000 00:00 0 \n"
		"7ffd1e1f4000-7ffd1e1f6000 r-xp 00000000 00:00 0      [vdso]\n"
		"7f1c2a000000-7f1c2a022000 r--p 00000000 fd:01 456    /lib/ld-musl-x86_64.so.1";
	char buf[256];

	(void)state;
	/* the last line has no newline, as a truncated read would leave it */
	assert_int_equal(from_maps(maps, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/lib/ld-musl-x86_64.so.1");
}

static void a_path_with_spaces_is_kept_whole(void **state)
{
	static const char maps[] =
		"7f1c2a000000-7f1c2a022000 r--p 00000000 fd:01 456    /opt/my libs/libc.so.6\n";
	char buf[256];

	(void)state;
	assert_int_equal(from_maps(maps, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/opt/my libs/libc.so.6");
}

static void a_libc_path_longer_than_the_buffer_is_an_error(void **state)
{
	static const char maps[] =
		"7f1c2a000000-7f1c2a022000 r--p 00000000 fd:01 456    "
		"/usr/lib/x86_64-linux-gnu/libc.so.6\n";
	char buf[8];

	(void)state;
	assert_int_equal(from_maps(maps, buf, sizeof(buf)), -ENAMETOOLONG);
}

/* Same root directory as ours: the plain path, which outlives the process. */
static void libc_of_this_process_is_its_mapped_path(void **state)
{
	char buf[PATH_MAX];

	(void)state;
	assert_int_equal(libc_of_pid(getpid(), buf, sizeof(buf)), 0);
	assert_int_equal(buf[0], '/');
	assert_null(strstr(buf, "/proc/"));
	assert_true(libc_is_libc_name(base_name(buf)));
	assert_int_equal(access(buf, R_OK), 0);
}

static void libc_of_a_nonexistent_pid_is_esrch(void **state)
{
	char buf[PATH_MAX];

	(void)state;
	/* above any pid_max the kernel allows (2^22) */
	assert_int_equal(libc_of_pid(INT_MAX, buf, sizeof(buf)), -ESRCH);
}

static void libc_of_a_dynamic_executable_is_beside_its_loader(void **state)
{
	char buf[PATH_MAX];

	(void)state;
	assert_int_equal(libc_of_executable("/bin/true", buf, sizeof(buf)), 0);
	assert_string_equal(base_name(buf), "libc.so.6");
	assert_int_equal(buf[0], '/');
	assert_int_equal(access(buf, R_OK), 0);
}

/* A scratch directory with scripts and a file that is neither ELF nor a script. */
struct scratch {
	char dir[64];
};

static void write_file(const char *dir, const char *name, const char *text, mode_t mode,
		       char *path, size_t size)
{
	int fd;

	snprintf(path, size, "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static int scratch_setup(void **state)
{
	struct scratch *s = calloc(1, sizeof(*s));

	if (!s)
		return -1;
	snprintf(s->dir, sizeof(s->dir), "/tmp/memtrack-libc-XXXXXX");
	if (!mkdtemp(s->dir))
		return -1;
	*state = s;
	return 0;
}

static int scratch_teardown(void **state)
{
	struct scratch *s = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", s->dir);
	if (system(cmd))
		return -1;
	free(s);
	return 0;
}

static void a_script_gets_the_libc_of_its_interpreter(void **state)
{
	struct scratch *s = *state;
	char script[128], inner[128], outer[128], sh_libc[PATH_MAX], buf[PATH_MAX];
	char text[256];

	assert_int_equal(libc_of_executable("/bin/sh", sh_libc, sizeof(sh_libc)), 0);
	write_file(s->dir, "plain.sh", "#!/bin/sh\necho hi\n", 0755, script, sizeof(script));
	assert_int_equal(libc_of_executable(script, buf, sizeof(buf)), 0);
	assert_string_equal(buf, sh_libc);
	/* blanks before the interpreter and arguments after it */
	write_file(s->dir, "args.sh", "#! \t/bin/sh -eu\n", 0755, script, sizeof(script));
	memset(buf, 0, sizeof(buf));
	assert_int_equal(libc_of_executable(script, buf, sizeof(buf)), 0);
	assert_string_equal(buf, sh_libc);
	/* a script whose interpreter is itself a script */
	write_file(s->dir, "inner", "#!/bin/sh\n", 0755, inner, sizeof(inner));
	snprintf(text, sizeof(text), "#!%s\n", inner);
	write_file(s->dir, "outer", text, 0755, outer, sizeof(outer));
	memset(buf, 0, sizeof(buf));
	assert_int_equal(libc_of_executable(outer, buf, sizeof(buf)), 0);
	assert_string_equal(buf, sh_libc);
}

static void a_file_that_is_neither_elf_nor_a_script_is_enoexec(void **state)
{
	struct scratch *s = *state;
	char path[128], buf[PATH_MAX];

	write_file(s->dir, "notes.txt", "just some text\n", 0755, path, sizeof(path));
	assert_int_equal(libc_of_executable(path, buf, sizeof(buf)), -ENOEXEC);
	write_file(s->dir, "empty", "", 0755, path, sizeof(path));
	assert_int_equal(libc_of_executable(path, buf, sizeof(buf)), -ENOEXEC);
	write_file(s->dir, "bang", "#!\n", 0755, path, sizeof(path));
	assert_int_equal(libc_of_executable(path, buf, sizeof(buf)), -ENOEXEC);
}

static void a_missing_executable_is_enoent(void **state)
{
	struct scratch *s = *state;
	char path[128], buf[PATH_MAX];

	snprintf(path, sizeof(path), "%s/missing", s->dir);
	assert_int_equal(libc_of_executable(path, buf, sizeof(buf)), -ENOENT);
}

static void an_elf_file_without_an_interpreter_is_enoent(void **state)
{
	char path[PATH_MAX], buf[PATH_MAX];

	(void)state;
	/* a shared library has no PT_INTERP, as a statically linked program has none */
	snprintf(path, sizeof(path), "%s/tests/fixtures/libsymbols.so", build_dir());
	assert_int_equal(access(path, R_OK), 0);
	assert_int_equal(libc_of_executable(path, buf, sizeof(buf)), -ENOENT);
}

static void library_locate_keeps_a_path_as_it_is(void **state)
{
	char buf[PATH_MAX];

	(void)state;
	assert_int_equal(library_locate("/opt/x/libjemalloc.so.2", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/opt/x/libjemalloc.so.2");
	assert_int_equal(library_locate("./libfoo.so", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "./libfoo.so");
}

static void library_locate_finds_a_bare_name_in_the_standard_directories(void **state)
{
	char buf[PATH_MAX];

	(void)state;
	assert_int_equal(library_locate("libc.so.6", buf, sizeof(buf)), 0);
	assert_string_equal(base_name(buf), "libc.so.6");
	assert_int_equal(buf[0], '/');
	assert_int_equal(access(buf, R_OK), 0);
}

static void library_locate_of_an_unknown_name_is_enoent(void **state)
{
	char buf[PATH_MAX];

	(void)state;
	assert_int_equal(library_locate("libno-such-library-memtrack.so.9", buf, sizeof(buf)),
			 -ENOENT);
}

static void libc_default_finds_a_readable_libc(void **state)
{
	char buf[PATH_MAX];

	(void)state;
	assert_int_equal(libc_default(buf, sizeof(buf)), 0);
	assert_true(libc_is_libc_name(base_name(buf)));
	assert_int_equal(access(buf, R_OK), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(libc_names_are_recognised),
		cmocka_unit_test(other_names_are_not_libc),
		cmocka_unit_test(the_first_libc_mapping_wins),
		cmocka_unit_test(deleted_mappings_are_skipped),
		cmocka_unit_test(maps_without_a_libc_give_enoent),
		cmocka_unit_test(lines_without_a_path_are_ignored),
		cmocka_unit_test(a_path_with_spaces_is_kept_whole),
		cmocka_unit_test(a_libc_path_longer_than_the_buffer_is_an_error),
		cmocka_unit_test(libc_of_this_process_is_its_mapped_path),
		cmocka_unit_test(libc_of_a_nonexistent_pid_is_esrch),
		cmocka_unit_test(libc_of_a_dynamic_executable_is_beside_its_loader),
		cmocka_unit_test_setup_teardown(a_script_gets_the_libc_of_its_interpreter,
						scratch_setup, scratch_teardown),
		cmocka_unit_test_setup_teardown(a_file_that_is_neither_elf_nor_a_script_is_enoexec,
						scratch_setup, scratch_teardown),
		cmocka_unit_test_setup_teardown(a_missing_executable_is_enoent, scratch_setup,
						scratch_teardown),
		cmocka_unit_test(an_elf_file_without_an_interpreter_is_enoent),
		cmocka_unit_test(library_locate_keeps_a_path_as_it_is),
		cmocka_unit_test(library_locate_finds_a_bare_name_in_the_standard_directories),
		cmocka_unit_test(library_locate_of_an_unknown_name_is_enoent),
		cmocka_unit_test(libc_default_finds_a_readable_libc),
	};

	return cmocka_run_group_tests_name("libc_locate", tests, NULL, NULL);
}
