// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Choosing a probe's instruction (probe_site.h). Capstone decodes; the
 * rules are here: which instructions the kernel emulates (as x86's
 * arch/x86/kernel/uprobes.c decides, by their bytes), which may stand
 * before the probe, and the proof that no branch lands in between.
 */
#include <stdbool.h>
#include <string.h>

#include <capstone/capstone.h>

#include "probe_site.h"

/* How far past the entry to look: glibc's longest prefix is a 7-byte cmpb. */
#define MAX_SKIPPED	  3
#define MAX_SKIPPED_BYTES 16

int probe_site_emulated(const uint8_t *b, size_t len)
{
	if (len == 1 && b[0] >= 0x50 && b[0] <= 0x57)
		return 1; /* push %rax..%rdi */
	if (len == 2 && b[0] == 0x41 && b[1] >= 0x50 && b[1] <= 0x57)
		return 1; /* push %r8..%r15 */
	if (len == 1 && b[0] == 0x90)
		return 1; /* nop */
	if ((len == 2 && (b[0] == 0xeb || (b[0] >= 0x70 && b[0] <= 0x7f))) ||
	    (len == 5 && (b[0] == 0xe8 || b[0] == 0xe9)))
		return 1; /* jmp rel8, jcc rel8, call and jmp rel32 */
	if (len == 6 && b[0] == 0x0f && b[1] >= 0x80 && b[1] <= 0x8f)
		return 1; /* jcc rel32 */
	return 0;
}

/* rax, r10 and r11: scratch, and never an argument: a probe past a write to them sees the same
 * call. */
static bool is_scratch(unsigned int reg)
{
	switch (reg) {
	case X86_REG_RAX:
	case X86_REG_EAX:
	case X86_REG_AX:
	case X86_REG_AL:
	case X86_REG_R10:
	case X86_REG_R10D:
	case X86_REG_R11:
	case X86_REG_R11D:
	case X86_REG_EFLAGS: return true;
	default: return false;
	}
}

/*
 * May this instruction run before the probe? endbr64; a compare or test
 * (they only read); a move into a scratch register. Nothing that writes an
 * argument register, the stack pointer or memory.
 */
static bool harmless(csh cs, const cs_insn *insn)
{
	const cs_x86 *x = &insn->detail->x86;
	cs_regs read, written;
	uint8_t nread, nwritten;

	if (insn->size == 4 && memcmp(insn->bytes, "\xf3\x0f\x1e\xfa", 4) == 0)
		return true; /* endbr64: a landing mark, no effect */
	if (insn->id == X86_INS_MOV) {
		if (x->op_count != 2 || x->operands[0].type != X86_OP_REG)
			return false; /* a store */
	} else if (insn->id != X86_INS_TEST && insn->id != X86_INS_CMP) {
		return false;
	}
	if (cs_regs_access(cs, insn, read, &nread, written, &nwritten) != CS_ERR_OK)
		return false;
	for (uint8_t i = 0; i < nwritten; i++)
		if (!is_scratch(written[i]))
			return false;
	return true;
}

/* Where a direct branch or call goes (relative to code[0]); false for an indirect one. */
static bool branch_target(const cs_insn *insn, int64_t *target)
{
	const cs_x86 *x = &insn->detail->x86;

	if (x->op_count != 1 || x->operands[0].type != X86_OP_IMM)
		return false;
	*target = x->operands[0].imm;
	return true;
}

/* Is the instruction in this capstone group (X86_GRP_JUMP, X86_GRP_CALL)? */
static bool in_group(const cs_insn *insn, uint8_t group)
{
	for (uint8_t i = 0; i < insn->detail->groups_count; i++)
		if (insn->detail->groups[i] == group)
			return true;
	return false;
}

/* The first emulated instruction past the entry that only harmless ones precede; 0 if none. */
static size_t candidate(csh cs, cs_insn *insn, const uint8_t *code, size_t size)
{
	const uint8_t *p = code;
	size_t left = size;
	uint64_t addr = 0;

	for (int n = 0; n <= MAX_SKIPPED && addr <= MAX_SKIPPED_BYTES; n++) {
		uint64_t at = addr;

		if (!cs_disasm_iter(cs, &p, &left, &addr, insn))
			return 0;
		if (probe_site_emulated(insn->bytes, insn->size))
			return at;
		if (!harmless(cs, insn))
			return 0;
	}
	return 0;
}

/* Does any instruction of the function branch into (0, site], or could it (indirect jump)? */
static bool lands_before(csh cs, cs_insn *insn, const uint8_t *code, size_t size, size_t site)
{
	const uint8_t *p = code;
	size_t left = size;
	uint64_t addr = 0;
	int64_t target;

	while (left) {
		if (!cs_disasm_iter(cs, &p, &left, &addr, insn))
			return true; /* not code we can read through: cannot prove anything */
		if (!in_group(insn, X86_GRP_JUMP) && !in_group(insn, X86_GRP_CALL))
			continue;
		if (!branch_target(insn, &target)) {
			if (in_group(insn, X86_GRP_CALL))
				continue; /* an indirect call returns after itself */
			return true;
		}
		if (target > 0 && (uint64_t)target <= site)
			return true;
	}
	return false;
}

size_t probe_site(const uint8_t *code, size_t size)
{
	cs_insn *insn;
	size_t site;
	csh cs;

	if (!size || cs_open(CS_ARCH_X86, CS_MODE_64, &cs) != CS_ERR_OK)
		return 0;
	cs_option(cs, CS_OPT_DETAIL, CS_OPT_ON);
	insn = cs_malloc(cs);
	site = insn ? candidate(cs, insn, code, size) : 0;
	if (site && lands_before(cs, insn, code, size, site))
		site = 0;
	if (insn)
		cs_free(insn, 1);
	cs_close(&cs);
	return site;
}
