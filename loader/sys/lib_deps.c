// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The shared objects a program will load before its first instruction, as
 * the dynamic loader finds them: LD_PRELOAD, then the executable's
 * DT_NEEDED libraries and theirs, breadth first, each looked up in the
 * needing object's DT_RPATH, LD_LIBRARY_PATH, its DT_RUNPATH, then the
 * standard directories. Knowing them before the program runs is what lets
 * an allocator linked into it (jemalloc, tcmalloc, mimalloc) be probed
 * before its first call.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "elf_symbols.h"
#include "lib_deps.h"
#include "libc_locate.h"

#define MAX_OBJECTS 512

struct walk {
	char *paths[MAX_OBJECTS]; /* found, in load order; [0] the executable */
	size_t n;
	const char *ld_library_path;
	const char *origin_of; /* the object whose DT_NEEDED are being resolved */
	char search[PATH_MAX];	/* its DT_RUNPATH or DT_RPATH */
};

static bool seen(const struct walk *w, const char *path)
{
	for (size_t i = 0; i < w->n; i++)
		if (strcmp(w->paths[i], path) == 0)
			return true;
	return false;
}

static int add(struct walk *w, const char *path)
{
	char real[PATH_MAX];

	if (!realpath(path, real) || seen(w, real))
		return 0;
	if (w->n == MAX_OBJECTS)
		return -E2BIG;
	w->paths[w->n] = strdup(real);
	if (!w->paths[w->n])
		return -ENOMEM;
	w->n++;
	return 0;
}

/* dir/name, with $ORIGIN (and ${ORIGIN}) as the needing object's directory. */
static bool try_dir(struct walk *w, const char *dir, size_t len, const char *name, char *out)
{
	char origin[PATH_MAX], expanded[PATH_MAX];
	const char *slash = strrchr(w->origin_of, '/');
	size_t olen = slash ? (size_t)(slash - w->origin_of) : 0;
	size_t k = 0;

	memcpy(origin, w->origin_of, olen);
	origin[olen] = '\0';
	for (size_t i = 0; i < len && k < sizeof(expanded) - 1;) {
		if (strncmp(dir + i, "$ORIGIN", 7) == 0 || strncmp(dir + i, "${ORIGIN}", 9) == 0) {
			k += (size_t)snprintf(expanded + k, sizeof(expanded) - k, "%s", origin);
			i += dir[i + 1] == '{' ? 9 : 7;
		} else {
			expanded[k++] = dir[i++];
		}
	}
	expanded[k < sizeof(expanded) ? k : sizeof(expanded) - 1] = '\0';
	if (snprintf(out, PATH_MAX, "%s/%s", expanded, name) >= PATH_MAX)
		return false;
	return access(out, R_OK) == 0;
}

static bool try_path_list(struct walk *w, const char *list, const char *name, char *out)
{
	while (list && *list) {
		size_t len = strcspn(list, ":;");

		if (len && try_dir(w, list, len, name, out))
			return true;
		list += len + (list[len] != '\0');
	}
	return false;
}

static int resolve(void *ctx, const char *name)
{
	struct walk *w = ctx;
	char path[PATH_MAX];

	if (strchr(name, '/'))
		return access(name, R_OK) == 0 ? add(w, name) : 0;
	if (try_path_list(w, w->ld_library_path, name, path) ||
	    try_path_list(w, w->search, name, path) || library_locate(name, path, sizeof(path)) == 0)
		return add(w, path);
	return 0; /* the loader would fail too; nothing to probe */
}

static int ignore(void *ctx, const char *name)
{
	(void)ctx;
	(void)name;
	return 0;
}

int lib_deps_each(const char *exe, const char *preload, const char *ld_library_path,
		  int (*fn)(void *ctx, const char *path), void *ctx)
{
	struct walk *w = calloc(1, sizeof(*w));
	int err;

	if (!w)
		return -ENOMEM;
	w->ld_library_path = ld_library_path;
	w->origin_of = exe;
	err = add(w, exe);
	/* LD_PRELOAD: paths or names, separated by spaces or colons */
	for (const char *p = preload; !err && p && *p;) {
		size_t len = strcspn(p, ": ");
		char name[PATH_MAX];

		if (len && len < sizeof(name)) {
			memcpy(name, p, len);
			name[len] = '\0';
			err = resolve(w, name);
		}
		p += len + (p[len] != '\0');
	}
	/* breadth first: each object's needs are appended as it is read */
	for (size_t i = 0; !err && i < w->n; i++) {
		w->origin_of = w->paths[i];
		/* its search path first: DT_RUNPATH may follow the DT_NEEDED entries */
		err = elf_needed(w->paths[i], ignore, NULL, w->search, sizeof(w->search));
		if (!err)
			err = elf_needed(w->paths[i], resolve, w, NULL, 0);
		if (err == -ENOEXEC || err == -ENOENT || err == -EACCES)
			err = 0; /* a script, or unreadable: the loader decides, not us */
	}
	for (size_t i = 0; !err && i < w->n; i++)
		err = fn(ctx, w->paths[i]);
	for (size_t i = 0; i < w->n; i++)
		free(w->paths[i]);
	free(w);
	return err;
}
