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
#include <sys/stat.h>

#include "elf_symbols.h"
#include "grow_array.h"
#include "lib_deps.h"
#include "libc_locate.h"
#include "proc_status.h"
#include "tracker.h"

struct scan {
	struct memtrack *t;
	struct memtrack_error *why; /* where a failure's reason goes */
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

bool file_key(const char *path, uint64_t *key)
{
	struct stat st;

	if (stat(path, &st))
		return false;
	*key = ((uint64_t)st.st_dev << 40 ^ (uint64_t)st.st_ino) | 1;
	return true;
}

/* What the set of objects looked at says of one. */
enum { NOT_SEEN = 0, NOTHING_TO_PROBE = 1, PROBED = 2 };

/* Remember what an object turned out to be. With meta_lock. */
static void remember(struct memtrack *t, uint64_t key, uint64_t what)
{
	u64_map_put(&t->looked_at, key, what); /* without memory it is looked at again: no harm */
}

static int probe_one(void *ctx, const char *path)
{
	struct scan *s = ctx;
	char full[PATH_MAX + 64];
	uint64_t key, what = NOT_SEEN;
	int err;

	full_path(s, path, full, sizeof(full));
	/* the objects every process maps: read once, however many processes there are */
	if (!file_key(full, &key))
		return 0;
	pthread_mutex_lock(&s->t->meta_lock);
	u64_map_get(&s->t->looked_at, key, &what);
	pthread_mutex_unlock(&s->t->meta_lock);
	if (what != NOT_SEEN) {
		s->found += what == PROBED;
		return 0;
	}
	/*
	 * Every object a process maps or will load has its frames unwound
	 * (--unwind dwarf), once, like its probes (one dlopen'd meanwhile is
	 * discover_new_mappings()'s).
	 */
	unwind_tables_add(&s->t->unwind, full, 0);
	err = probes_attach(s->t, full, 0, s->why);
	if (err && err != -ENOENT)
		return err;
	pthread_mutex_lock(&s->t->meta_lock);
	remember(s->t, key, err ? NOTHING_TO_PROBE : PROBED);
	pthread_mutex_unlock(&s->t->meta_lock);
	s->found += !err;
	return 0;
}

/* A process's mapped files, the C libraries last. */
struct file_list {
	char **v;
	size_t n, cap, nlibc;
};

static int list_file(void *ctx, const char *path)
{
	struct file_list *l = ctx;
	const char *base = strrchr(path, '/');
	char *copy = strdup(path);

	if (!copy || GROW_ARRAY(l->v, l->n, l->cap, 64)) {
		free(copy);
		return -ENOMEM;
	}
	if (libc_is_libc_name(base ? base + 1 : path)) {
		l->v[l->n++] = copy;
		l->nlibc++;
		return 0;
	}
	/* before the C libraries listed so far */
	memmove(&l->v[l->n - l->nlibc + 1], &l->v[l->n - l->nlibc], l->nlibc * sizeof(*l->v));
	l->v[l->n - l->nlibc] = copy;
	l->n++;
	return 0;
}

/*
 * Every object the process maps, the C library last. Once libc's malloc
 * has its probes, every malloc of ours (libelf makes many per object)
 * traps into the kernel too: reading the other objects first makes
 * attaching to a process with many libraries several times faster.
 */
int discover_mapped(struct memtrack *t, pid_t pid, int *found, struct memtrack_error *why)
{
	struct scan s = { .t = t, .why = why, .pid = pid, .same_root = proc_same_root(pid) };
	struct file_list l = { 0 };
	FILE *maps = maps_open(pid);
	int err;

	if (!maps)
		return error_fail(why, MEMTRACK_ERR_NO_PROCESS, -errno,
				  "cannot read the mappings of process %d: %s", (int)pid,
				  strerror(errno));
	err = maps_for_each_file(maps, list_file, &l);
	fclose(maps);
	if (err)
		err = error_fail(why, MEMTRACK_ERR_RUNTIME, err, "out of memory");
	for (size_t i = 0; !err && i < l.n; i++)
		err = probe_one(&s, l.v[i]);
	for (size_t i = 0; i < l.n; i++)
		free(l.v[i]);
	free(l.v);
	if (found)
		*found = s.found;
	return err;
}

/* fn for each library exe will load, run with envp (its LD_PRELOAD and LD_LIBRARY_PATH). */
static int needed_each(const char *exe, char *const *envp, int (*fn)(void *ctx, const char *path),
		       void *ctx)
{
	const char *preload = NULL, *library_path = NULL;

	for (size_t i = 0; envp && envp[i]; i++) {
		if (strncmp(envp[i], "LD_PRELOAD=", 11) == 0)
			preload = envp[i] + 11;
		else if (strncmp(envp[i], "LD_LIBRARY_PATH=", 16) == 0)
			library_path = envp[i] + 16;
	}
	return lib_deps_each(exe, preload, library_path, fn, ctx);
}

int discover_needed(struct memtrack *t, const char *exe, char *const *envp,
		    struct memtrack_error *why)
{
	struct scan s = { .t = t, .why = why, .same_root = true };

