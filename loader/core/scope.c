// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Scopes beyond a command tree: every process of a cgroup (a container, a
 * systemd unit), or of the whole system. The BPF side takes in each
 * process of the scope that forks or execs from then on (scope_cgroups,
 * current_in_scope()); the processes already there when tracing starts
 * are added here, one by one, as -p would add them. A cgroup's path is
 * absolute, or relative to the cgroup2 mount.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "cgroup_path.h"
#include "libc_locate.h"
#include "memtrack.skel.h"
#include "proc_status.h"
#include "tracker.h"

int scope_setup(struct memtrack *t, const struct memtrack_opts *opts, struct memtrack_error *err)
{
	if (opts->cgroup && opts->all)
		return error_fail(err, MEMTRACK_ERR_USAGE, -EINVAL,
				  "a cgroup and the whole system are two scopes: choose one");
	t->skel->rodata->scope_all = opts->all;
	t->skel->rodata->scope_cgroup = opts->cgroup != NULL;
	t->skel->rodata->self_tgid = (__u32)getpid();
	if (opts->cgroup) {
		int e = cgroup_path_resolve("/proc/self/mounts", opts->cgroup, &t->scope_cgroup);

		if (e == -ENOMEM)
			return error_fail(err, MEMTRACK_ERR_RUNTIME, e, "out of memory");
		if (e == -EINVAL)
			return error_fail(err, MEMTRACK_ERR_USAGE, e, "the cgroup path is empty: give a cgroup v2 "
					  "directory, absolute or under the cgroup2 mount");
		if (e)
			return error_fail(err, MEMTRACK_ERR_USAGE, e,
					  "cannot find where cgroup v2 is mounted, for the "
					  "relative cgroup path %s (/proc/self/mounts: %s): give "
					  "an absolute path",
					  opts->cgroup, strerror(-e));
	}
	t->scope_all = opts->all;
	return 0;
}

int scope_attach(struct memtrack *t, struct memtrack_error *err)
{
	__u32 key = 0;
	int fd, e;

	if (!t->scope_cgroup)
		return 0;
	fd = open(t->scope_cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return error_fail(err, MEMTRACK_ERR_USAGE, -errno, "cannot open cgroup %s: %s",
				  t->scope_cgroup, strerror(errno));
	e = bpf_map__update_elem(t->skel->maps.scope_cgroups, &key, sizeof(key), &fd, sizeof(fd),
				 BPF_ANY);
	close(fd);
	if (e)
		return error_fail(err, MEMTRACK_ERR_USAGE, e,
				  "%s is not a cgroup v2 directory (%s): give one under the "
				  "cgroup2 mount, such as /sys/fs/cgroup/NAME or "
				  "/sys/fs/cgroup/unified/NAME, or NAME alone",
				  t->scope_cgroup, strerror(-e));
	return 0;
}

/* Add one process of the scope; those that went away or have no allocator are skipped. */
static int add_one(struct memtrack *t, pid_t pid, int *added)
{
	int e;

	if (pid == getpid())
		return 0;
	e = memtrack_add_pid(t, pid);
	if (!e) {
		(*added)++;
		return 0;
	}
	switch (t->err.kind) {
	case MEMTRACK_ERR_NO_PROCESS: /* gone, or a kernel thread */
	case MEMTRACK_ERR_ALLOCATOR:  /* nothing to probe in it */
		tracker_log(t, MEMTRACK_LOG_INFO, "not tracing %d: %s", (int)pid, t->err.msg);
		t->err = (struct memtrack_error){ 0 };
		return 0;
	default:
		return e;
	}
}

static int add_cgroup_procs(struct memtrack *t, int *added)
{
	char path[PATH_MAX];
	FILE *f;
	long pid;
	int e = 0;

	snprintf(path, sizeof(path), "%s/cgroup.procs", t->scope_cgroup);
	f = fopen(path, "re");
	if (!f)
		return tracker_fail(t, MEMTRACK_ERR_USAGE, -errno, "cannot read %s: %s", path,
				    strerror(errno));
	while (!e && fscanf(f, "%ld", &pid) == 1)
		e = add_one(t, (pid_t)pid, added);
	fclose(f);
	return e;
}

static int add_all_procs(struct memtrack *t, int *added)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	int e = 0;

	if (!d)
		return tracker_fail(t, MEMTRACK_ERR_RUNTIME, -errno, "cannot read /proc: %s",
				    strerror(errno));
	while (!e && (de = readdir(d)))
		if (isdigit((unsigned char)de->d_name[0]))
			e = add_one(t, (pid_t)atol(de->d_name), added);
	closedir(d);
	return e;
}

/*
 * This system's libc, before anything starts in the scope: a process that
 * joins later is seen only at its exec, too late to probe what it uses
 * before its first allocation. Others (a container's own libc, jemalloc)
 * are probed as they appear, with a warning.
 */
static int probe_system_libc(struct memtrack *t)
{
	char libc[PATH_MAX];

	if (t->usdt || libc_default(libc, sizeof(libc)))
		return 0;
	return probes_attach_object(t, libc, PROBE_REQUIRE_MALLOC, &t->err);
}

int memtrack_add_scope(struct memtrack *t)
{
	int added = 0, e;

	pthread_mutex_lock(&t->probe_lock);
	e = probe_system_libc(t);
	pthread_mutex_unlock(&t->probe_lock);
	if (e)
		return e;
	if (t->scope_cgroup)
		e = add_cgroup_procs(t, &added);
	else if (t->scope_all)
		e = add_all_procs(t, &added);
	else
		return tracker_fail(t, MEMTRACK_ERR_USAGE, -EINVAL,
				    "memtrack_add_scope() needs opts.cgroup or opts.all");
	return e ? e : added;
}
