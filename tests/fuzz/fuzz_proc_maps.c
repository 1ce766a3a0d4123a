// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * /proc/PID/maps text, read by both of its readers: the process's
 * mappings (sys/address_space.c, as_read_maps(), then looked up with
 * as_find()) and the files it maps (sys/libc_locate.c,
 * maps_for_each_file() through libc_from_maps()).
 */
#include <stdint.h>
#include <stdlib.h>

#include "address_space.h"
#include "libc_locate.h"
#include "input_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Files are opened under this root for their build-ids: a directory that
 * does not exist, so that a path in the input never reads this machine's
 * files (which would make a run depend on them, and slow).
 */
#define NO_ROOT "/nonexistent-memtrack-fuzz-root"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct address_spaces a = { 0 };
	char libc[4096];
	FILE *f;

	f = fuzz_input_open(data, size);
	if (as_read_maps(&a, 1, f, NO_ROOT, 5) == 0) {
		const struct proc_maps *p = as_proc(&a, 1);

		for (size_t i = 0; p && i < p->n; i++)
			(void)as_find(&a, 1, p->maps[i].m.start, 5);
		(void)as_find(&a, 1, 0x400000, 5);
	}
	as_free(&a);
	fclose(f);

	f = fuzz_input_open(data, size);
	(void)libc_from_maps(f, libc, sizeof(libc));
	fclose(f);
	return 0;
}
