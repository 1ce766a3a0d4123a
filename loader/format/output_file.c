// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Output files as memtrack writes them, often as root: created mode 0644
 * (or stricter by the umask), and never through a symlink that someone
 * else planted in a world-writable sticky directory such as /tmp, which
 * would let them aim root's writes at any file. The kernel refuses those
 * when fs.protected_symlinks is set; many machines do not set it.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "memtrack.h"

/* Is path a symlink that another user made in a world-writable sticky directory? */
static bool planted_symlink(const char *path)
{
	char dir[PATH_MAX];
	struct stat link, d;

	if (lstat(path, &link) || !S_ISLNK(link.st_mode))
		return false;
	snprintf(dir, sizeof(dir), "%s", path);
	if (stat(dirname(dir), &d))
		return false;
	return (d.st_mode & S_ISVTX) && (d.st_mode & S_IWOTH) && link.st_uid != d.st_uid &&
	       link.st_uid != geteuid();
}

int memtrack_output_open(const char *path, struct memtrack_error *err)
{
	int fd;

	if (planted_symlink(path))
		return error_fail(err, MEMTRACK_ERR_OUTPUT, -EACCES,
				  "will not write %s: a symlink another user made in a "
				  "world-writable directory; give another path",
				  path);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return error_fail(err, MEMTRACK_ERR_OUTPUT, -errno, "cannot write %s: %s", path,
				  strerror(errno));
	return fd;
}
