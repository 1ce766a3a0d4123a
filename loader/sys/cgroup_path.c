// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup_mount.h"
#include "cgroup_path.h"

int cgroup_path_mount(const char *mounts, char *dir, size_t size)
{
	FILE *f = fopen(mounts, "re");
	int err;

	if (!f)
		return -errno;
	err = cgroup2_mount_parse(f, dir, size);
	fclose(f);
	return err;
}

int cgroup_path_resolve(const char *mounts, const char *path, char **out)
{
	char root[4096];
	size_t len;
	int err;

	*out = NULL;
	if (!*path)
		return -EINVAL;
	if (path[0] == '/')
		return (*out = strdup(path)) ? 0 : -ENOMEM;
	err = cgroup_path_mount(mounts, root, sizeof(root));
	if (err)
		return err;
	len = strlen(root);
	if (asprintf(out, "%s%s%s", root, len && root[len - 1] == '/' ? "" : "/", path) < 0) {
		*out = NULL;
		return -ENOMEM;
	}
	return 0;
}
