// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "cfi_table.h"
#include "memtrack.skel.h"
#include "unwind_tables.h"

/* 2M rows (16 MiB, resident while tracing): python3.11 with eight C extensions used 240,000. */
#define DEFAULT_ROWS (1u << 21)

int unwind_tables_setup(struct unwind_tables *u, struct memtrack_bpf *skel, bool on)
{
	memset(u, 0, sizeof(*u));
	u->on = on;
	u->objects_fd = -1;
	pthread_mutex_init(&u->lock, NULL);
	skel->bss->dwarf_unwind = on;
	u->cap = on ? DEFAULT_ROWS : 0;
	if (on) /* the other maps keep the sizes bpf/stack_walk.bpf.h gives them */
		return bpf_map__set_max_entries(skel->maps.unwind_rows, (__u32)u->cap);
	/* frame pointers: the dwarf walk's maps are never used, and as small as can be */
	return bpf_map__set_max_entries(skel->maps.unwind_rows, 1) ?:
	       bpf_map__set_max_entries(skel->maps.unwind_objects, 1) ?:
	       bpf_map__set_max_entries(skel->maps.unwind_cache, 1);
}

int unwind_tables_open(struct unwind_tables *u, struct memtrack_bpf *skel)
{
	void *rows;

	if (!u->on)
		return 0;
	rows = mmap(NULL, u->cap * sizeof(*u->rows), PROT_READ | PROT_WRITE, MAP_SHARED,
		    bpf_map__fd(skel->maps.unwind_rows), 0);
	if (rows == MAP_FAILED)
		return -errno;
	u->rows = rows;
	u->objects_fd = bpf_map__fd(skel->maps.unwind_objects);
	u->gen = &skel->bss->unwind_gen;
	return 0;
}

/* The key the BPF side reads from a mapping's file: the kernel's dev_t, and the inode. */
static struct mt_unwind_key key_of(const struct stat *st)
{
	return (struct mt_unwind_key){
		.dev = (__u64)major(st->st_dev) << 20 | minor(st->st_dev),
		.ino = st->st_ino,
	};
}

/* Its key in the set of files looked at (never 0, which the map reserves). */
static uint64_t done_key(const struct mt_unwind_key *k)
{
	return (k->dev << 41 ^ k->ino << 1) | 1;
}

static int add_locked(struct unwind_tables *u, const char *path, unsigned int flags)
{
	struct cfi_table t;
	struct stat st;
	struct mt_unwind_key key;
	struct mt_unwind_object obj;
	uint64_t seen;
	int err;

	if (stat(path, &st))
		return -errno;
	key = key_of(&st);
	/* a file looked at before: added, or without rows (none, or no room) */
	if (u64_map_get(&u->done, done_key(&key), &seen))
		return seen == 1 ? 0 : -(int)(seen - 1);
	err = cfi_table_build(path, &t);
	if (!err && t.n > u->cap - u->used)
		err = -ENOSPC;
	if (!err) {
		obj = (struct mt_unwind_object){ .first = (__u32)u->used,
						 .n = (__u32)t.n,
						 .vaddr_delta = t.vaddr_delta,
						 .flags = flags };
		/* the rows first: the BPF side reads them once the object is there */
		memcpy(u->rows + u->used, t.rows, t.n * sizeof(*t.rows));
		if (bpf_map_update_elem(u->objects_fd, &key, &obj, BPF_ANY)) {
			err = -errno;
		} else {
			u->used += t.n;
			u->nobjects++;
			/* what the walk cached of addresses without rows is stale now */
			__atomic_add_fetch(u->gen, 1, __ATOMIC_RELEASE);
		}
	}
	cfi_table_free(&t);
	if (err != -ENOMEM && u64_map_put(&u->done, done_key(&key), (uint64_t)-err + 1))
		return -ENOMEM;
	return err;
}

int unwind_tables_add(struct unwind_tables *u, const char *path, unsigned int flags)
{
	int err;

	if (!u->on)
		return 0;
	pthread_mutex_lock(&u->lock);
	err = add_locked(u, path, flags);
	pthread_mutex_unlock(&u->lock);
	return err;
}

void unwind_tables_close(struct unwind_tables *u)
{
	if (u->rows)
		munmap(u->rows, u->cap * sizeof(*u->rows));
	u64_map_free(&u->done);
	pthread_mutex_destroy(&u->lock);
	memset(u, 0, sizeof(*u));
}
