// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A mount table (/proc/self/mounts text), as sys/cgroup_mount.c's
 * cgroup2_mount_parse() reads it for --by-cgroup: once into a buffer of
 * PATH_MAX, once into a small one, each exactly its size on the heap (a
 * write past it is caught), and the contract of cgroup_mount.h checked.
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup_mount.h"
#include "input_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Small enough that the seeds' mount points do not all fit. */
#define SMALL 16

/* cgroup2_mount_parse() on f from its start into a buffer of size bytes (the caller frees). */
static char *parse(FILE *f, size_t size, int *err)
{
	char *dir = malloc(size);

	if (!dir || fseek(f, 0, SEEK_SET))
		abort(); /* the harness failing, not the parser */
	*err = cgroup2_mount_parse(f, dir, size);
	if (*err == 0) {
		/* an absolute path, NUL-terminated within the buffer */
		if (!memchr(dir, '\0', size) || dir[0] != '/')
			abort();
	} else if (*err != -ENOENT && *err != -ENAMETOOLONG) {
		abort(); /* -EIO too: a memfd does not fail to read */
	} else if (dir[0] != '\0') {
		abort();
	}
	return dir;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FILE *f = fuzz_input_open(data, size);
	int err_large, err_small;
	char *large = parse(f, PATH_MAX, &err_large);
	char *small = parse(f, SMALL, &err_small);

	/*
	 * The first cgroup2 mount wins if it fits: one that fits the small
	 * buffer is found in both. And what fits the small one fits the large.
	 */
	if (err_large == 0 && strlen(large) < SMALL && (err_small || strcmp(large, small)))
		abort();
	if (err_small == 0 && err_large)
		abort();
	free(small);
	free(large);
	fclose(f);
	return 0;
}
