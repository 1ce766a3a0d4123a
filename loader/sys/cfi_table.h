/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * An object's call-frame information (.eh_frame, else .debug_frame), the
 * DWARF program that says at each instruction where the caller's frame
 * is, compiled once into the rows the BPF side unwinds with (struct
 * mt_unwind_row): sorted by address, each valid up to the next. Only what
 * x86-64 code uses is kept; a rule the BPF side cannot follow (a CFA
 * expression other than a PLT's, a CFA register other than rsp or rbp)
 * becomes MT_CFA_NONE, where the unwinder falls back to the frame pointer.
 */
#ifndef MEMTRACK_CFI_TABLE_H
#define MEMTRACK_CFI_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include "memtrack_events.h"

struct cfi_table {
	struct mt_unwind_row *rows;
	size_t n;
	/* of the executable PT_LOAD segment: p_vaddr - p_offset (vaddr = file offset + this) */
	int64_t vaddr_delta;
};

/*
 * The rows of the ELF file at path. 0; -ENOENT if it has no CFI, -ENOEXEC
 * if it is not an x86-64 ELF file, -E2BIG if its code lies past 4 GiB,
 * -EINVAL if its CFI is malformed, -ENOMEM, or -errno of opening it.
 */
int cfi_table_build(const char *path, struct cfi_table *t);
/* The same from an ELF image in memory (tests). */
int cfi_table_build_fd(int fd, struct cfi_table *t);

/* The row in effect at vaddr, or NULL before the first row. */
const struct mt_unwind_row *cfi_table_find(const struct cfi_table *t, uint64_t vaddr);

void cfi_table_free(struct cfi_table *t);

#endif /* MEMTRACK_CFI_TABLE_H */
