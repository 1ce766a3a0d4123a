// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup_path.h"

/* A mounts field in place: the kernel writes space, tab, newline and '\' as \ooo. */
static void unescape(char *s)
{
	char *to = s;

	for (const char *at = s; *at; to++) {
		if (at[0] == '\\' && at[1] >= '0' && at[1] <= '3' && at[2] >= '0' && at[2] <= '7' &&
		    at[3] >= '0' && at[3] <= '7') {
			*to = (char)((at[1] - '0') << 6 | (at[2] - '0') << 3 | (at[3] - '0'));
			at += 4;
		} else {
			*to = *at++;
		}
	}
	*to = '\0';
}

int cgroup_path_mount(const char *mounts, char *dir, size_t size)
{
	char *line = NULL, *save, *mnt, *type;
	size_t cap = 0;
	FILE *f = fopen(mounts, "re");
	int err = -ENOENT;

	if (!f)
		return -errno;
	while (err == -ENOENT && getline(&line, &cap, f) > 0) {
		/* device, mount point, type, ... */
		if (!strtok_r(line, " \n", &save) || !(mnt = strtok_r(NULL, " \n", &save)) ||
		    !(type = strtok_r(NULL, " \n", &save)) || strcmp(type, "cgroup2") != 0)
			continue;
		unescape(mnt);
		err = snprintf(dir, size, "%s", mnt) < (int)size ? 0 : -ENAMETOOLONG;
	}
	free(line);
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
