/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Where cgroup v2 is mounted, as a mount table (/proc/self/mounts) says. */
#ifndef MEMTRACK_CGROUP_MOUNT_H
#define MEMTRACK_CGROUP_MOUNT_H

#include <stddef.h>
#include <stdio.h>

/*
 * The mount point of the first cgroup2 line of f (mounts(5) text: device,
 * mount point, type, ...) into dir, with the kernel's octal escapes
 * ("\040" for a space) decoded. Returns 0, or with dir "": -ENOENT if no
 * line names a cgroup2 mount at an absolute path, -ENAMETOOLONG if one
 * does but its path does not fit in size, -EIO if f cannot be read. A
 * line is read whole however long it is; a malformed one (a NUL, an
 * escape that is not three octal digits of a byte) is passed over.
 */
int cgroup2_mount_parse(FILE *f, char *dir, size_t size);

#endif /* MEMTRACK_CGROUP_MOUNT_H */
