// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The decoder that places entry probes: sys/probe_site.c's probe_site()
 * (capstone, and the rules on what may stand before the probe) on a
 * function's bytes as elf_function_offsets() finds them in an object.
 */
#include <stdint.h>
#include <stdlib.h>

#include "probe_site.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t site = probe_site(data, size);

	/* a site is always an instruction inside the code, and one the kernel emulates */
	if (site && site >= size)
		abort();
	return 0;
}
