// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Parsing a USDT site's argument string (usdt_spec.h), for x86-64. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <asm/ptrace.h>

#include "usdt_spec.h"

struct reg_name {
	const char *names[4]; /* 64-, 32-, 16- and 8-bit names */
	short off;	      /* its place in struct pt_regs */
};

static const struct reg_name regs[] = {
	{ { "rip", "eip", "", "" }, offsetof(struct pt_regs, rip) },
	{ { "rax", "eax", "ax", "al" }, offsetof(struct pt_regs, rax) },
	{ { "rbx", "ebx", "bx", "bl" }, offsetof(struct pt_regs, rbx) },
	{ { "rcx", "ecx", "cx", "cl" }, offsetof(struct pt_regs, rcx) },
	{ { "rdx", "edx", "dx", "dl" }, offsetof(struct pt_regs, rdx) },
	{ { "rsi", "esi", "si", "sil" }, offsetof(struct pt_regs, rsi) },
	{ { "rdi", "edi", "di", "dil" }, offsetof(struct pt_regs, rdi) },
	{ { "rbp", "ebp", "bp", "bpl" }, offsetof(struct pt_regs, rbp) },
	{ { "rsp", "esp", "sp", "spl" }, offsetof(struct pt_regs, rsp) },
	{ { "r8", "r8d", "r8w", "r8b" }, offsetof(struct pt_regs, r8) },
	{ { "r9", "r9d", "r9w", "r9b" }, offsetof(struct pt_regs, r9) },
	{ { "r10", "r10d", "r10w", "r10b" }, offsetof(struct pt_regs, r10) },
	{ { "r11", "r11d", "r11w", "r11b" }, offsetof(struct pt_regs, r11) },
	{ { "r12", "r12d", "r12w", "r12b" }, offsetof(struct pt_regs, r12) },
	{ { "r13", "r13d", "r13w", "r13b" }, offsetof(struct pt_regs, r13) },
	{ { "r14", "r14d", "r14w", "r14b" }, offsetof(struct pt_regs, r14) },
	{ { "r15", "r15d", "r15w", "r15b" }, offsetof(struct pt_regs, r15) },
};

static int reg_offset(const char *name, short *off)
{
	for (size_t i = 0; i < sizeof(regs) / sizeof(regs[0]); i++)
		for (int w = 0; w < 4; w++)
			if (regs[i].names[w][0] && strcmp(name, regs[i].names[w]) == 0) {
				*off = regs[i].off;
				return 0;
			}
	return -EINVAL;
}

/* One argument, "SIZE@LOCATION"; *used: how many characters it took. */
static int parse_arg(const char *s, struct usdt_arg_spec *arg, int *used)
{
	char reg[16];
	long long off;
	int size, n = 0;

	memset(arg, 0, sizeof(*arg));
	if (sscanf(s, " %d @%n", &size, &n) != 1 || !n)
		return -EINVAL;
	s += n;
	*used = n;
	/*
	 * %n is stored only when everything before it matched: a memory
	 * operand without its ')' matches its first fields and leaves n as
	 * the size's count was, which moved the caller past the argument,
	 * or past the string's end. n = 0 says it was not reached.
	 */
	n = 0;
	if (sscanf(s, "%%%15[a-z0-9]%n", reg, &n) == 1) {
		arg->arg_type = USDT_ARG_REG;
	} else if (sscanf(s, "$%lli%n", &off, &n) == 1) {
		arg->arg_type = USDT_ARG_CONST;
		arg->val_off = (uint64_t)off;
	} else if (sscanf(s, "%lli ( %%%15[a-z0-9] )%n", &off, reg, &n) == 2 ||
		   (off = 0, sscanf(s, "( %%%15[a-z0-9] )%n", reg, &n) == 1)) {
		arg->arg_type = USDT_ARG_REG_DEREF;
		arg->val_off = (uint64_t)off;
	} else {
		return -EINVAL;
	}
	if (!n)
		return -EINVAL;
	*used += n;
	if (arg->arg_type != USDT_ARG_CONST && reg_offset(reg, &arg->reg_off))
		return -EINVAL;
	/* a size is 1, 2, 4 or 8 bytes: known out of range before -size, which overflows INT_MIN */
	if (size < -8 || size > 8)
		return -EINVAL;
	arg->arg_signed = size < 0;
	if (size < 0)
		size = -size;
	if (size != 1 && size != 2 && size != 4 && size != 8)
		return -EINVAL;
	arg->arg_bitshift = (char)(64 - size * 8);
	return 0;
}

int usdt_spec_parse(const char *args, uint64_t cookie, struct usdt_spec *spec)
{
	int used;

	memset(spec, 0, sizeof(*spec));
	spec->usdt_cookie = cookie;
	for (;;) {
		while (*args == ' ')
			args++;
		if (!*args)
			return 0;
		if (spec->arg_cnt >= USDT_MAX_ARGS ||
		    parse_arg(args, &spec->args[spec->arg_cnt], &used))
			return -EINVAL;
		spec->arg_cnt++;
		args += used;
		if (*args && *args != ' ')
			return -EINVAL;
	}
}
