// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* sys/cgroup_path.c: --cgroup PATH, absolute or under the cgroup2 mount. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup_path.h"
#include "test_support.h"

/* A mounts file holding text; its path in path (removed by the caller). */
static void mounts_file(char *path, size_t size, const char *text)
{
	FILE *f;
	int fd;

	snprintf(path, size, "/tmp/memtrack-mounts-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static void resolves(const char *mounts_text, const char *path, const char *want)
{
	char mounts[64], *out = NULL;

	mounts_file(mounts, sizeof(mounts), mounts_text);
	assert_int_equal(cgroup_path_resolve(mounts, path, &out), 0);
	unlink(mounts);
	assert_non_null(out);
	assert_string_equal(out, want);
	free(out);
}

static const char debian[] =
	"sysfs /sys sysfs rw,nosuid,nodev,noexec,relatime 0 0\n"
	"proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0\n"
	"cgroup2 /sys/fs/cgroup cgroup2 rw,nosuid,nodev,noexec,relatime,nsdelegate 0 0\n";

/* systemd's hybrid layout: v1 hierarchies, and v2 at .../unified */
static const char hybrid[] =
	"tmpfs /sys/fs/cgroup tmpfs ro,nosuid,nodev,noexec,mode=755 0 0\n"
	"cgroup /sys/fs/cgroup/memory cgroup rw,nosuid,nodev,noexec,relatime,memory 0 0\n"
	"cgroup2 /sys/fs/cgroup/unified cgroup2 rw,nosuid,nodev,noexec,relatime 0 0\n";

static void test_relative_is_under_the_cgroup2_mount(void **state)
{
	(void)state;
	resolves(debian, "system.slice/foo.service", "/sys/fs/cgroup/system.slice/foo.service");
	resolves(hybrid, "user.slice", "/sys/fs/cgroup/unified/user.slice");
	/* a mount point with a space, as the kernel escapes it */
	resolves("none /mnt/my\\040cg cgroup2 rw 0 0\n", "a/b", "/mnt/my cg/a/b");
	resolves("none / cgroup2 rw 0 0\n", "a", "/a");
}

static void test_absolute_is_kept(void **state)
{
	(void)state;
	resolves(debian, "/sys/fs/cgroup/system.slice", "/sys/fs/cgroup/system.slice");
	/* even where no cgroup2 is mounted: the caller says what it is not */
	resolves("proc /proc proc rw 0 0\n", "/somewhere/else", "/somewhere/else");
}

static void test_no_mount_empty_path_and_no_mounts_file_fail(void **state)
{
	char mounts[64], *out = (char *)"unchanged";

	(void)state;
	mounts_file(mounts, sizeof(mounts),
		    "proc /proc proc rw 0 0\n"
		    "cgroup /sys/fs/cgroup/memory cgroup rw,memory 0 0\n");
	assert_int_equal(cgroup_path_resolve(mounts, "user.slice", &out), -ENOENT);
	assert_null(out);
	assert_int_equal(cgroup_path_resolve(mounts, "", &out), -EINVAL);
	unlink(mounts);
	assert_int_equal(cgroup_path_resolve("/nonexistent/mounts", "a", &out), -ENOENT);
	assert_null(out);
}

static void test_mount_dir_too_small_is_refused(void **state)
{
	char mounts[64], dir[8];

	(void)state;
	mounts_file(mounts, sizeof(mounts), debian);
	assert_int_equal(cgroup_path_mount(mounts, dir, sizeof(dir)), -ENAMETOOLONG);
	unlink(mounts);
}

/* this machine's own, if cgroup v2 is mounted: the tests that trace a cgroup need it */
static void test_this_machine(void **state)
{
	char dir[4096];

	(void)state;
	if (cgroup_path_mount("/proc/self/mounts", dir, sizeof(dir)) == -ENOENT)
		skip();
	assert_int_equal(cgroup_path_mount("/proc/self/mounts", dir, sizeof(dir)), 0);
	assert_true(dir[0] == '/');
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_relative_is_under_the_cgroup2_mount),
		cmocka_unit_test(test_absolute_is_kept),
		cmocka_unit_test(test_no_mount_empty_path_and_no_mounts_file_fail),
		cmocka_unit_test(test_mount_dir_too_small_is_refused),
		cmocka_unit_test(test_this_machine),
	};

	return cmocka_run_group_tests_name("cgroup_path", tests, NULL, NULL);
}
