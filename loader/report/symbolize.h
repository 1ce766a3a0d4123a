/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The one place that turns addresses into names (with elfutils' libdwfl):
 * function and offset from the symbol tables, file:line and inlined frames
 * from DWARF, separate debug files found by build-id, C++ names demangled
 * when a demangler is at hand. Works from a process's recorded mappings,
 * so after the process is gone, and caches every answer.
 */
#ifndef MEMTRACK_SYMBOLIZE_H
#define MEMTRACK_SYMBOLIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "memtrack.h"

struct sym_frame {
	const char *function; /* NULL if unknown */
	uint64_t offset;      /* from the function's start */
	const char *file;     /* source file, NULL without DWARF */
	int line;	      /* 0 if unknown */
	const char *module;   /* the mapped file, NULL if the address is in none */
	uint64_t module_offset; /* the address's offset in the module's file */
	bool inlined;	      /* inlined into the frame that follows */
};

struct symbolizer;

/*
 * debug_dirs: where to look for separate debug files, as elfutils'
 * debuginfo_path ("+:.debug:/usr/lib/debug"); NULL for that default.
 */
struct symbolizer *symbolizer_new(const char *debug_dirs);

/*
 * The source frames behind one stack frame of a process: ip, inside the
 * mapping m (as_find() tells which; NULL if none), is a return address
 * (the call is looked up at ip - 1) unless exact. Inlined frames
 * first, the function the code is in last. Returns how many (at least 1,
 * even if only the address is known); the frames stay valid until the next
 * call (their strings as long as s).
 */
size_t symbolize(struct symbolizer *s, const struct memtrack_mapping *m, uint64_t ip, bool exact,
		 const struct sym_frame **frames);

/* One line for a frame: "func+0x1a (file.c:12)", "[inlined] f (a.h:3)", "lib.so+0x1234". */
int sym_frame_format(const struct sym_frame *f, uint64_t ip, char *buf, size_t size);

void symbolizer_free(struct symbolizer *s);

#endif /* MEMTRACK_SYMBOLIZE_H */
