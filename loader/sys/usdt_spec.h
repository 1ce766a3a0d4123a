/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A USDT probe site's arguments, as the BPF side reads them: the record
 * libbpf's <bpf/usdt.bpf.h> keeps in its __bpf_usdt_specs map, written
 * here when memtrack attaches USDT probes itself (uprobe_multi links,
 * which libbpf 1.1 cannot make). The layout is usdt.bpf.h's.
 */
#ifndef MEMTRACK_USDT_SPEC_H
#define MEMTRACK_USDT_SPEC_H

#include <stdbool.h>
#include <stdint.h>

#define USDT_MAX_ARGS 12

enum usdt_arg_type {
	USDT_ARG_CONST,	    /* the value is val_off */
	USDT_ARG_REG,	    /* the register at reg_off in struct pt_regs */
	USDT_ARG_REG_DEREF, /* memory at that register + val_off */
};

struct usdt_arg_spec {
	uint64_t val_off;
	enum usdt_arg_type arg_type;
	short reg_off;
	bool arg_signed;
	char arg_bitshift; /* 64 - the argument's size in bits */
};

struct usdt_spec {
	struct usdt_arg_spec args[USDT_MAX_ARGS];
	uint64_t usdt_cookie;
	short arg_cnt;
};

/*
 * Parse an x86-64 site's argument string ("8@%rdi -4@$5 8@-16(%rbp)")
 * into spec, with cookie as its usdt_cookie. 0, or -EINVAL.
 */
int usdt_spec_parse(const char *args, uint64_t cookie, struct usdt_spec *spec);

#endif /* MEMTRACK_USDT_SPEC_H */
