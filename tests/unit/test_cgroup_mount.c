// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* loader/sys/cgroup_mount: where cgroup v2 is mounted, from mounts(5) text. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup_mount.h"

/* cgroup2_mount_parse on len bytes of text (NULs and all), as if read from /proc/self/mounts. */
static int parse_n(const char *text, size_t len, char *dir, size_t size)
{
	FILE *f = fmemopen((void *)text, len, "r");
	int err;

	assert_non_null(f);
	err = cgroup2_mount_parse(f, dir, size);
	fclose(f);
	return err;
}

static int parse(const char *text, char *dir, size_t size)
{
	return parse_n(text, strlen(text), dir, size);
}

static void a_cgroup2_only_system_finds_its_mount(void **state)
{
	static const char mounts[] =
		"sysfs /sys sysfs rw,nosuid,nodev,noexec,relatime 0 0\n"
		"proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0\n"
		"/dev/nvme0n1p2 / ext4 rw,relatime,errors=remount-ro 0 0\n"
		"cgroup2 /sys/fs/cgroup cgroup2 rw,nosuid,nodev,noexec,relatime,nsdelegate,"
		"memory_recursiveprot 0 0\n"
		"pstore /sys/fs/pstore pstore rw,nosuid,nodev,noexec,relatime 0 0\n";
	char dir[256];

	(void)state;
	assert_int_equal(parse(mounts, dir, sizeof(dir)), 0);
	assert_string_equal(dir, "/sys/fs/cgroup");
}

static void a_hybrid_system_finds_the_v2_hierarchy_not_a_v1_one(void **state)
{
	/* v1 controllers first, and a device named cgroup2 that is not of that type */
	static const char mounts[] =
		"tmpfs /sys/fs/cgroup tmpfs ro,nosuid,nodev,noexec,mode=755 0 0\n"
		"cgroup2 /run/not-it tmpfs rw,relatime 0 0\n"
		"cgroup /sys/fs/cgroup/systemd cgroup rw,nosuid,nodev,noexec,relatime,xattr,"
		"name=systemd 0 0\n"
		"cgroup /sys/fs/cgroup/memory cgroup rw,nosuid,nodev,noexec,relatime,memory 0 0\n"
		"cgroup2 /sys/fs/cgroup/unified cgroup2 rw,nosuid,nodev,noexec,relatime 0 0\n"
		"cgroup2 /elsewhere cgroup2 rw 0 0\n";
	char dir[256];

	(void)state;
	assert_int_equal(parse(mounts, dir, sizeof(dir)), 0);
	assert_string_equal(dir, "/sys/fs/cgroup/unified");
}

static void no_cgroup2_mount_gives_enoent_and_an_empty_dir(void **state)
{
	static const char mounts[] = "proc /proc proc rw 0 0\n"
				     "cgroup /sys/fs/cgroup/cpu cgroup rw,cpu 0 0\n";
	char dir[256] = "stale";

	(void)state;
	assert_int_equal(parse(mounts, dir, sizeof(dir)), -ENOENT);
	assert_string_equal(dir, "");
	assert_int_equal(parse("\n\n  \n", dir, sizeof(dir)), -ENOENT);
	assert_string_equal(dir, "");
	/* a mount table must name an absolute path */
	assert_int_equal(parse("cgroup2 sys/fs/cgroup cgroup2 rw 0 0\n", dir, sizeof(dir)),
			 -ENOENT);
}

static void the_kernels_octal_escapes_are_decoded(void **state)
{
	char dir[256];

	(void)state;
	/* the old sscanf() gave "/mnt/my\040cgroups", which nftw() cannot walk */
	assert_int_equal(parse("cgroup2 /mnt/my\\040cgroups cgroup2 rw 0 0\n", dir, sizeof(dir)),
			 0);
	assert_string_equal(dir, "/mnt/my cgroups");
	assert_int_equal(parse("cgroup2 /a\\011b\\012c\\134d cgroup2 rw 0 0\n", dir, sizeof(dir)),
			 0);
	assert_string_equal(dir, "/a\tb\nc\\d");
}

static void a_malformed_escape_passes_the_line_over(void **state)
{
	char dir[256];

	(void)state;
	/* not three octal digits, not a byte, a NUL, a lone backslash */
	assert_int_equal(parse("cgroup2 /a\\04x cgroup2 rw 0 0\n"
			       "cgroup2 /b\\777 cgroup2 rw 0 0\n"
			       "cgroup2 /c\\000 cgroup2 rw 0 0\n"
			       "cgroup2 /d\\ cgroup2 rw 0 0\n"
			       "cgroup2 /e\\9 cgroup2 rw 0 0\n",
			       dir, sizeof(dir)),
			 -ENOENT);
	/* an escape cut short by the newline leaves the next line whole */
	assert_int_equal(
		parse("x /a\\04\ncgroup2 /sys/fs/cgroup cgroup2 rw 0 0\n", dir, sizeof(dir)), 0);
	assert_string_equal(dir, "/sys/fs/cgroup");
	assert_int_equal(parse("x /a \\0\ncgroup2 /ok cgroup2\n", dir, sizeof(dir)), 0);
	assert_string_equal(dir, "/ok");
}

/* A line of n bytes of '.' between head and tail, in a buffer the caller frees. */
static char *long_line(const char *head, size_t n, const char *tail)
{
	size_t h = strlen(head), t = strlen(tail);
	char *s = malloc(h + n + t + 1);

	assert_non_null(s);
	memcpy(s, head, h);
	memset(s + h, '.', n);
	memcpy(s + h + n, tail, t + 1);
	return s;
}

