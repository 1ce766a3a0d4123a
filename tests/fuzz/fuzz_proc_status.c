// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* /proc/PID/status text, as sys/proc_status.c's proc_status_parse() reads it. */
#include <stdint.h>

#include "proc_status.h"
#include "input_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proc_status st;
	FILE *f = fuzz_input_open(data, size);

	(void)proc_status_parse(f, &st);
	fclose(f);
	return 0;
}
