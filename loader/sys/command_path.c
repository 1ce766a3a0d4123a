// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "command_path.h"

/* 0 if path is an executable regular file, else -ENOENT, -EISDIR or -EACCES. */
static int check_candidate(const char *path)
{
	struct stat st;

	if (stat(path, &st))
		return errno == EACCES ? -EACCES : -ENOENT;
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	if (!S_ISREG(st.st_mode) || access(path, X_OK))
		return -EACCES;
	return 0;
}

int command_resolve(const char *name, const char *path_env, char *buf, size_t size)
{
	int result = -ENOENT;
	const char *dir;

	if (!*name)
		return -ENOENT;
	if (strchr(name, '/')) {
		if (strlen(name) + 1 > size)
			return -ENAMETOOLONG;
		strcpy(buf, name);
		return check_candidate(buf);
	}
	if (!path_env)
		path_env = "/bin:/usr/bin";
	dir = path_env;
	for (;;) {
		const char *end = strchrnul(dir, ':');
		int len = (int)(end - dir);
		int n = len ? snprintf(buf, size, "%.*s/%s", len, dir, name)
			    : snprintf(buf, size, "%s", name);
		int err;

		if (n > 0 && (size_t)n < size) {
			err = check_candidate(buf);
			if (!err)
				return 0;
			if (err != -ENOENT)
				result = -EACCES; /* as execvp: remember, but keep looking */
		}
		if (!*end)
			break;
		dir = end + 1;
	}
	return result;
}
