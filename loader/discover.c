// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Finding every allocator a traced process uses, besides its C library:
 * one linked in or preloaded (jemalloc, tcmalloc, mimalloc), found among
 * the objects a command will load before it runs; one a running process
 * maps; one loaded later with dlopen, found from the kernel's mmap records
 * as they come. With the USDT source, the same walk finds objects with
 * memtrack probes. Objects are probed once, by device and inode (probes.c).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib_deps.h"
#include "libc_locate.h"
#include "proc_status.h"
#include "tracker.h"

struct scan {
	struct memtrack *t;
	pid_t pid;
	bool same_root;
	int found; /* objects probed (now or before) */
};

/* A path a process names, as one this process can open. */
static void full_path(const struct scan *s, const char *path, char *buf, size_t size)
{
	if (s->same_root)
		snprintf(buf, size, "%s", path);
	else
		snprintf(buf, size, "/proc/%d/root%s", (int)s->pid, path);
}

static int probe_one(void *ctx, const char *path)
{
	struct scan *s = ctx;
	char full[PATH_MAX + 64];
	int err;

	full_path(s, path, full, sizeof(full));
	err = probes_attach(s->t, full, 0);
	if (err == -ENOENT)
		return 0; /* not an allocator (or no memtrack probes): most objects */
	if (!err)
		s->found++;
	return err;
}

int discover_mapped(struct memtrack *t, pid_t pid, int *found)
{
	struct scan s = { t, pid, proc_same_root(pid), 0 };
	FILE *maps = maps_open(pid);
	int err;

	if (!maps)
		return tracker_fail(t, MEMTRACK_ERR_NO_PROCESS, -errno,
				    "cannot read the mappings of process %d: %s", (int)pid,
				    strerror(errno));
	err = maps_for_each_file(maps, probe_one, &s);
	fclose(maps);
	if (found)
		*found = s.found;
	return err;
}

int discover_needed(struct memtrack *t, const char *exe, char *const *envp)
{
	struct scan s = { t, 0, true, 0 };
	const char *preload = NULL, *library_path = NULL;

	for (size_t i = 0; envp && envp[i]; i++) {
		if (strncmp(envp[i], "LD_PRELOAD=", 11) == 0)
			preload = envp[i] + 11;
		else if (strncmp(envp[i], "LD_LIBRARY_PATH=", 16) == 0)
			library_path = envp[i] + 16;
	}
	return lib_deps_each(exe, preload, library_path, probe_one, &s);
}

/* FNV-1a of a path: the key of the set of paths already looked at. */
static uint64_t path_key(const char *path)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (; *path; path++)
		h = (h ^ (unsigned char)*path) * 0x100000001b3ull;
	return h ? h : 1;
}

void discover_on_map(void *ctx, pid_t pid, const char *path)
{
	struct memtrack *t = ctx;
	struct scan s = { t, pid, proc_same_root(pid), 0 };
	char full[PATH_MAX + 64];
	struct new_mapping *v;
	uint64_t key;

	full_path(&s, path, full, sizeof(full));
	key = path_key(full);
	if (u64_map_get(&t->looked_at, key, NULL))
		return;
	v = realloc(t->new_maps, (t->nnew_maps + 1) * sizeof(*v));
	if (!v)
		return;
	t->new_maps = v;
	v[t->nnew_maps].pid = pid;
	v[t->nnew_maps].path = strdup(full);
	if (!v[t->nnew_maps].path || u64_map_put(&t->looked_at, key, 1)) {
		free(v[t->nnew_maps].path);
		return;
	}
	t->nnew_maps++;
}

void discover_new_mappings(struct memtrack *t)
{
	struct new_mapping *v;
	size_t n;

	pthread_mutex_lock(&t->meta_lock);
	v = t->new_maps;
	n = t->nnew_maps;
	t->new_maps = NULL;
	t->nnew_maps = 0;
	pthread_mutex_unlock(&t->meta_lock);
	for (size_t i = 0; i < n; i++) {
		struct memtrack_error err = { 0 };
		size_t before;

		pthread_mutex_lock(&t->probe_lock);
		tracker_errors_to(&err); /* this thread's failures are not the caller's */
		before = t->nobjects;
		if (probes_attach(t, v[i].path, 0) == 0 && t->nobjects > before)
			tracker_log(t, MEMTRACK_LOG_WARN,
				    "process %d mapped %s, %s: probed only now, its calls before "
				    "this may be missed",
				    (int)v[i].pid, path_for_display(v[i].path),
				    t->usdt ? "which has memtrack probes" : "an allocator");
		tracker_errors_to(NULL);
		pthread_mutex_unlock(&t->probe_lock);
		free(v[i].path);
	}
	free(v);
}
