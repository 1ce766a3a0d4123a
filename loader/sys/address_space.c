// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "fnv_hash.h"
#include "address_space.h"
#include "elf_symbols.h"
#include "grow_array.h"

static uint64_t hash_str(const char *s)
{
	uint64_t h = fnv1a_str(FNV1A_SEED, s);

	return h ? h : 1;
}

/* One copy of each path and build-id, however many mappings name it: its index + 1, or 0. */
static size_t intern_index(struct address_spaces *a, const char *s)
{
	uint64_t h = hash_str(s), idx;
	char **str;

	/* on a hash collision, probe the next hash */
	while (u64_map_get(&a->strings, h, &idx)) {
		if (strcmp(a->str[idx - 1], s) == 0)
			return idx;
		h = h * 31 + 7;
		if (!h)
			h = 1;
	}
	if (APPEND_SLOT(a->str, a->nstr))
		return 0;
	str = a->str;
	str[a->nstr] = strdup(s);
	if (!str[a->nstr] || u64_map_put(&a->strings, h, a->nstr + 1)) {
		free(str[a->nstr]);
		return 0;
	}
	return ++a->nstr;
}

static const char *intern(struct address_spaces *a, const char *s)
{
	size_t idx = intern_index(a, s);

	return idx ? a->str[idx - 1] : NULL;
}

static struct proc_maps *proc_of(struct address_spaces *a, pid_t pid)
{
	uint64_t idx;

	if (u64_map_get(&a->by_pid, (uint64_t)pid, &idx))
		return &a->procs[idx - 1];
	if (GROW_ARRAY(a->procs, a->nprocs, a->cap, 16))
		return NULL;
	if (u64_map_put(&a->by_pid, (uint64_t)pid, a->nprocs + 1))
		return NULL;
	memset(&a->procs[a->nprocs], 0, sizeof(a->procs[0]));
	a->procs[a->nprocs].pid = pid;
	return &a->procs[a->nprocs++];
}

const struct proc_maps *as_proc(const struct address_spaces *a, pid_t pid)
{
	uint64_t idx;

	return u64_map_get(&a->by_pid, (uint64_t)pid, &idx) ? &a->procs[idx - 1] : NULL;
}

int as_add(struct address_spaces *a, pid_t pid, const struct memtrack_mapping *m, uint64_t time)
{
	struct proc_maps *p = proc_of(a, pid);
	const char *path, *id;

	/* [vdso], [uprobes], memfd JIT code: no file to name anything from */
	if (!m->path || m->path[0] != '/')
		return 0;
	if (!p)
		return -ENOMEM;
	path = intern(a, m->path ? m->path : "");
	id = intern(a, m->build_id ? m->build_id : "");
	if (!path || !id)
		return -ENOMEM;
	if (GROW_ARRAY(p->maps, p->n, p->cap, 16))
		return -ENOMEM;
	p->maps[p->n++] = (struct mapping){ .m = { m->start, m->end, m->offset, path, id },
					    .time = time };
	return 0;
}

/* The last exec of p at or before time; 0 if none. */
static uint64_t last_exec(const struct proc_maps *p, uint64_t time);

/*
 * The same mapping (start, end, offset, file) already known in the image
 * pid ran at time, made before or after time; NULL if none.
 */
static struct mapping *known_in_image(const struct address_spaces *a, pid_t pid,
				      const struct memtrack_mapping *m, uint64_t time)
{
	const struct proc_maps *p = as_proc(a, pid);
	uint64_t image = p ? last_exec(p, time) : 0;

	for (size_t i = 0; p && m->path && i < p->n; i++) {
		struct mapping *x = &p->maps[i];

		if (x->m.start == m->start && x->m.end == m->end && x->m.offset == m->offset &&
		    strcmp(x->m.path, m->path) == 0 && last_exec(p, x->time) == image)
			return x;
	}
	return NULL;
}

/*
 * A mapping known once per image: seen again (a kernel record after a read
 * of /proc, or the other way round), only its time is made the earliest.
 * The kernel's mmap record can be stamped after the first allocation that
 * runs code in it, and records of different CPUs come in any order.
 */
static bool known_once(struct address_spaces *a, pid_t pid, const struct memtrack_mapping *m,
		       uint64_t time)
{
	struct mapping *x = known_in_image(a, pid, m, time);

	if (x && time < x->time)
		x->time = time;
	return x != NULL;
}

int as_add_recorded(struct address_spaces *a, pid_t pid, const struct memtrack_mapping *m,
		    uint64_t time)
{
	return known_once(a, pid, m, time) ? 0 : as_add(a, pid, m, time);
}

