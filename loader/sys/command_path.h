/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Finding the file a command name runs, as execvp(3) and a shell would. */
#ifndef MEMTRACK_COMMAND_PATH_H
#define MEMTRACK_COMMAND_PATH_H

#include <stddef.h>

/*
 * A name with a '/' is used as it is; others are searched in path_env
 * (PATH; NULL means "/bin:/usr/bin"; an empty entry is the current
 * directory). Returns 0 with the file in buf, -ENOENT when nothing of that
 * name exists, -EISDIR for a directory named by path, -EACCES when
 * something exists but cannot be executed: a shell's 127 and 126; and
 * -ENAMETOOLONG for a name with a '/' that does not fit in size (a PATH
 * candidate that does not fit is not tried: it is not found).
 */
int command_resolve(const char *name, const char *path_env, char *buf, size_t size);

#endif /* MEMTRACK_COMMAND_PATH_H */