static void a_long_line_is_not_split_into_a_second_line(void **state)
{
	/*
	 * The old fgets() into 1024 bytes read this as two lines, and the
	 * second, from byte 1023 on, as a cgroup2 mount at /evil.
	 */
	static const char head[] = "tmpfs /mnt tmpfs rw,";
	char *text = long_line(head, 1023 - strlen(head),
			       "x /evil cgroup2 rw 0 0\n"
			       "cgroup2 /sys/fs/cgroup cgroup2 rw 0 0\n");
	char dir[256];

	(void)state;
	assert_int_equal(parse(text, dir, sizeof(dir)), 0);
	assert_string_equal(dir, "/sys/fs/cgroup");
	free(text);
}

static void a_long_mount_point_does_not_spill_into_the_type(void **state)
{
	/* the old "%511s %63s" read the path's byte 512 on as its type: cgroup2 */
	char *text = long_line("none /", 510, "cgroup2 tmpfs rw 0 0\n");
	char dir[1024];

	(void)state;
	assert_int_equal(parse(text, dir, sizeof(dir)), -ENOENT);
	free(text);
}

static void a_mount_point_too_long_for_dir_is_not_cut(void **state)
{
	char dir[16];

	(void)state;
	assert_int_equal(parse("cgroup2 /sys/fs/cgroup/unified cgroup2 rw 0 0\n", dir, sizeof(dir)),
			 -ENAMETOOLONG);
	assert_string_equal(dir, "");
	/* one that fits, later, is found; exactly size - 1 bytes fit */
	assert_int_equal(parse("cgroup2 /sys/fs/cgroup/unified cgroup2 rw 0 0\n"
			       "cgroup2 /cgroup-v2-here cgroup2 rw 0 0\n",
			       dir, sizeof(dir)),
			 0);
	assert_string_equal(dir, "/cgroup-v2-here");
	assert_int_equal(parse("cgroup2 /x cgroup2 rw 0 0\n", dir, 0), -ENAMETOOLONG);
}

static void a_type_longer_than_cgroup2_is_not_cgroup2(void **state)
{
	char *text = long_line("cgroup2 /a cgroup2", 100, " rw 0 0\n");
	char dir[256];

	(void)state;
	assert_int_equal(
		parse("cgroup2 /a cgroup2x rw 0 0\ncgroup2 /b cgroup rw 0 0\n", dir, sizeof(dir)),
		-ENOENT);
	assert_int_equal(parse(text, dir, sizeof(dir)), -ENOENT);
	free(text);
}

static void a_nul_byte_passes_its_line_over(void **state)
{
	/* the old sscanf() stopped at the first NUL and saw a type of "cgroup2" */
	static const char in_type[] = "cgroup2 /a cgroup2\0junk rw 0 0\n";
	static const char in_path[] = "cgroup2 /b\0/c cgroup2 rw 0 0\n";
	/* a NUL in the device field does not matter: it is not used */
	static const char in_device[] = "cgroup2 /a cgroup2\0junk rw 0 0\n"
					"cgroup2\0 /d cgroup2 rw 0 0\n";
	char dir[256];

	(void)state;
	assert_int_equal(parse_n(in_type, sizeof(in_type) - 1, dir, sizeof(dir)), -ENOENT);
	assert_int_equal(parse_n(in_path, sizeof(in_path) - 1, dir, sizeof(dir)), -ENOENT);
	assert_int_equal(parse_n(in_device, sizeof(in_device) - 1, dir, sizeof(dir)), 0);
	assert_string_equal(dir, "/d");
}

static void the_last_line_needs_no_newline(void **state)
{
	char dir[256];

	(void)state;
	assert_int_equal(parse("proc /proc proc rw 0 0\ncgroup2 /sys/fs/cgroup cgroup2 rw 0 0", dir,
			       sizeof(dir)),
			 0);
	assert_string_equal(dir, "/sys/fs/cgroup");
	/* the fields after the type are not needed either; blanks may be tabs, and many */
	assert_int_equal(parse("cgroup2\t /cg  cgroup2", dir, sizeof(dir)), 0);
	assert_string_equal(dir, "/cg");
	assert_int_equal(parse("cgroup2 /cg", dir, sizeof(dir)), -ENOENT);
}

static void a_read_error_gives_eio(void **state)
{
	FILE *f = fopen("/dev/null", "we");
	char dir[256] = "stale";

	(void)state;
	assert_non_null(f);
	/* reading a stream opened for writing fails */
	assert_int_equal(cgroup2_mount_parse(f, dir, sizeof(dir)), -EIO);
	assert_string_equal(dir, "");
	fclose(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_cgroup2_only_system_finds_its_mount),
		cmocka_unit_test(a_hybrid_system_finds_the_v2_hierarchy_not_a_v1_one),
		cmocka_unit_test(no_cgroup2_mount_gives_enoent_and_an_empty_dir),
		cmocka_unit_test(the_kernels_octal_escapes_are_decoded),
		cmocka_unit_test(a_malformed_escape_passes_the_line_over),
		cmocka_unit_test(a_long_line_is_not_split_into_a_second_line),
		cmocka_unit_test(a_long_mount_point_does_not_spill_into_the_type),
		cmocka_unit_test(a_mount_point_too_long_for_dir_is_not_cut),
		cmocka_unit_test(a_type_longer_than_cgroup2_is_not_cgroup2),
		cmocka_unit_test(a_nul_byte_passes_its_line_over),
		cmocka_unit_test(the_last_line_needs_no_newline),
		cmocka_unit_test(a_read_error_gives_eio),
	};

	return cmocka_run_group_tests_name("cgroup_mount", tests, NULL, NULL);
}
