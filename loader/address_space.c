// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "address_space.h"
#include "elf_symbols.h"

static void maps_clear(struct address_space *s)
{
	for (size_t i = 0; i < s->n; i++)
		free((char *)s->maps[i].path);
	free(s->maps);
	s->maps = NULL;
	s->n = 0;
}

static struct address_space *space_of(struct address_spaces *a, pid_t pid)
{
	struct address_space *spaces;
	uint64_t idx;

	if (u64_map_get(&a->by_pid, (uint64_t)pid, &idx))
		return &a->spaces[idx - 1];
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 16;

		spaces = realloc(a->spaces, cap * sizeof(*spaces));
		if (!spaces)
			return NULL;
		a->spaces = spaces;
		a->cap = cap;
	}
	if (u64_map_put(&a->by_pid, (uint64_t)pid, a->n + 1))
		return NULL;
	memset(&a->spaces[a->n], 0, sizeof(a->spaces[a->n]));
	a->spaces[a->n].pid = pid;
	return &a->spaces[a->n++];
}

static int by_start(const void *x, const void *y)
{
	const struct memtrack_mapping *a = x, *b = y;

	return a->start < b->start ? -1 : a->start > b->start;
}

/* The (interned) build-id of the file (dev, inode); "" when it has none or cannot be read. */
static const char *build_id_of(struct address_spaces *a, uint64_t dev, uint64_t ino,
			       const char *open_path)
{
	uint64_t key = (dev << 40) ^ ino ^ 0x8000000000000000ull, idx;
	char hex[130] = "", **ids;

	if (u64_map_get(&a->build_ids, key, &idx))
		return a->ids[idx - 1];
	if (elf_build_id(open_path, hex, sizeof(hex)))
		hex[0] = '\0';
	ids = realloc(a->ids, (a->nids + 1) * sizeof(*ids));
	if (!ids)
		return "";
	a->ids = ids;
	ids[a->nids] = strdup(hex);
	if (!ids[a->nids] || u64_map_put(&a->build_ids, key, a->nids + 1)) {
		free(ids[a->nids]);
		return "";
	}
	return ids[a->nids++];
}

int as_read_maps(struct address_spaces *a, pid_t pid, FILE *maps, const char *root)
{
	struct memtrack_mapping *list = NULL, *grown;
	size_t n = 0, cap = 0;
	char *line = NULL;
	size_t linecap = 0;
	int err = 0;

	/* start-end perms offset major:minor inode path */
	while (getline(&line, &linecap, maps) > 0) {
		unsigned long long start, end, offset, ino;
		unsigned int major, minor;
		char perms[8], open_path[4200], *path = strchr(line, '/');

		if (!path || sscanf(line, "%llx-%llx %7s %llx %x:%x %llu", &start, &end, perms,
				    &offset, &major, &minor, &ino) != 7)
			continue;
		path[strcspn(path, "\n")] = '\0';
		if (strstr(path, " (deleted)"))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 32;
			grown = realloc(list, cap * sizeof(*list));
			if (!grown) {
				err = -ENOMEM;
				break;
			}
			list = grown;
		}
		snprintf(open_path, sizeof(open_path), "%s%s", root ? root : "", path);
		list[n] = (struct memtrack_mapping){
			.start = start,
			.end = end,
			.offset = offset,
			.path = strdup(path),
			.build_id = build_id_of(a, ((uint64_t)major << 20) | minor, ino, open_path),
		};
		if (!list[n].path) {
			err = -ENOMEM;
			break;
		}
		n++;
	}
	free(line);
	if (!err)
		err = as_set(a, pid, list, n);
	for (size_t i = 0; i < n; i++)
		free((char *)list[i].path);
	free(list);
	return err;
}

int as_read_proc(struct address_spaces *a, pid_t pid)
{
	char path[64], root[64];
	FILE *maps;
	int err;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	snprintf(root, sizeof(root), "/proc/%d/root", (int)pid);
	maps = fopen(path, "re");
	if (!maps)
		return errno == ENOENT ? -ESRCH : -errno;
	err = as_read_maps(a, pid, maps, root);
	fclose(maps);
	return err;
}

int as_set(struct address_spaces *a, pid_t pid, const struct memtrack_mapping *maps, size_t n)
{
	struct address_space *s = space_of(a, pid);
	struct memtrack_mapping *copy = n ? calloc(n, sizeof(*copy)) : NULL;

	if (!s || (n && !copy)) {
		free(copy);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		copy[i] = maps[i];
		copy[i].path = strdup(maps[i].path);
		if (!copy[i].path) {
			while (i--)
				free((char *)copy[i].path);
			free(copy);
			return -ENOMEM;
		}
	}
	qsort(copy, n, sizeof(*copy), by_start);
	maps_clear(s);
	s->maps = copy;
	s->n = n;
	s->generation++;
	return 0;
}

const struct address_space *as_get(const struct address_spaces *a, pid_t pid)
{
	uint64_t idx;

	if (!u64_map_get(&a->by_pid, (uint64_t)pid, &idx))
		return NULL;
	return &a->spaces[idx - 1];
}

const struct memtrack_mapping *as_find(const struct address_space *s, uint64_t ip)
{
	size_t lo = 0, hi = s ? s->n : 0;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ip < s->maps[mid].start)
			hi = mid;
		else if (ip >= s->maps[mid].end)
			lo = mid + 1;
		else
			return &s->maps[mid];
	}
	return NULL;
}

void as_forget(struct address_spaces *a, pid_t pid)
{
	uint64_t idx;

	if (u64_map_get(&a->by_pid, (uint64_t)pid, &idx))
		maps_clear(&a->spaces[idx - 1]);
}

void as_free(struct address_spaces *a)
{
	for (size_t i = 0; i < a->n; i++)
		maps_clear(&a->spaces[i]);
	free(a->spaces);
	u64_map_free(&a->by_pid);
	for (size_t i = 0; i < a->nids; i++)
		free(a->ids[i]);
	free(a->ids);
	u64_map_free(&a->build_ids);
	memset(a, 0, sizeof(*a));
}
