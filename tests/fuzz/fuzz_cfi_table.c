// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The call-frame information of a malformed ELF file (.eh_frame or
 * .debug_frame), compiled into unwind rows by sys/cfi_table.c as for every
 * object a traced process maps with --unwind dwarf, then looked up.
 */
#include <stdint.h>
#include <unistd.h>

#include "cfi_table.h"
#include "input_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cfi_table t;
	int fd = fuzz_input_fd(data, size);

	if (cfi_table_build_fd(fd, &t) == 0) {
		for (size_t i = 0; i < t.n; i++)
			(void)cfi_table_find(&t, t.rows[i].pc);
		cfi_table_free(&t);
	}
	close(fd);
	return 0;
}
