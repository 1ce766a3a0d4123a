// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * loader/sys/usdt_spec and elf_usdt_sites(): the argument specs memtrack
 * writes for the BPF side's bpf_usdt_arg(), as libbpf would, and the
 * shim's own probe sites read back from its notes (readelf -n shows the
 * same).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <asm/ptrace.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elf_symbols.h"
#include "test_support.h"
#include "usdt_spec.h"

static void test_registers_constants_and_memory(void **state)
{
	struct usdt_spec s;

	(void)state;
	assert_int_equal(usdt_spec_parse("8@%rbx -8@%rax 8@$0 4@$-5 -4@-16(%rbp) 2@(%rsp)", 7, &s),
			 0);
	assert_int_equal(s.arg_cnt, 6);
	assert_int_equal(s.usdt_cookie, 7);
	assert_int_equal(s.args[0].arg_type, USDT_ARG_REG);
	assert_int_equal(s.args[0].reg_off, offsetof(struct pt_regs, rbx));
	assert_false(s.args[0].arg_signed);
	assert_int_equal(s.args[0].arg_bitshift, 0);
	assert_int_equal(s.args[1].reg_off, offsetof(struct pt_regs, rax));
	assert_true(s.args[1].arg_signed);
	assert_int_equal(s.args[2].arg_type, USDT_ARG_CONST);
	assert_int_equal(s.args[2].val_off, 0);
	assert_int_equal(s.args[3].arg_type, USDT_ARG_CONST);
	assert_int_equal((int64_t)s.args[3].val_off, -5);
	assert_int_equal(s.args[3].arg_bitshift, 32);
	assert_int_equal(s.args[4].arg_type, USDT_ARG_REG_DEREF);
	assert_int_equal((int64_t)s.args[4].val_off, -16);
	assert_int_equal(s.args[4].reg_off, offsetof(struct pt_regs, rbp));
	assert_true(s.args[4].arg_signed);
	assert_int_equal(s.args[5].arg_type, USDT_ARG_REG_DEREF);
	assert_int_equal(s.args[5].val_off, 0);
	assert_int_equal(s.args[5].reg_off, offsetof(struct pt_regs, rsp));
	assert_int_equal(s.args[5].arg_bitshift, 48);
	/* 32-bit and 8-bit register names are the same pt_regs slot */
	assert_int_equal(usdt_spec_parse("4@%r9d 1@%sil", 0, &s), 0);
	assert_int_equal(s.args[0].reg_off, offsetof(struct pt_regs, r9));
	assert_int_equal(s.args[1].reg_off, offsetof(struct pt_regs, rsi));
	/* no arguments at all */
	assert_int_equal(usdt_spec_parse("", 0, &s), 0);
	assert_int_equal(s.arg_cnt, 0);
}

static void test_bad_specs_are_refused(void **state)
{
	static const char *const bad[] = {
		"8@%xmm0", /* not a general register */
		"3@%rax",  /* no such size */
		"8%rax",   /* no @ */
		"8@rax",   /* no % */
		"8@%rax,", /* junk after it */
		"1@%al 1@%al 1@%al 1@%al 1@%al 1@%al 1@%al 1@%al 1@%al 1@%al 1@%al 1@%al 1@%al",
		/*
		 * no ')' (the fuzzer's find): its parse once skipped as many
		 * characters as "\t\t8@" twice, landing on the space
		 */
		"\t\t8@(%r8 4@%rdi",
		"8@-16(%rbp",
	};
	struct usdt_spec s;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (usdt_spec_parse(bad[i], 0, &s) != -EINVAL)
			fail_msg("accepted \"%s\"", bad[i]);
}

/* The shim's sites: one per probe, each with a semaphore, as readelf -n lists them. */
static void test_shim_sites(void **state)
{
	static const char *const names[] = { "malloc", "free", "nosuchprobe" };
	const char *shim = build_path("libmemtrack-usdt.so");
	char cmd[PATH_MAX + 64], line[512];
	struct usdt_site *sites;
	size_t nsites, located = 0;
	FILE *p;

	(void)state;
	assert_int_equal(elf_usdt_sites(shim, "memtrack", names, 3, &sites, &nsites), 0);
	assert_int_equal(nsites, 2);
	for (size_t i = 0; i < nsites; i++) {
		struct usdt_spec spec;

		assert_true(sites[i].probe < 2);
		assert_true(sites[i].offset > 0);
		assert_true(sites[i].semaphore > 0);
		assert_int_equal(usdt_spec_parse(sites[i].args, 0, &spec), 0);
		assert_int_equal(spec.arg_cnt, 5); /* ptr, size, old_ptr, align, ret */
	}
	/* the shim is linked at 0: its file offsets are readelf's "Location" */
	snprintf(cmd, sizeof(cmd), "readelf -n '%s'", shim);
	p = popen(cmd, "r");
	assert_non_null(p);
	while (fgets(line, sizeof(line), p)) {
		unsigned long long loc;
		char *at = strstr(line, "Location: ");

		if (!at || sscanf(at, "Location: %llx", &loc) != 1)
			continue;
		for (size_t i = 0; i < nsites; i++)
			located += sites[i].offset == loc;
	}
	pclose(p);
	assert_int_equal(located, 2);
	free(sites);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_registers_constants_and_memory),
		cmocka_unit_test(test_bad_specs_are_refused),
		cmocka_unit_test(test_shim_sites),
	};

	return cmocka_run_group_tests_name("usdt_spec", tests, NULL, NULL);
}
