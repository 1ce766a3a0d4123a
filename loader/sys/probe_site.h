/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Where in a function its entry probe goes. A uprobe on an instruction the
 * kernel can emulate (push, jmp, jcc, call, nop) costs a trap; on any
 * other it costs a trap and a single step out of line as well, several
 * times more. glibc's free starts with `test %rdi,%rdi`, its memalign with
 * a `cmpb`, jemalloc's malloc with a `cmp`: their next instruction is
 * emulated.
 */
#ifndef MEMTRACK_PROBE_SITE_H
#define MEMTRACK_PROBE_SITE_H

#include <stddef.h>
#include <stdint.h>

/*
 * The offset, from the function's first byte, of the instruction to probe
 * in the x86-64 function whose whole code is code[0..size). 0 (its entry)
 * unless every instruction before a later one the kernel emulates (at
 * most three, in 16 bytes) compares, tests, or moves into a scratch
 * register (rax, r10, r11): nothing that writes an argument register, the
 * stack pointer or memory, so an entry or return probe there sees what it
 * would at the entry; and no branch in the function lands after the entry
 * and up to that instruction (so every call passes it exactly once). Code
 * that does not decode, or an indirect jump (which could land anywhere),
 * keeps the entry.
 */
size_t probe_site(const uint8_t *code, size_t size);

/* Does the kernel emulate this instruction (len bytes) when it is probed? */
int probe_site_emulated(const uint8_t *insn, size_t len);

#endif /* MEMTRACK_PROBE_SITE_H */
