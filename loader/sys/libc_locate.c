// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "elf_symbols.h"
#include "libc_locate.h"
#include "regular_file.h"
#include "proc_status.h"

/* Where distributions put libc when nothing better is known, most likely first. */
static const char *const standard_dirs[] = {
	"/lib/x86_64-linux-gnu",   "/usr/lib/x86_64-linux-gnu", "/lib/aarch64-linux-gnu",
	"/usr/lib/aarch64-linux-gnu", "/lib64",		    "/usr/lib64",
	"/lib",			   "/usr/lib",
};

/* Nix keeps glibc in a store path of its own. */
static const char nix_libc_glob[] = "/nix/store/*-glibc-*/lib/libc.so.6";

bool libc_is_libc_name(const char *name)
{
	if (strcmp(name, "libc.so.6") == 0)
		return true;
	/* glibc before 2.34 on some distributions: libc-2.31.so */
	if (strncmp(name, "libc-", 5) == 0 && isdigit((unsigned char)name[5])) {
		size_t len = strlen(name);

		return len > 8 && strcmp(name + len - 3, ".so") == 0;
	}
	/* musl's dynamic loader is its libc: ld-musl-x86_64.so.1 */
	return strncmp(name, "ld-musl-", 8) == 0;
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

static int copy_path(char *buf, size_t size, const char *path)
{
	size_t len = strlen(path);

	if (len + 1 > size)
		return -ENAMETOOLONG;
	memcpy(buf, path, len + 1);
	return 0;
}

int maps_for_each_file(FILE *maps, int (*fn)(void *ctx, const char *path), void *ctx)
{
	char *line = NULL, *last = NULL;
	size_t cap = 0;
	int ret = 0;

	/* start-end perms offset dev inode path */
	while (!ret && getline(&line, &cap, maps) > 0) {
		char *path = strchr(line, '/');
		char *nl;

		if (!path)
			continue;
		nl = strchr(path, '\n');
		if (nl)
			*nl = '\0';
		/* A deleted or replaced file still maps, but cannot be opened by path. */
		if (strstr(path, " (deleted)"))
			continue;
		/* A file maps as several consecutive segments: once is enough. */
		if (last && strcmp(last, path) == 0)
			continue;
		free(last);
		last = strdup(path);
		if (!last) {
			ret = -ENOMEM;
			break;
		}
		ret = fn(ctx, path);
	}
	free(last);
	free(line);
	return ret;
}

struct libc_search {
	char *buf;
	size_t size;
};

static int match_libc(void *ctx, const char *path)
{
	struct libc_search *s = ctx;

	if (!libc_is_libc_name(base_name(path)))
		return 0;
	return copy_path(s->buf, s->size, path) ?: 1;
}

int libc_from_maps(FILE *maps, char *buf, size_t size)
{
	struct libc_search s = { buf, size };
	int ret = maps_for_each_file(maps, match_libc, &s);

	return ret == 1 ? 0 : ret < 0 ? ret : -ENOENT;
}

FILE *maps_open(pid_t pid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	return fopen(path, "re");
}

int libc_of_pid(pid_t pid, char *buf, size_t size)
{
	char found[PATH_MAX];
	FILE *maps;
	int err, n;

	maps = maps_open(pid);
	if (!maps)
		return errno == ENOENT ? -ESRCH : -errno;
	err = libc_from_maps(maps, found, sizeof(found));
	fclose(maps);
	if (err)
		return err;
	if (proc_same_root(pid))
		return copy_path(buf, size, found);
	n = snprintf(buf, size, "/proc/%d/root%s", (int)pid, found);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/* The interpreter of a "#!" script, or -ENOEXEC. */
static int script_interpreter(const char *path, char *buf, size_t size)
{
	char line[PATH_MAX + 3];
	ssize_t len;
	size_t start = 2, end;
	int fd = open_regular(path);

	if (fd < 0)
		return fd;
	len = read(fd, line, sizeof(line) - 1);
	close(fd);
	if (len < 3 || line[0] != '#' || line[1] != '!')
		return -ENOEXEC;
	line[len] = '\0';
	while (line[start] == ' ' || line[start] == '\t')
		start++;
	end = start;
	while (line[end] && !isspace((unsigned char)line[end]))
		end++;
	if (end == start || end - start + 1 > size)
		return -ENOEXEC;
	memcpy(buf, line + start, end - start);
	buf[end - start] = '\0';
	return 0;
}

int libc_of_executable(const char *path, char *buf, size_t size)
{
	char current[PATH_MAX], interp[PATH_MAX], real[PATH_MAX], candidate[PATH_MAX + 16];
	int err = copy_path(current, sizeof(current), path);

	/* A script's interpreter may itself be a script: follow a few levels, as the kernel does. */
	for (int depth = 0; !err && depth < 4; depth++) {
		char *slash;

		err = elf_interpreter(current, interp, sizeof(interp));
		if (err == -ENOEXEC) {
			err = script_interpreter(current, interp, sizeof(interp));
			if (!err)
				err = copy_path(current, sizeof(current), interp);
			continue;
		}
		if (err)
			return err;
		if (!realpath(interp, real))
			return -errno;
		if (libc_is_libc_name(base_name(real)))
			return copy_path(buf, size, real); /* musl */
		slash = strrchr(real, '/');
		*slash = '\0';
		snprintf(candidate, sizeof(candidate), "%s/libc.so.6", real);
		if (access(candidate, R_OK) == 0)
			return copy_path(buf, size, candidate);
		return -ENOENT;
	}
	return err ? err : -ELOOP;
}

int libc_default(char *buf, size_t size)
{
	char candidate[PATH_MAX];
	FILE *maps = fopen("/proc/self/maps", "re");
	glob_t g;
	int err = -ENOENT;

	if (maps) {
		err = libc_from_maps(maps, buf, size);
		fclose(maps);
		if (!err)
			return 0;
	}
	for (size_t i = 0; i < sizeof(standard_dirs) / sizeof(standard_dirs[0]); i++) {
		snprintf(candidate, sizeof(candidate), "%s/libc.so.6", standard_dirs[i]);
		if (access(candidate, R_OK) == 0)
			return copy_path(buf, size, candidate);
	}
	if (glob(nix_libc_glob, 0, NULL, &g) == 0) {
		/* Store paths sort by hash, not version: any one is as good a guess. */
		err = copy_path(buf, size, g.gl_pathv[0]);
		globfree(&g);
		return err;
	}
	return -ENOENT;
}

int library_locate(const char *name, char *buf, size_t size)
{
	char candidate[PATH_MAX];

	if (strchr(name, '/'))
		return copy_path(buf, size, name);
	for (size_t i = 0; i < sizeof(standard_dirs) / sizeof(standard_dirs[0]); i++) {
		snprintf(candidate, sizeof(candidate), "%s/%s", standard_dirs[i], name);
		if (access(candidate, R_OK) == 0)
			return copy_path(buf, size, candidate);
	}
	return -ENOENT;
}

const char *path_for_display(const char *path)
{
	const char *p = path;

	if (strncmp(p, "/proc/", 6) != 0)
		return path;
	p += 6;
	if (!isdigit((unsigned char)*p))
		return path;
	while (isdigit((unsigned char)*p))
		p++;
	return strncmp(p, "/root/", 6) == 0 ? p + 5 : path;
}
