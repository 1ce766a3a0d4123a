// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <string.h>

#include "cgroup_mount.h"

int cgroup2_mount_parse(FILE *f, char *dir, size_t size)
{
	char line[1024], mnt[512], type[64];

	dir[0] = '\0';
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%*s %511s %63s", mnt, type) == 2 && strcmp(type, "cgroup2") == 0) {
			snprintf(dir, size, "%s", mnt);
			return 0;
		}
	return -ENOENT;
}
