// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A USDT site's argument string ("8@%rdi -4@$5 8@-16(%rbp)"), as
 * sys/usdt_spec.c's usdt_spec_parse() reads it from a note: fuzzed on its
 * own, since building a valid note around each string is more than the
 * note harness's mutations find.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "usdt_spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct usdt_spec spec;
	/* exactly the string's bytes on the heap: a read past its NUL is caught */
	char *args = malloc(size + 1);

	if (!args)
		return 0;
	memcpy(args, data, size);
	args[size] = '\0';
	(void)usdt_spec_parse(args, 1, &spec);
	free(args);
	return 0;
}
