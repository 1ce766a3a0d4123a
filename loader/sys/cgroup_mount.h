/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Where cgroup v2 is mounted, as a mount table (/proc/self/mounts) says. */
#ifndef MEMTRACK_CGROUP_MOUNT_H
#define MEMTRACK_CGROUP_MOUNT_H

#include <stddef.h>
#include <stdio.h>

/*
 * The mount point of the first cgroup2 line of f (mounts(5) text) into dir.
 * 0, or -ENOENT with dir "" if there is none.
 */
int cgroup2_mount_parse(FILE *f, char *dir, size_t size);

#endif /* MEMTRACK_CGROUP_MOUNT_H */
