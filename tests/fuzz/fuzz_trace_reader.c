// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The JSONL trace reader (format/trace_reader.c), as memtrack-report reads
 * a trace: memtrack_trace_read() on a file, every record it accepts fed to
 * the summary, whose accounting of blocks, stacks and mappings the trace
 * drives too. A damaged trace must be refused, never crash either.
 */
#include <stdint.h>

#include "memtrack.h"
#include "input_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct memtrack_summary *s = memtrack_summary_new();
	struct memtrack_trace_handler h;
	struct memtrack_error err;

	if (!s)
		return 0;
	h = memtrack_summary_handler(s);
	memtrack_trace_read(fuzz_input_path(data, size), &h, &err);
	for (size_t i = 0; i < memtrack_summary_count(s); i++)
		(void)memtrack_summary_proc(s, i);
	memtrack_summary_free(s);
	return 0;
}
