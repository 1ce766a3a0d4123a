/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The structs a caller passes that can grow (struct memtrack_opts, the
 * spawn and report options, struct memtrack_trace_handler) start with
 * their size, sz, as libbpf's do.
 */
#ifndef MEMTRACK_OPTS_H
#define MEMTRACK_OPTS_H

#include <stddef.h>

/*
 * Copy a caller's struct (of size sz, its first member; src NULL: all
 * defaults) into a zeroed dst of our size: fields an older caller does not
 * know stay 0. -EINVAL if sz cannot even hold itself, or if a newer
 * caller set a field this version does not know (libbpf's OPTS_VALID).
 */
int opts_copy(void *dst, size_t dst_size, const void *src);

#endif /* MEMTRACK_OPTS_H */
