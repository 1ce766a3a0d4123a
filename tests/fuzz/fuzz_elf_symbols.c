// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A malformed ELF file, through every reader of sys/elf_symbols.c that
 * memtrack points at the objects a process maps: function offsets from
 * .dynsym and .symtab (after the .gnu.hash test that skips an object
 * defining none of them), PT_INTERP, DT_NEEDED with DT_RPATH/DT_RUNPATH,
 * and the build-id note; and libc_of_executable() (sys/libc_locate.c),
 * which follows PT_INTERP, or a script's "#!" line, to a libc.
 */
#include <stdint.h>

#include "elf_symbols.h"
#include "libc_locate.h"
#include "input_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The names memtrack asks an allocator for (core/probes.c), and one twice. */
static const char *const names[] = {
	"malloc", "free", "calloc", "realloc", "posix_memalign", "aligned_alloc",
	"memalign", "valloc", "pvalloc", "_Znwm", "_ZdlPv", "malloc",
};
#define NNAMES (sizeof(names) / sizeof(names[0]))

static int count_needed(void *ctx, const char *name)
{
	(void)name;
	++*(size_t *)ctx;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_input_path(data, size);
	size_t offsets[NNAMES], sizes[NNAMES], needed = 0;
	char buf[4096];

	(void)elf_function_offsets(path, names, NNAMES, offsets, sizes);
	(void)elf_interpreter(path, buf, sizeof(buf));
	(void)elf_needed(path, count_needed, &needed, buf, sizeof(buf));
	(void)elf_build_id(path, buf, sizeof(buf));
	/* the size address_space.c gives it, and one too small for the usual id */
	(void)elf_build_id(path, buf, 130);
	(void)elf_build_id(path, buf, 8);
	(void)libc_of_executable(path, buf, sizeof(buf));
	return 0;
}