	return needed_each(exe, envp, probe_one, &s);
}

static int unwind_one(void *ctx, const char *path)
{
	unwind_tables_add(ctx, path, 0);
	return 0;
}

void discover_unwind(struct memtrack *t, const char *exe, char *const *envp)
{
	char interp[PATH_MAX];

	if (!t->unwind.on)
		return;
	unwind_tables_add(&t->unwind, exe, 0);
	if (elf_interpreter(exe, interp, sizeof(interp)) == 0)
		unwind_tables_add(&t->unwind, interp, 0);
	if (!t->usdt)
		return; /* the uprobe source's discover_needed() has walked them already */
	needed_each(exe, envp, unwind_one, &t->unwind);
}

void discover_on_map(void *ctx, pid_t pid, const char *path)
{
	struct memtrack *t = ctx;
	struct scan s = { .t = t, .pid = pid, .same_root = proc_same_root(pid) };
	char full[PATH_MAX + 64];
	struct new_mapping *v;
	uint64_t key;

	full_path(&s, path, full, sizeof(full));
	if (!file_key(full, &key) || u64_map_get(&t->looked_at, key, NULL))
		return;
	remember(t, key, NOTHING_TO_PROBE); /* queued once; PROBED once it is */
	if (APPEND_SLOT(t->new_maps, t->nnew_maps))
		return;
	v = t->new_maps;
	v[t->nnew_maps].pid = pid;
	v[t->nnew_maps].path = strdup(full);
	if (v[t->nnew_maps].path)
		t->nnew_maps++;
}

/* Is path the image pid runs? With per-process probes, the warden held pid at its exec for that. */
static bool is_image_of(pid_t pid, const char *path)
{
	char exe[64];
	uint64_t a, b;

	snprintf(exe, sizeof(exe), "/proc/%d/exe", (int)pid);
	return file_key(exe, &a) && file_key(path, &b) && a == b;
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

		if (t->warden.pid && is_image_of(v[i].pid, v[i].path)) {
			free(v[i].path);
			continue;
		}

		pthread_mutex_lock(&t->probe_lock);
		before = t->nobjects;
		uint64_t key;

		unwind_tables_add(&t->unwind, v[i].path, 0); /* a dlopen'd object's frames too */
		/* this thread's failures are not the caller's: err, not t->err */
		bool probed = probes_attach(t, v[i].path, 0, &err) == 0;

		if (probed && file_key(v[i].path, &key)) {
			pthread_mutex_lock(&t->meta_lock);
			remember(t, key, PROBED);
			pthread_mutex_unlock(&t->meta_lock);
		}
		if (probed && t->nobjects > before)
			tracker_log(t, MEMTRACK_LOG_WARN,
				    "process %d mapped %s, %s: probed only now, its calls before "
				    "this may be missed",
				    (int)v[i].pid, path_for_display(v[i].path),
				    t->usdt ? "which has memtrack probes" : "an allocator");
		pthread_mutex_unlock(&t->probe_lock);
		free(v[i].path);
	}
	free(v);
}
