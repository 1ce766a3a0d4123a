// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * cfi_build: what --unwind dwarf pays once per object, before any stack:
 * compiling its call-frame information into unwind rows. Prints, for each
 * file, the milliseconds it took (the best of 5) and the rows.
 *
 *	cfi_build FILE...
 */
#include <stdio.h>
#include <time.h>

#include "cfi_table.h"

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
	int status = 0;

	for (int i = 1; i < argc; i++) {
		double best = -1;
		size_t rows = 0;

		for (int rep = 0; rep < 5; rep++) {
			struct cfi_table t;
			double start = now_ms(), ms;
			int err = cfi_table_build(argv[i], &t);

			ms = now_ms() - start;
			if (err) {
				fprintf(stderr, "cfi_build: %s: error %d\n", argv[i], err);
				status = 1;
				break;
			}
			rows = t.n;
			cfi_table_free(&t);
			if (best < 0 || ms < best)
				best = ms;
		}
		if (best >= 0)
			printf("%s %.2f %zu\n", argv[i], best, rows);
	}
	return status;
}
