// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Option parsing: memtrack-load's command line (cli/cli_options.c's
 * cli_parse(), which parses the report options both tools share with
 * report_option()). The input is the arguments, each ended by a NUL.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_options.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ARGS 64

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* --help and --version print: not the fuzzer's output */
	if (!freopen("/dev/null", "w", stdout))
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *argv[MAX_ARGS + 2], *copy = malloc(size + 1), err[256];
	struct cli_options o;
	int argc = 1;

	if (!copy)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	argv[0] = "memtrack-load";
	/* each argument its own allocation, of its exact size: a read past its end is caught */
	for (size_t at = 0; at < size && argc <= MAX_ARGS; at += strlen(copy + at) + 1) {
		argv[argc] = strdup(copy + at);
		if (!argv[argc])
			break;
		argc++;
	}
	argv[argc] = NULL;
	(void)cli_parse(argc, argv, &o, err, sizeof(err));
	cli_options_free(&o);
	for (int i = 1; i < argc; i++)
		free(argv[i]);
	free(copy);
	return 0;
}
