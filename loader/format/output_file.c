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
#include <stdlib.h>
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

static int refuse_planted(const char *path, struct memtrack_error *err)
{
	if (!planted_symlink(path))
		return 0;
	return error_fail(err, MEMTRACK_ERR_OUTPUT, -EACCES,
			  "will not write %s: a symlink another user made in a "
			  "world-writable directory; give another path",
			  path);
}

static int cannot_write(const char *path, struct memtrack_error *err)
{
	return error_fail(err, MEMTRACK_ERR_OUTPUT, -errno, "cannot write %s: %s", path,
			  strerror(errno));
}

int memtrack_output_check(const char *path, struct memtrack_error *err)
{
	struct stat st;
	int fd, r = refuse_planted(path, err);

	if (r)
		return r;
	if (stat(path, &st) == 0) {
		if (S_ISDIR(st.st_mode)) {
			errno = EISDIR;
			return cannot_write(path, err);
		}
		/* a device or a pipe is not opened: a FIFO's open waits for a reader */
		if (!S_ISREG(st.st_mode))
			return access(path, W_OK) ? cannot_write(path, err) : 0;
		fd = open(path, O_WRONLY | O_CLOEXEC); /* no O_TRUNC: nothing is changed */
		if (fd < 0)
			return cannot_write(path, err);
		close(fd);
		return 0;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		return cannot_write(path, err);
	close(fd);
	unlink(path);
	return 0;
}

int memtrack_output_begin(const char *path, struct memtrack_output *o,
			  struct memtrack_error *err)
{
	struct stat st;
	char *tmp = NULL;
	int r;

	memset(o, 0, sizeof(*o));
	o->fd = -1;
	if (!strcmp(path, "-")) {
		o->fd = STDOUT_FILENO;
		return 0;
	}
	r = refuse_planted(path, err);
	if (r)
		return r;
	o->path = strdup(path);
	if (!o->path)
		return error_fail(err, MEMTRACK_ERR_OUTPUT, -ENOMEM, "out of memory");
	if ((stat(path, &st) || S_ISREG(st.st_mode)) && asprintf(&tmp, "%s.XXXXXX", path) >= 0) {
		o->fd = mkostemp(tmp, O_CLOEXEC);
		if (o->fd >= 0 && fchmod(o->fd, 0644) == 0) {
			o->tmp = tmp;
			return 0;
		}
		if (o->fd >= 0) {
			close(o->fd);
			unlink(tmp);
		}
	}
	/* in place: a device, a pipe, or a directory that takes no temporary file */
	free(tmp);
	o->fd = memtrack_output_open(path, err);
	if (o->fd < 0) {
		r = o->fd;
		free(o->path);
		o->path = NULL;
		return r;
	}
	return 0;
}

int memtrack_output_end(struct memtrack_output *o, int failed)
{
	int err = failed;

	if (o->fd < 0)
		return err;
	/* close() is where some file systems (NFS) report a failed write */
	if (o->fd != STDOUT_FILENO && close(o->fd) && !err)
		err = -errno;
	if (o->tmp && !err && rename(o->tmp, o->path))
		err = -errno;
	if (o->tmp && err)
		unlink(o->tmp);
	free(o->tmp);
	free(o->path);
	memset(o, 0, sizeof(*o));
	o->fd = -1;
	return err;
}

int memtrack_output_open(const char *path, struct memtrack_error *err)
{
	int fd, r = refuse_planted(path, err);

	if (r)
		return r;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return cannot_write(path, err);
	return fd;
}
