// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "regular_file.h"

int open_regular(const char *path)
{
	/* O_NONBLOCK: a FIFO's open returns at once, to be refused below */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK), flags;
	struct stat st;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	/* reads of a regular file do not block anyway; later users may expect blocking mode */
	flags = fcntl(fd, F_GETFL);
	if (flags >= 0)
		fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
	return fd;
}
