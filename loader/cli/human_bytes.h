/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Bytes as a person reads them at a glance: memtrack-plot's labels, memtrack-load's status line. */
#ifndef MEMTRACK_HUMAN_BYTES_H
#define MEMTRACK_HUMAN_BYTES_H

#include <stddef.h>

/* "333 B", "4.9 KiB", "16 MiB" */
void format_bytes(unsigned long long bytes, char *buf, size_t size);

#endif /* MEMTRACK_HUMAN_BYTES_H */
