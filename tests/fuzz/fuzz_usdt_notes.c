// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The USDT note reader: elf_usdt_sites() (sys/elf_symbols.c) on a
 * malformed ELF file, asked for memtrack's own probes, and each site's
 * argument string then parsed as core/ parses it (usdt_spec_parse()).
 */
#include <stdint.h>
#include <stdlib.h>

#include "elf_symbols.h"
#include "usdt_spec.h"
#include "input_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* usdt/memtrack_usdt.h's probes, as core/probes.c asks for them */
static const char *const names[] = {
	"malloc", "free", "calloc", "realloc", "aligned_alloc", "posix_memalign", "memalign",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct usdt_site *sites;
	struct usdt_spec spec;
	size_t n;

	if (elf_usdt_sites(fuzz_input_path(data, size), "memtrack", names,
			   sizeof(names) / sizeof(names[0]), &sites, &n))
		return 0;
	for (size_t i = 0; i < n; i++)
		(void)usdt_spec_parse(sites[i].args, sites[i].offset, &spec);
	free(sites);
	return 0;
}
