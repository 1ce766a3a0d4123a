// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdio.h>
#include <string.h>

#include "human_bytes.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

void format_bytes(unsigned long long bytes, char *buf, size_t size)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB" };
	double v = (double)bytes;
	size_t u = 0;
	char *dot;

	if (bytes < 1024) {
		snprintf(buf, size, "%llu B", bytes);
		return;
	}
	for (v /= 1024; v >= 1024 && u + 1 < ARRAY_SIZE(units); v /= 1024)
		u++;
	snprintf(buf, size, "%.1f %s", v, units[u]);
	dot = strstr(buf, ".0 ");
	if (dot) /* "16.0 KiB" reads better as "16 KiB" */
		memmove(dot, dot + 2, strlen(dot + 2) + 1);
}
