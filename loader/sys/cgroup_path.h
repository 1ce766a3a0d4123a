/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A cgroup as a user names it: an absolute path, or one relative to the
 * cgroup2 mount (system.slice/foo.service), as systemd and the cgroup
 * tools name them.
 */
#ifndef MEMTRACK_CGROUP_PATH_H
#define MEMTRACK_CGROUP_PATH_H

#include <stddef.h>

/*
 * Where cgroup v2 is mounted, from the file mounts (a /proc/self/mounts),
 * as cgroup2_mount_parse() reads it, or the negative errno of opening it.
 */
int cgroup_path_mount(const char *mounts, char *dir, size_t size);

/*
 * path if it is absolute, else path under the cgroup2 mount that mounts
 * names: a string the caller frees, in *out. 0 or a negative errno, as
 * cgroup_path_mount(), -EINVAL for an empty path, -ENOMEM.
 */
int cgroup_path_resolve(const char *mounts, const char *path, char **out);

#endif /* MEMTRACK_CGROUP_PATH_H */
