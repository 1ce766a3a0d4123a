// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A command name and a PATH value, as sys/command_path.c's
 * command_resolve() searches them for memtrack_spawn(). The input is the
 * name up to its first NUL or newline, then PATH (none: PATH unset, the
 * default). Each is resolved into a small and a large buffer, each
 * exactly its size on the heap (a write past it is caught), and the
 * contract of command_path.h is checked: a violation aborts.
 *
 * It only stat()s and access()es the candidates, so any name is safe to
 * try; PATH is cut after MAX_ENTRIES entries, each a system call or two,
 * to keep an input fast.
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "command_path.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ENTRIES 32
/* Smaller than most candidates of the seeds: one that does not fit is skipped. */
#define SMALL 24

/* len bytes at from as a string on the heap, exactly its size (the caller frees it). */
static char *string_of(const uint8_t *from, size_t len)
{
	char *s = malloc(len + 1);

	if (!s)
		abort(); /* the harness failing, not the code under test */
	memcpy(s, from, len);
	s[len] = '\0';
	return s;
}

/* PATH cut at its MAX_ENTRIES-th ':', in place. */
static void entries_cap(char *path)
{
	unsigned int n = 0;

	for (char *p = path; *p; p++)
		if (*p == ':' && ++n == MAX_ENTRIES) {
			*p = '\0';
			return;
		}
}

/* command_resolve() into a buffer of size bytes, its contract checked (the caller frees it). */
static char *resolve(const char *name, const char *path, size_t size, int *err)
{
	char *buf = malloc(size);
	size_t len;

	if (!buf)
		abort();
	*err = command_resolve(name, path, buf, size);
	if (*err) {
		if (*err != -ENOENT && *err != -EISDIR && *err != -EACCES && *err != -ENAMETOOLONG)
			abort();
		/* a search in PATH gives no -EISDIR: a directory there is not executable */
		if (*err == -EISDIR && !strchr(name, '/'))
			abort();
		/* nor -ENAMETOOLONG: only a name with a '/' that does not fit does */
		if (*err == -ENAMETOOLONG && (!strchr(name, '/') || strlen(name) < size))
			abort();
		return buf;
	}
	/* NUL-terminated within the buffer */
	if (!memchr(buf, '\0', size))
		abort();
	/* a name with a '/' as it is; others as "DIR/name", or "name" (an empty entry) */
	len = strlen(buf);
	if (strchr(name, '/')) {
		if (strcmp(buf, name))
			abort();
	} else if (strcmp(buf, name) &&
		   (len <= strlen(name) + 1 || strcmp(buf + len - strlen(name), name) ||
		    buf[len - strlen(name) - 1] != '/')) {
		abort();
	}
	return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, '\0', size), *nl = memchr(data, '\n', size);
	const uint8_t *cut = nul && (!nl || nul < nl) ? nul : nl;
	char *name = string_of(data, cut ? (size_t)(cut - data) : size);
	char *path = cut ? string_of(cut + 1, size - (size_t)(cut + 1 - data)) : NULL;
	int err_small, err_large;
	char *small, *large;

	if (path)
		entries_cap(path);
	small = resolve(name, path, SMALL, &err_small);
	large = resolve(name, path, PATH_MAX, &err_large);
	/* the large buffer tries every candidate the small one does, and stops at the first */
	if (err_small == 0 && err_large)
		abort();
	free(large);
	free(small);
	free(path);
	free(name);
	return 0;
}