int as_exec(struct address_spaces *a, pid_t pid, uint64_t time)
{
	struct proc_maps *p = proc_of(a, pid);

	if (!p)
		return -ENOMEM;
	if (APPEND_SLOT(p->execs, p->nexecs))
		return -ENOMEM;
	p->execs[p->nexecs++] = time;
	return 0;
}

static uint64_t last_exec(const struct proc_maps *p, uint64_t time)
{
	uint64_t last = 0;

	for (size_t i = 0; i < p->nexecs; i++)
		if (p->execs[i] <= time && p->execs[i] > last)
			last = p->execs[i];
	return last;
}

int as_fork(struct address_spaces *a, pid_t parent, pid_t child, uint64_t time)
{
	const struct proc_maps *pp = as_proc(a, parent);
	uint64_t since;
	size_t n;
	int err = 0;

	if (!pp)
		return 0;
	since = last_exec(pp, time);
	n = pp->n; /* as_add may move a->procs, and pp with it: index instead */
	for (size_t i = 0; i < n && !err; i++) {
		const struct mapping *m = &as_proc(a, parent)->maps[i];
		struct memtrack_mapping copy = m->m;

		if (m->time >= since && m->time <= time)
			err = as_add(a, child, &copy, m->time);
	}
	return err;
}

const struct memtrack_mapping *as_find(const struct address_spaces *a, pid_t pid, uint64_t ip,
				       uint64_t time)
{
	const struct proc_maps *p = as_proc(a, pid);
	uint64_t since;

	if (!p)
		return NULL;
	since = last_exec(p, time);
	/* newest first: a later mapping of the same range replaced the earlier one */
	for (size_t i = p->n; i-- > 0;) {
		const struct mapping *m = &p->maps[i];

		if (m->time > time || m->time < since)
			continue;
		if (ip >= m->m.start && ip < m->m.end)
			return &m->m;
	}
	return NULL;
}

/* The (interned) build-id of the file (dev, inode); "" when it has none or cannot be read. */
static const char *build_id_of(struct address_spaces *a, uint64_t dev, uint64_t ino,
			       const char *open_path)
{
	uint64_t key = (dev << 40) ^ ino ^ 0x8000000000000000ull, idx;
	char hex[130] = "";

	if (u64_map_get(&a->build_ids, key, &idx))
		return a->str[idx - 1];
	if (elf_build_id(open_path, hex, sizeof(hex)))
		hex[0] = '\0';
	idx = intern_index(a, hex);
	if (!idx || u64_map_put(&a->build_ids, key, idx))
		return "";
	return a->str[idx - 1];
}

int as_read_maps(struct address_spaces *a, pid_t pid, FILE *maps, const char *root,
		 uint64_t time)
{
	char *line = NULL;
	size_t linecap = 0;
	int err = 0;

	/* start-end perms offset major:minor inode path */
	while (!err && getline(&line, &linecap, maps) > 0) {
		unsigned long long start, end, offset, ino;
		unsigned int major, minor;
		char perms[8], open_path[4200], *path = strchr(line, '/');
		struct memtrack_mapping m;

		if (!path || sscanf(line, "%llx-%llx %7s %llx %x:%x %llu", &start, &end, perms,
				    &offset, &major, &minor, &ino) != 7)
			continue;
		path[strcspn(path, "\n")] = '\0';
		/* code is what stacks point into; a deleted file cannot be read any more */
		if (perms[2] != 'x' || strstr(path, " (deleted)"))
			continue;
		m = (struct memtrack_mapping){
			.start = start,
			.end = end,
			.offset = offset,
			.path = path,
		};
		/* read again (a frame outside every known mapping): what is known stays once */
		if (known_once(a, pid, &m, time))
			continue;
		snprintf(open_path, sizeof(open_path), "%s%s", root ? root : "", path);
		m.build_id = build_id_of(a, ((uint64_t)major << 20) | minor, ino, open_path);
		err = as_add(a, pid, &m, time);
	}
	free(line);
	return err;
}

int as_read_proc(struct address_spaces *a, pid_t pid, uint64_t time)
{
	char path[64], root[64];
	FILE *maps;
	int err;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	snprintf(root, sizeof(root), "/proc/%d/root", (int)pid);
	maps = fopen(path, "re");
	if (!maps)
		return errno == ENOENT ? -ESRCH : -errno;
	err = as_read_maps(a, pid, maps, root, time);
	fclose(maps);
	return err;
}

void as_free(struct address_spaces *a)
{
	for (size_t i = 0; i < a->nprocs; i++) {
		free(a->procs[i].maps);
		free(a->procs[i].execs);
	}
	free(a->procs);
	u64_map_free(&a->by_pid);
	for (size_t i = 0; i < a->nstr; i++)
		free(a->str[i]);
	free(a->str);
	u64_map_free(&a->strings);
	u64_map_free(&a->build_ids);
	memset(a, 0, sizeof(*a));
}
