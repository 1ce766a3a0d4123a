/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The one place that reads ELF files (with libelf): where functions are,
 * as the file offsets uprobes are attached at, which dynamic loader an
 * executable asks for, which USDT probes it has, and its build-id.
 */
#ifndef MEMTRACK_ELF_SYMBOLS_H
#define MEMTRACK_ELF_SYMBOLS_H

#include <stdbool.h>
#include <stddef.h>

/*
 * For each of the n names, the file offset of the function of that name
 * defined in path (from .symtab, else .dynsym), or 0 if it has none; and,
 * if sizes is not NULL, its size in bytes (0: not known).
 * Returns 0, or -errno: -ENOENT/-EACCES opening it, -ENOEXEC if it is not ELF.
 */
int elf_function_offsets(const char *path, const char *const *names, size_t n, size_t *offsets,
			 size_t *sizes);

/*
 * The PT_INTERP path of an executable (its dynamic loader) into buf.
 * Returns 0, -ENOENT if it has none (statically linked), -ENOEXEC if not ELF.
 */
int elf_interpreter(const char *path, char *buf, size_t size);

/*
 * Call fn with each DT_NEEDED name of a dynamic object, in order, stopping at
 * fn's first non-zero return (returned). search gets its library search
 * path (DT_RUNPATH, else DT_RPATH; "" if none). -errno as
 * elf_function_offsets().
 */
int elf_needed(const char *path, int (*fn)(void *ctx, const char *name), void *ctx,
	       char *search, size_t search_size);

/* One site of a USDT probe. */
struct usdt_site {
	size_t probe;	  /* which of the names asked for */
	size_t offset;	  /* the file offset of its instruction */
	size_t semaphore; /* the file offset of its semaphore; 0: it has none */
	char args[256];	  /* how it passes its arguments: "8@%rdi -4@$5 8@-16(%rbp)" */
};

/*
 * Every site of the n USDT probe names of provider in the file's
 * .note.stapsdt, into *sites (malloc'd; *nsites of them, none for a file
 * without notes). 0, or -errno as elf_function_offsets().
 */
int elf_usdt_sites(const char *path, const char *provider, const char *const *names, size_t n,
		   struct usdt_site **sites, size_t *nsites);

/*
 * The GNU build-id of an ELF file, as lowercase hex, into buf (at least 41
 * bytes for the usual 20-byte id). -ENOENT if it has none.
 */
int elf_build_id(const char *path, char *buf, size_t size);

#endif /* MEMTRACK_ELF_SYMBOLS_H */
