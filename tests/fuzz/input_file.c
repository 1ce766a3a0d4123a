// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "input_file.h"

static void die(const char *what)
{
	perror(what);
	abort();
}

const char *fuzz_input_path(const uint8_t *data, size_t size)
{
	/* one memfd for the whole run: a new one per input would cost more than most parses */
	static int fd = -1;
	static char path[64];
	size_t done = 0;

	if (fd < 0) {
		fd = memfd_create("fuzz-input", MFD_CLOEXEC);
		if (fd < 0)
			die("memfd_create");
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0))
		die("ftruncate");
	while (done < size) {
		ssize_t n = pwrite(fd, data + done, size - done, (off_t)done);

		if (n <= 0)
			die("pwrite");
		done += (size_t)n;
	}
	return path;
}

FILE *fuzz_input_open(const uint8_t *data, size_t size)
{
	FILE *f = fopen(fuzz_input_path(data, size), "re");

	if (!f)
		die("fopen");
	return f;
}

int fuzz_input_fd(const uint8_t *data, size_t size)
{
	int fd = open(fuzz_input_path(data, size), O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		die("open");
	return fd;
}
