/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* --by-cgroup: the summary's totals by cgroup. */
#ifndef MEMTRACK_REPORT_CGROUPS_H
#define MEMTRACK_REPORT_CGROUPS_H

#include <stdbool.h>
#include <stdio.h>

#include "summary.h"

/* One row (or JSON object) per cgroup the processes were in. 0 or -ENOMEM. */
int report_cgroups(const struct memtrack_summary *s, bool json, FILE *out);

#endif /* MEMTRACK_REPORT_CGROUPS_H */
