// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * --by-cgroup: the per-process summary's totals added up by cgroup (a
 * container, a systemd unit). A process's cgroup is the one its Fork,
 * Exec or Exit event named; its path is found by the cgroup id, which in
 * cgroup v2 is the inode number of the cgroup's directory.
 */
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "cgroup_path.h"
#include "grow_array.h"
#include "json_put.h"
#include "report_cgroups.h"
#include "summary.h"

struct group {
	unsigned long long id;
	unsigned long long procs, allocs, frees, live_blocks, alloc_bytes, free_bytes, live_bytes;
	char *path; /* relative to the cgroup2 mount; NULL if not found */
};

/* Where cgroup v2 is mounted: "" if nowhere, or if the mount table cannot be read. */
static void cgroup2_mount(char *dir, size_t size)
{
	/* on any error dir is "": the groups are then named by their ids */
	if (cgroup_path_mount("/proc/self/mounts", dir, size))
		dir[0] = '\0';
}

/* nftw has no context pointer: the walk's state, for one walk at a time. */
static struct {
	struct group *v;
	size_t n, left;
	size_t root_len;
} walk;

static int name_group(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)ftw;
	if (type != FTW_D)
		return 0;
	for (size_t i = 0; i < walk.n; i++) {
		if (walk.v[i].path || walk.v[i].id != (unsigned long long)st->st_ino)
			continue;
		walk.v[i].path = strdup(path[walk.root_len] ? path + walk.root_len : "/");
		if (walk.v[i].path && --walk.left == 0)
			return 1; /* every group is named */
	}
	return 0;
}

static void name_groups(struct group *v, size_t n)
{
	char root[PATH_MAX];

	cgroup2_mount(root, sizeof(root));
	if (!root[0])
		return;
	walk.v = v;
	walk.n = n;
	walk.left = 0;
	for (size_t i = 0; i < n; i++)
		walk.left += v[i].id != 0;
	walk.root_len = strlen(root);
	if (walk.left)
		nftw(root, name_group, 16, FTW_PHYS | FTW_MOUNT);
}

static struct group *group_of(struct group **v, size_t *n, unsigned long long id)
{
	struct group *g;

	for (size_t i = 0; i < *n; i++)
		if ((*v)[i].id == id)
			return &(*v)[i];
	if (APPEND_SLOT(*v, *n))
		return NULL;
	g = &(*v)[(*n)++];
	*g = (struct group){ .id = id };
	return g;
}

static int collect(const struct memtrack_summary *s, struct group **v, size_t *n)
{
	for (size_t i = 0; i < s->nprocs; i++) {
		const struct memtrack_proc_stats *st = &s->procs[i].st;
		struct group *g = group_of(v, n, st->cgroup_id);

		if (!g)
			return -ENOMEM;
		g->procs++;
		g->allocs += st->allocs;
		g->frees += st->frees;
		g->live_blocks += st->live_blocks;
		g->alloc_bytes += st->alloc_bytes;
		g->free_bytes += st->free_bytes;
		g->live_bytes += st->live_bytes;
	}
	name_groups(*v, *n);
	return 0;
}

static const char *name_of(const struct group *g, char *buf, size_t size)
{
	if (g->path)
		return g->path;
	if (!g->id)
		return "(unknown)";
	snprintf(buf, size, "cgroup %llu", g->id);
	return buf;
}

static int groups_text(const struct group *v, size_t n, FILE *out)
{
	char name[64];

	fprintf(out, "%-40s %6s %9s %9s %8s %12s %12s %12s\n", "Cgroup", "Procs", "Allocs",
		"Frees", "Live", "Alloc", "Free", "Real");
	for (size_t i = 0; i < n; i++)
		fprintf(out, "%-40s %6llu %9llu %9llu %8llu %12llu %12llu %12llu\n",
			name_of(&v[i], name, sizeof(name)), v[i].procs, v[i].allocs, v[i].frees,
			v[i].live_blocks, v[i].alloc_bytes, v[i].free_bytes, v[i].live_bytes);
	return 0;
}


static int groups_json(const struct group *v, size_t n, FILE *out)
{
	struct json_object *doc = json_object_new_object(), *list = json_object_new_array();
	int err = doc && list ? 0 : -ENOMEM;

	for (size_t i = 0; !err && i < n; i++) {
		struct json_object *g = json_object_new_object();

		err = g ? 0 : -ENOMEM;
		err = err ?: json_put_u64(g, "cgroup_id", v[i].id);
		if (!err && v[i].path &&
		    json_object_object_add(g, "path", json_object_new_string(v[i].path)))
			err = -ENOMEM;
		err = err ?: json_put_u64(g, "processes", v[i].procs);
		err = err ?: json_put_u64(g, "allocs", v[i].allocs);
		err = err ?: json_put_u64(g, "frees", v[i].frees);
		err = err ?: json_put_u64(g, "live_blocks", v[i].live_blocks);
		err = err ?: json_put_u64(g, "alloc_bytes", v[i].alloc_bytes);
		err = err ?: json_put_u64(g, "free_bytes", v[i].free_bytes);
		err = err ?: json_put_u64(g, "live_bytes", v[i].live_bytes);
		if (err || json_object_array_add(list, g)) {
			json_object_put(g);
			err = -ENOMEM;
		}
	}
	if (!err && (json_object_object_add(doc, "report", json_object_new_string("cgroups")) ||
		     json_object_object_add(doc, "cgroups", list)))
		err = -ENOMEM;
	else if (!err)
		list = NULL;
	json_object_put(list);
	return json_emit(doc, err, out);
}

int report_cgroups(const struct memtrack_summary *s, bool json, FILE *out)
{
	struct group *v = NULL;
	size_t n = 0;
	int err = collect(s, &v, &n);

	if (!err)
		err = json ? groups_json(v, n, out) : groups_text(v, n, out);
	for (size_t i = 0; i < n; i++)
		free(v[i].path);
	free(v);
	return err;
}
