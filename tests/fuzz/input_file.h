/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The fuzzer's input as a file, for the entry points that read one by
 * path or from a FILE, as they read the real thing: the harness then
 * drives the parser itself, not a copy of it.
 */
#ifndef MEMTRACK_FUZZ_INPUT_FILE_H
#define MEMTRACK_FUZZ_INPUT_FILE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/*
 * A path ("/proc/self/fd/N", a memfd) whose file holds exactly data[0..size),
 * valid until the next call. Aborts if it cannot be made: that is the
 * harness failing, not the code under test.
 */
const char *fuzz_input_path(const uint8_t *data, size_t size);

/* The same file opened for reading (close it with fclose). */
FILE *fuzz_input_open(const uint8_t *data, size_t size);

/* The same file as a descriptor of its own (close it), read from offset 0. */
int fuzz_input_fd(const uint8_t *data, size_t size);

#endif /* MEMTRACK_FUZZ_INPUT_FILE_H */
